// The reduced potential (sampler/reduced_potential.h) and the Bartlett law
// (sampler/bartlett.h), against independent computations:
//  * Bartlett: the potential's gradient against central finite differences;
//    the law against brute force (the QR of many Gaussian matrices: the
//    moments E[R_ii²] = n − i, E[R_ij²] = 1, E[R_ij] = 0 within their Monte
//    Carlo error);
//  * the reduced potential's gradient against finite differences (one to
//    three layers, several heads, D = 1 and 3, triangular and wide layers);
//  * lifting: the kernel ΦΦᵀ of the lifted network (CollapsedPotential, i.e.
//    weight_tree.h on the full value weights) equals Φ_R Φ_Rᵀ of the reduced
//    features to rounding, on training and test inputs, with canonical and
//    Haar frames; and the marginal potential of the lifted V (collapsed)
//    minus its Gaussian prior equals the reduced one minus its prior;
//  * the lifted prior (data at a huge temperature) reproduces the prior's
//    second moments of every value weight and of the products Ṽ_{1,h} Ṽ_0
//    within Monte Carlo error;
//  * the reduction to the span of the training data (span layers): the
//    gradient against finite differences; the lifted network's training
//    kernel against Φ_R Φ_Rᵀ; the lifted prior's second moments; and the
//    conditional statistics on test inputs (mean, variance, U^sampled, whose
//    fresh draws stand for the weights outside the span) against the
//    collapsed sampler's conditionals of the lifted network, averaged over
//    lifts of one θ, within Monte Carlo error.
#include "sampler/reduced_potential.h"

#include <gtest/gtest.h>

#include <Eigen/QR>
#include <cmath>
#include <vector>

#include "kernels/error.h"
#include "kernels/path_inputs.h"
#include "sampler/bartlett.h"
#include "sampler/collapsed_potential.h"
#include "sampler/weight_tree.h"
#include "tests/support/finite_difference.h"
#include "tests/support/random_inputs.h"

