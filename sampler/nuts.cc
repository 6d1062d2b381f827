#include "sampler/nuts.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

namespace attnpaths {
namespace {

double LogAddExp(double a, double b) {
  if (a == -std::numeric_limits<double>::infinity()) return b;
  if (b == -std::numeric_limits<double>::infinity()) return a;
  const double hi = std::max(a, b);
  return hi + std::log1p(std::exp(std::min(a, b) - hi));
}

}  // namespace

bool NoUTurn(const DiagonalMetric& metric, const Eigen::Ref<const Eigen::VectorXd>& p_a,
             const Eigen::Ref<const Eigen::VectorXd>& p_b,
             const Eigen::Ref<const Eigen::VectorXd>& rho) {
  return metric.VelocityDot(p_a, rho) > 0 && metric.VelocityDot(p_b, rho) > 0;
}

TreeBuilder::TreeBuilder(const Potential& potential, const DiagonalMetric& metric,
                         double step_size, double H0, double max_energy_error,
                         const std::function<double()>& uniform)
    : potential_(potential),
      metric_(metric),
      step_size_(step_size),
      H0_(H0),
      max_energy_error_(max_energy_error),
      uniform_(uniform) {}

bool TreeBuilder::Build(int depth, int direction, PhasePoint* edge, Subtree* tree) {
  if (depth == 0) {
    // A single new point: one leapfrog step.
    Leapfrog(potential_, metric_, direction * step_size_, edge);
    ++leapfrog_steps_;
    const double H = edge->Hamiltonian(metric_);
    const double error = H - H0_;  // +∞ for a non-finite energy
    if (error > max_energy_error_) divergent_ = true;
    sum_accept_ += error <= 0 ? 1.0 : std::exp(-error);
    tree->log_weight = -error;
    tree->proposal = edge->x;
    tree->proposal_energy = H;
    tree->p_inner = edge->p;
    tree->p_outer = edge->p;
    tree->rho = edge->p;
    return !divergent_;
  }
  // The first half goes straight into *tree, the second into a sibling.
  if (!Build(depth - 1, direction, edge, tree)) return false;
  Subtree second;
  if (!Build(depth - 1, direction, edge, &second)) return false;

  // Criteria on the two spans that join the halves, then on the whole subtree.
  bool ok = NoUTurn(metric_, tree->p_inner, second.p_inner, tree->rho + second.p_inner) &&
            NoUTurn(metric_, tree->p_outer, second.p_outer, second.rho + tree->p_outer);
  tree->rho += second.rho;
  ok = ok && NoUTurn(metric_, tree->p_inner, second.p_outer, tree->rho);

  // Uniform multinomial merge: the sibling's proposal with probability w₂ / (w₁ + w₂).
  const double log_weight = LogAddExp(tree->log_weight, second.log_weight);
  if (uniform_() < std::exp(second.log_weight - log_weight)) {
    tree->proposal = std::move(second.proposal);
    tree->proposal_energy = second.proposal_energy;
  }
  tree->log_weight = log_weight;
  tree->p_outer = std::move(second.p_outer);
  return ok;
}

NutsTransition NutsStep(const Potential& potential, const DiagonalMetric& metric,
                        double step_size, const NutsOptions& options, const Position& start,
                        const Eigen::VectorXd& momentum, const std::function<double()>& uniform,
                        Position* next) {
  PhasePoint forward{start, momentum};
  const double H0 = forward.Hamiltonian(metric);
  PhasePoint backward = forward;
  TreeBuilder builder(potential, metric, step_size, H0, options.max_energy_error, uniform);

  // The trajectory so far: end momenta, summed momenta, total weight, draw.
  Eigen::VectorXd p_forward = momentum, p_backward = momentum, rho = momentum;
  double log_weight = 0;  // log exp(H₀ − H₀)
  Position draw = start;
  double draw_energy = H0;

  NutsTransition t;
  while (t.depth < options.max_depth) {
    const int direction = uniform() > 0.5 ? 1 : -1;
    Subtree tree;
    if (!builder.Build(t.depth, direction, direction > 0 ? &forward : &backward, &tree)) break;
    ++t.depth;

    // Biased progressive sampling between the old trajectory and the new subtree.
    if (tree.log_weight > log_weight || uniform() < std::exp(tree.log_weight - log_weight)) {
      draw = std::move(tree.proposal);
      draw_energy = tree.proposal_energy;
    }
    log_weight = LogAddExp(log_weight, tree.log_weight);

    Eigen::VectorXd& near = direction > 0 ? p_forward : p_backward;
    const Eigen::VectorXd& far = direction > 0 ? p_backward : p_forward;
    const bool joins = NoUTurn(metric, far, tree.p_inner, rho + tree.p_inner) &&
                       NoUTurn(metric, near, tree.p_outer, tree.rho + near);
    rho += tree.rho;
    const bool whole = NoUTurn(metric, far, tree.p_outer, rho);
    near = std::move(tree.p_outer);
    if (!(joins && whole)) break;
  }
  t.leapfrog_steps = builder.leapfrog_steps();
  t.accept_stat = t.leapfrog_steps > 0 ? builder.sum_accept() / t.leapfrog_steps : 0;
  t.divergent = builder.divergent();
  t.energy = draw_energy;
  *next = std::move(draw);
  return t;
}

}  // namespace attnpaths
