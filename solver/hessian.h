// Hessian of the action in the independent entries of every U_ℓ (upper
// triangle with diagonal, U_a eliminated or free as the action has it): the
// analytic one of solver/action_hessian.h, and central differences of the
// analytic gradient as an independent check (theory.md §3: the stability
// check of a solution).
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

// The Hessian of S / n_max, analytic (solver/action_hessian.h). Returns an
// empty matrix when it cannot be evaluated at U.
Eigen::MatrixXd ActionHessian(const Action& action, const std::vector<Eigen::MatrixXd>& U);

// The same by central differences of the analytic gradient (2 evaluations per
// independent entry; symmetrised), steps relative_step · max(|u_k|, mean
// |diag U_ℓ|). Empty when the action cannot be evaluated at a perturbed point.
Eigen::MatrixXd FiniteDifferenceActionHessian(const Action& action,
                                              const std::vector<Eigen::MatrixXd>& U,
                                              double relative_step = 1e-5);

// Its smallest eigenvalue (NaN when it cannot be computed); all eigenvalues in
// ascending order in `eigenvalues` when given.
double HessianMinEigenvalue(const Action& action, const std::vector<Eigen::MatrixXd>& U,
                            Eigen::VectorXd* eigenvalues = nullptr);

}  // namespace attnpaths
