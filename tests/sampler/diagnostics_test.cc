// R-hat, ESS and their building blocks against hand computations, direct
// sums and processes with a known autocorrelation time.
#include "sampler/diagnostics.h"

#include <gtest/gtest.h>

#include <boost/math/distributions/normal.hpp>
#include <cmath>

#include "sampler/random.h"

namespace attnpaths {
namespace {

ChainDraws Iid(int chains, int n, std::uint64_t seed, double shift_first = 0,
               double scale_first = 1) {
  ChainDraws out;
  for (int c = 0; c < chains; ++c) {
    RandomEngine e = ChainEngine(seed, c);
    Eigen::VectorXd x(n);
    for (int i = 0; i < n; ++i) x[i] = StandardNormal(e);
    if (c == 0) x = (x * scale_first).array() + shift_first;
    out.push_back(x);
  }
  return out;
}

// AR(1) x_t = φ x_{t−1} + √(1−φ²) z_t started in stationarity; its integrated
// autocorrelation time is (1 + φ) / (1 − φ).
ChainDraws Ar1(int chains, int n, double phi, std::uint64_t seed) {
  ChainDraws out;
  for (int c = 0; c < chains; ++c) {
    RandomEngine e = ChainEngine(seed, c);
    Eigen::VectorXd x(n);
    x[0] = StandardNormal(e);
    for (int i = 1; i < n; ++i)
      x[i] = phi * x[i - 1] + std::sqrt(1 - phi * phi) * StandardNormal(e);
    out.push_back(x);
  }
  return out;
}

TEST(Autocovariance, EqualsTheDirectSum) {
  for (int n : {1, 2, 37, 64, 100}) {
    RandomEngine e = ChainEngine(n, 0);
    Eigen::VectorXd x(n);
    for (int i = 0; i < n; ++i) x[i] = StandardNormal(e) + 3;
    const Eigen::VectorXd acov = Autocovariance(x);
    const double mean = x.mean();
    for (int t = 0; t < n; ++t) {
      double s = 0;
      for (int i = 0; i + t < n; ++i) s += (x[i] - mean) * (x[i + t] - mean);
      EXPECT_NEAR(acov[t], s / n, 1e-12) << "n " << n << " lag " << t;
    }
  }
}

TEST(Rhat, HandComputedExample) {
  // Chains (1,2,3) and (2,3,4): W = 1, B/N = var(2, 3) = 1/2,
  // var⁺ = (2/3)·1 + 1/2, R-hat = √(7/6).
  const ChainDraws x{Eigen::Vector3d(1, 2, 3), Eigen::Vector3d(2, 3, 4)};
  EXPECT_NEAR(Rhat(x), std::sqrt(7.0 / 6.0), 1e-15);
}

TEST(SplitChains, HalvesAndDropsTheMiddleOfOddLengths) {
  const ChainDraws s = SplitChains({Eigen::Vector<double, 5>(1, 2, 3, 4, 5)});
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0], Eigen::Vector2d(1, 2));
  EXPECT_EQ(s[1], Eigen::Vector2d(4, 5));
}

TEST(RankNormalize, AveragesTiesAndUsesBlomScores) {
  const ChainDraws z = RankNormalize({Eigen::Vector2d(1, 2), Eigen::Vector2d(2, 3)});
  const boost::math::normal normal;
  auto score = [&](double r) { return boost::math::quantile(normal, (r - 0.375) / 4.25); };
  EXPECT_NEAR(z[0][0], score(1), 1e-12);
  EXPECT_NEAR(z[0][1], score(2.5), 1e-12);
  EXPECT_NEAR(z[1][0], score(2.5), 1e-12);
  EXPECT_NEAR(z[1][1], score(4), 1e-12);
}

TEST(PooledQuantile, LinearInterpolation) {
  const ChainDraws x{Eigen::Vector2d(4, 1), Eigen::Vector2d(3, 2)};
  EXPECT_DOUBLE_EQ(PooledQuantile(x, 0.25), 1.75);
  EXPECT_DOUBLE_EQ(PooledQuantile(x, 0.5), 2.5);
  EXPECT_DOUBLE_EQ(PooledQuantile(x, 1.0), 4.0);
}

TEST(EffectiveSampleSize, IndependentDrawsGiveAboutTheirNumber) {
  const ChainDraws x = Iid(4, 1000, 1);
  // The estimator's relative spread for iid draws is a few per cent here.
  EXPECT_NEAR(EssBulk(x) / 4000, 1.0, 0.15);
  EXPECT_NEAR(EssMean(x) / 4000, 1.0, 0.15);
  EXPECT_NEAR(EssTail(x) / 4000, 1.0, 0.25);
  EXPECT_LT(SplitRankRhat(x), 1.01);
}

TEST(EffectiveSampleSize, Ar1MatchesItsAutocorrelationTime) {
  for (double phi : {0.5, 0.9}) {
    const ChainDraws x = Ar1(4, 5000, phi, 7);
    const double expected = 20000 * (1 - phi) / (1 + phi);
    EXPECT_NEAR(EffectiveSampleSize(x) / expected, 1.0, 0.2) << phi;
    EXPECT_NEAR(EssBulk(x) / expected, 1.0, 0.2) << phi;
    EXPECT_LT(SplitRankRhat(x), 1.01) << phi;
  }
  // Antithetic chains (φ < 0) may exceed the draw count, up to S log10 S.
  const ChainDraws y = Ar1(4, 5000, -0.5, 9);
  EXPECT_NEAR(EffectiveSampleSize(y) / (20000 * 3.0), 1.0, 0.2);
}

TEST(Rhat, FlagsShiftedAndWiderChains) {
  // One chain shifted by one sd: the bulk R-hat sees it.
  EXPECT_GT(SplitRankRhat(Iid(4, 1000, 2, 1.0)), 1.05);
  // One chain three times wider, same centre: only the folded R-hat sees it.
  const ChainDraws wide = Iid(4, 1000, 3, 0.0, 3.0);
  EXPECT_LT(Rhat(RankNormalize(SplitChains(wide))), 1.02);
  EXPECT_GT(SplitRankRhat(wide), 1.05);
  // A trend within each chain: split chains see it.
  ChainDraws trend = Iid(4, 1000, 4);
  for (auto& c : trend) c += Eigen::VectorXd::LinSpaced(c.size(), 0, 2);
  EXPECT_GT(SplitRankRhat(trend), 1.05);
}

TEST(Diagnose, ConstantDrawsHaveNoRhatOrEss) {
  const ChainDraws x{Eigen::VectorXd::Constant(50, 2.0), Eigen::VectorXd::Constant(50, 2.0)};
  const QuantityDiagnostics d = Diagnose(x);
  EXPECT_TRUE(std::isnan(d.rhat));
  EXPECT_TRUE(std::isnan(d.ess_bulk));
  EXPECT_DOUBLE_EQ(d.mean, 2.0);
  EXPECT_DOUBLE_EQ(d.sd, 0.0);
  EXPECT_DOUBLE_EQ(d.mcse_mean, 0.0);
}

TEST(Ebfmi, IndependentEnergiesGiveTwo) {
  // E(E_n − E_{n−1})² = 2 var E for independent energies.
  const ChainDraws x = Iid(1, 20000, 5);
  EXPECT_NEAR(Ebfmi(x[0]), 2.0, 0.05);
  // A slowly varying energy gives a small E-BFMI.
  EXPECT_LT(Ebfmi(Ar1(1, 20000, 0.99, 6)[0]), 0.05);
}

}  // namespace
}  // namespace attnpaths
