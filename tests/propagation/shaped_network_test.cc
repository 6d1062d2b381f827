// Finite shaped-attention networks against the covariance SDE
// (signal-propagation.md §I.6 a–d). Every tolerance comes from the
// Monte-Carlo error the test measures (3 standard errors, plus an O(1/n)
// allowance measured from two widths where a finite-width bias exists), and
// every comparison has a control that the test resolves.
#include "propagation/shaped_network.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "kernels/error.h"
#include "propagation/quantiles.h"
#include "propagation/random.h"
#include "propagation/shaped_model.h"
#include "propagation/shaped_moments.h"
#include "propagation/shaped_sde.h"
#include "propagation/shaped_summary.h"

namespace attnpaths {
namespace {

Eigen::MatrixXd SpecV0() {
  Eigen::MatrixXd V0(3, 3);
  V0 << 1.0, 0.2, -0.1, 0.2, 0.9, 0.3, -0.1, 0.3, 1.1;  // signal-propagation.md §I.5
  return V0;
}

ShapedModel Model(double gamma, double tau0) {
  ShapedModel m;
  m.gamma = gamma;
  m.tau0 = tau0;
  return m;
}

struct Estimate {
  Eigen::MatrixXd mean, se;
};
// n E[ΔV] (antithetic logits, exact over W^V) or n Cov(ΔV) (chain increments,
// batch means) at width n: MeasureOneLayerMoments of propagation/shaped_moments.h.
Estimate DriftEstimate(const ShapedModel& model, const Eigen::MatrixXd& V, Eigen::Index n,
                       int samples, std::uint64_t seed) {
  OneLayerMomentsOptions o;
  o.model = model;
  o.V0 = V;
  o.width = n;
  o.drift_samples = samples;
  o.diffusion_samples = 40;
  o.seed = seed;
  const OneLayerMoments r = MeasureOneLayerMoments(o);
  return {r.drift_mc, r.drift_se};
}
Estimate DiffusionEstimate(const ShapedModel& model, const Eigen::MatrixXd& V, Eigen::Index n,
                           int samples, std::uint64_t seed) {
  OneLayerMomentsOptions o;
  o.model = model;
  o.V0 = V;
  o.width = n;
  o.drift_samples = 2;
  o.diffusion_samples = samples;
  o.seed = seed;
  const OneLayerMoments r = MeasureOneLayerMoments(o);
  return {r.diffusion_mc, r.diffusion_se};
}

TEST(OneLayerMoments, DriftMatchesTheSdeDrift) {
  const ShapedModel model = Model(0.5, 0.5);
  const Eigen::MatrixXd V = SpecV0();
  const Eigen::MatrixXd b = ShapedDrift(model, V);
  const Estimate small = DriftEstimate(model, V, 256, 40000, 1);
  const Estimate large = DriftEstimate(model, V, 1024, 40000, 2);
  // The drift without the second-order term of the softmax expansion.
  const double m = 3;
  const Eigen::MatrixXd P =
      Eigen::MatrixXd::Identity(3, 3) - Eigen::MatrixXd::Constant(3, 3, 1 / m);
  const Eigen::MatrixXd first_order = model.gamma * model.gamma / (model.tau0 * model.tau0) *
                                      ((P * V * P).cwiseProduct(V).sum() / (m * m)) * V;
  int resolved_second_order = 0;
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j <= i; ++j) {
      const double allowance = (std::abs(small.mean(i, j) - b(i, j)) + 3 * small.se(i, j)) / 4;
      const double tol = 3 * large.se(i, j) + allowance;
      std::printf("b_%d%d %.5f  n=256 %.5f±%.5f  n=1024 %.5f±%.5f  tol %.5f\n", i, j, b(i, j),
                  small.mean(i, j), small.se(i, j), large.mean(i, j), large.se(i, j), tol);
      EXPECT_NEAR(large.mean(i, j), b(i, j), tol) << i << j;
      if (i == j) {
        // Control: the diagonal drift is resolved (zero without attention).
        EXPECT_GT(std::abs(b(i, j)), 5 * tol) << i;
      }
      resolved_second_order += std::abs(large.mean(i, j) - first_order(i, j)) > tol;
    }
  }
  // Control: the second-order softmax term (v wᵀ + w vᵀ)/(2m) of (I.6) is resolved.
  EXPECT_GE(resolved_second_order, 2);
}

