// The saddle point (theory.md §3): the one-path solution against the root of
// the scalar stationarity equation, convergence and stability at finite
// width, independence of the start and of the parameterisation, and the GP
// limit at huge widths.
#include "solver/solve.h"

#include <gtest/gtest.h>

#include <Eigen/Cholesky>
#include <Eigen/Core>
#include <Eigen/Eigenvalues>
#include <boost/math/tools/toms748_solve.hpp>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "kernels/error.h"
#include "kernels/path_inputs.h"
#include "kernels/path_kernel.h"
#include "kernels/paths.h"
#include "solver/action.h"
#include "solver/action_hessian.h"
#include "solver/hessian.h"
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

// max |U_ℓ − V_ℓ| / max |V_ℓ| over all layers.
double RelativeDistance(const std::vector<Eigen::MatrixXd>& U,
                        const std::vector<Eigen::MatrixXd>& V) {
  double d = 0, s = 0;
  for (size_t l = 0; l < U.size(); ++l) {
    d = std::max(d, (U[l] - V[l]).cwiseAbs().maxCoeff());
    s = std::max(s, V[l].cwiseAbs().maxCoeff());
  }
  return d / s;
}

// The Hessian of S / n_max in the independent entries, by our own central
// differences of the analytic gradient (theory.md §3 stability check).
Eigen::MatrixXd OurHessian(const Action& action, const std::vector<Eigen::MatrixXd>& U) {
  const Eigen::VectorXd u0 = test_util::PackSymmetric(U);
  const double scale = 1.0 / action.architecture().n_max();
  Eigen::MatrixXd Hm(u0.size(), u0.size());
  for (Eigen::Index k = 0; k < u0.size(); ++k) {
    const double h = 1e-4 * std::max(std::abs(u0(k)), 1e-2);
    auto g = [&](double t) {
      Eigen::VectorXd u = u0;
      u(k) += t;
      std::vector<Eigen::MatrixXd> grad;
      EXPECT_TRUE(action.Evaluate(test_util::UnpackSymmetric(u, U), &grad).ok);
      return test_util::IndependentGradient(grad);
    };
    const Eigen::VectorXd d1 = (g(h) - g(-h)) / (2 * h);
    const Eigen::VectorXd d2 = (g(h / 2) - g(-h / 2)) / h;
    Hm.col(k) = scale * (4 * d2 - d1) / 3;
  }
  return 0.5 * (Hm + Hm.transpose());
}

// ---------------------------------------------------------------------------
// One path (L = 1, H = 1): U_1 = u is a scalar and, with C = Σ_k λ_k v_k v_kᵀ,
//   S(u) = n_1 [u/(U_a σ_1²) − ln u + ln U_a] + n_a [U_a/σ_a² − ln U_a]
//          + Σ_k ln(u λ_k + T) + Σ_k (v_k·y)² / (u λ_k + T),
// with U_a(u) the positive root of U_a² + β U_a − γ = 0 (theory.md §3). As
// ∂S/∂U_a = 0 there, dS/du = n_1 [1/(U_a σ_1²) − 1/u]
//          + Σ_k λ_k/(u λ_k + T) − Σ_k (v_k·y)² λ_k/(u λ_k + T)².
// ---------------------------------------------------------------------------
struct OnePathCase {
  double n1, na, temperature;
};

class OnePathTest : public ::testing::TestWithParam<OnePathCase> {};

