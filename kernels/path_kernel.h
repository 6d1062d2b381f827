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
//  * kFeatures keeps the M × M Gram A = ΞᵀΞ (M = Htot·N0) besides Ξ — or A
//    alone, with b = ΞᵀY and YᵀY, when the examples were streamed
//    (PathKernel(Gram)) — for the feature-space form of G (theory.md §10,
//    solver/feature_gram.h): an evaluation costs about (M D)³, independent of P.
//    Needs T > 0.
// kAuto picks the cheapest per evaluation (KernelCostPerEvaluation, from
// operation rates measured on this machine) among those that fit in the limit.
#pragma once

#include <Eigen/Core>
#include <array>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "kernels/enum_names.h"
#include "kernels/gram.h"
#include "kernels/path_inputs.h"

namespace attnpaths {

enum class KernelStrategy { kAuto, kPrecomputed, kFactored, kFeatures };

// The storage of G = K_U + T I as a user names it ([solver] storage, --storage):
// "pairs" is kPrecomputed, "factored" kFactored, "features" kFeatures.
enum class GramStorage { kAuto, kPairs, kFactored, kFeatures };
template <>
struct EnumNames<GramStorage> {
  static constexpr std::array<EnumName<GramStorage>, 4> values{
      {{GramStorage::kAuto, "auto"},
       {GramStorage::kPairs, "pairs"},
       {GramStorage::kFactored, "factored"},
       {GramStorage::kFeatures, "features"}}};
};
KernelStrategy ToKernelStrategy(GramStorage storage);
// The storage name of a resolved strategy (pairs, factored, features).
const char* StorageName(KernelStrategy strategy);

const char* KernelStrategyName(KernelStrategy s);
KernelStrategy ParseKernelStrategy(const std::string& text, const std::string& field);

struct KernelOptions {
  KernelStrategy strategy = KernelStrategy::kAuto;  // kAuto: cheapest that fits memory_limit_bytes
  double memory_limit_bytes = 16.0 * (1ull << 30);  // refuse larger kernels (16 GiB of 24 here)
  // What kAuto weighs besides P, Htot and N0: the label columns D (G is PD × PD,
  // the feature-space form works with M·D features) and whether T = 0 (where the
  // feature-space form does not apply).
  Eigen::Index outputs = 1;
  bool zero_temperature = false;
};

// Bytes a strategy keeps for P examples, Htot paths and N0 features (path
// inputs included; kAuto is not a strategy here); kFeatures adds A and the
// (M D)² scratch of solver/feature_gram.h for D outputs.
double KernelMemoryBytes(KernelStrategy strategy, Eigen::Index P, Eigen::Index Htot,
                         Eigen::Index N0, Eigen::Index D = 1);
// Multiply–adds of one Total + one Contract.
double KernelFlopsPerEvaluation(KernelStrategy strategy, Eigen::Index P, Eigen::Index Htot,
                                Eigen::Index N0);
// Estimated seconds of one action+gradient evaluation (solver/action.h) with
// D outputs on one core, the measure kAuto compares: the operation counts of
// each storage divided by the per-operation rates measured on this machine by
// bench/gram_storage_bench (constants and formula in path_kernel.cc and
// bench/results/gram_storage.md). kFeatures adds the one-off Gram A = ΞᵀΞ
// spread over kEvaluationsPerSolve evaluations.
double KernelCostPerEvaluation(KernelStrategy strategy, Eigen::Index P, Eigen::Index Htot,
                               Eigen::Index N0, Eigen::Index D = 1);
// The number of evaluations a solve is assumed to take when one-off costs are
// spread (HMM solves took 25 to 91, bench/results/gram_storage.md section 3).
constexpr double kEvaluationsPerSolve = 60;
// The strategy kAuto resolves to; throws Error naming the size when none fits,
// or when kFeatures is asked for at T = 0.
KernelStrategy ChooseKernelStrategy(const KernelOptions& options, Eigen::Index P, Eigen::Index Htot,
                                    Eigen::Index N0);

class PathKernel {
 public:
  PathKernel(PathInputs train, const KernelOptions& options = {});
  // The feature-space kernel of a streamed data set (kernels/gram.h
  // AccumulateGram): strategy kFeatures without path inputs, so only the
  // feature-space form of G (solver/feature_gram.h) and nothing that needs Ξ
  // (Total, Contract, Pair, SelectPaths, inputs()) works on it. Throws Error
  // for an empty Gram.
  explicit PathKernel(Gram streamed);

  Eigen::Index P() const { return P_; }
  Eigen::Index Htot() const { return Htot_; }
  Eigen::Index N0() const { return N0_; }
  KernelStrategy strategy() const { return strategy_; }
  // The path inputs Ξ; throws Error for a streamed kernel (has_inputs() false).
  const PathInputs& inputs() const;
  bool has_inputs() const { return has_inputs_; }
  // kFeatures: A = ΞᵀΞ (and, when streamed, b = ΞᵀY, YᵀY; b has 0 columns
  // otherwise). Throws Error for the other strategies.
  const Gram& feature_gram() const;
  double memory_bytes() const;

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
  // kPrecomputed: the stored pairs as one (P(P+1)/2) × (Htot(Htot+1)/2)
  // matrix, column PairIndex(p, q) holding the lower triangle of C_pq + C_pqᵀ
  // (so 2 C_pp for p = q) column by column, entry (i, j), i ≥ j, at
  // j P − j(j−1)/2 + (i − j). With it K_U (lower triangle) is one GEMV with
  // u_pq = (U_pq + U_qp)/2 (U_pp/2 on the diagonal) and every
  // Σ_μν R_μν C_pq(μ,ν) one GEMV with the lower triangle of a symmetric R, its
  // diagonal halved (solver/training_gram.h): half the memory traffic of the
  // pairs. Built on first use (thread-safe, shared by copies of this kernel);
  // nullptr for the other strategies and when it would exceed
  // kPackedPairsMaxBytes (it adds half the pairs' memory).
  const Eigen::MatrixXd* PackedPairs() const;
  static constexpr double kPackedPairsMaxBytes = 256.0 * (1 << 20);
  // Column of PackedPairs (and index of the stored pair) of p, q.
  Eigen::Index PairIndex(Eigen::Index p, Eigen::Index q) const;

 private:
  struct WithoutPairs {};
  // Stores the inputs and the strategy; pairs_ is left for the caller to fill.
  PathKernel(PathInputs train, KernelStrategy strategy, WithoutPairs);

  void RequireInputs(const char* what) const;

  PathInputs inputs_;
  Eigen::Index P_ = 0, Htot_ = 0, N0_ = 0;
  bool has_inputs_ = true;
  KernelStrategy strategy_;
  std::vector<Eigen::MatrixXd> pairs_;  // kPrecomputed: C_pq for p <= q
  std::shared_ptr<const Gram> gram_;    // kFeatures
  struct PackedCache {
    std::once_flag once;
    Eigen::MatrixXd packed;
  };
  std::shared_ptr<PackedCache> packed_ = std::make_shared<PackedCache>();  // PackedPairs()
};

// K_U(a^μ, b^ν) between two sets of path inputs (|a| × |b|).
Eigen::MatrixXd CrossKernel(const PathInputs& a, const PathInputs& b,
                            const Eigen::Ref<const Eigen::MatrixXd>& U);
// K_U(a^μ, a^μ) for every example of a.
Eigen::VectorXd KernelDiagonal(const PathInputs& a, const Eigen::Ref<const Eigen::MatrixXd>& U);

}  // namespace attnpaths
