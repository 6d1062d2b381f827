// OrderParameters — U_1, …, U_L and U_a (theory.md §3), with an output index
// for D label columns (theory.md §9).
//
//   attnpaths::OrderParameters gp = attnpaths::GpOrderParameters(arch, /*outputs=*/3);
//   gp.U[0];        // U_1, (Htot·D) × (Htot·D), rows (π, d) with d fastest: K_U's U
//   gp.U_a;         // D × D (1 × 1 for one output)
//   gp.outputs();   // D
//
// Every U_ℓ is (m_ℓ D) × (m_ℓ D) with rows (h_ℓ, …, h_L, d): h_ℓ outermost, the
// output index d fastest. At D = 1 this is theory.md §3 exactly.
#pragma once

#include <Eigen/Core>
#include <vector>

#include "kernels/architecture.h"

namespace attnpaths {

struct OrderParameters {
  std::vector<Eigen::MatrixXd> U;  // U[ℓ-1] = U_ℓ, (m_ℓ D) × (m_ℓ D), m_ℓ = H_ℓ ⋯ H_L
  Eigen::MatrixXd U_a = Eigen::MatrixXd::Identity(1, 1);  // D × D, SPD

  Eigen::Index outputs() const { return U_a.rows(); }
};

// U_ℓ = σ_ℓ² ⋯ σ_L² σ_a² · I and U_a = σ_a² I_D: the all-widths-infinite
// minimiser and the solver's start (theory.md §3, §8, §9).
OrderParameters GpOrderParameters(const Architecture& arch, Eigen::Index outputs = 1);

// tr_ℓ: the partial trace over the outermost of `H_outer` blocks (theory.md §3).
Eigen::MatrixXd PartialTrace(const Eigen::Ref<const Eigen::MatrixXd>& U, Eigen::Index H_outer);

// I_{H} ⊗ M.
Eigen::MatrixXd BlockDiagonal(Eigen::Index H, const Eigen::Ref<const Eigen::MatrixXd>& M);

// The minimiser of S over U_a at fixed U_L (theory.md §3, §9): with
// C = tr_L U_L (D × D), β = σ_a²(H_L n_L / n_{L+1} − 1) and
// γ̃ = σ_a² n_L / (n_{L+1} σ_L²),
//   U_a = (−β I + (β² I + 4 γ̃ C)^{1/2}) / 2,
// computed on the eigenvectors of C (U_a commutes with C) with the scalar root
// of §3 for each eigenvalue; at D = 1 it is §3's root. D is U_L.rows() / H_L.
// An eigenvalue c ≤ 0 of C gives a root ≤ 0 (U_a not positive definite).
Eigen::MatrixXd EliminateUa(const Architecture& arch, const Eigen::Ref<const Eigen::MatrixXd>& U_L);

// The scalar root of §3: (−β + √(β² + 4γ)) / 2 in a form without cancellation.
double ReadoutRoot(double beta, double gamma);

// Throws Error naming the layer when the shapes do not fit the architecture
// with D outputs, or an entry is not finite.
void CheckShapes(const Architecture& arch, const std::vector<Eigen::MatrixXd>& U,
                 Eigen::Index outputs = 1);

// The number of outputs D that U_1 of `arch` implies (its rows / Htot); throws
// Error naming `field` when that is not a positive whole number.
Eigen::Index OutputsOf(const Architecture& arch, const Eigen::Ref<const Eigen::MatrixXd>& U1,
                       const std::string& field = "U_1");

}  // namespace attnpaths
