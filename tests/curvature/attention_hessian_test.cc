// The closed-form blocks of the self-attention loss Hessian (spec §B) against
// finite differences, for several shapes (sequences, tokens, width, key
// width), softmax and linear attention, causal and not (spec §F.1-§F.4):
//  * the gradient against Richardson differences of the loss;
//  * every outer-product block against c J_fdᵀ J_fd, J_fd by Richardson
//    differences of the outputs F;
//  * the full Hessian against Richardson differences of the analytic
//    gradient, and every functional block against H_fd − c J_fdᵀ J_fd;
//  * structure: H_f(V,V) = 0, linear attention's H_f(Q,Q) = H_f(K,K) = 0,
//    H_o positive semi-definite, H symmetric;
//  * matrix-free products against the dense matrix and a gradient difference;
//  * the Gram-identity norms of the diagonal blocks against the dense ones.
#include "curvature/attention_hessian.h"

#include <gtest/gtest.h>

#include <Eigen/Eigenvalues>
#include <cmath>
#include <string>
#include <vector>

#include "kernels/error.h"
#include "tests/support/finite_difference.h"
#include "tests/support/random_inputs.h"

namespace attnpaths {
namespace {

using test_util::Rng;

struct Shape {
  const char* name;
  Eigen::Index B, m, D, k;
  AttentionKind attention;
  bool causal;
};

void PrintTo(const Shape& s, std::ostream* os) { *os << s.name; }

const Shape kShapes[] = {
    {"softmax_B2_m5_D3_k2", 2, 5, 3, 2, AttentionKind::kSoftmax, false},
    {"softmax_causal_B3_m6_D4_k3", 3, 6, 4, 3, AttentionKind::kSoftmax, true},
    {"softmax_B1_m4_D2_k4", 1, 4, 2, 4, AttentionKind::kSoftmax, false},
    {"linear_B2_m5_D3_k2", 2, 5, 3, 2, AttentionKind::kLinear, false},
    {"linear_causal_B3_m6_D4_k3", 3, 6, 4, 3, AttentionKind::kLinear, true},
};

struct Problem {
  AttentionLayerData data;
  AttentionLayerWeights w;
};

Problem MakeProblem(const Shape& s, Rng& rng) {
  Problem p;
  for (Eigen::Index b = 0; b < s.B; ++b) {
    p.data.X.push_back(test_util::RandomNormal(s.m, s.D, rng));
    p.data.Y.push_back(test_util::RandomNormal(s.m, s.D, rng));
  }
  p.data.attention = s.attention;
  p.data.causal = s.causal;
  // Q, K large enough that the softmax is far from uniform.
  p.w.WQ = test_util::RandomNormal(s.D, s.k, rng, 0.7);
  p.w.WK = test_util::RandomNormal(s.D, s.k, rng, 0.7);
  p.w.WV = test_util::RandomNormal(s.D, s.D, rng, 0.7);
  return p;
}

// (4 D(h/2) − D(h))/3 with D(h) = (g(+h) − g(−h))/2h for a vector function.
template <typename F>
Eigen::VectorXd Richardson(const F& g, double h) {
  const Eigen::VectorXd d1 = (g(h) - g(-h)) / (2 * h);
  const Eigen::VectorXd d2 = (g(h / 2) - g(-h / 2)) / h;
  return (4 * d2 - d1) / 3;
}

// All outputs F stacked (sequence, row i, column a).
Eigen::VectorXd StackedOutputs(const AttentionLayerData& data, const Eigen::VectorXd& theta,
                               Eigen::Index D, Eigen::Index k) {
  const std::vector<Eigen::MatrixXd> F = AttentionLayerOutputs(data, UnflattenWeights(theta, D, k));
  Eigen::VectorXd v(static_cast<Eigen::Index>(F.size()) * F[0].size());
  Eigen::Index n = 0;
  for (const auto& f : F) {
    for (Eigen::Index i = 0; i < f.rows(); ++i) {
      for (Eigen::Index a = 0; a < f.cols(); ++a) v(n++) = f(i, a);
    }
  }
  return v;
}

double MaxAbs(const Eigen::MatrixXd& m) { return m.cwiseAbs().maxCoeff(); }

class AttentionHessianTest : public ::testing::TestWithParam<Shape> {};

TEST_P(AttentionHessianTest, BlocksEqualFiniteDifferences) {
  const Shape shape = GetParam();
  Rng rng(11);
  const Problem p = MakeProblem(shape, rng);
  const AttentionHessian hessian(p.data, p.w);
  const Eigen::Index n = hessian.num_parameters(), D = shape.D, k = shape.k;
  ASSERT_EQ(n, 2 * D * k + D * D);
  const Eigen::VectorXd theta = FlattenWeights(p.w);
  EXPECT_NEAR(hessian.loss(), AttentionLayerLoss(p.data, p.w), 1e-15 * hessian.loss());

  // Gradient against differences of the loss.
  const Eigen::VectorXd grad = hessian.Gradient();
  const Eigen::VectorXd grad_fd = test_util::FiniteDifferenceGradient(
      [&](const Eigen::VectorXd& t) {
        return AttentionLayerLoss(p.data, UnflattenWeights(t, D, k));
      },
      theta, 1e-3);
  EXPECT_LE(test_util::RelativeError(grad, grad_fd), 1e-8);

  // J_fd and H_fd column by column.
  const double c = 2.0 / static_cast<double>(shape.B * shape.m * D);
  const Eigen::Index outputs = shape.B * shape.m * D;
  Eigen::MatrixXd J(outputs, n), H_fd(n, n);
  for (Eigen::Index j = 0; j < n; ++j) {
    auto moved = [&](double t) {
      Eigen::VectorXd u = theta;
      u(j) += t;
      return u;
    };
    J.col(j) = Richardson([&](double t) { return StackedOutputs(p.data, moved(t), D, k); }, 1e-3);
    H_fd.col(j) = Richardson(
        [&](double t) {
          return AttentionHessian(p.data, UnflattenWeights(moved(t), D, k)).Gradient();
        },
        1e-3);
  }
  const Eigen::MatrixXd Ho_fd = c * J.transpose() * J;
  const Eigen::MatrixXd Hf_fd = H_fd - Ho_fd;
  const Eigen::MatrixXd H = hessian.Dense(HessianPart::kFull);
  const double scale = MaxAbs(H);

  const WeightGroup groups[] = {WeightGroup::kQ, WeightGroup::kK, WeightGroup::kV};
  for (WeightGroup a : groups) {
    for (WeightGroup b : groups) {
      SCOPED_TRACE(std::string(WeightGroupName(a)) + WeightGroupName(b));
      auto fd_block = [&](const Eigen::MatrixXd& M) {
        return M.block(hessian.offset(a), hessian.offset(b), hessian.size(a), hessian.size(b));
      };
      const Eigen::MatrixXd Ho = hessian.Block(a, b, HessianPart::kOuter);
      const Eigen::MatrixXd Hf = hessian.Block(a, b, HessianPart::kFunctional);
      const Eigen::MatrixXd Hb = hessian.Block(a, b, HessianPart::kFull);
      // Outer blocks to 1e-9 of their own size (differences of F are clean).
      EXPECT_LE(MaxAbs(Ho - fd_block(Ho_fd)), 1e-9 * MaxAbs(fd_block(Ho_fd)));
      // Full and functional blocks to the noise floor of gradient differences:
      // 1e-8 of the block, or of the whole matrix for blocks that are zero
      // by construction.
      const bool zero_f = (a == WeightGroup::kV && b == WeightGroup::kV) ||
                          (shape.attention == AttentionKind::kLinear && a == b);
      const double f_scale = zero_f ? scale : MaxAbs(fd_block(Hf_fd));
      EXPECT_LE(MaxAbs(Hf - fd_block(Hf_fd)), 1e-8 * f_scale);
      EXPECT_LE(MaxAbs(Hb - fd_block(H_fd)), 1e-8 * std::max(MaxAbs(fd_block(H_fd)), 1e-3 * scale));
      if (zero_f) {
        EXPECT_EQ(MaxAbs(Hf), 0.0);  // exactly, not approximately
      }
      EXPECT_LE(MaxAbs(Hb - Ho - Hf), 1e-15 * scale);
    }
  }
}

TEST_P(AttentionHessianTest, StructureProductsAndNorms) {
  const Shape shape = GetParam();
  Rng rng(12);
  const Problem p = MakeProblem(shape, rng);
  const AttentionHessian hessian(p.data, p.w);
  const Eigen::Index n = hessian.num_parameters();
  const Eigen::MatrixXd H = hessian.Dense(HessianPart::kFull);
  const Eigen::MatrixXd Ho = hessian.Dense(HessianPart::kOuter);
  const Eigen::MatrixXd Hf = hessian.Dense(HessianPart::kFunctional);
  // Symmetric to rounding; H_o positive semi-definite.
  EXPECT_LE(MaxAbs(H - H.transpose()), 1e-15 * MaxAbs(H) * 4);
  const Eigen::VectorXd eo = Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(Ho).eigenvalues();
  EXPECT_GE(eo.minCoeff(), -1e-12 * eo.maxCoeff());
  // H is indefinite here (random targets: a large functional part).
  const Eigen::VectorXd e = Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(H).eigenvalues();
  EXPECT_LT(e.minCoeff(), 0.0);

  // Products: the dense matrix to 1e-12, a gradient difference to 1e-7.
  const Eigen::VectorXd theta = FlattenWeights(p.w);
  for (int trial = 0; trial < 3; ++trial) {
    const Eigen::VectorXd v = test_util::RandomNormal(n, 1, rng);
    const Eigen::VectorXd Hv = hessian.Apply(v, HessianPart::kFull);
    EXPECT_LE(test_util::RelativeError(Hv, H * v), 1e-12);
    EXPECT_LE(test_util::RelativeError(hessian.Apply(v, HessianPart::kOuter), Ho * v), 1e-12);
    EXPECT_LE(test_util::RelativeError(hessian.Apply(v, HessianPart::kFunctional), Hf * v), 1e-12);
    const double h = 1e-5;
    auto grad_at = [&](double t) {
      return AttentionHessian(p.data, UnflattenWeights(theta + t * v, shape.D, shape.k)).Gradient();
    };
    EXPECT_LE(test_util::RelativeError((grad_at(h) - grad_at(-h)) / (2 * h), Hv), 1e-7);
  }

  // Gram-identity norms of the diagonal blocks equal the dense norms.
  for (WeightGroup a : {WeightGroup::kQ, WeightGroup::kK, WeightGroup::kV}) {
    for (HessianPart part : {HessianPart::kOuter, HessianPart::kFunctional}) {
      SCOPED_TRACE(std::string(WeightGroupName(a)) + " " + HessianPartName(part));
      const double dense = hessian.Block(a, a, part).norm();
      EXPECT_NEAR(hessian.DiagonalBlockNormByGram(a, part), dense,
                  1e-12 * std::max(dense, 1e-300) + 1e-300);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, AttentionHessianTest, ::testing::ValuesIn(kShapes),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(AttentionHessian, ZeroResidualsLeaveOnlyTheOuterProduct) {
  // Y := F makes R = 0: H_f = 0 and H = H_o (spec §A).
  Rng rng(5);
  Problem p = MakeProblem(kShapes[1], rng);
  p.data.Y = AttentionLayerOutputs(p.data, p.w);
  const AttentionHessian hessian(p.data, p.w);
  // R is zero up to the rounding of two evaluations of F (bit-equal only when
  // the compiler contracts both alike; the sanitizer build does not): every
  // residual-weighted quantity is at rounding level of the outer product's scale.
  const double outer = MaxAbs(hessian.Dense(HessianPart::kOuter));
  ASSERT_GT(outer, 0.0);
  EXPECT_LE(hessian.loss(), 1e-28);
  EXPECT_LE(MaxAbs(hessian.Dense(HessianPart::kFunctional)), 1e-14 * outer);
  EXPECT_LE(MaxAbs(hessian.Gradient()), 1e-14 * outer);
}

TEST(AttentionHessian, FlattensRowMajorInTheOrderQKV) {
  AttentionLayerWeights w;
  w.WQ = (Eigen::MatrixXd(2, 3) << 1, 2, 3, 4, 5, 6).finished();
  w.WK = w.WQ * 10;
  w.WV = (Eigen::MatrixXd(2, 2) << 100, 200, 300, 400).finished();
  const Eigen::VectorXd v = FlattenWeights(w);
  Eigen::VectorXd want(16);
  want << 1, 2, 3, 4, 5, 6, 10, 20, 30, 40, 50, 60, 100, 200, 300, 400;
  EXPECT_EQ(v, want);
  const AttentionLayerWeights back = UnflattenWeights(v, 2, 3);
  EXPECT_EQ(back.WQ, w.WQ);
  EXPECT_EQ(back.WK, w.WK);
  EXPECT_EQ(back.WV, w.WV);
}

TEST(AttentionHessian, RejectsDataAndWeightsThatDoNotFit) {
  Rng rng(6);
  Problem p = MakeProblem(kShapes[0], rng);
  Problem bad = p;
  bad.data.Y.pop_back();
  try {
    AttentionHessian h(bad.data, bad.w);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "targets Y count: found 1, expected 2 (one per sequence)");
  }
  bad = p;
  bad.w.WK = Eigen::MatrixXd::Zero(3, 5);
  try {
    AttentionHessian h(bad.data, bad.w);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "W_K shape: found 3 × 5, expected 3 × 2 (the shape of W_Q)");
  }
  bad = p;
  bad.data.X[1](0, 0) = std::nan("");
  EXPECT_THROW(AttentionHessian(bad.data, bad.w), Error);
  EXPECT_THROW(ParseAttentionKind("relu", "hessian.attention"), Error);
  const AttentionHessian h(p.data, p.w);
  EXPECT_THROW(h.Apply(Eigen::VectorXd::Zero(3), HessianPart::kFull), Error);
}

}  // namespace
}  // namespace attnpaths
