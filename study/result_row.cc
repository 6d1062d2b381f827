#include "study/result_row.h"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace attnpaths {

namespace {

nlohmann::json MatrixJson(const Eigen::MatrixXd& m) {
  nlohmann::json rows = nlohmann::json::array();
  for (Eigen::Index i = 0; i < m.rows(); ++i) {
    nlohmann::json r = nlohmann::json::array();
    for (Eigen::Index j = 0; j < m.cols(); ++j) r.push_back(m(i, j));
    rows.push_back(std::move(r));
  }
  return rows;
}

nlohmann::json Number(std::optional<double> v) {
  if (!v || !std::isfinite(*v)) return nullptr;
  return *v;
}

}  // namespace

nlohmann::json ReadoutJson(const Eigen::MatrixXd& U_a) {
  if (U_a.size() == 1) return U_a(0, 0);
  return MatrixJson(U_a);
}

Eigen::MatrixXd ReadoutFromJson(const nlohmann::json& j) {
  if (j.is_number()) return Eigen::MatrixXd::Constant(1, 1, j.get<double>());
  const Eigen::Index D = static_cast<Eigen::Index>(j.size());
  Eigen::MatrixXd U_a(D, D);
  for (Eigen::Index i = 0; i < D; ++i) {
    if (j.at(static_cast<size_t>(i)).size() != j.size()) {
      throw nlohmann::json::type_error::create(302, "U_a is not a square matrix", &j);
    }
    for (Eigen::Index k = 0; k < D; ++k) {
      U_a(i, k) = j.at(static_cast<size_t>(i)).at(static_cast<size_t>(k)).get<double>();
    }
  }
  return U_a;
}

ResultRow MakeRow(std::optional<double> N, const Solution* sol, const SolveSummary* summary,
                  const OrderParameters& op, const PredictorStatistics& stats, double seconds) {
  ResultRow r;
  r.N = N;
  if (sol) r.action = sol->action;
  if (summary) {
    r.iterations = summary->iterations;
    r.gradient_norm = summary->gradient_norm;
    r.converged = summary->converged();
    r.termination = SolveTerminationName(summary->termination);
    r.hessian_min_eigenvalue = summary->hessian_min_eigenvalue;
  }
  r.test_accuracy = stats.accuracy;
  r.generalization_error = stats.generalization_error;
  r.order_parameters = op;
  r.seconds = seconds;
  return r;
}

nlohmann::json RowJson(const ResultRow& row) {
  nlohmann::json j;
  j["N"] = Number(row.N);
  j["action"] = Number(row.action);
  j["iterations"] = row.iterations;
  j["gradient_norm"] = Number(row.gradient_norm);
  j["test_accuracy"] = Number(row.test_accuracy);
  j["generalization_error"] = Number(row.generalization_error);
  nlohmann::json U = nlohmann::json::array();
  for (const auto& u : row.order_parameters.U) U.push_back(MatrixJson(u));
  j["U"] = std::move(U);
  j["U_a"] = ReadoutJson(row.order_parameters.U_a);
  j["outputs"] = row.order_parameters.outputs();
  j["converged"] = row.converged;
  j["termination"] = row.termination;
  j["hessian_min_eigenvalue"] = row.N ? Number(row.hessian_min_eigenvalue) : nullptr;
  j["seconds"] = row.seconds;
  return j;
}

std::string ExactNumber(double v) {
  char buf[40];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

std::string TableHeader() {
  char buf[256];
  std::snprintf(buf, sizeof buf, "%8s %14s %6s %10s %9s %10s  %s", "N", "action", "iters", "|grad|",
                "test_acc", "gen_err", "diag(U_1)");
  return buf;
}

std::string TableLine(const ResultRow& row) {
  char buf[256];
  std::string n = row.N ? std::to_string(static_cast<long long>(*row.N)) : "GP";
  std::string action = row.action ? std::to_string(*row.action) : "-";
  char grad[32] = "-";
  if (row.gradient_norm) std::snprintf(grad, sizeof grad, "%.1e", *row.gradient_norm);
  char acc[32] = "-", err[32] = "-";  // NaN without test labels; regression has no accuracy
  if (std::isfinite(row.test_accuracy)) std::snprintf(acc, sizeof acc, "%.4f", row.test_accuracy);
  if (std::isfinite(row.generalization_error)) {
    std::snprintf(err, sizeof err, "%.5f", row.generalization_error);
  }
  std::snprintf(buf, sizeof buf, "%8s %14s %6d %10s %9s %10s ", n.c_str(), action.c_str(),
                row.iterations, grad, acc, err);
  std::string line = buf;
  const auto& U1 = row.order_parameters.U.front();
  for (Eigen::Index i = 0; i < U1.rows(); ++i) {
    std::snprintf(buf, sizeof buf, " %.4f", U1(i, i));
    line += buf;
  }
  if (!row.converged) line += "  (not converged)";
  return line;
}

}  // namespace attnpaths