TEST_P(OnePathTest, SolutionIsTheRootOfTheScalarStationarityEquation) {
  const OnePathCase& c = GetParam();
  Rng rng(21);
  const Eigen::Index P = 10, N0 = 6;
  Architecture arch;
  arch.layers = {{test_util::RandomWHead(N0, rng, Normalization::kSoftmax, false, 1.5)}};
  arch.readout = Readout::kMean;
  arch.widths = {c.n1, c.na};
  arch.variances = {1.2, 0.8, 1.5};
  const Inputs X = test_util::RandomInputs(P, 5, N0, rng);
  const Eigen::MatrixXd Y = test_util::RandomLabels(P, 1, rng, /*binary=*/true);
  const double T = c.temperature, s12 = arch.variances[1], sa2 = arch.variances[2];

  // The single path kernel by brute force, and its eigen-decomposition.
  const auto xi = test_util::BrutePathInputs(arch, X, Split::kTrain);
  const Eigen::MatrixXd C = test_util::BrutePair(xi, xi, 0, 0);
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(C);
  const Eigen::VectorXd lam = es.eigenvalues();
  const Eigen::VectorXd proj2 = (es.eigenvectors().transpose() * Y).array().square();

  auto U_a = [&](double u) {
    const double beta = sa2 * (c.n1 / c.na - 1);
    const double gamma = sa2 * c.n1 * u / (c.na * s12);
    return (-beta + std::sqrt(beta * beta + 4 * gamma)) / 2;
  };
  auto S = [&](double u) {
    const double ua = U_a(u);
    double s =
        c.n1 * (u / (ua * s12) - std::log(u) + std::log(ua)) + c.na * (ua / sa2 - std::log(ua));
    for (Eigen::Index k = 0; k < P; ++k) {
      s += std::log(u * lam(k) + T) + proj2(k) / (u * lam(k) + T);
    }
    return s;
  };
  auto dS = [&](double u) {
    const double ua = U_a(u);
    double d = c.n1 * (1 / (ua * s12) - 1 / u);
    for (Eigen::Index k = 0; k < P; ++k) {
      const double g = u * lam(k) + T;
      d += lam(k) / g - proj2(k) * lam(k) / (g * g);
    }
    return d;
  };
  // The hand-derived dS/du is the derivative of S(u) (envelope theorem).
  for (double u : {0.3, 1.0, 4.0}) {
    EXPECT_NEAR(dS(u), test_util::CentralDerivative([&](double t) { return S(u + t); }, 1e-3 * u),
                1e-7 * (std::abs(dS(u)) + 1));
  }
  // Bracket the root of dS/du from U_GP = σ_1² σ_a², then TOMS 748.
  double lo = s12 * sa2, hi = s12 * sa2;
  while (dS(lo) > 0) lo /= 2;
  while (dS(hi) < 0) hi *= 2;
  std::uintmax_t iterations = 200;
  const auto bracket = boost::math::tools::toms748_solve(
      dS, lo, hi, boost::math::tools::eps_tolerance<double>(52), iterations);
  const double root = 0.5 * (bracket.first + bracket.second);
  ASSERT_LT(iterations, 200u);

  const PathKernel kernel(ComputePathInputs(arch, X, Split::kTrain));
  const Action action(arch, kernel, Y, T);
  SolveOptions options;
  options.gradient_tolerance = 1e-12;
  SolveSummary summary;
  const Solution sol = Solve(action, options, &summary);
  ASSERT_TRUE(summary.converged()) << summary.FullReport();
  const double u = sol.order_parameters.U[0](0, 0);
  EXPECT_NEAR(u, root, 1e-8 * root) << summary.FullReport();
  EXPECT_NEAR(sol.order_parameters.U_a(0, 0), U_a(root), 1e-8 * U_a(root));
  EXPECT_NEAR(sol.action, S(root), 1e-10 * std::abs(S(root)));
  // The Hessian (1 × 1, of S/n_max) is d²S/du² at the root.
  const double d2S =
      test_util::CentralDerivative([&](double t) { return dS(root + t); }, 1e-4 * root);
  EXPECT_GT(d2S, 0);
  ASSERT_EQ(summary.hessian_dimension, 1);
  EXPECT_NEAR(summary.hessian_min_eigenvalue, d2S / arch.n_max(), 1e-5 * d2S / arch.n_max());
}

INSTANTIATE_TEST_SUITE_P(Widths, OnePathTest,
                         ::testing::Values(OnePathCase{6, 9, 0.1},   // β < 0
                                           OnePathCase{12, 4, 0.1},  // β > 0
                                           OnePathCase{3, 3, 0.02},  // β = 0
                                           OnePathCase{50, 20, 1.0}));