namespace attnpaths {
namespace {

using test_util::Rng;

TEST(BartlettFactor, GradientMatchesFiniteDifferences) {
  const BartlettFactor law(4, 7);
  RandomEngine engine = ChainEngine(3, 0);
  const Eigen::VectorXd theta = law.Draw(engine);
  ASSERT_EQ(theta.size(), 10);
  Eigen::VectorXd g = Eigen::VectorXd::Zero(10);
  law.Potential(theta, &g);
  const Eigen::VectorXd g_fd = test_util::FiniteDifferenceGradient(
      [&](const Eigen::VectorXd& t) { return law.Potential(t); }, theta);
  EXPECT_LE(test_util::RelativeError(g, g_fd), 1e-8);
  // PullBack: the chain rule of Unpack against differences of <g_R, R(θ)>.
  Rng rng(4);
  const Eigen::MatrixXd g_R = test_util::RandomNormal(16, 1, rng).reshaped(4, 4);
  auto inner = [&](const Eigen::VectorXd& t) {
    Eigen::MatrixXd R = Eigen::MatrixXd::Zero(4, 4);
    law.Unpack(t, R);
    return (g_R.triangularView<Eigen::Upper>().toDenseMatrix().array() * R.array()).sum();
  };
  Eigen::VectorXd pulled = Eigen::VectorXd::Zero(10);
  law.PullBack(theta, g_R, pulled);
  EXPECT_LE(test_util::RelativeError(pulled, test_util::FiniteDifferenceGradient(inner, theta)),
            1e-8);
  EXPECT_THROW(BartlettFactor(4, 3), Error);
}

TEST(BartlettFactor, LawMatchesTheQrOfGaussianMatrices) {
  // M draws each way: R from Draw, and R from the QR of an n × k Gaussian
  // matrix with the signs fixed so that R_ii > 0. Each moment of R_ii², R_ij
  // and R_ij² must agree with the exact one within 4.5 standard errors.
  const Eigen::Index k = 3, n = 5, M = 20000;
  const BartlettFactor law(k, n);
  RandomEngine engine = ChainEngine(11, 0);
  Eigen::MatrixXd sum_draw = Eigen::MatrixXd::Zero(k, k), sum2_draw = sum_draw;
  Eigen::MatrixXd sum_qr = sum_draw, sum2_qr = sum_draw;
  for (Eigen::Index m = 0; m < M; ++m) {
    Eigen::MatrixXd R = Eigen::MatrixXd::Zero(k, k);
    law.Unpack(law.Draw(engine), R);
    Eigen::MatrixXd G(n, k);
    for (Eigen::Index j = 0; j < k; ++j) {
      for (Eigen::Index i = 0; i < n; ++i) G(i, j) = StandardNormal(engine);
    }
    Eigen::MatrixXd Rq = Eigen::HouseholderQR<Eigen::MatrixXd>(G)
                             .matrixQR()
                             .topRows(k)
                             .triangularView<Eigen::Upper>();
    for (Eigen::Index i = 0; i < k; ++i) {
      if (Rq(i, i) < 0) Rq.row(i) *= -1;
    }
    // The statistic: R_ii² on the diagonal, R_ij above it.
    for (Eigen::Index j = 0; j < k; ++j) {
      for (Eigen::Index i = 0; i <= j; ++i) {
        const double a = i == j ? R(i, j) * R(i, j) : R(i, j);
        const double b = i == j ? Rq(i, j) * Rq(i, j) : Rq(i, j);
        sum_draw(i, j) += a;
        sum2_draw(i, j) += a * a;
        sum_qr(i, j) += b;
        sum2_qr(i, j) += b * b;
      }
    }
  }
  for (Eigen::Index j = 0; j < k; ++j) {
    for (Eigen::Index i = 0; i <= j; ++i) {
      // Exact: E[χ²_ν] = ν, Var = 2ν; E[N(0,1)] = 0, Var = 1.
      const double nu = static_cast<double>(n - i);
      const double mean = i == j ? nu : 0.0, se = std::sqrt((i == j ? 2 * nu : 1.0) / M);
      const double md = sum_draw(i, j) / M, mq = sum_qr(i, j) / M;
      EXPECT_NEAR(md, mean, 4.5 * se) << "draw " << i << "," << j;
      EXPECT_NEAR(mq, mean, 4.5 * se) << "qr " << i << "," << j;
      // Second moments of the off-diagonal entries: E[R_ij²] = 1 (Var 2).
      if (i < j) {
        EXPECT_NEAR(sum2_draw(i, j) / M, 1.0, 4.5 * std::sqrt(2.0 / M)) << i << "," << j;
        EXPECT_NEAR(sum2_qr(i, j) / M, 1.0, 4.5 * std::sqrt(2.0 / M)) << i << "," << j;
      }
    }
  }
}

struct Case {
  const char* name;
  std::vector<Eigen::Index> heads;
  std::vector<double> widths;
  Eigen::Index N0, P, D;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

struct Problem {
  Architecture arch;
  Inputs X, X_test;
  Eigen::MatrixXd Y;
  PathInputs train, test;
};

Problem MakeProblem(const Case& c, std::uint32_t seed) {
  Rng rng(seed);
  Problem p;
  const Eigen::Index n_tok = 4;
  p.X = test_util::RandomInputs(c.P, n_tok, c.N0, rng);
  p.X_test = test_util::RandomInputs(5, n_tok, c.N0, rng);
  int k = 0;
  for (Eigen::Index H : c.heads) {
    std::vector<HeadSpec> layer;
    for (Eigen::Index h = 0; h < H; ++h, ++k) {
      layer.push_back(k % 2 == 0
                          ? test_util::RandomWHead(c.N0, rng, Normalization::kSoftmax, false, 2.0)
                          : test_util::SimpleHead(HeadKind::kUniform));
    }
    p.arch.layers.push_back(layer);
  }
  p.arch.readout = Readout::kMean;
  p.arch.widths = c.widths;
  for (size_t i = 0; i < c.widths.size() + 1; ++i) {
    p.arch.variances.push_back(rng.Uniform(0.5, 2.0));
  }
  p.Y = test_util::RandomLabels(c.P, c.D, rng);
  p.train = ComputePathInputs(p.arch, p.X, Split::kTrain);
  p.test = ComputePathInputs(p.arch, p.X_test, Split::kTest);
  return p;
}

class Reduced : public ::testing::TestWithParam<Case> {};

TEST_P(Reduced, GradientAndLifting) {
  const Case c = GetParam();
  const Problem p = MakeProblem(c, 29);
  const double T = 0.3;
  const ReducedPotential reduced(p.arch, p.train, p.Y, T, CollapsedForm::kAuto, false);
  const CollapsedPotential collapsed(p.arch, p.train, p.Y, T);
  RandomEngine engine = ChainEngine(7, 0);
  const Eigen::VectorXd theta = reduced.DrawPrior(engine);
  ASSERT_EQ(theta.size(), reduced.dimension());

  // The gradient against finite differences, in both forms of the marginal.
  Eigen::VectorXd g;
  const double U = reduced.Evaluate(theta, &g);
  ASSERT_TRUE(std::isfinite(U));
  const Eigen::VectorXd g_fd = test_util::FiniteDifferenceGradient(
      [&](const Eigen::VectorXd& t) { return reduced.Evaluate(t, nullptr); }, theta);
  EXPECT_LE(test_util::RelativeError(g, g_fd), 1e-7);
  const ReducedPotential features(p.arch, p.train, p.Y, T, CollapsedForm::kFeatures, false);
  const ReducedPotential examples(p.arch, p.train, p.Y, T, CollapsedForm::kExamples, false);
  Eigen::VectorXd g_f, g_e;
  EXPECT_NEAR(features.Evaluate(theta, &g_f), examples.Evaluate(theta, &g_e),
              1e-10 * (std::abs(U) + 1));
  EXPECT_LE(test_util::RelativeError(g_f, g_e), 1e-9);

  // Lifting: the lifted network's kernel on training and test inputs is the
  // reduced one, in the canonical and in Haar frames.
  const Eigen::Index value_size = collapsed.dimension();
  const Eigen::MatrixXd Phi_R = reduced.Features(theta, StackPathInputs(p.train));
  const Eigen::MatrixXd Phi_R_test = reduced.Features(theta, StackPathInputs(p.test));
  double prior_reduced = 0;  // U − marginal of the reduced potential
  {
    Eigen::MatrixXd unused;
    prior_reduced = U - CollapsedMarginal(Phi_R, p.Y, T, reduced.example_form(), &unused);
  }
  for (bool rotate : {false, true}) {
    const Eigen::VectorXd w = reduced.Lift(theta, engine, rotate);
    ASSERT_EQ(w.size(), reduced.layout().dimension());
    const Eigen::VectorXd v = w.head(value_size);
    const Eigen::MatrixXd Phi = collapsed.Features(v, p.train);
    const Eigen::MatrixXd Phi_test = collapsed.Features(v, p.test);
    EXPECT_LE(test_util::RelativeError(Phi * Phi.transpose(), Phi_R * Phi_R.transpose()), 1e-12)
        << rotate;
    EXPECT_LE(test_util::RelativeError(Phi_test * Phi.transpose(), Phi_R_test * Phi_R.transpose()),
              1e-12)
        << rotate;
    // The marginal parts of the two potentials agree.
    const double marginal_collapsed = collapsed.Evaluate(v, nullptr) - 0.5 * v.squaredNorm();
    EXPECT_NEAR(marginal_collapsed, U - prior_reduced, 1e-9 * (std::abs(U) + 1)) << rotate;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Architectures, Reduced,
    ::testing::Values(
        // Triangular and wide layers: c_ℓ = H_ℓ c_{ℓ-1} when n_{ℓ+1} >= that.
        Case{"one_layer_all_triangular", {2}, {4, 9}, 3, 6, 1},
        Case{"one_layer_wide_embedding", {3}, {2, 7}, 3, 5, 1},
        Case{"two_layers_mixed", {2, 2}, {3, 4, 2}, 3, 7, 1},
        Case{"two_layers_triangular_three_outputs", {2, 2}, {3, 5, 9}, 2, 6, 3},
        Case{"three_layers_two_outputs", {2, 1, 2}, {3, 3, 7, 4}, 2, 5, 2},
        Case{"one_path_wide_readout_P_small", {1, 1}, {3, 3, 6}, 2, 2, 1}),
    [](const ::testing::TestParamInfo<Case>& info) { return std::string(info.param.name); });

TEST(Reduced, DimensionCountsTheTriangularFactors) {
  // N0 = 2, H = (2, 2), widths (3, 5, 9): c = (2, 4, 8), all triangular:
  // 3 + 10 + 36 coordinates instead of 3·2 + 2·5·3 + 2·9·5 = 126.
  const Problem p = MakeProblem({"", {2, 2}, {3, 5, 9}, 2, 4, 1}, 3);
  const ReducedPotential reduced(p.arch, p.train, p.Y, 0.1, CollapsedForm::kAuto, false);
  EXPECT_EQ(reduced.dimension(), 3 + 10 + 36);
  ASSERT_EQ(reduced.layers().size(), 3u);
  for (const ReducedLayer& layer : reduced.layers()) EXPECT_TRUE(layer.triangular);
  EXPECT_EQ(reduced.layers().back().rows, 8);
  // Widths below the ranks are sampled as they are.
  const Problem q = MakeProblem({"", {2, 2}, {3, 4, 2}, 3, 4, 1}, 3);
  const ReducedPotential wide(q.arch, q.train, q.Y, 0.1, CollapsedForm::kAuto, false);
  EXPECT_EQ(wide.dimension(), 6 + 4 * 6 + 2 * 8);
}

TEST(Reduced, LiftedPriorHasThePriorsSecondMoments) {
  // At T = 1e9 the posterior is the prior to ~1e-9; draw θ from the prior,
  // lift with Haar frames, and compare with N(0, I) for every value weight and
  // readout coordinate: E[w_i] = 0, E[w_i²] = 1, and E[(Ṽ_{1,h} Ṽ_0)_{ij}²] = n_1.
  const Problem p = MakeProblem({"", {2}, {3, 7}, 2, 4, 1}, 17);
  const ReducedPotential reduced(p.arch, p.train, p.Y, 1e9, CollapsedForm::kAuto, false);
  const WeightLayout& layout = reduced.layout();
  RandomEngine engine = ChainEngine(23, 0);
  const Eigen::Index M = 6000, d = layout.dimension();
  Eigen::VectorXd sum = Eigen::VectorXd::Zero(d), sum2 = sum;
  double product2 = 0;
  for (Eigen::Index m = 0; m < M; ++m) {
    const Eigen::VectorXd w = reduced.Lift(reduced.DrawPrior(engine), engine);
    sum += w;
    sum2 += w.cwiseAbs2();
    product2 += std::pow((layout.V(w, 1, 1) * layout.V0(w))(2, 1), 2);
  }
  const double se_mean = 1 / std::sqrt(static_cast<double>(M));
  const double se_square = std::sqrt(2.0 / static_cast<double>(M));
  for (Eigen::Index i = 0; i < d; ++i) {
    EXPECT_NEAR(sum[i] / M, 0.0, 4.5 * se_mean) << i;
    EXPECT_NEAR(sum2[i] / M, 1.0, 4.5 * se_square) << i;
  }
  // (Ṽ_1 Ṽ_0)_ij = S = Σ_k a_k b_k over n_1 = 3 independent N(0, 1) pairs:
  // E[S²] = 3; given b, S ~ N(0, |b|²), so E[S⁴] = 3 E[|b|⁴] = 3 (6 + 9) = 45
  // and Var S² = 36.
  EXPECT_NEAR(product2 / M, 3.0, 4.5 * std::sqrt(36.0 / static_cast<double>(M)));
}

// Span layers: N0 = 6 so that c_0 = 6 and r_1 = m_2 P is below ¾ H_1 c_0.
struct SpanCase {
  const char* name;
  std::vector<Eigen::Index> heads;
  std::vector<double> widths;
  Eigen::Index N0, P, D;
  int first_span;
  Eigen::Index dimension;
};

void PrintTo(const SpanCase& c, std::ostream* os) { *os << c.name; }

class Span : public ::testing::TestWithParam<SpanCase> {};

TEST_P(Span, GradientLiftingAndPlan) {
  const SpanCase c = GetParam();
  const Problem p = MakeProblem({c.name, c.heads, c.widths, c.N0, c.P, c.D}, 31);
  const double T = 0.3;
  const ReducedPotential reduced(p.arch, p.train, p.Y, T);
  const CollapsedPotential collapsed(p.arch, p.train, p.Y, T);
  EXPECT_EQ(reduced.first_span_layer(), c.first_span);
  EXPECT_EQ(reduced.dimension(), c.dimension);
  RandomEngine engine = ChainEngine(9, 0);
  const Eigen::VectorXd theta = reduced.DrawPrior(engine);
  Eigen::VectorXd g;
  const double U = reduced.Evaluate(theta, &g);
  ASSERT_TRUE(std::isfinite(U));
  const Eigen::VectorXd g_fd = test_util::FiniteDifferenceGradient(
      [&](const Eigen::VectorXd& t) { return reduced.Evaluate(t, nullptr); }, theta);
  EXPECT_LE(test_util::RelativeError(g, g_fd), 1e-7);
  const ReducedPotential features(p.arch, p.train, p.Y, T, CollapsedForm::kFeatures);
  const ReducedPotential examples(p.arch, p.train, p.Y, T, CollapsedForm::kExamples);
  Eigen::VectorXd g_f, g_e;
  EXPECT_NEAR(features.Evaluate(theta, &g_f), examples.Evaluate(theta, &g_e),
              1e-10 * (std::abs(U) + 1));
  EXPECT_LE(test_util::RelativeError(g_f, g_e), 1e-9);
  EXPECT_THROW(reduced.Features(theta, StackPathInputs(p.test)), Error);

  if (c.D == 1) return;  // scalar top: Φ_R are the features of ũ, not of ã (below)
  const Eigen::MatrixXd Phi_R = reduced.TrainingFeatures(theta);
  Eigen::MatrixXd unused;
  const double prior_reduced =
      U - CollapsedMarginal(Phi_R, p.Y, T, reduced.example_form(), &unused);
  for (bool rotate : {false, true}) {
    const Eigen::VectorXd w = reduced.Lift(theta, engine, rotate);
    const Eigen::VectorXd v = w.head(collapsed.dimension());
    const Eigen::MatrixXd Phi = collapsed.Features(v, p.train);
    EXPECT_LE(test_util::RelativeError(Phi * Phi.transpose(), Phi_R * Phi_R.transpose()), 1e-11)
        << rotate;
    const double marginal_collapsed = collapsed.Evaluate(v, nullptr) - 0.5 * v.squaredNorm();
    EXPECT_NEAR(marginal_collapsed, U - prior_reduced, 1e-9 * (std::abs(U) + 1)) << rotate;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Architectures, Span,
    ::testing::Values(
        // D = 1: c_0 = 6 (21), r_1 = 2·3 = 6 (21), the top layer and the
        // readout the scalar s (1) instead of c_1 = 12 and a 5 × 24 layer.
        SpanCase{"two_layers_span_from_1", {2, 2}, {6, 12, 5}, 6, 3, 1, 1, 21 + 21 + 1},
        // D = 1, only the top layer: layer 1 wide (5 × 12 = 60), the scalar s.
        SpanCase{"top_layer_only", {2, 2}, {6, 5, 4}, 6, 3, 1, 2, 21 + 60 + 1},
        // D = 2: c_0 = 6 (21), r_1 = 6 (21), r_2 = 3 (6).
        SpanCase{"two_layers_two_outputs", {2, 2}, {6, 12, 5}, 6, 3, 2, 1, 21 + 21 + 6},
        // D = 2, three layers, one head in the middle.
        // (r_2 = 4 of H_2 w = 4 columns at s = 1 is too close: s = 2.)
        SpanCase{
            "three_layers_two_outputs", {2, 1, 2}, {5, 9, 9, 6}, 5, 2, 2, 2, 15 + 90 + 10 + 3}),
    [](const ::testing::TestParamInfo<SpanCase>& info) { return std::string(info.param.name); });

TEST(Span, RepeatedExamplesFallBackToBottomUp) {
  // Two identical training examples: Y_ℓ Y_ℓᵀ is singular, so no span layer.
  Problem p = MakeProblem({"", {2, 2}, {6, 12, 5}, 6, 3, 1}, 31);
  p.X.example(2) = p.X.example(0);
  p.train = ComputePathInputs(p.arch, p.X, Split::kTrain);
  const ReducedPotential reduced(p.arch, p.train, p.Y, 0.3);
  EXPECT_EQ(reduced.first_span_layer(), 2);  // the scalar top only (D = 1)
  EXPECT_EQ(reduced.dimension(), 21 + 78 + 1);
}

void CheckConditionalsAgainstLifts(std::vector<double> widths, Eigen::Index D) {
  // One θ; M lifts of it (canonical frames, fresh weights outside the span)
  // give full networks (V, ã) drawn from the posterior given θ; M calls of
  // the reduced Conditionals draw the same unseen weights in reduced form.
  // Their averages of E[f | ·], E[f² | ·] = mean² + variance and U^sampled
  // must agree within 4.5 combined standard errors, at a temperature where
  // the data matter. The lifted side: when θ is a function of V (span
  // layers, D = 2) the collapsed conditionals of the lifted V (tower
  // property); under a scalar top θ holds s = |ã|², not a function of V, so
  // the lifted network's own f(x*) and U^sampled at its ã (f² its square).
  const Problem p = MakeProblem({"", {2, 2}, std::move(widths), 6, 3, D}, 37);
  const double T = 0.05;
  const ReducedPotential reduced(p.arch, p.train, p.Y, T);
  ASSERT_EQ(reduced.first_span_layer(), 1);
  const CollapsedPotential collapsed(p.arch, p.train, p.Y, T);
  RandomEngine engine = ChainEngine(41, 0);
  const Eigen::VectorXd theta = reduced.DrawPrior(engine);
  const Eigen::MatrixXd X_test = StackPathInputs(p.test);
  const Eigen::Index M = 8000, P_test = p.test.P();
  auto accumulate = [&](const ConditionalStatistics& c, std::vector<Eigen::VectorXd>* sums) {
    Eigen::VectorXd x(P_test * D * 2 + c.U.size());
    for (Eigen::Index mu = 0; mu < P_test; ++mu) {
      for (Eigen::Index d = 0; d < D; ++d) {
        x[mu * D + d] = c.f_mean(mu, d);
        x[P_test * D + mu * D + d] = c.f_mean(mu, d) * c.f_mean(mu, d) + c.f_variance[mu];
      }
    }
    x.tail(c.U.size()) = c.U.reshaped();
    if (sums->empty()) sums->assign(2, Eigen::VectorXd::Zero(x.size()));
    (*sums)[0] += x;
    (*sums)[1] += x.cwiseAbs2();
  };
  std::vector<Eigen::VectorXd> r_sums, c_sums;
  for (Eigen::Index m = 0; m < M; ++m) {
    accumulate(reduced.Conditionals(theta, X_test, engine), &r_sums);
    const Eigen::VectorXd w = reduced.Lift(theta, engine, false);
    const Eigen::VectorXd v = w.head(collapsed.dimension());
    if (D > 1) {
      accumulate(collapsed.Conditionals(v, p.test, engine), &c_sums);
      continue;
    }
    const WeightLayout& layout = reduced.layout();
    ConditionalStatistics own;
    own.f_mean = collapsed.Features(v, p.test) * layout.a(w);
    own.f_variance = Eigen::VectorXd::Zero(P_test);
    const Eigen::MatrixXd E0 = TopDownProducts(layout, w, layout.a(w))[0];
    const double s = OrderParameterScale(layout);
    own.U = (s * s / static_cast<double>(layout.n(1))) * (E0.transpose() * E0);
    accumulate(own, &c_sums);
  }
  const double Md = static_cast<double>(M);
  const Eigen::VectorXd r_mean = r_sums[0] / Md, c_mean = c_sums[0] / Md;
  const Eigen::VectorXd r_var = r_sums[1] / Md - r_mean.cwiseAbs2();
  const Eigen::VectorXd c_var = c_sums[1] / Md - c_mean.cwiseAbs2();
  for (Eigen::Index i = 0; i < r_mean.size(); ++i) {
    const double se = std::sqrt((r_var[i] + c_var[i]) / Md);
    EXPECT_NEAR(r_mean[i], c_mean[i], 4.5 * se + 1e-12) << i;
  }
  // The test predictions do depend on the unseen weights (else the test
  // above could not fail): the spread of E[f | ·] over lifts is not small.
  EXPECT_GT(c_var[0], 1e-3 * c_mean[P_test * D]);
}

// n_3 = 12 of which r_2 = 3 in the frame: most of the test variance comes
// from the readout outside it. Layer 1 (r_1 = 6): with n_2 = 12 the test
// rows outside the frame are drawn as W* W_bᵀ (6 < k = 12 columns), with
// n_2 = 20 through a 12 × 12 Bartlett factor. D = 2: span layers 1 and 2;
// D = 1: span layer 1 and the scalar top (the readout outside the frame of
// Y_L is then ũ's prior part).
TEST(Span, ConditionalsAreTheLiftedNetworksOnAverage) {
  CheckConditionalsAgainstLifts({6, 12, 12}, 2);
}
TEST(Span, ConditionalsWithABartlettComplement) { CheckConditionalsAgainstLifts({6, 20, 12}, 2); }
TEST(Span, ScalarTopConditionalsAreTheLiftedNetworksOnAverage) {
  CheckConditionalsAgainstLifts({6, 12, 12}, 1);
  CheckConditionalsAgainstLifts({6, 20, 3}, 1);
}

TEST(Span, LiftedPriorHasThePriorsSecondMoments) {
  const Problem p = MakeProblem({"", {2, 2}, {6, 12, 5}, 6, 3, 1}, 43);
  const ReducedPotential reduced(p.arch, p.train, p.Y, 1e9);
  ASSERT_EQ(reduced.first_span_layer(), 1);
  const WeightLayout& layout = reduced.layout();
  RandomEngine engine = ChainEngine(47, 0);
  const Eigen::Index M = 4000, d = layout.dimension();
  Eigen::VectorXd sum = Eigen::VectorXd::Zero(d), sum2 = sum;
  for (Eigen::Index m = 0; m < M; ++m) {
    const Eigen::VectorXd w = reduced.Lift(reduced.DrawPrior(engine), engine);
    sum += w;
    sum2 += w.cwiseAbs2();
  }
  const double se_mean = 1 / std::sqrt(static_cast<double>(M));
  const double se_square = std::sqrt(2.0 / static_cast<double>(M));
  for (Eigen::Index i = 0; i < d; ++i) {
    EXPECT_NEAR(sum[i] / M, 0.0, 4.5 * se_mean) << i;
    EXPECT_NEAR(sum2[i] / M, 1.0, 4.5 * se_square) << i;
  }
}

TEST(Reduced, RejectsBadInput) {
  const Problem p = MakeProblem({"", {2}, {4, 9}, 3, 6, 1}, 3);
  EXPECT_THROW(ReducedPotential(p.arch, p.train, p.Y, 0.0), Error);
  const ReducedPotential reduced(p.arch, p.train, p.Y, 0.1);
  EXPECT_THROW(reduced.Evaluate(Eigen::VectorXd::Zero(3), nullptr), Error);
}

}  // namespace
}  // namespace attnpaths
