// Metric — the Euclidean kinetic energy K(p) = ½ pᵀ M⁻¹ p of Hamiltonian
// Monte Carlo, and its adaptation during warm-up (Stan's diag_e and dense_e).
//
//   std::unique_ptr<attnpaths::Metric> metric = attnpaths::MakeMetric(MetricKind::kDense, dim);
//   metric->SampleMomentum(engine, &p);                 // p ~ N(0, M)
//   double K = metric->Kinetic(p);
//   double v = metric->VelocityDot(p, rho);             // (M⁻¹ p) · ρ
//   metric->Drift(eps, p, &q);                          // q += ε M⁻¹ p
//   metric->HarmonicFlow(eps, &q, &p);                  // exact flow of ½|q|² + K(p)
//   // warm-up: draws of a window set M⁻¹ to their regularised covariance
//   metric->AddWindowDraw(q);  …  metric->EndWindow();
//
// The integrators (leapfrog.h), the tree builder (nuts.h) and the chains
// (chains.h) see only this interface: a new metric is one class here.
// M⁻¹ estimates the posterior covariance, so that the sampler works in
// coordinates where the posterior is close to isotropic. A diagonal metric
// costs O(d) per use; a dense one O(d²) per use and O(d³) per window, and
// needs warm-up windows long compared with d to estimate d² entries (choose it
// for small dimensions; MetricKind::kAuto does).
#pragma once

#include <Eigen/Core>
#include <array>
#include <memory>
#include <string>

#include "kernels/enum_names.h"
#include "sampler/random.h"
#include "sampler/welford.h"

namespace attnpaths {

enum class MetricKind {
  kDiagonal,  // M⁻¹ = diag(posterior variances)            (Stan's diag_e)
  kDense,     // M⁻¹ = posterior covariance                 (Stan's dense_e)
  kAuto,      // dense up to kDenseMetricMaxDimension coordinates, else diagonal
};

template <>
struct EnumNames<MetricKind> {
  static constexpr std::array<EnumName<MetricKind>, 3> values{{{MetricKind::kAuto, "auto"},
                                                               {MetricKind::kDiagonal, "diag"},
                                                               {MetricKind::kDense, "dense"}}};
};

inline const char* MetricKindName(MetricKind kind) { return NameOf(kind); }

// The largest sampled dimension for which kAuto adapts a dense metric: its
// window estimate has d² entries, which warm-ups of a few hundred draws cannot
// estimate (or afford) much beyond this.
inline constexpr Eigen::Index kDenseMetricMaxDimension = 500;

// kAuto resolved for a d-dimensional target; the other kinds unchanged.
MetricKind ResolveMetricKind(MetricKind kind, Eigen::Index dimension);

class Metric {
 public:
  virtual ~Metric() = default;
  virtual MetricKind kind() const = 0;
  virtual Eigen::Index dimension() const = 0;

  // K(p) = ½ pᵀ M⁻¹ p.
  virtual double Kinetic(const Eigen::Ref<const Eigen::VectorXd>& p) const = 0;
  // dK/dp = M⁻¹ p, the velocity.
  virtual Eigen::VectorXd Velocity(const Eigen::Ref<const Eigen::VectorXd>& p) const = 0;
  // (M⁻¹ p) · ρ (the no-U-turn criterion's test).
  virtual double VelocityDot(const Eigen::Ref<const Eigen::VectorXd>& p,
                             const Eigen::Ref<const Eigen::VectorXd>& rho) const = 0;
  // Both tests of the no-U-turn criterion (nuts.h) in one call:
  // {(M⁻¹ p_a)·s, (M⁻¹ p_b)·s} with s = ρ, or ρ + extra when extra is not null.
  // The default calls VelocityDot; DiagonalMetric reads each vector once (on
  // the sampler's tens of thousands of coordinates the criterion's dot
  // products cost more than a gradient of the full potential).
  virtual std::array<double, 2> VelocityDots(const Eigen::Ref<const Eigen::VectorXd>& p_a,
                                             const Eigen::Ref<const Eigen::VectorXd>& p_b,
                                             const Eigen::Ref<const Eigen::VectorXd>& rho,
                                             const Eigen::VectorXd* extra) const;
  // q += t M⁻¹ p: the position update of the leapfrog integrator.
  virtual void Drift(double t, const Eigen::Ref<const Eigen::VectorXd>& p,
                     Eigen::VectorXd* q) const = 0;
  // p ~ N(0, M).
  virtual void SampleMomentum(RandomEngine& engine, Eigen::VectorXd* p) const = 0;
  // The exact flow for time t of H₀(q, p) = ½ |q|² + ½ pᵀ M⁻¹ p (a rotation in
  // every eigen-direction of M⁻¹ at angular frequency √λ): the Gaussian part
  // of the prior-split integrator (leapfrog.h).
  virtual void HarmonicFlow(double t, Eigen::VectorXd* q, Eigen::VectorXd* p) const = 0;

