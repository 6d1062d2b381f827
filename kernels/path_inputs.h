// Path inputs ξ_π(x) — the attentioned input of every path (theory.md §2).
//
//   attnpaths::PathInputs xi = attnpaths::ComputePathInputs(arch, x_train, Split::kTrain);
//   xi.path(p).row(mu);          // ξ_π(x^μ) ∈ R^{N0}
//
//   ξ_π(x) = σ_0 / √(N0 · Htot) · x Ω^{1,h_1}(x) ⋯ Ω^{L-1,h_{L-1}}(x) ω^{L,h_L}(x)
//
// Computed once per dataset; every later stage (kernels, solver, sampler)
// reads them and never recomputes attention. For data sets streamed in blocks
// (kernels/path_input_blocks.h) a PathInputCalculator prepared once computes
// the rows of any range of examples:
//
//   attnpaths::PathInputCalculator calc(arch, x_block.N0(), x_block.n_tok());
//   Eigen::MatrixXd xi(x_block.P(), calc.M());
//   calc.Compute(x_block, Split::kTrain, /*first_example=*/b, xi);   // rows b, b+1, …
//
// How it is computed (the same numbers as the token-by-token definition, to
// rounding): only the query tokens whose attention reaches the readout are
// scored — the last (first) token in layer L for the last-token (first-token)
// readout, and below a layer whose heads are all causal only the queries up to
// the last one used above. QK-form heads score through K x and Q x (d × N0
// each) when that is cheaper than W = Kᵀ Q / √d, which it is for d ≪ N0, and
// so do softmax W-form heads of low numerical rank r through factors
// W = Kᵀ Q of r rows (found once, by a randomized range finder checked to
// ‖W − Kᵀ Q‖_F ≤ 1e-13 ‖W‖_F; the Markov task's same-token head has r = 31 of
// N0 = 231); the other W-form heads through β W. Per layer and chunk of
// examples, one GEMM [β W_1; …; Q factors (; K factors)] · [x^1_Q, x^2_Q, …]
// (the K factors stacked in when every token is a query, a GEMM of their own
// on all tokens otherwise), then per example and head one small GEMM
// x^μᵀ · (β W x^μ_Q) or (K x^μ)ᵀ (Q x^μ_Q), of n rounded up to a multiple of
// 8 tokens when every token is a query (whole register tiles). Softmax/hardmax,
// path products and ξ = x w per example follow.
#pragma once

#include <Eigen/Core>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "kernels/architecture.h"
#include "kernels/inputs.h"

namespace attnpaths {

struct PathInputs {
  Eigen::Index Htot = 0;
  Eigen::Index N0 = 0;
  // P × (Htot · N0); columns [π N0, (π+1) N0) hold ξ_π of every example
  // (the matrix Ξ of theory.md §10: path π outer, feature i inner).
  Eigen::MatrixXd xi;

  Eigen::Index P() const { return xi.rows(); }
  auto path(Eigen::Index p) const { return xi.middleCols(p * N0, N0); }
};

// ξ_π(x^μ) for every example and path. Validates the architecture against the
// inputs and throws Error on NaN/Inf in x. `threads` <= 0 uses every core.
PathInputs ComputePathInputs(const Architecture& arch, const Inputs& x, Split split,
                             int threads = 0);

// The path inputs of a smaller network whose paths are `kept` (increasing
// indices into xi's paths), without recomputing attention: ξ carries
// 1/√Htot (theory.md §2), so the reduced network's ξ_k is
// √(Htot / Htot') · ξ_{kept[k]}, Htot' = kept.size(). Removing heads keeps the
// other heads' order and h_1 outermost (kernels/paths.h), so the paths that
// avoid the removed heads, in increasing order, are the reduced network's
// packing. Throws Error on an empty, out-of-range or unsorted list.
PathInputs SelectPaths(const PathInputs& xi, const std::vector<Eigen::Index>& kept);

// The per-example path weights w_π = Ω^{1,h_1} ⋯ ω^{L,h_L} ∈ R^{n_tok} for
// every path (n_tok × Htot), so that ξ_π = σ_0/√(N0·Htot) · x w_π. One example
// at a time from the full attention matrices (AttentionMatrix): the plain
// reference the batched computation is checked and benchmarked against.
Eigen::MatrixXd PathTokenWeights(const Architecture& arch,
                                 const Eigen::Ref<const Eigen::MatrixXd>& x, Eigen::Index example,
                                 Split split);

struct PathInputOptions {
  // Worker threads; <= 0 uses every core. Fewer are used when there are
  // fewer than 8 examples per thread.
  int threads = 0;
  // Examples per batched score GEMM; 0 picks about 512 query tokens per GEMM
  // (bench/inputs_bench measured 256–1024 within a few per cent of each other).
  Eigen::Index chunk_examples = 0;

