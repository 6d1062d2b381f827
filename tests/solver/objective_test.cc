// Solve over the objective interface (solver/objective.h): two theories other
// than the path action, each against its closed-form or Boost.Math minimiser,
// and the path action itself through the same interface and a PathProblem
// that owns its data (solver/path_problem.h).
#include <gtest/gtest.h>

#include <Eigen/Cholesky>
#include <Eigen/Eigenvalues>
#include <boost/math/tools/roots.hpp>
#include <cmath>
#include <memory>

#include "kernels/error.h"
#include "kernels/path_inputs.h"
#include "solver/action.h"
#include "solver/head_removal.h"
#include "solver/hessian.h"
#include "solver/path_problem.h"
#include "solver/solve.h"
#include "tests/support/finite_difference.h"
#include "tests/support/random_inputs.h"
#include "tests/support/random_problem.h"

namespace attnpaths {
namespace {

using test_util::Rng;

// ln det of an SPD matrix from its Cholesky factor.
double LogDet(const Eigen::LLT<Eigen::MatrixXd>& llt) {
  return 2.0 * llt.matrixLLT().diagonal().array().log().sum();
}

// ---------------------------------------------------------------------------
// S(U_1, …, U_k) = Σ_b [tr(A_b U_b) − n_b ln det U_b]: minimised by
// U_b = n_b A_b⁻¹ (∂S/∂U_b = A_b − n_b U_b⁻¹ = 0; S is strictly convex). Its
// Hessian in the independent entries is n_b tr(U_b⁻¹ E_k U_b⁻¹ E_l) for
// symmetric unit directions E_k of one block (zero across blocks).
// ---------------------------------------------------------------------------
class LogDetQuadratic : public OrderParameterObjective {
 public:
  LogDetQuadratic(std::vector<Eigen::MatrixXd> A, std::vector<double> n, bool analytic_hessian)
      : A_(std::move(A)), n_(std::move(n)), analytic_(analytic_hessian) {}

  std::vector<Eigen::MatrixXd> InitialPoint() const override {
    std::vector<Eigen::MatrixXd> U;
    for (const auto& a : A_) U.push_back(Eigen::MatrixXd::Identity(a.rows(), a.cols()));
    return U;
  }
  void CheckPoint(const std::vector<Eigen::MatrixXd>& U) const override {
    Require(U.size() == A_.size(), "blocks", U.size(), std::to_string(A_.size()));
    for (size_t b = 0; b < U.size(); ++b) {
      Require(U[b].rows() == A_[b].rows() && U[b].cols() == A_[b].cols(),
              "block " + std::to_string(b) + " rows", U[b].rows(), std::to_string(A_[b].rows()));
    }
  }
  bool Evaluate(const std::vector<Eigen::MatrixXd>& U, ObjectiveValue* value,
                std::vector<Eigen::MatrixXd>* gradient) const override {
    ++evaluations;
    *value = ObjectiveValue();
    std::vector<Eigen::MatrixXd> g;
    for (size_t b = 0; b < U.size(); ++b) {
      Eigen::LLT<Eigen::MatrixXd> llt(U[b]);
      if (llt.info() != Eigen::Success) {
        value->failure = "block " + std::to_string(b) + " is not positive definite";
        return false;
      }
      value->S += (A_[b] * U[b]).trace() - n_[b] * LogDet(llt);
      const Eigen::MatrixXd inv = llt.solve(Eigen::MatrixXd::Identity(U[b].rows(), U[b].cols()));
      g.push_back(A_[b] - n_[b] * inv);
    }
    value->energy = value->S;
    value->ok = true;
    if (gradient) *gradient = std::move(g);
    return true;
  }
  double Normalization() const override { return 2.0; }  // the solver works on S / 2
  bool HasHessian() const override { return analytic_; }
  bool Hessian(const std::vector<Eigen::MatrixXd>& U, Eigen::MatrixXd* hessian) const override {
    // Unit directions E_k per block in the order of solver/hessian.h.
    struct Dir {
      size_t block;
      Eigen::Index i, j;
    };
    std::vector<Dir> dirs;
    for (size_t b = 0; b < U.size(); ++b) {
      for (Eigen::Index j = 0; j < U[b].cols(); ++j) {
        for (Eigen::Index i = 0; i <= j; ++i) dirs.push_back({b, i, j});
      }
    }
    const auto unit = [](Eigen::Index m, const Dir& d) {
      Eigen::MatrixXd E = Eigen::MatrixXd::Zero(m, m);
      E(d.i, d.j) = E(d.j, d.i) = 1;
      return E;
    };
    const Eigen::Index n = static_cast<Eigen::Index>(dirs.size());
    hessian->setZero(n, n);
    for (Eigen::Index k = 0; k < n; ++k) {
      for (Eigen::Index l = 0; l < n; ++l) {
        const Dir &a = dirs[static_cast<size_t>(k)], &c = dirs[static_cast<size_t>(l)];
        if (a.block != c.block) continue;
        const Eigen::MatrixXd inv = U[a.block].inverse();
        const Eigen::Index m = U[a.block].rows();
        (*hessian)(k, l) =
            n_[a.block] * (inv * unit(m, a) * inv * unit(m, c)).trace() / Normalization();
      }
    }
    return true;
  }

