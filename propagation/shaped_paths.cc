#include "propagation/shaped_paths.h"

#include <algorithm>
#include <cmath>

namespace attnpaths {

std::string TrackedQuantity::name() const {
  return (correlation ? "rho_" : "V_") + std::to_string(a) + std::to_string(b);
}

std::vector<std::pair<Eigen::Index, Eigen::Index>> DefaultTrackedEntries(Eigen::Index m) {
  std::vector<std::pair<Eigen::Index, Eigen::Index>> e;
  if (m <= 4) {
    for (Eigen::Index a = 0; a < m; ++a) {
      for (Eigen::Index b = a; b < m; ++b) e.emplace_back(a, b);
    }
  } else {
    e = {{0, 0}, {0, 1}, {1, 1}};
  }
  return e;
}

std::vector<TrackedQuantity> MakeTrackedQuantities(
    const std::vector<std::pair<Eigen::Index, Eigen::Index>>& entries) {
  std::vector<TrackedQuantity> q;
  for (const auto& [a, b] : entries) q.push_back({std::min(a, b), std::max(a, b), false});
  for (const auto& [a, b] : entries) {
    if (a != b) q.push_back({std::min(a, b), std::max(a, b), true});
  }
  return q;
}

double Evaluate(const TrackedQuantity& q, const Eigen::Ref<const Eigen::MatrixXd>& V) {
  if (!q.correlation) return V(q.a, q.b);
  return V(q.a, q.b) / std::sqrt(V(q.a, q.a) * V(q.b, q.b));
}

std::vector<Eigen::Index> GridSteps(Eigen::Index steps, int points) {
  std::vector<Eigen::Index> g;
  for (int k = 0; k < points; ++k) {
    g.push_back(points == 1 ? steps
                            : static_cast<Eigen::Index>(
                                  std::llround(static_cast<double>(k) * static_cast<double>(steps) /
                                               static_cast<double>(points - 1))));
  }
  return g;
}

void InitShapedPaths(ShapedPaths* p, const std::string& source, Eigen::Index m, Eigen::Index paths,
                     Eigen::Index steps, double step_time, int grid_points,
                     const std::vector<std::pair<Eigen::Index, Eigen::Index>>& entries) {
  p->source = source;
  p->m = m;
  p->paths = paths;
  p->steps = steps;
  p->step_time = step_time;
  p->grid = GridSteps(steps, grid_points);
  p->times.clear();
  for (Eigen::Index s : p->grid) p->times.push_back(static_cast<double>(s) * step_time);
  p->quantities = MakeTrackedQuantities(entries);
  p->tracked.setZero(paths, static_cast<Eigen::Index>(p->grid.size() * p->quantities.size()));
  p->final_V.setZero(paths, m * m);
  p->exploded.assign(static_cast<size_t>(paths), 0);
  p->explosion_time.assign(static_cast<size_t>(paths), std::numeric_limits<double>::infinity());
  p->negative_eigenvalue_events.assign(static_cast<size_t>(paths), 0);
}

void RecordGrid(ShapedPaths* p, Eigen::Index path, size_t k,
                const Eigen::Ref<const Eigen::MatrixXd>& V) {
  const size_t Q = p->quantities.size();
  for (size_t q = 0; q < Q; ++q) {
    p->tracked(path, static_cast<Eigen::Index>(k * Q + q)) = Evaluate(p->quantities[q], V);
  }
}

void FinishPath(ShapedPaths* p, Eigen::Index path, bool exploded, std::int32_t events,
                const Eigen::Ref<const Eigen::MatrixXd>& V) {
  p->exploded[static_cast<size_t>(path)] = exploded;
  p->negative_eigenvalue_events[static_cast<size_t>(path)] = events;
  for (Eigen::Index k = 0; k < p->m * p->m; ++k) p->final_V(path, k) = V(k % p->m, k / p->m);
}

std::function<void(Eigen::Index done)> PathsProgressReporter(
    const ShapedProgress& progress, const std::string& source, Eigen::Index total,
    std::chrono::steady_clock::time_point t0) {
  return [progress, source, total, t0](Eigen::Index done) {
    if (!progress) return;
    ShapedPathsProgress r;
    r.source = source;
    r.paths_done = done;
    r.paths_total = total;
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    progress(r);
  };
}

double ShapedPaths::exploded_fraction() const {
  if (paths == 0) return 0;
  double n = 0;
  for (std::uint8_t e : exploded) n += e;
  return n / static_cast<double>(paths);
}

double ShapedPaths::exploded_fraction_se() const {
  const double f = exploded_fraction();
  return paths > 0 ? std::sqrt(f * (1 - f) / static_cast<double>(paths)) : 0.0;
}

std::int64_t ShapedPaths::total_negative_eigenvalue_events() const {
  std::int64_t n = 0;
  for (std::int32_t e : negative_eigenvalue_events) n += e;
  return n;
}

double ShapedPaths::median_explosion_time() const {
  std::vector<double> t;
  for (size_t i = 0; i < exploded.size(); ++i) {
    if (exploded[i]) t.push_back(explosion_time[i]);
  }
  if (t.empty()) return std::numeric_limits<double>::quiet_NaN();
  std::sort(t.begin(), t.end());
  const size_t n = t.size();
  return n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
}

}  // namespace attnpaths
