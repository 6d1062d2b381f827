// The one weight layout of network/network.h: blocks back to back in the
// documented order, the fixed-head view without Q and K (the sampler's
// WeightLayout order), the seeded initialisation, and the shape checks.
#include <gtest/gtest.h>

#include <Eigen/Core>

#include "kernels/error.h"
#include "network/network.h"
#include "tests/support/random_inputs.h"

namespace attnpaths {
namespace {

NetworkShape Shape(HeadWeights kind, Eigen::Index outputs) {
  NetworkShape s;
  s.N0 = 5;
  s.n_tok = 3;
  s.heads = {2, 3};
  s.widths = {4, 6, 2};
  s.key_dim = 3;
  s.head_weights = kind;
  s.outputs = outputs;
  return s;
}

TEST(ParameterLayout, BlocksFollowEachOtherInTheDocumentedOrder) {
  for (HeadWeights kind : {HeadWeights::kQK, HeadWeights::kFixed}) {
    SCOPED_TRACE(kind == HeadWeights::kQK ? "QK heads" : "fixed heads");
    const NetworkShape s = Shape(kind, 2);
    const ParameterLayout lay(s);
    Eigen::Index offset = 0;
    auto expect = [&](ParameterLayout::Block b, Eigen::Index rows, Eigen::Index cols) {
      EXPECT_EQ(b.offset, offset);
      EXPECT_EQ(b.rows, rows);
      EXPECT_EQ(b.cols, cols);
      offset += rows * cols;
    };
    expect(lay.V0(), 4, 5);
    for (int l = 1; l <= 2; ++l) {
      for (Eigen::Index h = 0; h < s.heads[l - 1]; ++h) {
        expect(lay.V(l, h), s.widths[l], s.widths[l - 1]);
        if (kind == HeadWeights::kQK) {
          expect(lay.Q(l, h), 3, 5);
          expect(lay.K(l, h), 3, 5);
        }
      }
    }
    expect(lay.a(), 2, 2);
    EXPECT_EQ(lay.size(), offset);
    EXPECT_EQ(lay.has_qk(), kind == HeadWeights::kQK);
    if (kind == HeadWeights::kFixed) {
      try {
        lay.Q(1, 0);
        FAIL() << "no error";
      } catch (const Error& e) {
        EXPECT_STREQ(e.what(),
                     "network heads: found fixed heads (no Q, K weights), expected QK-form heads");
      }
    }
  }
}

TEST(InitializeNetwork, DrawsValuesAndAttentionWithTheirScales) {
  // Many weights: the sample standard deviations are within 5 s.e. of the asked ones.
  NetworkShape s = Shape(HeadWeights::kQK, 1);
  s.widths = {40, 40, 40};
  s.key_dim = 30;
  s.N0 = 30;
  Network net(s);
  InitializeNetwork(2.0, 0.1, 7, &net);
  auto sd = [](const Eigen::MatrixXd& m) { return std::sqrt(m.array().square().mean()); };
  const double n = 1200;  // entries of V_0 (40 × 30)
  EXPECT_NEAR(sd(net.V0()), 2.0, 5 * 2.0 / std::sqrt(2 * n));
  EXPECT_NEAR(sd(net.Q(2, 1)), 0.1, 5 * 0.1 / std::sqrt(2 * 900));
  // Reproducible from the seed, different for another.
  Network again(s), other(s);
  InitializeNetwork(2.0, 0.1, 7, &again);
  InitializeNetwork(2.0, 0.1, 8, &other);
  EXPECT_EQ(again.parameters(), net.parameters());
  EXPECT_NE(other.parameters(), net.parameters());
  // Fixed heads: only values, in layout order.
  Network fixed(Shape(HeadWeights::kFixed, 1));
  InitializeNetwork(1.0, 0.1, 7, &fixed);
  EXPECT_TRUE(fixed.parameters().allFinite());
  EXPECT_GT(fixed.parameters().cwiseAbs().minCoeff(), 0.0);
}

TEST(FixedHeadShape, TakesTheArchitecturesHeadsWidthsAndReadout) {
  test_util::Rng rng(3);
  Architecture arch;
  arch.layers = {
      {test_util::SimpleHead(HeadKind::kUniform), test_util::SimpleHead(HeadKind::kUniform)}};
  arch.readout = Readout::kFirst;
  arch.widths = {7, 3};
  arch.variances = {1, 2, 3};
  const NetworkShape s = FixedHeadShape(arch, 4, 5, 2);
  EXPECT_EQ(s.heads, (std::vector<Eigen::Index>{2}));
  EXPECT_EQ(s.widths, (std::vector<Eigen::Index>{7, 3}));
  EXPECT_EQ(s.readout, Readout::kFirst);
  EXPECT_EQ(s.outputs, 2);
  EXPECT_EQ(s.head_weights, HeadWeights::kFixed);
  arch.widths = {7.5, 3};
  try {
    FixedHeadShape(arch, 4, 5);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(),
                 "architecture.widths[0]: found 7.5, expected an integer >= 1 (the finite network "
                 "has whole units)");
  }
  NetworkShape bad = s;
  bad.outputs = 0;
  EXPECT_THROW(bad.Validate(), Error);
}

}  // namespace
}  // namespace attnpaths
