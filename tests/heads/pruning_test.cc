// Pruning (theory.md §6): silencing against hand-zeroed matrices and against
// the reduced network's own kernels, orders, warm starts, and the HMM task.
#include "solver/pruning.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "data/hmm.h"
#include "kernels/error.h"
#include "kernels/path_inputs.h"
#include "kernels/path_kernel.h"
#include "kernels/paths.h"
#include "solver/action.h"
#include "solver/predictor.h"
#include "solver/solve.h"
#include "tests/heads/small_problem.h"

namespace attnpaths {
namespace {

using testing::MakeSmallProblem;
using testing::SmallProblem;

HeadRelevance RelevanceWithScores(const std::vector<std::vector<double>>& scores) {
  HeadRelevance r;
  r.score = scores;
  r.raw = scores;
  for (const auto& layer : scores) {
    r.names.emplace_back();
    for (size_t h = 0; h < layer.size(); ++h) r.names.back().push_back("h" + std::to_string(h + 1));
  }
  return r;
}

TEST(Pruning, SilenceZeroesExactlyThePathsThroughTheHead) {
  // H = (2, 3): path (h1, h2) = 3 h1 + h2. Silencing head 3 of layer 2 zeroes
  // paths 2 and 5; head 1 of layer 1 zeroes paths 0, 1, 2.
  const Paths paths({2, 3});
  Eigen::MatrixXd U(6, 6);
  for (int i = 0; i < 6; ++i) {
    for (int j = 0; j < 6; ++j) U(i, j) = 1.0 + i + 10.0 * j;
  }
  const Eigen::MatrixXd S = SilenceHeads(paths, U, {{2, 2}});
  for (int i = 0; i < 6; ++i) {
    for (int j = 0; j < 6; ++j) {
      const bool zero = i == 2 || i == 5 || j == 2 || j == 5;
      EXPECT_EQ(S(i, j), zero ? 0.0 : U(i, j)) << i << "," << j;
    }
  }
  const Eigen::MatrixXd S2 = SilenceHeads(paths, U, {{2, 2}, {1, 0}});
  for (int i = 0; i < 6; ++i) {
    for (int j = 0; j < 6; ++j) {
      const bool zero = i <= 2 || i == 5 || j <= 2 || j == 5;
      EXPECT_EQ(S2(i, j), zero ? 0.0 : U(i, j)) << i << "," << j;
    }
  }
  EXPECT_THROW(SilenceHeads(paths, U, {{2, 3}}), Error);
  EXPECT_THROW(SilenceHeads(paths, U, {{3, 0}}), Error);
}

// Several outputs (theory.md §9): silencing removes the rows and columns
// (π, d) of a silenced path for every output d, and restricting U_ℓ keeps the
// rows (h_ℓ, …, h_L, d) of the remaining heads for every d.
TEST(Pruning, SeveralOutputsSilenceAndRestrictEveryOutput) {
  const Paths paths({2, 3});
  const Eigen::Index D = 2;
  Eigen::MatrixXd U(6 * D, 6 * D);
  for (int i = 0; i < 6 * D; ++i) {
    for (int j = 0; j < 6 * D; ++j) U(i, j) = 1.0 + i + 100.0 * j;
  }
  const Eigen::MatrixXd S = SilenceHeads(paths, U, {{2, 2}});  // paths 2 and 5
  for (int i = 0; i < 6 * D; ++i) {
    for (int j = 0; j < 6 * D; ++j) {
      const bool zero = i / D == 2 || i / D == 5 || j / D == 2 || j / D == 5;
      EXPECT_EQ(S(i, j), zero ? 0.0 : U(i, j)) << i << "," << j;
    }
  }
  SmallProblem p = MakeSmallProblem({2, 3}, 10, 5, 10.0);
  OrderParameters op;
  op.U_a = Eigen::MatrixXd::Identity(D, D);
  op.U = {U, Eigen::MatrixXd(3 * D, 3 * D)};
  for (int i = 0; i < 3 * D; ++i) {
    for (int j = 0; j < 3 * D; ++j) op.U[1](i, j) = 1000.0 + i + 10.0 * j;
  }
  const OrderParameters r = RestrictOrderParameters(p.arch, op, {{2, 1}});  // paths 1 and 4
  const std::vector<int> k1 = {0, 1, 4, 5, 6, 7, 10, 11}, k2 = {0, 1, 4, 5};
  ASSERT_EQ(r.U[0].rows(), 8);
  ASSERT_EQ(r.U[1].rows(), 4);
  for (int i = 0; i < 8; ++i) {
    for (int j = 0; j < 8; ++j) EXPECT_EQ(r.U[0](i, j), op.U[0](k1[i], k1[j]));
  }
  for (int i = 0; i < 4; ++i) {
    for (int j = 0; j < 4; ++j) EXPECT_EQ(r.U[1](i, j), op.U[1](k2[i], k2[j]));
  }
  EXPECT_EQ(r.U_a, op.U_a);
  EXPECT_NO_THROW(CheckShapes(RemoveHeads(p.arch, {{2, 1}}), r.U, D));
}

TEST(Pruning, OrdersAndTheLastHeadRule) {
  // Layer 1 scores (0.2, 1.0), layer 2 (0.5, 0.1, 0.7).
  const HeadRelevance r = RelevanceWithScores({{0.2, 1.0}, {0.5, 0.1, 0.7}});
  // Increasing: (2,2) 0.1, (1,1) 0.2, (2,1) 0.5, (2,3) 0.7 — the last head of
  // layer 2 is kept, (1,2) 1.0 is the last of layer 1.
  EXPECT_EQ(RemovalSequence(r, PruningOrder::kIncreasing),
            (std::vector<HeadId>{{2, 1}, {1, 0}, {2, 0}}));
  // Decreasing: (1,2) 1.0, (2,3) 0.7, (2,1) 0.5, then (1,1) and (2,2) are last.
  EXPECT_EQ(RemovalSequence(r, PruningOrder::kDecreasing),
            (std::vector<HeadId>{{1, 1}, {2, 2}, {2, 0}}));
  // Random: reproducible from the seed, Σ (H_ℓ − 1) = 3 removals, one head
  // left in every layer, and not always the same order.
  std::set<std::vector<std::pair<int, Eigen::Index>>> seen;
  for (int k = 0; k < 20; ++k) {
    const auto a = RemovalSequence(r, PruningOrder::kRandom, 9, k);
    EXPECT_EQ(a, RemovalSequence(r, PruningOrder::kRandom, 9, k));
    ASSERT_EQ(a.size(), 3u);
    int layer1 = 0;
    std::vector<std::pair<int, Eigen::Index>> key;
    for (const HeadId& id : a) {
      layer1 += id.layer == 1;
      key.emplace_back(id.layer, id.head);
    }
    EXPECT_EQ(layer1, 1);
    seen.insert(key);
  }
  EXPECT_GT(seen.size(), 3u);
}

TEST(Pruning, RestrictAndRemoveKeepTheRemainingPathsInPackingOrder) {
  SmallProblem p = MakeSmallProblem({2, 3}, 10, 5, 10.0);
  OrderParameters op;
  op.U_a = Eigen::MatrixXd::Constant(1, 1, 0.9);
  op.U = {Eigen::MatrixXd(6, 6), Eigen::MatrixXd(3, 3)};
  for (int i = 0; i < 6; ++i) {
    for (int j = 0; j < 6; ++j) op.U[0](i, j) = 10.0 * i + j;
  }
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) op.U[1](i, j) = 100.0 + 10.0 * i + j;
  }
  // Remove head 2 of layer 2: U_1 keeps paths (0,0),(0,2),(1,0),(1,2) = 0, 2, 3, 5; U_2 keeps 0, 2.
  const OrderParameters r = RestrictOrderParameters(p.arch, op, {{2, 1}});
  const std::vector<int> k1 = {0, 2, 3, 5}, k2 = {0, 2};
  ASSERT_EQ(r.U[0].rows(), 4);
  ASSERT_EQ(r.U[1].rows(), 2);
  for (int i = 0; i < 4; ++i) {
    for (int j = 0; j < 4; ++j) EXPECT_EQ(r.U[0](i, j), op.U[0](k1[i], k1[j]));
  }
  for (int i = 0; i < 2; ++i) {
    for (int j = 0; j < 2; ++j) EXPECT_EQ(r.U[1](i, j), op.U[1](k2[i], k2[j]));
  }
  EXPECT_EQ(r.U_a, op.U_a);
  const Architecture reduced = RemoveHeads(p.arch, {{2, 1}});
  EXPECT_EQ(reduced.heads_per_layer(), (std::vector<Eigen::Index>{2, 2}));
  EXPECT_EQ(reduced.layers[1][1].name, "L2h3");
  EXPECT_NO_THROW(CheckShapes(reduced, r.U));
  EXPECT_THROW(RemoveHeads(p.arch, {{1, 0}, {1, 1}}), Error);
}

