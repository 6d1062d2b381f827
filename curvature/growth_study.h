// The growth study (spec §C.3): the Frobenius norm of every block of the
// self-attention loss Hessian (VV, QQ, KK, QK, VQ, VK × outer, functional,
// full) as the input scale σ varies, X = σ X_0 at fixed weights and targets,
// over independent repeats, with the slope of ln‖block‖ on ln σ fitted per
// repeat and summarised by its mean, spread and standard error, next to the
// exponent that power counting at small σ predicts (docs/attention-hessian.md).
//
//   attnpaths::GrowthStudyOptions options;           // σ grid, fit points, repeats, norms
//   auto sample = [&](int repeat) {                  // X_0, Y and weights of one repeat
//     return attnpaths::GrowthSample{data, weights};
//   };
//   attnpaths::GrowthStudy study = attnpaths::RunGrowthStudy(sample, options);
//   for (const attnpaths::SlopeFit& f : study.slopes)
//     std::cout << f.block.name() << " " << HessianPartName(f.part) << " "
//               << f.mean << " ± " << f.standard_error << " (predicted " << f.predicted << ")\n";
#pragma once

#include <Eigen/Core>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "curvature/attention_hessian.h"
#include "curvature/hutchinson.h"

namespace attnpaths {

// One repeat's ingredients at σ = 1: the base inputs X_0 and targets Y (in
// data) and the weights.
struct GrowthSample {
  AttentionLayerData data;
  AttentionLayerWeights weights;
};

enum class NormMethod {
  kExact,       // ‖block‖_F of the closed-form block (spec §B)
  kHutchinson,  // Hutchinson on the matrix-free products (spec §C.2), with its s.e.
};
const char* NormMethodName(NormMethod m);  // "exact", "hutchinson"
NormMethod ParseNormMethod(const std::string& text, const std::string& field);

struct GrowthProgress {
  int repeat = 0, repeats = 0;  // 0-based repeat finished, of
  double seconds = 0;           // since the start
};

struct GrowthStudyOptions {
  // The σ grid, ascending and positive. Default: 20 log-spaced points from
  // 0.01 to 10 (the spec's example).
  std::vector<double> sigmas = DefaultSigmas();
  // Slopes are fitted over the lowest `fit_points` σ of the grid …
  int fit_points = 5;
  // … or, when fit_hi > 0, over every σ in [fit_lo, fit_hi] (at least 2 points).
  double fit_lo = 0, fit_hi = 0;
  // Independent repeats (GrowthSample per repeat).
  int repeats = 20;
  NormMethod norms = NormMethod::kExact;
  // Probes and seed of the Hutchinson estimates (the seed is advanced per
  // repeat and σ, so every estimate has its own probes).
  HutchinsonOptions hutchinson;
  // Called after every repeat (libraries print nothing).
  std::function<void(const GrowthProgress&)> progress;

