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
//   metric->AddWindowDraw(q, grad_U);  …  metric->EndWindow();
//
// The integrators (leapfrog.h), the tree builder (nuts.h) and the chains
// (chains.h) see only this interface: a new metric is one class here.
// M⁻¹ estimates the posterior covariance, so that the sampler works in
// coordinates where the posterior is close to isotropic. A diagonal metric
// costs O(d) per use; a dense one O(d²) per use and O(d³) per window, and
// needs warm-up windows long compared with d to estimate d² entries (choose it
// for small dimensions; MetricKind::kAuto does). A low-rank metric (a diagonal
// plus k eigen-directions, from the window's draws and gradients) costs
// O(d k) per use and O(d n²) per window of n draws: it fits stiff and wide
// directions of posteriors far too large for a dense one.
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
  kLowRank,   // M⁻¹ = D (I + U (Λ − I) Uᵀ) D from draws and gradients (LowRankMetric)
  kAuto,      // dense up to kDenseMetricMaxDimension coordinates, else diagonal
};

template <>
struct EnumNames<MetricKind> {
  static constexpr std::array<EnumName<MetricKind>, 4> values{{{MetricKind::kAuto, "auto"},
                                                               {MetricKind::kDiagonal, "diag"},
                                                               {MetricKind::kDense, "dense"},
                                                               {MetricKind::kLowRank, "lowrank"}}};
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

  // Adaptation: the draws of one warm-up window with their gradients ∇U(q),
  // then M⁻¹ ← an estimate of the posterior covariance from them (diagonal,
  // dense: the draws' regularised covariance, RegularizedVariance /
  // RegularizedCovariance; low-rank: draws and gradients) and a new window.
  virtual void AddWindowDraw(const Eigen::Ref<const Eigen::VectorXd>& q,
                             const Eigen::Ref<const Eigen::VectorXd>& gradient) = 0;
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
  void AddWindowDraw(const Eigen::Ref<const Eigen::VectorXd>& q,
                     const Eigen::Ref<const Eigen::VectorXd>&) override {
    window_.Add(q);
  }
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
  void AddWindowDraw(const Eigen::Ref<const Eigen::VectorXd>& q,
                     const Eigen::Ref<const Eigen::VectorXd>&) override {
    window_.Add(q);
  }
  int window_draws() const override { return window_.count(); }
  void EndWindow() override;

 private:
  Eigen::MatrixXd inverse_;       // M⁻¹
  Eigen::MatrixXd cholesky_;      // L, M⁻¹ = L Lᵀ (lower)
  Eigen::MatrixXd eigenvectors_;  // W, M⁻¹ = W diag(λ) Wᵀ
  Eigen::VectorXd frequencies_;   // √λ
  CovarianceEstimator window_;
};

// LowRankMetric — a diagonal plus a low-rank correction estimated from the
// draws AND the gradients of a window (after the idea of Seyboldt's nutpie:
// gradients see the stiff directions that a few hundred draws resolve badly):
//
//   M⁻¹ = D (I + U (Λ − I) Uᵀ) D,   D = diag(σ),  UᵀU = I_k,  Λ = diag(λ) > 0.
//
// For a Gaussian posterior N(μ, C), ∇U(q) = C⁻¹ (q − μ). The window's estimate:
//  * σ_i² = √(Var q_i / Var ∂_i U): exact when C is diagonal.
//  * In the scaled coordinates x = (q − q̄)/σ, y = (∇U − mean)·σ (n draws,
//    X and Y d × n), a Gaussian gives (C_s − I) Y = R and (C_s⁻¹ − I) X = −R with
//    R = X − Y, C_s the scaled covariance. When C_s − I has low rank, the
//    symmetric multi-secant (SR1) solution Δ = R (YᵀR)⁺ Rᵀ recovers it exactly
//    from n > rank pairs, even with n ≪ d (where the draws' covariance alone
//    is singular and its eigenvalues shrink towards 1); its X-side twin does
//    the same for C_s⁻¹ − I. Truncating both systems (eigenvalues below
//    secant_tolerance × the largest) gives candidate directions: the stiff
//    ones resolved best from the Y side, the wide ones from the X side.
//  * From the candidates, greedily and orthonormalised, the direction u
//    whose variance ratio λ = √(Var uᵀx / Var uᵀy) is farthest from 1, while
//    λ > c or λ < 1/c, at most max_rank of them. λ is exact for an
//    eigenvector of a Gaussian (uᵀx = √c uᵀz, uᵀy = uᵀz/√c) and positive for
//    any direction, so a poor candidate costs nothing but its slot. Every
//    other direction keeps the diagonal's scale (λ = 1).
// Everything but two d × n products per window works on n × n Gram blocks.
// Any such M is symmetric positive definite and fixed during sampling, so
// NUTS stays exact. Per use: two products with the d × k matrix U. Memory: the
// window stores up to max_window_draws draws and gradients (2 d each); a
// longer window feeds its diagonal with every draw and the low-rank part with
// its last max_window_draws. The harmonic flow (prior-split integrator) is not
// available: M⁻¹'s eigenvectors are not those of a diagonal plus U.
struct LowRankOptions {
  int max_rank = 8;                // k: at most this many eigen-directions
  double cutoff = 2;               // c: keep λ > c or λ < 1/c
  double secant_tolerance = 1e-2;  // relative truncation of the secant systems
  int max_window_draws = 128;      // draws and gradients stored per window
  double max_stored_mb = 512;      // fewer draws stored when 2 d × max_window_draws exceeds this
};

