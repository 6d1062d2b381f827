// The action S(U) of theory.md §3: its value against an independent
// evaluation of the formula, the elimination of U_a, and the analytic
// gradient against central finite differences.
#include "solver/action.h"

#include <gtest/gtest.h>

#include <Eigen/Core>
#include <Eigen/Eigenvalues>
#include <cmath>
#include <cstdio>
#include <string>
#include <unsupported/Eigen/KroneckerProduct>
#include <vector>

#include "kernels/path_inputs.h"
#include "kernels/path_kernel.h"
#include "kernels/paths.h"
#include "solver/order_parameters.h"
#include "tests/support/brute_force.h"
#include "tests/support/finite_difference.h"
#include "tests/support/random_inputs.h"
#include "tests/support/random_problem.h"
#include "tests/support/theory_action.h"

namespace attnpaths {
namespace {

using test_util::RelativeError;
using test_util::Rng;

// A random SPD point for D outputs: every U_ℓ ((m_ℓ D) × (m_ℓ D)) random SPD
// with off-diagonal entries of the size of the diagonal ones, scaled like
// U_GP; with `free_readout` a random SPD U_a (D × D) follows.
std::vector<Eigen::MatrixXd> RandomSpdPoint(const Architecture& arch, Rng& rng, Eigen::Index D = 1,
                                            bool free_readout = false) {
  const Paths paths(arch.heads_per_layer());
  const OrderParameters gp = GpOrderParameters(arch, D);
  std::vector<Eigen::MatrixXd> U;
  for (int l = 1; l <= arch.L(); ++l) {
    U.push_back(test_util::RandomSpd(paths.m(l) * D, rng, gp.U[static_cast<size_t>(l - 1)](0, 0)));
  }
  if (free_readout) U.push_back(test_util::RandomSpd(D, rng, gp.U_a(0, 0)));
  return U;
}

std::string ShapeName(const std::vector<Eigen::Index>& H) {
  std::string s = "H";
  for (auto h : H) s += "_" + std::to_string(h);
  return s;
}

struct GradientCase {
  std::vector<Eigen::Index> heads;
  Eigen::Index D;
  bool free_readout = false;  // U_a a free variable (its gradient checked too)
};

class ActionGradientTest : public ::testing::TestWithParam<GradientCase> {};

// theory.md §3 "Gradient" and §9: the analytic ∂S/∂U_ℓ (and ∂S/∂U_a when U_a
// is free) against central differences of S in every independent entry (u_ij
// and u_ji moved together, so the off-diagonal derivative is 2 (∂S/∂U)_ij),
// at random SPD points, for both kernel strategies.
TEST_P(ActionGradientTest, MatchesCentralDifferences) {
  const GradientCase& c = GetParam();
  Rng rng(1000 + static_cast<std::uint32_t>(c.heads.size() * 10 + c.heads[0] + c.D * 100 +
                                            c.free_readout * 7));
  test_util::ProblemShape shape;
  shape.D = c.D;
  const auto pr = test_util::MakeRandomProblem(c.heads, rng, shape);
  const double T = 0.25;
  const ReadoutMode mode = c.free_readout ? ReadoutMode::kFree : ReadoutMode::kEliminated;
  double worst_gradient_error = 0;
  for (KernelStrategy strategy : {KernelStrategy::kPrecomputed, KernelStrategy::kFactored}) {
    SCOPED_TRACE(KernelStrategyName(strategy));
    const PathKernel kernel(ComputePathInputs(pr.arch, pr.X, Split::kTrain), {strategy});
    const Action action(pr.arch, kernel, pr.Y, T, mode);
    for (int point = 0; point < 2; ++point) {
      SCOPED_TRACE("point " + std::to_string(point));
      const std::vector<Eigen::MatrixXd> U = RandomSpdPoint(pr.arch, rng, c.D, c.free_readout);
      std::vector<Eigen::MatrixXd> grad;
      const ActionValue v = action.Evaluate(U, &grad);
      ASSERT_TRUE(v.ok) << v.failure;
      ASSERT_EQ(grad.size(), U.size());
      for (size_t l = 0; l < U.size(); ++l) {
        ASSERT_EQ(grad[l].rows(), U[l].rows());
        ASSERT_EQ(grad[l].cols(), U[l].cols());
        // Exactly symmetric (theory.md §3: the gradient is a symmetric matrix).
        EXPECT_EQ((grad[l] - grad[l].transpose()).cwiseAbs().maxCoeff(), 0.0) << "layer " << l + 1;
      }
      auto S = [&](const Eigen::VectorXd& u) {
        const ActionValue w = action.Evaluate(test_util::UnpackSymmetric(u, U));
        EXPECT_TRUE(w.ok) << w.failure;
        return w.S;
      };
      const Eigen::VectorXd fd =
          test_util::FiniteDifferenceGradient(S, test_util::PackSymmetric(U), 1e-3);
      const Eigen::VectorXd analytic = test_util::IndependentGradient(grad);
      const double err = RelativeError(analytic, fd);
      EXPECT_LE(err, 1e-6) << "analytic\n"
                           << analytic.transpose() << "\nfinite differences\n"
                           << fd.transpose();
      worst_gradient_error = std::max(worst_gradient_error, err);
    }
  }
  std::printf("largest relative error, analytic vs central differences: %.2e\n",
              worst_gradient_error);
}

// For U_ℓ = (M_ℓ + M_ℓᵀ)/2 with unconstrained M_ℓ the same matrix is ∂S/∂M_ℓ
// (theory.md §3): perturb single entries of a non-symmetric M.
TEST_P(ActionGradientTest, IsTheGradientInTheUnsymmetrisedMatrix) {
  const GradientCase& c = GetParam();
  Rng rng(2000 + static_cast<std::uint32_t>(c.heads.size() * 10 + c.heads[0] + c.D * 100 +
                                            c.free_readout * 7));
  test_util::ProblemShape shape;
  shape.D = c.D;
  const auto pr = test_util::MakeRandomProblem(c.heads, rng, shape);
  const PathKernel kernel(ComputePathInputs(pr.arch, pr.X, Split::kTrain));
  const Action action(pr.arch, kernel, pr.Y, 0.4,
                      c.free_readout ? ReadoutMode::kFree : ReadoutMode::kEliminated);
  std::vector<Eigen::MatrixXd> M = RandomSpdPoint(pr.arch, rng, c.D, c.free_readout);
  for (auto& m : M) m += 0.05 * test_util::RandomNormal(m.rows(), m.cols(), rng);  // not symmetric
  std::vector<Eigen::MatrixXd> grad;
  ASSERT_TRUE(action.Evaluate(M, &grad).ok);
  double worst = 0, scale = 0;
  for (size_t l = 0; l < M.size(); ++l) {
    for (Eigen::Index i = 0; i < M[l].rows(); ++i) {
      for (Eigen::Index j = 0; j < M[l].cols(); ++j) {
        const double d = test_util::CentralDerivative(
            [&](double t) {
              auto P = M;
              P[l](i, j) += t;
              return action.Evaluate(P).S;
            },
            1e-3);
        worst = std::max(worst, std::abs(d - grad[l](i, j)));
        scale = std::max(scale, std::abs(grad[l](i, j)));
      }
    }
  }
  EXPECT_LE(worst / scale, 1e-6);
}

// L = 1, 2, 3 with D = 1, 2, 3 (theory.md §9), and U_a free at D = 2, 3.
INSTANTIATE_TEST_SUITE_P(
    HeadCounts, ActionGradientTest,
    ::testing::Values(GradientCase{{1}, 1}, GradientCase{{3}, 1}, GradientCase{{2, 2}, 1},
                      GradientCase{{3, 2}, 1}, GradientCase{{2, 2, 2}, 1},
                      GradientCase{{1, 3, 2}, 1}, GradientCase{{1}, 2}, GradientCase{{3}, 2},
                      GradientCase{{2, 2}, 2}, GradientCase{{3, 2}, 3}, GradientCase{{1, 3, 2}, 2},
                      GradientCase{{2, 1, 2}, 3}, GradientCase{{3}, 3}, GradientCase{{1}, 2, true},
                      GradientCase{{2, 2}, 3, true}, GradientCase{{1, 2, 2}, 2, true},
                      GradientCase{{2, 1, 2}, 3, true}),
    [](const auto& info) {
      return ShapeName(info.param.heads) + "_D" + std::to_string(info.param.D) +
             (info.param.free_readout ? "_free" : "");
    });

struct ValueCase {
  std::vector<Eigen::Index> heads;
  Eigen::Index D;
};

class ActionValueTest : public ::testing::TestWithParam<ValueCase> {};

// S, its entropy and energy against theory.md §3/§9 evaluated independently
// (tests/support/theory_action.h: G entry by entry, energies from its
// eigen-decomposition) at the library's U_a; U_a itself is the minimiser of S
// over the D × D readout matrix (∂S/∂U_a = 0 in every independent entry by
// central differences, S larger along random symmetric directions).
TEST_P(ActionValueTest, MatchesTheFormulaAndEliminatesUa) {
  const ValueCase& c = GetParam();
  Rng rng(3000 + static_cast<std::uint32_t>(c.heads.size() * 10 + c.heads[0] + 100 * c.D));
  test_util::ProblemShape shape;
  shape.D = c.D;
  const auto pr = test_util::MakeRandomProblem(c.heads, rng, shape);
  const double T = 0.3;
  const auto xi = test_util::BrutePathInputs(pr.arch, pr.X, Split::kTrain);
  for (int point = 0; point < 4; ++point) {
    const KernelStrategy strategy =
        point % 2 ? KernelStrategy::kFactored : KernelStrategy::kPrecomputed;
    SCOPED_TRACE(KernelStrategyName(strategy));
    const PathKernel kernel(ComputePathInputs(pr.arch, pr.X, Split::kTrain), {strategy});
    const Action action(pr.arch, kernel, pr.Y, T);
    const std::vector<Eigen::MatrixXd> U = RandomSpdPoint(pr.arch, rng, c.D);
    const ActionValue v = action.Evaluate(U);
    ASSERT_TRUE(v.ok) << v.failure;
    ASSERT_EQ(v.U_a.rows(), c.D);
    const auto ref = test_util::TheoryAction(pr.arch, xi, pr.Y, T, U, v.U_a);
    EXPECT_NEAR(v.entropy, ref.entropy, 1e-11 * std::abs(ref.entropy));
    EXPECT_NEAR(v.energy, ref.energy, 1e-11 * std::abs(ref.energy));
    EXPECT_NEAR(v.S, ref.S(), 1e-11 * std::abs(ref.S()));
    // U_a is a stationary point of S over the readout matrix …
    auto S_of_Ua = [&](const Eigen::VectorXd& u) {
      return test_util::TheoryAction(pr.arch, xi, pr.Y, T, U,
                                     test_util::UnpackSymmetric(u, {v.U_a})[0])
          .S();
    };
    const Eigen::VectorXd u0 = test_util::PackSymmetric({v.U_a});
    const Eigen::VectorXd dS = test_util::FiniteDifferenceGradient(S_of_Ua, u0, 1e-3);
    // … against the size of one of the terms that cancel there, n_{L+1}/σ_a².
    const double scale = pr.arch.widths.back() / pr.arch.variances.back();
    EXPECT_LE(dS.cwiseAbs().maxCoeff(), 1e-7 * scale) << "dS/dU_a " << dS.transpose();
    // … and a minimum.
    for (int k = 0; k < 3; ++k) {
      const Eigen::MatrixXd dir = 1e-2 * v.U_a.norm() * test_util::RandomSymmetric(c.D, rng);
      EXPECT_GT(test_util::TheoryAction(pr.arch, xi, pr.Y, T, U, v.U_a + dir).S(), ref.S());
    }
    EXPECT_EQ(v.U_a, EliminateUa(pr.arch, U.back()));
  }
}

INSTANTIATE_TEST_SUITE_P(HeadCounts, ActionValueTest,
                         ::testing::Values(ValueCase{{1}, 1}, ValueCase{{3}, 1},
                                           ValueCase{{3, 2}, 1}, ValueCase{{1, 3, 2}, 1},
                                           ValueCase{{2}, 2}, ValueCase{{3, 2}, 3},
                                           ValueCase{{1, 3, 2}, 2}),
                         [](const auto& info) {
                           return ShapeName(info.param.heads) + "_D" + std::to_string(info.param.D);
                         });

// The U_a quadratic of theory.md §3 for both signs of β (H_L n_L ≷ n_{L+1}):
// the root is positive and solves U_a² + β U_a − γ = 0.
TEST(EliminateUaTest, SolvesTheQuadraticForBothSignsOfBeta) {
  Rng rng(4);
  auto pr = test_util::MakeRandomProblem({2, 3}, rng);
  const Eigen::MatrixXd U_L = test_util::RandomSpd(3, rng);
  for (double na : {1.0, 5.0, 15.0, 1e3, 1e9}) {
    pr.arch.widths.back() = na;
    const double sa2 = pr.arch.variances.back(), sL2 = pr.arch.variances[2];
    const double nL = pr.arch.widths[1];
    const double beta = sa2 * (3 * nL / na - 1);
    const double gamma = sa2 * nL * U_L.trace() / (na * sL2);
    const Eigen::MatrixXd Ua = EliminateUa(pr.arch, U_L);
    ASSERT_EQ(Ua.rows(), 1);
    EXPECT_GT(Ua(0, 0), 0);
    EXPECT_NEAR(Ua(0, 0) * Ua(0, 0) + beta * Ua(0, 0) - gamma, 0.0,
                1e-14 * (Ua(0, 0) * Ua(0, 0) + std::abs(beta * Ua(0, 0)) + gamma));
  }
}

// The matrix root of theory.md §9: U_a is SPD, commutes with C = tr_L U_L and
// solves U_a² + β U_a = γ̃ C, for both signs of β, D = 2 and 3.
TEST(EliminateUaTest, MatrixRootSolvesTheMatrixQuadratic) {
  Rng rng(41);
  auto pr = test_util::MakeRandomProblem({2, 3}, rng);
  for (Eigen::Index D : {2, 3}) {
    const Eigen::MatrixXd U_L = test_util::RandomSpd(3 * D, rng);
    const Eigen::MatrixXd C = test_util::PartialTraceByLoops(U_L, 3);
    for (double na : {1.0, 5.0, 15.0, 1e3, 1e9}) {
      SCOPED_TRACE("D = " + std::to_string(D) + ", n_a = " + std::to_string(na));
      pr.arch.widths.back() = na;
      const double sa2 = pr.arch.variances.back(), sL2 = pr.arch.variances[2];
      const double nL = pr.arch.widths[1];
      const double beta = sa2 * (3 * nL / na - 1);
      const double gamma_tilde = sa2 * nL / (na * sL2);
      const Eigen::MatrixXd Ua = EliminateUa(pr.arch, U_L);
      ASSERT_EQ(Ua.rows(), D);
      EXPECT_EQ((Ua - Ua.transpose()).cwiseAbs().maxCoeff(), 0.0);
      Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(Ua);
      EXPECT_GT(es.eigenvalues().minCoeff(), 0);
      const double size = (Ua * Ua).norm() + std::abs(beta) * Ua.norm() + gamma_tilde * C.norm();
      EXPECT_LE((Ua * Ua + beta * Ua - gamma_tilde * C).norm(), 1e-13 * size);
      EXPECT_LE((Ua * C - C * Ua).norm(), 1e-13 * Ua.norm() * C.norm());
    }
  }
}

// At U_ℓ = Ū_ℓ ⊗ I_D (no coupling between outputs) the §9 action splits into
// one §3 action per label column, S_D(Ū ⊗ I; Y) = Σ_d S_1(Ū; y_d), and the
// output-diagonal blocks of its gradient add up to Σ_d ∂S_1/∂Ū: an identity
// between the D-output code and the one-output code (D = 1 is theory.md §3).
// The two kernel strategies agree to rounding at every point.
TEST(ActionOutputsTest, UncoupledOutputsSplitIntoOneActionPerColumn) {
  Rng rng(6);
  const Eigen::Index D = 3;
  test_util::ProblemShape shape;
  shape.D = D;
  const auto pr = test_util::MakeRandomProblem({2, 3}, rng, shape);
  const double T = 0.2;
  for (KernelStrategy strategy : {KernelStrategy::kPrecomputed, KernelStrategy::kFactored}) {
    SCOPED_TRACE(KernelStrategyName(strategy));
    const PathKernel kernel(ComputePathInputs(pr.arch, pr.X, Split::kTrain), {strategy});
    const Action several(pr.arch, kernel, pr.Y, T);
    const std::vector<Eigen::MatrixXd> Ubar = RandomSpdPoint(pr.arch, rng);
    std::vector<Eigen::MatrixXd> U;
    for (const auto& u : Ubar) {
      U.push_back(Eigen::kroneckerProduct(u, Eigen::MatrixXd::Identity(D, D)));
    }
    std::vector<Eigen::MatrixXd> grad;
    const ActionValue v = several.Evaluate(U, &grad);
    ASSERT_TRUE(v.ok) << v.failure;
    double S = 0;
    std::vector<Eigen::MatrixXd> sum;
    for (Eigen::Index d = 0; d < D; ++d) {
      const Action one(pr.arch, kernel, pr.Y.col(d), T);
      std::vector<Eigen::MatrixXd> g;
      const ActionValue w = one.Evaluate(Ubar, &g);
      ASSERT_TRUE(w.ok) << w.failure;
      S += w.S;
      // U_a = u I_D with u the one-output root.
      EXPECT_LE((v.U_a - w.U_a(0, 0) * Eigen::MatrixXd::Identity(D, D)).cwiseAbs().maxCoeff(),
                1e-14 * w.U_a(0, 0));
      if (sum.empty()) {
        sum = g;
      } else {
        for (size_t l = 0; l < g.size(); ++l) sum[l] += g[l];
      }
    }
    EXPECT_NEAR(v.S, S, 1e-12 * std::abs(S));
    for (size_t l = 0; l < grad.size(); ++l) {
      const Eigen::Index m = Ubar[l].rows();
      Eigen::MatrixXd diagonal_blocks = Eigen::MatrixXd::Zero(m, m);
      for (Eigen::Index i = 0; i < m; ++i) {
        for (Eigen::Index j = 0; j < m; ++j) {
          for (Eigen::Index d = 0; d < D; ++d)
            diagonal_blocks(i, j) += grad[l](i * D + d, j * D + d);
        }
      }
      EXPECT_LE(RelativeError(diagonal_blocks, sum[l]), 1e-11) << "layer " << l + 1;
    }
  }
  // Precomputed and factored storage: the same S and gradient at a coupled point.
  const std::vector<Eigen::MatrixXd> U = RandomSpdPoint(pr.arch, rng, D);
  std::vector<ActionValue> values;
  std::vector<std::vector<Eigen::MatrixXd>> grads(2);
  int k = 0;
  for (KernelStrategy strategy : {KernelStrategy::kPrecomputed, KernelStrategy::kFactored}) {
    const PathKernel kernel(ComputePathInputs(pr.arch, pr.X, Split::kTrain), {strategy});
    values.push_back(
        Action(pr.arch, kernel, pr.Y, T).Evaluate(U, &grads[static_cast<size_t>(k++)]));
    ASSERT_TRUE(values.back().ok);
  }
  EXPECT_NEAR(values[0].S, values[1].S, 1e-12 * std::abs(values[0].S));
  for (size_t l = 0; l < U.size(); ++l) {
    EXPECT_LE(RelativeError(grads[1][l], grads[0][l]), 1e-11) << "layer " << l + 1;
  }
}

TEST(PartialTraceTest, SumsTheDiagonalBlocks) {
  Rng rng(5);
  const Eigen::MatrixXd U = test_util::RandomSymmetric(6, rng);
  for (Eigen::Index H : {1, 2, 3, 6}) {
    EXPECT_LE((PartialTrace(U, H) - test_util::PartialTraceByLoops(U, H)).cwiseAbs().maxCoeff(),
              1e-15);
  }
  const Eigen::MatrixXd M = test_util::RandomSymmetric(2, rng);
  const Eigen::MatrixXd B = BlockDiagonal(3, M);
  EXPECT_EQ(PartialTrace(B, 3), 3 * M);
  EXPECT_EQ(B.block(2, 0, 2, 2), Eigen::MatrixXd::Zero(2, 2));
  EXPECT_EQ(B.block(4, 4, 2, 2), M);
}

}  // namespace
}  // namespace attnpaths