// ---------------------------------------------------------------------------
// Finite width: convergence, stability and independence of the start.
// ---------------------------------------------------------------------------
std::string ShapeName(const std::vector<Eigen::Index>& H) {
  std::string s = "H";
  for (auto h : H) s += "_" + std::to_string(h);
  return s;
}

struct SolveCase {
  std::vector<Eigen::Index> heads;
  Eigen::Index D = 1;  // outputs (theory.md §9); D > 1 takes one-hot labels
};

// One-hot labels for D classes (±1 labels for D = 1), a random class per example.
Eigen::MatrixXd OneHot(Eigen::Index P, Eigen::Index D, Rng& rng) {
  Eigen::MatrixXd Y = Eigen::MatrixXd::Zero(P, D);
  for (Eigen::Index mu = 0; mu < P; ++mu) {
    Y(mu, static_cast<Eigen::Index>(rng.Uniform(0.0, static_cast<double>(D))) % D) = 1.0;
  }
  return Y;
}

class SolveTest : public ::testing::TestWithParam<SolveCase> {
 protected:
  void SetUp() override {
    const SolveCase& c = GetParam();
    Rng rng(500 + static_cast<std::uint32_t>(c.heads.size() * 10 + c.heads[0] + 100 * c.D));
    test_util::ProblemShape shape;
    shape.binary_labels = true;
    pr_ = test_util::MakeRandomProblem(c.heads, rng, shape);
    if (c.D > 1) pr_.Y = OneHot(pr_.Y.rows(), c.D, rng);
    kernel_ = std::make_unique<PathKernel>(ComputePathInputs(pr_.arch, pr_.X, Split::kTrain));
    action_ = std::make_unique<Action>(pr_.arch, *kernel_, pr_.Y, temperature_);
  }

  test_util::RandomProblem pr_;
  double temperature_ = 0.05;
  std::unique_ptr<PathKernel> kernel_;
  std::unique_ptr<Action> action_;
};

TEST_P(SolveTest, ConvergesToAStableMinimum) {
  SolveOptions options;
  SolveSummary summary;
  const Solution sol = Solve(*action_, options, &summary);
  ASSERT_TRUE(summary.converged()) << summary.FullReport();
  EXPECT_TRUE(sol.converged);
  EXPECT_LE(summary.gradient_norm, options.gradient_tolerance);
  EXPECT_GT(summary.iterations, 0);

  // Our own evaluation at the returned point: the gradient test of theory.md
  // §8 holds, and the reported action, U_a and entropy/energy are those of U.
  const auto& U = sol.order_parameters.U;
  std::vector<Eigen::MatrixXd> grad;
  const ActionValue v = action_->Evaluate(U, &grad);
  ASSERT_TRUE(v.ok);
  EXPECT_LE(MaxAbsEntry(grad) / pr_.arch.n_max(), options.gradient_tolerance);
  EXPECT_DOUBLE_EQ(sol.action, v.S);
  EXPECT_DOUBLE_EQ(summary.final_action, v.S);
  EXPECT_EQ(sol.order_parameters.U_a, v.U_a);
  EXPECT_LT(summary.final_action, summary.initial_action);
  const auto xi = test_util::BrutePathInputs(pr_.arch, pr_.X, Split::kTrain);
  EXPECT_NEAR(v.S, test_util::TheoryAction(pr_.arch, xi, pr_.Y, temperature_, U, v.U_a).S(),
              1e-10 * std::abs(v.S));
  // The returned order parameters are symmetric matrices (theory.md §3).
  for (const auto& u : U) EXPECT_EQ((u - u.transpose()).cwiseAbs().maxCoeff(), 0.0);

  // Stability: the Hessian of S/n_max in the independent entries has a
  // positive smallest eigenvalue, equal to that of our own finite differences.
  const Eigen::MatrixXd Hm = OurHessian(*action_, U);
  ASSERT_EQ(summary.hessian_dimension, Hm.rows());
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(Hm, Eigen::EigenvaluesOnly);
  const double lo = es.eigenvalues()(0);
  EXPECT_GT(lo, 0);
  EXPECT_GT(summary.hessian_min_eigenvalue, 0);
  EXPECT_NEAR(summary.hessian_min_eigenvalue, lo, 1e-4 * es.eigenvalues().cwiseAbs().maxCoeff());

  // A minimum: every small symmetric perturbation raises S.
  Rng rng(77);
  for (int k = 0; k < 20; ++k) {
    auto V = U;
    for (auto& m : V)
      m += 1e-3 * m.cwiseAbs().maxCoeff() * test_util::RandomSymmetric(m.rows(), rng);
    const ActionValue w = action_->Evaluate(V);
    ASSERT_TRUE(w.ok);
    EXPECT_GT(w.S, v.S);
  }
}

