// ActionHessian — the analytic Hessian of S(U) (theory.md §3, §9: entropy of
// every layer and the energy, D ≥ 1 outputs) in the independent entries of the
// order parameters, for the stability check of a solution and Newton steps.
//
//   attnpaths::Action action(arch, kernel, Y, /*temperature=*/0.01);
//   Eigen::MatrixXd hessian;
//   if (attnpaths::AnalyticActionHessian(action, sol.order_parameters.U, &hessian)) {
//     Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(hessian);   // > 0: stable
//   }
//
// Coordinates are those of solver/hessian.h: the entries (i ≤ j) of U_1, …,
// U_L (and U_a when the action keeps it free), column by column; a step in an
// off-diagonal entry moves both triangles; the function is S / n_max.
//
// Entropy (theory.md §3, first two lines; U_{L+1} ≡ U_a), with V = U_{ℓ+1},
// T_ℓ = tr_ℓ U_ℓ and symmetric directions A, B:
//   −n_ℓ ln det U_ℓ              → n_ℓ tr(U_ℓ⁻¹ A U_ℓ⁻¹ B)                      (U_ℓ, U_ℓ)
//   n_ℓ H_ℓ ln det V             → −n_ℓ H_ℓ tr(V⁻¹ A V⁻¹ B)                     (V, V)
//   (n_ℓ/σ_ℓ²) tr(V⁻¹ T_ℓ)        → (n_ℓ/σ_ℓ²) [tr(V⁻¹AV⁻¹BV⁻¹T_ℓ) + (A ↔ B)]   (V, V)
//                                 → −(n_ℓ/σ_ℓ²) ⟨A, I_{H_ℓ} ⊗ V⁻¹BV⁻¹⟩          (U_ℓ, V)
//   n_{L+1}(tr U_a/σ_a² − ln det U_a) → n_{L+1} tr(U_a⁻¹ A U_a⁻¹ B)            (U_a, U_a)
// Energy: TrainingGram::EnergyHessian (U_1, U_1). With U_a eliminated (the default)
// the Hessian of S(U, U_a*(U)) is the Schur complement
//   H_UU − H_{U a} H_{a a}⁻¹ H_{a U}
// (U_a* is stationary in U_a, so dU_a*/dU = −H_aa⁻¹ H_aU).
#pragma once

#include <Eigen/Core>
#include <vector>

#include "solver/action.h"
#include "solver/training_gram.h"

namespace attnpaths {

// The Hessian of S / n_max at U (symmetrised U_ℓ). Status, not a throw: false
// (and *hessian untouched) when some U_ℓ, U_a or G is not positive definite
// or a LAPACK step fails. Throws Error when U does not fit the action.
// `energy_form` chooses how the energy block is computed (solver/training_gram.h).
bool AnalyticActionHessian(
    const Action& action, const std::vector<Eigen::MatrixXd>& U, Eigen::MatrixXd* hessian,
    TrainingGram::HessianForm energy_form = TrainingGram::HessianForm::kAuto);

// The Hessian of `action`'s S / n_max at U from the Hessian of S / n_max at
// the same U of the action with the `neighbour` architecture (the same
// kernel, labels, temperature and readout; other widths or variances): a
// sweep's next width gets its first Newton model from the previous width's
// stability check (SolveOptions::initial_hessian) without the energy block,
// the expensive part. The energy ln det G + vec(Y)ᵀG⁻¹vec(Y) is the same
// function of U_1 in both, so with E its block and R, R' the rest (entropy,
// and the Schur complement of an eliminated U_a, which involves only entropy
// blocks): H = (E + R) / n_max = (n'_max / n_max)(H' − R'/n'_max) + R / n_max,
// R and R' computed here (matrices of the heads' size only). Exact up to
// rounding. U is the point in the layout of the action's Start (U_1, …, U_L,
// and U_a with a free readout). false when some U_ℓ or U_a is not positive
// definite; throws Error when the layers or heads differ or the shapes do not fit.
bool NeighbourActionHessian(const Action& action, const Architecture& neighbour,
                            const std::vector<Eigen::MatrixXd>& U,
                            const Eigen::MatrixXd& neighbour_hessian, Eigen::MatrixXd* hessian);

}  // namespace attnpaths
