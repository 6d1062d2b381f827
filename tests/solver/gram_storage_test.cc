// The three storages of G = K_U + T·I (solver/training_gram.h): dense pairs,
// factored path inputs and the feature-space form of theory.md §10
// (solver/feature_gram.h) give the same action, gradient, analytic Hessian and
// predictor moments on the same problems — P just below and above M = Htot·N0,
// one head and two layers, D = 1 and 3 outputs, small and large T — and the
// feature form's energy agrees with the eigen-decomposition of the brute-force
// PD × PD kernel (tests/support/theory_action.h), which shares no code with it.
#include <gtest/gtest.h>

#include <Eigen/Core>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "kernels/error.h"
#include "kernels/example_source.h"
#include "kernels/gram.h"
#include "kernels/path_inputs.h"
#include "kernels/path_kernel.h"
#include "kernels/paths.h"
#include "solver/action.h"
#include "solver/action_hessian.h"
#include "solver/feature_gram.h"
#include "solver/order_parameters.h"
#include "solver/predictor.h"
#include "solver/solve.h"
#include "solver/training_gram.h"
#include "tests/support/brute_force.h"
#include "tests/support/finite_difference.h"
#include "tests/support/random_inputs.h"
#include "tests/support/random_problem.h"
#include "tests/support/theory_action.h"