TEST(OneLayerMoments, DiffusionMatchesTheSdeDiffusion) {
  const ShapedModel model = Model(0.6, 0.4);
  ShapedModel no_attention = model;
  no_attention.tau0 = std::numeric_limits<double>::infinity();
  const Eigen::MatrixXd V = SpecV0();
  const Eigen::MatrixXd S = ShapedDiffusion(model, V);
  const Eigen::MatrixXd S_values = ShapedDiffusion(no_attention, V);
  const Estimate small = DiffusionEstimate(model, V, 256, 40000, 3);
  const Estimate large = DiffusionEstimate(model, V, 1024, 40000, 4);
  int resolved = 0;
  double worst = 0;
  for (Eigen::Index r = 0; r < S.rows(); ++r) {
    for (Eigen::Index c = 0; c < S.cols(); ++c) {
      const double allowance = (std::abs(small.mean(r, c) - S(r, c)) + 3 * small.se(r, c)) / 4;
      const double tol = 3 * large.se(r, c) + allowance;
      EXPECT_NEAR(large.mean(r, c), S(r, c), tol) << r << " " << c;
      worst = std::max(worst, std::abs(large.mean(r, c) - S(r, c)) / tol);
      // Control: entries where the attention part of Σ is resolved.
      resolved += std::abs(large.mean(r, c) - S_values(r, c)) > tol;
    }
  }
  std::printf("diffusion: worst |dev|/tol %.3f, %d of %d entries resolve the attention part\n",
              worst, resolved, static_cast<int>(S.size()));
  EXPECT_GE(resolved, 10);
}

// Quantile comparison of a network source with the SDE at t_f: the largest
// |deviation| / (3 √(SE_net² + SE_sde²)) over the quartiles of `quantities`.
struct QuartileCheck {
  double worst = 0;  // max |dev| / bound
  int outside = 0;   // quartiles with |dev| > bound
};
QuartileCheck CompareQuartiles(const ShapedPaths& a, const ShapedPaths& b,
                               const std::vector<TrackedQuantity>& quantities,
                               ExplodedInQuantiles e, const char* label) {
  QuartileCheck c;
  for (const TrackedQuantity& q : quantities) {
    for (double level : {0.25, 0.5, 0.75}) {
      const QuantileEstimate x = SampleQuantile(FinalValues(a, q, e), level);
      const QuantileEstimate y = SampleQuantile(FinalValues(b, q, e), level);
      const double bound = 3 * std::hypot(x.se, y.se);
      const double r = std::abs(x.value - y.value) / bound;
      c.worst = std::max(c.worst, r);
      c.outside += r > 1;
      if (r > 1) {
        std::printf("%s %s q%.2f: %.4f vs %.4f  |dev|/bound %.2f\n", label, q.name().c_str(), level,
                    x.value, y.value, r);
      }
    }
  }
  return c;
}

TEST(DepthLimit, NetworkQuartilesConvergeToTheSde) {
  // γ = τ0 = 0.5, t_f = 0.4: the SDE explodes on about 1 % of paths; exploded
  // diagonals count as +∞ so that both sources keep their full populations.
  const Eigen::MatrixXd V0 = SpecV0();
  ShapedSdeOptions sde;
  sde.model = Model(0.5, 0.5);
  sde.V0 = V0;
  sde.depth_to_width = 0.4;
  sde.dt = 1.0 / 1024;
  sde.paths = 6000;
  sde.seed = 11;
  const ShapedPaths s = IntegrateShapedSde(sde);
  ShapedSdeOptions lin = sde;
  lin.model.tau0 = std::numeric_limits<double>::infinity();
  lin.stream = 1;
  const ShapedPaths l = IntegrateShapedSde(lin);
  std::printf("exploded: sde %.4f\n", s.exploded_fraction());
  EXPECT_LT(s.exploded_fraction(), 0.03);
  const std::vector<TrackedQuantity> diag = {{0, 0, false}, {1, 1, false}, {2, 2, false}};
  const std::vector<TrackedQuantity> off = {
      {0, 1, false}, {1, 2, false}, {0, 1, true}, {1, 2, true}};
  std::vector<double> worst;
  ShapedPaths largest;
  for (Eigen::Index n : {64, 256}) {
    ShapedNetworkOptions o;
    o.model = sde.model;
    o.V0 = V0;
    o.depth_to_width = sde.depth_to_width;
    o.width = n;
    o.key_dim = 4;
    o.samples = 4000;
    o.seed = 12;
    o.stream = 100 + static_cast<std::uint64_t>(n);
    const ShapedPaths net = SimulateShapedNetworks(o);
    const QuartileCheck d = CompareQuartiles(net, s, diag, ExplodedInQuantiles::kInfinity, "diag");
    const QuartileCheck f = CompareQuartiles(net, s, off, ExplodedInQuantiles::kExclude, "off");
    worst.push_back(std::max(d.worst, f.worst));
    if (n == 256) {
      EXPECT_EQ(d.outside, 0);
      EXPECT_EQ(f.outside, 0);
      largest = net;
    }
  }
  // Control: the SDE without attention is outside the bounds on the diagonals.
  const QuartileCheck c = CompareQuartiles(largest, l, diag, ExplodedInQuantiles::kInfinity, "lin");
  EXPECT_GE(c.outside, 4);
  std::printf("worst |dev|/bound: n=64 %.2f, n=256 %.2f; control outside %d of 9\n", worst[0],
              worst[1], c.outside);
}

