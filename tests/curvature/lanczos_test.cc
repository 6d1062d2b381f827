// Lanczos (curvature/lanczos.h) against dense eigen-decompositions: extreme
// eigenvalues of random symmetric matrices with known spectra, repeated
// eigenvalues (a Kronecker block), n below k, the attention Hessian through
// its matrix-free products; stochastic Lanczos quadrature against exact
// identities and the trace within its Monte-Carlo error.
#include "curvature/lanczos.h"

#include <gtest/gtest.h>

#include <Eigen/Eigenvalues>
#include <Eigen/QR>
#include <cmath>

#include "curvature/attention_hessian.h"
#include "kernels/error.h"
#include "tests/support/random_inputs.h"

namespace attnpaths {
namespace {

using test_util::Rng;

// Q diag(lambda) Qᵀ with a random orthogonal Q.
Eigen::MatrixXd WithSpectrum(const Eigen::VectorXd& lambda, Rng& rng) {
  const Eigen::Index n = lambda.size();
  const Eigen::MatrixXd Q =
      Eigen::HouseholderQR<Eigen::MatrixXd>(test_util::RandomNormal(n, n, rng)).householderQ();
  return Q * lambda.asDiagonal() * Q.transpose();
}

SymmetricOperator Dense(const Eigen::MatrixXd& M) {
  return {M.rows(), [&M](const Eigen::VectorXd& v) { return Eigen::VectorXd(M * v); }};
}

TEST(LanczosExtremes, FindsTheTopAndBottomOfAKnownSpectrum) {
  Rng rng(1);
  const Eigen::Index n = 300;
  Eigen::VectorXd lambda(n);
  for (Eigen::Index i = 0; i < n; ++i) lambda(i) = rng.Normal();
  lambda(0) = 9.0;  // separated extremes, and a cluster inside
  lambda(1) = 8.5;
  lambda(2) = -7.0;
  const Eigen::MatrixXd M = WithSpectrum(lambda, rng);
  std::sort(lambda.data(), lambda.data() + n);
  LanczosOptions options;
  options.eigenvalues = 5;
  LanczosSummary summary;
  const ExtremeEigenvalues e = LanczosExtremes(Dense(M), options, &summary);
  EXPECT_TRUE(summary.converged) << summary.BriefReport();
  EXPECT_LT(summary.iterations, n);  // converged before the space was exhausted
  for (Eigen::Index i = 0; i < 5; ++i) {
    EXPECT_NEAR(e.largest(i), lambda(n - 1 - i), 1e-8 * 9);
    EXPECT_NEAR(e.smallest(i), lambda(i), 1e-8 * 9);
    EXPECT_LE(e.largest_residuals(i), 1e-10 * 9);
  }
}

TEST(LanczosExtremes, RepeatedEigenvaluesKeepTheirMultiplicity) {
  // S ⊗ I_4 has every eigenvalue of S four times (like H_o(V,V) = S ⊗ I_D).
  Rng rng(2);
  Eigen::VectorXd ls(5);
  ls << 3, 2, 1, -1, -2;
  const Eigen::MatrixXd S = WithSpectrum(ls, rng);
  Eigen::MatrixXd M = Eigen::MatrixXd::Zero(20, 20);
  for (int i = 0; i < 5; ++i) {
    for (int j = 0; j < 5; ++j) M.block(4 * i, 4 * j, 4, 4).diagonal().setConstant(S(i, j));
  }
  LanczosOptions options;
  options.eigenvalues = 6;
  LanczosSummary summary;
  const ExtremeEigenvalues e = LanczosExtremes(Dense(M), options, &summary);
  EXPECT_GE(summary.restarts, 3);
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(e.largest(i), 3.0, 1e-12);
  EXPECT_NEAR(e.largest(4), 2.0, 1e-12);
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(e.smallest(i), -2.0, 1e-12);
}

TEST(LanczosExtremes, FewerRowsThanAskedGivesEveryEigenvalue) {
  Rng rng(3);
  Eigen::VectorXd lambda(4);
  lambda << -1, 0.5, 2, 4;
  const Eigen::MatrixXd M = WithSpectrum(lambda, rng);
  LanczosOptions options;
  options.eigenvalues = 10;
  const ExtremeEigenvalues e = LanczosExtremes(Dense(M), options);
  ASSERT_EQ(e.largest.size(), 4);
  EXPECT_NEAR(e.largest(0), 4, 1e-13);
  EXPECT_NEAR(e.smallest(0), -1, 1e-13);
  EXPECT_NEAR(e.smallest(3), 4, 1e-13);
}

TEST(LanczosExtremes, AttentionHessianExtremesEqualTheDenseOnes) {
  Rng rng(4);
  AttentionLayerData data;
  for (int b = 0; b < 3; ++b) {
    data.X.push_back(test_util::RandomNormal(6, 5, rng));
    data.Y.push_back(test_util::RandomNormal(6, 5, rng));
  }
  AttentionLayerWeights w{test_util::RandomNormal(5, 4, rng, 0.6),
                          test_util::RandomNormal(5, 4, rng, 0.6),
                          test_util::RandomNormal(5, 5, rng, 0.6)};
  const AttentionHessian hessian(data, w);
  for (HessianPart part : {HessianPart::kFull, HessianPart::kOuter}) {
    SCOPED_TRACE(HessianPartName(part));
    const Eigen::VectorXd dense =
        Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(hessian.Dense(part)).eigenvalues();
    SymmetricOperator op{hessian.num_parameters(),
                         [&](const Eigen::VectorXd& v) { return hessian.Apply(v, part); }};
    LanczosOptions options;
    options.eigenvalues = 3;
    const ExtremeEigenvalues e = LanczosExtremes(op, options);
    const double scale = dense.cwiseAbs().maxCoeff();
    for (int i = 0; i < 3; ++i) {
      EXPECT_NEAR(e.largest(i), dense(dense.size() - 1 - i), 1e-9 * scale);
    }
    EXPECT_NEAR(e.smallest(0), dense(0), 1e-9 * scale);
    if (part == HessianPart::kFull) {
      for (int i = 1; i < 3; ++i) EXPECT_NEAR(e.smallest(i), dense(i), 1e-9 * scale);
    } else {
      // H_o has the k² = 16 null directions of the Q–K gauge; the Krylov
      // space holds one of them, so λ_min = 0 appears once.
      EXPECT_NEAR(dense(15), 0.0, 1e-12 * scale);
    }
  }
}

TEST(LanczosExtremes, RejectsBadOptions) {
  LanczosOptions options;
  options.eigenvalues = 0;
  std::string error;
  EXPECT_FALSE(options.IsValid(&error));
  EXPECT_EQ(error, "lanczos.eigenvalues: found 0, expected a value >= 1");
  const Eigen::MatrixXd M = Eigen::MatrixXd::Identity(3, 3);
  EXPECT_THROW(LanczosExtremes(Dense(M), options), Error);
  EXPECT_THROW(LanczosExtremes(SymmetricOperator{}, LanczosOptions{}), Error);
}

TEST(LanczosSpectralDensity, ExactNodesForADiagonalMatrixAndUnitMass) {
  const Eigen::Index n = 12;
  Eigen::VectorXd d = Eigen::VectorXd::LinSpaced(n, -2.0, 3.5);
  const Eigen::MatrixXd M = d.asDiagonal();
  SpectralDensityOptions options;
  options.probes = 3;
  options.steps = 50;  // capped at n: the quadrature sees every eigenvalue
  const SpectralDensity rho = LanczosSpectralDensity(Dense(M), options);
  ASSERT_EQ(rho.nodes.size(), 3 * n);
  // Rademacher probes on a diagonal matrix weigh every eigenvalue by 1/n.
  for (Eigen::Index j = 0; j < rho.nodes.size(); ++j) {
    const Eigen::Index nearest = std::lround((rho.nodes(j) + 2.0) / 0.5);
    EXPECT_NEAR(rho.nodes(j), d(nearest), 1e-12);
    EXPECT_NEAR(rho.weights(j), 1.0 / (n * 3), 1e-12);
  }
  EXPECT_NEAR(rho.weights.sum(), 1.0, 1e-12);
  // The broadened density integrates to one (trapezoid rule on the grid).
  const double h = rho.grid(1) - rho.grid(0);
  const double mass =
      h * (rho.density.sum() - 0.5 * (rho.density(0) + rho.density(rho.density.size() - 1)));
  EXPECT_NEAR(mass, 1.0, 1e-3);
}

TEST(LanczosSpectralDensity, MeanEqualsTheTracePerRowWithinItsMonteCarloError) {
  // Σ_j w_j θ_j = mean_p v_pᵀ M v_p / n: unbiased for tr(M)/n with variance
  // 2 Σ_{i≠j} M_ij² / (n² probes) for Rademacher probes.
  Rng rng(6);
  const Eigen::Index n = 80;
  Eigen::VectorXd lambda(n);
  for (Eigen::Index i = 0; i < n; ++i) lambda(i) = rng.Normal() + 0.5;
  const Eigen::MatrixXd M = WithSpectrum(lambda, rng);
  SpectralDensityOptions options;
  options.probes = 30;
  options.steps = 20;
  const SpectralDensity rho = LanczosSpectralDensity(Dense(M), options);
  const double mean = rho.weights.dot(rho.nodes);
  const double off = M.squaredNorm() - M.diagonal().squaredNorm();
  const double se = std::sqrt(2 * off) / n / std::sqrt(30.0);
  EXPECT_NEAR(mean, M.trace() / n, 4 * se);
  EXPECT_GT(se, 1e-3);  // the bound is a real one, not zero
}

}  // namespace
}  // namespace attnpaths
