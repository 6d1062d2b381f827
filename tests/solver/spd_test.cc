// SpdFactor and the in-place Cholesky routines (solver/spd.h) on both sides of
// kSmallSpd (Eigen below, LAPACK above) against Eigen's LDLT of the same
// matrix: ln det, solve and inverse; a matrix that is not positive definite
// is reported as such.
#include "solver/spd.h"

#include <gtest/gtest.h>

#include <Eigen/Cholesky>
#include <Eigen/Eigenvalues>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>

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

// G⁻¹ and ln det G straight from G (block LDLᵀ by halving) against Eigen's
// LDLT: below, at and above the recursion's base (24 rows), on both sides of
// the switch to triangular updates (128 rows) and of kSmallSpd. The strict
// upper triangle of G is not read (NaN there changes nothing), the result is
// exactly symmetric, and a matrix that is not positive definite is reported.
TEST_P(SpdTest, InverseWithoutFactorMatchesEigen) {
  const Eigen::Index n = GetParam();
  if (n > kEigenInverseSize) GTEST_SKIP() << "meant for the Grams of a solve";
  const Eigen::MatrixXd G = RandomSpd(n, 11 + static_cast<unsigned>(n));
  const Eigen::LDLT<Eigen::MatrixXd> ldlt(G);
  const Eigen::MatrixXd inverse = ldlt.solve(Eigen::MatrixXd::Identity(n, n));
  const double log_det = ldlt.vectorD().array().log().sum();

  Eigen::MatrixXd A = G;
  A.triangularView<Eigen::StrictlyUpper>().setConstant(std::nan(""));
  double ld = 0, condition = 0;
  ASSERT_TRUE(SpdInverseInPlace(&A, &ld, &condition));
  const double norm1 = G.cwiseAbs().colwise().sum().maxCoeff();
  const double inverse_norm1 = inverse.cwiseAbs().colwise().sum().maxCoeff();
  EXPECT_NEAR(condition, norm1 * inverse_norm1, 1e-10 * norm1 * inverse_norm1);
  EXPECT_LT((A - inverse).norm(), 1e-12 * inverse.norm());
  EXPECT_LT((A * G - Eigen::MatrixXd::Identity(n, n)).norm(), 1e-12 * std::sqrt(double(n)));
  EXPECT_EQ((A - A.transpose()).cwiseAbs().maxCoeff(), 0.0);
  EXPECT_NEAR(ld, log_det, 1e-12 * (std::abs(log_det) + 1));

  Eigen::MatrixXd indefinite = G;
  indefinite(n - 1, n - 1) = -1;
  EXPECT_FALSE(SpdInverseInPlace(&indefinite, &ld));
  // Every diagonal entry positive, one eigenvalue negative: found in a Schur
  // complement, not on the diagonal.
  const double lowest = Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(G).eigenvalues()(0);
  Eigen::MatrixXd shifted = G;
  shifted.diagonal().array() -= lowest + 0.02;
  if (shifted.diagonal().minCoeff() > 0) {
    EXPECT_FALSE(SpdInverseInPlace(&shifted, &ld));
  }
  Eigen::MatrixXd nan = G;
  nan(n / 2, n / 2) = std::nan("");
  EXPECT_FALSE(SpdInverseInPlace(&nan, &ld));
  // With the condition asked for, a non-finite entry of the lower triangle
  // (off the diagonal, where no pivot sees it) is refused with κ₁ = ∞.
  for (const double bad : {std::nan(""), std::numeric_limits<double>::infinity(),
                           -std::numeric_limits<double>::infinity()}) {
    Eigen::MatrixXd off = G;
    off(n - 1, 0) = bad;
    condition = 0;
    EXPECT_FALSE(SpdInverseInPlace(&off, &ld, &condition)) << bad;
    EXPECT_EQ(condition, std::numeric_limits<double>::infinity()) << bad;
  }
}

// SpdInverseInPlace's accuracy up to kInverseConditionLimit, on Grams of a
// solve's form (rank 60 + T·I) against an inverse in long double: within 50
// times the error of the Cholesky route's G⁻¹ and below 1e-12 relative. T is
// lowered until κ₁ is just under the limit (the worst case the solver accepts).
TEST(SpdInverse, AccurateUpToTheConditionLimit) {
  using LongMatrix = Eigen::Matrix<long double, Eigen::Dynamic, Eigen::Dynamic>;
  for (const Eigen::Index n : {Eigen::Index{100}, Eigen::Index{200}, kSmallSpd}) {
    std::srand(41 + static_cast<unsigned>(n));
    const Eigen::MatrixXd R = Eigen::MatrixXd::Random(n, 60);
    const Eigen::MatrixXd K = R * R.transpose() / 60.0;
    Eigen::MatrixXd G, A;
    double T = 1, condition = 0, ld = 0;
    for (; T > 1e-8; T *= 0.8) {  // the smallest T with κ₁ ≤ the limit
      Eigen::MatrixXd trial = K + T * Eigen::MatrixXd::Identity(n, n), inverse = trial;
      ASSERT_TRUE(SpdInverseInPlace(&inverse, &ld, &condition));
      if (condition > kInverseConditionLimit) break;
      G = trial;
      A = inverse;
    }
    ASSERT_GT(G.size(), 0);
    const Eigen::MatrixXd exact =
        G.cast<long double>().ldlt().solve(LongMatrix::Identity(n, n)).cast<double>();
    Eigen::MatrixXd L = G;
    ASSERT_TRUE(CholeskyInPlace(&L));
    ASSERT_TRUE(InverseFromCholeskyInPlace(&L));
    const Eigen::MatrixXd through_factor = L.selfadjointView<Eigen::Lower>();
    const double error = (A - exact).norm() / exact.norm();
    const double factor_error = (through_factor - exact).norm() / exact.norm();
    EXPECT_LT(error, 1e-12) << "n = " << n;
    EXPECT_LT(error, 50 * factor_error) << "n = " << n;
    std::printf("n = %ld: relative error %.2e (Cholesky route %.2e) at the limit\n",
                static_cast<long>(n), error, factor_error);
  }
}

INSTANTIATE_TEST_SUITE_P(BothSidesOfSmallSpd, SpdTest,
                         ::testing::Values(Eigen::Index{1}, Eigen::Index{25}, Eigen::Index{40},
                                           Eigen::Index{128}, Eigen::Index{129}, kSmallSpd,
                                           kSmallSpd + 1, Eigen::Index{400}, kEigenInverseSize,
                                           kEigenInverseSize + 1));

}  // namespace
}  // namespace attnpaths
