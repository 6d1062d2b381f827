// The shaped-attention block and its covariance SDE (signal-propagation.md
// Part I; Noci et al., NeurIPS 2023; Li, Nica, Roy, NeurIPS 2022).
//
//   attnpaths::ShapedModel model;             // γ = 0.4, τ0 = 0.6, no MLP
//   Eigen::MatrixXd b = attnpaths::ShapedDrift(model, V);          // b(V), eq. (I.6)
//   Eigen::MatrixXd S = attnpaths::ShapedDiffusion(model, V);      // Σ(V), eq. (I.7), m² × m²
//
// The finite block (tokens as rows, X ∈ R^{m×n}, every weight iid N(0, 1)):
//   X ← λ X + γ A X W^V / √n,      λ = √(1 − γ²)                              (I.1)
//   A = I + softmax_row(S) − 11ᵀ/m,  Cov(S_αβ, S_γδ) = V^{αγ} V^{βδ} / (τ0² n)   (I.2–I.4)
//   optional MLP: X ← λ' X + γ' κ φ_s(X W¹/√n) W²/√n,  s± = 1 + c±/√n,
//                 κ = √(2/(s₊² + s₋²))                                        (I.5)
// and V = X Xᵀ / n follows, as n → ∞ with t = ℓ/n, dV = b(V) dt + dM.
#pragma once

#include <Eigen/Core>
#include <cmath>
#include <limits>
#include <string>

namespace attnpaths {

struct ShapedModel {
  double gamma = 0.4;  // attention branch weight γ ∈ (0, 1]; λ = √(1 − γ²)
  // τ0 of the logit covariance V⊗V/(τ0² n), eq. (I.4); +∞ switches the
  // attention off (A = I: a linear residual network).
  double tau0 = 0.6;
  bool mlp = false;        // the shaped-ReLU MLP sub-block (I.5) after attention
  double mlp_gamma = 0.5;  // γ' ∈ (0, 1]; λ' = √(1 − γ'²)
  double c_plus = 0.0;     // s₊ = 1 + c₊/√n
  double c_minus = -1.0;   // s₋ = 1 + c₋/√n

  // False with a message naming the field for γ or γ' outside (0, 1], τ0 not
  // > 0 (+∞ allowed), c± not finite.
  bool IsValid(std::string* error) const;
  bool attention() const { return std::isfinite(tau0); }
};

// b(V) of eq. (I.6): (γ²/τ0²)[(tr(V^c V)/m²) V + (v wᵀ + w vᵀ)/(2m)] + γ'² N(V).
Eigen::MatrixXd ShapedDrift(const ShapedModel& model, const Eigen::Ref<const Eigen::MatrixXd>& V);

// N(V) of eq. (I.6): ν(ρ_αβ) √(V^{αα} V^{ββ}), ν(ρ) = ((c₊ − c₋)²/(2π))(√(1−ρ²) − ρ arccos ρ).
Eigen::MatrixXd ShapedMlpDrift(double c_plus, double c_minus,
                               const Eigen::Ref<const Eigen::MatrixXd>& V);

// Σ(V) of eq. (I.7) as an m² × m² matrix: entry (α + mβ, γ + mδ) is
// Cov(dM_αβ, dM_γδ) per unit time.
Eigen::MatrixXd ShapedDiffusion(const ShapedModel& model,
                                const Eigen::Ref<const Eigen::MatrixXd>& V);

// The matrix-form noise of eq. (I.8) for one step, from a root R (R Rᵀ = V)
// and two m × m matrices of iid N(0, 1): with c_v = γ²(2 − γ²) + 2γ'² (MLP),
//   √c_v (R Z₁ Rᵀ + R Z₁ᵀ Rᵀ)/√2 + (γ²/(τ0 m)) (R Z₂ Rᵀ P V + V P R Z₂ᵀ Rᵀ).
// Its covariance is Σ(V) exactly (the value and MLP noises of (I.8) have the
// same form and are merged into one).
Eigen::MatrixXd ShapedNoise(const ShapedModel& model, const Eigen::Ref<const Eigen::MatrixXd>& V,
                            const Eigen::Ref<const Eigen::MatrixXd>& R,
                            const Eigen::Ref<const Eigen::MatrixXd>& Z1,
                            const Eigen::Ref<const Eigen::MatrixXd>& Z2);

// A root R with R Rᵀ = V: Cholesky, or, when that fails (V has left the
// positive-definite cone), U diag(√max(λ, 0)) from the eigendecomposition;
// *clipped is set to true in that case.
Eigen::MatrixXd CovarianceRoot(const Eigen::Ref<const Eigen::MatrixXd>& V, bool* clipped);

// The shaped attention matrix A = I + softmax_row(S) − 11ᵀ/m (I.2), and the
// standard one softmax_row(S).
Eigen::MatrixXd ShapedAttentionMatrix(const Eigen::Ref<const Eigen::MatrixXd>& S);
Eigen::MatrixXd SoftmaxRows(const Eigen::Ref<const Eigen::MatrixXd>& S);

// φ_s(x) = s₊ max(x, 0) + s₋ min(x, 0).
inline double ShapedRelu(double x, double s_plus, double s_minus) {
  return x >= 0 ? s_plus * x : s_minus * x;
}

}  // namespace attnpaths
