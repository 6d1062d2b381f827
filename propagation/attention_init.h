// Attention at initialisation for deep transformers without shortcuts
// (signal-propagation.md §II.1–§II.2; He et al., ICLR 2023; He & Hofmann, ICLR 2024).
//
//   std::vector<double> gamma = attnpaths::EspaGammas(/*depth=*/10, /*gamma_final=*/0.005);
//   Eigen::MatrixXd A = attnpaths::EspaAttention(/*m=*/24, gamma[2], gamma[1]);   // closed form
//   Eigen::MatrixXd B = attnpaths::SpaAttention(attnpaths::EspaKernel(24, gamma[1]),
//                                               attnpaths::EspaKernel(24, gamma[2]), true);
//   // A == B to rounding, and A Σ_1 Aᵀ == Σ_2 (the SPA identity)
//
// Matrices here put tokens in ROWS, as the papers do: A[i, j] is the weight
// with which query i reads key j, and the kernel map of an attention layer
// with orthogonal values is Σ ← A Σ Aᵀ. attnpaths' heads are key-first: the
// same layer is the head Ω = Aᵀ (kernels/head.h, kind kFixed).
#pragma once

#include <Eigen/Core>
#include <string>
#include <vector>

namespace attnpaths {

// The constructions of signal-propagation.md §II.2.
enum class AttentionMethod {
  kUniform,        // A = softmax(0 + mask): 1/i on j <= i (causal) or 11ᵀ/m
  kValueSkipInit,  // A = a_I I + b_A softmax(...), a_I = 1, b_A = 0 at init: the identity
  kShaped,         // A = a_I I + b_A softmax(...) − c_C C, all 1 at init: the identity
  kUSpa,           // SPA towards Σ_ℓ = (1 − ρ_ℓ) I + ρ_ℓ 11ᵀ
  kESpa,           // SPA towards Σ_ℓ(i, j) = exp(−γ_ℓ |i − j|)
};
const char* AttentionMethodName(AttentionMethod method);
// Parses "uniform", "value_skipinit", "shaped", "uspa", "espa"; throws Error naming `field`.
AttentionMethod ParseAttentionMethod(const std::string& text, const std::string& field);
// True for U-SPA and E-SPA (the methods with target kernels).
bool IsSpa(AttentionMethod method);

// What happens when an SPA matrix has allowed entries <= 0 (then A is not
// D softmax(B) for any bias B; non-causal roots and input kernels ≠ I).
enum class NegativeAttention {
  kClamp,  // raise every allowed entry below |min| + ε to |min| + ε (as the
           // public E-SPA reimplementation does) and use the clamped matrix
  kKeep,   // use A as constructed; its D and bias are NaN where undefined
};
const char* NegativeAttentionName(NegativeAttention policy);
NegativeAttention ParseNegativeAttention(const std::string& text, const std::string& field);

// ---------------------------------------------------------------- schedules

// E-SPA decay rates γ_0 … γ_L with γ_0 = +∞ (Σ_0 = I) and
// 1 − e^{−2γ_ℓ} = (1 − e^{−2γ_L})^{ℓ/L}, i.e. log det Σ_ℓ linear in ℓ.
std::vector<double> EspaGammas(int depth, double gamma_final);
// U-SPA correlations ρ_0 = 0 … ρ_L with 1 − ρ_ℓ = (1 − ρ_L)^{ℓ/L} (open choice, documented).
std::vector<double> UspaRhos(int depth, double rho_final);
// Σ(i, j) = exp(−γ |i − j|) (the identity for γ = +∞).
Eigen::MatrixXd EspaKernel(Eigen::Index m, double gamma);
// Σ = (1 − ρ) I + ρ 11ᵀ.
Eigen::MatrixXd UspaKernel(Eigen::Index m, double rho);

// ------------------------------------------------------------------ factors

// L with L Lᵀ = Σ: the Cholesky factor (causal, lower triangular) or the
// symmetric root Σ^{1/2} (non-causal). Throws Error naming `field` when Σ is
// not symmetric positive definite.
Eigen::MatrixXd KernelFactor(const Eigen::Ref<const Eigen::MatrixXd>& sigma, bool causal,
                             const std::string& field);

// E-SPA closed forms (causal; ρ = e^{−γ}, a = √(1 − ρ²)), O(m²), no factorisation:
// the Cholesky factor of EspaKernel(m, γ), its inverse, and A = L_γ L_{γ'}^{-1}.
Eigen::MatrixXd EspaCholesky(Eigen::Index m, double gamma);
Eigen::MatrixXd EspaCholeskyInverse(Eigen::Index m, double gamma);
Eigen::MatrixXd EspaAttention(Eigen::Index m, double gamma, double gamma_previous);

// SPA: A = L L_prev^{-1} with L, L_prev the factors of `sigma` and
// `sigma_previous` (KernelFactor), so that A Σ_prev Aᵀ = Σ. Causal A is lower
// triangular. Throws Error when either kernel is not positive definite.
Eigen::MatrixXd SpaAttention(const Eigen::Ref<const Eigen::MatrixXd>& sigma_previous,
                             const Eigen::Ref<const Eigen::MatrixXd>& sigma, bool causal);

// Uniform attention at zero logits: U_ij = 1/i for j <= i (1-based; causal) or 11ᵀ/m.
Eigen::MatrixXd UniformAttention(Eigen::Index m, bool causal);

// ------------------------------------------------------------ decomposition

// A written as the softmax attention of a network at initialisation,
// A = D softmax_row(B + mask) with D diagonal positive (spec §II.1–§II.2).
struct AttentionDecomposition {
  Eigen::MatrixXd A;     // the matrix the network uses (after clamping, if any)
  Eigen::VectorXd D;     // row sums of A: the "location-dependent rescaling"
  Eigen::MatrixXd bias;  // log(A_ij / D_i) on allowed entries, −∞ where masked
  double min_entry = 0;  // smallest allowed entry of A before clamping
  int clamped = 0;       // allowed entries changed by clamping
};

// Decomposes A (m × m, tokens as rows). Allowed entries: j <= i (causal) or
// all. When the smallest allowed entry is <= 0, `policy` decides (kClamp:
// entries below |min| + ε become |min| + ε, with ε = `epsilon`).
AttentionDecomposition DecomposeAttention(const Eigen::Ref<const Eigen::MatrixXd>& A, bool causal,
                                          NegativeAttention policy, double epsilon);

}  // namespace attnpaths
