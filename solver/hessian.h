// Hessian of the action in the independent entries of every U_ℓ (upper
// triangle with diagonal, U_a eliminated), by central differences of the
// analytic gradient (theory.md §3: the stability check of a solution).
//
//   Eigen::VectorXd eig;
//   double lo = attnpaths::HessianMinEigenvalue(action, sol.order_parameters.U, &eig);
#pragma once

#include <Eigen/Core>
#include <vector>

#include "solver/action.h"

namespace attnpaths {

// Number of independent entries: Σ_ℓ m_ℓ (m_ℓ + 1) / 2.
int IndependentEntries(const std::vector<Eigen::MatrixXd>& U);

// ∂(S/n_max)/∂u_k for every independent entry k (off-diagonal entries count
// twice, theory.md §3); false when the action cannot be evaluated at U.
bool IndependentGradient(const Action& action, const std::vector<Eigen::MatrixXd>& U,
                         Eigen::VectorXd* gradient);
// Adds step_k to the independent entry k of U (both triangles).
std::vector<Eigen::MatrixXd> AddToIndependentEntries(const std::vector<Eigen::MatrixXd>& U,
                                                     const Eigen::Ref<const Eigen::VectorXd>& step);

// The Hessian of S / n_max (symmetrised). Returns an empty matrix when the
// action cannot be evaluated at a perturbed point.
Eigen::MatrixXd ActionHessian(const Action& action, const std::vector<Eigen::MatrixXd>& U,
                              double relative_step = 1e-5);

// Its smallest eigenvalue (NaN when it cannot be computed); all eigenvalues in
// ascending order in `eigenvalues` when given.
double HessianMinEigenvalue(const Action& action, const std::vector<Eigen::MatrixXd>& U,
                            Eigen::VectorXd* eigenvalues = nullptr);

}  // namespace attnpaths
