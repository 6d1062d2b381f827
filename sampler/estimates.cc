#include "sampler/estimates.h"

#include <boost/math/special_functions/erf.hpp>
#include <cmath>
#include <string>

#include "kernels/error.h"
#include "kernels/metrics.h"

namespace attnpaths {

ScalarEstimate EstimateScalar(const ChainDraws& chains) {
  ScalarEstimate e;
  Eigen::Index S = 0;
  double sum = 0;
  for (const auto& c : chains) {
    S += c.size();
    sum += c.sum();
  }
  if (S == 0) return e;
  e.mean = sum / static_cast<double>(S);
  ChainDraws squares = chains;
  double ss = 0;
  for (auto& c : squares) {
    c = (c.array() - e.mean).square();
    ss += c.sum();
  }
  e.variance = S > 1 ? ss / static_cast<double>(S - 1) : 0.0;
  e.ess = EssMean(chains);
  e.mean_se = std::isfinite(e.ess) ? std::sqrt(e.variance / e.ess) : 0.0;
  // The variance is (S/(S−1)) × the mean of (f − f̄)²: its MCSE is that of a mean.
  const ScalarEstimate of_squares = [&] {
    ScalarEstimate s;
    double mean = ss / static_cast<double>(S), v = 0;
    for (const auto& c : squares) v += (c.array() - mean).square().sum();
    s.variance = S > 1 ? v / static_cast<double>(S - 1) : 0.0;
    s.ess = EssMean(squares);
    s.mean_se = std::isfinite(s.ess) ? std::sqrt(s.variance / s.ess) : 0.0;
    return s;
  }();
  e.variance_se =
      S > 1 ? of_squares.mean_se * static_cast<double>(S) / static_cast<double>(S - 1) : 0.0;
  return e;
}

namespace {
// Accuracy and generalisation error of the sampled mean predictor (the one
// rule, kernels/metrics.h) with their Monte Carlo standard errors.
void AddTestMetrics(const Eigen::MatrixXd& Y_test, SampledPredictor* f) {
  f->accuracy = Accuracy(f->mean, Y_test);
  f->generalization_error = GeneralizationError(f->mean, f->variance, Y_test);
  f->accuracy_se = SampledAccuracySe(f->mean, f->mean_se, Y_test);
  f->generalization_error_se =
      SampledGeneralizationErrorSe(f->mean, f->mean_se, f->variance_se, Y_test);
}
}  // namespace

SampledPredictor EstimatePredictor(const std::vector<Eigen::MatrixXd>& draws,
                                   Eigen::Index first_column, Eigen::Index P, Eigen::Index D,
                                   const Eigen::MatrixXd* Y_test) {
  SampledPredictor f;
  f.mean.resize(P, D);
  f.mean_se.resize(P, D);
  f.variance.resize(P, D);
  f.variance_se.resize(P, D);
  f.covariance.resize(P, D * D);
  for (Eigen::Index mu = 0; mu < P; ++mu) {
    for (Eigen::Index d = 0; d < D; ++d) {
      const ScalarEstimate e = EstimateScalar(Column(draws, first_column + mu * D + d));
      f.mean(mu, d) = e.mean;
      f.mean_se(mu, d) = e.mean_se;
      f.variance(mu, d) = e.variance;
      f.variance_se(mu, d) = e.variance_se;
    }
    // The off-diagonal covariances over outputs: unbiased, pooled over chains.
    Eigen::Index S = 0;
    Eigen::MatrixXd cross = Eigen::MatrixXd::Zero(D, D);
    for (const Eigen::MatrixXd& chain : draws) {
      const Eigen::MatrixXd centred =
          chain.middleCols(first_column + mu * D, D).rowwise() - f.mean.row(mu);
      cross.noalias() += centred.transpose() * centred;
      S += chain.rows();
    }
    if (S > 1) cross /= static_cast<double>(S - 1);
    cross.diagonal() = f.variance.row(mu).transpose();
    f.covariance.row(mu) = cross.reshaped().transpose();
  }
  if (Y_test != nullptr) AddTestMetrics(*Y_test, &f);
  return f;
}

SampledPredictor EstimateConditionalPredictor(const std::vector<Eigen::MatrixXd>& draws,
                                              Eigen::Index first_mean, Eigen::Index first_variance,
                                              Eigen::Index P, Eigen::Index D,
                                              const Eigen::MatrixXd* Y_test) {
  SampledPredictor f;
  f.mean.resize(P, D);
  f.mean_se.resize(P, D);
  f.variance.resize(P, D);
  f.variance_se.resize(P, D);
  f.covariance.resize(P, D * D);
  Eigen::Index S = 0;
  for (const Eigen::MatrixXd& chain : draws) S += chain.rows();
  const double unbiased = S > 1 ? static_cast<double>(S) / static_cast<double>(S - 1) : 0.0;
  for (Eigen::Index mu = 0; mu < P; ++mu) {
    for (Eigen::Index d = 0; d < D; ++d) {
      const ScalarEstimate e = EstimateScalar(Column(draws, first_mean + mu * D + d));
      f.mean(mu, d) = e.mean;
      f.mean_se(mu, d) = e.mean_se;
      // Var(f | V) + S/(S−1) (E[f | V] − f̄)², averaged over draws.
      ChainDraws total = Column(draws, first_mean + mu * D + d);
      const ChainDraws conditional = Column(draws, first_variance + mu);
      for (size_t c = 0; c < total.size(); ++c) {
        total[c] = conditional[c].array() + unbiased * (total[c].array() - e.mean).square();
      }
      const ScalarEstimate t = EstimateScalar(total);
      f.variance(mu, d) = t.mean;
      f.variance_se(mu, d) = t.mean_se;
    }
    // Cov(f_d, f_d') = δ_dd' E[Var(f | V)] + Cov(E[f_d | V], E[f_d' | V]).
    Eigen::MatrixXd cross = Eigen::MatrixXd::Zero(D, D);
    for (const Eigen::MatrixXd& chain : draws) {
      const Eigen::MatrixXd centred =
          chain.middleCols(first_mean + mu * D, D).rowwise() - f.mean.row(mu);
      cross.noalias() += centred.transpose() * centred;
    }
    if (S > 1) cross /= static_cast<double>(S - 1);
    cross.diagonal() = f.variance.row(mu).transpose();  // = E[Var(f | V)] + Var(E[f | V])
    f.covariance.row(mu) = cross.reshaped().transpose();
  }
  if (Y_test != nullptr) AddTestMetrics(*Y_test, &f);
  return f;
}

Eigen::Index PackedEntries(Eigen::Index K) { return K * (K + 1) / 2; }

void PackUpperTriangle(const Eigen::Ref<const Eigen::MatrixXd>& U,
                       Eigen::Ref<Eigen::RowVectorXd> out) {
  Eigen::Index k = 0;
  for (Eigen::Index p = 0; p < U.rows(); ++p) {
    for (Eigen::Index q = p; q < U.cols(); ++q) out[k++] = U(p, q);
  }
}

SampledOrderParameter EstimateOrderParameter(const std::vector<Eigen::MatrixXd>& draws,
                                             Eigen::Index first_column, Eigen::Index K) {
  SampledOrderParameter U;
  U.U.resize(K, K);
  U.U_se.resize(K, K);
  Eigen::Index k = first_column;
  for (Eigen::Index p = 0; p < K; ++p) {
    for (Eigen::Index q = p; q < K; ++q, ++k) {
      const ScalarEstimate e = EstimateScalar(Column(draws, k));
      U.U(p, q) = U.U(q, p) = e.mean;
      U.U_se(p, q) = U.U_se(q, p) = e.mean_se;
    }
  }
  return U;
}

namespace {
void CheckShape(const Eigen::Ref<const Eigen::MatrixXd>& mean,
                const Eigen::Ref<const Eigen::MatrixXd>& Y) {
  Require(mean.rows() == Y.rows() && mean.cols() == Y.cols(), "Y_test shape",
          std::to_string(Y.rows()) + " x " + std::to_string(Y.cols()),
          std::to_string(mean.rows()) + " x " + std::to_string(mean.cols()) +
              " (one row per test example, one column per output)");
}
}  // namespace

double SampledAccuracySe(const Eigen::Ref<const Eigen::MatrixXd>& mean,
                         const Eigen::Ref<const Eigen::MatrixXd>& mean_se,
                         const Eigen::Ref<const Eigen::MatrixXd>& Y) {
  CheckShape(mean, Y);
  CheckShape(mean_se, Y);
  if (Y.rows() == 0) return std::numeric_limits<double>::quiet_NaN();
  double variance = 0;
  for (Eigen::Index mu = 0; mu < Y.rows(); ++mu) {
    double margin = 0, s = 0;
    if (Y.cols() == 1) {
      margin = std::abs(mean(mu, 0));
      s = mean_se(mu, 0);
    } else {
      Eigen::Index first;
      mean.row(mu).maxCoeff(&first);
      Eigen::Index second = first == 0 ? 1 : 0;
      for (Eigen::Index d = 0; d < Y.cols(); ++d) {
        if (d != first && mean(mu, d) > mean(mu, second)) second = d;
      }
      margin = mean(mu, first) - mean(mu, second);
      s = std::hypot(mean_se(mu, first), mean_se(mu, second));
    }
    if (!(s > 0)) continue;  // an exact mean never flips
    const double p = 0.5 * boost::math::erfc(margin / (s * std::sqrt(2.0)));  // Φ(−margin/s)
    variance += p * (1 - p);
  }
  return std::sqrt(variance) / static_cast<double>(Y.rows());
}

double SampledGeneralizationErrorSe(const Eigen::Ref<const Eigen::MatrixXd>& mean,
                                    const Eigen::Ref<const Eigen::MatrixXd>& mean_se,
                                    const Eigen::Ref<const Eigen::MatrixXd>& variance_se,
                                    const Eigen::Ref<const Eigen::MatrixXd>& Y) {
  CheckShape(mean, Y);
  CheckShape(mean_se, Y);
  CheckShape(variance_se, Y);
  if (Y.size() == 0) return std::numeric_limits<double>::quiet_NaN();
  const double v =
      ((2 * (mean - Y).array() * mean_se.array()).square() + variance_se.array().square()).sum();
  return std::sqrt(v) / static_cast<double>(Y.size());
}

}  // namespace attnpaths
