// The effective-weight potential (theory.md §5) against a brute-force,
// token-by-token forward pass of the explicit network of theory.md §1 written
// here with scalar loops, against the library's token-wise back-propagation,
// and against finite differences.
#include "sampler/potential.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "kernels/error.h"
#include "kernels/path_inputs.h"
#include "sampler/tokenwise.h"
#include "sampler/weight_layout.h"
#include "tests/support/brute_force.h"
#include "tests/support/finite_difference.h"
#include "tests/support/random_inputs.h"

namespace attnpaths {
namespace {

using test_util::Rng;

// f(x^μ) of theory.md §1 with explicit loops over tokens, features and heads
// (tests/support/brute_force.h).
Eigen::RowVectorXd BruteOutput(const Architecture& arch, const NetworkWeights& w, const Inputs& X,
                               Eigen::Index mu) {
  return test_util::BruteNetworkOutput(arch, w.V0, w.V, w.a, X, mu, Split::kTrain);
}

// ½|q|² + Σ_μ |f(x^μ) − y^μ|² / (2T) with the brute-force f.
double BrutePotential(const Architecture& arch, const WeightLayout& layout, const Inputs& X,
                      const Eigen::MatrixXd& Y, double T, const Eigen::VectorXd& q) {
  const NetworkWeights w = layout.ToWeights(q);
  double U = 0.5 * q.squaredNorm();
  for (Eigen::Index mu = 0; mu < X.P(); ++mu) {
    U += 0.5 * (BruteOutput(arch, w, X, mu) - Y.row(mu)).squaredNorm() / T;
  }
  return U;
}

struct Case {
  const char* name;
  std::vector<Eigen::Index> heads;
  std::vector<double> widths;
  Readout readout;
  Eigen::Index D;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

Architecture MakeArchitecture(const Case& c, Eigen::Index N0, Rng& rng) {
  Architecture arch;
  int k = 0;
  for (Eigen::Index H : c.heads) {
    std::vector<HeadSpec> layer;
    for (Eigen::Index h = 0; h < H; ++h, ++k) {
      // A mix of head kinds: softmax, hardmax, causal, uniform.
      if (k % 4 == 0)
        layer.push_back(test_util::RandomWHead(N0, rng, Normalization::kSoftmax, false, 2.0));
      if (k % 4 == 1) layer.push_back(test_util::RandomWHead(N0, rng, Normalization::kHardmax));
      if (k % 4 == 2)
        layer.push_back(test_util::RandomQKHead(N0, 3, rng, Normalization::kSoftmax, true));
      if (k % 4 == 3) layer.push_back(test_util::SimpleHead(HeadKind::kUniform));
    }
    arch.layers.push_back(layer);
  }
  arch.readout = c.readout;
  arch.widths = c.widths;
  for (size_t i = 0; i < c.widths.size() + 1; ++i) arch.variances.push_back(rng.Uniform(0.5, 2.0));
  return arch;
}

class PotentialVsBruteForce : public ::testing::TestWithParam<Case> {};

TEST_P(PotentialVsBruteForce, OutputsGradientAndOrderParameter) {
  const Case c = GetParam();
  Rng rng(17);
  const Eigen::Index P = 6, n_tok = 5, N0 = 4;
  const Inputs X = test_util::RandomInputs(P, n_tok, N0, rng);
  const Architecture arch = MakeArchitecture(c, N0, rng);
  const Eigen::MatrixXd Y = test_util::RandomLabels(P, c.D, rng);
  const double T = 0.7;
  const NetworkPotential potential(arch, ComputePathInputs(arch, X, Split::kTrain), Y, T);
  const WeightLayout& layout = potential.layout();
  const Eigen::VectorXd q = test_util::RandomNormal(layout.dimension(), 1, rng);
  const NetworkWeights w = layout.ToWeights(q);

  // f in effective-weight form equals the token-by-token forward pass.
  const Eigen::MatrixXd f = potential.Outputs(q, potential.train());
  for (Eigen::Index mu = 0; mu < P; ++mu) {
    const Eigen::RowVectorXd brute = BruteOutput(arch, w, X, mu);
    for (Eigen::Index d = 0; d < c.D; ++d) {
      EXPECT_NEAR(f(mu, d), brute[d], 1e-12 * (1 + std::abs(brute[d]))) << "mu " << mu;
    }
  }

  // The potential equals the brute-force one; the gradient equals the
  // token-wise back-propagation and central finite differences of the loops.
  Eigen::VectorXd grad;
  const double U = potential.Evaluate(q, &grad);
  EXPECT_NEAR(U, BrutePotential(arch, layout, X, Y, T, q), 1e-11 * std::abs(U));
  EXPECT_NEAR(potential.Evaluate(q, nullptr), U, 1e-14 * std::abs(U));

  const TokenwisePotential tokenwise(arch, X, Y, T);
  Eigen::VectorXd grad_tokenwise;
  EXPECT_NEAR(tokenwise.Evaluate(q, &grad_tokenwise), U, 1e-11 * std::abs(U));
  EXPECT_LE(test_util::RelativeError(grad, grad_tokenwise), 1e-12);
  EXPECT_LE(test_util::RelativeError(tokenwise.Outputs(q), f), 1e-12);

  const Eigen::VectorXd grad_fd = test_util::FiniteDifferenceGradient(
      [&](const Eigen::VectorXd& v) { return BrutePotential(arch, layout, X, Y, T, v); }, q);
  EXPECT_LE(test_util::RelativeError(grad, grad_fd), 1e-7);

  // U^sampled of this draw: e_{h_L,d} = V_{L,h_L}ᵀ a_d / √n_{L+1}, then
  // e_(h_ℓ, rest),d = V_{ℓ,h_ℓ}ᵀ e_rest,d / √n_{ℓ+1};
  // U[(π,d),(π',d')] = e_{π,d} · e_{π',d'} / n_1 (theory.md §5, §9), paths
  // packed with h_1 outermost and the output index fastest.
  const Eigen::Index Htot = arch.Htot();
  std::vector<Eigen::MatrixXd> e(static_cast<size_t>(Htot));
  for (Eigen::Index p = 0; p < Htot; ++p) {
    const std::vector<Eigen::Index> heads = test_util::BrutePathHeads(arch, p);
    Eigen::MatrixXd v = w.a;
    for (int l = arch.L(); l >= 1; --l) {
      v = w.V[static_cast<size_t>(l - 1)][static_cast<size_t>(heads[static_cast<size_t>(l - 1)])]
              .transpose() *
          v / std::sqrt(double(v.rows()));
    }
    e[static_cast<size_t>(p)] = v;  // n_1 × D
  }
  const Eigen::MatrixXd U_draw = potential.OrderParameter(q);
  ASSERT_EQ(U_draw.rows(), Htot * c.D);
  ASSERT_EQ(U_draw.cols(), Htot * c.D);
  for (Eigen::Index p = 0; p < Htot; ++p) {
    for (Eigen::Index r = 0; r < Htot; ++r) {
      for (Eigen::Index d = 0; d < c.D; ++d) {
        for (Eigen::Index d2 = 0; d2 < c.D; ++d2) {
          double dot = 0;
          for (Eigen::Index i = 0; i < e[static_cast<size_t>(p)].rows(); ++i) {
            dot += e[static_cast<size_t>(p)](i, d) * e[static_cast<size_t>(r)](i, d2);
          }
          const double expected = dot / arch.widths[0];
          EXPECT_NEAR(U_draw(p * c.D + d, r * c.D + d2), expected, 1e-12 * (1 + std::abs(expected)))
              << p << "," << d << " " << r << "," << d2;
        }
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Architectures, PotentialVsBruteForce,
    ::testing::Values(
        Case{"two_by_two_last", {2, 2}, {5, 4, 3}, Readout::kLast, 1},
        Case{"one_layer_one_head_mean", {1}, {3, 4}, Readout::kMean, 1},
        Case{"three_layers_first_two_outputs", {2, 1, 3}, {3, 2, 4, 2}, Readout::kFirst, 2},
        Case{"one_width_one", {3, 2}, {1, 1, 1}, Readout::kMean, 1}),
    [](const ::testing::TestParamInfo<Case>& info) { return std::string(info.param.name); });

TEST(NetworkPotential, ReadoutOnlyIsTheReadoutBlockOfTheFullPotential) {
  Rng rng(5);
  const Inputs X = test_util::RandomInputs(7, 4, 3, rng);
  const Case c{"", {2, 2}, {4, 3, 5}, Readout::kLast, 2};
  const Architecture arch = MakeArchitecture(c, 3, rng);
  const Eigen::MatrixXd Y = test_util::RandomLabels(7, 2, rng);
  const PathInputs xi = ComputePathInputs(arch, X, Split::kTrain);
  const NetworkPotential full(arch, xi, Y, 0.3);
  const Eigen::VectorXd q = test_util::RandomNormal(full.dimension(), 1, rng);
  const NetworkWeights w = full.layout().ToWeights(q);
  const NetworkPotential readout(arch, xi, Y, 0.3, SampledWeights::kReadout, &w);
  ASSERT_EQ(readout.dimension(), 5 * 2);
  const Eigen::VectorXd a = q.tail(readout.dimension());
  Eigen::VectorXd g_full, g_readout;
  const double U_full = full.Evaluate(q, &g_full);
  // The prior of the fixed weights is a constant the readout-only potential leaves out.
  const double prior_fixed = 0.5 * q.head(q.size() - a.size()).squaredNorm();
  EXPECT_NEAR(readout.Evaluate(a, &g_readout) + prior_fixed, U_full, 1e-12 * U_full);
  EXPECT_LE(test_util::RelativeError(g_readout, g_full.tail(a.size())), 1e-13);
  EXPECT_LE(test_util::RelativeError(readout.FullCoordinates(a), q), 1e-15);
  EXPECT_LE(test_util::RelativeError(readout.Outputs(a, xi), full.Outputs(q, xi)), 1e-13);
}

TEST(WeightLayout, RoundTripAndShapes) {
  Rng rng(3);
  const Case c{"", {2, 3}, {4, 3, 2}, Readout::kLast, 1};
  const Architecture arch = MakeArchitecture(c, 5, rng);
  const WeightLayout layout(arch, 5, 1);
  EXPECT_EQ(layout.dimension(), 4 * 5 + 2 * 3 * 4 + 3 * 2 * 3 + 2);
  EXPECT_EQ(layout.Htot(), 6);
  EXPECT_EQ(layout.m(2), 3);
  const Eigen::VectorXd q = test_util::RandomNormal(layout.dimension(), 1, rng);
  const NetworkWeights w = layout.ToWeights(q);
  EXPECT_EQ(w.V[1][2].rows(), 2);
  EXPECT_EQ(w.V[1][2].cols(), 3);
  EXPECT_DOUBLE_EQ(w.V0(1, 2), std::sqrt(arch.variances[0]) * q[2 * 4 + 1]);
  EXPECT_LE(test_util::RelativeError(layout.FromWeights(w), q), 1e-15);
}

TEST(NetworkPotential, RejectsNonIntegerWidthsAndBadShapes) {
  Rng rng(8);
  const Inputs X = test_util::RandomInputs(4, 3, 2, rng);
  Architecture arch = MakeArchitecture(Case{"", {1}, {3, 3}, Readout::kLast, 1}, 2, rng);
  const PathInputs xi = ComputePathInputs(arch, X, Split::kTrain);
  const Eigen::MatrixXd Y = test_util::RandomLabels(4, 1, rng);
  arch.widths[1] = 2.5;
  try {
    NetworkPotential(arch, xi, Y, 0.1);
    FAIL() << "expected Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("architecture.widths[1]"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("2.5"), std::string::npos) << e.what();
  }
  arch.widths[1] = 3;
  EXPECT_THROW(NetworkPotential(arch, xi, Y.topRows(3), 0.1), Error);
  EXPECT_THROW(NetworkPotential(arch, xi, Y, 0.0), Error);
  EXPECT_THROW(NetworkPotential(arch, xi, Y, 0.1, SampledWeights::kReadout, nullptr), Error);
}

}  // namespace
}  // namespace attnpaths
