// Integrators of Hamiltonian dynamics H(q, p) = U(q) + K(p) (potential.h,
// metric.h): the leapfrog, and the prior-split integrator for potentials
// with a standard normal prior.
//
//   attnpaths::PhasePoint z{attnpaths::EvaluatePosition(potential, q), p};
//   attnpaths::Leapfrog(potential, metric, /*step=*/0.1, &z);     // one step forward
//   attnpaths::Leapfrog(potential, metric, -0.1, &z);              // and back
//   attnpaths::Integrate(potential, metric, Integrator::kPriorSplit, 0.1, &z);
//   double H = z.Hamiltonian(metric);
//
// Leapfrog, a step of size ε: p ← p − ε/2 ∇U(q); q ← q + ε M⁻¹ p;
// p ← p − ε/2 ∇U(q). Its energy error grows with the number of coordinates:
// on a d-dimensional standard normal the step that keeps the acceptance at
// 0.8 shrinks like d^{-1/4}.
//
// Prior split (the Strang splitting of Beskos, Pinski, Sanz-Serna & Stuart
// 2011 and Shahbaba, Lan, Johnson & Neal 2014, "Split Hamiltonian Monte
// Carlo"): for U(q) = ½ |q|² + U₁(q) — the sampler's coordinates are weights
// over their prior standard deviation, so U₁ is the likelihood —
// p ← p − ε/2 ∇U₁(q); (q, p) ← the exact flow of ½|q|² + K(p) for time ε
// (Metric::HarmonicFlow, a rotation); p ← p − ε/2 ∇U₁(q). The Gaussian part
// is integrated without error, so the step is limited by the likelihood's
// curvature, not by the dimension: for a wide network, whose posterior is
// close to its prior in most of its many directions, steps several times
// longer keep the same acceptance.
//
// Both cost one gradient evaluation per step, are symplectic and exactly
// reversible (ε → −ε), which is all NUTS needs.
#pragma once

#include <Eigen/Core>
#include <array>
#include <cmath>
#include <limits>
#include <string>

#include "kernels/enum_names.h"
#include "sampler/metric.h"
#include "sampler/potential.h"

namespace attnpaths {

enum class Integrator {
  kLeapfrog,
  kPriorSplit,  // needs Potential::standard_normal_prior()
};

template <>
struct EnumNames<Integrator> {
  static constexpr std::array<EnumName<Integrator>, 2> values{
      {{Integrator::kLeapfrog, "leapfrog"}, {Integrator::kPriorSplit, "prior_split"}}};
};

inline const char* IntegratorName(Integrator integrator) { return NameOf(integrator); }

// A position with its potential and gradient: what a draw carries between
// transitions (momenta are redrawn every transition).
struct Position {
  Eigen::VectorXd q;
  Eigen::VectorXd gradient;  // ∇U(q)
  double potential = 0;      // U(q)
};

struct PhasePoint {
  Position x;
  Eigen::VectorXd p;

  // H = U(q) + K(p); +∞ when not finite (a divergence for the tree builder).
  double Hamiltonian(const Metric& metric) const {
    const double H = x.potential + metric.Kinetic(p);
    return std::isfinite(H) ? H : std::numeric_limits<double>::infinity();
  }
};

// q with U(q) and ∇U(q).
inline Position EvaluatePosition(const Potential& potential,
                                 const Eigen::Ref<const Eigen::VectorXd>& q) {
  Position x;
  x.q = q;
  x.potential = potential.Evaluate(x.q, &x.gradient);
  return x;
}

inline void Leapfrog(const Potential& potential, const Metric& metric, double step, PhasePoint* z) {
  z->p.noalias() -= (0.5 * step) * z->x.gradient;
  metric.Drift(step, z->p, &z->x.q);
  z->x.potential = potential.Evaluate(z->x.q, &z->x.gradient);
  z->p.noalias() -= (0.5 * step) * z->x.gradient;
}

// One prior-split step; the potential must be ½|q|² + U₁(q).
inline void PriorSplitStep(const Potential& potential, const Metric& metric, double step,
                           PhasePoint* z) {
  // ∇U₁ = ∇U − q.
  z->p.noalias() -= (0.5 * step) * (z->x.gradient - z->x.q);
  metric.HarmonicFlow(step, &z->x.q, &z->p);
  z->x.potential = potential.Evaluate(z->x.q, &z->x.gradient);
  z->p.noalias() -= (0.5 * step) * (z->x.gradient - z->x.q);
}

inline void Integrate(const Potential& potential, const Metric& metric, Integrator integrator,
                      double step, PhasePoint* z) {
  if (integrator == Integrator::kPriorSplit) {
    PriorSplitStep(potential, metric, step, z);
  } else {
    Leapfrog(potential, metric, step, z);
  }
}

}  // namespace attnpaths