TEST(Pruning, HeadWithZeroWeightLeavesPredictionsUnchanged) {
  // U_1 with every row and column of the paths through head 2 of layer 1 zero
  // (an SPD block on the other paths): silencing that head changes nothing.
  SmallProblem p = MakeSmallProblem({2, 2}, 24, 30, 10.0);
  const PathKernel train(ComputePathInputs(p.arch, p.x, Split::kTrain));
  const PathInputs test = ComputePathInputs(p.arch, p.x_test, Split::kTest);
  Eigen::MatrixXd U = Eigen::MatrixXd::Zero(4, 4);
  U.topLeftCorner(2, 2) << 1.7, 0.4, 0.4, 0.6;  // paths (0,0), (0,1)
  const double T = 0.05;
  const PredictorStatistics before = Predict(train, p.y, T, U, test, &p.y_test);
  const PredictorStatistics after =
      Predict(train, p.y, T, SilenceHeads(Paths({2, 2}), U, {{1, 1}}), test, &p.y_test);
  EXPECT_EQ((after.mean - before.mean).cwiseAbs().maxCoeff(), 0.0);
  EXPECT_EQ((after.variance - before.variance).cwiseAbs().maxCoeff(), 0.0);

  // Through the pruning driver: that head scores 0 and goes first; the curve
  // does not move at that step.
  PruningOptions options;
  options.orders = {PruningOrder::kIncreasing};
  PruningSummary summary;
  const PruningResult r =
      PruneBySilencing(p.arch, train, p.y, T, U, test, p.y_test, options, &summary);
  EXPECT_DOUBLE_EQ(r.relevance.score[0][1], 0.0);
  ASSERT_EQ(r.curves.size(), 1u);
  const PruningCurve& c = r.curves[0];
  ASSERT_EQ(c.steps.size(), 3u);
  EXPECT_EQ(c.sequence[0], (HeadId{1, 1}));
  EXPECT_EQ(c.steps[1].accuracy, c.steps[0].accuracy);
  EXPECT_EQ(c.steps[1].generalization_error, c.steps[0].generalization_error);
  EXPECT_EQ(c.steps[0].accuracy, before.accuracy);
  EXPECT_EQ(c.steps[1].paths_remaining, 2);
  EXPECT_EQ(summary.steps, 2);
}

