// Finite-width networks against the infinite-width recursion
// (signal-propagation.md §II.5): exact at any width with orthogonal values;
// with Gaussian values and MLPs the mean correlation agrees within the
// Monte-Carlo error plus an O(1/d) allowance measured from two widths.
#include "propagation/finite_width.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "kernels/error.h"

namespace attnpaths {
namespace {

TEST(FiniteWidth, OrthogonalValuesReproduceTheRecursionExactly) {
  for (AttentionMethod method :
       {AttentionMethod::kESpa, AttentionMethod::kUSpa, AttentionMethod::kUniform}) {
    for (bool causal : {true, false}) {
      KernelPropOptions o;
      o.tokens = 7;
      o.depth = 6;
      o.method = method;
      o.causal = causal;
      o.gamma_final = 0.1;
      const KernelPropagation p = PropagateKernel(o);
      std::vector<Eigen::MatrixXd> A;
      for (const auto& a : p.attention) A.push_back(a.A);
      for (Eigen::Index d : {7, 17, 64}) {
        PropagationRng rng = PropagationEngine(11, 0, static_cast<std::uint64_t>(d));
        const auto k = SimulateNetworkKernels(A, p.kernels[0], MlpKind::kNone, 0, 2, d,
                                              ValueWeights::kOrthogonal, rng);
        for (size_t l = 0; l < k.size(); ++l) {
          EXPECT_LE((k[l] - p.kernels[l]).cwiseAbs().maxCoeff(), 1e-12)
              << AttentionMethodName(method) << " d " << d << " layer " << l;
        }
      }
    }
  }
}

// Mean off-diagonal correlation of Σ_L over draws, its standard error, and
// the recursion's value.
struct Measured {
  double mean, se, recursion;
};
Measured MeanCorrelation(const KernelPropOptions& o, Eigen::Index d, int draws,
                         std::uint64_t seed) {
  const KernelPropagation p = PropagateKernel(o);
  FiniteWidthOptions fw;
  fw.widths = {d};
  fw.values = ValueWeights::kGaussian;
  fw.draws = draws;
  fw.seed = seed;
  const FiniteWidthStudy s = SimulateFiniteWidth(o, p, fw);
  const MeanSe& mc = s.widths[0].layers.back().mean_correlation;
  return {mc.mean, mc.se, p.metrics.back().mean_correlation};
}

TEST(FiniteWidth, GaussianNetworksAgreeWithinMonteCarloErrorAndShrinkingBias) {
  // Gaussian values and TAT MLPs: the correlation of Σ_L has an O(1/d) bias.
  // It is measured at d = 32; at d = 128 the allowance is a quarter of it (plus
  // its own standard error) on top of 3 standard errors.
  for (AttentionMethod method : {AttentionMethod::kESpa, AttentionMethod::kUniform}) {
    KernelPropOptions o;
    o.tokens = 8;
    o.depth = 4;
    o.method = method;
    o.mlp = MlpKind::kTat;
    o.tat_eta = 0.7;
    o.gamma_final = 0.3;
    const Measured small = MeanCorrelation(o, 32, 100, 1);
    const Measured large = MeanCorrelation(o, 128, 100, 2);
    const double allowance = (std::abs(small.mean - small.recursion) + 3 * small.se) / 4;
    const double bound = 3 * large.se + allowance;
    EXPECT_LE(std::abs(large.mean - large.recursion), bound) << AttentionMethodName(method);
    // Control (E-SPA; uniform attention collapses whatever η): the recursion of a
    // different TAT target (η = 0.6) is resolved.
    KernelPropOptions other = o;
    other.tat_eta = 0.6;
    const double wrong = PropagateKernel(other).metrics.back().mean_correlation;
    if (method == AttentionMethod::kESpa) {
      EXPECT_GT(std::abs(large.mean - wrong), bound);
    }
    std::printf("%s: d=32 gap %.5f se %.5f; d=128 gap %.5f se %.5f bound %.5f control gap %.5f\n",
                AttentionMethodName(method), small.mean - small.recursion, small.se,
                large.mean - large.recursion, large.se, bound, large.mean - wrong);
  }
}

// Mean off-diagonal correlation of U^L (U^L)ᵀ with U the uniform causal
// attention U_ij = 1/i (1-based, j <= i), computed here without the library.
double UniformClosedFormCorrelation(int m, int L) {
  Eigen::MatrixXd U = Eigen::MatrixXd::Zero(m, m);
  for (int i = 0; i < m; ++i) {
    for (int j = 0; j <= i; ++j) U(i, j) = 1.0 / (i + 1);
  }
  Eigen::MatrixXd P = Eigen::MatrixXd::Identity(m, m);
  for (int l = 0; l < L; ++l) P = U * P;
  const Eigen::MatrixXd S = P * P.transpose();
  double sum = 0;
  for (int i = 0; i < m; ++i) {
    for (int j = i + 1; j < m; ++j) sum += S(i, j) / std::sqrt(S(i, i) * S(j, j));
  }
  return sum / (m * (m - 1) / 2.0);
}

TEST(UniformCollapse, FiniteNetworksCorrelationRisesTowardOneWithDepth) {
  // Uniform causal attention, Gaussian values, no MLP, from Σ_0 = I: the mean
  // correlation of the finite networks follows the closed form U^L (U^L)ᵀ
  // within 3 SE plus an O(1/d) allowance (measured at d = 32, a quarter of it at
  // d = 128), and rises with depth by far more than its error (the collapse).
  const int m = 8;
  std::vector<double> measured, se;
  for (int L : {1, 2, 4, 8}) {
    KernelPropOptions o;
    o.tokens = m;
    o.depth = L;
    o.method = AttentionMethod::kUniform;
    o.mlp = MlpKind::kNone;
    const double exact = UniformClosedFormCorrelation(m, L);
    const Measured small = MeanCorrelation(o, 32, 40, 10 + L);
    const Measured large = MeanCorrelation(o, 128, 40, 20 + L);
    EXPECT_NEAR(large.recursion, exact, 1e-12) << L;
    const double allowance = (std::abs(small.mean - exact) + 3 * small.se) / 4;
    EXPECT_NEAR(large.mean, exact, 3 * large.se + allowance) << L;
    std::printf("uniform L=%d: closed form %.5f, d=32 %.5f+-%.5f, d=128 %.5f+-%.5f\n", L, exact,
                small.mean, small.se, large.mean, large.se);
    measured.push_back(large.mean);
    se.push_back(large.se);
  }
  for (size_t k = 1; k < measured.size(); ++k) {
    EXPECT_GT(measured[k] - measured[k - 1], 3 * std::hypot(se[k], se[k - 1])) << k;
  }
  EXPECT_GT(measured.back(), 0.95);
}

TEST(FiniteWidth, ResultDoesNotDependOnThreadsAndReportsProgress) {
  KernelPropOptions o;
  o.tokens = 5;
  o.depth = 3;
  o.mlp = MlpKind::kTat;
  o.tat_eta = 0.5;
  const KernelPropagation p = PropagateKernel(o);
  FiniteWidthOptions fw;
  fw.widths = {16, 24};
  fw.values = ValueWeights::kGaussian;
  fw.draws = 6;
  int calls = 0, last = 0;
  fw.progress = [&](const FiniteWidthProgress& r) {
    ++calls;
    last = r.draws_done;
    EXPECT_EQ(r.draws_total, 12);
  };
  fw.threads = 1;
  const FiniteWidthStudy one = SimulateFiniteWidth(o, p, fw);
  EXPECT_EQ(calls, 12);
  EXPECT_EQ(last, 12);
  fw.threads = 2;
  fw.progress = nullptr;
  const FiniteWidthStudy two = SimulateFiniteWidth(o, p, fw);
  for (size_t w = 0; w < 2; ++w) {
    for (size_t l = 0; l < one.widths[w].mean_kernels.size(); ++l) {
      EXPECT_EQ(one.widths[w].mean_kernels[l], two.widths[w].mean_kernels[l]);
    }
  }
}

TEST(FiniteWidth, RejectsBadInput) {
  KernelPropOptions o;
  o.tokens = 10;
  FiniteWidthOptions fw;
  std::string e;
  fw.widths = {8};
  EXPECT_FALSE(fw.IsValid(o.tokens, &e));
  EXPECT_NE(e.find("finite_width.widths[0]: found 8, expected a width >= tokens = 10"),
            std::string::npos)
      << e;
  fw.widths = {-3};
  EXPECT_FALSE(fw.IsValid(o.tokens, &e));
  fw.widths = {};
  EXPECT_FALSE(fw.IsValid(o.tokens, &e));
  fw.widths = {16};
  fw.draws = 1;
  EXPECT_FALSE(fw.IsValid(o.tokens, &e));
  EXPECT_NE(e.find("finite_width.draws: found 1"), std::string::npos);
  EXPECT_THROW(SimulateFiniteWidth(o, PropagateKernel(o), fw), Error);
}

}  // namespace
}  // namespace attnpaths