class LowRankMetric : public Metric {
 public:
  explicit LowRankMetric(Eigen::Index dimension, LowRankOptions options = {});

  MetricKind kind() const override { return MetricKind::kLowRank; }
  Eigen::Index dimension() const override { return sigma_.size(); }
  const LowRankOptions& options() const { return options_; }
  // σ (D = diag σ), U (d × k, orthonormal columns) and λ (k): throws Error
  // unless σ > 0, λ > 0 and the shapes agree; U is orthonormalised.
  void Set(Eigen::VectorXd sigma, Eigen::MatrixXd U, Eigen::VectorXd lambda);
  const Eigen::VectorXd& sigma() const { return sigma_; }
  const Eigen::MatrixXd& eigenvectors() const { return U_; }
  const Eigen::VectorXd& eigenvalues() const { return lambda_; }
  int rank() const { return static_cast<int>(lambda_.size()); }
  // The most draws one window stores for the low-rank part (0: diagonal only).
  int window_capacity() const { return capacity_; }

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
  // p = D⁻¹ (ξ + U ((Λ^{−½} − I) Uᵀ ξ)) with ξ standard normal: Cov p = M.
  void SampleMomentum(RandomEngine& engine, Eigen::VectorXd* p) const override;
  // Throws Error (use the diagonal or dense metric with prior_split).
  void HarmonicFlow(double t, Eigen::VectorXd* q, Eigen::VectorXd* p) const override;
  Eigen::VectorXd InverseDiagonal() const override;
  Eigen::MatrixXd Inverse() const override;  // d × d: for tests and small d
  void AddWindowDraw(const Eigen::Ref<const Eigen::VectorXd>& q,
                     const Eigen::Ref<const Eigen::VectorXd>& gradient) override;
  int window_draws() const override { return draws_.count(); }
  void EndWindow() override;

 private:
  // z = σ ⊙ p.
  Eigen::VectorXd Scaled(const Eigen::Ref<const Eigen::VectorXd>& p) const;
  // U and λ from the window's scaled, centred draws X and gradients Y (d × n).
  void LowRankCorrection(const Eigen::Ref<const Eigen::MatrixXd>& X,
                         const Eigen::Ref<const Eigen::MatrixXd>& Y, Eigen::MatrixXd* U,
                         Eigen::VectorXd* lambda) const;

  LowRankOptions options_;
  Eigen::VectorXd sigma_;   // σ
  Eigen::MatrixXd U_;       // d × k
  Eigen::VectorXd lambda_;  // λ
  Eigen::VectorXd shift_;   // λ − 1
  Eigen::VectorXd root_;    // λ^{−½} − 1
  VarianceEstimator draws_, gradients_;
  int capacity_ = 0;
  Eigen::MatrixXd stored_q_, stored_g_;  // d × capacity_, a ring of the window's last draws
};

}  // namespace attnpaths
