// Hessian of an objective (solver/objective.h; the path action, theory.md §3)
// in the independent entries of every block (upper triangle with diagonal, U_a
// eliminated or free as the action has it): the objective's own (the action's
// analytic one of solver/action_hessian.h), and central differences of its
// gradient, an independent check and the fallback for objectives without one
// (theory.md §3: the stability check of a solution).
//
//   Eigen::VectorXd eig;
//   double lo = attnpaths::HessianMinEigenvalue(action, sol.order_parameters.U, &eig);
#pragma once

#include <Eigen/Core>
#include <vector>

#include "solver/action.h"
#include "solver/objective.h"

namespace attnpaths {

// Number of independent entries: Σ_ℓ m_ℓ (m_ℓ + 1) / 2.
int IndependentEntries(const std::vector<Eigen::MatrixXd>& U);

// ∂(S/n)/∂u_k, n = objective.Normalization() (n_max for the action), for
// every independent entry k (off-diagonal entries count twice, theory.md §3);
// false when the objective cannot be evaluated at U.
bool IndependentGradient(const OrderParameterObjective& objective,
                         const std::vector<Eigen::MatrixXd>& U, Eigen::VectorXd* gradient);
// Adds step_k to the independent entry k of U (both triangles).
std::vector<Eigen::MatrixXd> AddToIndependentEntries(const std::vector<Eigen::MatrixXd>& U,
                                                     const Eigen::Ref<const Eigen::VectorXd>& step);

// The Hessian of S / n_max, analytic (solver/action_hessian.h). Returns an
// empty matrix when it cannot be evaluated at U.
Eigen::MatrixXd ActionHessian(const Action& action, const std::vector<Eigen::MatrixXd>& U);

// The Hessian of S / n by central differences of the objective's gradient (2
// evaluations per independent entry; symmetrised), steps relative_step ·
// max(|u_k|, mean |diag U_ℓ|). Empty when the objective cannot be evaluated at
// a perturbed point.
Eigen::MatrixXd FiniteDifferenceHessian(const OrderParameterObjective& objective,
                                        const std::vector<Eigen::MatrixXd>& U,
                                        double relative_step = 1e-5);

// The objective's own Hessian when it has one (HasHessian), else
// FiniteDifferenceHessian. Empty when it cannot be evaluated at U.
Eigen::MatrixXd ObjectiveHessian(const OrderParameterObjective& objective,
                                 const std::vector<Eigen::MatrixXd>& U);

// The smallest eigenvalue of ObjectiveHessian (NaN when it cannot be
// computed); all eigenvalues in ascending order in `eigenvalues` when given.
double HessianMinEigenvalue(const OrderParameterObjective& objective,
                            const std::vector<Eigen::MatrixXd>& U,
                            Eigen::VectorXd* eigenvalues = nullptr);

}  // namespace attnpaths
