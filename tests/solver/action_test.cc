// The action S(U) of theory.md §3: its value against an independent
// evaluation of the formula, the elimination of U_a, and the analytic
// gradient against central finite differences.
#include "solver/action.h"

#include <gtest/gtest.h>

#include <Eigen/Core>
#include <cmath>
#include <string>
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

// A random SPD point: every U_ℓ random SPD with off-diagonal entries of the
// size of the diagonal ones, scaled like U_GP.
std::vector<Eigen::MatrixXd> RandomSpdPoint(const Architecture& arch, Rng& rng) {
  const Paths paths(arch.heads_per_layer());
  const OrderParameters gp = GpOrderParameters(arch);
  std::vector<Eigen::MatrixXd> U;
  for (int l = 1; l <= arch.L(); ++l) {
    U.push_back(test_util::RandomSpd(paths.m(l), rng, gp.U[static_cast<size_t>(l - 1)](0, 0)));
  }
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
};

class ActionGradientTest : public ::testing::TestWithParam<GradientCase> {};

// theory.md §3 "Gradient": the analytic ∂S/∂U_ℓ against central differences
// of S in every independent entry (u_ij and u_ji moved together, so the
// off-diagonal derivative is 2 (∂S/∂U)_ij), at random SPD points.
TEST_P(ActionGradientTest, MatchesCentralDifferences) {
  const GradientCase& c = GetParam();
  Rng rng(1000 + static_cast<std::uint32_t>(c.heads.size() * 10 + c.heads[0] + c.D * 100));
  test_util::ProblemShape shape;
  shape.D = c.D;
  const auto pr = test_util::MakeRandomProblem(c.heads, rng, shape);
  const double T = 0.25;
  for (KernelStrategy strategy : {KernelStrategy::kPrecomputed, KernelStrategy::kFactored}) {
    SCOPED_TRACE(KernelStrategyName(strategy));
    const PathKernel kernel(ComputePathInputs(pr.arch, pr.X, Split::kTrain), {strategy});
    const Action action(pr.arch, kernel, pr.Y, T);
    for (int point = 0; point < 2; ++point) {
      SCOPED_TRACE("point " + std::to_string(point));
      const std::vector<Eigen::MatrixXd> U = RandomSpdPoint(pr.arch, rng);
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
    }
  }
}

// For U_ℓ = (M_ℓ + M_ℓᵀ)/2 with unconstrained M_ℓ the same matrix is ∂S/∂M_ℓ
// (theory.md §3): perturb single entries of a non-symmetric M.
TEST_P(ActionGradientTest, IsTheGradientInTheUnsymmetrisedMatrix) {
  const GradientCase& c = GetParam();
  Rng rng(2000 + static_cast<std::uint32_t>(c.heads.size() * 10 + c.heads[0] + c.D * 100));
  test_util::ProblemShape shape;
  shape.D = c.D;
  const auto pr = test_util::MakeRandomProblem(c.heads, rng, shape);
  const PathKernel kernel(ComputePathInputs(pr.arch, pr.X, Split::kTrain));
  const Action action(pr.arch, kernel, pr.Y, 0.4);
  std::vector<Eigen::MatrixXd> M = RandomSpdPoint(pr.arch, rng);
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

INSTANTIATE_TEST_SUITE_P(HeadCounts, ActionGradientTest,
                         ::testing::Values(GradientCase{{1}, 1}, GradientCase{{3}, 1},
                                           GradientCase{{2, 2}, 1}, GradientCase{{3, 2}, 1},
                                           GradientCase{{2, 2, 2}, 1}, GradientCase{{1, 3, 2}, 1},
                                           GradientCase{{3}, 2}, GradientCase{{2, 2}, 2},
                                           GradientCase{{1, 3, 2}, 2}),
                         [](const auto& info) {
                           return ShapeName(info.param.heads) + "_D" + std::to_string(info.param.D);
                         });

class ActionValueTest : public ::testing::TestWithParam<std::vector<Eigen::Index>> {};

// S, its entropy and energy against theory.md §3 evaluated independently
// (tests/support/theory_action.h) at the library's U_a; U_a itself is the
// minimiser of S over the readout scalar (∂S/∂U_a = 0, S convex there).
TEST_P(ActionValueTest, MatchesTheFormulaAndEliminatesUa) {
  Rng rng(3000 + static_cast<std::uint32_t>(GetParam().size() * 10 + GetParam()[0]));
  test_util::ProblemShape shape;
  shape.D = 2;
  const auto pr = test_util::MakeRandomProblem(GetParam(), rng, shape);
  const double T = 0.3;
  const auto xi = test_util::BrutePathInputs(pr.arch, pr.X, Split::kTrain);
  for (int point = 0; point < 6; ++point) {
    const KernelStrategy strategy =
        point % 2 ? KernelStrategy::kFactored : KernelStrategy::kPrecomputed;
    SCOPED_TRACE(KernelStrategyName(strategy));
    const PathKernel kernel(ComputePathInputs(pr.arch, pr.X, Split::kTrain), {strategy});
    const Action action(pr.arch, kernel, pr.Y, T);
    const std::vector<Eigen::MatrixXd> U = RandomSpdPoint(pr.arch, rng);
    const ActionValue v = action.Evaluate(U);
    ASSERT_TRUE(v.ok) << v.failure;
    const auto ref = test_util::TheoryAction(pr.arch, xi, pr.Y, T, U, v.U_a);
    EXPECT_NEAR(v.entropy, ref.entropy, 1e-11 * std::abs(ref.entropy));
    EXPECT_NEAR(v.energy, ref.energy, 1e-11 * std::abs(ref.energy));
    EXPECT_NEAR(v.S, ref.S(), 1e-11 * std::abs(ref.S()));
    // U_a is the stationary point of S over U_a, and a minimum.
    auto S_of_Ua = [&](double t) {
      return test_util::TheoryAction(pr.arch, xi, pr.Y, T, U, v.U_a + t).S();
    };
    const double h = 1e-3 * v.U_a;
    const double dS = test_util::CentralDerivative(S_of_Ua, h);
    const double d2S = (S_of_Ua(h) - 2 * S_of_Ua(0) + S_of_Ua(-h)) / (h * h);
    EXPECT_LE(std::abs(dS), 1e-7 * std::abs(d2S) * v.U_a) << "dS/dU_a " << dS;
    EXPECT_GT(d2S, 0);
    EXPECT_DOUBLE_EQ(v.U_a, EliminateUa(pr.arch, U.back()));
  }
}

INSTANTIATE_TEST_SUITE_P(HeadCounts, ActionValueTest,
                         ::testing::Values(std::vector<Eigen::Index>{1},
                                           std::vector<Eigen::Index>{3},
                                           std::vector<Eigen::Index>{3, 2},
                                           std::vector<Eigen::Index>{1, 3, 2}),
                         [](const auto& info) { return ShapeName(info.param); });

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
    const double Ua = EliminateUa(pr.arch, U_L);
    EXPECT_GT(Ua, 0);
    EXPECT_NEAR(Ua * Ua + beta * Ua - gamma, 0.0, 1e-14 * (Ua * Ua + std::abs(beta * Ua) + gamma));
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
