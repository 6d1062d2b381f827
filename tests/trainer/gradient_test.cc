// The backpropagated gradient of the training objective
// E(θ) = (1/B) Σ (f − y)² + (λ/2)‖θ‖² (trainer/forward_backward.h) against
// Richardson-extrapolated central differences, block by block: Q, K, V_0,
// every V_{ℓ,h} and a (theory.md §1 network, QK-form softmax heads).
#include <gtest/gtest.h>

#include <Eigen/Core>
#include <cmath>
#include <string>
#include <vector>

#include "kernels/error.h"
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

struct Case {
  std::vector<Eigen::Index> heads, widths;
  Readout readout;
  double weight_decay;
};

// Checks the gradient of every parameter block against finite differences.
void CheckGradient(const Case& c, const HeadMask& mask, std::uint32_t seed) {
  Rng rng(seed);
  const Network net = RandomNetwork(5, 4, c.heads, c.widths, 3, c.readout, rng);
  const Inputs x = RandomInputs(12, 4, 5, rng);
  const Eigen::VectorXd y = test_util::RandomLabels(12, 1, rng, true).col(0);
  const std::vector<Eigen::Index> batch = {3, 0, 7, 7, 11, 5};  // a repeat is allowed
  Eigen::VectorXd grad;
  LossAndGradient(net, x, y, batch, c.weight_decay, &grad, mask);
  auto objective = [&](const Eigen::VectorXd& theta) {
    Network moved = net;
    moved.parameters() = theta;
    return LossAndGradient(moved, x, y, batch, c.weight_decay, nullptr, mask).objective;
  };
  const Eigen::VectorXd fd = test_util::FiniteDifferenceGradient(objective, net.parameters(), 1e-3);
  const ParameterLayout& lay = net.layout();
  auto check = [&](const std::string& name, ParameterLayout::Block b) {
    SCOPED_TRACE(name);
    const Eigen::VectorXd g = grad.segment(b.offset, b.rows * b.cols);
    const Eigen::VectorXd r = fd.segment(b.offset, b.rows * b.cols);
    // Richardson-extrapolated differences are accurate to ~1e-10 relative
    // (tests/support/finite_difference.h); 1e-7 leaves room for rounding.
    EXPECT_LE((g - r).cwiseAbs().maxCoeff(), 1e-7 * std::max(1.0, r.cwiseAbs().maxCoeff()));
  };
  check("V_0", lay.V0());
  check("a", lay.a());
  for (int l = 1; l <= net.shape().L(); ++l) {
    for (Eigen::Index h = 0; h < net.shape().heads[l - 1]; ++h) {
      const std::string name = TrainedHeadName(l, h);
      check("V of " + name, lay.V(l, h));
      check("Q of " + name, lay.Q(l, h));
      check("K of " + name, lay.K(l, h));
      if (mask.empty() || mask[l - 1][h]) {
        // The attention weights matter: their gradient is not zero.
        EXPECT_GT(grad.segment(lay.Q(l, h).offset, lay.Q(l, h).rows * lay.Q(l, h).cols)
                      .cwiseAbs()
                      .maxCoeff(),
                  1e-6)
            << name;
      }
    }
  }
}

TEST(TrainerGradientTest, MatchesFiniteDifferencesForEveryParameter) {
  const Case cases[] = {
      {{3}, {4, 3}, Readout::kMean, 0.0},
      {{2, 3}, {4, 3, 5}, Readout::kMean, 0.0},
      {{2, 2}, {3, 4, 2}, Readout::kLast, 0.05},
      {{2, 1, 2}, {3, 2, 4, 3}, Readout::kFirst, 0.01},
  };
  std::uint32_t seed = 21;
  for (const Case& c : cases) {
    SCOPED_TRACE("L = " + std::to_string(c.heads.size()) + ", readout " + ReadoutName(c.readout) +
                 ", weight decay " + std::to_string(c.weight_decay));
    CheckGradient(c, {}, seed++);
  }
}

TEST(TrainerGradientTest, RemovedHeadsGetZeroGradientAndTheRestMatches) {
  const Case c{{3, 2}, {4, 3, 3}, Readout::kMean, 0.0};
  HeadMask mask = {{true, false, true}, {false, true}};
  CheckGradient(c, mask, 31);
  Rng rng(31);
  const Network net = RandomNetwork(5, 4, c.heads, c.widths, 3, c.readout, rng);
  const Inputs x = RandomInputs(12, 4, 5, rng);
  const Eigen::VectorXd y = test_util::RandomLabels(12, 1, rng, true).col(0);
  Eigen::VectorXd grad;
  LossAndGradient(net, x, y, {0, 1, 2}, 0.0, &grad, mask);
  for (const auto& [l, h] : {std::pair{1, 1}, std::pair{2, 0}}) {
    for (auto b : {net.layout().V(l, h), net.layout().Q(l, h), net.layout().K(l, h)}) {
      EXPECT_EQ(grad.segment(b.offset, b.rows * b.cols).cwiseAbs().maxCoeff(), 0.0);
    }
  }
}

