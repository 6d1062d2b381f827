// SpdFactor and the in-place Cholesky routines (solver/spd.h) on both sides of
// kSmallSpd (Eigen below, LAPACK above) against Eigen's LDLT of the same
// matrix: ln det, solve and inverse; a matrix that is not positive definite
// is reported as such.
#include "solver/spd.h"

#include <gtest/gtest.h>

#include <Eigen/Cholesky>
#include <cmath>
#include <cstdlib>

namespace attnpaths {
namespace {

Eigen::MatrixXd RandomSpd(Eigen::Index n, unsigned seed) {
  std::srand(seed);
  const Eigen::MatrixXd A = Eigen::MatrixXd::Random(n, n);
  return A * A.transpose() / static_cast<double>(n) + 0.1 * Eigen::MatrixXd::Identity(n, n);
}

class SpdTest : public ::testing::TestWithParam<Eigen::Index> {};

TEST_P(SpdTest, MatchesEigenLdlt) {
  const Eigen::Index n = GetParam();
  const Eigen::MatrixXd G = RandomSpd(n, 3 + static_cast<unsigned>(n));
  const Eigen::MatrixXd B = Eigen::MatrixXd::Random(n, 3);
  const Eigen::LDLT<Eigen::MatrixXd> ldlt(G);
  const double log_det = ldlt.vectorD().array().log().sum();
  const Eigen::MatrixXd X = ldlt.solve(B);
  const Eigen::MatrixXd inverse = ldlt.solve(Eigen::MatrixXd::Identity(n, n));

  SpdFactor f;
  ASSERT_TRUE(f.Factorize(G));
  EXPECT_NEAR(f.log_det(), log_det, 1e-10 * std::abs(log_det) + 1e-10);
  EXPECT_LT((f.Solve(B) - X).norm(), 1e-10 * X.norm());
  const Eigen::MatrixXd inv = f.Inverse();
  EXPECT_LT((inv - inverse).norm(), 1e-10 * inverse.norm());
  EXPECT_EQ((inv - inv.transpose()).norm(), 0.0);

  Eigen::MatrixXd L = G;
  ASSERT_TRUE(CholeskyInPlace(&L));
  Eigen::MatrixXd Y = B;
  CholeskySolveInPlace(L, &Y);
  EXPECT_LT((Y - X).norm(), 1e-10 * X.norm());
  ASSERT_TRUE(InverseFromCholeskyInPlace(&L));
  const Eigen::MatrixXd lower = L.triangularView<Eigen::Lower>();
  const Eigen::MatrixXd expected_lower = inverse.triangularView<Eigen::Lower>();
  EXPECT_LT((lower - expected_lower).norm(), 1e-10 * inverse.norm());

  Eigen::MatrixXd indefinite = G;
  indefinite(n / 2, n / 2) = -1;
  EXPECT_FALSE(SpdFactor().Factorize(indefinite));
  EXPECT_FALSE(CholeskyInPlace(&indefinite));
}

// The fused factorisation (L and L⁻¹ by one recursion, then G⁻¹ = L⁻ᵀL⁻¹)
// against Eigen's LLT and LDLT: L Lᵀ = G, L⁻¹ L = I, G⁻¹ against the LDLT
// solve; below, at and above the recursion's base (24 rows) and up to kSmallSpd.
TEST_P(SpdTest, FusedFactorAndInverseMatchEigen) {
  const Eigen::Index n = GetParam();
  if (n > kSmallSpd) GTEST_SKIP() << "the fused route is for Grams up to kSmallSpd rows";
  const Eigen::MatrixXd G = RandomSpd(n, 11 + static_cast<unsigned>(n));
  Eigen::MatrixXd A = G, W;
  ASSERT_TRUE(CholeskyAndTriangularInverse(&A, &W));
  const Eigen::MatrixXd L = A.triangularView<Eigen::Lower>();
  const Eigen::MatrixXd Li = W.triangularView<Eigen::Lower>();
  const Eigen::MatrixXd L_eigen = Eigen::LLT<Eigen::MatrixXd>(G).matrixL();
  EXPECT_LT((L - L_eigen).norm(), 1e-12 * L_eigen.norm());
  EXPECT_LT((L * L.transpose() - G).norm(), 1e-13 * G.norm());
  EXPECT_LT((Li * L - Eigen::MatrixXd::Identity(n, n)).norm(), 1e-12 * std::sqrt(double(n)));
  // The strict upper triangle of G is neither read nor written.
  Eigen::MatrixXd marked = G;
  marked.triangularView<Eigen::StrictlyUpper>().setConstant(7.0);
  Eigen::MatrixXd W2;
  ASSERT_TRUE(CholeskyAndTriangularInverse(&marked, &W2));
  EXPECT_EQ((marked.triangularView<Eigen::Lower>().toDenseMatrix() - L).cwiseAbs().maxCoeff(), 0.0);
  if (n > 1) {
    EXPECT_EQ(marked(0, n - 1), 7.0);
  }

  InverseFromTriangularInverseInPlace(&W);
  const Eigen::MatrixXd inverse =
      Eigen::LDLT<Eigen::MatrixXd>(G).solve(Eigen::MatrixXd::Identity(n, n));
  const Eigen::MatrixXd lower = W.triangularView<Eigen::Lower>();
  const Eigen::MatrixXd expected_lower = inverse.triangularView<Eigen::Lower>();
  EXPECT_LT((lower - expected_lower).norm(), 1e-12 * inverse.norm());

  Eigen::MatrixXd indefinite = G;
  indefinite(n - 1, n - 1) = -1;
  EXPECT_FALSE(CholeskyAndTriangularInverse(&indefinite, &W));
  Eigen::MatrixXd nan = G;
  nan(n / 2, n / 2) = std::nan("");
  EXPECT_FALSE(CholeskyAndTriangularInverse(&nan, &W));
}

INSTANTIATE_TEST_SUITE_P(BothSidesOfSmallSpd, SpdTest,
                         ::testing::Values(Eigen::Index{1}, Eigen::Index{25}, Eigen::Index{40},
                                           kSmallSpd, kSmallSpd + 1, Eigen::Index{400},
                                           kEigenInverseSize, kEigenInverseSize + 1));

}  // namespace
}  // namespace attnpaths
