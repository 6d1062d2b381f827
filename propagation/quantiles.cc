#include "propagation/quantiles.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace attnpaths {

namespace {

// Linear interpolation at 0-based fractional position h of sorted data.
double At(const std::vector<double>& s, double h) {
  h = std::clamp(h, 0.0, static_cast<double>(s.size() - 1));
  const size_t lo = static_cast<size_t>(std::floor(h));
  const size_t hi = std::min(lo + 1, s.size() - 1);
  const double frac = h - static_cast<double>(lo);
  if (frac == 0 || s[hi] == s[lo]) return s[lo];
  if (std::isinf(s[hi])) return s[hi];  // +∞ samples (exploded paths, §I.3)
  return s[lo] + frac * (s[hi] - s[lo]);
}

}  // namespace

QuantileEstimate SortedQuantile(const std::vector<double>& s, double q) {
  QuantileEstimate r;
  if (s.empty()) {
    r.value = r.se = std::numeric_limits<double>::quiet_NaN();
    return r;
  }
  const double N = static_cast<double>(s.size());
  r.value = At(s, (N - 1) * q);
  const double k = std::sqrt(N * q * (1 - q));
  r.se = 0.5 * (At(s, (N - 1) * q + k) - At(s, (N - 1) * q - k));
  return r;
}

QuantileEstimate SampleQuantile(std::vector<double> x, double q) {
  std::sort(x.begin(), x.end());
  return SortedQuantile(x, q);
}

double KolmogorovSurvival(double lambda) {
  if (lambda < 0.2) return 1.0;
  double sum = 0;
  for (int k = 1; k <= 100; ++k) {
    const double term = std::exp(-2.0 * k * k * lambda * lambda);
    sum += (k % 2 ? 1 : -1) * term;
    if (term < 1e-17) break;
  }
  return std::clamp(2 * sum, 0.0, 1.0);
}

KsResult KolmogorovSmirnov(std::vector<double> x, std::vector<double> y) {
  KsResult r;
  if (x.empty() || y.empty()) {
    r.distance = r.p_value = std::numeric_limits<double>::quiet_NaN();
    return r;
  }
  std::sort(x.begin(), x.end());
  std::sort(y.begin(), y.end());
  const double nx = static_cast<double>(x.size()), ny = static_cast<double>(y.size());
  size_t i = 0, j = 0;
  double d = 0;
  while (i < x.size() && j < y.size()) {
    const double v = std::min(x[i], y[j]);
    while (i < x.size() && x[i] <= v) ++i;
    while (j < y.size() && y[j] <= v) ++j;
    d = std::max(d, std::abs(static_cast<double>(i) / nx - static_cast<double>(j) / ny));
  }
  r.distance = d;
  const double ne = std::sqrt(nx * ny / (nx + ny));
  r.p_value = KolmogorovSurvival((ne + 0.12 + 0.11 / ne) * d);
  return r;
}

}  // namespace attnpaths
