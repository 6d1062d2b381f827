// Token kernels of a theory.md network at infinite width (signal-propagation.md
// §II.3; theory.md §1–§2): the pre-readout form of the GP-limit path kernel.
//
//   attnpaths::TokenKernels t = attnpaths::ComputeTokenKernels(arch, x.example(0), 0,
//   Split::kTrain,
//                                                             x.example(1), 1, Split::kTrain);
//   t.sigma[0];   // Σ_0(x, x') = σ_0² xᵀx' / N0                          (n_tok × n_tok)
//   t.gp;         // K_GP(x, x') — equals K_{U_GP}(x, x') of kernels/path_kernel.h
//
// Attention depends on the input only (theory.md §1), so at infinite width
//   Σ_ℓ(x, x') = (σ_ℓ² / H_ℓ) Σ_h Ω^{ℓ,h}(x)ᵀ Σ_{ℓ−1}(x, x') Ω^{ℓ,h}(x')      (1 ≤ ℓ ≤ L)
//   K_GP(x, x') = (σ_a² σ_L² / H_L) Σ_h ω^{L,h}(x)ᵀ Σ_{L−1}(x, x') ω^{L,h}(x').
// Rows of Σ_ℓ(x, x') are tokens of x, columns tokens of x'. Heads of kind
// fixed (one Ω for every example) turn the deep-transformer constructions of
// attention_init.h into theory.md networks: Ω_ℓ = A_ℓᵀ gives Σ_ℓ = A_ℓ Σ_{ℓ−1} A_ℓᵀ.
#pragma once

#include <Eigen/Core>
#include <string>
#include <vector>

#include "kernels/architecture.h"
#include "kernels/inputs.h"
#include "propagation/kernel_metrics.h"

namespace attnpaths {

struct TokenKernels {
  std::vector<Eigen::MatrixXd> sigma;  // Σ_0 … Σ_L(x, x'); Σ_L is the last layer before the readout
  double gp = 0;                       // K_GP(x, x')
};

// The recursion for one pair of examples. `example`/`split` select per-example
// attention (kind given) and are ignored by the other kinds. Validates the
// architecture against x (N0 × n_tok) and x2.
TokenKernels ComputeTokenKernels(const Architecture& arch,
                                 const Eigen::Ref<const Eigen::MatrixXd>& x, Eigen::Index example,
                                 Split split, const Eigen::Ref<const Eigen::MatrixXd>& x2,
                                 Eigen::Index example2, Split split2);

// K_GP(a^μ, b^ν) for every pair by the recursion (|a| × |b|); O(|a| |b| L H n_tok³),
// for checks and small sets.
Eigen::MatrixXd TokenRecursionKernel(const Architecture& arch, const Inputs& a, Split split_a,
                                     const Inputs& b, Split split_b);

// Diagnostics of the path-resolved token kernel of one example: for path
// π = (h_1, …, h_L) and ℓ = 0 … L−1,
//   Σ^π_ℓ(x) = (σ_0² σ_1² ⋯ σ_ℓ² / N0) · W_ℓᵀ xᵀ x W_ℓ,   W_ℓ = Ω^{1,h_1}(x) ⋯ Ω^{ℓ,h_ℓ}(x)
// (the kernel the path alone carries into layer ℓ + 1, without the 1/H_ℓ of
// the head sum). ℓ = 1 is the kernel after the layer-1 heads: a head close to
// uniform collapses it to rank one.
struct PathTokenDiagnostic {
  Eigen::Index path = 0;  // packed path index (kernels/paths.h)
  std::string label;      // head names joined by '>'
  Eigen::Index example = 0;
  int layer = 0;  // ℓ
  KernelMetrics metrics;
};
// Every path, layer ℓ = 0 … L−1, and the first `max_examples` examples of x
// (all when <= 0). Rows ordered by example, path, layer.
std::vector<PathTokenDiagnostic> PathTokenDiagnostics(const Architecture& arch, const Inputs& x,
                                                      Split split, Eigen::Index max_examples);

}  // namespace attnpaths
