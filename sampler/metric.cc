#include "sampler/metric.h"

#include <Eigen/Cholesky>
#include <Eigen/Eigenvalues>
#include <algorithm>
#include <cmath>
#include <utility>

#include "kernels/error.h"

namespace attnpaths {

MetricKind ResolveMetricKind(MetricKind kind, Eigen::Index dimension) {
  if (kind != MetricKind::kAuto) return kind;
  return dimension <= kDenseMetricMaxDimension ? MetricKind::kDense : MetricKind::kDiagonal;
}

std::unique_ptr<Metric> MakeMetric(MetricKind kind, Eigen::Index dimension) {
  if (ResolveMetricKind(kind, dimension) == MetricKind::kDense)
    return std::make_unique<DenseMetric>(dimension);
  return std::make_unique<DiagonalMetric>(dimension);
}

std::array<double, 2> Metric::VelocityDots(const Eigen::Ref<const Eigen::VectorXd>& p_a,
                                           const Eigen::Ref<const Eigen::VectorXd>& p_b,
                                           const Eigen::Ref<const Eigen::VectorXd>& rho,
                                           const Eigen::VectorXd* extra) const {
  std::array<double, 2> dots{VelocityDot(p_a, rho), VelocityDot(p_b, rho)};
  if (extra != nullptr) {
    dots[0] += VelocityDot(p_a, *extra);
    dots[1] += VelocityDot(p_b, *extra);
  }
  return dots;
}

// ---- DiagonalMetric

DiagonalMetric::DiagonalMetric(Eigen::Index dimension)
    : inverse_(Eigen::VectorXd::Ones(dimension)), sqrt_inverse_(inverse_), window_(dimension) {}

void DiagonalMetric::set_inverse(Eigen::VectorXd inverse) {
  inverse_ = std::move(inverse);
  sqrt_inverse_ = inverse_.cwiseSqrt();
}

double DiagonalMetric::Kinetic(const Eigen::Ref<const Eigen::VectorXd>& p) const {
  return 0.5 * (p.array().square() * inverse_.array()).sum();
}

Eigen::VectorXd DiagonalMetric::Velocity(const Eigen::Ref<const Eigen::VectorXd>& p) const {
  return inverse_.cwiseProduct(p);
}

double DiagonalMetric::VelocityDot(const Eigen::Ref<const Eigen::VectorXd>& p,
                                   const Eigen::Ref<const Eigen::VectorXd>& rho) const {
  return (p.array() * inverse_.array() * rho.array()).sum();
}

std::array<double, 2> DiagonalMetric::VelocityDots(const Eigen::Ref<const Eigen::VectorXd>& p_a,
                                                   const Eigen::Ref<const Eigen::VectorXd>& p_b,
                                                   const Eigen::Ref<const Eigen::VectorXd>& rho,
                                                   const Eigen::VectorXd* extra) const {
  // Blocks of kBlock coordinates: s = M⁻¹ (ρ + extra) stays in L1 while both
  // dot products read it, so every vector streams from memory once (four or
  // five vectors instead of twelve for four separate VelocityDot calls).
  constexpr Eigen::Index kBlock = 256;
  const Eigen::Index d = dimension();
  Eigen::Array<double, kBlock, 1> s;
  double a = 0, b = 0;
  for (Eigen::Index i = 0; i < d; i += kBlock) {
    const Eigen::Index m = std::min(kBlock, d - i);
    auto s_block = s.head(m);
    if (extra != nullptr) {
      s_block = inverse_.segment(i, m).array() *
                (rho.segment(i, m).array() + extra->segment(i, m).array());
    } else {
      s_block = inverse_.segment(i, m).array() * rho.segment(i, m).array();
    }
    a += (p_a.segment(i, m).array() * s_block).sum();
    b += (p_b.segment(i, m).array() * s_block).sum();
  }
  return {a, b};
}

void DiagonalMetric::Drift(double t, const Eigen::Ref<const Eigen::VectorXd>& p,
                           Eigen::VectorXd* q) const {
  q->array() += t * inverse_.array() * p.array();
}

void DiagonalMetric::SampleMomentum(RandomEngine& engine, Eigen::VectorXd* p) const {
  p->resize(dimension());
  for (Eigen::Index i = 0; i < dimension(); ++i)
    (*p)[i] = StandardNormal(engine) / sqrt_inverse_[i];
}

void DiagonalMetric::HarmonicFlow(double t, Eigen::VectorXd* q, Eigen::VectorXd* p) const {
  // q̇ = s p, ṗ = −q per coordinate (s = M⁻¹_ii, ω = √s):
  // q(t) = q cos ωt + √s p sin ωt,  p(t) = p cos ωt − q sin ωt / √s.
  for (Eigen::Index i = 0; i < dimension(); ++i) {
    const double w = sqrt_inverse_[i], c = std::cos(w * t), s = std::sin(w * t);
    const double qi = (*q)[i], pi = (*p)[i];
    (*q)[i] = qi * c + w * pi * s;
    (*p)[i] = pi * c - qi * s / w;
  }
}

void DiagonalMetric::EndWindow() {
  set_inverse(RegularizedVariance(window_));
  window_.Reset();
}

// ---- DenseMetric

DenseMetric::DenseMetric(Eigen::Index dimension) : window_(dimension) {
  set_inverse(Eigen::MatrixXd::Identity(dimension, dimension));
}

void DenseMetric::set_inverse(Eigen::MatrixXd inverse) {
  const Eigen::LLT<Eigen::MatrixXd> llt(inverse);
  Require(llt.info() == Eigen::Success && inverse.allFinite(), "dense metric",
          "a matrix that is not positive definite", "a positive definite inverse mass matrix");
  const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eigen(inverse);
  Require(eigen.info() == Eigen::Success && eigen.eigenvalues().minCoeff() > 0, "dense metric",
          "a matrix with a non-positive eigenvalue", "a positive definite inverse mass matrix");
  inverse_ = std::move(inverse);
  cholesky_ = llt.matrixL();
  eigenvectors_ = eigen.eigenvectors();
  frequencies_ = eigen.eigenvalues().cwiseSqrt();
}

double DenseMetric::Kinetic(const Eigen::Ref<const Eigen::VectorXd>& p) const {
  // ½ |Lᵀ p|².
  return 0.5 * (cholesky_.transpose().triangularView<Eigen::Upper>() * p).squaredNorm();
}

Eigen::VectorXd DenseMetric::Velocity(const Eigen::Ref<const Eigen::VectorXd>& p) const {
  return inverse_.selfadjointView<Eigen::Lower>() * p;
}

double DenseMetric::VelocityDot(const Eigen::Ref<const Eigen::VectorXd>& p,
                                const Eigen::Ref<const Eigen::VectorXd>& rho) const {
  return Velocity(p).dot(rho);
}

void DenseMetric::Drift(double t, const Eigen::Ref<const Eigen::VectorXd>& p,
                        Eigen::VectorXd* q) const {
  q->noalias() += t * (inverse_.selfadjointView<Eigen::Lower>() * p);
}

void DenseMetric::SampleMomentum(RandomEngine& engine, Eigen::VectorXd* p) const {
  Eigen::VectorXd z(dimension());
  for (Eigen::Index i = 0; i < dimension(); ++i) z[i] = StandardNormal(engine);
  *p = cholesky_.transpose().triangularView<Eigen::Upper>().solve(z);
}

void DenseMetric::HarmonicFlow(double t, Eigen::VectorXd* q, Eigen::VectorXd* p) const {
  // In the eigenbasis of M⁻¹ = W diag(λ) Wᵀ the flow is DiagonalMetric's
  // rotation at ω = √λ per direction.
  Eigen::VectorXd x = eigenvectors_.transpose() * *q;
  Eigen::VectorXd y = eigenvectors_.transpose() * *p;
  for (Eigen::Index i = 0; i < dimension(); ++i) {
    const double w = frequencies_[i], c = std::cos(w * t), s = std::sin(w * t);
    const double xi = x[i], yi = y[i];
    x[i] = xi * c + w * yi * s;
    y[i] = yi * c - xi * s / w;
  }
  q->noalias() = eigenvectors_ * x;
  p->noalias() = eigenvectors_ * y;
}

void DenseMetric::EndWindow() {
  set_inverse(RegularizedCovariance(window_));
  window_.Reset();
}

}  // namespace attnpaths
