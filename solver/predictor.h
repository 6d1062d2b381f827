// Predictor statistics at a solution (theory.md §4) and the GP limit.
//
//   attnpaths::PredictorStatistics st = attnpaths::Predict(
//       kernel, Y, temperature, sol.order_parameters.U[0], test_inputs, &Y_test);
//   st.mean;                  // f̄(x*) = k*ᵀ G⁻¹ y       (P* × D)
//   st.variance;              // K_U(x*,x*) − k*ᵀ G⁻¹ k*  (P*)
//   st.generalization_error;  // ⟨(f̄ − y*)² + var f⟩
//   st.accuracy;              // sign f̄ = y* (D = 1), argmax (D > 1)
//
//   attnpaths::OrderParameters gp = attnpaths::GpLimit(arch);   // N → ∞: U = U_GP
#pragma once

#include <Eigen/Core>
#include <limits>

#include "kernels/architecture.h"
#include "kernels/path_kernel.h"
#include "solver/order_parameters.h"

namespace attnpaths {

struct PredictorStatistics {
  Eigen::MatrixXd mean;      // P* × D
  Eigen::VectorXd variance;  // P*, the same for every output
  // Averaged over test points and outputs: (1/(P* D)) Σ_μ Σ_d [(f̄_d − y_d)² + var]
  // (theory.md §4; NaN without test labels).
  double generalization_error = std::numeric_limits<double>::quiet_NaN();
  // Fraction of test points with sign f̄ = y* (D = 1; f̄ = 0 counts as wrong) or
  // argmax f̄ = argmax y* (D > 1); NaN without test labels.
  double accuracy = std::numeric_limits<double>::quiet_NaN();
};

// Throws Error when shapes disagree or G = K_U + T I is not positive definite.
PredictorStatistics Predict(const PathKernel& train, const Eigen::Ref<const Eigen::MatrixXd>& Y,
                            double temperature, const Eigen::Ref<const Eigen::MatrixXd>& U1,
                            const PathInputs& test, const Eigen::MatrixXd* Y_test = nullptr);

// The all-widths-infinite order parameters U_GP (theory.md §2, §3).
OrderParameters GpLimit(const Architecture& arch);

// Accuracy and generalisation error of predictions against labels (theory.md §4).
double Accuracy(const Eigen::Ref<const Eigen::MatrixXd>& mean,
                const Eigen::Ref<const Eigen::MatrixXd>& Y);
double GeneralizationError(const Eigen::Ref<const Eigen::MatrixXd>& mean,
                           const Eigen::Ref<const Eigen::VectorXd>& variance,
                           const Eigen::Ref<const Eigen::MatrixXd>& Y);

}  // namespace attnpaths
