// The analytic Hessian of the action (solver/action_hessian.h; theory.md §3,
// §9; issue 14 §1) against central differences of the analytic gradient
// (Richardson-extrapolated, tests/support/finite_difference.h) in every
// independent entry of every U_ℓ: L = 1, 2, 3, several head counts, D = 1, 2, 3,
// U_a eliminated (the Schur complement) and free, both kernel strategies, at
// random SPD points and at the solved saddle point (whose smallest eigenvalue
// then matches the finite-difference one).
#include "solver/action_hessian.h"

#include <gtest/gtest.h>

#include <Eigen/Eigenvalues>
#include <cstdio>
#include <string>
#include <vector>

#include "kernels/error.h"
#include "kernels/path_inputs.h"
#include "kernels/path_kernel.h"
#include "kernels/paths.h"
#include "solver/hessian.h"
#include "solver/order_parameters.h"
#include "solver/solve.h"
#include "tests/support/finite_difference.h"
#include "tests/support/random_inputs.h"
#include "tests/support/random_problem.h"

namespace attnpaths {
namespace {

using test_util::RelativeError;
using test_util::Rng;

struct HessianCase {
  std::vector<Eigen::Index> heads;
  Eigen::Index D;
  bool free_readout = false;
};

std::string CaseName(const ::testing::TestParamInfo<HessianCase>& info) {
  std::string s = "H";
  for (auto h : info.param.heads) s += "_" + std::to_string(h);
  s += "_D" + std::to_string(info.param.D);
  if (info.param.free_readout) s += "_free";
  return s;
}

// Every U_ℓ random SPD of the scale of U_GP (and a random U_a when free).
std::vector<Eigen::MatrixXd> RandomPoint(const Architecture& arch, Rng& rng, Eigen::Index D,
                                         bool free_readout) {
  const Paths paths(arch.heads_per_layer());
  const OrderParameters gp = GpOrderParameters(arch, D);
  std::vector<Eigen::MatrixXd> U;
  for (int l = 1; l <= arch.L(); ++l) {
    U.push_back(test_util::RandomSpd(paths.m(l) * D, rng, gp.U[static_cast<size_t>(l - 1)](0, 0)));
  }
  if (free_readout) U.push_back(test_util::RandomSpd(D, rng, gp.U_a(0, 0)));
  return U;
}

// ∂²(S/n_max)/∂u_k∂u_l by Richardson-extrapolated central differences of the
// analytic gradient (IndependentGradient), column by column.
Eigen::MatrixXd DifferencedHessian(const Action& action, const std::vector<Eigen::MatrixXd>& U) {
  const Eigen::VectorXd u0 = test_util::PackSymmetric(U);
  const Eigen::Index n = u0.size();
  Eigen::MatrixXd Hm(n, n);
  auto gradient = [&](const Eigen::VectorXd& u) -> Eigen::VectorXd {
    Eigen::VectorXd g;
    EXPECT_TRUE(IndependentGradient(action, test_util::UnpackSymmetric(u, U), &g));
    return g;
  };
  for (Eigen::Index k = 0; k < n; ++k) {
    const double h = 1e-3 * std::max(std::abs(u0(k)), 0.1);
    Eigen::VectorXd e = Eigen::VectorXd::Zero(n);
    e(k) = 1;
    auto central = [&](double s) -> Eigen::VectorXd {
      return (gradient(u0 + s * e) - gradient(u0 - s * e)) / (2 * s);
    };
    Hm.col(k) = (4 * central(h / 2) - central(h)) / 3;
  }
  return Hm;
}

class ActionHessianTest : public ::testing::TestWithParam<HessianCase> {};

TEST_P(ActionHessianTest, MatchesCentralDifferencesOfTheGradient) {
  const HessianCase& c = GetParam();
  Rng rng(4000 + static_cast<std::uint32_t>(c.heads.size() * 10 + c.heads[0] + c.D * 100 +
                                            c.free_readout * 7));
  test_util::ProblemShape shape;
  shape.D = c.D;
  const auto pr = test_util::MakeRandomProblem(c.heads, rng, shape);
  const ReadoutMode mode = c.free_readout ? ReadoutMode::kFree : ReadoutMode::kEliminated;
  double worst = 0;
  for (KernelStrategy strategy : {KernelStrategy::kPrecomputed, KernelStrategy::kFactored}) {
    SCOPED_TRACE(KernelStrategyName(strategy));
    const PathKernel kernel(ComputePathInputs(pr.arch, pr.X, Split::kTrain), {strategy});
    const Action action(pr.arch, kernel, pr.Y, /*temperature=*/0.25, mode);
    for (int point = 0; point < 2; ++point) {
      SCOPED_TRACE("point " + std::to_string(point));
      const auto U = RandomPoint(pr.arch, rng, c.D, c.free_readout);
      const Eigen::MatrixXd fd = DifferencedHessian(action, U);
      // The energy block through the example pairs and through the features.
      for (auto form :
           {TrainingGram::HessianForm::kExamples, TrainingGram::HessianForm::kFeatures}) {
        SCOPED_TRACE(form == TrainingGram::HessianForm::kExamples ? "examples" : "features");
        Eigen::MatrixXd analytic;
        ASSERT_TRUE(AnalyticActionHessian(action, U, &analytic, form));
        ASSERT_EQ(analytic.rows(), fd.rows());
        EXPECT_EQ((analytic - analytic.transpose()).cwiseAbs().maxCoeff(), 0.0);
        const double err = RelativeError(analytic, fd);
        EXPECT_LE(err, 1e-7) << "analytic\n" << analytic << "\nfinite differences\n" << fd;
        worst = std::max(worst, err);
      }
    }
  }
  std::printf("largest relative error, analytic Hessian vs central differences: %.2e\n", worst);
}

TEST_P(ActionHessianTest, SaddlePointEigenvaluesMatchFiniteDifferences) {
  const HessianCase& c = GetParam();
  Rng rng(5000 + static_cast<std::uint32_t>(c.heads.size() * 10 + c.heads[0] + c.D * 100));
  test_util::ProblemShape shape;
  shape.D = c.D;
  const auto pr = test_util::MakeRandomProblem(c.heads, rng, shape);
  const PathKernel kernel(ComputePathInputs(pr.arch, pr.X, Split::kTrain));
  const Action action(pr.arch, kernel, pr.Y, 0.25,
                      c.free_readout ? ReadoutMode::kFree : ReadoutMode::kEliminated);
  SolveOptions options;
  options.compute_hessian = false;
  SolveSummary summary;
  const Solution sol = Solve(action, options, &summary);
  ASSERT_TRUE(summary.converged()) << summary.FullReport();
  std::vector<Eigen::MatrixXd> U = sol.order_parameters.U;
  if (c.free_readout) U.push_back(sol.order_parameters.U_a);
  const Eigen::MatrixXd analytic = ActionHessian(action, U);
  const Eigen::MatrixXd fd = DifferencedHessian(action, U);
  ASSERT_GT(analytic.size(), 0);
  EXPECT_LE(RelativeError(analytic, fd), 1e-7);
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> a(analytic), f(0.5 * (fd + fd.transpose()));
  EXPECT_NEAR(a.eigenvalues()(0), f.eigenvalues()(0), 1e-7 * a.eigenvalues().cwiseAbs().maxCoeff());
  EXPECT_GT(a.eigenvalues()(0), 0) << "a stable minimum";
}

// The Hessian of one width from another width's (NeighbourActionHessian: a
// sweep's first Newton model) against the analytic Hessian computed directly
// at the same point (itself checked against central differences above):
// equal up to rounding, for other widths and other entropy variances.
TEST_P(ActionHessianTest, NeighbourWidthHessianEqualsTheDirectOne) {
  const HessianCase& c = GetParam();
  Rng rng(6000 + static_cast<std::uint32_t>(c.heads.size() * 10 + c.heads[0] + c.D * 100 +
                                            c.free_readout * 7));
  test_util::ProblemShape shape;
  shape.D = c.D;
  const auto pr = test_util::MakeRandomProblem(c.heads, rng, shape);
  const ReadoutMode mode = c.free_readout ? ReadoutMode::kFree : ReadoutMode::kEliminated;
  const PathKernel kernel(ComputePathInputs(pr.arch, pr.X, Split::kTrain));
  Architecture neighbour = pr.arch;
  for (auto& n : neighbour.widths) n = 2.5 * n + 3;
  for (size_t l = 1; l < neighbour.variances.size(); ++l) neighbour.variances[l] *= 1.3;
  const Action action(pr.arch, kernel, pr.Y, 0.25, mode);
  const Action other(neighbour, kernel, pr.Y, 0.25, mode);
  double worst = 0;
  for (int point = 0; point < 2; ++point) {
    SCOPED_TRACE("point " + std::to_string(point));
    const auto U = RandomPoint(pr.arch, rng, c.D, c.free_readout);
    Eigen::MatrixXd direct, there, here;
    ASSERT_TRUE(AnalyticActionHessian(action, U, &direct));
    ASSERT_TRUE(AnalyticActionHessian(other, U, &there));
    ASSERT_TRUE(NeighbourActionHessian(action, neighbour, U, there, &here));
    ASSERT_EQ(here.rows(), direct.rows());
    const double err = RelativeError(here, direct);
    EXPECT_LE(err, 1e-12) << "from the neighbour\n" << here << "\ndirect\n" << direct;
    worst = std::max(worst, err);
    // The two widths' Hessians do differ (the entropy scales with the widths).
    EXPECT_GT(RelativeError(there, direct), 1e-3);
  }
  std::printf("largest relative error, neighbour-width Hessian vs direct: %.2e\n", worst);
  // Other heads, or a Hessian of the wrong side: an error, not a number.
  Eigen::MatrixXd out;
  const auto U = RandomPoint(pr.arch, rng, c.D, c.free_readout);
  EXPECT_THROW(NeighbourActionHessian(action, neighbour, U, Eigen::MatrixXd::Identity(2, 3), &out),
               Error);
  Architecture more_heads = neighbour;
  more_heads.layers.back().push_back(more_heads.layers.back().back());
  EXPECT_THROW(NeighbourActionHessian(action, more_heads, U, Eigen::MatrixXd(), &out), Error);
  Architecture no_width = neighbour;
  no_width.widths[0] = 0;
  EXPECT_THROW(NeighbourActionHessian(action, no_width, U, Eigen::MatrixXd(), &out), Error);
}

INSTANTIATE_TEST_SUITE_P(HeadCounts, ActionHessianTest,
                         ::testing::Values(HessianCase{{1}, 1}, HessianCase{{3}, 1},
                                           HessianCase{{2, 2}, 1}, HessianCase{{3, 2}, 1},
                                           HessianCase{{2, 2, 2}, 1}, HessianCase{{1, 3, 2}, 1},
                                           HessianCase{{1}, 2}, HessianCase{{3}, 2},
                                           HessianCase{{2, 2}, 2}, HessianCase{{1, 3, 2}, 2},
                                           HessianCase{{2, 1, 2}, 3}, HessianCase{{3}, 2, true},
                                           HessianCase{{2, 2}, 1, true},
                                           HessianCase{{1, 2, 2}, 2, true}),
                         CaseName);

}  // namespace
}  // namespace attnpaths
