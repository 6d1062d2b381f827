// Predictor statistics at a solution (theory.md §4; several outputs §9) and the GP limit.
//
//   attnpaths::PredictorStatistics st = attnpaths::Predict(
//       kernel, Y, temperature, sol.order_parameters.U[0], test_inputs, &Y_test);
//   st.mean;                  // f̄(x*) = k* G⁻¹ vec(Y)          (P* × D)
//   st.variance;              // diagonal of Σ(x*) per output   (P* × D)
//   st.Covariance(mu);        // Σ(x*_μ) = K*(x*,x*) − k* G⁻¹ k*ᵀ  (D × D)
//   st.generalization_error;  // ⟨(f̄_d − y*_d)² + Σ_dd⟩ over points and outputs
//   st.accuracy;              // sign f̄ = y* (D = 1), argmax f̄ = argmax y* (D > 1)
//
//   attnpaths::OrderParameters gp = attnpaths::GpLimit(arch, D);   // N → ∞: U = U_GP
#pragma once

#include <Eigen/Core>
#include <limits>

#include "kernels/architecture.h"
#include "kernels/path_kernel.h"
#include "solver/order_parameters.h"
#include "solver/path_problem.h"

namespace attnpaths {

struct PredictorStatistics {
  Eigen::MatrixXd mean;      // P* × D
  Eigen::MatrixXd variance;  // P* × D: Σ_dd(x*), the variance of output d (no T added)
  // P* × D²: row μ is Σ(x*_μ) flattened, entry (d, d') in column d + D d'
  // (symmetric, so row- and column-major flattening agree).
  Eigen::MatrixXd covariance;
  // Averaged over test points and outputs: (1/(P* D)) Σ_μ Σ_d [(f̄_d − y_d)² + Σ_dd]
  // (theory.md §4, §9; kernels/metrics.h GeneralizationError; NaN without test labels).
  double generalization_error = std::numeric_limits<double>::quiet_NaN();
  // Fraction of test points with sign f̄ = y* (D = 1; f̄ = 0 counts as wrong) or
  // argmax_d f̄_d = argmax_d y*_d (D > 1, ties to the lowest d): kernels/metrics.h
  // Accuracy; NaN without test labels.
  double accuracy = std::numeric_limits<double>::quiet_NaN();

  // Σ(x*_μ), D × D.
  Eigen::MatrixXd Covariance(Eigen::Index mu) const;
};

// D = Y.cols() outputs; U1 is (Htot D) × (Htot D) (theory.md §9). Throws Error
// when shapes disagree or G = K_U + T I is not positive definite.
PredictorStatistics Predict(const PathKernel& train, const Eigen::Ref<const Eigen::MatrixXd>& Y,
                            double temperature, const Eigen::Ref<const Eigen::MatrixXd>& U1,
                            const PathInputs& test, const Eigen::MatrixXd* Y_test = nullptr);

// The same for a PathProblem (its kernel, labels and temperature).
PredictorStatistics Predict(const PathProblem& problem, const Eigen::Ref<const Eigen::MatrixXd>& U1,
                            const PathInputs& test, const Eigen::MatrixXd* Y_test = nullptr);

// The all-widths-infinite order parameters U_GP for D outputs (theory.md §2, §3, §9).
OrderParameters GpLimit(const Architecture& arch, Eigen::Index outputs = 1);

}  // namespace attnpaths
