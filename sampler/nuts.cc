#include "sampler/nuts.h"

#include <algorithm>
#include <array>
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

bool NoUTurn(const Metric& metric, const Eigen::VectorXd& p_a, const Eigen::VectorXd& p_b,
             const Eigen::VectorXd& rho) {
  const std::array<double, 2> dots = metric.VelocityDots(p_a, p_b, rho, nullptr);
  return dots[0] > 0 && dots[1] > 0;
}

bool NoUTurn(const Metric& metric, const Eigen::VectorXd& p_a, const Eigen::VectorXd& p_b,
             const Eigen::VectorXd& rho, const Eigen::VectorXd& extra) {
  const std::array<double, 2> dots = metric.VelocityDots(p_a, p_b, rho, &extra);
  return dots[0] > 0 && dots[1] > 0;
}

TreeBuilder::TreeBuilder(const Potential& potential, const Metric& metric, double step_size,
                         double H0, double max_energy_error, const std::function<double()>& uniform,
                         Integrator integrator)
    : potential_(potential),
      metric_(metric),
      step_size_(step_size),
      H0_(H0),
      max_energy_error_(max_energy_error),
      uniform_(uniform),
      integrator_(integrator) {}

void TreeBuilder::Restart(double step_size, double H0) {
  step_size_ = step_size;
  H0_ = H0;
  leapfrog_steps_ = 0;
  sum_accept_ = 0;
  divergent_ = false;
}

bool TreeBuilder::Build(int depth, int direction, PhasePoint* edge, Subtree* tree) {
  tree_ = tree;
  tree->log_weight = -std::numeric_limits<double>::infinity();
  const bool ok = Recurse(depth, direction, edge, &tree->rho, &tree->p_inner);
  tree->p_outer = edge->p;
  return ok;
}

bool TreeBuilder::Recurse(int depth, int direction, PhasePoint* edge, Eigen::VectorXd* rho,
                          Eigen::VectorXd* p_inner) {
  if (depth == 0) {
    // A single new point: one leapfrog step.
    Integrate(potential_, metric_, integrator_, direction * step_size_, edge);
    ++leapfrog_steps_;
    const double H = edge->Hamiltonian(metric_);
    const double error = H - H0_;  // +∞ for a non-finite energy
    if (error > max_energy_error_) divergent_ = true;
    sum_accept_ += error <= 0 ? 1.0 : std::exp(-error);
    // Streaming multinomial draw of the subtree's proposal.
    tree_->log_weight = LogAddExp(tree_->log_weight, -error);
    if (uniform_() < std::exp(-error - tree_->log_weight)) {
      tree_->proposal = edge->x;
      tree_->proposal_energy = H;
    }
    *rho = edge->p;
    *p_inner = edge->p;
    return !divergent_;
  }
  if (levels_.size() <= static_cast<size_t>(depth)) levels_.resize(static_cast<size_t>(depth) + 1);
  Level& level = levels_[static_cast<size_t>(depth)];
  // First half: its inner momentum is this subtree's.
  if (!Recurse(depth - 1, direction, edge, &level.rho_first, p_inner)) return false;
  if (depth == 1) {
    // Two single points p₁, p₂: both joining spans and the subtree are the
    // span (p₁, p₂) with ρ = p₁ + p₂, so the three tests below are one.
    if (!Recurse(0, direction, edge, &level.rho_second, &level.p_second_inner)) return false;
    *rho = level.rho_first + level.rho_second;
    return NoUTurn(metric_, *p_inner, edge->p, *rho);
  }
  level.p_first_outer = edge->p;
  if (!Recurse(depth - 1, direction, edge, &level.rho_second, &level.p_second_inner)) return false;
  // The spans joining the halves (each half plus the other's nearest point),
  // then the whole subtree; edge->p is the second half's outer momentum.
  bool ok =
      NoUTurn(metric_, *p_inner, level.p_second_inner, level.rho_first, level.p_second_inner) &&
      NoUTurn(metric_, level.p_first_outer, edge->p, level.rho_second, level.p_first_outer);
  *rho = level.rho_first + level.rho_second;
  return ok && NoUTurn(metric_, *p_inner, edge->p, *rho);
}

NutsSampler::NutsSampler(const Potential& potential, const Metric& metric,
                         const NutsOptions& options, const std::function<double()>& uniform)
    : metric_(metric),
      options_(options),
      uniform_(uniform),
      builder_(potential, metric, 1.0, 0.0, options.max_energy_error, uniform, options.integrator) {
}

NutsTransition NutsSampler::Transition(double step_size, const Position& start,
                                       const Eigen::VectorXd& momentum, Position* next) {
  forward_.x = start;
  forward_.p = momentum;
  const double H0 = forward_.Hamiltonian(metric_);
  backward_.x = start;
  backward_.p = momentum;
  builder_.Restart(step_size, H0);

  // The trajectory so far: end momenta, summed momenta, total weight.
  p_forward_ = momentum;
  p_backward_ = momentum;
  rho_ = momentum;
  double log_weight = 0;  // log exp(H₀ − H₀)
  bool moved = false;     // draw_ holds a new point (else the draw is start)
  double draw_energy = H0;

  NutsTransition t;
  while (t.depth < options_.max_depth) {
    const int direction = uniform_() > 0.5 ? 1 : -1;
    if (!builder_.Build(t.depth, direction, direction > 0 ? &forward_ : &backward_, &tree_)) break;
    ++t.depth;

    // Biased progressive sampling between the old trajectory and the new subtree.
    if (tree_.log_weight > log_weight || uniform_() < std::exp(tree_.log_weight - log_weight)) {
      std::swap(draw_.q, tree_.proposal.q);
      std::swap(draw_.gradient, tree_.proposal.gradient);
      draw_.potential = tree_.proposal.potential;
      draw_energy = tree_.proposal_energy;
      moved = true;
    }
    log_weight = LogAddExp(log_weight, tree_.log_weight);

    Eigen::VectorXd& near = direction > 0 ? p_forward_ : p_backward_;
    const Eigen::VectorXd& far = direction > 0 ? p_backward_ : p_forward_;
    const bool joins = NoUTurn(metric_, far, tree_.p_inner, rho_, tree_.p_inner) &&
                       NoUTurn(metric_, near, tree_.p_outer, tree_.rho, near);
    rho_ += tree_.rho;
    const bool whole = NoUTurn(metric_, far, tree_.p_outer, rho_);
    near.swap(tree_.p_outer);
    if (!(joins && whole)) break;
  }
  t.leapfrog_steps = builder_.leapfrog_steps();
  t.accept_stat = t.leapfrog_steps > 0 ? builder_.sum_accept() / t.leapfrog_steps : 0;
  t.divergent = builder_.divergent();
  t.energy = draw_energy;
  if (moved) {
    std::swap(next->q, draw_.q);
    std::swap(next->gradient, draw_.gradient);
    next->potential = draw_.potential;
  } else if (next != &start) {
    *next = start;
  }
  return t;
}

NutsTransition NutsStep(const Potential& potential, const Metric& metric, double step_size,
                        const NutsOptions& options, const Position& start,
                        const Eigen::VectorXd& momentum, const std::function<double()>& uniform,
                        Position* next) {
  NutsSampler sampler(potential, metric, options, uniform);
  return sampler.Transition(step_size, start, momentum, next);
}

}  // namespace attnpaths
