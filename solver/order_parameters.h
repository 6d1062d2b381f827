// OrderParameters — U_1, …, U_L and U_a (theory.md §3).
//
//   attnpaths::OrderParameters gp = attnpaths::GpOrderParameters(arch);  // U_GP, the start
//   gp.U[0];      // U_1, Htot × Htot, the U of the renormalised kernel K_U
//   gp.U_a;       // the readout scalar
#pragma once

#include <Eigen/Core>
#include <vector>

#include "kernels/architecture.h"

namespace attnpaths {

struct OrderParameters {
  std::vector<Eigen::MatrixXd> U;  // U[ℓ-1] = U_ℓ, m_ℓ × m_ℓ with m_ℓ = H_ℓ ⋯ H_L
  double U_a = 1.0;
};

// U_ℓ = σ_ℓ² ⋯ σ_L² σ_a² · I and U_a = σ_a²: the all-widths-infinite
// minimiser and the solver's start (theory.md §3, §8).
OrderParameters GpOrderParameters(const Architecture& arch);

// tr_ℓ: the partial trace over the outermost of `H_outer` blocks (theory.md §3).
Eigen::MatrixXd PartialTrace(const Eigen::Ref<const Eigen::MatrixXd>& U, Eigen::Index H_outer);

// I_{H} ⊗ M.
Eigen::MatrixXd BlockDiagonal(Eigen::Index H, const Eigen::Ref<const Eigen::MatrixXd>& M);

// U_a = (−β + √(β² + 4γ)) / 2 with β = σ_a²(H_L n_L / n_{L+1} − 1),
// γ = σ_a² n_L tr U_L / (n_{L+1} σ_L²): the minimiser of S over U_a (theory.md §3).
double EliminateUa(const Architecture& arch, const Eigen::Ref<const Eigen::MatrixXd>& U_L);

// Throws Error naming the layer when the shapes do not fit the architecture.
void CheckShapes(const Architecture& arch, const std::vector<Eigen::MatrixXd>& U);

}  // namespace attnpaths
