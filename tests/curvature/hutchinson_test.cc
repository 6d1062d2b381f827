// Hutchinson norms (curvature/hutchinson.h): exact for Rademacher probes on a
// diagonal matrix; the estimate and its standard error against the exact
// norm and the exact variance over many seeds; every block of the attention
// Hessian within 3 s.e. of its exact norm (spec §F.4).
#include "curvature/hutchinson.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "curvature/attention_hessian.h"
#include "kernels/error.h"
#include "tests/support/random_inputs.h"

namespace attnpaths {
namespace {

using test_util::Rng;

TEST(HutchinsonFrobenius, ExactForRademacherProbesOnADiagonalMatrix) {
  const Eigen::VectorXd d = Eigen::VectorXd::LinSpaced(7, -3, 3);
  const NormEstimate e = HutchinsonFrobenius(
      [&](const Eigen::VectorXd& v) { return Eigen::VectorXd(d.cwiseProduct(v)); }, 7, {});
  EXPECT_NEAR(e.value, d.norm(), 1e-14);
  EXPECT_NEAR(e.standard_error, 0.0, 1e-14);
  EXPECT_EQ(e.probes, 20);
}

TEST(HutchinsonFrobenius, EstimateAndStandardErrorMatchTheirExactValuesOverSeeds) {
  // ‖M v‖² for Rademacher v has mean ‖M‖_F² and variance 2 Σ_{j≠l} (MᵀM)_jl².
  Rng rng(3);
  const Eigen::MatrixXd M = test_util::RandomNormal(30, 20, rng);
  const Eigen::MatrixXd G = M.transpose() * M;
  const double exact = M.squaredNorm();
  const double var = 2 * (G.squaredNorm() - G.diagonal().squaredNorm());
  const int seeds = 400, probes = 10;
  double sum = 0, se2 = 0;
  int within = 0;
  for (int s = 0; s < seeds; ++s) {
    HutchinsonOptions options;
    options.probes = probes;
    options.seed = static_cast<std::uint64_t>(s + 1);
    const NormEstimate e = HutchinsonFrobenius(
        [&](const Eigen::VectorXd& v) { return Eigen::VectorXd(M * v); }, 20, options);
    sum += e.squared;
    se2 += e.squared_standard_error * e.squared_standard_error;
    within += std::abs(e.squared - exact) <= 2 * e.squared_standard_error;
  }
  // The mean over seeds is unbiased: within 4 s.e. of the mean of 400 × 10 probes.
  EXPECT_NEAR(sum / seeds, exact, 4 * std::sqrt(var / (seeds * probes)));
  // The squared s.e. estimates var/N on average: within 4 s.e. of that mean
  // (the sample variance of N = 10 has relative s.d. about √(2/9) or more; 0.3 allows it).
  EXPECT_NEAR(se2 / seeds, var / probes, 4 * 0.3 * var / probes / std::sqrt(double(seeds)));
  // About 95 % of 2-s.e. intervals cover (t with 9 degrees of freedom: ~92 %).
  EXPECT_GT(within, 0.85 * seeds);
  EXPECT_LT(within, 0.99 * seeds);
}

TEST(HutchinsonFrobenius, AttentionHessianBlocksWithinThreeStandardErrors) {
  Rng rng(7);
  AttentionLayerData data;
  for (int b = 0; b < 4; ++b) {
    data.X.push_back(test_util::RandomNormal(6, 5, rng));
    data.Y.push_back(test_util::RandomNormal(6, 5, rng));
  }
  data.causal = true;
  AttentionLayerWeights w{test_util::RandomNormal(5, 3, rng, 0.6),
                          test_util::RandomNormal(5, 3, rng, 0.6),
                          test_util::RandomNormal(5, 5, rng, 0.6)};
  const AttentionHessian hessian(data, w);
  const Eigen::Index n = hessian.num_parameters();
  for (const BlockName& blk : SpecBlocks()) {
    for (HessianPart part : {HessianPart::kOuter, HessianPart::kFunctional, HessianPart::kFull}) {
      SCOPED_TRACE(blk.name() + " " + HessianPartName(part));
      const double exact = hessian.Block(blk.rows, blk.cols, part).norm();
      HutchinsonOptions options;
      options.probes = 30;
      options.seed = 99;
      const NormEstimate e = HutchinsonFrobenius(
          [&](const Eigen::VectorXd& v) {
            Eigen::VectorXd full = Eigen::VectorXd::Zero(n);
            full.segment(hessian.offset(blk.cols), v.size()) = v;
            return Eigen::VectorXd(hessian.Apply(full, part)
                                       .segment(hessian.offset(blk.rows), hessian.size(blk.rows)));
          },
          hessian.size(blk.cols), options);
      if (exact == 0) {
        EXPECT_EQ(e.value, 0.0);  // H_f(V,V)
        continue;
      }
      EXPECT_NEAR(e.value, exact, 3 * e.standard_error);
      EXPECT_LE(e.squared_standard_error, std::sqrt(2.0 / 30) * 1.5 * exact * exact);
    }
  }
}

TEST(HutchinsonFrobenius, RejectsTooFewProbes) {
  HutchinsonOptions options;
  options.probes = 1;
  std::string error;
  EXPECT_FALSE(options.IsValid(&error));
  EXPECT_EQ(error, "probes: found 1, expected a value >= 2 (for a standard error)");
  EXPECT_THROW(ParseProbeDistribution("uniform", "hessian.probe"), Error);
}

}  // namespace
}  // namespace attnpaths