namespace attnpaths {
namespace {

using test_util::RelativeError;
using test_util::Rng;

struct StorageCase {
  std::vector<Eigen::Index> heads;
  Eigen::Index D;
  int P_offset;  // P = M + P_offset
  double T;
};

std::string Name(const StorageCase& c) {
  std::string s = "H";
  for (auto h : c.heads) s += std::to_string(h);
  s += "_D" + std::to_string(c.D) + (c.P_offset < 0 ? "_below" : "_above") +
       (c.T < 1 ? "_smallT" : "_largeT");
  return s;
}

std::vector<Eigen::MatrixXd> RandomPoint(const Architecture& arch, Rng& rng, Eigen::Index D) {
  const Paths paths(arch.heads_per_layer());
  const OrderParameters gp = GpOrderParameters(arch, D);
  std::vector<Eigen::MatrixXd> U;
  for (int l = 1; l <= arch.L(); ++l) {
    U.push_back(test_util::RandomSpd(paths.m(l) * D, rng, gp.U[static_cast<size_t>(l - 1)](0, 0)));
  }
  return U;
}

double MaxRelative(const std::vector<Eigen::MatrixXd>& a, const std::vector<Eigen::MatrixXd>& b) {
  double worst = 0;
  for (size_t l = 0; l < a.size(); ++l) worst = std::max(worst, RelativeError(a[l], b[l]));
  return worst;
}

class GramStorageTest : public ::testing::TestWithParam<StorageCase> {};

TEST_P(GramStorageTest, EveryStorageMatchesTheDensePairs) {
  const StorageCase& c = GetParam();
  Rng rng(700 + static_cast<std::uint32_t>(c.heads.size() * 31 + c.heads[0] * 7 + c.D * 3 +
                                           (c.P_offset > 0) + 2 * (c.T > 1)));
  test_util::ProblemShape shape;
  shape.D = c.D;
  shape.N0 = 5;
  Eigen::Index Htot = 1;
  for (auto h : c.heads) Htot *= h;
  const Eigen::Index M = Htot * shape.N0;
  shape.P = M + c.P_offset;
  shape.P_test = 7;
  const auto pr = test_util::MakeRandomProblem(c.heads, rng, shape);
  const PathInputs train = ComputePathInputs(pr.arch, pr.X, Split::kTrain);
  const PathInputs test = ComputePathInputs(pr.arch, pr.X_test, Split::kTest);
  const PathKernel pairs(train, {KernelStrategy::kPrecomputed});
  const Action dense(pr.arch, pairs, pr.Y, c.T);
  const auto U = RandomPoint(pr.arch, rng, c.D);
  std::vector<Eigen::MatrixXd> g_dense;
  const ActionValue v_dense = dense.Evaluate(U, &g_dense);
  ASSERT_TRUE(v_dense.ok) << v_dense.failure;

  // The energy against the eigen-decomposition of the brute-force G.
  const auto xi = test_util::BrutePathInputs(pr.arch, pr.X, Split::kTrain);
  const auto theory = test_util::TheoryAction(pr.arch, xi, pr.Y, c.T, U, v_dense.U_a);
  EXPECT_LE(std::abs(v_dense.energy - theory.energy), 1e-10 * std::abs(theory.energy));

  Eigen::MatrixXd h_dense;
  ASSERT_TRUE(AnalyticActionHessian(dense, U, &h_dense, TrainingGram::HessianForm::kExamples));
  const PredictorStatistics p_dense = Predict(pairs, pr.Y, c.T, U[0], test);

  for (KernelStrategy s : {KernelStrategy::kFactored, KernelStrategy::kFeatures}) {
    SCOPED_TRACE(KernelStrategyName(s));
    const PathKernel kernel(train, {s});
    ASSERT_EQ(kernel.strategy(), s);
    const Action action(pr.arch, kernel, pr.Y, c.T);
    std::vector<Eigen::MatrixXd> g;
    const ActionValue v = action.Evaluate(U, &g);
    ASSERT_TRUE(v.ok) << v.failure;
    EXPECT_LE(std::abs(v.S - v_dense.S), 1e-10 * std::abs(v_dense.S));
    EXPECT_LE(std::abs(v.energy - theory.energy), 1e-10 * std::abs(theory.energy));
    EXPECT_LE(MaxRelative(g, g_dense), 1e-10);
    Eigen::MatrixXd h;
    ASSERT_TRUE(AnalyticActionHessian(action, U, &h));
    EXPECT_LE(RelativeError(h, h_dense), 1e-10);
    const PredictorStatistics p = Predict(kernel, pr.Y, c.T, U[0], test);
    EXPECT_LE(RelativeError(p.mean, p_dense.mean), 1e-10);
    EXPECT_LE(RelativeError(p.covariance, p_dense.covariance), 1e-10);
    std::printf("%s %s: S %.1e, grad %.1e, Hessian %.1e, mean %.1e, covariance %.1e\n",
                Name(c).c_str(), KernelStrategyName(s),
                std::abs(v.S - v_dense.S) / std::abs(v_dense.S), MaxRelative(g, g_dense),
                RelativeError(h, h_dense), RelativeError(p.mean, p_dense.mean),
                RelativeError(p.covariance, p_dense.covariance));
  }

  // A streamed kernel (A, b, YᵀY accumulated in blocks, no Ξ kept) gives the same.
  InMemoryExamples source(pr.X, pr.Y);
  StreamOptions so;
  so.block_examples = 4;
  so.threads = 1;
  const PathKernel streamed(AccumulateGram(pr.arch, source, Split::kTrain, so));
  EXPECT_FALSE(streamed.has_inputs());
  const Action action(pr.arch, streamed, pr.Y, c.T);
  std::vector<Eigen::MatrixXd> g;
  const ActionValue v = action.Evaluate(U, &g);
  ASSERT_TRUE(v.ok) << v.failure;
  EXPECT_LE(std::abs(v.S - v_dense.S), 1e-10 * std::abs(v_dense.S));
  EXPECT_LE(MaxRelative(g, g_dense), 1e-10);
  const PredictorStatistics p = Predict(streamed, pr.Y, c.T, U[0], test);
  EXPECT_LE(RelativeError(p.mean, p_dense.mean), 1e-10);
  EXPECT_LE(RelativeError(p.covariance, p_dense.covariance), 1e-10);
}

INSTANTIATE_TEST_SUITE_P(
    Storages, GramStorageTest,
    ::testing::Values(StorageCase{{1}, 1, -2, 0.05}, StorageCase{{1}, 1, 3, 4.0},
                      StorageCase{{2}, 1, -2, 4.0}, StorageCase{{2}, 1, 3, 0.05},
                      StorageCase{{2}, 3, -2, 0.05}, StorageCase{{2}, 3, 3, 4.0},
                      StorageCase{{2, 2}, 1, -2, 0.05}, StorageCase{{2, 2}, 1, 3, 4.0},
                      StorageCase{{2, 2}, 3, -2, 4.0}, StorageCase{{2, 2}, 3, 3, 0.05}),
    [](const ::testing::TestParamInfo<StorageCase>& info) { return Name(info.param); });

TEST(GramStorage, FeatureFormNeedsAPositiveTemperature) {
  Rng rng(91);
  test_util::ProblemShape shape;
  shape.P = 20;
  shape.N0 = 3;
  const auto pr = test_util::MakeRandomProblem({2}, rng, shape);  // M = 6 < P
  const PathInputs train = ComputePathInputs(pr.arch, pr.X, Split::kTrain);
  InMemoryExamples source(pr.X, pr.Y);
  const PathKernel kernel(AccumulateGram(pr.arch, source, Split::kTrain));
  try {
    const Action action(pr.arch, kernel, pr.Y, 0.0);
    FAIL() << "no error at T = 0";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("temperature"), std::string::npos) << e.what();
  }
  TrainingGram gram(kernel, pr.Y);
  try {
    gram.Factorize(GpOrderParameters(pr.arch, 1).U[0], 0.0);
    FAIL() << "no error at T = 0";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("singular"), std::string::npos) << e.what();
  }
  // A kernel that keeps Ξ falls back to the factored computations at T = 0
  // (and G is then singular: status false, not a throw).
  const PathKernel kept(train, {KernelStrategy::kFeatures});
  TrainingGram with_inputs(kept, pr.Y);
  EXPECT_FALSE(with_inputs.Factorize(GpOrderParameters(pr.arch, 1).U[0], 0.0));
  // The chooser: forced features at T = 0 is an error; auto never picks it.
  KernelOptions o{KernelStrategy::kFeatures};
  o.zero_temperature = true;
  EXPECT_THROW(ChooseKernelStrategy(o, 100000, 4, 231), Error);
  o.strategy = KernelStrategy::kAuto;
  EXPECT_NE(ChooseKernelStrategy(o, 100000, 4, 231), KernelStrategy::kFeatures);
}

