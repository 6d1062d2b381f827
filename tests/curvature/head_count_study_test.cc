// The head-count study (curvature/head_count_study.h, docs/attention-hessian.md
// Part E): on a small tokenised mixture, full-batch GD on the logistic loss
// with several heads reaches a lower training loss in a fixed number of steps
// than one head at equal total width — a paired statement over repeats with
// its standard error; the widths and parameter counts of both width modes;
// the Hessian track against a dense eigen-decomposition.
#include "curvature/head_count_study.h"

#include <gtest/gtest.h>

#include <Eigen/Eigenvalues>
#include <iostream>

#include "curvature/network_hessian.h"
#include "kernels/error.h"

namespace attnpaths {
namespace {

HeadCountStudyOptions SmallStudy() {
  HeadCountStudyOptions o;
  o.data.examples = 64;
  o.data.tokens = 6;
  o.data.features = 8;
  o.data.irrelevant_means = 3;
  o.data.relevant_fraction = 0.3;
  o.data.signal = 2.0;
  o.data.noise = 1.0;
  o.test_examples = 200;
  o.heads = {1, 4};
  o.modes = {WidthMode::kEqualTotal};
  o.total_key_dim = 8;
  o.total_width = 8;
  o.input_width = 8;
  o.training.epochs = 60;
  // A step size near one head's stability limit (at η = 1 and 100 steps the two head
  // counts end level: -0.003 ± 0.027; the advantage of several heads is the
  // larger step they tolerate, docs/attention-hessian.md Part E).
  o.training.learning_rate = 3;
  o.training.threads = 1;
  o.repeats = 20;
  return o;
}

TEST(HeadCountStudy, SeveralHeadsTrainFasterAtEqualTotalWidth) {
  const HeadCountStudyOptions o = SmallStudy();
  const HeadCountStudy s = RunHeadCountStudy(o);
  std::cout << s.BriefReport();
  ASSERT_EQ(s.groups.size(), 2u);
  const HeadCountGroup& one = s.groups[0];
  const HeadCountGroup& four = s.groups[1];
  // Equal total width: the same number of Q, K, V_1 parameters; a shrinks with n_2.
  EXPECT_EQ(one.key_dim, 8);
  EXPECT_EQ(one.width, 8);
  EXPECT_EQ(four.key_dim, 2);
  EXPECT_EQ(four.width, 2);
  const Eigen::Index N0 = 8, n1 = 8;  // V_0, then per head V (n_2 × n_1), Q and K (d × N0), a
  EXPECT_EQ(one.num_parameters, n1 * N0 + 8 * n1 + 2 * 8 * N0 + 8);
  EXPECT_EQ(four.num_parameters, n1 * N0 + 4 * (2 * n1 + 2 * 2 * N0) + 2);
  // Paired over repeats (same data and seeds): the four-head loss is lower by
  // more than three standard errors of the paired difference.
  EXPECT_LT(four.paired_difference_mean, -3 * four.paired_difference_se)
      << four.paired_difference_mean << " ± " << four.paired_difference_se;
}

TEST(HeadCountStudy, GrowingWidthKeepsThePerHeadShape) {
  HeadCountStudyOptions o = SmallStudy();
  EXPECT_EQ(HeadCountShape(o, WidthMode::kGrowing, 8).key_dim, 4);
  EXPECT_EQ(HeadCountShape(o, WidthMode::kGrowing, 8).widths[1], 4);
  EXPECT_EQ(HeadCountShape(o, WidthMode::kEqualTotal, 8).key_dim, 1);
  o.heads = {1, 3};
  std::string error;
  EXPECT_FALSE(o.IsValid(&error));
  EXPECT_NE(error.find("network.total_key_dim: found 8, expected a multiple of every head count"),
            std::string::npos)
      << error;
  o.heads = {2, 2};
  EXPECT_FALSE(o.IsValid(&error));
  EXPECT_NE(error.find("network.heads[1]: found 2"), std::string::npos) << error;
}

// The Hessian track's eigenvalues are those of the dense Hessian of the
// network retrained to the same step (training is bitwise reproducible with
// one thread).
TEST(HeadCountStudy, HessianTrackMatchesTheDenseSpectrum) {
  HeadCountStudyOptions o = SmallStudy();
  o.heads = {2};
  o.repeats = 1;
  o.training.epochs = 6;
  o.hessian_every = 3;
  o.hessian_examples = 16;
  o.lanczos_iterations = 400;  // the Krylov space closes: exact extremes
  const HeadCountStudy s = RunHeadCountStudy(o);
  ASSERT_EQ(s.runs.size(), 1u);
  ASSERT_EQ(s.runs[0].hessian.size(), 2u);
  EXPECT_EQ(s.runs[0].hessian[1].step, 6);
  // Retrain to step 6 and form the Hessian densely.
  TokenizedMixtureOptions data = o.data;
  const TokenizedMixture train = GenerateTokenizedMixture(data);
  TrainOptions t = o.training;
  TrainSummary summary;
  const Network net = Train(HeadCountShape(o, WidthMode::kEqualTotal, 2), train.x, train.y, nullptr,
                            nullptr, t, &summary);
  std::vector<Eigen::Index> ids(16);
  for (Eigen::Index i = 0; i < 16; ++i) ids[static_cast<size_t>(i)] = i;
  const NetworkHessian h(net, train.x.Select(ids), train.y.head(16), t.loss, 0, 1);
  const Eigen::VectorXd ev =
      Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(h.Dense(HessianPart::kFull)).eigenvalues();
  const double scale = ev.cwiseAbs().maxCoeff();
  EXPECT_NEAR(s.runs[0].hessian[1].largest, ev(ev.size() - 1), 1e-7 * scale);
  EXPECT_NEAR(s.runs[0].hessian[1].smallest, ev(0), 1e-7 * scale);
  EXPECT_NEAR(s.runs[0].summary.final_train_loss, summary.final_train_loss, 1e-14);
}

}  // namespace
}  // namespace attnpaths