TEST_P(SolveTest, MinimiserDoesNotDependOnTheStart) {
  SolveOptions options;
  options.gradient_tolerance = 1e-11;
  SolveSummary from_gp;
  const Solution a = Solve(*action_, options, &from_gp);
  ASSERT_TRUE(from_gp.converged()) << from_gp.FullReport();

  // A random SPD start, far from U_GP (entries of different size and sign).
  Rng rng(31);
  const Paths paths(pr_.arch.heads_per_layer());
  options.initial_U.clear();
  for (int l = 1; l <= pr_.arch.L(); ++l) {
    options.initial_U.push_back(test_util::RandomSpd(paths.m(l) * GetParam().D, rng, 0.5));
  }
  SolveSummary from_random;
  const Solution b = Solve(*action_, options, &from_random);
  ASSERT_TRUE(from_random.converged()) << from_random.FullReport();
  EXPECT_LE(RelativeDistance(b.order_parameters.U, a.order_parameters.U), 1e-7);
  EXPECT_LE(RelativeDistance({b.order_parameters.U_a}, {a.order_parameters.U_a}), 1e-7);
  EXPECT_NEAR(b.action, a.action, 1e-12 * std::abs(a.action));

  // Full BFGS instead of L-BFGS.
  options.initial_U.clear();
  options.method = SolveMethod::kBfgs;
  SolveSummary bfgs;
  const Solution c = Solve(*action_, options, &bfgs);
  ASSERT_TRUE(bfgs.converged()) << bfgs.FullReport();
  EXPECT_LE(RelativeDistance(c.order_parameters.U, a.order_parameters.U), 1e-7);
}

// A warm start from the neighbouring width with that width's stability-check
// Hessian carried over (SolveOptions::initial_hessian via NeighbourActionHessian,
// as `attnpaths sweep` does): the same solution as computing the first Newton
// model, one Hessian fewer; a poor model still reaches the same point; a
// Hessian of the wrong side is an error.
TEST_P(SolveTest, WarmStartWithTheNeighboursHessianGivesTheSameSolution) {
  Architecture wide = pr_.arch;
  for (auto& n : wide.widths) n *= 3;
  const Action wide_action(wide, *kernel_, pr_.Y, temperature_);
  SolveOptions options;
  options.gradient_tolerance = 1e-11;
  SolveSummary first;
  const Solution neighbour = Solve(wide_action, options, &first);
  ASSERT_TRUE(first.converged()) << first.FullReport();
  ASSERT_EQ(neighbour.hessian.rows(), first.hessian_dimension);
  options.initial_U = neighbour.order_parameters.U;

  SolveSummary computed;
  const Solution a = Solve(*action_, options, &computed);
  ASSERT_TRUE(computed.converged()) << computed.FullReport();
  EXPECT_EQ(computed.hessians_given, 0);

  ASSERT_TRUE(NeighbourActionHessian(*action_, wide, options.initial_U, neighbour.hessian,
                                     &options.initial_hessian));
  SolveSummary given;
  const Solution b = Solve(*action_, options, &given);
  ASSERT_TRUE(given.converged()) << given.FullReport();
  EXPECT_EQ(given.hessians_given, 1);
  EXPECT_EQ(given.hessians + given.hessians_given, computed.hessians);
  EXPECT_EQ(given.evaluations, computed.evaluations);
  EXPECT_LE(RelativeDistance(b.order_parameters.U, a.order_parameters.U), 1e-10);
  EXPECT_NEAR(b.action, a.action, 1e-13 * std::abs(a.action));
  EXPECT_NEAR(given.hessian_min_eigenvalue, computed.hessian_min_eigenvalue,
              1e-8 * std::abs(computed.hessian_min_eigenvalue));

  // A poor model (the identity): more steps, the same saddle point.
  options.initial_hessian =
      Eigen::MatrixXd::Identity(given.hessian_dimension, given.hessian_dimension);
  SolveSummary poor;
  const Solution c = Solve(*action_, options, &poor);
  ASSERT_TRUE(poor.converged()) << poor.FullReport();
  EXPECT_LE(RelativeDistance(c.order_parameters.U, a.order_parameters.U), 1e-9);

  options.initial_hessian = Eigen::MatrixXd::Identity(2, 2);
  EXPECT_THROW(Solve(*action_, options, nullptr), Error);
  options.initial_U.clear();
  options.initial_hessian =
      Eigen::MatrixXd::Identity(given.hessian_dimension, given.hessian_dimension);
  EXPECT_THROW(Solve(*action_, options, nullptr), Error);
}

