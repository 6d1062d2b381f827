// DiagonalMetric — the Euclidean kinetic energy K(p) = ½ pᵀ M⁻¹ p with a
// diagonal mass matrix M, adapted during warm-up (adaptation.h).
//
//   attnpaths::DiagonalMetric metric(dimension);         // M = I
//   metric.set_inverse(variances);                        // M⁻¹ = diag(posterior variances)
//   metric.SampleMomentum(engine, &p);                    // p ~ N(0, M)
//   double K = metric.Kinetic(p);
//   double v = metric.VelocityDot(p, rho);                // (M⁻¹ p) · ρ
#pragma once

#include <Eigen/Core>
#include <boost/random/normal_distribution.hpp>
#include <cmath>
#include <utility>

namespace attnpaths {

class DiagonalMetric {
 public:
  explicit DiagonalMetric(Eigen::Index dimension)
      : inverse_(Eigen::VectorXd::Ones(dimension)), sqrt_inverse_(inverse_) {}

  Eigen::Index dimension() const { return inverse_.size(); }
  // diag(M⁻¹): the variances the metric expects in each coordinate.
  const Eigen::VectorXd& inverse() const { return inverse_; }
  void set_inverse(Eigen::VectorXd inverse) {
    inverse_ = std::move(inverse);
    sqrt_inverse_ = inverse_.cwiseSqrt();
  }

  // K(p) = ½ Σ_i p_i² M⁻¹_ii.
  double Kinetic(const Eigen::Ref<const Eigen::VectorXd>& p) const {
    return 0.5 * (p.array().square() * inverse_.array()).sum();
  }
  // dK/dp = M⁻¹ p, the velocity.
  Eigen::VectorXd Velocity(const Eigen::Ref<const Eigen::VectorXd>& p) const {
    return inverse_.cwiseProduct(p);
  }
  // (M⁻¹ p) · ρ without forming M⁻¹ p (the no-U-turn criterion's test).
  double VelocityDot(const Eigen::Ref<const Eigen::VectorXd>& p,
                     const Eigen::Ref<const Eigen::VectorXd>& rho) const {
    return (p.array() * inverse_.array() * rho.array()).sum();
  }
  // p ~ N(0, M): p_i = z_i / √M⁻¹_ii with z_i standard normal.
  template <typename Engine>
  void SampleMomentum(Engine& engine, Eigen::VectorXd* p) const {
    boost::random::normal_distribution<double> normal;
    p->resize(dimension());
    for (Eigen::Index i = 0; i < dimension(); ++i) (*p)[i] = normal(engine) / sqrt_inverse_[i];
  }

 private:
  Eigen::VectorXd inverse_;
  Eigen::VectorXd sqrt_inverse_;
};

}  // namespace attnpaths