TEST(Pruning, SilencingEqualsTheReducedNetworkWithRescaledU) {
  // The reduced network's path inputs are the full network's times
  // √(Htot/Htot') (ξ_π carries 1/√Htot), so silencing equals predicting with
  // the reduced network and U' = (Htot'/Htot) · U restricted to its paths.
  SmallProblem p = MakeSmallProblem({2, 3}, 20, 25, 10.0, 3);
  const PathKernel train(ComputePathInputs(p.arch, p.x, Split::kTrain));
  const PathInputs test = ComputePathInputs(p.arch, p.x_test, Split::kTest);
  std::mt19937_64 g(2);
  std::normal_distribution<double> normal;
  const Eigen::MatrixXd A = Eigen::MatrixXd::NullaryExpr(6, 6, [&] { return normal(g); });
  OrderParameters op;
  op.U = {A * A.transpose() / 6.0 + 0.1 * Eigen::MatrixXd::Identity(6, 6),
          Eigen::MatrixXd::Identity(3, 3)};
  const std::vector<HeadId> pruned = {{2, 0}};
  const double T = 0.02;
  const PredictorStatistics silenced =
      Predict(train, p.y, T, SilenceHeads(Paths({2, 3}), op.U[0], pruned), test, &p.y_test);
  const Architecture reduced = RemoveHeads(p.arch, pruned);
  const PathKernel train_r(ComputePathInputs(reduced, p.x, Split::kTrain));
  const PathInputs test_r = ComputePathInputs(reduced, p.x_test, Split::kTest);
  const Eigen::MatrixXd U_r = RestrictOrderParameters(p.arch, op, pruned).U[0] * (4.0 / 6.0);
  const PredictorStatistics direct = Predict(train_r, p.y, T, U_r, test_r, &p.y_test);
  EXPECT_LT((silenced.mean - direct.mean).cwiseAbs().maxCoeff(), 1e-10);
  EXPECT_LT((silenced.variance - direct.variance).cwiseAbs().maxCoeff(), 1e-10);
  EXPECT_EQ(silenced.accuracy, direct.accuracy);
}

