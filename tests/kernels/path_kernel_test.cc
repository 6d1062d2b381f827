// Path inputs ξ_π and path kernels C_ππ', K_U (theory.md §2) against a
// brute-force token-by-token evaluation (tests/support/brute_force.h), and
// the two kernel strategies against each other.
#include "kernels/path_kernel.h"

#include <gtest/gtest.h>

#include <Eigen/Core>
#include <string>
#include <vector>

#include "kernels/architecture.h"
#include "kernels/error.h"
#include "kernels/path_inputs.h"
#include "kernels/paths.h"
#include "tests/support/brute_force.h"
#include "tests/support/finite_difference.h"
#include "tests/support/random_inputs.h"

namespace attnpaths {
namespace {

using test_util::RandomInputs;
using test_util::RelativeError;
using test_util::Rng;

constexpr Eigen::Index kN0 = 6, kTokens = 5, kTrain = 9, kTest = 4;

// Architectures of 1, 2 and 3 layers mixing every head kind and
// normalisation (theory.md §1).
Architecture MakeArchitecture(int L, Rng& rng) {
  using test_util::RandomGivenHead;
  using test_util::RandomQKHead;
  using test_util::RandomWHead;
  using test_util::SimpleHead;
  const auto soft = Normalization::kSoftmax, hard = Normalization::kHardmax;
  Architecture arch;
  switch (L) {
    case 1:
      arch.layers = {{RandomWHead(kN0, rng, soft, false, 1.2), RandomWHead(kN0, rng, hard),
                      RandomWHead(kN0, rng, soft, true, 0.9), RandomQKHead(kN0, 2, rng, soft),
                      SimpleHead(HeadKind::kUniform, soft, true),
                      SimpleHead(HeadKind::kBlank, hard),
                      RandomGivenHead(kTokens, kTrain, kTest, rng)}};
      break;
    case 2:
      arch.layers = {{RandomWHead(kN0, rng, soft, true, 1.5), SimpleHead(HeadKind::kBlank, hard),
                      RandomGivenHead(kTokens, kTrain, kTest, rng)},
                     {SimpleHead(HeadKind::kUniform), RandomQKHead(kN0, 3, rng, hard, true)}};
      break;
    default:
      arch.layers = {{RandomWHead(kN0, rng, hard), RandomQKHead(kN0, 2, rng, soft, false, 2.0)},
                     {RandomGivenHead(kTokens, kTrain, kTest, rng)},
                     {RandomWHead(kN0, rng, soft), SimpleHead(HeadKind::kBlank, soft),
                      SimpleHead(HeadKind::kUniform, soft, true)}};
      break;
  }
  arch.widths.assign(static_cast<size_t>(L + 1), 10.0);
  arch.variances.assign(static_cast<size_t>(L + 2), 1.0);
  arch.variances[0] = 1.7;  // σ_0² enters ξ_π as σ_0
  return arch;
}

class BruteForceTest : public ::testing::TestWithParam<int> {};

TEST_P(BruteForceTest, PathInputsAndKernelsMatchExplicitLoops) {
  const int L = GetParam();
  for (Readout readout : {Readout::kMean, Readout::kFirst, Readout::kLast}) {
    SCOPED_TRACE(ReadoutName(readout));
    Rng rng(100 + static_cast<std::uint32_t>(L));
    Architecture arch = MakeArchitecture(L, rng);
    arch.readout = readout;
    const Inputs X = RandomInputs(kTrain, kTokens, kN0, rng);
    const Inputs Xt = RandomInputs(kTest, kTokens, kN0, rng);
    const Eigen::Index H = arch.Htot();

    const auto xi_ref = test_util::BrutePathInputs(arch, X, Split::kTrain);
    const auto xi_test_ref = test_util::BrutePathInputs(arch, Xt, Split::kTest);
    const PathInputs xi = ComputePathInputs(arch, X, Split::kTrain);
    const PathInputs xi_test = ComputePathInputs(arch, Xt, Split::kTest);
    ASSERT_EQ(xi.Htot, H);
    ASSERT_EQ(xi.N0, kN0);
    ASSERT_EQ(xi.P(), kTrain);
    for (Eigen::Index mu = 0; mu < kTrain; ++mu) {
      for (Eigen::Index p = 0; p < H; ++p) {
        const Eigen::VectorXd lib = xi.path(p).row(mu).transpose();
        EXPECT_LE(RelativeError(lib, xi_ref[static_cast<size_t>(mu)].col(p)), 1e-12)
            << "example " << mu << " path " << p;
      }
    }
    for (Eigen::Index mu = 0; mu < kTest; ++mu) {
      const Eigen::MatrixXd lib =
          Eigen::Map<const Eigen::MatrixXd>(Eigen::RowVectorXd(xi_test.xi.row(mu)).data(), kN0, H);
      EXPECT_LE(RelativeError(lib, xi_test_ref[static_cast<size_t>(mu)]), 1e-12);
    }

    Eigen::MatrixXd U = test_util::RandomSymmetric(H, rng);
    Eigen::MatrixXd R = test_util::RandomSymmetric(kTrain, rng);
    const Eigen::MatrixXd K_ref = test_util::BruteKernel(xi_ref, xi_ref, U);
    const Eigen::MatrixXd g_ref = test_util::BruteContract(xi_ref, R);
    for (KernelStrategy strategy : {KernelStrategy::kPrecomputed, KernelStrategy::kFactored}) {
      SCOPED_TRACE(KernelStrategyName(strategy));
      const PathKernel kernel(xi, {strategy});
      ASSERT_EQ(kernel.strategy(), strategy);
      for (Eigen::Index p = 0; p < H; ++p) {
        for (Eigen::Index q = 0; q < H; ++q) {
          EXPECT_LE(RelativeError(kernel.Pair(p, q), test_util::BrutePair(xi_ref, xi_ref, p, q)),
                    1e-12)
              << "pair " << p << "," << q;
        }
      }
      EXPECT_LE(RelativeError(kernel.Total(U), K_ref), 1e-12);
      EXPECT_LE(RelativeError(kernel.Contract(R), g_ref), 1e-12);
    }
    // Test–train kernel and the test diagonal (theory.md §4).
    EXPECT_LE(
        RelativeError(CrossKernel(xi_test, xi, U), test_util::BruteKernel(xi_test_ref, xi_ref, U)),
        1e-12);
    const Eigen::MatrixXd K_tt = test_util::BruteKernel(xi_test_ref, xi_test_ref, U);
    EXPECT_LE(RelativeError(KernelDiagonal(xi_test, U), K_tt.diagonal()), 1e-12);
  }
}

INSTANTIATE_TEST_SUITE_P(Layers, BruteForceTest, ::testing::Values(1, 2, 3),
                         [](const auto& info) { return "L" + std::to_string(info.param); });

// The kernel of the GP limit in closed form for one uniform head: ξ = σ_0/√N0
// · mean token, so C(μ,ν) = σ_0² x̄^μ · x̄^ν / N0.
TEST(PathKernelTest, UniformHeadGivesTheMeanTokenKernel) {
  Rng rng(7);
  const Inputs X = RandomInputs(5, kTokens, kN0, rng);
  Architecture arch;
  arch.layers = {{test_util::SimpleHead(HeadKind::kUniform)}};
  arch.readout = Readout::kFirst;
  arch.widths = {1, 1};
  arch.variances = {2.0, 1, 1};
  const PathKernel kernel(ComputePathInputs(arch, X, Split::kTrain));
  for (Eigen::Index mu = 0; mu < X.P(); ++mu) {
    for (Eigen::Index nu = 0; nu < X.P(); ++nu) {
      const Eigen::VectorXd a = X.example(mu).rowwise().mean();
      const Eigen::VectorXd b = X.example(nu).rowwise().mean();
      EXPECT_NEAR(kernel.Pair(0, 0)(mu, nu), 2.0 * a.dot(b) / kN0, 1e-13);
    }
  }
}

// Precomputed and factored strategies, and single- vs multi-threaded path
// inputs, at the edges: P = 1, one head, one layer, P around the thread
// chunk boundaries (P/8 examples a thread) and the last packed pair.
TEST(PathKernelTest, StrategiesAgreeAtTheEdges) {
  Rng rng(8);
  const std::vector<std::vector<Eigen::Index>> shapes = {{1}, {2}, {3}, {1, 1}, {3, 2}, {1, 3, 2}};
  for (const auto& shape : shapes) {
    for (Eigen::Index P : {1, 2, 7, 8, 9, 15, 16, 17, 23, 24, 25}) {
      SCOPED_TRACE("P = " + std::to_string(P) + ", layers " + std::to_string(shape.size()) +
                   ", first H " + std::to_string(shape[0]));
      Architecture arch;
      for (Eigen::Index h : shape) {
        std::vector<HeadSpec> layer;
        for (Eigen::Index k = 0; k < h; ++k) layer.push_back(test_util::RandomWHead(kN0, rng));
        arch.layers.push_back(layer);
      }
      arch.readout = Readout::kMean;
      arch.SetUniform(5.0);
      const Inputs X = RandomInputs(P, kTokens, kN0, rng);
      const PathInputs one = ComputePathInputs(arch, X, Split::kTrain, 1);
      for (int threads : {2, 3}) {
        const PathInputs many = ComputePathInputs(arch, X, Split::kTrain, threads);
        EXPECT_EQ(one.xi, many.xi) << threads << " threads";
      }
      const Eigen::Index H = arch.Htot();
      const PathKernel pre(one, {KernelStrategy::kPrecomputed});
      const PathKernel fac(one, {KernelStrategy::kFactored});
      const Eigen::MatrixXd U = test_util::RandomSpd(H, rng);
      const Eigen::MatrixXd R = test_util::RandomSymmetric(P, rng);
      EXPECT_LE(RelativeError(pre.Total(U), fac.Total(U)), 1e-13);
      EXPECT_LE(RelativeError(pre.Contract(R), fac.Contract(R)), 1e-12);
      // Both equal the definitions written with Pair().
      Eigen::MatrixXd K = Eigen::MatrixXd::Zero(P, P);
      Eigen::MatrixXd g(H, H);
      for (Eigen::Index p = 0; p < H; ++p) {
        for (Eigen::Index q = 0; q < H; ++q) {
          const Eigen::MatrixXd c = one.path(p) * one.path(q).transpose();
          EXPECT_LE(RelativeError(pre.Pair(p, q), c), 1e-14);
          EXPECT_LE(RelativeError(fac.Pair(p, q), c), 1e-14);
          K += U(p, q) * c;
          g(p, q) = R.cwiseProduct(c).sum();
        }
      }
      EXPECT_LE(RelativeError(pre.Total(U), K), 1e-13);
      EXPECT_LE(RelativeError(fac.Contract(R), g), 1e-12);
      // The total kernel is symmetric.
      EXPECT_LE(RelativeError(pre.Total(U), pre.Total(U).transpose()), 1e-15);
      EXPECT_LE(RelativeError(fac.Total(U), fac.Total(U).transpose()), 1e-15);
    }
  }
}

TEST(PathKernelTest, AutoStrategyRespectsTheMemoryLimit) {
  const Eigen::Index P = 100, H = 4, N0 = 10;
  // Precomputed: inputs + H(H+1)/2 P² doubles; factored: inputs only.
  EXPECT_DOUBLE_EQ(KernelMemoryBytes(KernelStrategy::kFactored, P, H, N0), P * H * N0 * 8.0);
  EXPECT_DOUBLE_EQ(KernelMemoryBytes(KernelStrategy::kPrecomputed, P, H, N0),
                   P * H * N0 * 8.0 + 10.0 * P * P * 8.0);
  KernelOptions small;
  small.memory_limit_bytes = KernelMemoryBytes(KernelStrategy::kFactored, P, H, N0);
  EXPECT_EQ(ChooseKernelStrategy(small, P, H, N0), KernelStrategy::kFactored);
  small.strategy = KernelStrategy::kPrecomputed;
  EXPECT_THROW(ChooseKernelStrategy(small, P, H, N0), Error);
  small.memory_limit_bytes /= 2;
  small.strategy = KernelStrategy::kAuto;
  EXPECT_THROW(ChooseKernelStrategy(small, P, H, N0), Error);
}

TEST(PathsTest, PackingHasTheFirstLayerOutermost) {
  const Paths paths({3, 1, 2});
  EXPECT_EQ(paths.Htot(), 6);
  EXPECT_EQ(paths.m(1), 6);
  EXPECT_EQ(paths.m(2), 2);
  EXPECT_EQ(paths.m(3), 2);
  EXPECT_EQ(paths.m(4), 1);
  Eigen::Index expected = 0;
  for (Eigen::Index h1 = 0; h1 < 3; ++h1) {
    for (Eigen::Index h3 = 0; h3 < 2; ++h3) {
      EXPECT_EQ(paths.Pack({h1, 0, h3}), expected);
      EXPECT_EQ(paths.Heads(expected), (std::vector<Eigen::Index>{h1, 0, h3}));
      ++expected;
    }
  }
  EXPECT_EQ(Paths({2, 2}).Label(2, {{"good", "blank"}, {"uniform", "blank"}}), "blank>uniform");
  EXPECT_THROW(paths.Pack({3, 0, 0}), Error);
  EXPECT_THROW(paths.Heads(6), Error);
}

}  // namespace
}  // namespace attnpaths
