// Theory vs sampling on the paper's 4-path hidden-Markov task at N = 100
// (theory.md §8, a small P): the sampled predictor mean on test inputs agrees
// with the theory's f̄ (theory.md §4) within 3 standard errors on average,
// and U^sampled (theory.md §5) agrees with the solver's U_1 entry by entry,
// while both differ clearly from the GP limit. The solver is used here only
// as the independent reference; the sampler library never includes it.
#include <gtest/gtest.h>

#include <cmath>
#include <iostream>

#include "data/hmm.h"
#include "kernels/path_kernel.h"
#include "sampler/estimates.h"
#include "sampler/sample.h"
#include "solver/predictor.h"
#include "solver/solve.h"

namespace attnpaths {
namespace {

TEST(TheoryVsSampling, HmmFourPathsAtWidth100) {
  const double T = 0.1;
  HmmTaskOptions task;
  task.P = 16;
  task.seed = 27;
  const Dataset train = GenerateHmmTask(task);
  task.P = 100;
  task.seed = 59;
  const Dataset test = GenerateHmmTask(task);
  Architecture arch = HmmArchitecture(HmmVariant::kFourPaths, task);
  arch.SetUniform(100);
  const PathKernel kernel(ComputePathInputs(arch, train.x, Split::kTrain));
  const PathInputs test_inputs = ComputePathInputs(arch, test.x, Split::kTest);

  // Theory.
  const Action action(arch, kernel, train.y, T);
  SolveSummary solve_summary;
  const Solution sol = Solve(action, SolveOptions{}, &solve_summary);
  ASSERT_TRUE(solve_summary.converged()) << solve_summary.FullReport();
  const Eigen::MatrixXd& U = sol.order_parameters.U[0];
  const PredictorStatistics theory = Predict(kernel, train.y, T, U, test_inputs, &test.y);

  // Sampling the finite network at the same N, P and T.
  SampleOptions options;
  options.chains.num_chains = 2;
  options.chains.num_warmup = 150;
  options.chains.num_samples = 150;
  options.chains.threads = 2;
  options.chains.seed = 11;
  SampleSummary summary;
  const SampleResult r =
      Sample(arch, kernel.inputs(), train.y, T, test_inputs, options, &summary, &test.y);
  ASSERT_TRUE(summary.completed()) << summary.FullReport();
  EXPECT_EQ(summary.total_divergences, 0) << summary.FullReport();
  EXPECT_LT(summary.max_rhat, 1.1) << summary.FullReport();

  double mean_abs_z = 0;
  for (Eigen::Index mu = 0; mu < test.x.P(); ++mu) {
    mean_abs_z += std::abs(r.predictor.mean(mu, 0) - theory.mean(mu, 0)) /
                  r.predictor.mean_se(mu, 0) / static_cast<double>(test.x.P());
  }
  EXPECT_LE(mean_abs_z, 3.0);
  // The predictor variance of the theory, averaged over test points, within 10%.
  EXPECT_NEAR(r.predictor.variance.mean(), theory.variance.mean(), 0.1 * theory.variance.mean());

  const Eigen::MatrixXd& Us = r.order_parameter.U;
  const Eigen::MatrixXd& se = r.order_parameter.U_se;
  for (Eigen::Index a = 0; a < U.rows(); ++a) {
    for (Eigen::Index b = a; b < U.cols(); ++b) {
      EXPECT_NEAR(Us(a, b), U(a, b), 4 * se(a, b)) << "U[" << a << "," << b << "]";
    }
    // U_GP = σ_1² σ_2² σ_a² I = I: the renormalisation is many errors away.
    EXPECT_GT(std::abs(Us(a, a) - 1.0), 8 * se(a, a)) << a;
  }
  std::cout << "mean |z| of the test predictor mean: " << mean_abs_z << "\nU theory:\n"
            << U << "\nU sampled:\n"
            << Us << "\nstandard errors:\n"
            << se << "\n"
            << summary.BriefReport() << "\n";
}

}  // namespace
}  // namespace attnpaths