  mutable int evaluations = 0;

 private:
  std::vector<Eigen::MatrixXd> A_;
  std::vector<double> n_;
  bool analytic_;
};

class LogDetQuadraticTest : public ::testing::TestWithParam<bool> {};

TEST_P(LogDetQuadraticTest, SolveFindsTheClosedFormMinimiser) {
  Rng rng(7);
  const std::vector<Eigen::MatrixXd> A = {
      test_util::RandomSpd(3, rng), test_util::RandomSpd(2, rng), test_util::RandomSpd(1, rng)};
  const std::vector<double> n = {4.0, 0.5, 9.0};
  const LogDetQuadratic objective(A, n, /*analytic_hessian=*/GetParam());
  SolveOptions options;
  options.gradient_tolerance = 1e-12;
  SolveSummary summary;
  const ObjectiveSolution m = Solve(objective, options, &summary);
  ASSERT_TRUE(summary.converged()) << summary.FullReport();
  ASSERT_EQ(m.U.size(), 3u);
  double S = 0;
  for (size_t b = 0; b < A.size(); ++b) {
    const Eigen::MatrixXd expected = n[b] * A[b].inverse();
    EXPECT_LT(test_util::RelativeError(m.U[b], expected), 1e-10) << "block " << b;
    S += (A[b] * expected).trace() - n[b] * std::log(expected.determinant());
  }
  EXPECT_NEAR(m.value.S, S, 1e-12 * std::abs(S));
  EXPECT_EQ(summary.final_action, m.value.S);
  EXPECT_TRUE(m.value.ok);
  // 6 + 3 + 1 independent entries; the minimum is stable: the smallest
  // eigenvalue of the Hessian of S/2 is that of the closed form.
  EXPECT_EQ(summary.num_parameters, 10);
  ASSERT_EQ(summary.hessian_dimension, 10);
  const Eigen::VectorXd expected_eigs = [&] {
    const LogDetQuadratic exact(A, n, true);
    Eigen::MatrixXd h;
    EXPECT_TRUE(exact.Hessian(m.U, &h));
    return Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(h).eigenvalues().eval();
  }();
  EXPECT_NEAR(summary.hessian_min_eigenvalue, expected_eigs(0), 1e-6 * expected_eigs(0));
  EXPECT_GT(summary.hessian_min_eigenvalue, 0);
  // Without an analytic Hessian the solver differentiates the gradient: 2
  // evaluations per entry and per Hessian, counted in the summary.
  EXPECT_EQ(summary.evaluations, objective.evaluations);
}

INSTANTIATE_TEST_SUITE_P(AnalyticAndFiniteDifferenceHessian, LogDetQuadraticTest,
                         ::testing::Values(true, false));

TEST(ObjectiveHessian, FiniteDifferencesOfTheGradientMatchTheAnalyticHessian) {
  Rng rng(3);
  const std::vector<Eigen::MatrixXd> A = {test_util::RandomSpd(3, rng),
                                          test_util::RandomSpd(2, rng)};
  const LogDetQuadratic with(A, {2.0, 3.0}, true), without(A, {2.0, 3.0}, false);
  const std::vector<Eigen::MatrixXd> U = {test_util::RandomSpd(3, rng, 1.5),
                                          test_util::RandomSpd(2, rng, 0.7)};
  const Eigen::MatrixXd analytic = ObjectiveHessian(with, U);
  const Eigen::MatrixXd fd = ObjectiveHessian(without, U);
  ASSERT_EQ(analytic.rows(), 9);
  ASSERT_EQ(fd.rows(), 9);
  EXPECT_LT(test_util::RelativeError(fd, analytic), 1e-8);
  // The independent gradient is ∂(S/2)/∂u_k with off-diagonal entries twice.
  Eigen::VectorXd g;
  ASSERT_TRUE(IndependentGradient(with, U, &g));
  const Eigen::VectorXd fd_g = test_util::FiniteDifferenceGradient(
      [&](const Eigen::VectorXd& u) {
        ObjectiveValue v;
        EXPECT_TRUE(with.Evaluate(test_util::UnpackSymmetric(u, U), &v, nullptr));
        return v.S / 2;
      },
      test_util::PackSymmetric(U), 1e-5);
  EXPECT_LT(test_util::RelativeError(g, fd_g), 1e-8);
}

TEST(ObjectiveSolve, AStartThatCannotBeEvaluatedIsAFailureNotAThrow) {
  const LogDetQuadratic objective({Eigen::MatrixXd::Identity(2, 2)}, {1.0}, true);
  SolveOptions options;
  options.initial_U = {Eigen::MatrixXd::Identity(2, 2)};
  options.initial_U[0](1, 1) = -1;  // not SPD: the Cholesky parameterisation refuses it
  SolveSummary summary;
  EXPECT_THROW(Solve(objective, options, &summary), Error);
  options.initial_U = {Eigen::MatrixXd::Identity(3, 3)};  // the wrong shape: CheckPoint
  EXPECT_THROW(Solve(objective, options, &summary), Error);
}

// ---------------------------------------------------------------------------
// A second theory: the Bayesian deep linear network with one hidden layer of
// width n (the back-propagating kernel renormalisation of Li & Sompolinsky,
// Phys. Rev. X 11, 031059 (2021)). Its action in the one order parameter u is
//   S(u) = n (u/σ² − ln u) + ln det(u K + T I) + yᵀ (u K + T I)⁻¹ y,
// K = X Xᵀ / N0 the input kernel. With K = Σ_i λ_i v_i v_iᵀ, y_i = v_i·y,
//   dS/du = n (1/σ² − 1/u) + Σ_i λ_i/(u λ_i + T) − Σ_i y_i² λ_i/(u λ_i + T)²,
// whose root TOMS 748 brackets. The objective forms G = uK + T I densely.
// ---------------------------------------------------------------------------
class LinearNetworkAction : public OrderParameterObjective {
 public:
  LinearNetworkAction(Eigen::MatrixXd K, Eigen::VectorXd y, double n, double sigma2, double T)
      : K_(std::move(K)), y_(std::move(y)), n_(n), s2_(sigma2), T_(T) {}

