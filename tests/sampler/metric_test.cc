// Metrics (sampler/metric.h) and the prior-split integrator (leapfrog.h)
// against explicit linear algebra: kinetic energy, velocity, momentum draws
// (covariance M within Monte Carlo error), the harmonic flow against the
// matrix exponential of its linear ODE, window adaptation against the
// regularised covariance of the window's draws, and the split step against
// its definition.
#include "sampler/metric.h"

#include <gtest/gtest.h>

#include <Eigen/Cholesky>
#include <Eigen/Eigenvalues>
#include <Eigen/LU>
#include <Eigen/QR>
#include <array>
#include <cmath>

#include "kernels/error.h"
#include "sampler/leapfrog.h"
#include "sampler/random.h"
#include "tests/support/random_inputs.h"

namespace attnpaths {
namespace {

using test_util::Rng;

// exp(t [[0, S], [−I, 0]]) applied to (q, p): the flow q̇ = S p, ṗ = −q,
// by scaling and squaring of a Taylor series of the 2d × 2d generator
// (independent of HarmonicFlow's eigen-decomposition).
void ReferenceFlow(const Eigen::MatrixXd& S, double t, Eigen::VectorXd* q, Eigen::VectorXd* p) {
  const Eigen::Index d = S.rows();
  Eigen::MatrixXd G = Eigen::MatrixXd::Zero(2 * d, 2 * d);
  G.topRightCorner(d, d) = S;
  G.bottomLeftCorner(d, d) = -Eigen::MatrixXd::Identity(d, d);
  int squarings = 0;
  double scale = t;
  while (std::abs(scale) * G.cwiseAbs().rowwise().sum().maxCoeff() > 0.1) {
    scale /= 2;
    ++squarings;
  }
  Eigen::MatrixXd E = Eigen::MatrixXd::Identity(2 * d, 2 * d), term = E;
  for (int k = 1; k < 20; ++k) {
    term = term * (scale * G) / k;
    E += term;
  }
  for (int i = 0; i < squarings; ++i) E = E * E;
  Eigen::VectorXd z(2 * d);
  z << *q, *p;
  z = E * z;
  *q = z.head(d);
  *p = z.tail(d);
}

TEST(Metric, DenseKineticVelocityAndFlowMatchExplicitAlgebra) {
  Rng rng(3);
  const Eigen::Index d = 6;
  const Eigen::MatrixXd S = test_util::RandomSpd(d, rng);
  DenseMetric metric(d);
  metric.set_inverse(S);
  const Eigen::VectorXd p = test_util::RandomNormal(d, 1, rng);
  const Eigen::VectorXd q = test_util::RandomNormal(d, 1, rng);
  EXPECT_NEAR(metric.Kinetic(p), 0.5 * p.dot(S * p), 1e-12);
  EXPECT_LE((metric.Velocity(p) - S * p).norm(), 1e-12);
  EXPECT_NEAR(metric.VelocityDot(p, q), (S * p).dot(q), 1e-12);
  Eigen::VectorXd moved = q;
  metric.Drift(0.3, p, &moved);
  EXPECT_LE((moved - (q + 0.3 * S * p)).norm(), 1e-12);
  EXPECT_LE((metric.Inverse() - S).norm(), 1e-12);

  for (double t : {0.1, 1.0, 7.3}) {
    Eigen::VectorXd q1 = q, p1 = p, q2 = q, p2 = p;
    metric.HarmonicFlow(t, &q1, &p1);
    ReferenceFlow(S, t, &q2, &p2);
    EXPECT_LE((q1 - q2).norm(), 1e-10 * (1 + q2.norm())) << t;
    EXPECT_LE((p1 - p2).norm(), 1e-10 * (1 + p2.norm())) << t;
    // H₀ = ½|q|² + ½ pᵀ S p is conserved and the flow reverses exactly.
    EXPECT_NEAR(0.5 * q1.squaredNorm() + metric.Kinetic(p1),
                0.5 * q.squaredNorm() + metric.Kinetic(p), 1e-11);
    metric.HarmonicFlow(-t, &q1, &p1);
    EXPECT_LE((q1 - q).norm() + (p1 - p).norm(), 1e-11);
  }
}

TEST(Metric, VelocityDotsAreTheExplicitDotProducts) {
  // (M⁻¹ p_a)·(ρ + extra) and (M⁻¹ p_b)·(ρ + extra) by explicit products, for
  // dimensions below, at and across DiagonalMetric's block of 256, and the
  // default implementation (DenseMetric) on a full M⁻¹.
  Rng rng(17);
  for (Eigen::Index d : {1, 255, 256, 700, 1031}) {
    const Eigen::VectorXd inv = (test_util::RandomNormal(d, 1, rng).array().abs() + 0.1).matrix();
    DiagonalMetric metric(d);
    metric.set_inverse(inv);
    const Eigen::VectorXd p_a = test_util::RandomNormal(d, 1, rng),
                          p_b = test_util::RandomNormal(d, 1, rng),
                          rho = test_util::RandomNormal(d, 1, rng),
                          extra = test_util::RandomNormal(d, 1, rng);
    const Eigen::MatrixXd M_inv = inv.asDiagonal();
    const Eigen::VectorXd s = rho + extra;
    const std::array<double, 2> with = metric.VelocityDots(p_a, p_b, rho, &extra);
    const std::array<double, 2> without = metric.VelocityDots(p_a, p_b, rho, nullptr);
    const double scale = std::sqrt(static_cast<double>(d)) * 10;
    EXPECT_NEAR(with[0], (M_inv * p_a).dot(s), 1e-13 * scale) << d;
    EXPECT_NEAR(with[1], (M_inv * p_b).dot(s), 1e-13 * scale) << d;
    EXPECT_NEAR(without[0], (M_inv * p_a).dot(rho), 1e-13 * scale) << d;
    EXPECT_NEAR(without[1], (M_inv * p_b).dot(rho), 1e-13 * scale) << d;
  }
  const Eigen::Index d = 6;
  const Eigen::MatrixXd B = test_util::RandomNormal(d * d, 1, rng).reshaped(d, d);
  const Eigen::MatrixXd S = B * B.transpose() + Eigen::MatrixXd::Identity(d, d);
  DenseMetric dense(d);
  dense.set_inverse(S);
  const Eigen::VectorXd p_a = test_util::RandomNormal(d, 1, rng),
                        p_b = test_util::RandomNormal(d, 1, rng),
                        rho = test_util::RandomNormal(d, 1, rng),
                        extra = test_util::RandomNormal(d, 1, rng);
  const std::array<double, 2> dots = dense.VelocityDots(p_a, p_b, rho, &extra);
  EXPECT_NEAR(dots[0], (S * p_a).dot(rho + extra), 1e-12);
  EXPECT_NEAR(dots[1], (S * p_b).dot(rho + extra), 1e-12);
}

TEST(Metric, DiagonalFlowIsTheDenseFlowOfADiagonalMatrix) {
  Rng rng(4);
  const Eigen::Index d = 5;
  const Eigen::VectorXd s = Eigen::VectorXd::LinSpaced(d, 0.2, 3.0);
  DiagonalMetric diagonal(d);
  diagonal.set_inverse(s);
  const Eigen::VectorXd q = test_util::RandomNormal(d, 1, rng);
  const Eigen::VectorXd p = test_util::RandomNormal(d, 1, rng);
  Eigen::VectorXd q1 = q, p1 = p, q2 = q, p2 = p;
  diagonal.HarmonicFlow(0.7, &q1, &p1);
  ReferenceFlow(Eigen::MatrixXd(s.asDiagonal()), 0.7, &q2, &p2);
  EXPECT_LE((q1 - q2).norm() + (p1 - p2).norm(), 1e-11);
  EXPECT_NEAR(diagonal.Kinetic(p), 0.5 * (p.array().square() * s.array()).sum(), 1e-13);
}

TEST(Metric, MomentumDrawsHaveCovarianceM) {
  // p ~ N(0, M = S⁻¹): the sample covariance of 40000 draws within 5 s.e.
  Rng rng(5);
  const Eigen::Index d = 4;
  const Eigen::MatrixXd S = test_util::RandomSpd(d, rng);
  const Eigen::MatrixXd M = S.inverse();
  for (MetricKind kind : {MetricKind::kDense, MetricKind::kDiagonal}) {
    std::unique_ptr<Metric> metric = MakeMetric(kind, d);
    Eigen::MatrixXd expected = M;
    if (kind == MetricKind::kDense) {
      static_cast<DenseMetric&>(*metric).set_inverse(S);
    } else {
      static_cast<DiagonalMetric&>(*metric).set_inverse(S.diagonal());
      expected = S.diagonal().cwiseInverse().asDiagonal();
    }
    RandomEngine engine = ChainEngine(9, 0);
    const int N = 40000;
    Eigen::MatrixXd C = Eigen::MatrixXd::Zero(d, d);
    Eigen::VectorXd p;
    for (int k = 0; k < N; ++k) {
      metric->SampleMomentum(engine, &p);
      C += p * p.transpose() / N;
    }
    for (Eigen::Index i = 0; i < d; ++i) {
      for (Eigen::Index j = 0; j < d; ++j) {
        const double se =
            std::sqrt((expected(i, i) * expected(j, j) + expected(i, j) * expected(i, j)) / N);
        EXPECT_NEAR(C(i, j), expected(i, j), 5 * se) << MetricKindName(kind) << " " << i << j;
      }
    }
  }
}

TEST(Metric, WindowAdaptationSetsTheRegularisedCovariance) {
  Rng rng(6);
  const Eigen::Index d = 3, n = 40;
  const Eigen::MatrixXd X = test_util::RandomNormal(n * d, 1, rng).reshaped(n, d) * 2.0;
  const Eigen::RowVectorXd mean = X.colwise().mean();
  const Eigen::MatrixXd centred = X.rowwise() - mean;
  const Eigen::MatrixXd cov = centred.transpose() * centred / (n - 1.0);
  const double w = n / (n + 5.0), shrink = 1e-3 * 5.0 / (n + 5.0);
  DenseMetric dense(d);
  DiagonalMetric diagonal(d);
  for (Eigen::Index i = 0; i < n; ++i) {
    dense.AddWindowDraw(X.row(i).transpose(), Eigen::VectorXd::Zero(d));
    diagonal.AddWindowDraw(X.row(i).transpose(), Eigen::VectorXd::Zero(d));
  }
  EXPECT_EQ(dense.window_draws(), n);
  dense.EndWindow();
  diagonal.EndWindow();
  EXPECT_EQ(dense.window_draws(), 0);
  // Off-diagonal entries shrunk by n/(n + d), then Stan's regularisation.
  Eigen::MatrixXd shrunk = (n / (n + 3.0)) * cov;
  shrunk.diagonal() = cov.diagonal();
  const Eigen::MatrixXd expected = w * shrunk + shrink * Eigen::MatrixXd::Identity(d, d);
  EXPECT_LE((dense.Inverse() - expected).norm(), 1e-12);
  EXPECT_LE((diagonal.InverseDiagonal() - expected.diagonal()).norm(), 1e-12);
}

// A low-rank metric with random σ, orthonormal U (d × k) and λ on both
// sides of 1, and its M⁻¹ = D (I + U (Λ − I) Uᵀ) D built explicitly.
struct LowRankCase {
  Eigen::VectorXd sigma, lambda;
  Eigen::MatrixXd U, inverse;
};

LowRankCase MakeLowRankCase(Eigen::Index d, Eigen::Index k, Rng& rng) {
  LowRankCase c;
  c.sigma = (0.5 * test_util::RandomNormal(d, 1, rng)).array().exp();
  const Eigen::MatrixXd A = test_util::RandomNormal(d, k, rng);
  c.U = Eigen::HouseholderQR<Eigen::MatrixXd>(A).householderQ() * Eigen::MatrixXd::Identity(d, k);
  c.lambda = Eigen::VectorXd::LinSpaced(k, -3.0, 4.0).array().exp();  // 0.05 … 55
  Eigen::MatrixXd inner = Eigen::MatrixXd::Identity(d, d);
  for (Eigen::Index j = 0; j < k; ++j)
    inner += (c.lambda[j] - 1) * c.U.col(j) * c.U.col(j).transpose();
  c.inverse = c.sigma.asDiagonal() * inner * c.sigma.asDiagonal();
  return c;
}

TEST(LowRankMetric, KineticVelocityAndDotsMatchTheExplicitMatrix) {
  Rng rng(21);
  for (Eigen::Index d : {7, 300}) {
    const Eigen::Index k = 3;
    const LowRankCase c = MakeLowRankCase(d, k, rng);
    LowRankMetric metric(d);
    metric.Set(c.sigma, c.U, c.lambda);
    ASSERT_EQ(metric.rank(), k);
    const Eigen::MatrixXd& S = c.inverse;
    const double scale = S.norm();
    EXPECT_LE((metric.Inverse() - S).norm(), 1e-12 * scale) << d;
    EXPECT_LE((metric.InverseDiagonal() - S.diagonal()).norm(), 1e-12 * scale) << d;
    const Eigen::VectorXd p = test_util::RandomNormal(d, 1, rng),
                          q = test_util::RandomNormal(d, 1, rng),
                          rho = test_util::RandomNormal(d, 1, rng),
                          extra = test_util::RandomNormal(d, 1, rng);
    const double tol = 1e-12 * scale * p.norm() * q.norm();
    EXPECT_NEAR(metric.Kinetic(p), 0.5 * p.dot(S * p), tol) << d;
    EXPECT_LE((metric.Velocity(p) - S * p).norm(), 1e-12 * scale * p.norm()) << d;
    EXPECT_NEAR(metric.VelocityDot(p, q), (S * p).dot(q), tol) << d;
    // Velocity is the gradient of Kinetic: central differences.
    const Eigen::VectorXd v = metric.Velocity(p);
    for (Eigen::Index i = 0; i < d; i += d / 5 + 1) {
      Eigen::VectorXd up = p, down = p;
      up[i] += 1e-5;
      down[i] -= 1e-5;
      EXPECT_NEAR((metric.Kinetic(up) - metric.Kinetic(down)) / 2e-5, v[i],
                  1e-6 * (1 + std::abs(v[i])))
          << d << " " << i;
    }
    const std::array<double, 2> with = metric.VelocityDots(p, q, rho, &extra);
    const std::array<double, 2> without = metric.VelocityDots(p, q, rho, nullptr);
    EXPECT_NEAR(with[0], (S * p).dot(rho + extra), 2 * tol) << d;
    EXPECT_NEAR(with[1], (S * q).dot(rho + extra), 2 * tol) << d;
    EXPECT_NEAR(without[0], (S * p).dot(rho), tol) << d;
    EXPECT_NEAR(without[1], (S * q).dot(rho), tol) << d;
    Eigen::VectorXd moved = q;
    metric.Drift(0.3, p, &moved);
    EXPECT_LE((moved - (q + 0.3 * S * p)).norm(), 1e-12 * scale * (1 + q.norm())) << d;
    Eigen::VectorXd q1 = q, p1 = p;
    EXPECT_THROW(metric.HarmonicFlow(0.1, &q1, &p1), Error);
  }
  // Set orthonormalises U (Löwdin): a slightly skewed U gives the same M⁻¹
  // as its nearest orthonormal columns, and a positive definite one.
  const LowRankCase c = MakeLowRankCase(5, 2, rng);
  Eigen::MatrixXd skewed = c.U;
  skewed.col(1) += 1e-3 * c.U.col(0);
  LowRankMetric metric(5);
  metric.Set(c.sigma, skewed, c.lambda);
  EXPECT_LE(
      (metric.eigenvectors().transpose() * metric.eigenvectors() - Eigen::MatrixXd::Identity(2, 2))
          .norm(),
      1e-13);
  EXPECT_THROW(metric.Set(c.sigma, c.U, -c.lambda), Error);
  EXPECT_THROW(metric.Set(-c.sigma, c.U, c.lambda), Error);
}

TEST(LowRankMetric, MomentumDrawsHaveCovarianceM) {
  // p ~ N(0, M) with M the inverse of the explicit M⁻¹: the sample
  // covariance of 40000 draws within 5 standard errors per entry.
  Rng rng(22);
  const Eigen::Index d = 5;
  const LowRankCase c = MakeLowRankCase(d, 2, rng);
  LowRankMetric metric(d);
  metric.Set(c.sigma, c.U, c.lambda);
  const Eigen::MatrixXd M = c.inverse.inverse();
  RandomEngine engine = ChainEngine(10, 0);
  const int N = 40000;
  Eigen::MatrixXd C = Eigen::MatrixXd::Zero(d, d);
  Eigen::VectorXd p;
  for (int k = 0; k < N; ++k) {
    metric.SampleMomentum(engine, &p);
    C += p * p.transpose() / N;
  }
  for (Eigen::Index i = 0; i < d; ++i) {
    for (Eigen::Index j = 0; j < d; ++j) {
      const double se = std::sqrt((M(i, i) * M(j, j) + M(i, j) * M(i, j)) / N);
      EXPECT_NEAR(C(i, j), M(i, j), 5 * se) << i << j;
    }
  }
}

// The eigenvalues of M Σ (Σ the target's covariance, M⁻¹ = L Lᵀ): all 1 when
// the metric fits exactly. Their spread bounds the leapfrog's step size and
// the length of its trajectories.
Eigen::VectorXd PreconditionedSpectrum(const Eigen::MatrixXd& inverse_metric,
                                       const Eigen::MatrixXd& sigma) {
  const Eigen::MatrixXd L = Eigen::LLT<Eigen::MatrixXd>(inverse_metric).matrixL();
  const Eigen::MatrixXd Linv = L.inverse();
  return Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(Linv * sigma * Linv.transpose())
      .eigenvalues();
}

TEST(LowRankMetric, AdaptationRecoversStiffAndWideDirections) {
  // Σ = D₀ (I + Σ_j (c_j − 1) v_j v_jᵀ) D₀ in d = 400 dimensions with scales
  // D₀ over two decades and four directions v_j (orthonormal, dense) 30× and
  // 10× wider and 10× and 50× stiffer in variance. One window of n = 100
  // exact draws q ~ N(μ, Σ) with their gradients Σ⁻¹ (q − μ): fewer draws
  // than dimensions, so the draws' covariance alone is singular. The adapted
  // metric must bring every eigenvalue of M Σ near 1, where the diagonal
  // metric (the window's variances) leaves the four directions out by their
  // factors.
  Rng rng(23);
  const Eigen::Index d = 400, n = 100;
  const Eigen::VectorXd scale = Eigen::VectorXd::LinSpaced(d, -1.0, 1.0).unaryExpr([](double x) {
    return std::pow(10.0, x);
  });
  const Eigen::MatrixXd V =
      Eigen::HouseholderQR<Eigen::MatrixXd>(test_util::RandomNormal(d, 4, rng)).householderQ() *
      Eigen::MatrixXd::Identity(d, 4);
  const Eigen::Vector4d factor(30, 10, 0.1, 0.02);
  Eigen::MatrixXd inner = Eigen::MatrixXd::Identity(d, d);
  for (int j = 0; j < 4; ++j) inner += (factor[j] - 1) * V.col(j) * V.col(j).transpose();
  const Eigen::MatrixXd sigma = scale.asDiagonal() * inner * scale.asDiagonal();
  const Eigen::MatrixXd precision = sigma.inverse();
  const Eigen::MatrixXd root = Eigen::LLT<Eigen::MatrixXd>(sigma).matrixL();
  const Eigen::VectorXd mu = test_util::RandomNormal(d, 1, rng);
  LowRankMetric metric(d);
  DiagonalMetric diagonal(d);
  for (Eigen::Index i = 0; i < n; ++i) {
    const Eigen::VectorXd q = mu + root * test_util::RandomNormal(d, 1, rng);
    const Eigen::VectorXd g = precision * (q - mu);
    metric.AddWindowDraw(q, g);
    diagonal.AddWindowDraw(q, g);
  }
  EXPECT_EQ(metric.window_draws(), n);
  metric.EndWindow();
  diagonal.EndWindow();
  EXPECT_EQ(metric.window_draws(), 0);
  const Eigen::VectorXd low_rank = PreconditionedSpectrum(metric.Inverse(), sigma);
  const Eigen::VectorXd diag = PreconditionedSpectrum(diagonal.Inverse(), sigma);
  // The diagonal metric: the wide and stiff directions stay out (their
  // marginal share spreads them but cannot undo them).
  EXPECT_GT(diag.maxCoeff(), 10) << diag.transpose();
  EXPECT_LT(diag.minCoeff(), 0.1) << diag.transpose();
  // The low-rank metric: every eigenvalue within a factor 2 of 1 (the
  // diagonal's noise from 100 draws, ~14% per variance, and the low-rank
  // estimate's), with the four directions among its eigen-directions.
  EXPECT_LT(low_rank.maxCoeff(), 2.0) << low_rank.transpose();
  EXPECT_GT(low_rank.minCoeff(), 0.5) << low_rank.transpose();
  EXPECT_GE(metric.rank(), 4);
  EXPECT_LE(metric.rank(), metric.options().max_rank);
  // Each direction's variance under the metric, D₀-scaled, against its factor.
  const Eigen::MatrixXd M_inv = metric.Inverse();
  for (int j = 0; j < 4; ++j) {
    const Eigen::VectorXd w = scale.cwiseInverse().asDiagonal() * V.col(j);
    // wᵀ q has variance wᵀ Σ w = c_j; the metric expects wᵀ M⁻¹ w.
    EXPECT_NEAR(std::log(w.dot(M_inv * w) / factor[j]), 0, std::log(1.5)) << j;
  }
}

// U(q) = ½|q|² + ½ (q − b)ᵀ A (q − b): a standard normal prior times a
// Gaussian likelihood.
class PriorTimesGaussian : public Potential {
 public:
  PriorTimesGaussian(Eigen::MatrixXd A, Eigen::VectorXd b) : A_(std::move(A)), b_(std::move(b)) {}
  Eigen::Index dimension() const override { return b_.size(); }
  bool standard_normal_prior() const override { return true; }
  double Evaluate(const Eigen::Ref<const Eigen::VectorXd>& q, Eigen::VectorXd* g) const override {
    const Eigen::VectorXd r = q - b_;
    if (g) *g = q + A_ * r;
    return 0.5 * q.squaredNorm() + 0.5 * r.dot(A_ * r);
  }