TEST(TrainerGradientTest, ThreadsGiveTheSameLossAndGradient) {
  Rng rng(41);
  const Network net = RandomNetwork(5, 4, {2, 2}, {4, 3, 3}, 2, Readout::kMean, rng);
  const Inputs x = RandomInputs(150, 4, 5, rng);
  const Eigen::VectorXd y = test_util::RandomLabels(150, 1, rng, true).col(0);
  std::vector<Eigen::Index> all(150);
  for (int i = 0; i < 150; ++i) all[i] = i;
  Eigen::VectorXd g1, g2;
  const Loss l1 = LossAndGradient(net, x, y, all, 0.0, &g1, {}, 1);
  const Loss l2 = LossAndGradient(net, x, y, all, 0.0, &g2, {}, 2);
  EXPECT_NEAR(l1.objective, l2.objective, 1e-13 * l1.objective);
  EXPECT_LE(RelativeError(g2, g1), 1e-12);
  // The loss is the mean squared error of Predict.
  EXPECT_NEAR(l1.mean_squared_error, (Predict(net, x) - y).squaredNorm() / 150, 1e-13);
}

TEST(TrainerGradientTest, LogisticLossGradientMatchesFiniteDifferences) {
  // E(θ) = (1/B) Σ log(1 + e^{−y f}) + (λ/2)‖θ‖² (docs/attention-hessian.md, Part E).
  Rng rng(43);
  const Network net = RandomNetwork(5, 4, {2, 2}, {4, 3, 3}, 3, Readout::kLast, rng);
  const Inputs x = RandomInputs(9, 4, 5, rng);
  const Eigen::VectorXd y = test_util::RandomLabels(9, 1, rng, true).col(0);
  const std::vector<Eigen::Index> batch = {0, 2, 3, 8, 8};
  Eigen::VectorXd grad;
  const Loss loss = LossAndGradient(net, x, y, batch, 0.02, &grad, {}, 1, LossKind::kLogistic);
  const Eigen::VectorXd f = Predict(net, x);
  double direct = 0;
  for (Eigen::Index mu : batch) direct += std::log(1 + std::exp(-y(mu) * f(mu))) / 5;
  EXPECT_NEAR(loss.data_loss, direct, 1e-14);
  EXPECT_NEAR(loss.objective, direct + 0.01 * net.parameters().squaredNorm(), 1e-12);
  auto objective = [&](const Eigen::VectorXd& theta) {
    Network moved = net;
    moved.parameters() = theta;
    return LossAndGradient(moved, x, y, batch, 0.02, nullptr, {}, 1, LossKind::kLogistic).objective;
  };
  const Eigen::VectorXd fd = test_util::FiniteDifferenceGradient(objective, net.parameters(), 1e-3);
  EXPECT_LE((grad - fd).cwiseAbs().maxCoeff(), 1e-8 * std::max(1.0, fd.cwiseAbs().maxCoeff()));
  // Two threads: the same.
  Eigen::VectorXd grad2;
  LossAndGradient(net, x, y, batch, 0.02, &grad2, {}, 2, LossKind::kLogistic);
  EXPECT_LE(RelativeError(grad2, grad), 1e-13);
  EXPECT_THROW(ParseLossKind("hinge", "training.loss"), Error);
}

TEST(TrainerGradientTest, RejectsBadBatchesAndWeightDecay) {
  Rng rng(42);
  const Network net = RandomNetwork(5, 4, {2}, {3, 3}, 2, Readout::kMean, rng);
  const Inputs x = RandomInputs(5, 4, 5, rng);
  const Eigen::VectorXd y = Eigen::VectorXd::Ones(5);
  Eigen::VectorXd g;
  EXPECT_THROW(LossAndGradient(net, x, y, {}, 0.0, &g), Error);
  try {
    LossAndGradient(net, x, y, {0, 5}, 0.0, &g);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "batch example index: found 5, expected 0 … 4");
  }
  EXPECT_THROW(LossAndGradient(net, x, y, {0}, -1.0, &g), Error);
  EXPECT_THROW(LossAndGradient(net, x, Eigen::VectorXd::Ones(4), {0}, 0.0, &g), Error);
}

}  // namespace
}  // namespace attnpaths
