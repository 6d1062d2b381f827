// ResultRow — one solved point (a width N, or the GP limit) as solve, gp, demo,
// compare and sweep report it: the row of a table and the object of a JSON file.
//
//   SolveSummary summary;
//   const Solution sol = Solve(action, options, &summary);
//   const ResultRow row = MakeRow(N, &sol, &summary, sol.order_parameters, stats, seconds);
//   summary_json = RowJson(row);            // N, action, U, U_a, test_accuracy, ...
//   std::cout << TableHeader() << "\n" << TableLine(row) << "\n";
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "solver/predictor.h"
#include "solver/solve.h"

namespace attnpaths {

struct ResultRow {
  std::optional<double> N;  // empty for the GP limit
  std::optional<double> action;
  int iterations = 0;
  std::optional<double> gradient_norm;
  double test_accuracy = 0;
  double generalization_error = 0;
  OrderParameters order_parameters;
  bool converged = true;
  double seconds = 0;
  double hessian_min_eigenvalue = 0;
  std::string termination = "converged";
};

ResultRow MakeRow(std::optional<double> N, const Solution* sol, const SolveSummary* summary,
                  const OrderParameters& op, const PredictorStatistics& stats, double seconds);
// Keys: N, action, iterations, gradient_norm, test_accuracy, generalization_error, U, U_a,
// outputs, converged, seconds (and termination, hessian_min_eigenvalue).
nlohmann::json RowJson(const ResultRow& row);
// U_a in JSON: a number for one output, else a D × D list of rows.
nlohmann::json ReadoutJson(const Eigen::MatrixXd& U_a);
// The inverse; throws nlohmann::json::exception for anything else.
Eigen::MatrixXd ReadoutFromJson(const nlohmann::json& j);
// The shortest text that reads back as exactly v ("0.01", "1e-05").
std::string ExactNumber(double v);

std::string TableHeader();
std::string TableLine(const ResultRow& row);

}  // namespace attnpaths
