// PathKernel — the training-set path–path kernels as an operator (theory.md §2).
//
//   attnpaths::PathKernel kernel(ComputePathInputs(arch, x, Split::kTrain));
//   Eigen::MatrixXd K = kernel.Total(U);         // K_U = Σ U_ππ' C_ππ'   (P × P)
//   Eigen::MatrixXd g = kernel.Contract(R);      // g_ππ' = Σ_μν R_μν C_ππ'(μ,ν)
//
// Two strategies give the same numbers:
//  * kPrecomputed stores C_ππ' = Ξ_π Ξ_π'ᵀ for every pair π <= π' (each
//    symmetric pair once, Htot(Htot+1)/2 · P² doubles); an evaluation streams
//    every pair through memory twice (about Htot² P² flops).
//  * kFactored keeps only the path inputs Ξ (P × Htot·N0) and forms
//    K_U = Ξ (U ⊗ I) Ξᵀ and the contractions from Ξ on the fly (memory
//    P · Htot · N0 doubles; the action's evaluation costs about one
//    P × Htot·N0 × P GEMM, Total + Contract here two).
// kAuto picks the cheaper per evaluation (KernelCostPerEvaluation) among those
// that fit in the limit.
#pragma once

#include <Eigen/Core>
#include <string>
#include <vector>

#include "kernels/path_inputs.h"

namespace attnpaths {

enum class KernelStrategy { kAuto, kPrecomputed, kFactored };

const char* KernelStrategyName(KernelStrategy s);
KernelStrategy ParseKernelStrategy(const std::string& text, const std::string& field);

struct KernelOptions {
  KernelStrategy strategy = KernelStrategy::kAuto;  // kAuto: cheapest that fits memory_limit_bytes
  double memory_limit_bytes = 16.0 * (1ull << 30);  // refuse larger kernels (16 GiB of 24 here)
};

// Bytes a strategy keeps for P examples, Htot paths and N0 features
// (path inputs included; kAuto is not a strategy here).
double KernelMemoryBytes(KernelStrategy strategy, Eigen::Index P, Eigen::Index Htot,
                         Eigen::Index N0);
// Multiply–adds of one Total + one Contract.
double KernelFlopsPerEvaluation(KernelStrategy strategy, Eigen::Index P, Eigen::Index Htot,
                                Eigen::Index N0);
// Estimated cost of one action+gradient evaluation (solver/action.h), in
// multiply–adds at DGEMM speed, the measure kAuto compares: memory streaming
// and LAPACK's triangular routines are weighted by their speed relative to
// DGEMM as measured by bench/core_bench.
double KernelCostPerEvaluation(KernelStrategy strategy, Eigen::Index P, Eigen::Index Htot,
                               Eigen::Index N0);
// The strategy kAuto resolves to; throws Error naming the size when none fits.
KernelStrategy ChooseKernelStrategy(const KernelOptions& options, Eigen::Index P, Eigen::Index Htot,
                                    Eigen::Index N0);

class PathKernel {
 public:
  PathKernel(PathInputs train, const KernelOptions& options = {});

  Eigen::Index P() const { return inputs_.P(); }
  Eigen::Index Htot() const { return inputs_.Htot; }
  KernelStrategy strategy() const { return strategy_; }
  const PathInputs& inputs() const { return inputs_; }
  double memory_bytes() const { return KernelMemoryBytes(strategy_, P(), Htot(), inputs_.N0); }

  // K_U on the training set (P × P) for a symmetric Htot × Htot U.
  Eigen::MatrixXd Total(const Eigen::Ref<const Eigen::MatrixXd>& U) const;
  // The same into *K, resized to P × P (no allocation when it already is:
  // for callers that evaluate many times).
  void Total(const Eigen::Ref<const Eigen::MatrixXd>& U, Eigen::MatrixXd* K) const;
  // g_ππ' = Σ_μν R_μν C_ππ'(x^μ, x^ν) for a symmetric P × P R (Htot × Htot, symmetric).
  Eigen::MatrixXd Contract(const Eigen::Ref<const Eigen::MatrixXd>& R) const;
  // C_ππ' on the training set (P × P).
  Eigen::MatrixXd Pair(Eigen::Index p, Eigen::Index q) const;
  // The kernel of a smaller network whose paths are `kept` (SelectPaths of
  // kernels/path_inputs.h: increasing indices, ξ rescaled by √(Htot/Htot')),
  // with its strategy chosen by `options`. When both kernels are kPrecomputed
  // the stored pairs are selected and scaled by Htot/Htot' instead of being
  // multiplied again. Attention is never recomputed.
  PathKernel SelectPaths(const std::vector<Eigen::Index>& kept,
                         const KernelOptions& options = {}) const;
  // The stored C_pq (P × P, no copy) for p <= q; kPrecomputed only (throws
  // Error otherwise). For solver/training_gram.h, which contracts pairs per output block.
  const Eigen::MatrixXd& StoredPair(Eigen::Index p, Eigen::Index q) const;

 private:
  struct WithoutPairs {};
  // Stores the inputs and the strategy; pairs_ is left for the caller to fill.
  PathKernel(PathInputs train, KernelStrategy strategy, WithoutPairs);
  Eigen::Index PairIndex(Eigen::Index p, Eigen::Index q) const;

  PathInputs inputs_;
  KernelStrategy strategy_;
  std::vector<Eigen::MatrixXd> pairs_;  // kPrecomputed: C_pq for p <= q
};

// K_U(a^μ, b^ν) between two sets of path inputs (|a| × |b|).
Eigen::MatrixXd CrossKernel(const PathInputs& a, const PathInputs& b,
                            const Eigen::Ref<const Eigen::MatrixXd>& U);
// K_U(a^μ, a^μ) for every example of a.
Eigen::VectorXd KernelDiagonal(const PathInputs& a, const Eigen::Ref<const Eigen::MatrixXd>& U);

}  // namespace attnpaths
