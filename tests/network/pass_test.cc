// network/pass.h against the scalar-loop network of tests/support/brute_force.h
// (theory.md §1) and Richardson-extrapolated finite differences of it: QK
// heads (trained Q, K) and fixed heads of every kind of kernels/head.h, one
// and several outputs, every readout, head masks, chunk sizes.
#include "network/pass.h"

#include <gtest/gtest.h>

#include <Eigen/Core>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include "kernels/error.h"
#include "network/network.h"
#include "tests/support/brute_force.h"
#include "tests/support/finite_difference.h"
#include "tests/support/random_inputs.h"

namespace attnpaths {
namespace {

using test_util::RelativeError;
using test_util::Rng;

// A network with every weight N(0, 1) and Q, K N(0, 0.8²) (far from uniform
// attention).
Network RandomWeights(const NetworkShape& shape, Rng& rng) {
  Network net(shape);
  for (Eigen::Index i = 0; i < net.num_parameters(); ++i) net.parameters()(i) = rng.Normal();
  if (shape.head_weights == HeadWeights::kQK) {
    for (int l = 1; l <= shape.L(); ++l) {
      for (Eigen::Index h = 0; h < shape.heads[l - 1]; ++h) {
        net.Q(l, h) = test_util::RandomNormal(shape.key_dim, shape.N0, rng, 0.8);
        net.K(l, h) = test_util::RandomNormal(shape.key_dim, shape.N0, rng, 0.8);
      }
    }
  }
  return net;
}

// The heads `net` computes, as kernels/ head specifications.
Architecture HeadsOf(const Network& net, const Architecture* fixed) {
  return fixed ? *fixed : FrozenHeadArchitecture(net, 1.0);
}

// f of every example by the brute-force loops (P × D).
Eigen::MatrixXd BruteOutputs(const Network& net, const Architecture& heads, const Inputs& x,
                             const HeadMask& mask) {
  const NetworkShape& s = net.shape();
  std::vector<std::vector<Eigen::MatrixXd>> V(static_cast<size_t>(s.L()));
  for (int l = 1; l <= s.L(); ++l) {
    for (Eigen::Index h = 0; h < s.heads[l - 1]; ++h) V[l - 1].push_back(net.V(l, h));
  }
  Eigen::MatrixXd f(x.P(), s.outputs);
  for (Eigen::Index mu = 0; mu < x.P(); ++mu) {
    f.row(mu) =
        test_util::BruteNetworkOutput(heads, net.V0(), V, net.a(), x, mu, Split::kTrain, mask);
  }
  return f;
}

// f of every example by NetworkPass in chunks of `chunk`.
Eigen::MatrixXd PassOutputs(const Network& net, const Inputs& x, const HeadMask& mask,
                            const FixedAttention* attention, Eigen::Index chunk) {
  NetworkPass pass(net, &mask, attention);
  std::vector<Eigen::Index> ids(static_cast<size_t>(x.P()));
  std::iota(ids.begin(), ids.end(), 0);
  Eigen::MatrixXd f(x.P(), net.shape().outputs);
  for (Eigen::Index s = 0; s < x.P(); s += chunk) {
    const Eigen::Index B = std::min(chunk, x.P() - s);
    f.middleRows(s, B) = pass.Forward(x, ids.data() + s, B);
  }
  return f;
}

struct Case {
  const char* name;
  std::vector<Eigen::Index> heads, widths;
  Readout readout;
  Eigen::Index outputs;
  bool fixed;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

const Case kCases[] = {
    {"qk_one_layer_mean", {3}, {4, 2}, Readout::kMean, 1, false},
    {"qk_two_layers_last_two_outputs", {2, 3}, {4, 5, 3}, Readout::kLast, 2, false},
    {"qk_three_layers_first", {2, 1, 2}, {3, 4, 2, 3}, Readout::kFirst, 1, false},
    {"fixed_two_layers_mean_three_outputs", {3, 2}, {4, 3, 2}, Readout::kMean, 3, true},
    {"fixed_one_layer_last", {4}, {3, 2}, Readout::kLast, 1, true},
};

// A mix of fixed head kinds: softmax W-form, hardmax, causal QK, uniform.
Architecture FixedHeads(const Case& c, Eigen::Index N0, Rng& rng) {
  Architecture arch;
  int k = 0;
  for (Eigen::Index H : c.heads) {
    std::vector<HeadSpec> layer;
    for (Eigen::Index h = 0; h < H; ++h, ++k) {
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
  for (Eigen::Index n : c.widths) arch.widths.push_back(static_cast<double>(n));
  arch.variances.assign(c.widths.size() + 1, 1.0);
  return arch;
}

class NetworkPassTest : public ::testing::TestWithParam<Case> {};

TEST_P(NetworkPassTest, ForwardEqualsTheScalarLoopsAndBackwardEqualsFiniteDifferences) {
  const Case c = GetParam();
  Rng rng(21);
  const Eigen::Index N0 = 5, n_tok = 4, P = 11;
  const Inputs x = test_util::RandomInputs(P, n_tok, N0, rng);
  Architecture fixed_heads;
  NetworkShape shape;
  if (c.fixed) {
    fixed_heads = FixedHeads(c, N0, rng);
    shape = FixedHeadShape(fixed_heads, N0, n_tok, c.outputs);
  } else {
    shape.N0 = N0;
    shape.n_tok = n_tok;
    shape.heads = c.heads;
    shape.widths = c.widths;
    shape.key_dim = 3;
    shape.readout = c.readout;
    shape.outputs = c.outputs;
  }
  const Network net = RandomWeights(shape, rng);
  const Architecture heads = HeadsOf(net, c.fixed ? &fixed_heads : nullptr);
  const FixedAttention attention =
      c.fixed ? ComputeFixedAttention(fixed_heads, x, Split::kTrain) : FixedAttention{};
  const FixedAttention* table = c.fixed ? &attention : nullptr;

  HeadMask none, drop = AllHeads(shape);
  drop[0][1] = false;
  for (const HeadMask* mask : {&none, &drop}) {
    SCOPED_TRACE(mask->empty() ? "every head" : "head L1H2 removed");
    const Eigen::MatrixXd brute = BruteOutputs(net, heads, x, *mask);
    // Chunks of 4 (three passes, the last short) and one chunk of all.
    for (Eigen::Index chunk : {4, 64}) {
      EXPECT_LE(RelativeError(PassOutputs(net, x, *mask, table, chunk), brute), 1e-12);
    }

    // Backward: Σ_b Σ_k g_bk ∂f_bk/∂θ against central differences of the
    // loops' Σ g ⊙ f.
    const Eigen::MatrixXd g = test_util::RandomNormal(P, c.outputs, rng);
    NetworkPass pass(net, mask, table);
    std::vector<Eigen::Index> ids(static_cast<size_t>(P));
    std::iota(ids.begin(), ids.end(), 0);
    Eigen::VectorXd grad = Eigen::VectorXd::Zero(net.num_parameters());
    pass.Forward(x, ids.data(), 6);
    pass.Backward(g.topRows(6), &grad);
    pass.Forward(x, ids.data() + 6, P - 6);
    pass.Backward(g.bottomRows(P - 6), &grad);
    auto objective = [&](const Eigen::VectorXd& theta) {
      Network moved = net;
      moved.parameters() = theta;
      const Architecture moved_heads = HeadsOf(moved, c.fixed ? &fixed_heads : nullptr);
      return (BruteOutputs(moved, moved_heads, x, *mask).array() * g.array()).sum();
    };
    const Eigen::VectorXd fd =
        test_util::FiniteDifferenceGradient(objective, net.parameters(), 1e-3);
    // Richardson differences are good to ~1e-10 relative; 1e-8 leaves room.
    EXPECT_LE((grad - fd).cwiseAbs().maxCoeff(), 1e-8 * std::max(1.0, fd.cwiseAbs().maxCoeff()));
    if (!c.fixed) {
      // Q and K of an active head have a gradient; a removed head's none.
      const ParameterLayout& lay = net.layout();
      auto block_max = [&](ParameterLayout::Block b) {
        return grad.segment(b.offset, b.rows * b.cols).cwiseAbs().maxCoeff();
      };
      EXPECT_GT(block_max(lay.Q(1, 0)), 1e-6);
      EXPECT_EQ(block_max(lay.Q(1, 1)) == 0.0, !mask->empty());
      EXPECT_EQ(block_max(lay.V(1, 1)) == 0.0, !mask->empty());
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, NetworkPassTest, ::testing::ValuesIn(kCases),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(NetworkPass, FixedHeadsNeedTheirAttentionTable) {
  Rng rng(4);
  Case c{"", {2}, {3, 2}, Readout::kMean, 1, true};
  const Architecture arch = FixedHeads(c, 3, rng);
  const Network net(FixedHeadShape(arch, 3, 4));
  try {
    NetworkPass pass(net);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(),
                 "network heads: found fixed heads without attention matrices, expected a "
                 "FixedAttention table (network/pass.h)");
  }
  const Inputs x = test_util::RandomInputs(3, 4, 3, rng);
  const FixedAttention table = ComputeFixedAttention(arch, x, Split::kTrain);
  NetworkPass pass(net, nullptr, &table);
  const Eigen::Index beyond[] = {3};
  EXPECT_THROW(pass.Forward(x, beyond, 1), Error);
  const Eigen::Index first[] = {0};
  pass.Forward(x, first, 1);
  Eigen::VectorXd grad = Eigen::VectorXd::Zero(net.num_parameters());
  EXPECT_THROW(pass.Backward(Eigen::MatrixXd::Zero(2, 1), &grad), Error);
}

TEST(NetworkPass, ReadoutWeightsPickTheQueries) {
  EXPECT_EQ(ReadoutWeights(Readout::kMean, 4), Eigen::VectorXd::Constant(4, 0.25));
  EXPECT_EQ(ReadoutWeights(Readout::kFirst, 3), Eigen::Vector3d(1, 0, 0));
  EXPECT_EQ(ReadoutWeights(Readout::kLast, 3), Eigen::Vector3d(0, 0, 1));
}

}  // namespace
}  // namespace attnpaths
