// SPA, uniform and skip constructions (signal-propagation.md §II.2, §II.5):
// the kernel identity A Σ_{ℓ−1} Aᵀ = Σ_ℓ, E-SPA closed forms against the
// generic Cholesky path, the schedule's linear log det, positivity, the
// uniform-attention closed forms, and the softmax decomposition.
#include "propagation/attention_init.h"

#include <gtest/gtest.h>

#include <Eigen/Cholesky>
#include <Eigen/LU>
#include <cmath>
#include <vector>

#include "kernels/error.h"
#include "propagation/kernel_recursion.h"

namespace attnpaths {
namespace {

double MaxAbs(const Eigen::MatrixXd& m) { return m.size() ? m.cwiseAbs().maxCoeff() : 0.0; }

struct Case {
  Eigen::Index m;
  int depth;
};
const std::vector<Case> kCases = {{1, 1}, {2, 1}, {2, 4}, {7, 3}, {24, 12}, {40, 48}};

TEST(SpaIdentity, EveryLayerMapsTheKernelOntoItsTarget) {
  for (AttentionMethod method : {AttentionMethod::kESpa, AttentionMethod::kUSpa}) {
    for (bool causal : {true, false}) {
      for (const Case& c : kCases) {
        KernelPropOptions o;
        o.tokens = c.m;
        o.depth = c.depth;
        o.method = method;
        o.causal = causal;
        o.gamma_final = 0.05;
        o.rho_final = 0.8;
        o.negative_attention = NegativeAttention::kKeep;  // the identity holds before clamping
        const KernelPropagation p = PropagateKernel(o);
        for (int l = 1; l <= c.depth; ++l) {
          const Eigen::MatrixXd& A = p.attention[static_cast<size_t>(l - 1)].A;
          const double err = MaxAbs(A * p.targets[static_cast<size_t>(l - 1)] * A.transpose() -
                                    p.targets[static_cast<size_t>(l)]);
          EXPECT_LE(err, 1e-13) << AttentionMethodName(method) << " causal " << causal << " m "
                                << c.m << " L " << c.depth << " layer " << l;
          if (causal) {
            EXPECT_EQ(MaxAbs(A.triangularView<Eigen::StrictlyUpper>().toDenseMatrix()), 0.0);
          }
        }
        // Without MLP and clamping the propagated kernel is the target at every layer.
        for (double e : p.target_error) EXPECT_LE(e, 1e-12);
      }
    }
  }
}

TEST(EspaClosedForms, AgreeWithTheGenericCholeskyPath) {
  for (Eigen::Index m : {1, 2, 3, 10, 31}) {
    const std::vector<double> g = EspaGammas(9, 0.005);
    for (size_t l = 1; l < g.size(); ++l) {
      const Eigen::MatrixXd S = EspaKernel(m, g[l]);
      const Eigen::MatrixXd L = S.llt().matrixL();
      EXPECT_LE(MaxAbs(EspaCholesky(m, g[l]) - L), 1e-12) << m << " " << l;
      EXPECT_LE(MaxAbs(EspaCholeskyInverse(m, g[l]) - L.inverse()), 1e-12 * MaxAbs(L.inverse()));
      const Eigen::MatrixXd generic = SpaAttention(EspaKernel(m, g[l - 1]), S, true);
      EXPECT_LE(MaxAbs(EspaAttention(m, g[l], g[l - 1]) - generic),
                1e-12 * std::max(1.0, MaxAbs(generic)))
          << m << " " << l;
    }
  }
  // The recursion gives the same kernels both ways.
  KernelPropOptions o;
  o.tokens = 17;
  o.depth = 6;
  KernelPropagation closed = PropagateKernel(o);
  o.closed_form = false;
  KernelPropagation generic = PropagateKernel(o);
  for (size_t l = 0; l < closed.kernels.size(); ++l) {
    EXPECT_LE(MaxAbs(closed.kernels[l] - generic.kernels[l]), 1e-12);
  }
}

TEST(EspaSchedule, LogDetIsLinearInDepthAndEndsAtGammaFinal) {
  for (int L : {1, 2, 5, 48}) {
    const std::vector<double> g = EspaGammas(L, 0.005);
    ASSERT_EQ(g.size(), static_cast<size_t>(L + 1));
    EXPECT_TRUE(std::isinf(g[0]));
    EXPECT_EQ(g.back(), 0.005);
    std::vector<double> logdet;
    for (double gamma : g) {
      const Eigen::MatrixXd S = EspaKernel(12, gamma);
      logdet.push_back(2 * Eigen::MatrixXd(S.llt().matrixL()).diagonal().array().log().sum());
    }
    for (size_t l = 1; l + 1 < logdet.size(); ++l) {
      EXPECT_LE(std::abs(logdet[l + 1] - 2 * logdet[l] + logdet[l - 1]), 1e-10) << L << " " << l;
    }
    for (size_t l = 1; l < g.size(); ++l) EXPECT_LT(g[l], g[l - 1]);  // decreasing
  }
}

TEST(EspaPositivity, DecreasingGammaGivesPositiveCausalAttention) {
  const Eigen::Index m = 20;
  const std::vector<double> g = EspaGammas(10, 0.01);
  for (size_t l = 1; l < g.size(); ++l) {
    const Eigen::MatrixXd A = EspaAttention(m, g[l], g[l - 1]);
    for (Eigen::Index i = 0; i < m; ++i) {
      for (Eigen::Index j = 0; j <= i; ++j) EXPECT_GT(A(i, j), 0) << l << " " << i << " " << j;
    }
  }
  // Control: an increasing step (γ > γ') gives negative entries.
  const Eigen::MatrixXd bad = EspaAttention(m, 0.5, 0.2);
  EXPECT_LT(bad.minCoeff(), 0);
}

TEST(UniformAttention, CausalAndNonCausalClosedForms) {
  const Eigen::Index m = 9;
  // Causal from Σ_0 = I: Σ_1[i, j] = 1/max(i, j) (1-based).
  KernelPropOptions o;
  o.tokens = m;
  o.depth = 30;
  o.method = AttentionMethod::kUniform;
  const KernelPropagation p = PropagateKernel(o);
  for (Eigen::Index i = 0; i < m; ++i) {
    for (Eigen::Index j = 0; j < m; ++j) {
      EXPECT_NEAR(p.kernels[1](i, j), 1.0 / static_cast<double>(std::max(i, j) + 1), 1e-15);
    }
  }
  // Collapse: the mean correlation rises monotonically towards one, and
  // Σ_ℓ → Σ_0[1,1] 11ᵀ (every token becomes token 1).
  for (size_t l = 1; l < p.metrics.size(); ++l) {
    EXPECT_GE(p.metrics[l].mean_correlation, p.metrics[l - 1].mean_correlation - 1e-15);
    if (p.metrics[l - 1].mean_correlation < 0.999) {
      EXPECT_GT(p.metrics[l].mean_correlation, p.metrics[l - 1].mean_correlation);
    }
  }
  EXPECT_GT(p.metrics.back().mean_correlation, 0.99);
  const Eigen::MatrixXd& last = p.kernels.back();
  EXPECT_LE(MaxAbs(last / last(0, 0) - Eigen::MatrixXd::Ones(m, m)), 0.05);
  // Non-causal: rank one after one layer, Σ_1 = (1ᵀ Σ_0 1 / m²) 11ᵀ.
  Eigen::MatrixXd S0(3, 3);
  S0 << 2.0, 0.3, -0.4, 0.3, 1.0, 0.2, -0.4, 0.2, 0.7;
  o.tokens = 3;
  o.depth = 1;
  o.causal = false;
  o.input_kernel = S0;
  const KernelPropagation q = PropagateKernel(o);
  EXPECT_LE(MaxAbs(q.kernels[1] - S0.sum() / 9.0 * Eigen::MatrixXd::Ones(3, 3)), 1e-15);
  EXPECT_NEAR(q.metrics[1].effective_rank, 1.0, 1e-14);
  EXPECT_NEAR(q.metrics[1].rank_one_distance, 0.0, 1e-7);
  EXPECT_NEAR(q.metrics[1].mean_correlation, 1.0, 1e-14);
}

TEST(Decomposition, SoftmaxOfTheBiasTimesDRebuildsA) {
  const std::vector<double> g = EspaGammas(5, 0.02);
  for (bool causal : {true, false}) {
    const Eigen::Index m = 11;
    const Eigen::MatrixXd A = causal
                                  ? EspaAttention(m, g[3], g[2])
                                  : SpaAttention(EspaKernel(m, g[2]), EspaKernel(m, g[3]), false);
    const AttentionDecomposition d = DecomposeAttention(A, causal, NegativeAttention::kClamp, 0.0);
    for (Eigen::Index i = 0; i < m; ++i) {
      double z = 0;
      for (Eigen::Index j = 0; j < m; ++j) z += std::exp(d.bias(i, j));  // exp(−∞) = 0
      EXPECT_NEAR(z, 1.0, 1e-13);
      for (Eigen::Index j = 0; j < m; ++j) {
        EXPECT_NEAR(d.D(i) * std::exp(d.bias(i, j)), d.A(i, j), 1e-14 * std::abs(d.D(i)));
        if (causal && j > i) {
          EXPECT_TRUE(std::isinf(d.bias(i, j)) && d.bias(i, j) < 0);
        }
      }
    }
    if (d.clamped == 0) {
      EXPECT_LE(MaxAbs(d.A - A), 0.0);
    }
  }
}

TEST(Decomposition, ClampRaisesEveryAllowedEntryToAbsMinPlusEpsilon) {
  Eigen::MatrixXd A(3, 3);
  A << 1.0, 9.0, 9.0, -0.2, 0.5, 9.0, 0.1, 0.3, 0.6;  // upper entries masked when causal
  const AttentionDecomposition c = DecomposeAttention(A, true, NegativeAttention::kClamp, 1e-3);
  EXPECT_EQ(c.min_entry, -0.2);
  EXPECT_EQ(c.clamped, 2);  // −0.2 and 0.1 are below 0.201
  EXPECT_EQ(c.A(1, 0), 0.201);
  EXPECT_EQ(c.A(2, 0), 0.201);
  EXPECT_EQ(c.A(0, 1), 9.0);  // masked entries untouched
  const AttentionDecomposition k = DecomposeAttention(A, true, NegativeAttention::kKeep, 1e-3);
  EXPECT_EQ(k.clamped, 0);
  EXPECT_TRUE(std::isnan(k.bias(1, 0)));
  EXPECT_EQ(MaxAbs(k.A - A), 0.0);
}

TEST(ValueSkipInitAndShaped, AreTheIdentityAtInitialisation) {
  for (AttentionMethod method : {AttentionMethod::kValueSkipInit, AttentionMethod::kShaped}) {
    for (bool causal : {true, false}) {
      KernelPropOptions o;
      o.tokens = 6;
      o.depth = 3;
      o.method = method;
      o.causal = causal;
      const KernelPropagation p = PropagateKernel(o);
      for (const AttentionDecomposition& a : p.attention) {
        EXPECT_EQ(MaxAbs(a.A - Eigen::MatrixXd::Identity(6, 6)), 0.0);
      }
      EXPECT_EQ(MaxAbs(p.kernels.back() - Eigen::MatrixXd::Identity(6, 6)), 0.0);
    }
  }
}

TEST(KernelPropOptions, RejectsBadInput) {
  auto message = [](const KernelPropOptions& o) {
    std::string e;
    EXPECT_FALSE(o.IsValid(&e));
    EXPECT_THROW(PropagateKernel(o), Error);
    return e;
  };
  KernelPropOptions o;
  o.depth = 0;
  EXPECT_NE(message(o).find("depth: found 0"), std::string::npos);
  o = {};
  o.tokens = 0;
  EXPECT_NE(message(o).find("tokens: found 0"), std::string::npos);
  o = {};
  o.gamma_final = -1;
  EXPECT_NE(message(o).find("gamma_final: found -1"), std::string::npos);
  o = {};
  o.rho_final = 1;
  EXPECT_NE(message(o).find("rho_final: found 1"), std::string::npos);
  o = {};
  o.mlp = MlpKind::kTat;
  o.tat_eta = 1.5;
  EXPECT_NE(message(o).find("tat_eta: found 1.5"), std::string::npos);
  o = {};
  o.activations_per_block = 3;
  EXPECT_NE(message(o).find("activations_per_block: found 3"), std::string::npos);
  o = {};
  o.tokens = 2;
  o.input_kernel = Eigen::MatrixXd::Identity(3, 3);
  EXPECT_NE(message(o).find("input_kernel shape: found 3 x 3, expected 2 x 2"), std::string::npos);
  o.input_kernel.resize(2, 2);
  o.input_kernel << 1, 2, 2, 1;  // eigenvalues 3, −1
  EXPECT_NE(message(o).find("smallest eigenvalue -1"), std::string::npos);
  o.input_kernel << 1, 1, 1, 1;  // PSD, singular: fine for uniform, not for SPA
  EXPECT_NE(message(o).find("positive-definite kernel for method espa"), std::string::npos);
  o.method = AttentionMethod::kUniform;
  EXPECT_TRUE(o.IsValid(nullptr));
  o.input_kernel << 1, 0.5, 0.4, 1;
  EXPECT_NE(message(o).find("symmetric"), std::string::npos);
  o.input_kernel << 0, 0, 0, 1;
  EXPECT_NE(message(o).find("input_kernel[0, 0]: found 0"), std::string::npos);
  EXPECT_THROW(ParseAttentionMethod("espa2", "method"), Error);
  EXPECT_THROW(EspaGammas(0, 0.1), Error);
}

}  // namespace
}  // namespace attnpaths
