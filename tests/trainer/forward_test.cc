// The trainer's forward pass (theory.md §1) against two independent
// computations: the library's effective-path form (path inputs ξ_π of
// kernels/path_inputs.h with the same QK heads, theory.md §2 and §5 "Sampling
// cost") and a token-by-token loop; head removal against zeroed V matrices.
#include <gtest/gtest.h>

#include <Eigen/Core>
#include <cmath>
#include <vector>

#include "kernels/architecture.h"
#include "kernels/error.h"
#include "kernels/path_inputs.h"
#include "kernels/paths.h"
#include "network/network.h"
#include "tests/support/brute_force.h"
#include "tests/support/finite_difference.h"
#include "tests/support/random_inputs.h"
#include "tests/trainer/test_network.h"
#include "trainer/forward_backward.h"

namespace attnpaths {
namespace {

using test_util::RandomInputs;
using test_util::RandomNetwork;
using test_util::RelativeError;
using test_util::Rng;

// f(x) = Σ_π u_π · ξ_π(x) / (σ_0 √(n_{L+1} Π_ℓ n_ℓ)) with
// u_π = V_0ᵀ V_{1,h_1}ᵀ ⋯ V_{L,h_L}ᵀ a and ξ_π from kernels/ (σ_0 = 1): the
// effective-path form of theory.md §5 (c √(N0 Htot) = 1/√(n_{L+1} Π n_ℓ)).
// Paths through a head removed by `mask` are left out.
Eigen::VectorXd PathFormOutput(const Network& net, const Inputs& x, const HeadMask& mask) {
  const NetworkShape& s = net.shape();
  const Architecture arch = FrozenHeadArchitecture(net, 1.0);  // every head; σ_0² = 1
  const PathInputs xi = ComputePathInputs(arch, x, Split::kTrain, 1);
  const Paths paths(arch.heads_per_layer());
  double scale = std::sqrt(static_cast<double>(s.widths.back()));
  for (int l = 1; l <= s.L(); ++l) scale *= std::sqrt(static_cast<double>(s.widths[l - 1]));
  Eigen::VectorXd f = Eigen::VectorXd::Zero(x.P());
  for (Eigen::Index p = 0; p < paths.Htot(); ++p) {
    const std::vector<Eigen::Index> h = paths.Heads(p);
    bool kept = true;
    for (int l = 1; l <= s.L(); ++l) {
      if (!mask.empty() && !mask[l - 1][h[l - 1]]) kept = false;
    }
    if (!kept) continue;
    Eigen::VectorXd u = net.a().col(0);  // e ← V_{ℓ,h_ℓ}ᵀ e from the top down
    for (int l = s.L(); l >= 1; --l) u = net.V(l, h[l - 1]).transpose() * u;
    u = net.V0().transpose() * u;
    f += xi.path(p) * u / scale;
  }
  return f;
}

// theory.md §1 token by token with scalar loops (tests/support/brute_force.h),
// attention from the brute-force loops on the same QK heads.
double TokenByTokenOutput(const Network& net, const Eigen::MatrixXd& x, const HeadMask& mask) {
  const NetworkShape& s = net.shape();
  const Architecture arch = FrozenHeadArchitecture(net, 1.0);
  std::vector<std::vector<Eigen::MatrixXd>> V(static_cast<size_t>(s.L()));
  for (int l = 1; l <= s.L(); ++l) {
    for (Eigen::Index h = 0; h < s.heads[l - 1]; ++h) V[l - 1].push_back(net.V(l, h));
  }
  Inputs one(1, s.n_tok, s.N0);
  one.example(0) = x;
  return test_util::BruteNetworkOutput(arch, net.V0(), V, net.a(), one, 0, Split::kTrain, mask)(0);
}

struct Case {
  std::vector<Eigen::Index> heads, widths;
  Readout readout;
};

const Case kCases[] = {
    {{3}, {4, 2}, Readout::kMean},
    {{2, 3}, {4, 5, 3}, Readout::kMean},
    {{2, 2}, {3, 4, 2}, Readout::kLast},
    {{2, 1, 2}, {3, 4, 2, 3}, Readout::kFirst},
};

TEST(TrainerForwardTest, EqualsEffectivePathFormAndTokenByTokenLoop) {
  Rng rng(3);
  for (const Case& c : kCases) {
    SCOPED_TRACE("L = " + std::to_string(c.heads.size()) + ", readout " + ReadoutName(c.readout));
    const Network net = RandomNetwork(6, 5, c.heads, c.widths, 3, c.readout, rng);
    // 70 examples: more than one chunk of 64, so chunk boundaries are covered.
    const Inputs x = RandomInputs(70, 5, 6, rng);
    const Eigen::VectorXd f = Predict(net, x);
    const Eigen::VectorXd path_form = PathFormOutput(net, x, {});
    EXPECT_LE(RelativeError(f, path_form), 1e-12);
    for (Eigen::Index mu : {0, 33, 69}) {
      EXPECT_NEAR(f(mu), TokenByTokenOutput(net, x.example(mu), {}),
                  1e-12 * std::max(1.0, path_form.cwiseAbs().maxCoeff()));
    }
    // Two threads: the same values (each example is computed alone).
    EXPECT_LE(RelativeError(Predict(net, x, {}, 2), f), 1e-14);
  }
}

TEST(TrainerForwardTest, RemovingAHeadEqualsZeroingItsValueMatrix) {
  Rng rng(5);
  const Network net = RandomNetwork(6, 5, {3, 2}, {4, 5, 3}, 2, Readout::kMean, rng);
  const Inputs x = RandomInputs(20, 5, 6, rng);
  for (int l = 1; l <= 2; ++l) {
    for (Eigen::Index h = 0; h < net.shape().heads[l - 1]; ++h) {
      SCOPED_TRACE(TrainedHeadName(l, h));
      HeadMask mask = AllHeads(net.shape());
      mask[l - 1][h] = false;
      Network zeroed = net;
      zeroed.V(l, h).setZero();
      const Eigen::VectorXd masked = Predict(net, x, mask);
      EXPECT_LE(RelativeError(masked, Predict(zeroed, x)), 1e-13);
      EXPECT_LE(RelativeError(masked, PathFormOutput(net, x, mask)), 1e-12);
      EXPECT_NEAR(masked(4), TokenByTokenOutput(net, x.example(4), mask),
                  1e-12 * std::max(1.0, masked.cwiseAbs().maxCoeff()));
      EXPECT_GT((masked - Predict(net, x)).cwiseAbs().maxCoeff(), 1e-6);  // it did change
    }
  }
  // Two heads of layer 1 at once.
  HeadMask mask = AllHeads(net.shape());
  mask[0][0] = mask[0][2] = false;
  Network zeroed = net;
  zeroed.V(1, 0).setZero();
  zeroed.V(1, 2).setZero();
  EXPECT_LE(RelativeError(Predict(net, x, mask), Predict(zeroed, x)), 1e-13);
}

TEST(TrainerForwardTest, EvaluateCountsSignsAndMeanSquaredError) {
  Rng rng(8);
  const Network net = RandomNetwork(4, 3, {2}, {3, 2}, 2, Readout::kMean, rng);
  const Inputs x = RandomInputs(9, 3, 4, rng);
  const Eigen::VectorXd f = Predict(net, x);
  Eigen::VectorXd y(9);
  for (int i = 0; i < 9; ++i) y(i) = (i % 3 == 0) ? -1.0 : 1.0;
  const Evaluation e = Evaluate(net, x, y);
  double right = 0;
  for (int i = 0; i < 9; ++i) right += (f(i) > 0) == (y(i) > 0);
  EXPECT_DOUBLE_EQ(e.accuracy, right / 9);
  EXPECT_NEAR(e.loss, (f - y).squaredNorm() / 9, 1e-15);
  // The rule itself (f = 0 counts as wrong, theory.md §4) is kernels/metrics.h's,
  // tested in tests/kernels/metrics_test.cc.
}

TEST(TrainerForwardTest, FrozenHeadArchitectureHoldsTheTrainedQK) {
  Rng rng(9);
  const Network net = RandomNetwork(5, 4, {2, 3}, {3, 3, 3}, 2, Readout::kMean, rng);
  HeadMask mask = AllHeads(net.shape());
  mask[1][1] = false;
  const Architecture arch = FrozenHeadArchitecture(net, 30, mask);
  ASSERT_EQ(arch.heads_per_layer(), (std::vector<Eigen::Index>{2, 2}));
  EXPECT_EQ(arch.layers[1][1].name, "L2H3");
  EXPECT_EQ(arch.layers[1][1].kind, HeadKind::kQKForm);
  EXPECT_EQ(arch.layers[1][1].Q, net.Q(2, 2));
  EXPECT_EQ(arch.layers[1][1].K, net.K(2, 2));
  EXPECT_EQ(arch.widths, (std::vector<double>{30, 30, 30}));
  EXPECT_EQ(arch.readout, Readout::kMean);
  mask[0] = {false, false};
  EXPECT_THROW(FrozenHeadArchitecture(net, 30, mask), Error);
}

TEST(TrainerForwardTest, RejectsInputsThatDoNotFit) {
  Rng rng(10);
  const Network net = RandomNetwork(5, 4, {2}, {3, 3}, 2, Readout::kMean, rng);
  try {
    Predict(net, RandomInputs(3, 4, 6, rng));
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(),
                 "inputs N0 (features per token): found 6, expected 5 (the network's N0)");
  }
  EXPECT_THROW(Predict(net, RandomInputs(3, 5, 5, rng)), Error);
  EXPECT_THROW(Predict(net, RandomInputs(3, 4, 5, rng), HeadMask{{true}}), Error);
  NetworkShape bad = net.shape();
  bad.widths = {3};
  try {
    Network n(bad);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "network.widths count: found 1, expected 2 (n_1, …, n_L, n_{L+1})");
  }
}

}  // namespace
}  // namespace attnpaths
