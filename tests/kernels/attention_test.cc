// Attention matrices (theory.md §1) against a token-by-token evaluation, and
// the QK-form ≡ W-form identity W = Kᵀ Q / √d.
#include <gtest/gtest.h>

#include <Eigen/Core>
#include <vector>

#include "kernels/architecture.h"
#include "kernels/error.h"
#include "kernels/head.h"
#include "kernels/path_inputs.h"
#include "kernels/path_kernel.h"
#include "tests/support/brute_force.h"
#include "tests/support/finite_difference.h"
#include "tests/support/random_inputs.h"

namespace attnpaths {
namespace {

using test_util::BruteAttention;
using test_util::RandomInputs;
using test_util::RelativeError;
using test_util::Rng;

constexpr Eigen::Index kN0 = 6, kTokens = 5;

// Every normalisation × mask combination of theory.md §1.
struct Variant {
  Normalization normalization;
  bool causal;
};
const Variant kVariants[] = {{Normalization::kSoftmax, false},
                             {Normalization::kSoftmax, true},
                             {Normalization::kHardmax, false},
                             {Normalization::kHardmax, true}};

std::string VariantName(const Variant& v) {
  return std::string(v.normalization == Normalization::kSoftmax ? "softmax" : "hardmax") +
         (v.causal ? "+causal" : "");
}

TEST(AttentionTest, MatchesTokenByTokenEvaluationForEveryKind) {
  Rng rng(11);
  const Inputs X = RandomInputs(6, kTokens, kN0, rng);
  for (const Variant& v : kVariants) {
    SCOPED_TRACE(VariantName(v));
    std::vector<HeadSpec> heads = {
        test_util::RandomWHead(kN0, rng, v.normalization, v.causal, 1.3),
        test_util::RandomQKHead(kN0, 3, rng, v.normalization, v.causal, 0.8),
        test_util::SimpleHead(HeadKind::kUniform, v.normalization, v.causal),
        test_util::SimpleHead(HeadKind::kBlank, v.normalization, v.causal),
        test_util::RandomGivenHead(kTokens, X.P(), 2, rng)};
    for (const HeadSpec& head : heads) {
      SCOPED_TRACE(HeadKindName(head.kind));
      for (Eigen::Index mu = 0; mu < X.P(); ++mu) {
        const Eigen::MatrixXd x = X.example(mu);
        const Eigen::MatrixXd lib = AttentionMatrix(head, x, mu, Split::kTrain);
        const Eigen::MatrixXd ref = BruteAttention(head, x, mu, Split::kTrain);
        ASSERT_EQ(lib.rows(), kTokens);
        ASSERT_EQ(lib.cols(), kTokens);
        EXPECT_LE((lib - ref).cwiseAbs().maxCoeff(), 1e-13) << "example " << mu;
        // Columns sum to one; the mask leaves keys s > t at exactly zero.
        for (Eigen::Index t = 0; t < kTokens; ++t) {
          EXPECT_NEAR(lib.col(t).sum(), 1.0, 1e-14);
          if (head.causal && head.kind != HeadKind::kGiven) {
            for (Eigen::Index s = t + 1; s < kTokens; ++s) EXPECT_EQ(lib(s, t), 0.0);
          }
        }
      }
    }
  }
}

TEST(AttentionTest, SimpleHeadsHaveTheirClosedForms) {
  Rng rng(12);
  const Inputs X = RandomInputs(1, kTokens, kN0, rng);
  const Eigen::MatrixXd x = X.example(0);
  // Uniform: 1/n_tok everywhere, whatever the normalisation; causal: 1/(t+1) on s <= t.
  for (Normalization nrm : {Normalization::kSoftmax, Normalization::kHardmax}) {
    const Eigen::MatrixXd u =
        AttentionMatrix(test_util::SimpleHead(HeadKind::kUniform, nrm), x, 0, Split::kTrain);
    EXPECT_LE((u.array() - 1.0 / kTokens).abs().maxCoeff(), 1e-15);
    const Eigen::MatrixXd uc = AttentionMatrix(
        test_util::SimpleHead(HeadKind::kUniform, nrm, /*causal=*/true), x, 0, Split::kTrain);
    for (Eigen::Index t = 0; t < kTokens; ++t) {
      for (Eigen::Index s = 0; s < kTokens; ++s) {
        EXPECT_DOUBLE_EQ(uc(s, t), s <= t ? 1.0 / static_cast<double>(t + 1) : 0.0);
      }
    }
  }
  // Blank: uniform under softmax, every query on key 1 under hardmax (theory.md §1, §8).
  const Eigen::MatrixXd bs =
      AttentionMatrix(test_util::SimpleHead(HeadKind::kBlank), x, 0, Split::kTrain);
  EXPECT_LE((bs.array() - 1.0 / kTokens).abs().maxCoeff(), 1e-15);
  const Eigen::MatrixXd bh = AttentionMatrix(
      test_util::SimpleHead(HeadKind::kBlank, Normalization::kHardmax), x, 0, Split::kTrain);
  Eigen::MatrixXd first = Eigen::MatrixXd::Zero(kTokens, kTokens);
  first.row(0).setOnes();
  EXPECT_EQ(bh, first);
}

TEST(AttentionTest, HardmaxTiesGoToTheLowestKey) {
  // Tokens e1, 2e1, 2e1, −e1 with W = I: for a query along +e1 keys 2 and 3
  // (indices 1, 2) tie for the largest score; for a query along −e1 key 4 wins.
  Eigen::MatrixXd x = Eigen::MatrixXd::Zero(2, 4);
  x(0, 0) = 1;
  x(0, 1) = 2;
  x(0, 2) = 2;
  x(0, 3) = -1;
  HeadSpec head;
  head.kind = HeadKind::kWForm;
  head.W = Eigen::MatrixXd::Identity(2, 2);
  head.normalization = Normalization::kHardmax;
  const Eigen::MatrixXd omega = AttentionMatrix(head, x, 0, Split::kTrain);
  for (Eigen::Index t : {0, 1, 2}) {
    EXPECT_EQ(omega(1, t), 1.0) << "query " << t;
    EXPECT_EQ(omega.col(t).sum(), 1.0);
  }
  EXPECT_EQ(omega(3, 3), 1.0);
  // Causal: query 2 (index 1) sees keys 1–2 only and picks key 2; query 1 only key 1.
  head.causal = true;
  const Eigen::MatrixXd oc = AttentionMatrix(head, x, 0, Split::kTrain);
  EXPECT_EQ(oc(0, 0), 1.0);
  EXPECT_EQ(oc(1, 1), 1.0);
  EXPECT_EQ(oc(1, 2), 1.0);  // tie between keys 2 and 3: the lower one
  EXPECT_EQ(oc(3, 3), 1.0);
}

TEST(AttentionTest, GivenHeadReadsTheRequestedSplit) {
  Rng rng(13);
  const HeadSpec head = test_util::RandomGivenHead(kTokens, 3, 2, rng);
  const Eigen::MatrixXd x = RandomInputs(1, kTokens, kN0, rng).example(0);
  EXPECT_EQ(AttentionMatrix(head, x, 2, Split::kTrain), (*head.given_train)[2]);
  EXPECT_EQ(AttentionMatrix(head, x, 1, Split::kTest), (*head.given_test)[1]);
  EXPECT_THROW(AttentionMatrix(head, x, 2, Split::kTest), Error);
}

// A QK-form head and the W-form head with W = Kᵀ Q / √d give the same scores,
// hence the same attention (theory.md §1), with β on either side.
TEST(QkFormTest, EqualsWFormWithKTransposeQOverSqrtD) {
  Rng rng(14);
  const Inputs X = RandomInputs(8, kTokens, kN0, rng);
  for (const Variant& v : kVariants) {
    SCOPED_TRACE(VariantName(v));
    for (Eigen::Index d : {1, 3, 8}) {
      SCOPED_TRACE(d);
      const double beta = 2.5;
      const HeadSpec qk = test_util::RandomQKHead(kN0, d, rng, v.normalization, v.causal, beta);
      HeadSpec w = qk;
      w.kind = HeadKind::kWForm;
      w.W = qk.K.transpose() * qk.Q / std::sqrt(static_cast<double>(d));
      HeadSpec w_folded = w;  // β folded into W
      w_folded.W *= beta;
      w_folded.beta = 1.0;
      for (Eigen::Index mu = 0; mu < X.P(); ++mu) {
        const Eigen::MatrixXd x = X.example(mu);
        const Eigen::MatrixXd a = AttentionMatrix(qk, x, mu, Split::kTrain);
        const Eigen::MatrixXd b = AttentionMatrix(w, x, mu, Split::kTrain);
        const Eigen::MatrixXd c = AttentionMatrix(w_folded, x, mu, Split::kTrain);
        EXPECT_LE((a - b).cwiseAbs().maxCoeff(), 1e-13);
        EXPECT_LE((a - c).cwiseAbs().maxCoeff(), 1e-13);
        if (v.normalization == Normalization::kHardmax) {
          EXPECT_EQ(a, b);  // one-hot on the same key
        }
      }
    }
  }
}

TEST(QkFormTest, PathKernelsEqualThoseOfTheWForm) {
  Rng rng(15);
  const Inputs X = RandomInputs(10, kTokens, kN0, rng);
  for (const Variant& v : kVariants) {
    SCOPED_TRACE(VariantName(v));
    Architecture qk_arch;
    qk_arch.layers = {{test_util::RandomQKHead(kN0, 4, rng, v.normalization, v.causal, 1.5),
                       test_util::RandomQKHead(kN0, 2, rng, v.normalization, v.causal, 0.7)},
                      {test_util::RandomQKHead(kN0, 3, rng, v.normalization, v.causal, 2.0),
                       test_util::SimpleHead(HeadKind::kUniform)}};
    qk_arch.readout = Readout::kMean;
    qk_arch.widths = {10, 20, 30};
    qk_arch.variances = {1.3, 1, 1, 1};
    Architecture w_arch = qk_arch;
    for (auto& layer : w_arch.layers) {
      for (auto& h : layer) {
        if (h.kind != HeadKind::kQKForm) continue;
        h.W = h.K.transpose() * h.Q / std::sqrt(static_cast<double>(h.Q.rows()));
        h.kind = HeadKind::kWForm;
        h.Q.resize(0, 0);
        h.K.resize(0, 0);
      }
    }
    const PathInputs a = ComputePathInputs(qk_arch, X, Split::kTrain);
    const PathInputs b = ComputePathInputs(w_arch, X, Split::kTrain);
    EXPECT_LE(RelativeError(a.xi, b.xi), 1e-13);
    const PathKernel ka(a), kb(b);
    for (Eigen::Index p = 0; p < 4; ++p) {
      for (Eigen::Index q = 0; q < 4; ++q) {
        EXPECT_LE(RelativeError(ka.Pair(p, q), kb.Pair(p, q)), 1e-12) << p << "," << q;
      }
    }
    const Eigen::MatrixXd U = test_util::RandomSpd(4, rng);
    EXPECT_LE(RelativeError(ka.Total(U), kb.Total(U)), 1e-12);
  }
}

}  // namespace
}  // namespace attnpaths
