// Summaries of simulated covariance paths (signal-propagation.md §I.3, §I.5):
// quantile bands against time and Kolmogorov–Smirnov comparisons between
// sources, with exploded paths treated by a stated convention.
//
//   std::vector<attnpaths::QuantileRow> rows =
//       attnpaths::QuantileTable(paths, attnpaths::ExplodedInQuantiles::kInfinity);
//   std::vector<attnpaths::KsRow> ks = attnpaths::CompareFinal(net, sde);
#pragma once

#include <array>
#include <string>
#include <vector>

#include "propagation/quantiles.h"
#include "propagation/shaped_paths.h"

namespace attnpaths {

// How a path that exploded at or before time t enters the quantiles at t
// (an open choice of the spec, §I.3; docs/signal-propagation.md).
enum class ExplodedInQuantiles {
  kExclude,   // dropped from every quantity
  kInfinity,  // diagonal entries V_aa count as +∞; off-diagonal entries and
              // correlations (whose sign is unknown) are dropped
};
const char* ExplodedInQuantilesName(ExplodedInQuantiles e);
ExplodedInQuantiles ParseExplodedInQuantiles(const std::string& text, const std::string& field);

// The values of quantity q at grid point k over the paths, by the
// convention; NaN values (a correlation of a path whose diagonal went <= 0)
// are dropped.
std::vector<double> GridValues(const ShapedPaths& p, size_t k, size_t q, ExplodedInQuantiles e);
// The same at t_f for any entry V_ab or correlation ρ_ab (not only tracked ones).
std::vector<double> FinalValues(const ShapedPaths& p, const TrackedQuantity& q,
                                ExplodedInQuantiles e);

struct QuantileRow {
  std::string source, quantity;
  double t = 0;
  Eigen::Index n_used = 0;            // finite values that entered (+∞ ones included)
  double exploded_fraction = 0;       // paths exploded by t
  std::array<QuantileEstimate, 5> q;  // at kQuantileLevels
};
std::vector<QuantileRow> QuantileTable(const ShapedPaths& p, ExplodedInQuantiles e);

// Two-sample KS between `a` and `b` at t_f for every entry V_ab (a <= b) and
// every correlation ρ_ab (a < b), exploded paths excluded from both.
struct KsRow {
  std::string quantity;
  KsResult ks;
};
std::vector<KsRow> CompareFinal(const ShapedPaths& a, const ShapedPaths& b);

}  // namespace attnpaths
