// Convergence diagnostics of MCMC draws: split rank-normalised R-hat, bulk
// and tail effective sample sizes and Monte Carlo standard errors (Vehtari,
// Gelman, Simpson, Carpenter & Bürkner 2021, "Rank-normalization, folding,
// and localization: an improved R-hat", Bayesian Analysis 16(2)).
//
//   attnpaths::ChainDraws x = attnpaths::Column(chains_draws, j);   // one vector per chain
//   attnpaths::QuantityDiagnostics d = attnpaths::Diagnose(x);
//   d.rhat;        // max(bulk, folded) rank-normalised split R-hat; > 1.01 is suspect
//   d.ess_bulk;    // ESS of the rank-normalised split chains
//   d.ess_tail;    // min ESS of the indicators of the 5% and 95% quantiles
//   d.mcse_mean;   // sd / √ESS(split chains)
//
// The ESS uses the multi-chain autocorrelation estimate of Vehtari et al.
// (eq. 10), truncated by Geyer's initial monotone sequence; autocovariances
// come from an FFT. Quantities whose draws are all equal report NaN R-hat
// and ESS (nothing to estimate).
#pragma once

#include <Eigen/Core>
#include <vector>

namespace attnpaths {

// Draws of one scalar quantity: one vector per chain, all of equal length.
using ChainDraws = std::vector<Eigen::VectorXd>;

// Column j of every chain's draws matrix (iterations × quantities).
ChainDraws Column(const std::vector<Eigen::MatrixXd>& draws, Eigen::Index j);

// Biased autocovariances (1/N normalisation) at lags 0 … N−1.
Eigen::VectorXd Autocovariance(const Eigen::Ref<const Eigen::VectorXd>& x);

// Each chain cut into its first and second half (the middle draw of an odd
// length is dropped).
ChainDraws SplitChains(const ChainDraws& chains);
// Pooled ranks (ties averaged) mapped to normal scores Φ⁻¹((r − 3/8)/(S + 1/4)).
ChainDraws RankNormalize(const ChainDraws& chains);
// Type-7 (linear interpolation) quantile of the pooled draws.
double PooledQuantile(const ChainDraws& chains, double probability);

// The classic potential scale reduction √(var⁺ / W) of the chains as given.
double Rhat(const ChainDraws& chains);
// Multi-chain ESS of the chains as given (no splitting, no ranks).
double EffectiveSampleSize(const ChainDraws& chains);

double SplitRankRhat(const ChainDraws& chains);  // max of bulk and folded
double EssBulk(const ChainDraws& chains);
double EssTail(const ChainDraws& chains);
double EssMean(const ChainDraws& chains);  // ESS of the split chains, raw values

struct QuantityDiagnostics {
  double mean = 0, sd = 0;
  double mcse_mean = 0;  // sd / √ess_mean
  double q05 = 0, median = 0, q95 = 0;
  double rhat = 0, ess_bulk = 0, ess_tail = 0, ess_mean = 0;
};

QuantityDiagnostics Diagnose(const ChainDraws& chains);
// Every column of the per-chain draws matrices.
std::vector<QuantityDiagnostics> DiagnoseColumns(const std::vector<Eigen::MatrixXd>& draws);

// Energy Bayesian fraction of missing information of one chain's energies
// (Betancourt 2016): Σ(E_n − E_{n−1})² / Σ(E_n − Ē)²; below 0.3 is suspect.
double Ebfmi(const Eigen::Ref<const Eigen::VectorXd>& energy);

}  // namespace attnpaths
