// Warm-up schedule, dual averaging and the variance estimate against
// independent computations.
#include "sampler/adaptation.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "sampler/random.h"

namespace attnpaths {
namespace {

TEST(WarmupSchedule, DefaultBuffersAndDoublingWindows) {
  const WarmupSchedule s(1000, AdaptationOptions{}, true);
  EXPECT_EQ(s.init_buffer(), 75);
  EXPECT_EQ(s.term_buffer(), 50);
  EXPECT_EQ(s.window_ends(), (std::vector<int>{100, 150, 250, 450, 950}));
  EXPECT_FALSE(s.InWindow(74));
  EXPECT_TRUE(s.InWindow(75));
  EXPECT_TRUE(s.InWindow(949));
  EXPECT_FALSE(s.InWindow(950));
  EXPECT_TRUE(s.EndsWindow(99));
  EXPECT_FALSE(s.EndsWindow(100));
  EXPECT_TRUE(s.EndsWindow(949));
  int ends = 0;
  for (int i = 0; i < 1000; ++i) ends += s.EndsWindow(i);
  EXPECT_EQ(ends, 5);
}

TEST(WarmupSchedule, ShortWarmupsScaleTheBuffers) {
  // 100 < 75 + 25 + 50: 15% / 75% / 10% (the reference runs' 100 warm-up iterations).
  const WarmupSchedule s(100, AdaptationOptions{}, true);
  EXPECT_EQ(s.init_buffer(), 15);
  EXPECT_EQ(s.term_buffer(), 10);
  EXPECT_EQ(s.window_ends(), std::vector<int>{90});
  // 200: the second window stretches to the terminal buffer.
  EXPECT_EQ(WarmupSchedule(200, AdaptationOptions{}, true).window_ends(),
            (std::vector<int>{100, 150}));
  EXPECT_EQ(WarmupSchedule(150, AdaptationOptions{}, true).window_ends(), std::vector<int>{100});
  // Below 20 iterations, or without metric adaptation: no windows.
  EXPECT_TRUE(WarmupSchedule(19, AdaptationOptions{}, true).window_ends().empty());
  EXPECT_TRUE(WarmupSchedule(1000, AdaptationOptions{}, false).window_ends().empty());
  EXPECT_FALSE(WarmupSchedule(1000, AdaptationOptions{}, false).InWindow(500));
  // Every window end lies within the warm-up, strictly increasing.
  for (int W = 20; W <= 3000; W += 7) {
    const WarmupSchedule w(W, AdaptationOptions{}, true);
    int previous = w.init_buffer();
    for (int end : w.window_ends()) {
      EXPECT_GT(end, previous) << W;
      previous = end;
    }
    EXPECT_EQ(previous, W - w.term_buffer()) << W;
  }
}

TEST(StepSizeAdaptation, ConvergesToTheTargetAcceptance) {
  // A mock sampler whose acceptance is exp(−ε): the fixed point is ε = −log δ.
  for (double delta : {0.6, 0.8, 0.95}) {
    AdaptationOptions options;
    options.target_accept = delta;
    StepSizeAdaptation adaptation(options);
    adaptation.Restart(1.0);
    double eps = 1.0;
    for (int i = 0; i < 5000; ++i) eps = adaptation.Update(std::exp(-eps));
    // x̄ forgets its start like t^{-(1-κ)}: a few per cent after 5000 updates.
    EXPECT_NEAR(adaptation.Final(), -std::log(delta), 0.05 * -std::log(delta)) << delta;
  }
}

TEST(StepSizeAdaptation, FirstUpdateFollowsTheDualAveragingFormula) {
  AdaptationOptions o;
  StepSizeAdaptation adaptation(o);
  adaptation.Restart(0.5);
  // t = 1: s̄ = (δ − α)/(1 + t0); x = log(10 ε) − s̄/γ; x̄ = x.
  const double alpha = 0.3;
  const double s_bar = (o.target_accept - alpha) / (1 + o.t0);
  const double x = std::log(5.0) - s_bar / o.gamma;
  EXPECT_NEAR(adaptation.Update(alpha), std::exp(x), 1e-14);
  EXPECT_NEAR(adaptation.Final(), std::exp(x), 1e-14);
}

TEST(VarianceEstimator, MatchesTwoPassVarianceAndRegularises) {
  RandomEngine engine = ChainEngine(5, 0);
  const int n = 257;
  Eigen::MatrixXd x(n, 3);
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < 3; ++j) x(i, j) = (j + 1) * StandardNormal(engine) + 10 * j;
  }
  VarianceEstimator v(3);
  for (int i = 0; i < n; ++i) v.Add(x.row(i).transpose());
  for (int j = 0; j < 3; ++j) {
    const double mean = x.col(j).mean();
    const double var = (x.col(j).array() - mean).square().sum() / (n - 1);
    EXPECT_NEAR(v.mean()[j], mean, 1e-12 * (1 + std::abs(mean)));
    EXPECT_NEAR(v.Variance()[j], var, 1e-12 * var);
    EXPECT_NEAR(RegularizedVariance(v)[j], n / (n + 5.0) * var + 1e-3 * 5.0 / (n + 5.0), 1e-12);
  }
  v.Reset();
  EXPECT_EQ(v.count(), 0);
}

class Gaussian1D : public Potential {
 public:
  explicit Gaussian1D(double precision) : k_(precision) {}
  Eigen::Index dimension() const override { return 1; }
  double Evaluate(const Eigen::Ref<const Eigen::VectorXd>& q, Eigen::VectorXd* g) const override {
    if (g) *g = k_ * q;
    return 0.5 * k_ * q.squaredNorm();
  }

 private:
  double k_;
};

TEST(FindStepSize, IsInvariantUnderRescalingTheTarget) {
  // With x = √k q the leapfrog on ½ k q² with step ε is the leapfrog on ½ x²
  // with step ε√k, at the same momenta and energies: the search on k = 256
  // started at ε₀/16 returns exactly 1/16 of the search on k = 1.
  const DiagonalMetric metric(1);
  for (int r = 0; r < 10; ++r) {
    for (double eps0 : {1.0, 1e-3, 50.0}) {
      RandomEngine e1 = ChainEngine(r, 0), e2 = ChainEngine(r, 0);
      const Eigen::VectorXd q = Eigen::VectorXd::Constant(1, 0.5);
      const double wide =
          FindStepSize(Gaussian1D(1), metric, EvaluatePosition(Gaussian1D(1), q), eps0, e1);
      const double narrow = FindStepSize(Gaussian1D(256), metric,
                                         EvaluatePosition(Gaussian1D(256), q / 16), eps0 / 16, e2);
      EXPECT_NEAR(narrow * 16, wide, 1e-12 * wide);
      // ε₀ is doubled or halved: the result is ε₀ times a power of two, and one
      // step of ½ q² accepts with 0.8 at about ε ≈ 1.
      const double k = std::log2(wide / eps0);
      EXPECT_NEAR(k, std::round(k), 1e-9);
      EXPECT_GT(wide, 0.1);
      EXPECT_LT(wide, 8.0);
    }
  }
}

}  // namespace
}  // namespace attnpaths
