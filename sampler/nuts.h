// NUTS — one transition of the No-U-Turn sampler: a multinomial trajectory
// built by repeated doubling, stopped by the generalised no-U-turn criterion
// (Hoffman & Gelman 2014; Betancourt 2017, "A conceptual introduction to
// Hamiltonian Monte Carlo", appendix A).
//
//   attnpaths::Position x = attnpaths::EvaluatePosition(potential, q0);
//   Eigen::VectorXd p;
//   metric.SampleMomentum(engine, &p);            // any Metric (metric.h)
//   attnpaths::NutsTransition t = attnpaths::NutsStep(
//       potential, metric, step_size, options, x, p,
//       [&] { return attnpaths::Uniform01(engine); }, &x);    // x ← the next draw
//   t.accept_stat;  t.depth;  t.divergent;
//
// The trajectory grows forwards or backwards (a fair coin) by a subtree of
// 2^depth leapfrog steps at depth = 0, 1, …, max_depth − 1. Inside a subtree
// the proposal is drawn with probability ∝ exp(−H) (multinomial);
// between doublings the new subtree's proposal replaces the current
// one with probability min(1, w_new / w_old) (biased progressive sampling).
// The criterion (M⁻¹p₋)·ρ > 0 and (M⁻¹p₊)·ρ > 0, with ρ the summed momenta
// between the two end momenta p₋, p₊, is checked on every subtree, on the
// whole trajectory, and on the two spans that join a subtree to its sibling's
// nearest point. A step whose energy error H − H₀ exceeds max_energy_error
// is a divergence and ends the transition.
#pragma once

#include <Eigen/Core>
#include <functional>
#include <vector>

#include "sampler/leapfrog.h"
#include "sampler/metric.h"
#include "sampler/potential.h"

namespace attnpaths {

struct NutsOptions {
  // At most 2^max_depth − 1 leapfrog steps per transition (Stan's default 10).
  int max_depth = 10;
  // H − H₀ above this is a divergence (Stan's default 1000).
  double max_energy_error = 1000;
  // The integrator of the trajectories (leapfrog.h); kPriorSplit needs a
  // potential with a standard normal prior.
  Integrator integrator = Integrator::kLeapfrog;
};

struct NutsTransition {
  int depth = 0;           // completed doublings (== max_depth: the depth limit was hit)
  int leapfrog_steps = 0;  // gradient evaluations
  double accept_stat = 0;  // mean of min(1, exp(H₀ − H)) over every new point
  bool divergent = false;
  double energy = 0;  // H of the drawn point (for E-BFMI)
};

// The generalised no-U-turn test for a span with end momenta p_a, p_b and
// summed momenta rho (+ extra): true while the span has not turned back on
// itself, (M⁻¹p_a)·ρ > 0 and (M⁻¹p_b)·ρ > 0.
bool NoUTurn(const Metric& metric, const Eigen::VectorXd& p_a, const Eigen::VectorXd& p_b,
             const Eigen::VectorXd& rho);
bool NoUTurn(const Metric& metric, const Eigen::VectorXd& p_a, const Eigen::VectorXd& p_b,
             const Eigen::VectorXd& rho, const Eigen::VectorXd& extra);

// What a subtree hands back to the trajectory that grows it.
struct Subtree {
  Eigen::VectorXd p_inner;  // momentum of the point next to the existing trajectory
  Eigen::VectorXd p_outer;  // momentum of the outermost point
  Eigen::VectorXd rho;      // sum of the momenta of its points
  double log_weight = 0;    // log Σ exp(H₀ − H) over its points
  Position proposal;        // the point drawn from it, with probability ∝ exp(−H)
  double proposal_energy = 0;
};

// Builds subtrees from one starting energy H₀; counts steps, acceptance and
// divergences across every subtree it builds. The proposal of a subtree is
// drawn by streaming multinomial sampling: point i replaces the current one
// with probability w_i / (w_1 + … + w_i), which selects each point with
// probability w_i / Σ w, like the recursive uniform merge, but copies a state
// only O(log n) times. Work vectors are kept between calls: one builder per
// chain allocates nothing in the steady state.
class TreeBuilder {
 public:
  // `uniform` returns uniform numbers in [0, 1); the references must outlive
  // the builder.
  TreeBuilder(const Potential& potential, const Metric& metric, double step_size, double H0,
              double max_energy_error, const std::function<double()>& uniform,
              Integrator integrator = Integrator::kLeapfrog);

  // Starts a new transition (counters reset, work vectors kept).
  void Restart(double step_size, double H0);

  // Extends the trajectory from `edge` by 2^depth leapfrog steps in
  // `direction` (+1 forward, −1 backward); `edge` ends at the outermost new
  // point. Returns false when the subtree diverged or turned back on itself
  // (then *tree is incomplete and must not be used).
  bool Build(int depth, int direction, PhasePoint* edge, Subtree* tree);

  int leapfrog_steps() const { return leapfrog_steps_; }
  double sum_accept() const { return sum_accept_; }
  bool divergent() const { return divergent_; }

 private:
  // Per recursion level: the halves' summed momenta and the two momenta
  // where the halves meet.
  struct Level {
    Eigen::VectorXd rho_first, rho_second, p_first_outer, p_second_inner;
  };
  bool Recurse(int depth, int direction, PhasePoint* edge, Eigen::VectorXd* rho,
               Eigen::VectorXd* p_inner);

  const Potential& potential_;
  const Metric& metric_;
  double step_size_, H0_, max_energy_error_;
  const std::function<double()>& uniform_;
  Integrator integrator_;
  int leapfrog_steps_ = 0;
  double sum_accept_ = 0;
  bool divergent_ = false;
  Subtree* tree_ = nullptr;  // the subtree whose proposal the leaves feed
  std::vector<Level> levels_;
};

// A NUTS transition kernel with its work space (one per chain).
class NutsSampler {
 public:
  NutsSampler(const Potential& potential, const Metric& metric, const NutsOptions& options,
              const std::function<double()>& uniform);

  // One transition from `start` with initial momentum `momentum`; writes the
  // draw to *next (which may alias start).
  NutsTransition Transition(double step_size, const Position& start,
                            const Eigen::VectorXd& momentum, Position* next);

 private:
  const Metric& metric_;
  NutsOptions options_;
  const std::function<double()>& uniform_;
  TreeBuilder builder_;
  PhasePoint forward_, backward_;
  Subtree tree_;
  Position draw_;
  Eigen::VectorXd p_forward_, p_backward_, rho_;
};

// One transition with a fresh work space (tests, one-off use).
NutsTransition NutsStep(const Potential& potential, const Metric& metric, double step_size,
                        const NutsOptions& options, const Position& start,
                        const Eigen::VectorXd& momentum, const std::function<double()>& uniform,
                        Position* next);

}  // namespace attnpaths