TEST(Pruning, ResolveEqualsASolveOfTheReducedNetworkFromGp) {
  // Re-solving is warm-started; its minimiser must equal a cold solve of the
  // reduced architecture from U_GP.
  SmallProblem p = MakeSmallProblem({2, 2}, 20, 25, 8.0, 4);
  const double T = 0.05;
  const PathKernel train(ComputePathInputs(p.arch, p.x, Split::kTrain));
  const Action action(p.arch, train, p.y, T);
  SolveOptions so;
  so.compute_hessian = false;
  SolveSummary ss;
  const Solution sol = Solve(action, so, &ss);
  ASSERT_TRUE(ss.converged()) << ss.FullReport();

  PruningOptions options;
  options.orders = {PruningOrder::kIncreasing, PruningOrder::kDecreasing};
  options.solve = so;
  PruningSummary summary;
  const PruningResult r = PruneByResolving(p.arch, p.x, p.y, p.x_test, p.y_test, T,
                                           sol.order_parameters, options, &summary);
  EXPECT_EQ(summary.not_converged, 0) << summary.BriefReport();
  ASSERT_EQ(r.curves.size(), 2u);
  for (const PruningCurve& c : r.curves) {
    ASSERT_EQ(c.steps.size(), 3u);
    for (int k = 1; k <= 2; ++k) {
      const std::vector<HeadId> removed(c.sequence.begin(), c.sequence.begin() + k);
      const Architecture reduced = RemoveHeads(p.arch, removed);
      const PathKernel kr(ComputePathInputs(reduced, p.x, Split::kTrain));
      const PathInputs tr = ComputePathInputs(reduced, p.x_test, Split::kTest);
      const Action ar(reduced, kr, p.y, T);
      SolveSummary cold_summary;
      const Solution cold = Solve(ar, so, &cold_summary);
      ASSERT_TRUE(cold_summary.converged());
      const PredictorStatistics st = Predict(kr, p.y, T, cold.order_parameters.U[0], tr, &p.y_test);
      const PruningStep& s = c.steps[static_cast<size_t>(k)];
      EXPECT_TRUE(s.converged);
      EXPECT_NEAR(s.action, cold.action, 1e-7 * std::max(1.0, std::abs(cold.action)));
      EXPECT_NEAR(s.generalization_error, st.generalization_error, 1e-6);
      EXPECT_EQ(s.accuracy, st.accuracy);
      EXPECT_EQ(s.paths_remaining, kr.Htot());
    }
  }
  // Step 0 is the full network at its solution.
  const PathInputs test = ComputePathInputs(p.arch, p.x_test, Split::kTest);
  const PredictorStatistics full =
      Predict(train, p.y, T, sol.order_parameters.U[0], test, &p.y_test);
  EXPECT_EQ(r.curves[0].steps[0].accuracy, full.accuracy);
  EXPECT_NEAR(r.curves[0].steps[0].action, sol.action, 1e-9 * std::abs(sol.action));
  // Both curves remove two heads, so at most 4 distinct reduced networks.
  EXPECT_LE(summary.solves, 4);
}