// Both kernel strategies (path_kernel.h) lead to the same saddle point.
TEST_P(SolveTest, KernelStrategiesGiveTheSameSolution) {
  SolveOptions options;
  options.gradient_tolerance = 1e-11;
  std::vector<Solution> sols;
  for (KernelStrategy strategy : {KernelStrategy::kPrecomputed, KernelStrategy::kFactored}) {
    const PathKernel kernel(ComputePathInputs(pr_.arch, pr_.X, Split::kTrain), {strategy});
    const Action action(pr_.arch, kernel, pr_.Y, temperature_);
    SolveSummary summary;
    sols.push_back(Solve(action, options, &summary));
    ASSERT_TRUE(summary.converged()) << KernelStrategyName(strategy) << "\n"
                                     << summary.FullReport();
  }
  EXPECT_LE(RelativeDistance(sols[1].order_parameters.U, sols[0].order_parameters.U), 1e-8);
  EXPECT_NEAR(sols[1].action, sols[0].action, 1e-12 * std::abs(sols[0].action));
}

// Running out of iterations is reported as such, with the gradient that
// failed the test (numerical failure goes to the Summary, never a throw).
TEST_P(SolveTest, ReportsNoConvergenceWhenIterationsRunOut) {
  SolveOptions options;
  options.max_iterations = 1;
  options.max_newton_steps = 0;
  options.max_restarts = 0;
  SolveSummary summary;
  const Solution sol = Solve(*action_, options, &summary);
  EXPECT_EQ(summary.termination, SolveTermination::kNoConvergence) << summary.FullReport();
  EXPECT_FALSE(summary.converged());
  EXPECT_FALSE(sol.converged);
  EXPECT_GT(summary.gradient_norm, options.gradient_tolerance);
  std::vector<Eigen::MatrixXd> grad;
  ASSERT_TRUE(action_->Evaluate(sol.order_parameters.U, &grad).ok);
  EXPECT_DOUBLE_EQ(summary.gradient_norm, MaxAbsEntry(grad) / pr_.arch.n_max());
  EXPECT_NE(summary.message.find("> 1e-09"), std::string::npos) << summary.message;
}

