// TrainingGram — G = K_{U_1} + T·I on the training set for D outputs, factorised for
// one U_1 (theory.md §3, §9): the part of the action and of the predictor
// that depends on how the path kernels are stored.
//
//   attnpaths::TrainingGram gram(kernel, /*outputs=*/Y.cols());
//   if (!gram.Factorize(U1, T)) { /* G is not positive definite: report it */ }
//   const Eigen::VectorXd y = attnpaths::StackOutputs(Y);     // vec(Y), (μ, d) order
//   const Eigen::VectorXd alpha = gram.Solve(y);                // α = G⁻¹ vec(Y)
//   double energy = gram.LogDet() + y.dot(alpha);               // ln det G + yᵀ G⁻¹ y
//   Eigen::MatrixXd g1;
//   gram.EnergyGradient(alpha, &g1);   // ∂energy/∂U_1 = Σ_μν R[(μ,d),(ν,d')] C_ππ'(μ,ν)
//   attnpaths::PredictorMoments m = gram.Predict(test, alpha);  // mean, D × D covariances
//
// Bound to the labels, the same through whichever storage the kernel has —
// including the feature-space form (kFeatures, theory.md §10), which never
// forms α or any P × P matrix:
//   attnpaths::TrainingGram gram(kernel, Y);
//   if (!gram.Factorize(U1, T)) { ... }
//   double energy = gram.LogDet() + gram.Quadratic();
//   gram.EnergyGradient(&g1);  gram.EnergyHessian(&h);  gram.Predict(test);
//
// Index order (theory.md §9): U_1 is (Htot D) × (Htot D) with rows (π, d), d
// fastest; G is PD × PD with rows (μ, d), μ outer,
//   G[(μ,d),(ν,d')] = Σ_ππ' U_1[(π,d),(π',d')] C_ππ'(x^μ, x^ν) + T δ_μν δ_dd',
// and vec(Y) stacks the rows of Y (entry μ D + d is Y_μd). At D = 1 this is
// theory.md §3.
//
// Storage follows the PathKernel's strategy:
//  * kPrecomputed reads the stored pairs C_ππ' (π ≤ π'). At D = 1 through
//    their packed symmetrised form (PathKernel::PackedPairs) when it is small
//    enough: K_U's lower triangle is one GEMV, and the energy gradient
//    Σ_μν R_μν C_ππ'(μ,ν) another with the lower triangle of R = G⁻¹ − ααᵀ
//    (G⁻¹ straight from G up to kSmallSpd rows, SpdInverseInPlace, else from
//    the Cholesky factor, InverseFromCholeskyInPlace, in solver/spd.h; nothing
//    else P × P formed; issue 14 §2). Otherwise
//    (and for D > 1):
//    G = S + Sᵀ with S = Σ_{π<π'} C_ππ' ⊗ A^{ππ'} + Σ_π C_ππ ⊗ A^{ππ}/2 and
//    A^{ππ'}_{dd'} = U_1[(π,d),(π',d')]; the gradient block (π,π') is
//    Σ_μν R[(μ,d),(ν,d')] C_ππ'(μ,ν), one pass over the pairs.
//  * kFactored works on the path inputs Ξ (P × Htot·N0) alone: block (d, e)
//    of K is Ξ (U^{de} ⊗ I_N0) Ξᵀ with U^{de}_ππ' = U_1[(π,d),(π',e)] (the
//    Ξ ⊗ I_D of theory.md §9's last paragraph, never formed), and block (d, e)
//    of the gradient is Σ_μν R[(μ,d),(ν,e)] C_ππ'(μ,ν) = Σ (Ξ_π ∘ (R_de Ξ)_π').
//    One output keeps PathKernel's BLAS pipeline (Φ = Ξ (C ⊗ I), Z = L⁻¹ Ξ).
//  * kFeatures, with the labels bound: solver/feature_gram.h, from A = ΞᵀΞ,
//    b = ΞᵀY and yᵀy (theory.md §10). The α-based calls below (Solve,
//    EnergyGradient(alpha, …), Predict(test, alpha)) work there as kFactored
//    when the kernel keeps its path inputs, and throw Error on a streamed one.
// At D = 1 the first two are exactly the strategies of kernels/path_kernel.h.
//
// A TrainingGram keeps its scratch matrices (G and G⁻¹, PD × PD, and P·N0 × Htot·D
// when factored) between factorisations. One TrainingGram must not be used from several
// threads at once; the kernel must outlive it.
#pragma once

#include <Eigen/Core>
#include <memory>

#include "kernels/path_inputs.h"
#include "kernels/path_kernel.h"
#include "solver/feature_gram.h"

namespace attnpaths {

// Predictor moments on test inputs (theory.md §4, §9).
struct PredictorMoments {
  // f̄_d(x*) = (k* G⁻¹ vec(Y))_d, P* × D.
  Eigen::MatrixXd mean;
  // Σ(x*) = K*(x*, x*) − k* G⁻¹ k*ᵀ for every test point: row μ holds the
  // D × D matrix Σ(x*_μ) flattened (entry (d, d') in column d + D d'; it is
  // symmetric, so row- and column-major flattening agree). P* × D².
  Eigen::MatrixXd covariance;