  static std::vector<double> DefaultSigmas();
  bool IsValid(std::string* error) const;
};

struct BlockNorm {
  double sigma = 0;
  int repeat = 0;
  // The block's name: "QK" for the single layer; "L1H2.QK", "V0.VV", "a.VV"
  // for the trainer's network (curvature/network_hessian.h).
  std::string block;
  std::string kind;  // its spec block VV, QQ, KK, QK, VQ or VK (the power-counting class)
  int layer = 0;     // the network layer ℓ of the block's head (0: single layer, V_0, a)
  HessianPart part = HessianPart::kFull;
  double norm = 0;
  double standard_error = 0;  // Hutchinson's (0 for exact norms)
};

struct SlopeFit {
  std::string block, kind;
  int layer = 0;
  HessianPart part = HessianPart::kFull;
  // Identically zero on every repeat (H_f(V,V); linear attention's H_f(Q,Q),
  // H_f(K,K)): reported as zero, not fitted.
  bool zero = false;
  Eigen::VectorXd slopes;         // one per repeat
  Eigen::VectorXd slope_errors;   // each fit's standard error (OLS, or WLS with Hutchinson)
  Eigen::VectorXd fit_residuals;  // RMS residual of each ln-ln fit
  double mean = 0, spread = 0;    // mean and standard deviation over repeats
  double standard_error = 0;      // spread / √repeats
  double predicted = std::numeric_limits<double>::quiet_NaN();  // power counting (docs)
  // The local slope between consecutive σ, averaged over repeats (size = grid − 1,
  // at the geometric midpoints): where the small-σ power law bends.
  Eigen::VectorXd local_sigmas, local_slopes;
};

struct GrowthStudy {
  std::string model = "single_layer";  // or "trained_network"
  std::vector<double> sigmas;
  double fit_lo = 0, fit_hi = 0;  // the σ range the slopes were fitted over
  int fit_count = 0;              // grid points in it
  AttentionKind attention = AttentionKind::kSoftmax;
  bool causal = false;
  NormMethod norms = NormMethod::kExact;
  std::vector<BlockNorm> norms_table;  // σ × repeat × block × part
  std::vector<SlopeFit> slopes;  // block × part (blocks in table order; outer, functional, full)
  double seconds = 0;
  std::string BriefReport() const;
};

// The exponent of ‖block‖_F in σ that power counting gives at small σ with
// O(1) targets (docs/attention-hessian.md, "Growth exponents"): softmax
// outer VV 2, QQ/KK/QK 6, VQ/VK 4; functional QQ/KK 5, QK/VQ/VK 3; full the
// smaller of the two. Linear attention: outer 6 everywhere, functional
// QK/VQ/VK 3. NaN for blocks that are identically zero. `kind` is the spec
// block name (VV, QQ, KK, QK, VQ, VK).
double PredictedGrowthExponent(const std::string& kind, HessianPart part, AttentionKind attention);

// The same for a block of a head in layer ℓ ≥ 1 of the trainer's network
// (softmax heads reading σ x, no mask; docs/attention-hessian.md, "The
// network's layers"): ∂f/∂Q_ℓ ∝ σ² (the logits read x) × σ^{2ℓ−1} (the
// token-to-token variation of z^{ℓ−1}, which the near-uniform attention of
// the layers below averages away), so outer QQ/KK/QK 4ℓ+2, VQ/VK 2ℓ+2, VV 2;
// functional QQ/KK 2ℓ+3, QK/VQ/VK 2ℓ+1 (ℓ = 1: the single layer's). ℓ = 0
// (V_0, a): VV 2, functional zero.
double NetworkPredictedGrowthExponent(const std::string& kind, HessianPart part, int layer);

// One block and part over the study: norms and their s.e. (repeats × σ).
struct BlockSeries {
  std::string block, kind;
  int layer = -1;  // −1: the single layer (PredictedGrowthExponent); ≥ 0: a network block
  HessianPart part = HessianPart::kFull;
  Eigen::MatrixXd norms, errors;
};

// Slopes of ln‖block‖ on ln σ over the grid indices `fit` (spec §C.3 steps
// 3-5): OLS per repeat (WLS with inverse-variance weights for Hutchinson
// norms), mean, spread and s.e. over repeats, local slopes, predictions.
std::vector<SlopeFit> FitGrowthSlopes(const std::vector<double>& sigmas,
                                      const std::vector<int>& fit,
                                      const std::vector<BlockSeries>& series, NormMethod norms,
                                      AttentionKind attention);

// The grid indices the options fit over (the lowest fit_points, or [fit_lo, fit_hi]).
std::vector<int> FitIndices(const GrowthStudyOptions& options);

// The block norms of one repeat at σ, in the order of the series, with the
// Hutchinson options (and seed) of that point.
using GrowthPoint =
    std::function<std::vector<BlockNorm>(double sigma, const HutchinsonOptions& hutchinson)>;

// The σ sweep every growth study shares (spec §C.3 steps 1-5): validates the
// options, sizes `series` (one per block and part, norms left empty) to
// repeats × σ, calls `repeat(r)` once per repeat and its GrowthPoint at every
// σ (Hutchinson seed = seed + 1000003 r + i), fills study->norms_table, reports
// progress, fits the slopes with study->attention and times the study. The
// fields of *study that name the model are the caller's.
void SweepGrowth(const GrowthStudyOptions& options, std::vector<BlockSeries> series,
                 const std::function<GrowthPoint(int repeat)>& repeat, GrowthStudy* study);

// Throws Error for invalid options or samples (every repeat must have the
// attention kind and mask of repeat 0).
GrowthStudy RunGrowthStudy(const std::function<GrowthSample(int repeat)>& sample,
                           const GrowthStudyOptions& options);

// The norm of every block and part at one point (the columns of
// GrowthStudy::norms_table for one σ and repeat).
std::vector<BlockNorm> BlockNorms(const AttentionHessian& hessian, NormMethod method,
                                  const HutchinsonOptions& hutchinson);

}  // namespace attnpaths
