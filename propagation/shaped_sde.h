// Euler–Maruyama for the shaped-attention covariance SDE
// dV = b(V) dt + dM (signal-propagation.md §I.2–§I.3), many seeded paths.
//
//   attnpaths::ShapedSdeOptions o;
//   o.V0 = V0;                        // m × m, symmetric positive definite
//   o.model.gamma = 0.4;  o.model.tau0 = 0.6;
//   o.depth_to_width = 1.0;           // t_f = d/n
//   attnpaths::ShapedPaths sde = attnpaths::IntegrateShapedSde(o);
//
// Each step V ← sym(V + b(V) Δt + √Δt · noise(R, Z₁, Z₂)) with R a root of V
// (Cholesky; eigenvalues clipped at 0 when it fails, counted as a
// negative-eigenvalue event) and Z₁, Z₂ iid N(0, 1) (shaped_model.h). A path
// whose V has a non-finite entry or max |V_ab| > cap is frozen at its last
// finite value and flagged exploded. Path p draws from
// PropagationEngine(seed, stream, p): reproducible whatever the thread count.
#pragma once

#include <Eigen/Cholesky>
#include <Eigen/Core>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "propagation/random.h"
#include "propagation/shaped_model.h"
#include "propagation/shaped_paths.h"

namespace attnpaths {

struct ShapedSdeOptions {
  ShapedModel model;
  Eigen::MatrixXd V0;           // initial covariance X_0 X_0ᵀ / n (m × m, positive definite)
  double depth_to_width = 1.0;  // t_f = d/n (> 0)
  double dt = 1.0 / 1024;       // Euler–Maruyama step (steps = round(t_f / dt) >= 1)
  Eigen::Index paths = 20000;   // >= 1
  double cap = 1e4;             // explosion cap on max |V_ab| (> 0)
  std::uint64_t seed = 1;
  std::uint64_t stream = 0;    // the engine key's source (sde: 0, sde_no_attention: 1)
  std::string source = "sde";  // the name in outputs
  int grid_points = 64;        // time points recorded for quantile bands (>= 2)
  std::vector<std::pair<Eigen::Index, Eigen::Index>> entries;  // tracked (a, b); empty: default
  int threads = 0;                                             // <= 0: every core
  ShapedProgress progress;  // after each finished path (under a lock)

  // False with a message naming the field for: the model's fields, V0 not
  // square, not finite, not symmetric or not positive definite, t_f <= 0,
  // dt <= 0 or > t_f, paths < 1, cap <= 0, grid_points < 2, entries outside V0.
  bool IsValid(std::string* error) const;
};

// One Euler–Maruyama step of one path without allocations:
//   V ← sym(V + b(V) Δt + √Δt · ShapedNoise(model, V, R, Z₁, Z₂)),
// R the Cholesky factor of V, or the clipped eigenvector root when V is not
// positive definite (*clipped = true). Returns false, leaving V untouched,
// when the new V has a non-finite entry or max |V_ab| > cap.
class ShapedEulerMaruyama {
 public:
  ShapedEulerMaruyama(const ShapedModel& model, Eigen::Index m, double dt);
  // Draws Z₁ (and Z₂ with attention) from `engine`.
  bool Step(Eigen::MatrixXd& V, double cap, PropagationRng& engine, bool* clipped);
  // With given Z₁, Z₂ (m × m).
  bool Step(Eigen::MatrixXd& V, const Eigen::Ref<const Eigen::MatrixXd>& Z1,
            const Eigen::Ref<const Eigen::MatrixXd>& Z2, double cap, bool* clipped);

 private:
  ShapedModel model_;
  Eigen::Index m_;
  double dt_, sqdt_, cv_ = 0, g2t2_ = 0, ca_ = 0;
  Eigen::LLT<Eigen::MatrixXd> llt_;
  Eigen::MatrixXd R_, Z1_, Z2_, T1_, T2_, PV_, next_, drift_;
  Eigen::VectorXd u_, w_, row_mean_;
};

// Integrates every path; throws Error for invalid options.
ShapedPaths IntegrateShapedSde(const ShapedSdeOptions& options);

// Checks shared with the network samplers: V0 (field "V0") and tracked entries.
bool ValidateInitialCovariance(const Eigen::Ref<const Eigen::MatrixXd>& V0, std::string* error);
bool ValidateTrackedEntries(const std::vector<std::pair<Eigen::Index, Eigen::Index>>& entries,
                            Eigen::Index m, std::string* error);

}  // namespace attnpaths
