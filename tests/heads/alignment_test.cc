// Kernel–task alignment (theory.md §7) on kernels with a known spectrum.
#include "solver/alignment.h"

#include <gtest/gtest.h>

#include <Eigen/QR>
#include <algorithm>
#include <cmath>
#include <random>

#include "kernels/error.h"

namespace attnpaths {
namespace {

struct KnownKernel {
  Eigen::MatrixXd K, Q;    // K = Q diag(lambda) Qᵀ
  Eigen::VectorXd lambda;  // distinct, in a shuffled order
};

KnownKernel MakeKernel(Eigen::Index P, unsigned seed) {
  std::mt19937_64 g(seed);
  std::normal_distribution<double> normal;
  const Eigen::MatrixXd A = Eigen::MatrixXd::NullaryExpr(P, P, [&] { return normal(g); });
  KnownKernel k;
  k.Q = Eigen::HouseholderQR<Eigen::MatrixXd>(A).householderQ();
  k.lambda.resize(P);
  std::vector<int> order(static_cast<size_t>(P));
  for (Eigen::Index i = 0; i < P; ++i) order[static_cast<size_t>(i)] = static_cast<int>(i);
  std::shuffle(order.begin(), order.end(), g);
  for (Eigen::Index i = 0; i < P; ++i) k.lambda(i) = 0.1 + 1.5 * order[static_cast<size_t>(i)];
  k.K = k.Q * k.lambda.asDiagonal() * k.Q.transpose();
  return k;
}

// Rank of eigenvalue i in descending order.
Eigen::Index DescendingRank(const Eigen::VectorXd& lambda, Eigen::Index i) {
  Eigen::Index r = 0;
  for (Eigen::Index j = 0; j < lambda.size(); ++j) r += lambda(j) > lambda(i);
  return r;
}

TEST(Alignment, LabelsEqualToAnEigenvectorOverlapOnlyWithIt) {
  const Eigen::Index P = 40;
  const KnownKernel k = MakeKernel(P, 1);
  for (Eigen::Index m : {Eigen::Index{0}, Eigen::Index{7}, Eigen::Index{23}}) {
    // y = √P v_m has |y|² = P, like ±1 labels, so o_k = |v_k·y|/√P = δ_km.
    const Eigen::MatrixXd y = std::sqrt(static_cast<double>(P)) * k.Q.col(m);
    AlignmentOptions options;
    options.components = static_cast<int>(P);
    const KernelAlignment a = AlignKernel(k.K, y, options);
    const Eigen::Index r = DescendingRank(k.lambda, m);
    ASSERT_EQ(a.overlap.size(), P);
    for (Eigen::Index i = 0; i < P; ++i) {
      EXPECT_NEAR(a.overlap(i), i == r ? 1.0 : 0.0, 1e-10) << "component " << i;
      EXPECT_NEAR(a.cumulative(i), i >= r ? 1.0 : 0.0, 1e-10) << "component " << i;
    }
    // Labels along −v_m give the same overlaps (the sign of v_k is arbitrary).
    const KernelAlignment b = AlignKernel(k.K, -y, options);
    EXPECT_NEAR(b.overlap(r), 1.0, 1e-10);
  }
}

TEST(Alignment, EigenvaluesDescendAndCumulativeEndsAtOne) {
  const Eigen::Index P = 30;
  const KnownKernel k = MakeKernel(P, 2);
  std::mt19937_64 g(3);
  std::bernoulli_distribution coin;
  Eigen::MatrixXd y(P, 1);
  for (Eigen::Index i = 0; i < P; ++i) y(i, 0) = coin(g) ? 1.0 : -1.0;
  AlignmentOptions options;
  options.components = 100;  // more than P: P are reported
  const KernelAlignment a = AlignKernel(k.K, y, options);
  ASSERT_EQ(a.eigenvalues.size(), P);
  std::vector<double> sorted(k.lambda.data(), k.lambda.data() + P);
  std::sort(sorted.rbegin(), sorted.rend());
  for (Eigen::Index i = 0; i < P; ++i)
    EXPECT_NEAR(a.eigenvalues(i), sorted[static_cast<size_t>(i)], 1e-10);
  for (Eigen::Index i = 1; i < P; ++i) EXPECT_GE(a.cumulative(i), a.cumulative(i - 1));
  EXPECT_NEAR(a.cumulative(P - 1), 1.0, 1e-12);
  // Σ_k o_k² = |y|²/P = 1 for ±1 labels, and o_k² = A_k − A_{k−1}.
  EXPECT_NEAR(a.overlap.squaredNorm(), 1.0, 1e-12);
  EXPECT_NEAR(a.overlap(0) * a.overlap(0), a.cumulative(0), 1e-12);
  EXPECT_NEAR(a.trace, k.lambda.sum(), 1e-9);
  // Kernel–target alignment by its definition.
  const double kta = (y.transpose() * k.K * y)(0, 0) / (k.K.norm() * y.squaredNorm());
  EXPECT_NEAR(a.kernel_target_alignment, kta, 1e-12);

  options.components = 5;
  const KernelAlignment top = AlignKernel(k.K, y, options);
  ASSERT_EQ(top.overlap.size(), 5);
  EXPECT_NEAR((top.overlap - a.overlap.head(5)).cwiseAbs().maxCoeff(), 0.0, 1e-12);
}

TEST(Alignment, RankOneKernelOnTheLabelsIsPerfectlyAligned) {
  Eigen::MatrixXd y(6, 1);
  y << 1, -1, 1, 1, -1, -1;
  const Eigen::MatrixXd K = 2.5 * y * y.transpose();
  const KernelAlignment a = AlignKernel(K, y);
  EXPECT_NEAR(a.overlap(0), 1.0, 1e-12);
  EXPECT_NEAR(a.cumulative(0), 1.0, 1e-12);
  EXPECT_NEAR(a.kernel_target_alignment, 1.0, 1e-12);
  EXPECT_NEAR(a.eigenvalues(0), 15.0, 1e-12);
}

// Several outputs (theory.md §7, §9): the PD × PD kernel I_D ⊗ K₁ (the GP
// kernel's structure, (μ, d) order) has every eigenvalue λ_k of K₁ D times;
// the labels vec(Y) project on the first vector of each group with
// |projection|² = Σ_d (v_k · y_d)², the others get 0, and the cumulative
// alignment at the end of each group is Σ_{j ≤ k} Σ_d (v_j · y_d)² / |Y|².
// A coupled kernel (a random rotation of a known spectrum in R^{PD})
// against its own eigenvectors.
TEST(Alignment, SeveralOutputsUseVecYAndResolveRepeatedEigenvalues) {
  const Eigen::Index P = 12, D = 3;
  const KnownKernel k = MakeKernel(P, 5);
  std::mt19937_64 g(6);
  std::normal_distribution<double> normal;
  const Eigen::MatrixXd Y = Eigen::MatrixXd::NullaryExpr(P, D, [&] { return normal(g); });
  Eigen::MatrixXd K = Eigen::MatrixXd::Zero(P * D, P * D);
  for (Eigen::Index mu = 0; mu < P; ++mu) {
    for (Eigen::Index nu = 0; nu < P; ++nu) {
      for (Eigen::Index d = 0; d < D; ++d) K(mu * D + d, nu * D + d) = k.K(mu, nu);
    }
  }
  AlignmentOptions options;
  options.components = static_cast<int>(P * D);
  const KernelAlignment a = AlignKernel(K, Y, options);
  ASSERT_EQ(a.overlap.size(), P * D);
  const double y2 = Y.squaredNorm();
  double acc = 0;
  for (Eigen::Index i = 0; i < P; ++i) {
    // The eigenvector of K₁ with the i-th largest eigenvalue.
    Eigen::Index m = 0;
    while (DescendingRank(k.lambda, m) != i) ++m;
    const double p2 = (k.Q.col(m).transpose() * Y).squaredNorm();
    acc += p2;
    for (Eigen::Index r = 0; r < D; ++r) {
      EXPECT_NEAR(a.eigenvalues(i * D + r), k.lambda(m), 1e-12 * k.lambda.maxCoeff());
      EXPECT_NEAR(a.overlap(i * D + r), r == 0 ? std::sqrt(p2 / static_cast<double>(P)) : 0.0,
                  1e-10)
          << "component " << i * D + r;
    }
    EXPECT_NEAR(a.cumulative(i * D + D - 1), acc / y2, 1e-10);
  }
  // kernel-target alignment vec(Y)ᵀ K vec(Y) / (‖K‖_F |Y|²) by hand.
  double yKy = 0;
  for (Eigen::Index d = 0; d < D; ++d) yKy += Y.col(d).dot(k.K * Y.col(d));
  EXPECT_NEAR(a.kernel_target_alignment,
              yKy / (std::sqrt(static_cast<double>(D)) * k.K.norm() * y2), 1e-12);

  // A coupled PD × PD kernel with distinct eigenvalues: overlaps are |v_k · vec(Y)| / √P.
  const KnownKernel c = MakeKernel(P * D, 7);
  const KernelAlignment b = AlignKernel(c.K, Y, options);
  Eigen::VectorXd y(P * D);
  for (Eigen::Index mu = 0; mu < P; ++mu) {
    for (Eigen::Index d = 0; d < D; ++d) y(mu * D + d) = Y(mu, d);
  }
  for (Eigen::Index m = 0; m < P * D; ++m) {
    const Eigen::Index r = DescendingRank(c.lambda, m);
    EXPECT_NEAR(b.overlap(r), std::abs(c.Q.col(m).dot(y)) / std::sqrt(static_cast<double>(P)),
                1e-10);
  }
  EXPECT_THROW(AlignKernel(c.K, Y.leftCols(2)), Error);  // 12 x 2 labels for a 36 x 36 kernel
}

TEST(Alignment, BadInputNamesTheField) {
  const Eigen::MatrixXd K = Eigen::MatrixXd::Identity(4, 4);
  try {
    AlignKernel(K, Eigen::MatrixXd::Ones(3, 1));
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("labels shape: found 3 x 1, expected 4 x 1"),
              std::string::npos)
        << e.what();
  }
  EXPECT_THROW(AlignKernel(K, Eigen::MatrixXd::Zero(4, 1)), Error);
  EXPECT_THROW(AlignKernel(Eigen::MatrixXd::Ones(4, 3), Eigen::MatrixXd::Ones(4, 1)), Error);
  AlignmentOptions bad;
  bad.components = 0;
  try {
    AlignKernel(K, Eigen::MatrixXd::Ones(4, 1), bad);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("alignment.components: found 0"), std::string::npos);
  }
}

}  // namespace
}  // namespace attnpaths
