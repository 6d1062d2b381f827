// Train() (trainer/train.h): reproducibility from the seed, learning a small
// task that needs attention, the bookkeeping of the summary and loss curve,
// and input validation.
#include "trainer/train.h"

#include <gtest/gtest.h>

#include <Eigen/Core>
#include <cmath>
#include <numbers>
#include <vector>

#include "kernels/error.h"
#include "tests/support/random_inputs.h"
#include "trainer/forward_backward.h"

namespace attnpaths {
namespace {

using test_util::Rng;

// Sequences of 4 tokens, each 2 Gaussian content features plus a one-hot
// position code (N0 = 6); the label is the sign of content feature 0 of token 2.
struct Task {
  Inputs x;
  Eigen::VectorXd y;
};
Task KeyTokenTask(Eigen::Index P, std::uint32_t seed) {
  Rng rng(seed);
  Task t{Inputs(P, 4, 6), Eigen::VectorXd(P)};
  for (Eigen::Index mu = 0; mu < P; ++mu) {
    auto x = t.x.example(mu);
    for (Eigen::Index s = 0; s < 4; ++s) {
      x(0, s) = rng.Normal();
      x(1, s) = rng.Normal();
      x(2 + s, s) = 1.0;
    }
    t.y(mu) = x(0, 1) > 0 ? 1.0 : -1.0;
  }
  return t;
}

NetworkShape SmallShape() {
  NetworkShape s;
  s.N0 = 6;
  s.n_tok = 4;
  s.heads = {2, 2};
  s.widths = {8, 8, 8};
  s.key_dim = 4;
  s.readout = Readout::kMean;
  return s;
}

TEST(TrainTest, ReproducibleFromTheSeed) {
  const Task train = KeyTokenTask(50, 1), test = KeyTokenTask(30, 2);
  TrainOptions o;
  o.epochs = 4;
  o.batch_size = 8;
  o.seed = 17;
  TrainSummary s1, s2, s3;
  const Network a = Train(SmallShape(), train.x, train.y, &test.x, &test.y, o, &s1);
  const Network b = Train(SmallShape(), train.x, train.y, &test.x, &test.y, o, &s2);
  ASSERT_EQ(s1.loss_curve.size(), 4u);
  ASSERT_EQ(s2.loss_curve.size(), 4u);
  for (size_t e = 0; e < 4; ++e) {
    EXPECT_EQ(s1.loss_curve[e].train_loss, s2.loss_curve[e].train_loss);  // bitwise
    EXPECT_EQ(s1.loss_curve[e].test_loss, s2.loss_curve[e].test_loss);
  }
  EXPECT_EQ(a.parameters(), b.parameters());
  o.seed = 18;
  const Network c = Train(SmallShape(), train.x, train.y, &test.x, &test.y, o, &s3);
  EXPECT_NE(s3.loss_curve.back().train_loss, s1.loss_curve.back().train_loss);
  EXPECT_GT((c.parameters() - a.parameters()).cwiseAbs().maxCoeff(), 1e-3);
}

TEST(TrainTest, LearnsATaskThatNeedsAttention) {
  // With uniform attention the network is linear in the mean token, whose
  // content feature 0 has correlation 1/2 with the label's feature, so no
  // uniform-attention network beats 1/2 + arcsin(1/2)/π = 2/3 (a Gaussian
  // orthant probability). Attending to token 2 gives 1. We require 0.9 on
  // 400 test sequences: 0.9 is > 9 standard errors (√(0.9·0.1/400) = 0.015)
  // above 2/3.
  const Task train = KeyTokenTask(300, 3), test = KeyTokenTask(400, 4);
  TrainOptions o;
  o.epochs = 60;
  o.batch_size = 16;
  o.learning_rate = 1e-2;
  o.seed = 5;
  TrainSummary s;
  const Network net = Train(SmallShape(), train.x, train.y, &test.x, &test.y, o, &s);
  ASSERT_TRUE(s.completed()) << s.message;
  const double uniform_bound = 0.5 + std::asin(0.5) / std::numbers::pi;
  EXPECT_NEAR(uniform_bound, 2.0 / 3.0, 1e-15);
  EXPECT_GE(s.final_test_accuracy, 0.9) << s.FullReport();
  EXPECT_LT(s.final_train_loss, 0.5 * s.initial_train_loss) << s.FullReport();
  EXPECT_EQ(s.final_test_accuracy, Evaluate(net, test.x, test.y).accuracy);
}

TEST(TrainTest, SummaryAndLossCurveBookkeeping) {
  const Task train = KeyTokenTask(37, 6), test = KeyTokenTask(11, 7);
  TrainOptions o;
  o.epochs = 5;
  o.batch_size = 10;  // 4 steps per epoch, the last with 7 examples
  o.eval_every = 2;
  std::vector<int> seen;
  o.progress = [&](const EpochRecord& r) { seen.push_back(r.epoch); };
  TrainSummary s;
  const Network net = Train(SmallShape(), train.x, train.y, &test.x, &test.y, o, &s);
  EXPECT_EQ(seen, (std::vector<int>{1, 2, 3, 4, 5}));
  EXPECT_EQ(s.epochs, 5);
  EXPECT_EQ(s.steps, 20);
  EXPECT_EQ(s.examples, 5 * 37);
  EXPECT_EQ(s.P_train, 37);
  EXPECT_EQ(s.P_test, 11);
  EXPECT_EQ(s.num_parameters, net.num_parameters());
  ASSERT_EQ(s.loss_curve.size(), 5u);
  EXPECT_TRUE(std::isnan(s.loss_curve[0].test_loss));  // epochs 2, 4 and the last only
  EXPECT_FALSE(std::isnan(s.loss_curve[1].test_loss));
  EXPECT_TRUE(std::isnan(s.loss_curve[2].test_loss));
  EXPECT_FALSE(std::isnan(s.loss_curve[4].test_accuracy));
  EXPECT_EQ(s.loss_curve[4].steps, 20);
  // The cosine schedule ends at final_learning_rate_ratio · η.
  EXPECT_NEAR(s.loss_curve[4].learning_rate, o.final_learning_rate_ratio * o.learning_rate, 1e-15);
  const Evaluation e = Evaluate(net, train.x, train.y);
  EXPECT_EQ(s.final_train_loss, e.loss);
  EXPECT_EQ(s.final_train_accuracy, e.accuracy);
  EXPECT_GT(s.examples_per_second, 0);
  EXPECT_NE(s.BriefReport().find("completed, 5 epochs, 20 steps"), std::string::npos);
  EXPECT_NE(s.FullReport().find("Adam steps             20"), std::string::npos);

  // No epochs: the initial network, whose loss is the initial loss.
  o.epochs = 0;
  TrainSummary s0;
  Train(SmallShape(), train.x, train.y, nullptr, nullptr, o, &s0);
  EXPECT_EQ(s0.final_train_loss, s0.initial_train_loss);
  EXPECT_TRUE(std::isnan(s0.final_test_accuracy));
}

TEST(TrainTest, GradientDescentStepsAndFrozenValues) {
  // optimizer = gd: θ_1 = θ_0 − η ∇E(θ_0) over the full batch, exactly;
  // trained = attention: V_0, V, a stay at their initial values.
  const Task train = KeyTokenTask(20, 5);
  TrainOptions o;
  o.epochs = 1;
  o.optimizer = Optimizer::kGradientDescent;
  o.loss = LossKind::kLogistic;
  o.learning_rate = 0.3;
  o.batch_size = 3;  // ignored by gd
  o.seed = 4;
  o.threads = 1;
  TrainSummary s;
  const Network net = Train(SmallShape(), train.x, train.y, nullptr, nullptr, o, &s);
  EXPECT_EQ(s.steps, 1);
  Network start(SmallShape());
  InitializeNetwork(o.value_init_std, o.attention_init_std, o.seed, &start);
  std::vector<Eigen::Index> all(20);
  for (Eigen::Index i = 0; i < 20; ++i) all[static_cast<size_t>(i)] = i;
  Eigen::VectorXd g;
  const Loss loss =
      LossAndGradient(start, train.x, train.y, all, 0.0, &g, {}, 1, LossKind::kLogistic);
  EXPECT_LE((net.parameters() - (start.parameters() - 0.3 * g)).cwiseAbs().maxCoeff(), 1e-15);
  EXPECT_NEAR(s.initial_train_loss, loss.data_loss, 1e-14);
  EXPECT_NEAR(s.loss_curve[0].parameter_distance, 0.3 * g.norm(), 1e-14);

  o.epochs = 3;
  o.optimizer = Optimizer::kAdam;
  o.trained = TrainedWeights::kAttention;
  int monitored = 0;
  o.monitor = [&](const EpochRecord& r, const Network& now) {
    ++monitored;
    EXPECT_EQ(r.epoch, monitored);
    EXPECT_EQ(now.V0(), start.V0());
  };
  const Network frozen = Train(SmallShape(), train.x, train.y, nullptr, nullptr, o, &s);
  EXPECT_EQ(monitored, 3);
  EXPECT_EQ(frozen.V0(), start.V0());
  EXPECT_EQ(frozen.V(2, 1), start.V(2, 1));
  EXPECT_EQ(frozen.a(), start.a());
  EXPECT_GT((frozen.Q(1, 0) - start.Q(1, 0)).cwiseAbs().maxCoeff(), 1e-4);
  EXPECT_THROW(ParseOptimizer("sgd", "training.optimizer"), Error);
  EXPECT_THROW(ParseTrainedWeights("values", "training.trained"), Error);
}

TEST(TrainTest, HeadAveragingScalesEachLayerByOneOverH) {
  // head_scaling = mean: 1/(H √n) instead of 1/√(H n); with one layer the
  // output is the sqrt-scaled one times √H / H.
  Rng rng(8);
  NetworkShape s = SmallShape();
  s.heads = {4};
  s.widths = {8, 8};
  Network a(s);
  InitializeNetwork(1.0, 0.5, 3, &a);
  s.head_scaling = HeadScaling::kMean;
  Network b(s);
  b.parameters() = a.parameters();
  const Task t = KeyTokenTask(7, 9);
  EXPECT_LE((Predict(b, t.x) - Predict(a, t.x) / 2.0).cwiseAbs().maxCoeff(), 1e-14);
  EXPECT_THROW(FrozenHeadArchitecture(b, 10), Error);
  EXPECT_THROW(ParseHeadScaling("max", "network.head_scaling"), Error);
}

TEST(TrainTest, RejectsInvalidOptionsAndData) {
  const Task train = KeyTokenTask(10, 8);
  TrainOptions o;
  o.batch_size = 0;
  try {
    Train(SmallShape(), train.x, train.y, nullptr, nullptr, o, nullptr);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "training.batch_size: found 0, expected a value >= 1");
  }
  o = TrainOptions{};
  o.learning_rate = std::nan("");
  EXPECT_THROW(Train(SmallShape(), train.x, train.y, nullptr, nullptr, o, nullptr), Error);
  o = TrainOptions{};
  NetworkShape wrong = SmallShape();
  wrong.N0 = 7;
  try {
    Train(wrong, train.x, train.y, nullptr, nullptr, o, nullptr);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "train_x N0 (features per token): found 6, expected 7 (network.N0)");
  }
  EXPECT_THROW(Train(SmallShape(), train.x, train.y.head(9), nullptr, nullptr, o, nullptr), Error);
  Eigen::VectorXd y_nan = train.y;
  y_nan(3) = std::nan("");
  EXPECT_THROW(Train(SmallShape(), train.x, y_nan, nullptr, nullptr, o, nullptr), Error);
}

TEST(TrainTest, DivergenceIsReportedWithFiniteWeights) {
  // Adam moves every weight by about η in its first step; η = 1e200 makes
  // the weights ~1e200 and f (a degree L+2 = 4 polynomial in them) overflow.
  const Task train = KeyTokenTask(20, 9);
  TrainOptions o;
  o.epochs = 3;
  o.batch_size = 20;
  o.learning_rate = 1e200;
  o.schedule = LearningRateSchedule::kConstant;
  TrainSummary s;
  const Network net = Train(SmallShape(), train.x, train.y, nullptr, nullptr, o, &s);
  EXPECT_EQ(s.termination, TrainTermination::kDiverged);
  EXPECT_EQ(s.steps, 1);
  // One step per epoch: the overflow shows in the loss of epoch 2's batch.
  EXPECT_EQ(s.loss_curve.size(), 1u);
  EXPECT_TRUE(net.parameters().allFinite());
  EXPECT_EQ(s.final_train_loss, s.initial_train_loss);  // the weights before the step
  EXPECT_NE(s.message.find("non-finite in epoch 2"), std::string::npos);
}

}  // namespace
}  // namespace attnpaths
