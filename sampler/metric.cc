#include "sampler/metric.h"

#include <Eigen/Cholesky>
#include <Eigen/Eigenvalues>
#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "kernels/error.h"

namespace attnpaths {

MetricKind ResolveMetricKind(MetricKind kind, Eigen::Index dimension) {
  if (kind != MetricKind::kAuto) return kind;
  return dimension <= kDenseMetricMaxDimension ? MetricKind::kDense : MetricKind::kDiagonal;
}

std::unique_ptr<Metric> MakeMetric(MetricKind kind, Eigen::Index dimension) {
  switch (ResolveMetricKind(kind, dimension)) {
    case MetricKind::kDense:
      return std::make_unique<DenseMetric>(dimension);
    case MetricKind::kLowRank:
      return std::make_unique<LowRankMetric>(dimension);
    default:
      return std::make_unique<DiagonalMetric>(dimension);
  }
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

// ---- LowRankMetric

namespace {

// f(S) = W f(λ) Wᵀ for a symmetric S = W diag(λ) Wᵀ.
template <typename F>
Eigen::MatrixXd SymmetricFunction(const Eigen::MatrixXd& S, F f) {
  const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eigen(S);
  const Eigen::VectorXd values = eigen.eigenvalues().unaryExpr(f);
  return eigen.eigenvectors() * values.asDiagonal() * eigen.eigenvectors().transpose();
}

}  // namespace

LowRankMetric::LowRankMetric(Eigen::Index dimension, LowRankOptions options)
    : options_(options), draws_(dimension), gradients_(dimension) {
  Require(options_.max_rank >= 0, "low-rank metric max_rank", std::to_string(options_.max_rank),
          "a count >= 0");
  Require(options_.cutoff >= 1, "low-rank metric cutoff", ToText(options_.cutoff), "a value >= 1");
  Require(options_.secant_tolerance > 0 && options_.secant_tolerance < 1,
          "low-rank metric secant_tolerance", ToText(options_.secant_tolerance),
          "a value in (0, 1)");
  // Draws and gradients of d doubles each, at most max_stored_mb in all.
  const double per_draw_mb = 16.0 * static_cast<double>(dimension) / (1 << 20);
  const double fit = per_draw_mb > 0 ? options_.max_stored_mb / per_draw_mb : 0;
  capacity_ = static_cast<int>(std::min<double>(options_.max_window_draws, fit));
  if (capacity_ < 3 || options_.max_rank == 0) capacity_ = 0;
  stored_q_.resize(dimension, capacity_);
  stored_g_.resize(dimension, capacity_);
  Set(Eigen::VectorXd::Ones(dimension), Eigen::MatrixXd(dimension, 0), Eigen::VectorXd());
}

void LowRankMetric::Set(Eigen::VectorXd sigma, Eigen::MatrixXd U, Eigen::VectorXd lambda) {
  Require(sigma.size() == draws_.mean().size(), "low-rank metric sigma",
          std::to_string(sigma.size()) + " entries",
          std::to_string(draws_.mean().size()) + " (the dimension)");
  Require(sigma.allFinite() && (sigma.array() > 0).all(), "low-rank metric sigma",
          "a non-positive or non-finite entry", "positive scales");
  Require(U.rows() == sigma.size() && U.cols() == lambda.size(), "low-rank metric eigenvectors",
          std::to_string(U.rows()) + " × " + std::to_string(U.cols()),
          "dimension × rank, one column per eigenvalue");
  Require(lambda.allFinite() && (lambda.array() > 0).all(), "low-rank metric eigenvalues",
          "a non-positive or non-finite value", "positive eigenvalues");
  if (U.cols() > 0) {
    // Löwdin orthonormalisation U (UᵀU)^{−½}: the nearest orthonormal columns,
    // so that every formula below uses exactly one matrix M.
    const Eigen::MatrixXd gram = U.transpose() * U;
    Require(gram.allFinite(), "low-rank metric eigenvectors", "non-finite entries",
            "finite vectors");
    const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eigen(gram);
    Require(eigen.eigenvalues().minCoeff() > 1e-8 * std::max(1.0, eigen.eigenvalues().maxCoeff()),
            "low-rank metric eigenvectors", "linearly dependent columns",
            "independent eigenvectors");
    U = U * SymmetricFunction(gram, [](double x) { return 1 / std::sqrt(x); });
  }
  sigma_ = std::move(sigma);
  U_ = std::move(U);
  lambda_ = std::move(lambda);
  shift_ = lambda_.array() - 1;
  root_ = lambda_.array().rsqrt() - 1;
}

Eigen::VectorXd LowRankMetric::Scaled(const Eigen::Ref<const Eigen::VectorXd>& p) const {
  return sigma_.cwiseProduct(p);
}

double LowRankMetric::Kinetic(const Eigen::Ref<const Eigen::VectorXd>& p) const {
  // ½ (|z|² + Σ_j (λ_j − 1) (u_jᵀ z)²), z = σ ⊙ p.
  const Eigen::VectorXd z = Scaled(p);
  if (rank() == 0) return 0.5 * z.squaredNorm();
  const Eigen::VectorXd w = U_.transpose() * z;
  return 0.5 * (z.squaredNorm() + (shift_.array() * w.array().square()).sum());
}

Eigen::VectorXd LowRankMetric::Velocity(const Eigen::Ref<const Eigen::VectorXd>& p) const {
  Eigen::VectorXd z = Scaled(p);
  if (rank() > 0) {
    const Eigen::VectorXd w = shift_.cwiseProduct(U_.transpose() * z);
    z.noalias() += U_ * w;
  }
  return sigma_.cwiseProduct(z);
}

double LowRankMetric::VelocityDot(const Eigen::Ref<const Eigen::VectorXd>& p,
                                  const Eigen::Ref<const Eigen::VectorXd>& rho) const {
  // z_pᵀ z_ρ + Σ_j (λ_j − 1) (u_jᵀ z_p)(u_jᵀ z_ρ).
  const Eigen::VectorXd zp = Scaled(p), zr = Scaled(rho);
  double dot = zp.dot(zr);
  if (rank() > 0) {
    const Eigen::VectorXd wp = U_.transpose() * zp, wr = U_.transpose() * zr;
    dot += (shift_.array() * wp.array() * wr.array()).sum();
  }
  return dot;
}

std::array<double, 2> LowRankMetric::VelocityDots(const Eigen::Ref<const Eigen::VectorXd>& p_a,
                                                  const Eigen::Ref<const Eigen::VectorXd>& p_b,
                                                  const Eigen::Ref<const Eigen::VectorXd>& rho,
                                                  const Eigen::VectorXd* extra) const {
  // z_aᵀ z_s + Σ_j (λ_j − 1) (u_jᵀ z_a)(u_jᵀ z_s) with z = σ ⊙ ·, s = ρ (+ extra):
  // blocks of kBlock rows so that the three scaled blocks stay in L1 while
  // every column of U streams past them once (one pass over U and over each
  // vector; a d × 3 matrix product would pack U at every call).
  constexpr Eigen::Index kBlock = 256;
  const Eigen::Index d = dimension(), k = rank();
  Eigen::Array<double, kBlock, 1> za, zb, zs;
  Eigen::VectorXd wa = Eigen::VectorXd::Zero(k), wb = Eigen::VectorXd::Zero(k),
                  ws = Eigen::VectorXd::Zero(k);
  double a = 0, b = 0;
  for (Eigen::Index i = 0; i < d; i += kBlock) {
    const Eigen::Index m = std::min(kBlock, d - i);
    const auto sigma = sigma_.segment(i, m).array();
    auto za_block = za.head(m);
    auto zb_block = zb.head(m);
    auto zs_block = zs.head(m);
    za_block = sigma * p_a.segment(i, m).array();
    zb_block = sigma * p_b.segment(i, m).array();
    if (extra != nullptr) {
      zs_block = sigma * (rho.segment(i, m).array() + extra->segment(i, m).array());
    } else {
      zs_block = sigma * rho.segment(i, m).array();
    }
    a += (za_block * zs_block).sum();
    b += (zb_block * zs_block).sum();
    for (Eigen::Index j = 0; j < k; ++j) {
      const auto u = U_.col(j).segment(i, m).array();
      wa[j] += (u * za_block).sum();
      wb[j] += (u * zb_block).sum();
      ws[j] += (u * zs_block).sum();
    }
  }
  if (k > 0) {
    a += (shift_.array() * wa.array() * ws.array()).sum();
    b += (shift_.array() * wb.array() * ws.array()).sum();
  }
  return {a, b};
}

void LowRankMetric::Drift(double t, const Eigen::Ref<const Eigen::VectorXd>& p,
                          Eigen::VectorXd* q) const {
  q->noalias() += t * Velocity(p);
}

void LowRankMetric::SampleMomentum(RandomEngine& engine, Eigen::VectorXd* p) const {
  // (I + U (Λ^{−½} − I) Uᵀ)² = I + U (Λ⁻¹ − I) Uᵀ = D M D for orthonormal U.
  Eigen::VectorXd xi(dimension());
  for (Eigen::Index i = 0; i < dimension(); ++i) xi[i] = StandardNormal(engine);
  if (rank() > 0) {
    const Eigen::VectorXd w = root_.cwiseProduct(U_.transpose() * xi);
    xi.noalias() += U_ * w;
  }
  *p = xi.cwiseQuotient(sigma_);
}

void LowRankMetric::HarmonicFlow(double, Eigen::VectorXd*, Eigen::VectorXd*) const {
  throw Error(ErrorMessage("metric", "lowrank",
                           "diag or dense with the prior_split integrator (the low-rank metric "
                           "has no exact harmonic flow)"));
}

Eigen::VectorXd LowRankMetric::InverseDiagonal() const {
  // σ_i² (1 + Σ_j (λ_j − 1) U_ij²).
  Eigen::VectorXd diagonal = Eigen::VectorXd::Ones(dimension());
  if (rank() > 0) diagonal += U_.array().square().matrix() * shift_;
  return sigma_.array().square() * diagonal.array();
}

Eigen::MatrixXd LowRankMetric::Inverse() const {
  Eigen::MatrixXd inner = U_ * shift_.asDiagonal() * U_.transpose();
  inner.diagonal().array() += 1;
  return sigma_.asDiagonal() * inner * sigma_.asDiagonal();
}

void LowRankMetric::AddWindowDraw(const Eigen::Ref<const Eigen::VectorXd>& q,
                                  const Eigen::Ref<const Eigen::VectorXd>& gradient) {
  if (capacity_ > 0) {
    const Eigen::Index slot = draws_.count() % capacity_;
    stored_q_.col(slot) = q;
    stored_g_.col(slot) = gradient;
  }
  draws_.Add(q);
  gradients_.Add(gradient);
}

namespace {

// The secant directions of one side: with R = X − Y and A the side's inputs
// (A = Y: (C − I) Y = R for a Gaussian of covariance C; A = X:
// (C⁻¹ − I) X = −R), the symmetric multi-secant (SR1) solution
// Δ = R G⁺ Rᵀ, G = sym(Aᵀ R) truncated at tolerance · max |G|, recovers a
// low-rank C − I (or C⁻¹ − I) exactly from exact Gaussian pairs. Returns the
// coefficients on R (n × r) of Δ's eigenvectors, most distant from Δ = 0
// (in |ln(1 + δ)|) first, at most `count` of them.
Eigen::MatrixXd SecantDirections(const Eigen::MatrixXd& G, const Eigen::MatrixXd& RtR,
                                 double tolerance, Eigen::Index count) {
  const Eigen::Index n = G.rows();
  const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> g(G);
  const double largest = g.eigenvalues().cwiseAbs().maxCoeff();
  std::vector<Eigen::Index> kept;
  for (Eigen::Index j = 0; j < n; ++j) {
    if (std::abs(g.eigenvalues()[j]) > tolerance * largest) kept.push_back(j);
  }
  if (kept.empty() || !(largest > 0)) return Eigen::MatrixXd(n, 0);
  const auto r = static_cast<Eigen::Index>(kept.size());
  Eigen::MatrixXd T(n, r);
  Eigen::VectorXd inverse(r);
  for (Eigen::Index j = 0; j < r; ++j) {
    T.col(j) = g.eigenvectors().col(kept[static_cast<size_t>(j)]);
    inverse[j] = 1 / g.eigenvalues()[kept[static_cast<size_t>(j)]];
  }
  // An orthonormal basis R T E s^{−½} of span(R T), and Δ in it.
  const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> h(T.transpose() * RtR * T);
  const double floor = 1e-12 * std::max(h.eigenvalues().maxCoeff(), 0.0);
  Eigen::Index m = 0;
  while (m < r && h.eigenvalues()[r - 1 - m] > floor) ++m;
  if (m == 0) return Eigen::MatrixXd(n, 0);
  const Eigen::MatrixXd E = h.eigenvectors().rightCols(m);
  const Eigen::VectorXd root = h.eigenvalues().tail(m).cwiseSqrt();
  const Eigen::MatrixXd delta =
      root.asDiagonal() * E.transpose() * inverse.asDiagonal() * E * root.asDiagonal();
  const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eigen(0.5 * (delta + delta.transpose()));
  const Eigen::MatrixXd coefficients =
      T * E * root.cwiseInverse().asDiagonal() * eigen.eigenvectors();  // n × m, on R
  std::vector<Eigen::Index> order(static_cast<size_t>(m));
  for (Eigen::Index j = 0; j < m; ++j) order[static_cast<size_t>(j)] = j;
  auto distance = [&](Eigen::Index j) {
    return std::abs(std::log(std::max(1 + eigen.eigenvalues()[j], 1e-8)));
  };
  std::sort(order.begin(), order.end(),
            [&](Eigen::Index a, Eigen::Index b) { return distance(a) > distance(b); });
  const Eigen::Index c = std::min(count, m);
  Eigen::MatrixXd out(n, c);
  for (Eigen::Index j = 0; j < c; ++j) out.col(j) = coefficients.col(order[static_cast<size_t>(j)]);
  return out;
}

}  // namespace

void LowRankMetric::LowRankCorrection(const Eigen::Ref<const Eigen::MatrixXd>& X,
                                      const Eigen::Ref<const Eigen::MatrixXd>& Y,
                                      Eigen::MatrixXd* U, Eigen::VectorXd* lambda) const {
  // Gram blocks of X and Y: everything below is n × n but the last product.
  const Eigen::Index n = X.cols(), d = X.rows();
  const Eigen::MatrixXd XtX = X.transpose() * X, XtY = X.transpose() * Y, YtY = Y.transpose() * Y;
  const Eigen::MatrixXd YtX = XtY.transpose();
  const Eigen::MatrixXd RtX = XtX - YtX, RtY = XtY - YtY;  // R = X − Y
  const Eigen::MatrixXd RtR = RtX - RtY;
  // Candidates from both sides: the Y side resolves the stiff directions
  // best, the X side the wide ones.
  const Eigen::Index per_side = 2 * static_cast<Eigen::Index>(options_.max_rank);
  const Eigen::MatrixXd from_y =
      SecantDirections(0.5 * (RtY + RtY.transpose()), RtR, options_.secant_tolerance, per_side);
  const Eigen::MatrixXd from_x =
      SecantDirections(0.5 * (RtX + RtX.transpose()), RtR, options_.secant_tolerance, per_side);
  Eigen::MatrixXd candidates(n, from_y.cols() + from_x.cols());
  candidates << from_y, from_x;
  if (candidates.cols() == 0) return;
  // An orthonormal basis Q = R B of the candidates' span; the candidates,
  // X and Y in it.
  const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> gram(candidates.transpose() * RtR *
                                                            candidates);
  const Eigen::Index c = candidates.cols();
  const double floor = 1e-10 * std::max(gram.eigenvalues().maxCoeff(), 0.0);
  Eigen::Index m = 0;
  while (m < c && gram.eigenvalues()[c - 1 - m] > floor) ++m;
  if (m == 0) return;
  const Eigen::MatrixXd B = candidates * gram.eigenvectors().rightCols(m) *
                            gram.eigenvalues().tail(m).cwiseSqrt().cwiseInverse().asDiagonal();
  const Eigen::MatrixXd PX = B.transpose() * RtX, PY = B.transpose() * RtY;  // m × n
  Eigen::MatrixXd A = B.transpose() * RtR * candidates;                      // m × c
  for (Eigen::Index j = 0; j < c; ++j) A.col(j).normalize();
  // Greedy: the candidate (orthogonalised against those chosen) whose
  // variance ratio λ = √(Var uᵀx / Var uᵀy) is farthest from 1, while beyond
  // the cutoff. λ per direction is exact for an eigenvector of a Gaussian's
  // C (uᵀx = √c uᵀz, uᵀy = uᵀz/√c) and positive whatever the candidates.
  std::vector<Eigen::VectorXd> chosen;
  std::vector<double> values;
  const double log_cutoff = std::log(options_.cutoff);
  while (static_cast<int>(chosen.size()) < options_.max_rank) {
    double best = log_cutoff, best_lambda = 1;
    Eigen::VectorXd best_vector;
    for (Eigen::Index j = 0; j < c; ++j) {
      Eigen::VectorXd a = A.col(j);
      for (const Eigen::VectorXd& u : chosen) a -= u.dot(a) * u;
      const double norm = a.norm();
      if (norm < 0.3) continue;  // mostly inside the chosen directions
      a /= norm;
      const double vx = (PX.transpose() * a).squaredNorm(), vy = (PY.transpose() * a).squaredNorm();
      if (!(vx > 0 && vy > 0)) continue;
      const double l = std::sqrt(vx / vy);
      if (std::isfinite(l) && std::abs(std::log(l)) > best) {
        best = std::abs(std::log(l));
        best_lambda = l;
        best_vector = a;
      }
    }
    if (best_vector.size() == 0) break;
    chosen.push_back(best_vector);
    values.push_back(best_lambda);
  }
  const auto k = static_cast<Eigen::Index>(chosen.size());
  if (k == 0) return;
  Eigen::MatrixXd W(m, k);
  lambda->resize(k);
  for (Eigen::Index j = 0; j < k; ++j) {
    W.col(j) = chosen[static_cast<size_t>(j)];
    (*lambda)[j] = values[static_cast<size_t>(j)];
  }
  const Eigen::MatrixXd coefficients = B * W;  // on R = X − Y
  U->resize(d, k);
  U->noalias() = X * coefficients;
  U->noalias() -= Y * coefficients;
}

void LowRankMetric::EndWindow() {
  const Eigen::Index d = dimension();
  const int count = draws_.count();
  if (count < 3) {
    draws_.Reset();
    gradients_.Reset();
    return;
  }
  // The diagonal: σ_i² = √(Var q_i / Var ∂_i U), the draws' variance where the
  // gradient does not vary.
  const Eigen::VectorXd var_q = draws_.Variance(), var_g = gradients_.Variance();
  Eigen::VectorXd sigma(d);
  for (Eigen::Index i = 0; i < d; ++i) {
    double s2 = 1;
    if (var_q[i] > 0 && var_g[i] > 0) {
      s2 = std::sqrt(var_q[i] / var_g[i]);
    } else if (var_q[i] > 0) {
      s2 = var_q[i];
    }
    if (!std::isfinite(s2)) s2 = 1;
    sigma[i] = std::sqrt(std::clamp(s2, 1e-20, 1e20));
  }
  draws_.Reset();
  gradients_.Reset();

  const Eigen::Index n = std::min(count, capacity_);
  Eigen::MatrixXd U(d, 0);
  Eigen::VectorXd lambda;
  if (n >= 3) {
    // Scaled, centred draws X and gradients Y (d × n each), in place.
    auto X = stored_q_.leftCols(n);
    auto Y = stored_g_.leftCols(n);
    const Eigen::VectorXd mean_q = X.rowwise().mean(), mean_g = Y.rowwise().mean();
    X.colwise() -= mean_q;
    Y.colwise() -= mean_g;
    X = sigma.cwiseInverse().asDiagonal() * X;
    Y = sigma.asDiagonal() * Y;
    LowRankCorrection(X, Y, &U, &lambda);
    // U is orthonormal up to rounding (its basis comes from Gram matrices);
    // should rounding have spoilt it, the window keeps the diagonal alone
    // rather than stop the chain (Set would throw).
    if (U.cols() > 0) {
      const Eigen::VectorXd g =
          Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(U.transpose() * U).eigenvalues();
      if (!U.allFinite() || !lambda.allFinite() || !(g.minCoeff() > 0.5 && g.maxCoeff() < 2)) {
        U.resize(d, 0);
        lambda.resize(0);
      }
    }
  }
  Set(std::move(sigma), std::move(U), std::move(lambda));
}

}  // namespace attnpaths