  // The D × D covariance of test point μ.
  Eigen::MatrixXd Covariance(Eigen::Index mu) const;
  // Its diagonals, the variance of each output: P* × D.
  Eigen::MatrixXd Variance() const;
};

// vec(Y): the rows of Y (P × D) stacked, entry μ D + d = Y_μd (theory.md §9).
Eigen::VectorXd StackOutputs(const Eigen::Ref<const Eigen::MatrixXd>& Y);
// The inverse: P × D from a vector of P·D entries in (μ, d) order.
Eigen::MatrixXd UnstackOutputs(const Eigen::Ref<const Eigen::VectorXd>& v, Eigen::Index outputs);

class TrainingGram {
 public:
  // Throws Error when outputs < 1.
  TrainingGram(const PathKernel& kernel, Eigen::Index outputs);
  // Bound to the labels Y (P × D, (μ, d) stacked as vec(Y)); the storage is
  // the kernel's strategy. For a streamed kernel Y must be the labels its
  // Gram summed (checked through yᵀy; Error otherwise).
  TrainingGram(const PathKernel& kernel, const Eigen::Ref<const Eigen::MatrixXd>& Y);
  ~TrainingGram();

  Eigen::Index P() const { return kernel_.P(); }
  Eigen::Index outputs() const { return D_; }
  Eigen::Index size() const { return kernel_.P() * D_; }  // P·D, the side of G
  const PathKernel& kernel() const { return kernel_; }

  // Forms and factorises G = K_{U_1} + T I for a symmetric (Htot D) × (Htot D)
  // U_1 (positive semi-definite is enough); nothing to do when the last
  // factorisation succeeded for the same U_1 and T (the Hessian at the point
  // just evaluated reuses the evaluation's factor and G⁻¹). Status, never a throw for the
  // numbers: false when G has a non-finite entry or is not positive definite
  // (then LogDet/Solve/EnergyGradient/Predict must not be called). Throws
  // Error for a U_1 of the wrong shape or T < 0.
  bool Factorize(const Eigen::Ref<const Eigen::MatrixXd>& U1, double temperature);
  bool factorized() const { return factorized_; }
  // The storage of the last factorisation: the kernel's strategy (kFeatures
  // only with labels bound and T > 0; kFactored's computations otherwise).
  KernelStrategy storage() const;

  // With the labels bound (second constructor), any storage:
  // vec(Y)ᵀ G⁻¹ vec(Y);
  double Quadratic() const;
  // the energy gradient (as EnergyGradient(alpha, …) with α = G⁻¹ vec(Y));
  bool EnergyGradient(Eigen::MatrixXd* grad);
  // mean and D × D covariance at every example of `test`.
  PredictorMoments Predict(const PathInputs& test) const;

  // ln det G.
  double LogDet() const;
  // G⁻¹ B for B with P·D rows in (μ, d) order.
  Eigen::MatrixXd Solve(const Eigen::Ref<const Eigen::MatrixXd>& B) const;
  // ∂(ln det G + yᵀG⁻¹y)/∂U_1 (every entry independent; symmetric):
  //   Σ_μν R[(μ,d),(ν,d')] C_ππ'(x^μ, x^ν) at entry [(π,d),(π',d')],
  //   R = G⁻¹ − α αᵀ, α = G⁻¹ y  (theory.md §3 "Gradient", §9).
  // false when a LAPACK step fails. Reuses the scratch; the factor stays valid.
  bool EnergyGradient(const Eigen::Ref<const Eigen::VectorXd>& alpha, Eigen::MatrixXd* grad);
  // How EnergyHessian works: through the pairs C_ππ' (P × P, cheapest for
  // small P), or through the path inputs (features, cheapest when P ≫ N0).
  enum class HessianForm { kAuto, kExamples, kFeatures };
  // ∂²(ln det G + yᵀG⁻¹y)/∂u_k∂u_l in the independent entries u_k of U_1
  // (upper triangle with diagonal, column by column; a step in an off-diagonal
  // entry moves both triangles), for α = G⁻¹ y (theory.md §3, §9; issue 14):
  //   −tr(G⁻¹ S_k G⁻¹ S_l) + 2 (S_k α)ᵀ G⁻¹ (S_l α),  S_k = K_{E_k},
  // with E_k the symmetric unit matrix of entry k. kExamples: X = G⁻¹ J_d C_ππ'
  // for every output d and ordered pair (2 Htot² D² P³ flops), then every
  // trace by one GEMM of their P × P blocks (2 (Htot D)⁴ P² flops); at D = 1
  // Y_k = G⁻¹ S_k for the Htot(Htot+1)/2 entries instead (S_k symmetric,
  // 2 Htot(Htot+1)/2 P³ flops) and tr(Y_k Y_l) by one GEMM.
  // kFeatures: M = L⁻¹ Ξ̃ (PD × Htot D N0) and Γ = Mᵀ M, then one GEMM of its
  // N0 × N0 blocks (2 (Htot D)⁴ N0² flops). kAuto takes the one with fewer
  // flops (EnergyHessianFlops). false when a LAPACK step fails.
  bool EnergyHessian(const Eigen::Ref<const Eigen::VectorXd>& alpha, Eigen::MatrixXd* hessian,
                     HessianForm form = HessianForm::kAuto);
  // With the labels bound: the same for α = G⁻¹ vec(Y) (kFeatures storage
  // ignores `form`: it always works from Γ = Ξ̃ᵀG⁻¹Ξ̃, solver/feature_gram.h).
  bool EnergyHessian(Eigen::MatrixXd* hessian, HessianForm form = HessianForm::kAuto);
  // The flop estimate of EnergyHessian in a form (kExamples or kFeatures).
  double EnergyHessianFlops(HessianForm form) const;
  // Mean and D × D covariance at every example of `test` (theory.md §4, §9),
  // for α = G⁻¹ vec(Y); test points are taken in blocks so that no P*D × PD
  // matrix is formed at once. Throws Error when `test` does not match.
  PredictorMoments Predict(const PathInputs& test,
                           const Eigen::Ref<const Eigen::VectorXd>& alpha) const;