  // diag(M⁻¹) and M⁻¹ itself.
  virtual Eigen::VectorXd InverseDiagonal() const = 0;
  virtual Eigen::MatrixXd Inverse() const = 0;

  // Adaptation: the draws of one warm-up window, then M⁻¹ ← their
  // regularised covariance (RegularizedVariance / RegularizedCovariance) and
  // a new window.
  virtual void AddWindowDraw(const Eigen::Ref<const Eigen::VectorXd>& q) = 0;
  virtual int window_draws() const = 0;
  virtual void EndWindow() = 0;
};

// M = I at the start, of the given kind (kAuto resolved for `dimension`).
std::unique_ptr<Metric> MakeMetric(MetricKind kind, Eigen::Index dimension);

class DiagonalMetric : public Metric {
 public:
  explicit DiagonalMetric(Eigen::Index dimension);

  MetricKind kind() const override { return MetricKind::kDiagonal; }
  Eigen::Index dimension() const override { return inverse_.size(); }
  // diag(M⁻¹): the variances the metric expects in each coordinate.
  const Eigen::VectorXd& inverse() const { return inverse_; }
  void set_inverse(Eigen::VectorXd inverse);

  double Kinetic(const Eigen::Ref<const Eigen::VectorXd>& p) const override;
  Eigen::VectorXd Velocity(const Eigen::Ref<const Eigen::VectorXd>& p) const override;
  double VelocityDot(const Eigen::Ref<const Eigen::VectorXd>& p,
                     const Eigen::Ref<const Eigen::VectorXd>& rho) const override;
  std::array<double, 2> VelocityDots(const Eigen::Ref<const Eigen::VectorXd>& p_a,
                                     const Eigen::Ref<const Eigen::VectorXd>& p_b,
                                     const Eigen::Ref<const Eigen::VectorXd>& rho,
                                     const Eigen::VectorXd* extra) const override;
  void Drift(double t, const Eigen::Ref<const Eigen::VectorXd>& p,
             Eigen::VectorXd* q) const override;
  // p_i = z_i / √M⁻¹_ii with z_i standard normal.
  void SampleMomentum(RandomEngine& engine, Eigen::VectorXd* p) const override;
  void HarmonicFlow(double t, Eigen::VectorXd* q, Eigen::VectorXd* p) const override;
  Eigen::VectorXd InverseDiagonal() const override { return inverse_; }
  Eigen::MatrixXd Inverse() const override { return inverse_.asDiagonal(); }
  void AddWindowDraw(const Eigen::Ref<const Eigen::VectorXd>& q) override { window_.Add(q); }
  int window_draws() const override { return window_.count(); }
  void EndWindow() override;

 private:
  Eigen::VectorXd inverse_, sqrt_inverse_;
  VarianceEstimator window_;
};

class DenseMetric : public Metric {
 public:
  explicit DenseMetric(Eigen::Index dimension);

  MetricKind kind() const override { return MetricKind::kDense; }
  Eigen::Index dimension() const override { return inverse_.rows(); }
  // M⁻¹ (symmetric positive definite); throws Error otherwise.
  void set_inverse(Eigen::MatrixXd inverse);

  double Kinetic(const Eigen::Ref<const Eigen::VectorXd>& p) const override;
  Eigen::VectorXd Velocity(const Eigen::Ref<const Eigen::VectorXd>& p) const override;
  double VelocityDot(const Eigen::Ref<const Eigen::VectorXd>& p,
                     const Eigen::Ref<const Eigen::VectorXd>& rho) const override;
  void Drift(double t, const Eigen::Ref<const Eigen::VectorXd>& p,
             Eigen::VectorXd* q) const override;
  // p = L⁻ᵀ z with M⁻¹ = L Lᵀ, so that Cov p = (L Lᵀ)⁻¹ = M.
  void SampleMomentum(RandomEngine& engine, Eigen::VectorXd* p) const override;
  void HarmonicFlow(double t, Eigen::VectorXd* q, Eigen::VectorXd* p) const override;
  Eigen::VectorXd InverseDiagonal() const override { return inverse_.diagonal(); }
  Eigen::MatrixXd Inverse() const override { return inverse_; }
  void AddWindowDraw(const Eigen::Ref<const Eigen::VectorXd>& q) override { window_.Add(q); }
  int window_draws() const override { return window_.count(); }
  void EndWindow() override;

 private:
  Eigen::MatrixXd inverse_;       // M⁻¹
  Eigen::MatrixXd cholesky_;      // L, M⁻¹ = L Lᵀ (lower)
  Eigen::MatrixXd eigenvectors_;  // W, M⁻¹ = W diag(λ) Wᵀ
  Eigen::VectorXd frequencies_;   // √λ
  CovarianceEstimator window_;
};

}  // namespace attnpaths
