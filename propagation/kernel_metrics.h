// Rank and conditioning diagnostics of a token kernel (signal-propagation.md
// §II.3): how far a kernel Σ (m × m, tokens as rows and columns) has collapsed
// towards rank one.
//
//   attnpaths::KernelMetrics k = attnpaths::ComputeKernelMetrics(sigma);
//   k.mean_correlation;    // mean of ρ_ij = Σ_ij / √(Σ_ii Σ_jj) over i < j (→ 1: collapse)
//   k.effective_rank;      // (tr Σ)² / tr(Σ²), between 1 and m
//   k.rank_one_distance;   // ‖λ_2..m‖₂ / ‖λ‖₂ over the eigenvalues (0: rank one)
#pragma once

#include <Eigen/Core>
#include <limits>

namespace attnpaths {

struct KernelMetrics {
  static constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  // Off-diagonal correlations ρ_ij, i < j (NaN for one token).
  double mean_correlation = kNaN;
  double min_correlation = kNaN;
  double max_correlation = kNaN;
  double effective_rank = kNaN;  // (tr Σ)² / tr(Σ²)
  double rank_one_distance = kNaN;  // √(Σ_{k≥2} λ_k²) / √(Σ_k λ_k²), λ sorted by |λ| descending
  double min_eigenvalue = kNaN;    // smallest eigenvalue of Σ
  double max_eigenvalue = kNaN;    // largest eigenvalue of Σ
  double condition_number = kNaN;  // λ_max / λ_min (+inf when λ_min <= 0)
  double trace = kNaN;             // tr Σ
};

// The correlation matrix ρ_ij = Σ_ij / √(Σ_ii Σ_jj) (NaN where a diagonal entry is <= 0).
Eigen::MatrixXd CorrelationMatrix(const Eigen::Ref<const Eigen::MatrixXd>& sigma);

// Every metric of a symmetric Σ (only the lower triangle is read by the
// eigendecomposition). A kernel with a non-positive diagonal entry has NaN
// correlations.
KernelMetrics ComputeKernelMetrics(const Eigen::Ref<const Eigen::MatrixXd>& sigma);

}  // namespace attnpaths