  // K_{U_1} on the training set without T (PD × PD, both triangles, (μ, d) order).
  Eigen::MatrixXd TrainingKernel(const Eigen::Ref<const Eigen::MatrixXd>& U1);

 private:
  bool EnergyHessianFeatures(const Eigen::Ref<const Eigen::VectorXd>& alpha,
                             Eigen::MatrixXd* hessian) const;
  bool EnergyHessianSymmetric(const Eigen::MatrixXd& R,
                              const Eigen::Ref<const Eigen::VectorXd>& alpha,
                              Eigen::MatrixXd* hessian);
  // K_{U_1} into G_ (lower triangle at least); false when not finite.
  void Assemble(const Eigen::Ref<const Eigen::MatrixXd>& U1);
  // The lower triangle of G⁻¹ at the last factorisation: inverse_ when
  // Factorize kept L⁻¹ (made G⁻¹ on the first call), else computed from L into
  // work_. Null when a LAPACK step fails.
  const Eigen::MatrixXd* LowerInverse();

  const PathKernel& kernel_;
  Eigen::Index D_;
  bool labels_ = false;                    // bound to labels (second constructor)
  Eigen::VectorXd y_, alpha_;              // vec(Y) and α = G⁻¹ vec(Y) (not kFeatures)
  std::unique_ptr<FeatureGram> features_;  // kFeatures with labels
  bool use_features_ = false;              // the last Factorize went through features_
  Eigen::MatrixXd U1_;                     // the U_1 of the last factorisation
  Eigen::MatrixXd G_;                      // G, then its lower Cholesky factor L
  Eigen::MatrixXd work_;  // factored: Φ̃ = Ξ̃ (C ⊗ I), then Z = L⁻¹ Ξ̃; precomputed: R
  Eigen::MatrixXd L_inverse_;  // factored: L⁻¹ (lower)
  // Up to kSmallSpd rows (solver/spd.h) with the pairs stored or D > 1: G⁻¹
  // (both triangles) straight from G (SpdInverseInPlace); G_ then holds no
  // factor, and α, Solve and Predict multiply by G⁻¹ (inverse_state_ kFull).
  Eigen::MatrixXd inverse_;
  // EnergyHessianSymmetric's scratch: every vec Y_k (Y_k = G⁻¹ S_k) as a
  // column, one Y_kᵀ, the S_k α, one S_k.
  Eigen::MatrixXd hessian_s_, hessian_y_, hessian_yt_, hessian_v_;
  enum class InverseState { kNone, kFull };
  InverseState inverse_state_ = InverseState::kNone;
  // Pairs at D = 1 through PathKernel::PackedPairs: the packed lower triangle
  // of K_U, then of R = G⁻¹ − α αᵀ (diagonal halved), and the pair sums.
  Eigen::VectorXd packed_, pair_sums_, pair_weights_;
  double log_det_ = 0;
  double temperature_ = 0;  // the T of the last factorisation
  bool factorized_ = false;
};

// Process-wide switch of the lean steps of Factorize (default on): G⁻¹ and
// ln det G without a factor (SpdInverseInPlace) where G⁻¹ is needed and G is
// small, no refactorisation at the same U_1 and T, and Action::EnergyHessian
// in the evaluation's workspace. Off: Eigen's LLT, G⁻¹ from L, every call
// factorises (the steps before). The results agree to rounding; only
// bench/lean_bench switches it, to time both routes in one run.
void SetLeanGramSteps(bool on);
bool LeanGramSteps();

// K_{U_1} (PD × PD, (μ, d) order, no T) of `kernel` for D = U_1.rows() / Htot
// outputs: the training kernel that theory.md §7 eigen-decomposes.
Eigen::MatrixXd OutputKernel(const PathKernel& kernel, const Eigen::Ref<const Eigen::MatrixXd>& U1);

}  // namespace attnpaths