TEST(GramStorage, StreamedKernelRefusesOtherLabelsAndPathInputUses) {
  Rng rng(92);
  test_util::ProblemShape shape;
  shape.P = 15;
  shape.N0 = 3;
  const auto pr = test_util::MakeRandomProblem({2}, rng, shape);
  InMemoryExamples source(pr.X, pr.Y);
  const PathKernel streamed(AccumulateGram(pr.arch, source, Split::kTrain));
  const Eigen::MatrixXd other = 2.0 * pr.Y;
  EXPECT_THROW(TrainingGram(streamed, other), Error);
  EXPECT_THROW(streamed.inputs(), Error);
  EXPECT_THROW(streamed.Total(Eigen::MatrixXd::Identity(2, 2)), Error);
}

// A silenced path (pruning: zero rows and columns of U_1, positive
// semi-definite) — the feature form factors U_1 by its eigenvectors then.
TEST(GramStorage, SilencedPathsPredictLikeThePairs) {
  Rng rng(94);
  test_util::ProblemShape shape;
  shape.P = 30;
  shape.N0 = 4;
  shape.D = 2;
  const auto pr = test_util::MakeRandomProblem({2, 2}, rng, shape);  // M = 16 < P
  const PathInputs train = ComputePathInputs(pr.arch, pr.X, Split::kTrain);
  const PathInputs test = ComputePathInputs(pr.arch, pr.X_test, Split::kTest);
  Eigen::MatrixXd U1 = test_util::RandomSpd(8, rng);
  U1.row(2).setZero();  // path 1, both outputs
  U1.col(2).setZero();
  U1.row(3).setZero();
  U1.col(3).setZero();
  const PathKernel pairs(train, {KernelStrategy::kPrecomputed});
  const PathKernel features(train, {KernelStrategy::kFeatures});
  const PredictorStatistics a = Predict(pairs, pr.Y, 0.3, U1, test);
  const PredictorStatistics b = Predict(features, pr.Y, 0.3, U1, test);
  EXPECT_LE(RelativeError(b.mean, a.mean), 1e-10);
  EXPECT_LE(RelativeError(b.covariance, a.covariance), 1e-10);
}

// A full solve at an HMM-like size above M (P = 2000 examples, 4 paths):
// the dense pairs and the feature-space form reach the same U.
TEST(GramStorage, SolveGivesTheSameSaddlePointAtLargeP) {
  Rng rng(93);
  test_util::ProblemShape shape;
  shape.P = 2000;
  shape.N0 = 8;
  shape.n_tok = 4;
  shape.binary_labels = true;
  auto pr = test_util::MakeRandomProblem({2, 2}, rng, shape);  // M = 32
  test_util::SetWidths(&pr.arch, 40);
  const PathInputs train = ComputePathInputs(pr.arch, pr.X, Split::kTrain);
  SolveOptions options;
  options.gradient_tolerance = 1e-12;
  options.compute_hessian = false;
  options.newton_threshold = std::numeric_limits<double>::infinity();  // few dense evaluations
  std::vector<Solution> sol;
  for (KernelStrategy s : {KernelStrategy::kPrecomputed, KernelStrategy::kFeatures}) {
    const PathKernel kernel(train, {s});
    const Action action(pr.arch, kernel, pr.Y, 0.1);
    SolveSummary summary;
    sol.push_back(Solve(action, options, &summary));
    ASSERT_TRUE(summary.converged()) << summary.FullReport();
    std::printf("%s: %d evaluations\n", KernelStrategyName(s), summary.evaluations);
  }
  const double d = MaxRelative(sol[1].order_parameters.U, sol[0].order_parameters.U);
  std::printf("P = 2000: max relative difference of U, features vs pairs: %.1e\n", d);
  EXPECT_LE(d, 1e-10);
}

}  // namespace
}  // namespace attnpaths