// The solver works with Cholesky factors; theory.md §8 uses U = (M + Mᵀ)/2.
// A damped Newton iteration of our own on the independent entries of U
// (Hessian from our finite differences) must reach the same minimiser.
TEST_P(SolveTest, MinimiserDoesNotDependOnTheParameterisation) {
  SolveOptions options;
  options.gradient_tolerance = 1e-11;
  SolveSummary summary;
  const Solution sol = Solve(*action_, options, &summary);
  ASSERT_TRUE(summary.converged()) << summary.FullReport();

  std::vector<Eigen::MatrixXd> U = GpOrderParameters(pr_.arch, GetParam().D).U;
  const double n_max = pr_.arch.n_max();
  double gnorm = 1;
  for (int it = 0; it < 100 && gnorm > 1e-11; ++it) {
    std::vector<Eigen::MatrixXd> grad;
    const ActionValue v = action_->Evaluate(U, &grad);
    ASSERT_TRUE(v.ok);
    gnorm = MaxAbsEntry(grad) / n_max;
    const Eigen::VectorXd g = test_util::IndependentGradient(grad) / n_max;
    Eigen::MatrixXd Hm = OurHessian(*action_, U);
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(Hm);
    // Newton on the positive part of the spectrum (gradient steps elsewhere).
    const Eigen::VectorXd lam = es.eigenvalues().cwiseMax(1e-3 * es.eigenvalues().maxCoeff());
    const Eigen::VectorXd step =
        -es.eigenvectors() * (es.eigenvectors().transpose() * g).cwiseQuotient(lam);
    const Eigen::VectorXd u0 = test_util::PackSymmetric(U);
    double t = 1;
    for (; t > 1e-10; t /= 2) {
      const ActionValue w = action_->Evaluate(test_util::UnpackSymmetric(u0 + t * step, U));
      if (w.ok && w.S <= v.S + 1e-4 * t * n_max * g.dot(step) + 1e-12 * std::abs(v.S)) break;
    }
    U = test_util::UnpackSymmetric(u0 + t * step, U);
  }
  EXPECT_LE(gnorm, 1e-11);
  EXPECT_LE(RelativeDistance(U, sol.order_parameters.U), 1e-7);
}

// U_a kept as a free D × D variable (ReadoutMode::kFree) gives the minimiser
// of the matrix-root elimination (theory.md §9): the same U_ℓ, the root as U_a
// and the same S, from U_GP and from a random SPD U_a.
TEST_P(SolveTest, FreeReadoutGivesTheSameMinimiser) {
  SolveOptions options;
  options.gradient_tolerance = 1e-11;
  SolveSummary summary;
  const Solution a = Solve(*action_, options, &summary);
  ASSERT_TRUE(summary.converged()) << summary.FullReport();
  const Action free(pr_.arch, *kernel_, pr_.Y, temperature_, ReadoutMode::kFree);
  Rng rng(32);
  for (int start = 0; start < 2; ++start) {
    SCOPED_TRACE(start ? "random U_a start" : "U_GP start");
    options.initial_U.clear();
    if (start) {
      options.initial_U = GpOrderParameters(pr_.arch, GetParam().D).U;
      options.initial_U.push_back(test_util::RandomSpd(GetParam().D, rng, 3.0));
    }
    SolveSummary free_summary;
    const Solution b = Solve(free, options, &free_summary);
    ASSERT_TRUE(free_summary.converged()) << free_summary.FullReport();
    EXPECT_EQ(free_summary.num_parameters,
              summary.num_parameters + GetParam().D * (GetParam().D + 1) / 2);
    EXPECT_LE(RelativeDistance(b.order_parameters.U, a.order_parameters.U), 1e-7);
    EXPECT_LE(RelativeDistance({b.order_parameters.U_a}, {a.order_parameters.U_a}), 1e-7);
    EXPECT_LE(RelativeDistance({b.order_parameters.U_a},
                               {EliminateUa(pr_.arch, b.order_parameters.U.back())}),
              1e-7);
    EXPECT_NEAR(b.action, a.action, 1e-12 * std::abs(a.action));
    EXPECT_GT(free_summary.hessian_min_eigenvalue, 0);
  }
}

INSTANTIATE_TEST_SUITE_P(HeadCounts, SolveTest,
                         ::testing::Values(SolveCase{{3}}, SolveCase{{2, 2}}, SolveCase{{1, 3, 2}},
                                           SolveCase{{3}, 3}, SolveCase{{2, 2}, 3},
                                           SolveCase{{1, 3, 2}, 2}),
                         [](const auto& info) {
                           return ShapeName(info.param.heads) + "_D" + std::to_string(info.param.D);
                         });

