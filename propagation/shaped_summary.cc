#include "propagation/shaped_summary.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "kernels/error.h"

namespace attnpaths {

const char* ExplodedInQuantilesName(ExplodedInQuantiles e) {
  return e == ExplodedInQuantiles::kExclude ? "exclude" : "infinity";
}

ExplodedInQuantiles ParseExplodedInQuantiles(const std::string& text, const std::string& field) {
  if (text == "exclude") return ExplodedInQuantiles::kExclude;
  if (text == "infinity") return ExplodedInQuantiles::kInfinity;
  throw Error(ErrorMessage(field, "\"" + text + "\"", "exclude or infinity"));
}

namespace {

template <typename Value>
std::vector<double> Collect(const ShapedPaths& p, double t, const TrackedQuantity& q,
                            ExplodedInQuantiles e, Value value) {
  std::vector<double> v;
  v.reserve(static_cast<size_t>(p.paths));
  const bool diagonal = !q.correlation && q.a == q.b;
  for (Eigen::Index k = 0; k < p.paths; ++k) {
    const bool gone =
        p.exploded[static_cast<size_t>(k)] && p.explosion_time[static_cast<size_t>(k)] <= t + 1e-12;
    if (gone) {
      if (e == ExplodedInQuantiles::kInfinity && diagonal) {
        v.push_back(std::numeric_limits<double>::infinity());
      }
      continue;
    }
    const double x = value(k);
    if (!std::isnan(x)) v.push_back(x);
  }
  return v;
}

}  // namespace

std::vector<double> GridValues(const ShapedPaths& p, size_t k, size_t q, ExplodedInQuantiles e) {
  return Collect(p, p.times[k], p.quantities[q], e,
                 [&](Eigen::Index path) { return p.Tracked(path, k, q); });
}

std::vector<double> FinalValues(const ShapedPaths& p, const TrackedQuantity& q,
                                ExplodedInQuantiles e) {
  const Eigen::Index m = p.m;
  return Collect(p, std::numeric_limits<double>::infinity(), q, e, [&](Eigen::Index path) {
    const double vab = p.final_V(path, q.a + m * q.b);
    if (!q.correlation) return vab;
    return vab / std::sqrt(p.final_V(path, q.a + m * q.a) * p.final_V(path, q.b + m * q.b));
  });
}

std::vector<QuantileRow> QuantileTable(const ShapedPaths& p, ExplodedInQuantiles e) {
  std::vector<QuantileRow> rows;
  for (size_t k = 0; k < p.times.size(); ++k) {
    double exploded = 0;
    for (Eigen::Index i = 0; i < p.paths; ++i) {
      exploded += p.exploded[static_cast<size_t>(i)] &&
                  p.explosion_time[static_cast<size_t>(i)] <= p.times[k] + 1e-12;
    }
    for (size_t q = 0; q < p.quantities.size(); ++q) {
      std::vector<double> v = GridValues(p, k, q, e);
      std::sort(v.begin(), v.end());
      QuantileRow r;
      r.source = p.source;
      r.quantity = p.quantities[q].name();
      r.t = p.times[k];
      r.n_used = static_cast<Eigen::Index>(v.size());
      r.exploded_fraction = p.paths > 0 ? exploded / static_cast<double>(p.paths) : 0.0;
      for (size_t l = 0; l < 5; ++l) r.q[l] = SortedQuantile(v, kQuantileLevels[l]);
      rows.push_back(r);
    }
  }
  return rows;
}

std::vector<KsRow> CompareFinal(const ShapedPaths& a, const ShapedPaths& b) {
  std::vector<KsRow> rows;
  const Eigen::Index m = std::min(a.m, b.m);
  for (int corr = 0; corr < 2; ++corr) {
    for (Eigen::Index i = 0; i < m; ++i) {
      for (Eigen::Index j = i + corr; j < m; ++j) {
        const TrackedQuantity q{i, j, corr == 1};
        rows.push_back(
            {q.name(), KolmogorovSmirnov(FinalValues(a, q, ExplodedInQuantiles::kExclude),
                                         FinalValues(b, q, ExplodedInQuantiles::kExclude))});
      }
    }
  }
  return rows;
}

}  // namespace attnpaths