 private:
  Eigen::MatrixXd A_;
  Eigen::VectorXd b_;
};

TEST(PriorSplit, IsTheKickRotateKickOfItsDefinitionAndReversible) {
  Rng rng(7);
  const Eigen::Index d = 4;
  const Eigen::MatrixXd A = test_util::RandomSpd(d, rng);
  const Eigen::VectorXd b = test_util::RandomNormal(d, 1, rng);
  const PriorTimesGaussian target(A, b);
  const Eigen::MatrixXd S = test_util::RandomSpd(d, rng);
  DenseMetric metric(d);
  metric.set_inverse(S);
  const Eigen::VectorXd q0 = test_util::RandomNormal(d, 1, rng);
  const Eigen::VectorXd p0 = test_util::RandomNormal(d, 1, rng);
  const double eps = 0.4;
  PhasePoint z{EvaluatePosition(target, q0), p0};
  Integrate(target, metric, Integrator::kPriorSplit, eps, &z);
  // Kick with the likelihood's gradient A (q − b), rotate, kick.
  Eigen::VectorXd q = q0, p = p0 - 0.5 * eps * A * (q0 - b);
  ReferenceFlow(S, eps, &q, &p);
  p -= 0.5 * eps * A * (q - b);
  EXPECT_LE((z.x.q - q).norm() + (z.p - p).norm(), 1e-10);
  Integrate(target, metric, Integrator::kPriorSplit, -eps, &z);
  EXPECT_LE((z.x.q - q0).norm() + (z.p - p0).norm(), 1e-12);
  // Without a likelihood (A = 0) the step is exact for any length: H is conserved.
  const PriorTimesGaussian prior(Eigen::MatrixXd::Zero(d, d), b);
  PhasePoint w{EvaluatePosition(prior, q0), p0};
  const double H0 = w.Hamiltonian(metric);
  for (int k = 0; k < 5; ++k) Integrate(prior, metric, Integrator::kPriorSplit, 2.5, &w);
  EXPECT_NEAR(w.Hamiltonian(metric), H0, 1e-11 * std::abs(H0));
}

TEST(PriorSplit, NamesParse) {
  EXPECT_EQ(ParseEnum<Integrator>("prior_split", "x"), Integrator::kPriorSplit);
  EXPECT_EQ(ParseEnum<Integrator>("leapfrog", "x"), Integrator::kLeapfrog);
  EXPECT_THROW(ParseEnum<Integrator>("euler", "integrator"), std::exception);
}

}  // namespace
}  // namespace attnpaths
