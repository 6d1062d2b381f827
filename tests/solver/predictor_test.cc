// Predictor statistics (theory.md §4): the GP limit at huge widths against a
// GP regression written out by hand, finite-width predictions against the
// formulas with brute-force kernels, and permutation symmetry.
#include "solver/predictor.h"

#include <gtest/gtest.h>

#include <Eigen/Core>
#include <Eigen/Eigenvalues>
#include <Eigen/LU>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include "kernels/error.h"
#include "kernels/path_inputs.h"
#include "kernels/path_kernel.h"
#include "solver/action.h"
#include "solver/order_parameters.h"
#include "solver/solve.h"
#include "tests/support/brute_force.h"
#include "tests/support/finite_difference.h"
#include "tests/support/random_inputs.h"
#include "tests/support/random_problem.h"
#include "tests/support/theory_action.h"

namespace attnpaths {
namespace {

using test_util::RelativeError;
using test_util::Rng;

// Mean k*ᵀ (K + T I)⁻¹ y and variance K(x*, x*) − k*ᵀ (K + T I)⁻¹ k*
// (theory.md §4), with an LU solve (no Cholesky, no LAPACK).
struct Regression {
  Eigen::MatrixXd mean;
  Eigen::VectorXd variance;
};
Regression GpRegression(const Eigen::MatrixXd& K, const Eigen::MatrixXd& K_star,
                        const Eigen::VectorXd& k_star_diag, const Eigen::MatrixXd& Y, double T) {
  Eigen::MatrixXd G = K;
  for (Eigen::Index i = 0; i < G.rows(); ++i) G(i, i) += T;
  const Eigen::FullPivLU<Eigen::MatrixXd> lu(G);
  Regression r;
  r.mean = K_star * lu.solve(Y);
  const Eigen::MatrixXd GinvK = lu.solve(K_star.transpose());
  r.variance.resize(K_star.rows());
  for (Eigen::Index m = 0; m < K_star.rows(); ++m) {
    r.variance(m) = k_star_diag(m) - K_star.row(m).dot(GinvK.col(m));
  }
  return r;
}

// K_GP = σ_1² ⋯ σ_L² σ_a² Σ_π C_ππ (theory.md §2) by our own loop over paths
// and features of the brute-force path inputs.
Eigen::MatrixXd GpKernel(const Architecture& arch, const std::vector<Eigen::MatrixXd>& a,
                         const std::vector<Eigen::MatrixXd>& b) {
  double scale = 1;
  for (size_t l = 1; l < arch.variances.size(); ++l) scale *= arch.variances[l];
  Eigen::MatrixXd K(static_cast<Eigen::Index>(a.size()), static_cast<Eigen::Index>(b.size()));
  for (size_t mu = 0; mu < a.size(); ++mu) {
    for (size_t nu = 0; nu < b.size(); ++nu) {
      double acc = 0;
      for (Eigen::Index p = 0; p < arch.Htot(); ++p) {
        for (Eigen::Index i = 0; i < a[mu].rows(); ++i) acc += a[mu](i, p) * b[nu](i, p);
      }
      K(static_cast<Eigen::Index>(mu), static_cast<Eigen::Index>(nu)) = scale * acc;
    }
  }
  return K;
}

TEST(PredictorTest, HugeWidthsGiveTheGpPredictor) {
  for (Eigen::Index D : {1, 2}) {
    for (const std::vector<Eigen::Index>& H :
         {std::vector<Eigen::Index>{2}, std::vector<Eigen::Index>{2, 2},
          std::vector<Eigen::Index>{1, 3, 2}}) {
      SCOPED_TRACE("D = " + std::to_string(D) + ", layers " + std::to_string(H.size()));
      Rng rng(60 + static_cast<std::uint32_t>(D * 10 + H.size()));
      test_util::ProblemShape shape;
      shape.D = D;
      auto pr = test_util::MakeRandomProblem(H, rng, shape);
      test_util::SetWidths(&pr.arch, 1e10);
      const double T = 0.1;
      const PathKernel kernel(ComputePathInputs(pr.arch, pr.X, Split::kTrain));
      const PathInputs test = ComputePathInputs(pr.arch, pr.X_test, Split::kTest);
      const Action action(pr.arch, kernel, pr.Y, T);
      SolveSummary summary;
      const Solution sol = Solve(action, SolveOptions(), &summary);
      ASSERT_TRUE(summary.converged()) << summary.FullReport();
      const PredictorStatistics st =
          Predict(kernel, pr.Y, T, sol.order_parameters.U[0], test, &pr.Y_test);

      const auto xi = test_util::BrutePathInputs(pr.arch, pr.X, Split::kTrain);
      const auto xt = test_util::BrutePathInputs(pr.arch, pr.X_test, Split::kTest);
      const Eigen::MatrixXd K_tt = GpKernel(pr.arch, xt, xt);
      // One GP regression per output: in the GP limit the outputs are
      // independent (theory.md §9), each with the same variance.
      const Regression gp = GpRegression(GpKernel(pr.arch, xi, xi), GpKernel(pr.arch, xt, xi),
                                         K_tt.diagonal(), pr.Y, T);
      ASSERT_EQ(st.mean.rows(), pr.X_test.P());
      ASSERT_EQ(st.mean.cols(), D);
      ASSERT_EQ(st.variance.cols(), D);
      ASSERT_EQ(st.covariance.cols(), D * D);
      EXPECT_LE(RelativeError(st.mean, gp.mean), 1e-6);
      for (Eigen::Index d = 0; d < D; ++d) {
        EXPECT_LE(RelativeError(st.variance.col(d), gp.variance), 1e-6);
      }
      for (Eigen::Index m = 0; m < st.mean.rows(); ++m) {
        const Eigen::MatrixXd S = st.Covariance(m);
        EXPECT_LE((S - gp.variance(m) * Eigen::MatrixXd::Identity(D, D)).cwiseAbs().maxCoeff(),
                  1e-6 * gp.variance.maxCoeff());
      }
      // The same through GpLimit (U = U_GP exactly).
      const PredictorStatistics at_gp =
          Predict(kernel, pr.Y, T, GpLimit(pr.arch, D).U[0], test, &pr.Y_test);
      EXPECT_LE(RelativeError(at_gp.mean, gp.mean), 1e-10);
      for (Eigen::Index d = 0; d < D; ++d) {
        EXPECT_LE(RelativeError(at_gp.variance.col(d), gp.variance), 1e-10);
      }
    }
  }
}

// At a finite-width solution: mean, variance, generalisation error and
// accuracy against the formulas of theory.md §4 with brute-force K_U.
TEST(PredictorTest, FiniteWidthStatisticsMatchTheFormulas) {
  Rng rng(61);
  test_util::ProblemShape shape;
  shape.binary_labels = true;
  shape.P_test = 40;
  const auto pr = test_util::MakeRandomProblem({2, 2}, rng, shape);
  const double T = 0.05;
  const PathKernel kernel(ComputePathInputs(pr.arch, pr.X, Split::kTrain));
  const PathInputs test = ComputePathInputs(pr.arch, pr.X_test, Split::kTest);
  const Action action(pr.arch, kernel, pr.Y, T);
  SolveSummary summary;
  const Solution sol = Solve(action, SolveOptions(), &summary);
  ASSERT_TRUE(summary.converged()) << summary.FullReport();
  const Eigen::MatrixXd& U = sol.order_parameters.U[0];
  // The finite-width U is not U_GP: it has cross-path entries.
  EXPECT_GT(RelativeError(U, GpLimit(pr.arch).U[0]), 1e-3);

  const PredictorStatistics st = Predict(kernel, pr.Y, T, U, test, &pr.Y_test);
  const auto xi = test_util::BrutePathInputs(pr.arch, pr.X, Split::kTrain);
  const auto xt = test_util::BrutePathInputs(pr.arch, pr.X_test, Split::kTest);
  const Eigen::MatrixXd K_tt = test_util::BruteKernel(xt, xt, U);
  const Regression ref = GpRegression(test_util::BruteKernel(xi, xi, U),
                                      test_util::BruteKernel(xt, xi, U), K_tt.diagonal(), pr.Y, T);
  EXPECT_LE(RelativeError(st.mean, ref.mean), 1e-10);
  EXPECT_LE(RelativeError(st.variance, ref.variance), 1e-9);
  for (Eigen::Index m = 0; m < ref.variance.size(); ++m) EXPECT_GT(st.variance(m, 0), 0);

  double err = 0;
  int right = 0;
  for (Eigen::Index m = 0; m < pr.Y_test.rows(); ++m) {
    const double f = ref.mean(m, 0), y = pr.Y_test(m, 0);
    err += (f - y) * (f - y) + ref.variance(m);
    right += (f > 0) == (y > 0) && f != 0;
  }
  EXPECT_NEAR(st.generalization_error, err / static_cast<double>(pr.Y_test.rows()), 1e-10);
  EXPECT_DOUBLE_EQ(st.accuracy, right / static_cast<double>(pr.Y_test.rows()));
  EXPECT_GT(st.accuracy, 0.0);
  EXPECT_LT(st.accuracy, 1.0);  // with random labels the test is not trivial
}

// Several outputs (theory.md §9) at a finite-width solution: mean f̄ = k* G⁻¹
// vec(Y), the D × D covariance Σ = K* − k* G⁻¹ k*ᵀ of every test point, the
// generalisation error averaged over points and outputs and the argmax
// accuracy, against G, k* and K* built entry by entry from brute-force path
// inputs and an LU solve, for both kernel strategies.
TEST(PredictorTest, SeveralOutputsMatchTheFormulas) {
  Rng rng(65);
  test_util::ProblemShape shape;
  shape.P_test = 30;
  shape.D = 3;
  const auto pr = test_util::MakeRandomProblem({2, 2}, rng, shape);
  const Eigen::Index D = 3, Pt = pr.X_test.P();
  const double T = 0.05;
  const PathInputs test = ComputePathInputs(pr.arch, pr.X_test, Split::kTest);
  const auto xi = test_util::BrutePathInputs(pr.arch, pr.X, Split::kTrain);
  const auto xt = test_util::BrutePathInputs(pr.arch, pr.X_test, Split::kTest);
  std::vector<PredictorStatistics> both;
  for (KernelStrategy strategy : {KernelStrategy::kPrecomputed, KernelStrategy::kFactored}) {
    SCOPED_TRACE(KernelStrategyName(strategy));
    const PathKernel kernel(ComputePathInputs(pr.arch, pr.X, Split::kTrain), {strategy});
    const Action action(pr.arch, kernel, pr.Y, T);
    SolveSummary summary;
    const Solution sol = Solve(action, SolveOptions(), &summary);
    ASSERT_TRUE(summary.converged()) << summary.FullReport();
    const Eigen::MatrixXd& U = sol.order_parameters.U[0];
    const PredictorStatistics st = Predict(kernel, pr.Y, T, U, test, &pr.Y_test);

    Eigen::MatrixXd G = test_util::BruteOutputKernel(xi, xi, U, D);
    G.diagonal().array() += T;
    const Eigen::MatrixXd k = test_util::BruteOutputKernel(xt, xi, U, D);    // (P* D) × (P D)
    const Eigen::MatrixXd Ktt = test_util::BruteOutputKernel(xt, xt, U, D);  // (P* D) × (P* D)
    const Eigen::FullPivLU<Eigen::MatrixXd> lu(G);
    const Eigen::VectorXd f = k * lu.solve(test_util::VecByLoops(pr.Y));
    const Eigen::MatrixXd Gk = lu.solve(k.transpose());
    double err = 0, scale = 0;
    int right = 0;
    for (Eigen::Index m = 0; m < Pt; ++m) {
      const Eigen::MatrixXd S =
          Ktt.block(m * D, m * D, D, D) - k.middleRows(m * D, D) * Gk.middleCols(m * D, D);
      scale = std::max(scale, S.cwiseAbs().maxCoeff());
      EXPECT_LE((st.Covariance(m) - S).cwiseAbs().maxCoeff(), 1e-9 * S.cwiseAbs().maxCoeff());
      EXPECT_LE((st.variance.row(m) - S.diagonal().transpose()).cwiseAbs().maxCoeff(),
                1e-9 * S.cwiseAbs().maxCoeff());
      EXPECT_GT(Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(S).eigenvalues().minCoeff(), 0);
      Eigen::Index best_f = 0, best_y = 0;
      for (Eigen::Index d = 0; d < D; ++d) {
        EXPECT_NEAR(st.mean(m, d), f(m * D + d), 1e-10 * f.cwiseAbs().maxCoeff());
        const double r = f(m * D + d) - pr.Y_test(m, d);
        err += r * r + S(d, d);
        if (f(m * D + d) > f(m * D + best_f)) best_f = d;
        if (pr.Y_test(m, d) > pr.Y_test(m, best_y)) best_y = d;
      }
      right += best_f == best_y;
    }
    // The output-off-diagonal covariances are not negligible at finite width.
    double off = 0;
    for (Eigen::Index m = 0; m < Pt; ++m) {
      const Eigen::MatrixXd S = st.Covariance(m);
      off = std::max(off, std::abs(S(0, 1)) + std::abs(S(0, 2)) + std::abs(S(1, 2)));
    }
    EXPECT_GT(off, 1e-3 * scale);
    EXPECT_NEAR(st.generalization_error, err / static_cast<double>(Pt * D), 1e-10);
    EXPECT_DOUBLE_EQ(st.accuracy, right / static_cast<double>(Pt));
    both.push_back(st);
  }
  EXPECT_LE(RelativeError(both[1].mean, both[0].mean), 1e-8);
  EXPECT_LE(RelativeError(both[1].covariance, both[0].covariance), 1e-8);
}

// Relabelling the training examples changes nothing; relabelling the test
// examples permutes the predictions (theory.md §3, §4: S and K_U depend on
// the training set only through permutation-invariant quantities).
TEST(PredictorTest, PermutationsOfExamples) {
  Rng rng(62);
  test_util::ProblemShape shape;
  shape.binary_labels = true;
  shape.P_test = 9;
  shape.D = 2;
  const auto pr = test_util::MakeRandomProblem({3, 2}, rng, shape);
  const double T = 0.05;

  auto solve_and_predict = [&](const Inputs& X, const Eigen::MatrixXd& Y, const Inputs& X_test,
                               Solution* sol) {
    const PathKernel kernel(ComputePathInputs(pr.arch, X, Split::kTrain));
    const Action action(pr.arch, kernel, Y, T);
    SolveOptions options;
    options.gradient_tolerance = 1e-11;
    SolveSummary summary;
    *sol = Solve(action, options, &summary);
    EXPECT_TRUE(summary.converged()) << summary.FullReport();
    return Predict(kernel, Y, T, sol->order_parameters.U[0],
                   ComputePathInputs(pr.arch, X_test, Split::kTest));
  };

  Solution base;
  const PredictorStatistics st = solve_and_predict(pr.X, pr.Y, pr.X_test, &base);

  // A fixed permutation of the training set (a cyclic shift composed with a reversal).
  std::vector<Eigen::Index> perm(static_cast<size_t>(pr.X.P()));
  for (size_t k = 0; k < perm.size(); ++k) {
    perm[k] = static_cast<Eigen::Index>((perm.size() - 1 - k + 5) % perm.size());
  }
  Eigen::MatrixXd Y_perm(pr.Y.rows(), pr.Y.cols());
  for (size_t k = 0; k < perm.size(); ++k)
    Y_perm.row(static_cast<Eigen::Index>(k)) = pr.Y.row(perm[k]);
  Solution permuted;
  const PredictorStatistics sp = solve_and_predict(pr.X.Select(perm), Y_perm, pr.X_test, &permuted);
  for (size_t l = 0; l < base.order_parameters.U.size(); ++l) {
    EXPECT_LE(RelativeError(permuted.order_parameters.U[l], base.order_parameters.U[l]), 1e-7)
        << "layer " << l + 1;
  }
  EXPECT_NEAR(permuted.action, base.action, 1e-10 * std::abs(base.action));
  EXPECT_LE(RelativeError(sp.mean, st.mean), 1e-7);
  EXPECT_LE(RelativeError(sp.variance, st.variance), 1e-7);

  // Permuted test inputs: the same predictions, permuted (at the same U).
  std::vector<Eigen::Index> tperm = {4, 0, 8, 2, 7, 1, 6, 3, 5};
  const PathKernel kernel(ComputePathInputs(pr.arch, pr.X, Split::kTrain));
  const PredictorStatistics a = Predict(kernel, pr.Y, T, base.order_parameters.U[0],
                                        ComputePathInputs(pr.arch, pr.X_test, Split::kTest));
  const PredictorStatistics b =
      Predict(kernel, pr.Y, T, base.order_parameters.U[0],
              ComputePathInputs(pr.arch, pr.X_test.Select(tperm), Split::kTest));
  for (size_t k = 0; k < tperm.size(); ++k) {
    const auto m = static_cast<Eigen::Index>(k);
    EXPECT_LE((b.mean.row(m) - a.mean.row(tperm[k])).cwiseAbs().maxCoeff(),
              1e-12 * a.mean.cwiseAbs().maxCoeff());
    EXPECT_LE((b.covariance.row(m) - a.covariance.row(tperm[k])).cwiseAbs().maxCoeff(),
              1e-12 * a.covariance.cwiseAbs().maxCoeff());
  }
}

// At T = 0 an invertible kernel interpolates the training labels with zero
// variance; beyond the kernel's rank Predict refuses with a clear message.
TEST(PredictorTest, ZeroTemperature) {
  Rng rng(63);
  test_util::ProblemShape shape;
  shape.P = 8;  // rank of K_U is at most Htot · N0 = 12
  const auto pr = test_util::MakeRandomProblem({2}, rng, shape);
  const PathKernel kernel(ComputePathInputs(pr.arch, pr.X, Split::kTrain));
  const PathInputs train_as_test = ComputePathInputs(pr.arch, pr.X, Split::kTest);
  const Eigen::MatrixXd U = GpLimit(pr.arch).U[0];
  const PredictorStatistics st = Predict(kernel, pr.Y, 0.0, U, train_as_test);
  ASSERT_EQ(st.variance.cols(), 1);
  EXPECT_LE(RelativeError(st.mean, pr.Y), 1e-8);
  EXPECT_LE(st.variance.cwiseAbs().maxCoeff(), 1e-8 * KernelDiagonal(train_as_test, U).maxCoeff());

  // P = 30 > Htot · N0 = 12 at T = 0: G is singular.
  shape.P = 30;
  Rng rng2(64);
  const auto big = test_util::MakeRandomProblem({2}, rng2, shape);
  const PathKernel singular(ComputePathInputs(big.arch, big.X, Split::kTrain));
  try {
    Predict(singular, big.Y, 0.0, U, ComputePathInputs(big.arch, big.X_test, Split::kTest));
    ADD_FAILURE() << "no Error for a singular kernel at T = 0";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("G = K_U + T I"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace attnpaths
