// The lean evaluation paths of issue 14 §2 against independent computations:
// the packed symmetrised pairs (kernels/path_kernel.h PackedPairs) against the
// stored pairs; K_U and the energy gradient of the pairs storage at one output
// (one GEMV each over the packed pairs, G⁻¹ from LAPACK) against K_U formed
// from the path inputs Ξ and Σ_μν R_μν ξ_π(μ)·ξ_π'(ν) with R from Eigen's LDLT;
// the energy Hessian at one output (one GEMM per independent entry) against the
// feature form of the same Hessian; LAPACK's and Eigen's inverse from a
// Cholesky factor against each other; the lean Gram steps against the steps
// before them; and warm starts (Newton from the neighbouring width's solution)
// against the cold solve.
#include <gtest/gtest.h>

#include <Eigen/Cholesky>
#include <Eigen/Core>
#include <Eigen/LU>
#include <cmath>
#include <cstdio>
#include <limits>
#include <thread>
#include <vector>

#include "kernels/path_inputs.h"
#include "kernels/path_kernel.h"
#include "solver/action.h"
#include "solver/solve.h"
#include "solver/spd.h"
#include "solver/training_gram.h"
#include "tests/support/finite_difference.h"
#include "tests/support/random_inputs.h"
#include "tests/support/random_problem.h"