  std::vector<Eigen::MatrixXd> InitialPoint() const override {
    return {Eigen::MatrixXd::Constant(1, 1, s2_)};  // the infinite-width (GP) value
  }
  void CheckPoint(const std::vector<Eigen::MatrixXd>& U) const override {
    Require(U.size() == 1 && U[0].rows() == 1 && U[0].cols() == 1, "u", "a matrix list",
            "one 1 x 1 matrix");
  }
  bool Evaluate(const std::vector<Eigen::MatrixXd>& U, ObjectiveValue* value,
                std::vector<Eigen::MatrixXd>* gradient) const override {
    *value = ObjectiveValue();
    const double u = U[0](0, 0);
    if (!(u > 0)) {
      value->failure = "u <= 0";
      return false;
    }
    const Eigen::Index P = K_.rows();
    const Eigen::MatrixXd G = u * K_ + T_ * Eigen::MatrixXd::Identity(P, P);
    Eigen::LLT<Eigen::MatrixXd> llt(G);
    if (llt.info() != Eigen::Success) {
      value->failure = "G is not positive definite";
      return false;
    }
    const Eigen::VectorXd alpha = llt.solve(y_);
    value->entropy = n_ * (u / s2_ - std::log(u));
    value->energy = LogDet(llt) + y_.dot(alpha);
    value->S = value->entropy + value->energy;
    value->ok = true;
    if (gradient) {
      const double trace = llt.solve(K_).trace();
      *gradient = {
          Eigen::MatrixXd::Constant(1, 1, n_ * (1 / s2_ - 1 / u) + trace - alpha.dot(K_ * alpha))};
    }
    return true;
  }
  double Normalization() const override { return n_; }
  Eigen::Index DenseSize() const override { return K_.rows(); }