// ---------------------------------------------------------------------------
// The GP limit (theory.md §3, §9): U_ℓ = σ_ℓ² ⋯ σ_L² σ_a² I, U_a = σ_a² I.
// ---------------------------------------------------------------------------
TEST(GpLimitTest, EntropyGradientVanishesExactlyAtUgp) {
  Rng rng(41);
  for (Eigen::Index D : {1, 3}) {
    for (double n : {1.0, 7.0, 1e3, 1e10}) {
      for (const std::vector<Eigen::Index>& H :
           {std::vector<Eigen::Index>{3}, std::vector<Eigen::Index>{2, 3},
            std::vector<Eigen::Index>{2, 1, 2}}) {
        SCOPED_TRACE("D = " + std::to_string(D) + ", n = " + std::to_string(n) + ", " +
                     ShapeName(H));
        test_util::ProblemShape shape;
        shape.D = D;
        auto pr = test_util::MakeRandomProblem(H, rng, shape);
        pr.arch.widths[0] = n;  // widths n, and the fixed list for the rest
        const PathKernel kernel(ComputePathInputs(pr.arch, pr.X, Split::kTrain));
        const double T = 0.2;
        const Action action(pr.arch, kernel, pr.Y, T);
        const OrderParameters gp = GpOrderParameters(pr.arch, D);
        // U_ℓ = σ_ℓ² ⋯ σ_L² σ_a² I from the variances directly, (m_ℓ D) × (m_ℓ D).
        const Paths paths(pr.arch.heads_per_layer());
        double scale = pr.arch.variances.back();
        for (int l = pr.arch.L(); l >= 1; --l) {
          scale *= pr.arch.variances[static_cast<size_t>(l)];
          const Eigen::MatrixXd& u = gp.U[static_cast<size_t>(l - 1)];
          ASSERT_EQ(u.rows(), paths.m(l) * D);
          EXPECT_TRUE(u.isApprox(scale * Eigen::MatrixXd::Identity(u.rows(), u.cols()), 1e-15));
        }
        const Eigen::MatrixXd sa2 = pr.arch.variances.back() * Eigen::MatrixXd::Identity(D, D);
        EXPECT_EQ(gp.U_a, sa2);
        std::vector<Eigen::MatrixXd> grad;
        const ActionValue v = action.Evaluate(gp.U, &grad);
        ASSERT_TRUE(v.ok);
        EXPECT_LE((v.U_a - sa2).cwiseAbs().maxCoeff(), 1e-14 * sa2(0, 0));
        // Entropy gradient = total − energy gradient (our own brute-force one).
        const auto xi = test_util::BrutePathInputs(pr.arch, pr.X, Split::kTrain);
        const Eigen::MatrixXd energy = test_util::TheoryEnergyGradient(xi, pr.Y, T, gp.U[0]);
        for (size_t l = 0; l < grad.size(); ++l) {
          // Each entropy term is n_ℓ U_ℓ⁻¹-sized; exact cancellation up to rounding.
          const double size = pr.arch.n_max() / gp.U[l](0, 0);
          const Eigen::MatrixXd entropy = l == 0 ? Eigen::MatrixXd(grad[0] - energy) : grad[l];
          EXPECT_LE(entropy.cwiseAbs().maxCoeff(),
                    1e-13 * size + 1e-12 * energy.cwiseAbs().maxCoeff())
              << "layer " << l + 1;
        }
      }
    }
  }
}

class GpLimitWidthTest : public ::testing::TestWithParam<Eigen::Index> {};

