#include "sampler/diagnostics.h"

#include <algorithm>
#include <boost/math/special_functions/erf.hpp>
#include <cmath>
#include <complex>
#include <functional>
#include <limits>
#include <numeric>
#include <unsupported/Eigen/FFT>

namespace attnpaths {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

Eigen::Index Length(const ChainDraws& chains) { return chains.empty() ? 0 : chains[0].size(); }

double Mean(const Eigen::VectorXd& x) { return x.mean(); }

// Sample variance with N − 1.
double Variance(const Eigen::VectorXd& x) {
  if (x.size() < 2) return 0;
  return (x.array() - x.mean()).square().sum() / static_cast<double>(x.size() - 1);
}

Eigen::VectorXd Pool(const ChainDraws& chains) {
  Eigen::Index total = 0;
  for (const auto& c : chains) total += c.size();
  Eigen::VectorXd all(total);
  Eigen::Index k = 0;
  for (const auto& c : chains) {
    all.segment(k, c.size()) = c;
    k += c.size();
  }
  return all;
}

bool Constant(const ChainDraws& chains) {
  const Eigen::VectorXd all = Pool(chains);
  return all.size() == 0 || all.maxCoeff() == all.minCoeff() || !all.allFinite();
}

ChainDraws Transform(const ChainDraws& chains, const std::function<double(double)>& f) {
  ChainDraws out = chains;
  for (auto& c : out) c = c.unaryExpr(f);
  return out;
}

}  // namespace

ChainDraws Column(const std::vector<Eigen::MatrixXd>& draws, Eigen::Index j) {
  ChainDraws out;
  for (const auto& d : draws) out.push_back(d.col(j));
  return out;
}

Eigen::VectorXd Autocovariance(const Eigen::Ref<const Eigen::VectorXd>& x) {
  const Eigen::Index N = x.size();
  if (N == 0) return {};
  Eigen::Index M = 1;
  while (M < 2 * N) M *= 2;  // zero padding: no circular wrap-around
  std::vector<double> padded(static_cast<size_t>(M), 0.0);
  const double mean = x.mean();
  for (Eigen::Index i = 0; i < N; ++i) padded[static_cast<size_t>(i)] = x[i] - mean;
  Eigen::FFT<double> fft;
  std::vector<std::complex<double>> spectrum;
  fft.fwd(spectrum, padded);
  for (auto& s : spectrum) s = std::norm(s);
  std::vector<double> acov;
  fft.inv(acov, spectrum);
  Eigen::VectorXd out(N);
  for (Eigen::Index t = 0; t < N; ++t)
    out[t] = acov[static_cast<size_t>(t)] / static_cast<double>(N);
  return out;
}

ChainDraws SplitChains(const ChainDraws& chains) {
  ChainDraws out;
  for (const auto& c : chains) {
    const Eigen::Index half = c.size() / 2;
    if (half == 0) {
      out.push_back(c);
      continue;
    }
    out.push_back(c.head(half));
    out.push_back(c.tail(half));
  }
  return out;
}

ChainDraws RankNormalize(const ChainDraws& chains) {
  const Eigen::VectorXd all = Pool(chains);
  const Eigen::Index S = all.size();
  std::vector<Eigen::Index> order(static_cast<size_t>(S));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](Eigen::Index a, Eigen::Index b) { return all[a] < all[b]; });
  Eigen::VectorXd z(S);
  for (Eigen::Index i = 0; i < S;) {
    Eigen::Index j = i;
    while (j + 1 < S &&
           all[order[static_cast<size_t>(j + 1)]] == all[order[static_cast<size_t>(i)]])
      ++j;
    const double rank = 0.5 * static_cast<double>(i + j) + 1.0;  // average of ranks i+1 … j+1
    const double u = (rank - 0.375) / (static_cast<double>(S) + 0.25);
    const double score = -std::sqrt(2.0) * boost::math::erfc_inv(2 * u);  // Φ⁻¹(u)
    for (Eigen::Index k = i; k <= j; ++k) z[order[static_cast<size_t>(k)]] = score;
    i = j + 1;
  }
  ChainDraws out;
  Eigen::Index k = 0;
  for (const auto& c : chains) {
    out.push_back(z.segment(k, c.size()));
    k += c.size();
  }
  return out;
}

double PooledQuantile(const ChainDraws& chains, double probability) {
  Eigen::VectorXd all = Pool(chains);
  if (all.size() == 0) return kNaN;
  std::sort(all.data(), all.data() + all.size());
  const double h = (static_cast<double>(all.size()) - 1) * probability;
  const auto lo = static_cast<Eigen::Index>(std::floor(h));
  const Eigen::Index hi = std::min<Eigen::Index>(lo + 1, all.size() - 1);
  return all[lo] + (h - static_cast<double>(lo)) * (all[hi] - all[lo]);
}