 private:
  Eigen::MatrixXd K_;
  Eigen::VectorXd y_;
  double n_, s2_, T_;
};

struct LinearCase {
  double n, T;
};

class LinearNetworkTest : public ::testing::TestWithParam<LinearCase> {};

TEST_P(LinearNetworkTest, SolveFindsTheRootOfTheStationarityEquation) {
  const LinearCase c = GetParam();
  Rng rng(11);
  const Eigen::Index P = 15, N0 = 8;
  const Eigen::MatrixXd X = test_util::RandomNormal(P, N0, rng);
  const Eigen::MatrixXd K = X * X.transpose() / static_cast<double>(N0);
  Eigen::VectorXd y(P);
  for (Eigen::Index mu = 0; mu < P; ++mu) y(mu) = X(mu, 0) + 0.5 * X(mu, 1) > 0 ? 1.0 : -1.0;
  const double s2 = 0.8;

  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(K);
  const Eigen::VectorXd lam = es.eigenvalues();
  const Eigen::VectorXd proj2 = (es.eigenvectors().transpose() * y).array().square();
  const auto dS = [&](double u) {
    double d = c.n * (1 / s2 - 1 / u);
    for (Eigen::Index i = 0; i < P; ++i) {
      const double g = u * lam(i) + c.T;
      d += lam(i) / g - proj2(i) * lam(i) / (g * g);
    }
    return d;
  };
  double lo = s2, hi = s2;
  while (dS(lo) > 0) lo /= 2;
  while (dS(hi) < 0) hi *= 2;
  std::uintmax_t iterations = 200;
  const auto bracket = boost::math::tools::toms748_solve(
      dS, lo, hi, boost::math::tools::eps_tolerance<double>(52), iterations);
  ASSERT_LT(iterations, 200u);
  const double root = 0.5 * (bracket.first + bracket.second);

  const LinearNetworkAction objective(K, y, c.n, s2, c.T);
  SolveOptions options;
  options.gradient_tolerance = 1e-12;
  SolveSummary summary;
  const ObjectiveSolution m = Solve(objective, options, &summary);
  ASSERT_TRUE(summary.converged()) << summary.FullReport();
  EXPECT_NEAR(m.U[0](0, 0), root, 1e-9 * root) << summary.FullReport();
  // The stability check (finite differences: the objective has no Hessian)
  // is d²S/du² / n at the root.
  const double d2S =
      test_util::CentralDerivative([&](double t) { return dS(root + t); }, 1e-4 * root);
  ASSERT_EQ(summary.hessian_dimension, 1);
  EXPECT_GT(d2S, 0);
  EXPECT_NEAR(summary.hessian_min_eigenvalue, d2S / c.n, 1e-5 * d2S / c.n);
  EXPECT_NEAR(summary.final_entropy + summary.final_energy, summary.final_action,
              1e-12 * std::abs(summary.final_action));
}

INSTANTIATE_TEST_SUITE_P(WidthsAndTemperatures, LinearNetworkTest,
                         ::testing::Values(LinearCase{5, 0.1}, LinearCase{40, 0.01},
                                           LinearCase{2, 1.0}),
                         [](const ::testing::TestParamInfo<LinearCase>& info) {
                           return "n" + std::to_string(static_cast<int>(info.param.n)) + "_case" +
                                  std::to_string(info.index);
                         });

// ---------------------------------------------------------------------------
// The path action is one implementation of the interface.
// ---------------------------------------------------------------------------
// The problem of `pr` at temperature T, its path kernel computed here.
PathProblem MakeProblem(const test_util::RandomProblem& pr, double T) {
  PathProblem problem;
  problem.architecture = pr.arch;
  problem.train =
      std::make_shared<const PathKernel>(ComputePathInputs(pr.arch, pr.X, Split::kTrain));
  problem.Y = pr.Y;
  problem.temperature = T;
  return problem;
}

TEST(PathAction, SolveThroughTheInterfaceIsTheSameSolve) {
  Rng rng(31);
  test_util::ProblemShape shape;
  shape.binary_labels = true;
  shape.D = 2;
  const auto pr = test_util::MakeRandomProblem({2, 2}, rng, shape);
  const PathProblem problem = MakeProblem(pr, 0.2);
  const Action action(problem);
  SolveSummary a, b;
  const Solution sol = Solve(action, SolveOptions(), &a);
  const ObjectiveSolution m =
      Solve(static_cast<const OrderParameterObjective&>(action), SolveOptions(), &b);
  ASSERT_TRUE(a.converged()) << a.FullReport();
  ASSERT_EQ(m.U.size(), 2u);
  EXPECT_EQ(sol.order_parameters.U[0], m.U[0]);
  EXPECT_EQ(sol.order_parameters.U[1], m.U[1]);
  EXPECT_EQ(sol.action, m.value.S);
  EXPECT_EQ(a.evaluations, b.evaluations);
  // U_a is the readout root at U_L (theory.md §9), as an evaluation gives it.
  EXPECT_EQ(sol.order_parameters.U_a, action.Evaluate(m.U).U_a);
  EXPECT_EQ(a.storage, StorageName(problem.train->strategy()));
}

TEST(PathProblem, AnActionOwnsItsProblem) {
  Rng rng(41);
  const auto pr = test_util::MakeRandomProblem({2, 1}, rng);
  const PathKernel borrowed(ComputePathInputs(pr.arch, pr.X, Split::kTrain));
  const Action reference(pr.arch, borrowed, pr.Y, 0.3);
  std::unique_ptr<Action> owning;
  owning = std::make_unique<Action>(MakeProblem(pr, 0.3));  // the kernel lives in the action
  const auto U = owning->InitialPoint();
  EXPECT_EQ(owning->Evaluate(U).S, reference.Evaluate(U).S);
  PathProblem bad;
  bad.architecture = pr.arch;
  EXPECT_THROW(Action{bad}, Error);  // no kernel
}

// A reduced network's problem selects the full network's path inputs; the
// reference recomputes attention for the smaller architecture.
TEST(PathProblem, WithoutHeadsEqualsRecomputingTheSmallerNetwork) {
  Rng rng(51);
  const auto pr = test_util::MakeRandomProblem({3, 2}, rng);
  const PathProblem full = MakeProblem(pr, 0.1);
  const std::vector<HeadId> pruned = {{1, 1}, {2, 0}};
  const PathProblem reduced = full.WithoutHeads(pruned);
  const Architecture small = RemoveHeads(pr.arch, pruned);
  ASSERT_EQ(reduced.architecture.heads_per_layer(), small.heads_per_layer());
  const PathKernel recomputed(ComputePathInputs(small, pr.X, Split::kTrain));
  ASSERT_EQ(reduced.train->Htot(), 2);
  const Eigen::MatrixXd U = test_util::RandomSpd(2, rng);
  EXPECT_LT(test_util::RelativeError(reduced.train->Total(U), recomputed.Total(U)), 1e-13);
  EXPECT_EQ(reduced.Y, full.Y);
  EXPECT_EQ(reduced.temperature, full.temperature);
  // Solving the reduced problem gives the recomputed network's solution.
  SolveSummary sa, sb;
  const Solution a = Solve(reduced, SolveOptions(), &sa);
  const Solution b = Solve(Action(small, recomputed, pr.Y, 0.1), SolveOptions(), &sb);
  ASSERT_TRUE(sa.converged() && sb.converged());
  EXPECT_LT(test_util::RelativeError(a.order_parameters.U[0], b.order_parameters.U[0]), 1e-8);
  EXPECT_THROW(full.WithoutHeads({{1, 0}, {1, 1}, {1, 2}}), Error);  // a layer left empty
}

}  // namespace
}  // namespace attnpaths
