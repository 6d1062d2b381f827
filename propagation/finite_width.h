// Finite-width Monte Carlo of a deep transformer without shortcuts at
// initialisation (signal-propagation.md §II.1, §II.5), beside the
// infinite-width recursion of kernel_recursion.h.
//
//   attnpaths::KernelPropagation prop = attnpaths::PropagateKernel(kp);
//   attnpaths::FiniteWidthOptions fw;
//   fw.widths = {64, 256};
//   fw.values = attnpaths::ValueWeights::kGaussian;
//   attnpaths::FiniteWidthStudy study = attnpaths::SimulateFiniteWidth(kp, prop, fw);
//   study.widths[1].layers[10].mean_correlation.mean;    // ± .se over fw.draws networks
//
// One network of width d: X_0 = √d [L_0 | 0] (m × d, X_0 X_0ᵀ/d = Σ_0 exactly,
// L_0 a root of Σ_0), then for ℓ = 1 … L
//   attention  X ← A_ℓ X W^V W^P   (orthogonal: one Haar matrix, the law of the
//                                    product of two; Gaussian: two iid N(0, 1/d))
//   MLP        X ← φ_α(φ_α(X W¹) W²)  (2 activations) or φ_α(X W¹) W² (1),
//              W iid N(0, 1/d)
// and Σ_ℓ = X_ℓ X_ℓᵀ / d. With orthogonal values and no MLP Σ_ℓ equals the
// recursion exactly at any width.
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "propagation/kernel_recursion.h"
#include "propagation/random.h"

namespace attnpaths {

enum class ValueWeights { kOrthogonal, kGaussian };
const char* ValueWeightsName(ValueWeights v);
ValueWeights ParseValueWeights(const std::string& text, const std::string& field);

struct FiniteWidthProgress {
  Eigen::Index width = 0;
  int draws_done = 0, draws_total = 0;  // over all widths
  double seconds = 0;
};

struct FiniteWidthOptions {
  std::vector<Eigen::Index> widths{256};  // d of each simulated network family (>= tokens)
  ValueWeights values = ValueWeights::kOrthogonal;
  int draws = 20;          // networks per width (>= 2 for standard errors)
  std::uint64_t seed = 1;  // draw k of width index w uses PropagationEngine(seed, w, k)
  int threads = 0;         // <= 0: every core; the result does not depend on it
  std::function<void(const FiniteWidthProgress&)> progress;  // after each network

  // False with a message naming the field for: no width, a width < tokens,
  // draws < 2 (no standard error from one draw).
  bool IsValid(Eigen::Index tokens, std::string* error) const;
};

// Mean and standard error (sd / √draws) of one metric over draws.
struct MeanSe {
  double mean = 0, se = 0;
};

struct FiniteWidthLayer {
  MeanSe mean_correlation, min_correlation, effective_rank, rank_one_distance, min_eigenvalue;
  MeanSe max_correlation_deviation;  // max_ij |ρ_fw − ρ_recursion|
  MeanSe trace_ratio_minus_one;      // tr Σ_fw / tr Σ_recursion − 1
};

struct FiniteWidthRun {
  Eigen::Index width = 0;
  std::vector<FiniteWidthLayer> layers;            // ℓ = 0 … L
  std::vector<Eigen::MatrixXd> mean_kernels;       // mean of Σ_ℓ over draws, ℓ = 0 … L
  std::vector<Eigen::MatrixXd> mean_correlations;  // mean of the correlation matrices
  double seconds = 0;
};

struct FiniteWidthStudy {
  std::vector<FiniteWidthRun> widths;
  double seconds = 0;
};

// One network of width d from `engine`: Σ_0 … Σ_L. `attention` holds A_1 … A_L
// (tokens as rows); `alpha` and `activations_per_block` describe the MLP
// (`mlp` kNone: no MLP). Throws Error when d < m.
std::vector<Eigen::MatrixXd> SimulateNetworkKernels(const std::vector<Eigen::MatrixXd>& attention,
                                                    const Eigen::Ref<const Eigen::MatrixXd>& sigma0,
                                                    MlpKind mlp, double alpha,
                                                    int activations_per_block, Eigen::Index width,
                                                    ValueWeights values, PropagationRng& engine);

// fw.draws networks for every width of `fw`, compared with the recursion `prop`
// of the same options `kp`. Throws Error for invalid options.
FiniteWidthStudy SimulateFiniteWidth(const KernelPropOptions& kp, const KernelPropagation& prop,
                                     const FiniteWidthOptions& fw);

// A Haar-distributed d × d orthogonal matrix (QR of a Gaussian matrix with the
// signs of R's diagonal moved into Q).
Eigen::MatrixXd HaarOrthogonal(Eigen::Index d, PropagationRng& engine);

}  // namespace attnpaths
