// FeatureGram — G = K_{U_1} + T·I of theory.md §10 (several outputs §9) from the
// M × M Gram A = ΞᵀΞ, b = ΞᵀY and yᵀy alone: no P × P or P × M matrix.
//
//   attnpaths::FeatureGram g(&gram.A, gram.b, gram.yty, gram.P, Htot, N0);
//   if (!g.Factorize(U1, T)) { /* U_1 or G not positive definite: report it */ }
//   double energy = g.LogDet() + g.Quadratic();   // ln det G + vec(Y)ᵀ G⁻¹ vec(Y)
//   Eigen::MatrixXd g1;
//   g.EnergyGradient(&g1);                         // Σ_μν R[(μ,d),(ν,d')] C_ππ'(μ,ν)
//   attnpaths::PredictorMoments m = g.Predict(test);   // O(M² D²) per test point
//
// The form (r = M·D features, index (a, i) with a = (π, d) of U_1 outer and
// the feature i inner; Ξ̃ = the PD × r matrix Ξ ⊗ I_D of theory.md §9 in that
// order, Ã = Ξ̃ᵀΞ̃, b̃ = Ξ̃ᵀ vec(Y)): U_1 = ℓ ℓᵀ (Cholesky), L = ℓ ⊗ I_N0, so
// K = Φ Φᵀ with Φ = Ξ̃ L, and with W = Φᵀ Φ = Lᵀ Ã L and F = T I_r + W:
//   ln det G              = (PD − r) ln T + ln det F
//   vec(Y)ᵀ G⁻¹ vec(Y)    = (yᵀy − sᵀ c) / T,        s = Lᵀ b̃ = Φᵀ y, c = F⁻¹ s = Φᵀ α
//   Ξ̃ᵀ R Ξ̃                = L⁻ᵀ (F⁻¹ W − c cᵀ) L⁻¹   (push-through: Φᵀ G⁻¹ Φ = F⁻¹ W)
//   f̄(x*)                 = Φ* c,   Σ(x*) = K* − k* G⁻¹ k*ᵀ = T Φ* F⁻¹ Φ*ᵀ
// — theory.md §10's identities with Z = T B⁻¹ + A rewritten through the
// Cholesky factor of U_1, so that no difference is divided by a small T except
// the label term's (which §10 has too), and the covariance has no cancellation
// at all. The energy gradient is the block traces (N0 × N0 blocks) of Ξ̃ᵀRΞ̃:
// ℓ⁻ᵀ tr_blocks(F⁻¹W − ccᵀ) ℓ⁻¹. An evaluation costs about r³ (Cholesky of F
// and F⁻¹W), independent of P. Needs T > 0 (throws Error otherwise: with
// P·D > r, G is singular at T = 0); U_1 positive semi-definite (a singular one
// — silenced paths — through ℓ = V Λ^{1/2}: values and predictor only, the
// gradient and Hessian then report false).
#pragma once

#include <Eigen/Core>

#include "kernels/path_inputs.h"

namespace attnpaths {

struct PredictorMoments;

class FeatureGram {
 public:
  // A: M × M (M = Htot·N0, both triangles; not copied, must outlive this),
  // b = ΞᵀY: M × D, yty = Σ_μd Y_μd², P examples. Throws Error when shapes disagree.
  FeatureGram(const Eigen::MatrixXd* A, Eigen::MatrixXd b, double yty, Eigen::Index P,
              Eigen::Index Htot, Eigen::Index N0);

  Eigen::Index P() const { return P_; }
  Eigen::Index outputs() const { return D_; }
  Eigen::Index features() const { return r_; }  // r = Htot·N0·D

  // Factorises for a symmetric (Htot D) × (Htot D) U_1 and T > 0. Status: false
  // when U_1 is not positive semi-definite, or F not positive definite or not finite. Throws Error
  // for a U_1 of the wrong shape or T <= 0 (naming the singular G of T = 0).
  bool Factorize(const Eigen::Ref<const Eigen::MatrixXd>& U1, double temperature);
  bool factorized() const { return factorized_; }
  double LogDet() const;     // ln det G
  double Quadratic() const;  // vec(Y)ᵀ G⁻¹ vec(Y)
  // ∂(ln det G + vec(Y)ᵀG⁻¹vec(Y))/∂U_1, every entry independent (theory.md §3, §9, §10).
  bool EnergyGradient(Eigen::MatrixXd* grad);
  // Its Hessian in the independent entries of U_1 (TrainingGram::EnergyHessian's
  // order), from Γ = Ξ̃ᵀG⁻¹Ξ̃ and w = Ξ̃ᵀα: about r² (Htot D)² flops beyond the gradient's.
  bool EnergyHessian(Eigen::MatrixXd* hessian);
  // Mean and D × D covariance at every example of `test` (blocks of test points).
  PredictorMoments Predict(const PathInputs& test) const;
  // Ξ̃ᵀ α (r), available after Factorize.
  Eigen::VectorXd FeatureAlpha() const;
  // Bytes kept: the r × r scratch matrices (F, F⁻¹W) and one M × r product.
  double MemoryBytes() const;

 private:
  // F⁻¹ W into X_ (r × r), once per factorisation.
  void SolveFW();

  const Eigen::MatrixXd* A_;
  Eigen::MatrixXd b_;
  double yty_;
  Eigen::Index P_, H_, N0_, D_, m_, r_;
  Eigen::MatrixXd ell_, ell_inverse_;  // ℓ and ℓ⁻¹ (m × m, lower)
  Eigen::MatrixXd W_, F_, X_;          // W, Cholesky factor of F, F⁻¹W
  Eigen::VectorXd c_;
  double temperature_ = 0, log_det_ = 0, quadratic_ = 0;
  bool factorized_ = false, have_fw_ = false, has_inverse_ = true;
};

// The energy Hessian from the feature-space quantities Γ = Ξ̃ᵀG⁻¹Ξ̃ (r × r,
// symmetric, r = m·N0) and w = Ξ̃ᵀα (r): H_kl = 2 Q_kl − Σ t, with
// Q_kl = Σ w_bᵀ Γ_ac w_e over the generators (a,b) of E_k and (c,e) of E_l and
// t(a,b;c,e) = ⟨Γ_ea, Γ_cb⟩ (TrainingGram::EnergyHessian, theory.md §3, §9).
void FeatureEnergyHessian(const Eigen::MatrixXd& Gamma, const Eigen::VectorXd& w, Eigen::Index m,
                          Eigen::Index N0, Eigen::MatrixXd* hessian);

}  // namespace attnpaths
