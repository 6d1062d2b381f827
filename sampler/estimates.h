// Posterior estimates from the retained draws of every chain, each with its
// Monte Carlo standard error (theory.md §4–§5).
//
//   // draws[c]: iterations × quantities; test outputs start at column j_f,
//   // the packed U entries at column j_U.
//   attnpaths::SampledPredictor f = attnpaths::EstimatePredictor(draws, j_f, P_test, D, &Y_test);
//   f.mean;  f.mean_se;  f.variance;  f.variance_se;  f.accuracy;  f.generalization_error;
//   f.Covariance(mu);                              // D × D over outputs at test point μ
//   attnpaths::SampledOrderParameter U = attnpaths::EstimateOrderParameter(draws, j_U, Htot * D);
//   U.U;  U.U_se;                                  // ⟨e_{π,d} · e_{π',d'}⟩ / n_1 and its MCSE
//
// Means are averages over all retained draws of all chains, variances the
// unbiased sample variance (theory.md §5). The standard error of a mean is
// sd / √ESS; that of a variance is sd((f − f̄)²) / √ESS((f − f̄)²), both ESS
// of the split chains (diagnostics.h).
#pragma once

#include <Eigen/Core>
#include <limits>
#include <vector>

#include "sampler/diagnostics.h"

namespace attnpaths {

struct ScalarEstimate {
  double mean = 0, mean_se = 0;
  double variance = 0, variance_se = 0;
  double ess = 0;  // of the mean (split chains, raw values); NaN for constant draws
};

ScalarEstimate EstimateScalar(const ChainDraws& chains);

struct SampledPredictor {
  Eigen::MatrixXd mean, mean_se;          // P* × D: f̄(x*) and its MCSE
  Eigen::MatrixXd variance, variance_se;  // P* × D: var f(x*) and its MCSE
  // P* × D²: row μ holds the D × D covariance of (f_1(x*_μ), …, f_D(x*_μ))
  // over the draws (theory.md §9), column d·D + d'; its diagonal is `variance`.
  Eigen::MatrixXd covariance;
  // The D × D covariance at test point μ.
  Eigen::MatrixXd Covariance(Eigen::Index mu) const {
    const Eigen::Index D = mean.cols();
    return covariance.row(mu).reshaped(D, D);
  }
  // Fraction of test points with sign f̄ = y* (D = 1; f̄ = 0 counts as wrong)
  // or argmax f̄ = argmax y* (D > 1, ties to the lowest output); NaN without
  // test labels (theory.md §4, §9; the theory's rule, kernels/metrics.h).
  double accuracy = std::numeric_limits<double>::quiet_NaN();
  // ⟨(f̄ − y*)² + var f⟩ over test points and outputs (kernels/metrics.h);
  // NaN without labels.
  double generalization_error = std::numeric_limits<double>::quiet_NaN();
  // Monte Carlo standard errors of the two (SampledAccuracySe,
  // SampledGeneralizationErrorSe); NaN without labels.
  double accuracy_se = std::numeric_limits<double>::quiet_NaN();
  double generalization_error_se = std::numeric_limits<double>::quiet_NaN();
};

// Reads f(x*_μ)_d from column first_column + μ·D + d. Y_test may be null.
SampledPredictor EstimatePredictor(const std::vector<Eigen::MatrixXd>& draws,
                                   Eigen::Index first_column, Eigen::Index P, Eigen::Index D,
                                   const Eigen::MatrixXd* Y_test = nullptr);

// The same from Rao–Blackwellised draws of the collapsed sampler: columns
// first_mean + μ·D + d hold E[f_d(x*_μ) | V], columns first_variance + μ hold
// Var[f_d(x*_μ) | V] (the same for every output). The mean is the average of
// the conditional means; the variance (law of total variance) is
// E[Var(f | V)] + Var(E[f | V]), estimated as the average over draws of
// Var(f | V) + S/(S−1) (E[f | V] − mean)², with its MCSE from that series;
// the covariance over outputs adds the conditional variance on the diagonal
// to the covariance of the conditional means.
SampledPredictor EstimateConditionalPredictor(const std::vector<Eigen::MatrixXd>& draws,
                                              Eigen::Index first_mean, Eigen::Index first_variance,
                                              Eigen::Index P, Eigen::Index D,
                                              const Eigen::MatrixXd* Y_test = nullptr);

// Entries of a packed symmetric K × K matrix: the upper triangle with the
// diagonal, row by row (i ≤ j). U^sampled has K = Htot·D, rows (π, d) with d
// fastest (theory.md §9).
Eigen::Index PackedEntries(Eigen::Index K);
void PackUpperTriangle(const Eigen::Ref<const Eigen::MatrixXd>& U,
                       Eigen::Ref<Eigen::RowVectorXd> out);

struct SampledOrderParameter {
  Eigen::MatrixXd U;     // U^sampled ((Htot D) × (Htot D)), symmetric
  Eigen::MatrixXd U_se;  // its MCSE, entry by entry
};

// Reads the PackedEntries(K) columns starting at first_column (K = Htot·D).
SampledOrderParameter EstimateOrderParameter(const std::vector<Eigen::MatrixXd>& draws,
                                             Eigen::Index first_column, Eigen::Index K);

// Monte Carlo standard error of Accuracy (kernels/metrics.h) when f̄(x*_μ) carries the
// independent Gaussian errors mean_se: point μ is classified the other way
// with probability p_μ = Φ(−margin_μ / s_μ) (D = 1: margin |f̄|, s = mean_se;
// D > 1: the gap between the two largest outputs and the root of their
// squared errors), and the accuracy's variance is Σ_μ p_μ(1 − p_μ) / P*².
double SampledAccuracySe(const Eigen::Ref<const Eigen::MatrixXd>& mean,
                         const Eigen::Ref<const Eigen::MatrixXd>& mean_se,
                         const Eigen::Ref<const Eigen::MatrixXd>& Y);
// Delta-method standard error of GeneralizationError (kernels/metrics.h) from the entries'
// independent errors: Σ [(2 (f̄ − y) mean_se)² + variance_se²] / (P* D)², square-rooted.
double SampledGeneralizationErrorSe(const Eigen::Ref<const Eigen::MatrixXd>& mean,
                                    const Eigen::Ref<const Eigen::MatrixXd>& mean_se,
                                    const Eigen::Ref<const Eigen::MatrixXd>& variance_se,
                                    const Eigen::Ref<const Eigen::MatrixXd>& Y);

}  // namespace attnpaths