  bool IsValid(std::string* why) const;
};

class PathInputCalculator {
 public:
  // Validates the architecture for inputs of N0 features and n_tok tokens
  // (throws Error naming the field) and prepares the stacked head matrices.
  PathInputCalculator(const Architecture& arch, Eigen::Index N0, Eigen::Index n_tok);
  ~PathInputCalculator();
  PathInputCalculator(PathInputCalculator&&) noexcept;
  PathInputCalculator& operator=(PathInputCalculator&&) noexcept;

  Eigen::Index N0() const { return N0_; }
  Eigen::Index n_tok() const { return n_tok_; }
  Eigen::Index Htot() const { return Htot_; }
  // Columns of Ξ: M = Htot · N0.
  Eigen::Index M() const { return Htot_ * N0_; }

  // Rows of Ξ for the examples of `x`, which are examples first_example,
  // first_example + 1, … of `split` (heads of kind kGiven read their matrices
  // there). `xi` must be x.P() × M(). Throws Error on NaN/Inf in x (naming the
  // example by its index in the whole set) or when a given head has too few
  // matrices.
  void Compute(const Inputs& x, Split split, Eigen::Index first_example,
               Eigen::Ref<Eigen::MatrixXd> xi, const PathInputOptions& options = {}) const;
  // The same transposed: `xi_t` is M() × x.P(), column μ the row of example
  // first_example + μ (the layout a Gram update Ξᵀ Ξ += … wants).
  void ComputeTransposed(const Inputs& x, Split split, Eigen::Index first_example,
                         Eigen::Ref<Eigen::MatrixXd> xi_t,
                         const PathInputOptions& options = {}) const;

  // The query tokens of layer ℓ (1..L) whose attention reaches the readout:
  // [first, first + count).
  std::pair<Eigen::Index, Eigen::Index> QueryRange(int layer) const;
  // Floating-point operations per example of the GEMMs the computation
  // performs (a multiply–add counts two; softmax and copies not counted).
  double FlopsPerExample() const { return flops_per_example_; }

 private:
  struct Layer;
  struct Workspace;
  // Checks, then ComputeChunk over chunks of x on the worker threads; `sink`
  // receives each chunk's Ξᵀ (M × (e − b), examples b … e − 1 of x).
  void Run(const Inputs& x, Split split, Eigen::Index first_example,
           const PathInputOptions& options,
           const std::function<void(Eigen::Index b, Eigen::Index e, const Eigen::MatrixXd& xi_t)>&
               sink) const;
  void ComputeChunk(const Inputs& x, Split split, Eigen::Index first_example, Eigen::Index begin,
                    Eigen::Index end, Workspace* ws) const;

  Eigen::Index N0_ = 0, n_tok_ = 0, Htot_ = 1;
  double scale_ = 1.0;  // σ_0 / √(N0 · Htot)
  Readout readout_ = Readout::kLast;
  std::vector<Layer> layers_;
  double flops_per_example_ = 0;
};

}  // namespace attnpaths
