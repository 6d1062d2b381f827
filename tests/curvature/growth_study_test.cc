// The growth study (spec §C.3): at small σ every block's norm follows the
// power law that power counting predicts (docs/attention-hessian.md, checked
// on σ ~ 1e-4, where the corrections — O(σ) relative for a full block whose
// parts differ by one power — are below 1e-3),
// for softmax and linear attention, causal or not; determinism; Hutchinson
// slopes against exact ones within their errors; option checks.
#include "curvature/growth_study.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "data/attention_tasks.h"
#include "kernels/error.h"

namespace attnpaths {
namespace {

GrowthSample Sample(int repeat, AttentionTaskKind kind, AttentionKind attention, bool causal) {
  AttentionTaskOptions task;
  task.kind = kind;
  task.sequences = 3;
  task.tokens = kind == AttentionTaskKind::kAddition ? 8 : 5;
  task.features = kind == AttentionTaskKind::kAddition ? 12 : 4;
  task.seed = 100 + static_cast<std::uint64_t>(repeat);
  const AttentionTask t = GenerateAttentionTask(task);
  GrowthSample s;
  s.data.X = t.X;
  s.data.Y = t.Y;
  s.data.attention = attention;
  s.data.causal = causal;
  s.weights = RandomAttentionWeights(task.features, 3, 200 + static_cast<std::uint64_t>(repeat));
  return s;
}

TEST(GrowthStudy, SmallSigmaSlopesEqualThePowerCountingExponents) {
  for (AttentionKind attention : {AttentionKind::kSoftmax, AttentionKind::kLinear}) {
    for (bool causal : {false, true}) {
      SCOPED_TRACE(std::string(AttentionKindName(attention)) + (causal ? " causal" : ""));
      GrowthStudyOptions options;
      options.sigmas = {1e-4, 2e-4, 4e-4};
      options.fit_points = 3;
      options.repeats = 2;
      const GrowthStudy study = RunGrowthStudy(
          [&](int r) { return Sample(r, AttentionTaskKind::kGaussian, attention, causal); },
          options);
      ASSERT_EQ(study.slopes.size(), 18u);
      for (const SlopeFit& f : study.slopes) {
        SCOPED_TRACE(f.block + " " + HessianPartName(f.part));
        if (std::isnan(f.predicted)) {
          EXPECT_TRUE(f.zero);
          continue;
        }
        EXPECT_FALSE(f.zero);
        EXPECT_NEAR(f.mean, f.predicted, 2e-3);
        EXPECT_LE(f.fit_residuals.maxCoeff(), 1e-3);
      }
    }
  }
}

TEST(GrowthStudy, DeterministicAndHutchinsonSlopesAgreeWithExactOnes) {
  GrowthStudyOptions options;
  options.sigmas = {0.05, 0.1, 0.2, 0.4, 0.8, 1.6};
  options.fit_points = 4;
  options.repeats = 2;
  auto sample = [](int r) {
    return Sample(r, AttentionTaskKind::kAddition, AttentionKind::kSoftmax, true);
  };
  const GrowthStudy a = RunGrowthStudy(sample, options);
  const GrowthStudy b = RunGrowthStudy(sample, options);
  ASSERT_EQ(a.norms_table.size(), 6u * 2 * 18);
  for (size_t i = 0; i < a.norms_table.size(); ++i) {
    EXPECT_EQ(a.norms_table[i].norm, b.norms_table[i].norm);
  }
  EXPECT_DOUBLE_EQ(a.fit_lo, 0.05);
  EXPECT_DOUBLE_EQ(a.fit_hi, 0.4);
  EXPECT_EQ(a.fit_count, 4);
  options.norms = NormMethod::kHutchinson;
  options.hutchinson.probes = 40;
  const GrowthStudy h = RunGrowthStudy(sample, options);
  for (size_t i = 0; i < a.slopes.size(); ++i) {
    const SlopeFit &e = a.slopes[i], &f = h.slopes[i];
    SCOPED_TRACE(e.block + " " + HessianPartName(e.part));
    EXPECT_EQ(e.zero, f.zero);
    if (e.zero) continue;
    for (int r = 0; r < 2; ++r) {
      // The weighted fit's own error propagates the probes' s.e.; 4 of them
      // (fit-to-fit curvature differences are far below that).
      EXPECT_NEAR(f.slopes(r), e.slopes(r), 4 * f.slope_errors(r) + 1e-3);
    }
  }
  // Hutchinson norms carry their s.e.; exact ones none.
  EXPECT_GT(h.norms_table[0].standard_error, 0.0);
  EXPECT_EQ(a.norms_table[0].standard_error, 0.0);
}

TEST(GrowthStudy, RejectsBadGridsAndRanges) {
  GrowthStudyOptions o;
  std::string error;
  EXPECT_TRUE(o.IsValid(&error)) << error;
  EXPECT_EQ(o.sigmas.size(), 20u);
  EXPECT_NEAR(o.sigmas.front(), 0.01, 1e-15);
  EXPECT_NEAR(o.sigmas.back(), 10.0, 1e-12);
  o.sigmas = {1, 0.5};
  EXPECT_FALSE(o.IsValid(&error));
  EXPECT_EQ(error, "hessian.sigma[1]: found 0.5, expected an ascending grid (above 1)");
  o.sigmas = {0.1, 0.2, 0.3};
  o.fit_points = 4;
  EXPECT_FALSE(o.IsValid(&error));
  EXPECT_EQ(error, "hessian.fit_points: found 4, expected 2 … 3 (points of the σ grid)");
  o.fit_lo = 0.25;
  o.fit_hi = 0.29;
  EXPECT_FALSE(o.IsValid(&error));
  EXPECT_EQ(error,
            "hessian.fit_range: found [0.25, 0.29] with 0 grid points, expected a range holding at "
            "least 2 σ of the grid");
  EXPECT_THROW(ParseNormMethod("approx", "hessian.norms"), Error);
}

TEST(PredictedGrowthExponent, FullIsTheSmallerOfTheParts) {
  const std::string qq = "QQ", vq = "VQ";
  EXPECT_EQ(PredictedGrowthExponent(qq, HessianPart::kOuter, AttentionKind::kSoftmax), 6);
  EXPECT_EQ(PredictedGrowthExponent(qq, HessianPart::kFunctional, AttentionKind::kSoftmax), 5);
  EXPECT_EQ(PredictedGrowthExponent(qq, HessianPart::kFull, AttentionKind::kSoftmax), 5);
  EXPECT_EQ(PredictedGrowthExponent(vq, HessianPart::kFull, AttentionKind::kLinear), 3);
  EXPECT_TRUE(
      std::isnan(PredictedGrowthExponent(qq, HessianPart::kFunctional, AttentionKind::kLinear)));
}

}  // namespace
}  // namespace attnpaths
