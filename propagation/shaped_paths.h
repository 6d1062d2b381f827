// ShapedPaths — simulated covariance paths of one source (the SDE, or
// networks of one width), as the SDE integrator and the network samplers
// return them (signal-propagation.md §I.2–§I.4).
//
//   attnpaths::ShapedPaths sde = attnpaths::IntegrateShapedSde(options);
//   sde.Tracked(path, k, q);       // quantity q (e.g. V_01, rho_01) of `path` at time sde.times[k]
//   sde.Final(path);               // V at t_f (m × m)
//   sde.exploded[path];            // capped: frozen at the last finite V, at explosion_time[path]
#pragma once

#include <Eigen/Core>
#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <utility>
#include <vector>

namespace attnpaths {

// One tracked scalar: V_ab, or ρ_ab = V_ab / √(V_aa V_bb) (a ≠ b).
struct TrackedQuantity {
  Eigen::Index a = 0, b = 0;
  bool correlation = false;
  std::string name() const;  // "V_01", "rho_01"
};

// Every entry (a <= b) the default: all pairs a <= b for m <= 4, else
// (0, 0), (0, 1), (1, 1); each entry is tracked as V_ab and each off-diagonal
// one also as ρ_ab.
std::vector<std::pair<Eigen::Index, Eigen::Index>> DefaultTrackedEntries(Eigen::Index m);
std::vector<TrackedQuantity> MakeTrackedQuantities(
    const std::vector<std::pair<Eigen::Index, Eigen::Index>>& entries);
double Evaluate(const TrackedQuantity& q, const Eigen::Ref<const Eigen::MatrixXd>& V);

// The time grid: `points` times k t_f/(points − 1) rounded to the source's
// steps (SDE steps of Δt, or network layers of 1/n); returns step indices.
std::vector<Eigen::Index> GridSteps(Eigen::Index steps, int points);

struct ShapedPathsProgress {
  std::string source;
  Eigen::Index paths_done = 0, paths_total = 0;
  double seconds = 0;
};
using ShapedProgress = std::function<void(const ShapedPathsProgress&)>;

struct ShapedPaths {
  std::string source;  // "sde", "sde_no_attention", "net_256", "std_256", …
  Eigen::Index m = 0;
  Eigen::Index paths = 0;
  Eigen::Index steps = 0;          // SDE steps or network layers d = round(n t_f)
  double step_time = 0;            // Δt or 1/n
  std::vector<double> times;       // grid times (step index × step_time)
  std::vector<Eigen::Index> grid;  // grid step indices
  std::vector<TrackedQuantity> quantities;
  // paths × (times.size() · quantities.size()): row = path, column = k · Q + q.
  Eigen::MatrixXd tracked;
  // paths × m²: row = path, V_{t_f} in column-major order (entry (a, b) at a + m b).
  Eigen::MatrixXd final_V;
  std::vector<std::uint8_t> exploded;  // 1: max |V| > cap or non-finite at some step
  std::vector<double> explosion_time;  // t of the first capped step (+∞ if never)
  std::vector<std::int32_t> negative_eigenvalue_events;  // steps whose root needed clipping
  double seconds = 0;

  double Tracked(Eigen::Index path, size_t k, size_t q) const {
    return tracked(path, static_cast<Eigen::Index>(k * quantities.size() + q));
  }
  Eigen::MatrixXd Final(Eigen::Index path) const {
    Eigen::MatrixXd V(m, m);
    for (Eigen::Index k = 0; k < m * m; ++k) V(k % m, k / m) = final_V(path, k);
    return V;
  }
  double exploded_fraction() const;
  double exploded_fraction_se() const;  // √(f(1 − f)/paths)
  std::int64_t total_negative_eigenvalue_events() const;
  double median_explosion_time() const;  // over exploded paths (NaN if none)
};

// Storage and recording shared by the SDE and the samplers.
void InitShapedPaths(ShapedPaths* p, const std::string& source, Eigen::Index m, Eigen::Index paths,
                     Eigen::Index steps, double step_time, int grid_points,
                     const std::vector<std::pair<Eigen::Index, Eigen::Index>>& entries);
// Records V at grid position k of `path`.
void RecordGrid(ShapedPaths* p, Eigen::Index path, size_t k,
                const Eigen::Ref<const Eigen::MatrixXd>& V);
// Records the end of `path`: whether it exploded, its clipping events and V_{t_f}.
void FinishPath(ShapedPaths* p, Eigen::Index path, bool exploded, std::int32_t events,
                const Eigen::Ref<const Eigen::MatrixXd>& V);
// The progress callback of a parallel loop over paths: reports `done` of
// `total` for `source`, with the seconds since t0 (nothing without progress).
std::function<void(Eigen::Index done)> PathsProgressReporter(
    const ShapedProgress& progress, const std::string& source, Eigen::Index total,
    std::chrono::steady_clock::time_point t0);
// True when V must be capped: a non-finite entry or max |V_ab| > cap.
inline bool Exceeds(const Eigen::Ref<const Eigen::MatrixXd>& V, double cap) {
  return !V.allFinite() || V.cwiseAbs().maxCoeff() > cap;
}

}  // namespace attnpaths