// The paths of the full network that avoid every removed head, by a plain
// scan of the packing (theory.md §2: h_1 outermost).
std::vector<Eigen::Index> PathsAvoiding(const std::vector<Eigen::Index>& H,
                                        const std::vector<HeadId>& removed) {
  const Paths paths(H);
  std::vector<Eigen::Index> kept;
  for (Eigen::Index p = 0; p < paths.Htot(); ++p) {
    const std::vector<Eigen::Index> heads = paths.Heads(p);
    bool through = false;
    for (const HeadId& r : removed) through |= heads[static_cast<size_t>(r.layer - 1)] == r.head;
    if (!through) kept.push_back(p);
  }
  return kept;
}

double MaxAbs(const Eigen::MatrixXd& m) { return m.cwiseAbs().maxCoeff(); }

// Re-solving selects the reduced network's path inputs and kernels from the
// full network's (kernels/path_inputs.h, path_kernel.h SelectPaths): they must
// equal the reduced architecture's own, computed from the raw inputs, for L = 1
// and L = 2, several heads and removals, and every pair of kernel strategies.
TEST(Pruning, SelectedPathInputsAndKernelsEqualTheReducedNetworksOwn) {
  struct Case {
    std::vector<int> heads;
    std::vector<HeadId> removed;
  };
  const std::vector<Case> cases = {{{4}, {{1, 0}, {1, 2}}},      {{4}, {{1, 3}}},
                                   {{3, 2}, {{1, 1}}},           {{3, 2}, {{2, 0}}},
                                   {{3, 2}, {{1, 0}, {1, 2}}},   {{2, 3}, {{1, 0}, {2, 1}}},
                                   {{2, 2, 2}, {{2, 1}, {3, 0}}}};
  std::mt19937_64 g(31);
  std::normal_distribution<double> normal;
  for (const Case& c : cases) {
    SmallProblem p = MakeSmallProblem(c.heads, 12, 7, 10.0, 11);
    SCOPED_TRACE("L = " + std::to_string(p.arch.L()) + ", Htot = " + std::to_string(p.arch.Htot()) +
                 ", removed " + std::to_string(c.removed.size()));
    const Architecture reduced = RemoveHeads(p.arch, c.removed);
    const std::vector<Eigen::Index> kept = PathsAvoiding(p.arch.heads_per_layer(), c.removed);
    ASSERT_EQ(static_cast<Eigen::Index>(kept.size()), reduced.Htot());
    const PathInputs full_train = ComputePathInputs(p.arch, p.x, Split::kTrain);
    const PathInputs full_test = ComputePathInputs(p.arch, p.x_test, Split::kTest);
    const PathInputs own_train = ComputePathInputs(reduced, p.x, Split::kTrain);
    const PathInputs own_test = ComputePathInputs(reduced, p.x_test, Split::kTest);
    for (const auto& [sel, own] : {std::pair{SelectPaths(full_train, kept), &own_train},
                                   std::pair{SelectPaths(full_test, kept), &own_test}}) {
      ASSERT_EQ(sel.Htot, own->Htot);
      ASSERT_EQ(sel.N0, own->N0);
      EXPECT_LE(MaxAbs(sel.xi - own->xi), 1e-12 * MaxAbs(own->xi));
    }
    const Eigen::Index Hr = reduced.Htot();
    const Eigen::MatrixXd A = Eigen::MatrixXd::NullaryExpr(Hr, Hr, [&] { return normal(g); });
    const Eigen::MatrixXd U = A * A.transpose();
    for (KernelStrategy from : {KernelStrategy::kPrecomputed, KernelStrategy::kFactored}) {
      const PathKernel full(full_train, {from});
      for (KernelStrategy to : {KernelStrategy::kPrecomputed, KernelStrategy::kFactored}) {
        SCOPED_TRACE(std::string(KernelStrategyName(from)) + " -> " + KernelStrategyName(to));
        const PathKernel sel = full.SelectPaths(kept, {to});
        const PathKernel own(own_train, {to});
        ASSERT_EQ(sel.strategy(), to);
        ASSERT_EQ(sel.Htot(), Hr);
        const double scale = MaxAbs(own.Pair(0, 0));
        for (Eigen::Index a = 0; a < Hr; ++a) {
          for (Eigen::Index b = 0; b < Hr; ++b) {
            EXPECT_LE(MaxAbs(sel.Pair(a, b) - own.Pair(a, b)), 1e-12 * scale) << a << "," << b;
          }
        }
        EXPECT_LE(MaxAbs(sel.Total(U) - own.Total(U)), 1e-12 * MaxAbs(own.Total(U)));
      }
    }
  }
  const PathInputs xi = ComputePathInputs(MakeSmallProblem({2, 2}, 5, 1, 10.0).arch,
                                          MakeSmallProblem({2, 2}, 5, 1, 10.0).x, Split::kTrain);
  EXPECT_THROW(SelectPaths(xi, {}), Error);
  EXPECT_THROW(SelectPaths(xi, {0, 4}), Error);
  EXPECT_THROW(SelectPaths(xi, {2, 1}), Error);
  EXPECT_THROW(SelectPaths(xi, {1, 1}), Error);
}

