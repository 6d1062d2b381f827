// Leapfrog — the symplectic integrator of Hamiltonian dynamics
// H(q, p) = U(q) + K(p) (potential.h, metric.h).
//
//   attnpaths::PhasePoint z{attnpaths::EvaluatePosition(potential, q), p};
//   attnpaths::Leapfrog(potential, metric, /*step=*/0.1, &z);     // one step forward
//   attnpaths::Leapfrog(potential, metric, -0.1, &z);              // and back
//   double H = z.Hamiltonian(metric);
//
// A step of size ε: p ← p − ε/2 ∇U(q); q ← q + ε M⁻¹ p; p ← p − ε/2 ∇U(q).
// It costs one gradient evaluation and is exactly reversible (ε → −ε).
#pragma once

#include <Eigen/Core>
#include <cmath>
#include <limits>

#include "sampler/metric.h"
#include "sampler/potential.h"

namespace attnpaths {

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
  double Hamiltonian(const DiagonalMetric& metric) const {
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

inline void Leapfrog(const Potential& potential, const DiagonalMetric& metric, double step,
                     PhasePoint* z) {
  z->p.noalias() -= (0.5 * step) * z->x.gradient;
  z->x.q.array() += step * metric.inverse().array() * z->p.array();
  z->x.potential = potential.Evaluate(z->x.q, &z->x.gradient);
  z->p.noalias() -= (0.5 * step) * z->x.gradient;
}

}  // namespace attnpaths
