// Token kernels of theory.md networks (signal-propagation.md §II.3): the
// infinite-width readout of the token recursion equals the GP-limit path
// kernel K_{U_GP} (kernels/path_kernel.h with U = U_GP of solver/predictor.h)
// for every readout, several heads per layer and unequal variances; an E-SPA
// network written with fixed heads carries the E-SPA target kernels; the
// path diagnostics see a uniform head collapse the kernel.
#include "propagation/token_kernel.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "data/config.h"
#include "data/npy.h"
#include "kernels/error.h"
#include "kernels/path_inputs.h"
#include "kernels/path_kernel.h"
#include "propagation/kernel_recursion.h"
#include "solver/predictor.h"
#include "tests/support/random_inputs.h"

namespace attnpaths {
namespace {

using test_util::RandomInputs;
using test_util::Rng;

HeadSpec Fixed(const Eigen::MatrixXd& omega, const std::string& name) {
  HeadSpec h;
  h.kind = HeadKind::kFixed;
  h.name = name;
  h.fixed = omega;
  return h;
}

TEST(TokenKernel, ReadoutEqualsTheGpLimitPathKernel) {
  Rng rng(3);
  const Eigen::Index N0 = 5, n_tok = 6;
  const Inputs a = RandomInputs(7, n_tok, N0, rng), b = RandomInputs(4, n_tok, N0, rng);
  for (Readout readout : {Readout::kLast, Readout::kFirst, Readout::kMean}) {
    Architecture arch;
    arch.layers = {{test_util::RandomWHead(N0, rng, Normalization::kSoftmax, false, 1.3),
                    test_util::SimpleHead(HeadKind::kUniform, Normalization::kSoftmax, true)},
                   {Fixed(test_util::RandomNormal(n_tok, n_tok, rng), "fixed"),
                    test_util::RandomQKHead(N0, 2, rng, Normalization::kSoftmax, true, 0.8),
                    test_util::RandomWHead(N0, rng, Normalization::kHardmax)},
                   {test_util::RandomWHead(N0, rng), test_util::SimpleHead(HeadKind::kBlank)}};
    arch.readout = readout;
    arch.widths = {10, 10, 10, 10};
    arch.variances = {1.7, 0.6, 2.2, 1.3, 0.9};
    const Eigen::MatrixXd U_gp = GpLimit(arch).U[0];
    const Eigen::MatrixXd path = CrossKernel(ComputePathInputs(arch, a, Split::kTrain),
                                             ComputePathInputs(arch, b, Split::kTest), U_gp);
    const Eigen::MatrixXd rec = TokenRecursionKernel(arch, a, Split::kTrain, b, Split::kTest);
    const double rel = (rec - path).cwiseAbs().maxCoeff() / path.cwiseAbs().maxCoeff();
    EXPECT_LE(rel, 1e-12) << ReadoutName(readout);
    // Control: dropping the 1/H_ℓ of the head sums breaks the equality.
    EXPECT_GT((rec * 6 - path).cwiseAbs().maxCoeff() / path.cwiseAbs().maxCoeff(), 1.0);
  }
}

TEST(TokenKernel, EspaNetworkWithFixedHeadsCarriesTheTargets) {
  const Eigen::Index m = 10;
  KernelPropOptions o;
  o.tokens = m;
  o.depth = 5;
  const KernelPropagation p = PropagateKernel(o);
  // One head per layer Ω_ℓ = A_ℓᵀ, every σ² one, and x = √N0 I so that σ_0² xᵀx/N0 = I.
  Architecture arch;
  for (const AttentionDecomposition& a : p.attention) {
    arch.layers.push_back({Fixed(a.A.transpose(), "espa")});
  }
  arch.widths.assign(6, 50.0);
  arch.variances.assign(7, 1.0);
  const Eigen::MatrixXd x = std::sqrt(double(m)) * Eigen::MatrixXd::Identity(m, m);
  const TokenKernels t = ComputeTokenKernels(arch, x, 0, Split::kTrain, x, 0, Split::kTrain);
  ASSERT_EQ(t.sigma.size(), 6u);
  for (size_t l = 0; l < t.sigma.size(); ++l) {
    EXPECT_LE((t.sigma[l] - p.targets[l]).cwiseAbs().maxCoeff(), 1e-13) << l;
  }
  // Last-token readout of layer L: K_GP = Σ_L[m, m] (= 1 for the unit-diagonal target).
  EXPECT_NEAR(t.gp, p.targets.back()(m - 1, m - 1), 1e-13);
}

TEST(TokenKernel, PathDiagnosticsSeeAUniformHeadCollapseTheKernel) {
  Rng rng(5);
  const Eigen::Index N0 = 8, n_tok = 6;
  const Inputs x = RandomInputs(3, n_tok, N0, rng);
  Architecture arch;
  arch.layers = {{test_util::SimpleHead(HeadKind::kUniform, Normalization::kSoftmax, false),
                  Fixed(Eigen::MatrixXd::Identity(n_tok, n_tok), "id")},
                 {test_util::SimpleHead(HeadKind::kBlank)}};
  arch.layers[0][0].name = "uniform";
  arch.layers[1][0].name = "blank";
  arch.widths = {10, 10, 10};
  arch.variances = {1, 1, 1, 1};
  const std::vector<PathTokenDiagnostic> d = PathTokenDiagnostics(arch, x, Split::kTrain, 2);
  ASSERT_EQ(d.size(), 2u * 2u * 2u);  // examples × paths × layers (ℓ = 0, 1)
  for (const PathTokenDiagnostic& r : d) {
    const auto xm = x.example(r.example);
    const KernelMetrics in = ComputeKernelMetrics(xm.transpose() * xm / double(N0));
    if (r.layer == 0 || r.label == "id>blank") {
      // Before layer 1, or through the identity head: the input kernel's metrics.
      EXPECT_NEAR(r.metrics.effective_rank, in.effective_rank, 1e-12) << r.label;
      EXPECT_NEAR(r.metrics.mean_correlation, in.mean_correlation, 1e-12) << r.label;
      EXPECT_GT(r.metrics.rank_one_distance, 0.3);
    } else {
      // A non-causal uniform head: rank one, every correlation one.
      EXPECT_EQ(r.label, "uniform>blank");
      EXPECT_NEAR(r.metrics.effective_rank, 1.0, 1e-12);
      EXPECT_NEAR(r.metrics.mean_correlation, 1.0, 1e-12);
      EXPECT_NEAR(r.metrics.min_correlation, 1.0, 1e-12);
    }
  }
}

TEST(FixedHead, ValidationAndStudyFiles) {
  HeadSpec h = Fixed(Eigen::MatrixXd::Ones(3, 4), "f");
  try {
    h.Validate(2, 3, "heads[0]");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("heads[0].attention shape: found 3 x 4, expected 3 x 3"),
              std::string::npos)
        << e.what();
  }
  h.fixed = Eigen::MatrixXd::Constant(3, 3, -2.0);  // any sign, unnormalised: accepted
  EXPECT_NO_THROW(h.Validate(2, 3, "heads[0]"));
  EXPECT_EQ(ParseHeadKind("fixed", "kind"), HeadKind::kFixed);
  const Eigen::MatrixXd x = Eigen::MatrixXd::Ones(2, 3);
  EXPECT_EQ(AttentionMatrix(h, x, 5, Split::kTest), h.fixed);
}

TEST(FixedHead, ReadFromAStudyFile) {
  // kind = "fixed" reads a [query, key] matrix A (Ω = Aᵀ), or matrix `index` of an
  // [index, query, key] stack such as kernel-prop's attention.npy.
  const std::string dir =
      (std::filesystem::temp_directory_path() / ("attnpaths_fixed_" + std::to_string(::getpid())))
          .string();
  std::filesystem::create_directories(dir);
  Eigen::MatrixXd A(3, 3);
  A << 1, 0, 0, 0.4, 0.7, 0, 0.1, 0.2, 0.9;
  WriteNpy(dir + "/A.npy", A);
  std::vector<double> stack(2 * 9);
  for (int k = 0; k < 9; ++k) {
    stack[static_cast<size_t>(k)] = -1;                   // matrix 0: all −1
    stack[static_cast<size_t>(9 + k)] = A(k / 3, k % 3);  // matrix 1: A (C order)
  }
  WriteNpy(dir + "/stack.npy", {2, 3, 3}, stack.data());
  Inputs x(4, 3, 2);
  for (double& v : x.values()) v = 0.5;
  WriteNpy(dir + "/x.npy", {4, 3, 2}, x.values().data());
  WriteNpy(dir + "/y.npy", Eigen::Vector4d(1, -1, 1, -1));
  const std::string common =
      "[data]\ntrain_x = \"x.npy\"\ntrain_y = \"y.npy\"\n[architecture]\nwidth = 10\n";
  const Study a = ParseStudy(
      common + "[[architecture.layers]]\nheads = [{kind = \"fixed\", attention = \"A.npy\"}]\n",
      dir, "a.toml");
  EXPECT_EQ(a.architecture.layers[0][0].kind, HeadKind::kFixed);
  EXPECT_EQ(a.architecture.layers[0][0].fixed, A.transpose());
  const Study b = ParseStudy(common +
                                 "[[architecture.layers]]\nheads = [{kind = \"fixed\", "
                                 "attention = \"stack.npy\", index = 1}]\n",
                             dir, "b.toml");
  EXPECT_EQ(b.architecture.layers[0][0].fixed, A.transpose());
  try {
    ParseStudy(common +
                   "[[architecture.layers]]\nheads = [{kind = \"fixed\", attention = "
                   "\"stack.npy\"}]\n",
               dir, "c.toml");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("index: found nothing, expected an index in [0, 2)"),
              std::string::npos)
        << e.what();
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace attnpaths