// The pruning curve from selected path inputs equals the one recomputed from
// the raw inputs for every reduced network (the former route), step by step,
// for L = 2 and every order; the precomputed-kernel overload gives the same
// numbers as the raw-input one.
TEST(Pruning, ResolveBySelectingPathsEqualsResolveByRecomputingThem) {
  SmallProblem p = MakeSmallProblem({3, 2}, 20, 25, 8.0, 5);
  const double T = 0.05;
  const PathKernel train(ComputePathInputs(p.arch, p.x, Split::kTrain));
  const PathInputs test = ComputePathInputs(p.arch, p.x_test, Split::kTest);
  SolveOptions so;
  so.compute_hessian = false;
  SolveSummary ss;
  const Solution sol = Solve(Action(p.arch, train, p.y, T), so, &ss);
  ASSERT_TRUE(ss.converged()) << ss.FullReport();

  PruningOptions options;
  options.random_repeats = 2;
  options.solve = so;
  PruningSummary sliced_summary, recomputed_summary, kernel_summary;
  const PruningResult sliced = PruneByResolving(p.arch, p.x, p.y, p.x_test, p.y_test, T,
                                                sol.order_parameters, options, &sliced_summary);
  const PruningResult from_kernel = PruneByResolving(
      p.arch, train, p.y, test, p.y_test, T, sol.order_parameters, options, &kernel_summary);
  PruningOptions recompute = options;
  recompute.recompute_path_inputs = true;
  const PruningResult recomputed =
      PruneByResolving(p.arch, p.x, p.y, p.x_test, p.y_test, T, sol.order_parameters, recompute,
                       &recomputed_summary);
  EXPECT_EQ(sliced_summary.solves, recomputed_summary.solves);
  EXPECT_EQ(sliced_summary.not_converged, 0) << sliced_summary.BriefReport();
  ASSERT_EQ(sliced.curves.size(), 4u);
  ASSERT_EQ(recomputed.curves.size(), sliced.curves.size());
  ASSERT_EQ(from_kernel.curves.size(), sliced.curves.size());
  for (size_t c = 0; c < sliced.curves.size(); ++c) {
    const PruningCurve &a = sliced.curves[c], &b = recomputed.curves[c], &k = from_kernel.curves[c];
    ASSERT_EQ(a.sequence, b.sequence);
    ASSERT_EQ(a.steps.size(), 4u);  // Σ (H_ℓ − 1) = 3 removals
    ASSERT_EQ(b.steps.size(), a.steps.size());
    for (size_t s = 0; s < a.steps.size(); ++s) {
      SCOPED_TRACE("curve " + std::to_string(c) + ", step " + std::to_string(s));
      EXPECT_EQ(a.steps[s].paths_remaining, b.steps[s].paths_remaining);
      EXPECT_EQ(a.steps[s].converged, b.steps[s].converged);
      EXPECT_EQ(a.steps[s].accuracy, b.steps[s].accuracy);
      // Both routes stop at the solver's tolerance from inputs that differ in
      // the last bits.
      EXPECT_NEAR(a.steps[s].generalization_error, b.steps[s].generalization_error, 1e-8);
      EXPECT_NEAR(a.steps[s].action, b.steps[s].action, 1e-9 * std::abs(b.steps[s].action));
      EXPECT_EQ(a.steps[s].accuracy, k.steps[s].accuracy);
      EXPECT_EQ(a.steps[s].generalization_error, k.steps[s].generalization_error);
      EXPECT_EQ(a.steps[s].action, k.steps[s].action);
    }
  }
  EXPECT_THROW(PruneByResolving(p.arch, train, p.y, test, p.y_test, T, sol.order_parameters,
                                recompute, nullptr),
               Error);
}

