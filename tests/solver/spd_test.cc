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

INSTANTIATE_TEST_SUITE_P(BothSidesOfSmallSpd, SpdTest,
                         ::testing::Values(Eigen::Index{1}, Eigen::Index{25}, Eigen::Index{40},
                                           kSmallSpd, kSmallSpd + 1, Eigen::Index{400},
                                           kEigenInverseSize, kEigenInverseSize + 1));

}  // namespace
}  // namespace attnpaths