double Rhat(const ChainDraws& chains) {
  const Eigen::Index N = Length(chains);
  const auto M = static_cast<Eigen::Index>(chains.size());
  if (M < 2 || N < 2 || Constant(chains)) return kNaN;
  Eigen::VectorXd means(M), vars(M);
  for (Eigen::Index m = 0; m < M; ++m) {
    means[m] = Mean(chains[static_cast<size_t>(m)]);
    vars[m] = Variance(chains[static_cast<size_t>(m)]);
  }
  const double W = vars.mean();
  const double n = static_cast<double>(N);
  const double var_plus = (n - 1) / n * W + Variance(means);
  return W > 0 ? std::sqrt(var_plus / W) : kNaN;
}

double EffectiveSampleSize(const ChainDraws& chains) {
  const Eigen::Index N = Length(chains);
  const auto M = static_cast<Eigen::Index>(chains.size());
  if (M < 1 || N < 4 || Constant(chains)) return kNaN;
  const double n = static_cast<double>(N);
  // ρ_t = 1 − (W − mean_m acov_m(t)) / var⁺  (Vehtari et al. 2021, eq. 10).
  Eigen::VectorXd mean_acov = Eigen::VectorXd::Zero(N);
  Eigen::VectorXd means(M);
  double W = 0;
  for (Eigen::Index m = 0; m < M; ++m) {
    const Eigen::VectorXd acov = Autocovariance(chains[static_cast<size_t>(m)]);
    mean_acov += acov / static_cast<double>(M);
    W += acov[0] * n / (n - 1) / static_cast<double>(M);
    means[m] = Mean(chains[static_cast<size_t>(m)]);
  }
  double var_plus = W * (n - 1) / n;
  if (M > 1) var_plus += Variance(means);
  if (!(var_plus > 0)) return kNaN;
  auto rho = [&](Eigen::Index t) { return t == 0 ? 1.0 : 1 - (W - mean_acov[t]) / var_plus; };
  // Geyer: sums of adjacent pairs while positive, made monotone decreasing.
  double sum = 0, previous = std::numeric_limits<double>::infinity();
  for (Eigen::Index k = 0; 2 * k + 1 < N; ++k) {
    double pair = rho(2 * k) + rho(2 * k + 1);
    if (!(pair > 0)) break;
    pair = std::min(pair, previous);
    sum += pair;
    previous = pair;
  }
  const double total = static_cast<double>(M) * n;
  const double tau = std::max(2 * sum - 1, 1 / std::log10(total));
  return total / tau;
}

double SplitRankRhat(const ChainDraws& chains) {
  if (Constant(chains)) return kNaN;
  const double bulk = Rhat(RankNormalize(SplitChains(chains)));
  const double median = PooledQuantile(chains, 0.5);
  const double folded = Rhat(RankNormalize(
      SplitChains(Transform(chains, [&](double v) { return std::abs(v - median); }))));
  return std::max(bulk, folded);
}

double EssBulk(const ChainDraws& chains) {
  if (Constant(chains)) return kNaN;
  return EffectiveSampleSize(RankNormalize(SplitChains(chains)));
}

double EssTail(const ChainDraws& chains) {
  if (Constant(chains)) return kNaN;
  const double q05 = PooledQuantile(chains, 0.05), q95 = PooledQuantile(chains, 0.95);
  const ChainDraws split = SplitChains(chains);
  const double low =
      EffectiveSampleSize(Transform(split, [&](double v) { return v <= q05 ? 1.0 : 0.0; }));
  const double high =
      EffectiveSampleSize(Transform(split, [&](double v) { return v <= q95 ? 1.0 : 0.0; }));
  return std::min(low, high);
}

double EssMean(const ChainDraws& chains) { return EffectiveSampleSize(SplitChains(chains)); }

QuantityDiagnostics Diagnose(const ChainDraws& chains) {
  QuantityDiagnostics d;
  const Eigen::VectorXd all = Pool(chains);
  d.mean = all.mean();
  d.sd = std::sqrt(Variance(all));
  d.q05 = PooledQuantile(chains, 0.05);
  d.median = PooledQuantile(chains, 0.5);
  d.q95 = PooledQuantile(chains, 0.95);
  d.rhat = SplitRankRhat(chains);
  d.ess_bulk = EssBulk(chains);
  d.ess_tail = EssTail(chains);
  d.ess_mean = EssMean(chains);
  d.mcse_mean = std::isfinite(d.ess_mean) ? d.sd / std::sqrt(d.ess_mean) : 0.0;
  return d;
}

std::vector<QuantityDiagnostics> DiagnoseColumns(const std::vector<Eigen::MatrixXd>& draws) {
  std::vector<QuantityDiagnostics> out;
  if (draws.empty()) return out;
  for (Eigen::Index j = 0; j < draws[0].cols(); ++j) out.push_back(Diagnose(Column(draws, j)));
  return out;
}

double Ebfmi(const Eigen::Ref<const Eigen::VectorXd>& energy) {
  if (energy.size() < 2) return kNaN;
  const double numerator =
      (energy.tail(energy.size() - 1) - energy.head(energy.size() - 1)).squaredNorm();
  const double denominator = (energy.array() - energy.mean()).square().sum();
  return denominator > 0 ? numerator / denominator : kNaN;
}

}  // namespace attnpaths