TEST(Pruning, InvalidOptionsNameTheField) {
  PruningOptions o;
  o.random_repeats = 0;
  std::string why;
  EXPECT_FALSE(o.IsValid(&why));
  EXPECT_NE(why.find("pruning.random_repeats: found 0"), std::string::npos) << why;
  o.random_repeats = 1;
  o.orders.clear();
  EXPECT_FALSE(o.IsValid(&why));
  EXPECT_THROW(ParsePruningOrder("sideways", "--orders"), Error);
  EXPECT_EQ(ParsePruningMode("resolve", "--mode"), PruningMode::kResolve);
}

// The paper's Markov task (theory.md §8) at N = 10 with a smaller test set:
// the good head scores highest, and silencing the most relevant head costs
// more accuracy than silencing the least relevant one.
TEST(Pruning, HmmMostRelevantHeadMattersMoreThanLeastRelevant) {
  HmmTaskOptions task;
  const Dataset train = GenerateHmmTask(task);
  HmmTaskOptions test_task = task;
  test_task.P = 400;
  test_task.seed = 59;
  const Dataset test = GenerateHmmTask(test_task);
  Architecture arch = HmmArchitecture(HmmVariant::kFourPaths, task);
  arch.SetUniform(10.0);
  const double T = 0.01;
  const PathKernel kernel(ComputePathInputs(arch, train.x, Split::kTrain));
  const PathInputs test_inputs = ComputePathInputs(arch, test.x, Split::kTest);
  const Action action(arch, kernel, train.y, T);
  SolveOptions so;
  so.compute_hessian = false;
  so.gradient_tolerance = 1e-7;
  SolveSummary ss;
  const Solution sol = Solve(action, so, &ss);
  ASSERT_TRUE(ss.converged()) << ss.FullReport();

  PruningOptions options;
  options.orders = {PruningOrder::kIncreasing, PruningOrder::kDecreasing};
  PruningSummary summary;
  const PruningResult r = PruneBySilencing(arch, kernel, train.y, T, sol.order_parameters.U[0],
                                           test_inputs, test.y, options, &summary);
  // The good path (good>uniform) dominates U_1, so its two heads rank first.
  const Eigen::MatrixXd& U1 = sol.order_parameters.U[0];
  Eigen::Index big_row, big_col;
  U1.cwiseAbs().maxCoeff(&big_row, &big_col);
  EXPECT_EQ(big_row, 0);
  EXPECT_EQ(big_col, 0);
  const std::vector<HeadScore> ranking = r.relevance.Ranking();
  EXPECT_DOUBLE_EQ(ranking.front().score, 1.0);
  const std::set<std::string> top = {ranking[0].name, ranking[1].name};
  EXPECT_EQ(top, (std::set<std::string>{"good", "uniform"}));
  const PruningCurve& least = r.curves[0];
  const PruningCurve& most = r.curves[1];
  ASSERT_EQ(least.order, PruningOrder::kIncreasing);
  const double full = least.steps[0].accuracy;
  const double drop_least = full - least.steps[1].accuracy;
  const double drop_most = full - most.steps[1].accuracy;
  EXPECT_GT(drop_most, drop_least)
      << "full " << full << ", least relevant removed " << least.steps[1].accuracy
      << ", most relevant removed " << most.steps[1].accuracy;
  EXPECT_GT(drop_most, 0.05);
}

}  // namespace
}  // namespace attnpaths
