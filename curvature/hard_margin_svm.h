// The hard-margin support vector machine through the origin, solved in its
// dual by coordinate ascent (docs/attention-hessian.md §7; the specification's
// Part E item 5). Given the Gram matrix K of feature vectors φ_μ
// (K_μν = φ_μ·φ_ν) and labels y_μ = ±1,
//
//   max_α  D(α) = Σ_μ α_μ − ½ αᵀ (yyᵀ ⊙ K) α     subject to α ≥ 0
//
// (no bias term, so no equality constraint Σ α_μ y_μ = 0: the hyperplane
// passes through the origin). At the optimum w = Σ_μ α_μ y_μ φ_μ is the
// max-margin direction, y_μ w·φ_μ ≥ 1 with equality where α_μ > 0, and the
// margin is γ = max_{‖w‖=1} min_μ y_μ w·φ_μ = 1/‖w‖ = 1/√(Σ_μ α_μ).
//
//   Eigen::MatrixXd K = Phi * Phi.transpose();
//   attnpaths::HardMarginOptions options;        // tolerance 1e-9, max_sweeps 20000
//   attnpaths::HardMarginSummary s = attnpaths::SolveHardMarginDual(K, y, options);
//   if (s.status == attnpaths::HardMarginStatus::kConverged) s.margin;  // 1/√Σα
//   std::cout << s.BriefReport();
//
// Iteration. One sweep updates every coordinate in turn by its exact
// maximiser α_μ ← max(0, α_μ + (1 − (Qα)_μ)/Q_μμ), Q = yyᵀ ⊙ K, then takes
// the exact step along the ray through α (α ← α Σα/(αᵀQα), which maximises
// D on that ray). Every `face_solve_every` sweeps the dual is maximised
// exactly on the current face {α_μ = 0 off the support}: Q_SS α_S = 1 (LDLT);
// the result is kept when it is positive (then D cannot decrease). The face
// solve turns the linear rate of coordinate ascent into finite termination
// once the support is found; 0 turns it off (pure coordinate ascent).
//
// Active-set finish. Gradient features of attention are often rank-deficient
// (the reference study's have rank 32 per head), the supports coordinate
// ascent finds then hold more examples than the rank, their faces are
// singular, and coordinate ascent crawls. After `active_set_after` sweeps
// without a decision the solver runs, once, the active-set method of Lawson
// and Hanson from α = 0, which keeps the support linearly independent (a
// feature vector within relative distance 3e-5 of the support's span is
// treated as in it) and ends either at the optimum or with a certificate
// that the origin lies in the convex hull of the y_μ φ_μ (not separable).
// Its result is checked by the same KKT test; if it fails numerically,
// coordinate ascent continues.
//
// Stopping (KKT). With g_μ = 1 − (Qα)_μ = 1 − y_μ w·φ_μ, the iterate is
// optimal when g_μ = 0 where α_μ > 0 and g_μ ≤ 0 where α_μ = 0. The solver
// stops when max_μ of |g_μ| (α_μ > 0) and max(g_μ, 0) (α_μ = 0) is at most
// `tolerance`: every functional margin is ≥ 1 − tolerance and the support
// vectors' are 1 ± tolerance (dimensionless: the margins are scaled to 1).
// When the rounding floor of (Qα)_μ, ε max_μ K_μμ Σα (≈ ε / normalised
// margin²), is larger, the test uses it instead (Summary::kkt_tolerance):
// a normalised margin of 3e-5 cannot be resolved to 1e-9 in doubles.
//
// Separability. For any α ≥ 0, with β = α/Σα, the margin is bracketed by
//   min_μ (Qα)_μ / √(αᵀQα)  ≤  γ  ≤  √(αᵀQα) / Σα = ‖Σ_μ β_μ y_μ φ_μ‖
// (the primal value of w, and the distance from the origin to a point of the
// convex hull of the y_μ φ_μ; γ is that hull's distance from the origin). When
// the data are not separable the dual is unbounded: α grows without bound
// (geometrically, with the ray step) and the upper bound falls to zero. The
// solver reports kNotSeparable once the upper bound is below
// `resolution` · max_μ ‖φ_μ‖ (or at once for a zero feature vector), and
// kIterationLimit when neither test is met in `max_sweeps` sweeps.
#pragma once

#include <Eigen/Core>
#include <limits>
#include <string>

namespace attnpaths {

struct HardMarginOptions {
  // The largest KKT violation accepted (see above; margins are scaled to 1).
  double tolerance = 1e-9;
  // Sweeps over all coordinates before kIterationLimit.
  int max_sweeps = 20000;
  // Margins below resolution · max_μ ‖φ_μ‖ are not resolved: the data are
  // reported as not separable (in (0, 1); Σα beyond 1/(resolution² max K_μμ)).
  double resolution = 1e-6;
  // Sweeps between exact solves on the current face (0: never).
  int face_solve_every = 10;
  // After this many sweeps without a decision, the active-set method (see
  // above) runs once from α = 0 (0: never; pure coordinate ascent).
  int active_set_after = 50;

  // false (and *error = "field: found X, expected Y") when invalid.
  bool IsValid(std::string* error) const;
};

enum class HardMarginStatus {
  kConverged,       // KKT conditions met: the margin is γ = 1/√Σα
  kNotSeparable,    // no hyperplane through the origin separates the data (to `resolution`)
  kIterationLimit,  // max_sweeps reached, undecided (margin_lower/upper bracket γ)
  kNotRun,
};
const char* HardMarginStatusName(HardMarginStatus s);  // "converged", "not_separable", …

struct HardMarginSummary {
  static constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  HardMarginStatus status = HardMarginStatus::kNotRun;
  std::string message = "SolveHardMarginDual was not called";
  Eigen::VectorXd alpha;            // the dual variables α_μ ≥ 0 (the last iterate)
  double sum_alpha = 0;             // Σ_μ α_μ = ‖w‖²  at the optimum
  double dual_objective = 0;        // D(α)
  double margin = kNaN;             // γ = 1/√Σα when converged; 0 when not separable; NaN else
  double margin_lower = 0;          // min_μ y_μ w·φ_μ / ‖w‖ of the last iterate (≤ γ)
  double margin_upper = 0;          // √(αᵀQα)/Σα of the last iterate (≥ γ)
  double max_feature_norm = 0;      // max_μ ‖φ_μ‖ = max_μ √K_μμ
  double normalized_margin = kNaN;  // margin / max_feature_norm (in [0, 1]); NaN when margin is
  double kkt_violation = 0;         // the stopping measure of the last iterate
  double kkt_tolerance = 0;         // max(options.tolerance, rounding floor) it was held to
  int sweeps = 0;                   // coordinate sweeps done
  int face_solves = 0;              // face solves accepted
  int active_set = 0;               // the active-set finish: 0 not run, 1 finished, -1 failed
  Eigen::Index support_vectors = 0;  // examples with α_μ > 0

  bool converged() const { return status == HardMarginStatus::kConverged; }
  std::string BriefReport() const;
  std::string FullReport() const;
};

// Throws Error when the options are invalid, K is not square, y does not have
// one entry ±1 per row of K, or K has non-finite entries. K must be a Gram
// matrix (positive semi-definite); it is used symmetrised, (K + Kᵀ)/2.
HardMarginSummary SolveHardMarginDual(const Eigen::Ref<const Eigen::MatrixXd>& K,
                                      const Eigen::Ref<const Eigen::VectorXd>& y,
                                      const HardMarginOptions& options = {});

}  // namespace attnpaths
