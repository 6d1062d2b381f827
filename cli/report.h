// Rows of results shared by demo, solve and sweep: JSON objects and table lines.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "solver/predictor.h"
#include "solver/solve.h"

namespace attnpaths::cli {

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
std::string TableHeader();
std::string TableLine(const ResultRow& row);

// Progress line on stderr ("\r"-updated on a terminal).
void ProgressLine(const std::string& text, bool quiet);

// The last output of a command that wrote a folder: the summary JSON when
// `json` (--json), else `report` and "wrote <dir>/<file>, <file>, …".
void PrintWritten(bool json, const nlohmann::json& summary, const std::string& report,
                  const std::string& dir, const std::vector<std::string>& files);

}  // namespace attnpaths::cli