namespace attnpaths {
namespace {

using test_util::RelativeError;
using test_util::Rng;

struct Problem {
  test_util::RandomProblem pr;
  PathInputs train;
};

Problem MakeProblem(const std::vector<Eigen::Index>& heads, Eigen::Index P, std::uint32_t seed) {
  Rng rng(seed);
  test_util::ProblemShape shape;
  shape.P = P;
  Problem p{test_util::MakeRandomProblem(heads, rng, shape), {}};
  p.train = ComputePathInputs(p.pr.arch, p.pr.X, Split::kTrain);
  return p;
}

TEST(LeanEvaluation, PackedPairsHoldTheSymmetrisedLowerTriangles) {
  const Problem p = MakeProblem({2, 2}, 9, 11);
  const PathKernel kernel(p.train, {KernelStrategy::kPrecomputed});
  const Eigen::MatrixXd* packed = kernel.PackedPairs();
  ASSERT_NE(packed, nullptr);
  const Eigen::Index P = kernel.P(), H = kernel.Htot();
  ASSERT_EQ(packed->rows(), P * (P + 1) / 2);
  ASSERT_EQ(packed->cols(), H * (H + 1) / 2);
  for (Eigen::Index a = 0; a < H; ++a) {
    for (Eigen::Index b = a; b < H; ++b) {
      // C_ab from the path inputs, not from the stored pairs.
      const Eigen::MatrixXd C = p.train.path(a) * p.train.path(b).transpose();
      const Eigen::MatrixXd S = C + C.transpose();
      Eigen::Index r = 0;
      for (Eigen::Index j = 0; j < P; ++j) {
        for (Eigen::Index i = j; i < P; ++i, ++r) {
          EXPECT_NEAR((*packed)(r, kernel.PairIndex(a, b)), S(i, j),
                      1e-14 * S.cwiseAbs().maxCoeff());
        }
      }
    }
  }
  const PathKernel factored(p.train, {KernelStrategy::kFactored});
  EXPECT_EQ(factored.PackedPairs(), nullptr);
  // Copies share the packed pairs.
  const PathKernel copy = kernel;
  EXPECT_EQ(copy.PackedPairs(), packed);
}

class LeanGramTest : public ::testing::TestWithParam<Eigen::Index> {};

TEST_P(LeanGramTest, KernelAndEnergyGradientMatchThePathInputs) {
  const Eigen::Index P = GetParam();
  const Problem p = MakeProblem({2, 2}, P, 20 + static_cast<std::uint32_t>(P));
  const PathKernel kernel(p.train, {KernelStrategy::kPrecomputed});
  ASSERT_NE(kernel.PackedPairs(), nullptr);
  const Eigen::Index H = kernel.Htot(), N0 = p.train.N0;
  Rng rng(5);
  const Eigen::MatrixXd U1 = test_util::RandomSpd(H, rng);
  const double T = 0.3;

  // K_U = Σ_ππ' U_ππ' Ξ_π Ξ_π'ᵀ from the path inputs (theory.md §2).
  Eigen::MatrixXd K = Eigen::MatrixXd::Zero(P, P);
  for (Eigen::Index a = 0; a < H; ++a) {
    for (Eigen::Index b = 0; b < H; ++b) {
      K += U1(a, b) * p.train.path(a) * p.train.path(b).transpose();
    }
  }
  TrainingGram gram(kernel, p.pr.Y);
  EXPECT_LE(RelativeError(gram.TrainingKernel(U1), K), 1e-12);

  // ∂(ln det G + yᵀG⁻¹y)/∂U_ππ' = Σ_μν (G⁻¹ − ααᵀ)_μν ξ_π(μ)·ξ_π'(ν).
  const Eigen::MatrixXd G = K + T * Eigen::MatrixXd::Identity(P, P);
  const Eigen::LDLT<Eigen::MatrixXd> ldlt(G);
  const Eigen::VectorXd y = p.pr.Y.col(0);
  const Eigen::VectorXd alpha = ldlt.solve(y);
  const Eigen::MatrixXd R = ldlt.solve(Eigen::MatrixXd::Identity(P, P)) - alpha * alpha.transpose();
  Eigen::MatrixXd expected(H, H);
  for (Eigen::Index a = 0; a < H; ++a) {
    for (Eigen::Index b = 0; b < H; ++b) {
      expected(a, b) = (p.train.path(a).transpose() * R * p.train.path(b)).trace();
    }
  }
  ASSERT_EQ(N0, p.train.path(0).cols());
  ASSERT_TRUE(gram.Factorize(U1, T));
  EXPECT_NEAR(gram.LogDet(), ldlt.vectorD().array().log().sum(), 1e-12 * P);
  EXPECT_NEAR(gram.Quadratic(), y.dot(alpha), 1e-12 * std::abs(y.dot(alpha)));
  Eigen::MatrixXd grad;
  ASSERT_TRUE(gram.EnergyGradient(&grad));
  EXPECT_LE(RelativeError(grad, expected), 1e-12);
  EXPECT_EQ((grad - grad.transpose()).cwiseAbs().maxCoeff(), 0.0);
  // A second factorisation at another point reuses the scratch and is as exact.
  const Eigen::MatrixXd U2 = test_util::RandomSpd(H, rng);
  ASSERT_TRUE(gram.Factorize(U2, T));
  TrainingGram fresh(kernel, p.pr.Y);
  ASSERT_TRUE(fresh.Factorize(U2, T));
  Eigen::MatrixXd g2, g2_fresh;
  ASSERT_TRUE(gram.EnergyGradient(&g2));
  ASSERT_TRUE(fresh.EnergyGradient(&g2_fresh));
  EXPECT_EQ((g2 - g2_fresh).cwiseAbs().maxCoeff(), 0.0);
  std::printf("P = %ld: K %.1e, gradient %.1e relative to the path inputs\n", static_cast<long>(P),
              RelativeError(gram.TrainingKernel(U1), K), RelativeError(grad, expected));
}

TEST_P(LeanGramTest, EnergyHessianOfTheEntriesMatchesTheFeatureForm) {
  const Eigen::Index P = GetParam();
  const Problem p = MakeProblem({2, 2}, P, 40 + static_cast<std::uint32_t>(P));
  Rng rng(9);
  const Eigen::MatrixXd U1 = test_util::RandomSpd(4, rng);
  for (KernelStrategy s : {KernelStrategy::kPrecomputed, KernelStrategy::kFactored}) {
    SCOPED_TRACE(KernelStrategyName(s));
    const PathKernel kernel(p.train, {s});
    TrainingGram gram(kernel, p.pr.Y);
    ASSERT_TRUE(gram.Factorize(U1, 0.2));
    Eigen::MatrixXd examples, features;
    ASSERT_TRUE(gram.EnergyHessian(&examples, TrainingGram::HessianForm::kExamples));
    ASSERT_TRUE(gram.EnergyHessian(&features, TrainingGram::HessianForm::kFeatures));
    EXPECT_LE(RelativeError(examples, features), 1e-12);
    EXPECT_EQ((examples - examples.transpose()).cwiseAbs().maxCoeff(), 0.0);
  }
}

// The lean steps of Factorize (SetLeanGramSteps: G⁻¹ without a factor where G is
// small and well conditioned, no refactorisation at the same U_1 and T) against the steps before
// (LLT, G⁻¹ from L, a fresh factorisation every call): the same ln det, quadratic, gradient and
// energy Hessian, also after returning to a point factorised before and after a change of T alone;
// and the energy Hessian through the action's workspace (Action::EnergyHessian) against a
// TrainingGram of its own.
TEST_P(LeanGramTest, LeanStepsMatchTheStepsBefore) {
  const Eigen::Index P = GetParam();
  const Problem p = MakeProblem({2, 2}, P, 60 + static_cast<std::uint32_t>(P));
  const PathKernel kernel(p.train, {KernelStrategy::kPrecomputed});
  Rng rng(13);
  const Eigen::MatrixXd U1 = test_util::RandomSpd(4, rng), U2 = test_util::RandomSpd(4, rng);
  struct Values {
    double log_det, quadratic;
    Eigen::MatrixXd gradient, hessian;
  };
  auto values = [&](TrainingGram& gram, const Eigen::MatrixXd& U, double T) {
    Values v;
    EXPECT_TRUE(gram.Factorize(U, T));
    v.log_det = gram.LogDet();
    v.quadratic = gram.Quadratic();
    EXPECT_TRUE(gram.EnergyGradient(&v.gradient));
    EXPECT_TRUE(gram.EnergyHessian(&v.hessian));
    return v;
  };
  SetLeanGramSteps(false);
  TrainingGram before(kernel, p.pr.Y);
  const Values b1 = values(before, U1, 0.2), b2 = values(before, U2, 0.2),
               b3 = values(before, U2, 0.05);
  SetLeanGramSteps(true);
  TrainingGram lean(kernel, p.pr.Y);
  // U1, U2, U2 again (nothing to factorise), U1 again, U2 at another T.
  const Values l1 = values(lean, U1, 0.2), l2 = values(lean, U2, 0.2),
               l2_again = values(lean, U2, 0.2), l1_again = values(lean, U1, 0.2),
               l3 = values(lean, U2, 0.05);
  const std::pair<const Values*, const Values*> pairs[] = {
      {&b1, &l1}, {&b2, &l2}, {&b2, &l2_again}, {&b1, &l1_again}, {&b3, &l3}};
  for (const auto& [x, y] : pairs) {
    EXPECT_NEAR(y->log_det, x->log_det, 1e-13 * std::abs(x->log_det));
    EXPECT_NEAR(y->quadratic, x->quadratic, 1e-12 * std::abs(x->quadratic));
    EXPECT_LE(RelativeError(y->gradient, x->gradient), 1e-12);
    EXPECT_LE(RelativeError(y->hessian, x->hessian), 1e-12);
  }
  EXPECT_EQ((l2_again.gradient - l2.gradient).cwiseAbs().maxCoeff(), 0.0);
  EXPECT_EQ((l2_again.hessian - l2.hessian).cwiseAbs().maxCoeff(), 0.0);

  Architecture arch = p.pr.arch;
  arch.SetUniform(30);
  const Action action(arch, kernel, p.pr.Y, 0.2);
  Eigen::MatrixXd through_action;
  ASSERT_TRUE(action.EnergyHessian(U1, &through_action));
  EXPECT_LE(RelativeError(through_action, b1.hessian), 1e-12);
  std::vector<Eigen::MatrixXd> U = action.InitialPoint(), grad;
  U[0] = U2;
  ASSERT_TRUE(action.Evaluate(U, &grad).ok);  // the workspace now holds U2's factor
  ASSERT_TRUE(action.EnergyHessian(U2, &through_action));
  EXPECT_LE(RelativeError(through_action, b2.hessian), 1e-12);
}

// One Action shared by two threads (a sweep's points or a caller's own threads):
// Evaluate and EnergyHessian take the shared workspace with a try-lock and
// fall back to a private one when it is busy, so every concurrent call must
// return what the same call returns alone. The reference is a second Action,
// called from one thread only. Run under ThreadSanitizer too (build-tsan).
TEST(LeanEvaluation, OneActionCalledFromTwoThreadsGivesTheSerialValues) {
  const Problem p = MakeProblem({2, 2}, 120, 17);  // calls long enough to overlap
  const PathKernel kernel(p.train, {KernelStrategy::kPrecomputed});
  Architecture arch = p.pr.arch;
  arch.SetUniform(25);
  const Action shared(arch, kernel, p.pr.Y, 0.1), alone(arch, kernel, p.pr.Y, 0.1);
  Rng rng(29);
  std::vector<std::vector<Eigen::MatrixXd>> points(2, alone.InitialPoint());
  points[0][0] = test_util::RandomSpd(4, rng);
  points[1][0] = test_util::RandomSpd(4, rng);
  struct Reference {
    double S;
    std::vector<Eigen::MatrixXd> grad;
    Eigen::MatrixXd hessian;
  };
  std::vector<Reference> ref(2);
  for (int k = 0; k < 2; ++k) {
    const auto v = alone.Evaluate(points[k], &ref[k].grad);
    ASSERT_TRUE(v.ok);
    ref[k].S = v.S;
    ASSERT_TRUE(alone.EnergyHessian(points[k][0], &ref[k].hessian));
  }
  constexpr int kCalls = 60;
  std::vector<int> mismatches(2, 0);
  auto work = [&](int t) {
    for (int i = 0; i < kCalls; ++i) {
      const int k = (i + t) % 2;  // the two threads ask for different points
      std::vector<Eigen::MatrixXd> grad;
      const auto v = shared.Evaluate(points[k], &grad);
      Eigen::MatrixXd hessian;
      const bool h_ok = shared.EnergyHessian(points[(k + 1) % 2][0], &hessian);
      bool same = v.ok && h_ok && std::abs(v.S - ref[k].S) <= 1e-12 * std::abs(ref[k].S) &&
                  RelativeError(hessian, ref[(k + 1) % 2].hessian) <= 1e-12;
      for (size_t l = 0; same && l < grad.size(); ++l) {
        same = RelativeError(grad[l], ref[k].grad[l]) <= 1e-12;
      }
      if (!same) ++mismatches[static_cast<size_t>(t)];
    }
  };
  std::thread other(work, 1);
  work(0);
  other.join();
  EXPECT_EQ(mismatches[0], 0);
  EXPECT_EQ(mismatches[1], 0);
}

INSTANTIATE_TEST_SUITE_P(BothSidesOfSmallSpd, LeanGramTest,
                         ::testing::Values(Eigen::Index{5}, Eigen::Index{13}, Eigen::Index{100},
                                           Eigen::Index{kSmallSpd + 7}));

// Up to kSmallSpd rows the lean Factorize takes G⁻¹ without a factor
// (SpdInverseInPlace) only when κ₁(G) ≤ kInverseConditionLimit; above it G is
// factorised exactly as the steps before do, so ln det, gradient and energy
// Hessian are bitwise those of SetLeanGramSteps(false). T is lowered until κ₁
// (from the dense G) exceeds the limit.
TEST(LeanEvaluation, IllConditionedGramsAreFactorised) {
  const Problem p = MakeProblem({2, 2}, 100, 71);
  const PathKernel kernel(p.train, {KernelStrategy::kPrecomputed});
  Rng rng(3);
  const Eigen::MatrixXd U1 = test_util::RandomSpd(4, rng);
  const Eigen::MatrixXd K = TrainingGram(kernel, p.pr.Y).TrainingKernel(U1);
  double T = 1, condition = 0;
  for (; T > 1e-12; T *= 0.5) {
    const Eigen::MatrixXd G = K + T * Eigen::MatrixXd::Identity(K.rows(), K.cols());
    condition = G.cwiseAbs().colwise().sum().maxCoeff() *
                Eigen::MatrixXd(G.inverse()).cwiseAbs().colwise().sum().maxCoeff();
    if (condition > 2 * kInverseConditionLimit) break;
  }
  ASSERT_GT(condition, 2 * kInverseConditionLimit);
  Eigen::MatrixXd g_before, g_lean, h_before, h_lean;
  SetLeanGramSteps(false);
  TrainingGram before(kernel, p.pr.Y);
  ASSERT_TRUE(before.Factorize(U1, T));
  ASSERT_TRUE(before.EnergyGradient(&g_before));
  ASSERT_TRUE(before.EnergyHessian(&h_before));
  SetLeanGramSteps(true);
  TrainingGram lean(kernel, p.pr.Y);
  ASSERT_TRUE(lean.Factorize(U1, T));
  ASSERT_TRUE(lean.EnergyGradient(&g_lean));
  ASSERT_TRUE(lean.EnergyHessian(&h_lean));
  EXPECT_EQ(lean.LogDet(), before.LogDet());
  EXPECT_EQ((g_lean - g_before).cwiseAbs().maxCoeff(), 0.0);
  EXPECT_EQ((h_lean - h_before).cwiseAbs().maxCoeff(), 0.0);
}

// A U_1 with a non-finite entry (or one so large that K_U overflows) makes G
// non-finite: Factorize refuses it on every route, the lean one (which leaves
// the check to the inverse's κ₁) and the one before it, and a finite U_1
// afterwards is factorised as by a fresh TrainingGram.
TEST(LeanEvaluation, NonFiniteGramsAreRefused) {
  const Problem p = MakeProblem({2, 2}, 40, 73);
  const PathKernel kernel(p.train, {KernelStrategy::kPrecomputed});
  Rng rng(5);
  const Eigen::MatrixXd U1 = test_util::RandomSpd(4, rng);
  for (const bool lean : {true, false}) {
    SetLeanGramSteps(lean);
    for (const double bad : {std::nan(""), std::numeric_limits<double>::infinity(), 1e308}) {
      SCOPED_TRACE(::testing::Message() << "lean " << lean << ", U_1(0, 1) = " << bad);
      Eigen::MatrixXd broken = U1;
      broken(0, 1) = broken(1, 0) = bad;
      TrainingGram gram(kernel, p.pr.Y);
      EXPECT_FALSE(gram.Factorize(broken, 0.5));
      ASSERT_TRUE(gram.Factorize(U1, 0.5));
      TrainingGram fresh(kernel, p.pr.Y);
      ASSERT_TRUE(fresh.Factorize(U1, 0.5));
      EXPECT_EQ(gram.LogDet(), fresh.LogDet());
    }
  }
  SetLeanGramSteps(true);
}

TEST(LeanEvaluation, LapackAndEigenFactorsAndInversesAgree) {
  for (Eigen::Index n : {Eigen::Index{1}, Eigen::Index{57}, Eigen::Index{300}}) {
    Rng rng(static_cast<std::uint32_t>(n));
    const Eigen::MatrixXd G = test_util::RandomSpd(n, rng);
    Eigen::MatrixXd L = G, L_lapack = G;
    ASSERT_TRUE(CholeskyInPlace(&L, SpdBackend::kEigen));
    ASSERT_TRUE(CholeskyInPlace(&L_lapack, SpdBackend::kLapack));
    const Eigen::MatrixXd f_eigen = L.triangularView<Eigen::Lower>(),
                          f_lapack = L_lapack.triangularView<Eigen::Lower>();
    EXPECT_LE(RelativeError(f_eigen, f_lapack), 1e-12);
    EXPECT_LE(RelativeError(f_eigen * f_eigen.transpose(), G), 1e-12);
    Eigen::MatrixXd a = L, b = L;
    ASSERT_TRUE(InverseFromCholeskyInPlace(&a, SpdBackend::kLapack));
    ASSERT_TRUE(InverseFromCholeskyInPlace(&b, SpdBackend::kEigen));
    const Eigen::MatrixXd la = a.triangularView<Eigen::Lower>(),
                          lb = b.triangularView<Eigen::Lower>();
    EXPECT_LE(RelativeError(la, lb), 1e-12);
    // Both are G⁻¹: G · G⁻¹ = I.
    const Eigen::MatrixXd inverse = la.selfadjointView<Eigen::Lower>();
    EXPECT_LE((G * inverse - Eigen::MatrixXd::Identity(n, n)).cwiseAbs().maxCoeff(), 1e-10);
  }
}

// The line search's scaled initial inverse Hessian (SolveOptions::lbfgs_scaling)
// and the lean Gram steps reach the saddle point of the flow before them.
TEST(LeanEvaluation, ScalingAndLeanStepsReachTheSameSaddlePoint) {
  const Problem p = MakeProblem({2, 2}, 24, 91);
  const PathKernel kernel(p.train);
  Architecture arch = p.pr.arch;
  arch.SetUniform(20);
  const Action action(arch, kernel, p.pr.Y, 0.05);
  SolveOptions before;
  before.gradient_tolerance = 1e-12;
  before.lbfgs_scaling = false;
  SetLeanGramSteps(false);
  SolveSummary s_before, s_now;
  const Solution a = Solve(action, before, &s_before);
  SetLeanGramSteps(true);
  SolveOptions now = before;
  now.lbfgs_scaling = true;
  const Solution b = Solve(action, now, &s_now);
  ASSERT_TRUE(a.converged && b.converged) << s_before.message << "; " << s_now.message;
  for (int l = 0; l < 2; ++l) {
    EXPECT_LE(RelativeError(b.order_parameters.U[l], a.order_parameters.U[l]), 1e-10);
  }
  EXPECT_NEAR(s_now.hessian_min_eigenvalue, s_before.hessian_min_eigenvalue,
              1e-8 * std::abs(s_before.hessian_min_eigenvalue));
  std::printf("evaluations %d -> %d, Hessians %d -> %d\n", s_before.evaluations, s_now.evaluations,
              s_before.hessians, s_now.hessians);
}

TEST(WarmStart, NewtonFromTheNeighbouringWidthReachesTheColdSolution) {
  const Problem p = MakeProblem({2, 2}, 16, 77);
  const PathKernel kernel(p.train);
  Architecture arch = p.pr.arch;
  arch.SetUniform(40);
  SolveOptions cold;
  cold.gradient_tolerance = 1e-11;
  SolveSummary s_prev;
  const Solution prev = Solve(Action(arch, kernel, p.pr.Y, 0.1), cold, &s_prev);
  ASSERT_TRUE(prev.converged) << s_prev.message;
  arch.SetUniform(25);
  const Action action(arch, kernel, p.pr.Y, 0.1);
  SolveSummary s_cold, s_warm, s_hybrid;
  const Solution a = Solve(action, cold, &s_cold);
  SolveOptions warm = cold;
  warm.initial_U = prev.order_parameters.U;
  const Solution b = Solve(action, warm, &s_warm);
  SolveOptions hybrid = warm;
  hybrid.newton_from_initial = false;
  const Solution c = Solve(action, hybrid, &s_hybrid);
  ASSERT_TRUE(a.converged && b.converged && c.converged) << s_warm.message;
  for (int l = 0; l < 2; ++l) {
    EXPECT_LE(RelativeError(b.order_parameters.U[l], a.order_parameters.U[l]), 1e-9);
    EXPECT_LE(RelativeError(c.order_parameters.U[l], a.order_parameters.U[l]), 1e-9);
  }
  // Newton from the neighbour needs no line search: every evaluation is a Newton step's.
  EXPECT_EQ(s_warm.iterations, s_warm.newton_steps);
  EXPECT_GT(s_warm.newton_steps, 0);
  std::printf(
      "evaluations (Hessians): cold %d (%d), warm Newton %d (%d), warm line search %d (%d)\n",
      s_cold.evaluations, s_cold.hessians, s_warm.evaluations, s_warm.hessians,
      s_hybrid.evaluations, s_hybrid.hessians);
}

}  // namespace
}  // namespace attnpaths
