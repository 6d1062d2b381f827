// Accuracy and generalisation error of a predictor against labels — the one
// rule for the theory (solver/), the samples (sampler/), the trained network
// (trainer/) and the Python module (theory.md §4; several outputs §9).
//
//   Eigen::MatrixXd f = ..., var = ..., Y = ...;           // P* × D each
//   double acc = attnpaths::Accuracy(f, Y);                 // sign (D = 1) or argmax (D > 1)
//   double eps = attnpaths::GeneralizationError(f, var, Y); // ⟨(f̄_d − y_d)² + Σ_dd⟩
//   double mse = attnpaths::MeanSquaredError(f, Y);         // ⟨(f̄_d − y_d)²⟩
//
// Shape convention: one row per test point μ, one column per output d (a
// P*-vector is a P* × 1 matrix). Conventions:
//  * D = 1: point μ is right when f̄_μ and y_μ have the same strict sign; f̄ = 0
//    (and y = 0, or a NaN on either side) counts as wrong (theory.md §4).
//  * D > 1: right when argmax_d f̄_μd = argmax_d y_μd; ties go to the lowest
//    output d (Eigen's maxCoeff), on both sides.
//  * Averages run over points and outputs, (1/(P* D)) Σ_μ Σ_d (theory.md §9).
//  * No test points (P* = 0): every metric is NaN (there is nothing to average).
// Shapes that disagree throw Error naming the field.
#pragma once

#include <Eigen/Core>

namespace attnpaths {

// Fraction of points classified right (conventions above). mean and Y: P* × D.
double Accuracy(const Eigen::Ref<const Eigen::MatrixXd>& mean,
                const Eigen::Ref<const Eigen::MatrixXd>& Y);

// (1/(P* D)) Σ_μ Σ_d (f̄_μd − y_μd)², computed as ‖f̄ − Y‖² / (P* D).
double MeanSquaredError(const Eigen::Ref<const Eigen::MatrixXd>& mean,
                        const Eigen::Ref<const Eigen::MatrixXd>& Y);

// ε = (1/(P* D)) Σ_μ Σ_d [(f̄_μd − y_μd)² + Σ_dd(x*_μ)] (theory.md §4, §9),
// computed as MeanSquaredError(mean, Y) + the mean of `variance`. `variance`
// is P* × D, or P* × 1 when every output shares it.
double GeneralizationError(const Eigen::Ref<const Eigen::MatrixXd>& mean,
                           const Eigen::Ref<const Eigen::MatrixXd>& variance,
                           const Eigen::Ref<const Eigen::MatrixXd>& Y);

}  // namespace attnpaths
