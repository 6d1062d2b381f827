#include "study/comparison.h"

#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>

#include "sampler/diagnostics.h"
#include "sampler/estimates.h"
#include "study/path_labels.h"

namespace attnpaths {

namespace {

nlohmann::json Number(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(); }

std::string Cell(const char* format, double v) {
  if (!std::isfinite(v)) return "-";
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

nlohmann::json RowsToJson(const std::vector<ComparisonRow>& rows) {
  nlohmann::json j = nlohmann::json::array();
  for (const ComparisonRow& row : rows) {
    j.push_back({{"quantity", row.quantity},
                 {"theory", Number(row.theory)},
                 {"sampled", Number(row.sampled)},
                 {"se", Number(row.se)},
                 {"z", Number(row.z())}});
  }
  return j;
}

}  // namespace

double ComparisonRow::z() const {
  return se > 0 ? (sampled - theory) / se : std::numeric_limits<double>::quiet_NaN();
}

nlohmann::json Comparison::RowsJson() const { return RowsToJson(rows); }

nlohmann::json Comparison::TestPointsJson() const { return RowsToJson(test_points); }

std::string Comparison::Csv() const {
  std::ostringstream csv;
  csv << "quantity,theory,sampled,se,z\n";
  csv.precision(10);
  for (const auto* list : {&rows, &test_points}) {
    for (const ComparisonRow& row : *list) {
      csv << '"' << row.quantity << '"';
      for (double v : {row.theory, row.sampled, row.se, row.z()}) {
        csv << ',';
        if (std::isfinite(v)) csv << v;
      }
      csv << "\n";
    }
  }
  return csv.str();
}

std::string Comparison::Table() const {
  std::string out;
  char buf[256];
  std::snprintf(buf, sizeof buf, "%-36s %12s %12s %10s %9s\n", "quantity", "theory", "sampled",
                "s.e.", "diff/s.e.");
  out += buf;
  for (const ComparisonRow& row : rows) {
    std::snprintf(buf, sizeof buf, "%-36s %12s %12s %10s %9s\n", row.quantity.c_str(),
                  Cell("%.6g", row.theory).c_str(), Cell("%.6g", row.sampled).c_str(),
                  Cell("%.3g", row.se).c_str(), Cell("%+.2f", row.z()).c_str());
    out += buf;
  }
  if (counted > 0) {
    std::snprintf(buf, sizeof buf,
                  "test predictor mean: |diff|/s.e. averages %.2f over %d points; %.1f%% within "
                  "3 s.e.\n",
                  mean_abs_z, counted, 100.0 * within3 / counted);
    out += buf;
  }
  return out;
}

Comparison CompareTheoryAndSamples(const Study& study, const PredictorStatistics& theory,
                                   const Eigen::MatrixXd& U1, const SampleResult& r,
                                   const SampleSummary& summary) {
  Comparison c;
  std::vector<ComparisonRow>& rows = c.rows;
  std::vector<ComparisonRow>& points = c.test_points;  // per test point and output
  const Eigen::Index P = theory.mean.rows(), D = study.train.y.cols();
  double& mean_abs_z = c.mean_abs_z;
  int &within3 = c.within3, &counted = c.counted;
  if (summary.completed()) {
    if (study.task == Task::kClassification) {
      rows.push_back(
          {"test_accuracy", theory.accuracy, r.predictor.accuracy, r.predictor.accuracy_se});
    }
    rows.push_back({"generalization_error", theory.generalization_error,
                    r.predictor.generalization_error, r.predictor.generalization_error_se});
    double var_theory = 0;
    for (Eigen::Index mu = 0; mu < P; ++mu) {
      for (Eigen::Index d = 0; d < D; ++d) {
        const std::string index =
            std::to_string(mu) + (D > 1 ? "," + std::to_string(d) : std::string());
        const ComparisonRow mean{"f_mean[" + index + "]", theory.mean(mu, d),
                                 r.predictor.mean(mu, d), r.predictor.mean_se(mu, d)};
        points.push_back(mean);
        points.push_back({"f_variance[" + index + "]", theory.variance(mu, d),
                          r.predictor.variance(mu, d), r.predictor.variance_se(mu, d)});
        if (std::isfinite(mean.z())) {
          mean_abs_z += std::abs(mean.z());
          within3 += std::abs(mean.z()) <= 3;
          ++counted;
        }
        var_theory += theory.variance(mu, d) / double(P * D);
      }
    }
    if (counted > 0) mean_abs_z /= counted;
    if (P > 0) {
      // The test-averaged variance is the mean over draws of the test-averaged
      // squared deviation (times S/(S−1)), plus, for the collapsed sampler,
      // the conditional variance Var(f | V) (law of total variance); its
      // error comes from that series' ESS, so the correlation between test
      // points is accounted for.
      const double S = static_cast<double>(r.draws.size() * r.draws[0].rows());
      const bool conditional = r.predictor_variance_column >= 0;
      ChainDraws averaged;
      for (const Eigen::MatrixXd& draws : r.draws) {
        const Eigen::MatrixXd f = draws.middleCols(r.predictor_column, P * D);
        Eigen::RowVectorXd mean(P * D);
        for (Eigen::Index k = 0; k < P * D; ++k) mean[k] = r.predictor.mean(k / D, k % D);
        Eigen::VectorXd w =
            (S / (S - 1)) * (f.rowwise() - mean).array().square().rowwise().mean().matrix();
        if (conditional) w += draws.middleCols(r.predictor_variance_column, P).rowwise().mean();
        averaged.push_back(w);
      }
      const ScalarEstimate e = EstimateScalar(averaged);
      rows.push_back({"f_variance (test mean)", var_theory, e.mean, e.mean_se});
      // Several outputs: each output pair's covariance Σ_dd' (theory.md §9),
      // averaged over test points, the same way (given the value weights the
      // readouts of different outputs are independent, so the collapsed
      // sampler adds no conditional term for d ≠ d').
      for (Eigen::Index d = 0; d < D; ++d) {
        for (Eigen::Index d2 = d + 1; d2 < D; ++d2) {
          ChainDraws products;
          for (const Eigen::MatrixXd& draws : r.draws) {
            Eigen::VectorXd v = Eigen::VectorXd::Zero(draws.rows());
            for (Eigen::Index mu = 0; mu < P; ++mu) {
              const auto fd =
                  draws.col(r.predictor_column + mu * D + d).array() - r.predictor.mean(mu, d);
              const auto fe =
                  draws.col(r.predictor_column + mu * D + d2).array() - r.predictor.mean(mu, d2);
              v.array() += fd * fe / double(P);
            }
            products.push_back(v);
          }
          const ScalarEstimate c = EstimateScalar(products);
          double cov_theory = 0;
          for (Eigen::Index mu = 0; mu < P; ++mu) {
            cov_theory += theory.covariance(mu, d + D * d2) / double(P);
          }
          rows.push_back(
              {"f_covariance[" + std::to_string(d) + "," + std::to_string(d2) + "] (test mean)",
               cov_theory, c.mean * S / (S - 1), c.mean_se * S / (S - 1)});
        }
      }
    }
    const Eigen::MatrixXd& Us = r.order_parameter.U;
    const Eigen::MatrixXd& U = U1;
    if (U.rows() == Us.rows()) {
      // U_1 and U^sampled, both (Htot D) × (Htot D) with rows (π, d) (theory.md §9).
      const std::vector<std::string> labels = OrderParameterLabels(study.architecture, D);
      for (Eigen::Index a = 0; a < U.rows(); ++a) {
        for (Eigen::Index b = a; b < U.cols(); ++b) {
          rows.push_back({"U[" + std::to_string(a) + "," + std::to_string(b) + "] " +
                              labels[static_cast<size_t>(a)] +
                              (a == b ? "" : " | " + labels[static_cast<size_t>(b)]),
                          U(a, b), Us(a, b), r.order_parameter.U_se(a, b)});
        }
      }
    } else if (U.rows() * D == Us.rows()) {
      // A theory with one Htot × Htot U shared by the outputs: compared with
      // the output average (1/D) Σ_d U^sampled[(π,d),(π',d)], its s.e. from
      // the per-draw averages.
      const std::vector<std::string> labels = ArchitecturePathLabels(study.architecture);
      const Eigen::Index K = Us.rows();
      auto column = [&](Eigen::Index i, Eigen::Index j) {  // packed column of U[i,j], i <= j
        return r.order_parameter_column + i * K - i * (i - 1) / 2 + (j - i);
      };
      for (Eigen::Index a = 0; a < U.rows(); ++a) {
        for (Eigen::Index b = a; b < U.cols(); ++b) {
          ChainDraws averaged;
          for (const Eigen::MatrixXd& draws : r.draws) {
            Eigen::VectorXd v = Eigen::VectorXd::Zero(draws.rows());
            for (Eigen::Index d = 0; d < D; ++d) v += draws.col(column(a * D + d, b * D + d)) / D;
            averaged.push_back(v);
          }
          const ScalarEstimate e = EstimateScalar(averaged);
          rows.push_back({"U[" + std::to_string(a) + "," + std::to_string(b) + "] " +
                              labels[static_cast<size_t>(a)] +
                              (a == b ? "" : " | " + labels[static_cast<size_t>(b)]) +
                              " (output average)",
                          U(a, b), e.mean, e.mean_se});
        }
      }
    }
  }
  return c;
}

}  // namespace attnpaths
