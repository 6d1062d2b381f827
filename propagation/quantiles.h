// Quantiles with standard errors, and the two-sample Kolmogorov–Smirnov
// test, for comparing simulated sources (signal-propagation.md §I.3, §I.5).
//
//   std::vector<double> x = ...;                       // unsorted samples
//   attnpaths::QuantileEstimate q = attnpaths::SampleQuantile(x, 0.25);
//   q.value; q.se;
//   attnpaths::KsResult ks = attnpaths::KolmogorovSmirnov(x, y);
//
// Quantiles use linear interpolation between order statistics (NumPy's
// default, "type 7"). The standard error is distribution-free: half the width
// of the order-statistic interval x_(Nq ± √(Nq(1−q))), which estimates
// √(q(1−q)/N) / density at the quantile without a density estimate (the
// binomial count of samples below the quantile has that standard deviation).
#pragma once

#include <vector>

namespace attnpaths {

inline constexpr double kQuantileLevels[] = {0.05, 0.25, 0.5, 0.75, 0.95};

struct QuantileEstimate {
  double value = 0, se = 0;
};

// Sorts a copy. NaN samples are not allowed (exclude them first). Empty: NaN.
QuantileEstimate SampleQuantile(std::vector<double> x, double q);
// The same on sorted data (no copy).
QuantileEstimate SortedQuantile(const std::vector<double>& sorted, double q);

struct KsResult {
  double distance = 0;  // sup |F_x − F_y|
  double p_value = 1;   // asymptotic (Kolmogorov distribution with Stephens' correction)
};
KsResult KolmogorovSmirnov(std::vector<double> x, std::vector<double> y);

// Q_KS(λ) = 2 Σ_{k≥1} (−1)^{k−1} exp(−2 k² λ²), the Kolmogorov survival function.
double KolmogorovSurvival(double lambda);

}  // namespace attnpaths