// At huge widths the minimiser is U_GP (U_ℓ ∝ I, U_a = σ_a² I: the outputs
// decouple, theory.md §9), and n (U(n) − U_GP) tends to a limit (first-order
// perturbation theory), for one and three outputs.
TEST_P(GpLimitWidthTest, HugeWidthsGiveUgpAndFiniteWidthsApproachItAsOneOverN) {
  const Eigen::Index D = GetParam();
  Rng rng(42);
  test_util::ProblemShape shape;
  shape.D = D;
  auto pr = test_util::MakeRandomProblem({2, 2}, rng, shape);
  const double T = 0.1;
  const OrderParameters gp = GpOrderParameters(pr.arch, D);
  auto solve = [&](double n) {
    test_util::SetWidths(&pr.arch, n);
    const PathKernel kernel(ComputePathInputs(pr.arch, pr.X, Split::kTrain));
    const Action action(pr.arch, kernel, pr.Y, T);
    SolveOptions options;
    options.gradient_tolerance = 1e-12;
    SolveSummary summary;
    Solution sol = Solve(action, options, &summary);
    EXPECT_TRUE(summary.converged()) << summary.FullReport();
    EXPECT_GT(summary.hessian_min_eigenvalue, 0);
    return sol;
  };
  const Solution huge = solve(1e10);
  const double gp_distance = RelativeDistance(huge.order_parameters.U, gp.U);
  EXPECT_LE(gp_distance, 1e-8);
  EXPECT_LE(RelativeDistance({huge.order_parameters.U_a}, {gp.U_a}), 1e-8);
  std::printf("D = %lld: max |U(n = 1e10) - U_GP| / max |U_GP| = %.2e\n", static_cast<long long>(D),
              gp_distance);
  // First-order perturbation theory: n (U(n) − U_GP) tends to a limit.
  const Solution a = solve(1e4), b = solve(1e5);
  double worst = 0, size = 0, off = 0;
  for (size_t l = 0; l < gp.U.size(); ++l) {
    const Eigen::MatrixXd da = 1e4 * (a.order_parameters.U[l] - gp.U[l]);
    const Eigen::MatrixXd db = 1e5 * (b.order_parameters.U[l] - gp.U[l]);
    worst = std::max(worst, (da - db).cwiseAbs().maxCoeff());
    size = std::max(size, db.cwiseAbs().maxCoeff());
    // With several outputs the finite-width correction couples them: the
    // output-off-diagonal entries of U_1 move too.
    if (l == 0 && D > 1) {
      for (Eigen::Index i = 0; i < db.rows(); ++i) {
        for (Eigen::Index j = 0; j < db.cols(); ++j) {
          if (i % D != j % D) off = std::max(off, std::abs(db(i, j)));
        }
      }
    }
  }
  EXPECT_GT(size, 1e-3 * gp.U[0](0, 0));  // the deviation is real, not zero
  EXPECT_LE(worst, 2e-3 * size);
  if (D > 1) {
    EXPECT_GT(off, 1e-3 * size);
  }
}

INSTANTIATE_TEST_SUITE_P(Outputs, GpLimitWidthTest, ::testing::Values(1, 3),
                         [](const auto& info) { return "D" + std::to_string(info.param); });

TEST(SolveFailureTest, ReportsAnUnevaluableStartInTheSummary) {
  // At T = 0 with more examples than the kernel's rank (Htot · N0 = 2), G is
  // singular: the solve must fail loudly, not return a result (theory.md §4).
  Rng rng(43);
  Architecture arch;
  arch.layers = {{test_util::RandomWHead(2, rng)}};
  arch.SetUniform(10);
  const Inputs X = test_util::RandomInputs(20, 3, 2, rng);
  const Eigen::MatrixXd Y = test_util::RandomLabels(20, 1, rng, true);
  const PathKernel kernel(ComputePathInputs(arch, X, Split::kTrain));
  const Action action(arch, kernel, Y, 0.0);
  SolveSummary summary;
  const Solution sol = Solve(action, SolveOptions(), &summary);
  EXPECT_EQ(summary.termination, SolveTermination::kFailure);
  EXPECT_FALSE(summary.converged());
  EXPECT_FALSE(sol.converged);
  EXPECT_NE(summary.message.find("not positive definite"), std::string::npos) << summary.message;
  const ActionValue v = action.Evaluate(GpOrderParameters(arch).U);
  EXPECT_FALSE(v.ok);
  EXPECT_NE(v.failure.find("G = K_U + T I"), std::string::npos) << v.failure;
}

}  // namespace
}  // namespace attnpaths
