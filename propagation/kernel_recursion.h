// The token kernel of a deep transformer without shortcuts at infinite width
// (signal-propagation.md §II.1–§II.2): attention layers Σ ← A_ℓ Σ Aᵀ_ℓ, each
// followed by an optional TAT leaky-ReLU MLP block.
//
//   attnpaths::KernelPropOptions options;
//   options.tokens = 24;
//   options.depth = 10;
//   options.method = attnpaths::AttentionMethod::kESpa;    // E-SPA, γ_L = options.gamma_final
//   options.mlp = attnpaths::MlpKind::kTat;                // C_α twice per block, η = 0.9
//   attnpaths::KernelPropagation prop = attnpaths::PropagateKernel(options);
//   prop.kernels[10];                          // Σ_L (m × m)
//   prop.metrics[10].mean_correlation;         // rank diagnostics after every layer
//   std::cout << prop.summary.FullReport();
//
// Tokens are rows, as in the papers (attention_init.h); the attnpaths head of
// layer ℓ is Ω = A_ℓᵀ.
#pragma once

#include <Eigen/Core>
#include <string>
#include <vector>

#include "propagation/attention_init.h"
#include "propagation/kernel_metrics.h"

namespace attnpaths {

enum class MlpKind {
  kNone,  // attention-only blocks
  kTat,   // φ_α after each of `activations_per_block` linear layers, α from TAT (tat.h)
};
const char* MlpKindName(MlpKind kind);
MlpKind ParseMlpKind(const std::string& text, const std::string& field);

struct KernelPropOptions {
  Eigen::Index tokens = 24;  // m, the sequence length
  int depth = 10;            // L attention blocks
  bool causal = true;        // causal mask; non-causal SPA uses symmetric roots (§II.2)
  AttentionMethod method = AttentionMethod::kESpa;
  double gamma_final = 0.005;  // E-SPA γ_L (> 0); the schedule is EspaGammas
  double rho_final = 0.9;      // U-SPA ρ_L in [0, 1); the schedule is UspaRhos
  MlpKind mlp = MlpKind::kNone;
  double tat_eta = 0.9;           // TAT target C^{∘n_act}(0) = η, n_act = activations × depth
  int activations_per_block = 2;  // 1: φ(X W¹) W²;  2: φ(φ(X W¹) W²)  (open choice: 2)
  // Causal E-SPA from Σ_0 = I: build A_ℓ from the O(m²) closed forms
  // (false: the generic Cholesky path, O(m³) per layer; both agree to rounding).
  bool closed_form = true;
  // SPA matrices with allowed entries <= 0 (non-causal roots, input kernels ≠ I).
  NegativeAttention negative_attention = NegativeAttention::kClamp;
  double clamp_epsilon = 2.220446049250313e-16;  // ε of the clamp (double's machine epsilon)
  // Σ_0 (m × m, symmetric positive semi-definite with a positive diagonal;
  // positive definite for U-SPA/E-SPA). Empty: the identity.
  Eigen::MatrixXd input_kernel;

  // False with a message naming the field for: tokens < 1, depth < 1,
  // gamma_final <= 0 or not finite, rho_final outside [0, 1), tat_eta outside
  // (0, 1), activations_per_block not 1 or 2, clamp_epsilon < 0, and an input
  // kernel of the wrong shape, not finite, not symmetric, not positive
  // semi-definite or with a diagonal entry <= 0.
  bool IsValid(std::string* error) const;
};

struct KernelPropSummary {
  std::string method;  // AttentionMethodName
  bool causal = true;
  std::string mlp;               // MlpKindName
  double tat_alpha = 0;          // TAT negative slope (NaN without MLP)
  int activations = 0;           // n_act = activations_per_block × depth (0 without MLP)
  std::vector<double> schedule;  // γ_0 … γ_L (E-SPA) or ρ_0 … ρ_L (U-SPA); empty otherwise
  int clamped_entries = 0;       // over all layers
  double max_construction_error = 0;  // max_ℓ ‖A_ℓ T_{ℓ−1} A_ℓᵀ − T_ℓ‖_max (SPA)
  std::vector<std::string> warnings;  // clamping, negative entries, MLP drift from targets
  double seconds = 0;

  std::string BriefReport() const;
  std::string FullReport() const;
};

struct KernelPropagation {
  std::vector<Eigen::MatrixXd> kernels;           // Σ_0 … Σ_L (m × m)
  std::vector<Eigen::MatrixXd> targets;           // T_0 … T_L (SPA: T_0 = Σ_0); empty otherwise
  std::vector<AttentionDecomposition> attention;  // layers 1 … L: A_ℓ, D_ℓ, bias, clamping
  std::vector<KernelMetrics> metrics;             // of Σ_0 … Σ_L
  // SPA: ‖A_ℓ T_{ℓ−1} A_ℓᵀ − T_ℓ‖_max of the matrix used (after clamping), ℓ = 1 … L.
  std::vector<double> construction_error;
  // SPA: ‖Σ_ℓ − T_ℓ‖_max, ℓ = 0 … L (nonzero with MLP blocks or clamping).
  std::vector<double> target_error;
  KernelPropSummary summary;
};

// Runs the recursion Σ_ℓ = MLP(A_ℓ Σ_{ℓ−1} A_ℓᵀ). Throws Error for invalid
// options (IsValid) and for unreachable TAT targets (tat.h).
KernelPropagation PropagateKernel(const KernelPropOptions& options);

// The attention matrices A_1 … A_L of a construction, decomposed (no kernels).
std::vector<AttentionDecomposition> BuildAttention(const KernelPropOptions& options);

// The MLP block's kernel map: C_α applied `times` times to every correlation,
// the diagonal unchanged (φ_α keeps q; spec §II.1).
Eigen::MatrixXd TatKernelMap(const Eigen::Ref<const Eigen::MatrixXd>& sigma, double alpha,
                             int times);

}  // namespace attnpaths