TEST(RankCollapse, StandardAttentionCollapsesShapedAttentionDoesNot) {
  const Eigen::MatrixXd V0 = SpecV0();
  ShapedSdeOptions sde;
  sde.model = Model(0.5, 0.5);
  sde.V0 = V0;
  sde.depth_to_width = 0.4;
  sde.dt = 1.0 / 512;
  sde.paths = 3000;
  sde.seed = 21;
  const ShapedPaths s = IntegrateShapedSde(sde);
  auto mean_rho = [](const ShapedPaths& p) {
    const std::vector<double> v = FinalValues(p, {0, 1, true}, ExplodedInQuantiles::kExclude);
    double m = 0, m2 = 0;
    for (double x : v) {
      m += x;
      m2 += x * x;
    }
    m /= static_cast<double>(v.size());
    return std::make_pair(
        m, std::sqrt((m2 / static_cast<double>(v.size()) - m * m) / static_cast<double>(v.size())));
  };
  const auto [rho_sde, se_sde] = mean_rho(s);
  std::vector<double> standard, shaped, shaped_se;
  for (Eigen::Index n : {16, 64, 256}) {
    for (ShapedAttention a : {ShapedAttention::kStandard, ShapedAttention::kShaped}) {
      ShapedNetworkOptions o;
      o.model = sde.model;
      o.attention = a;
      o.V0 = V0;
      o.depth_to_width = sde.depth_to_width;
      o.width = n;
      o.key_dim = 4;
      o.samples = 2000;
      o.seed = 22;
      const auto [rho, se] = mean_rho(SimulateShapedNetworks(o));
      (a == ShapedAttention::kStandard ? standard : shaped).push_back(rho);
      if (a == ShapedAttention::kShaped) shaped_se.push_back(se);
      std::printf("n %ld %s: mean rho_01 %.4f ± %.4f (sde %.4f ± %.4f)\n", static_cast<long>(n),
                  ShapedAttentionName(a), rho, se, rho_sde, se_sde);
    }
  }
  // Standard attention: ρ rises towards one with n (rank collapse).
  EXPECT_GT(standard[1], standard[0]);
  EXPECT_GT(standard[2], standard[1]);
  EXPECT_GT(standard[2], 0.9);
  // Shaped attention: within 3 SE of the SDE at the largest width, no trend towards one.
  EXPECT_NEAR(shaped[2], rho_sde, 3 * std::hypot(shaped_se[2], se_sde));
  EXPECT_LT(shaped[2], shaped[0] + 3 * std::hypot(shaped_se[0], shaped_se[2]));
}

TEST(Samplers, FullXAndChainAgreeInLaw) {
  const Eigen::MatrixXd V0 = SpecV0();
  for (bool mlp : {false, true}) {
    ShapedNetworkOptions o;
    o.model = Model(0.5, 0.5);
    o.model.mlp = mlp;
    o.model.c_minus = -1.0;
    o.V0 = V0;
    o.depth_to_width = 0.5;
    o.width = 16;  // 8 layers
    o.key_dim = 3;
    o.samples = 3000;
    std::vector<ShapedPaths> runs;
    for (ShapedSampler s : {ShapedSampler::kFull, ShapedSampler::kX, ShapedSampler::kChain}) {
      o.sampler = s;
      o.seed = 30 + static_cast<std::uint64_t>(s);
      runs.push_back(SimulateShapedNetworks(o));
    }
    double lowest = 1;
    for (size_t a = 0; a < runs.size(); ++a) {
      for (size_t b = a + 1; b < runs.size(); ++b) {
        for (const KsRow& r : CompareFinal(runs[a], runs[b])) {
          if (r.quantity != "V_00" && r.quantity != "V_01" && r.quantity != "rho_01") continue;
          EXPECT_GT(r.ks.p_value, 1e-3)
              << "mlp " << mlp << " " << a << " vs " << b << " " << r.quantity;
          lowest = std::min(lowest, r.ks.p_value);
        }
      }
    }
    // Control: the chain with a different residual weight is told apart.
    o.sampler = ShapedSampler::kChain;
    o.model.gamma = 0.75;
    const ShapedPaths wrong = SimulateShapedNetworks(o);
    double control = 1;
    for (const KsRow& r : CompareFinal(runs[0], wrong)) {
      if (r.quantity == "V_00") control = r.ks.p_value;
    }
    EXPECT_LT(control, 1e-3);
    std::printf("mlp %d: lowest KS p %.3g, control p %.3g\n", mlp, lowest, control);
  }
}

}  // namespace
}  // namespace attnpaths
