#include "propagation/kernel_metrics.h"

#include <Eigen/Eigenvalues>
#include <algorithm>
#include <cmath>

namespace attnpaths {

Eigen::MatrixXd CorrelationMatrix(const Eigen::Ref<const Eigen::MatrixXd>& sigma) {
  const Eigen::Index m = sigma.rows();
  Eigen::MatrixXd rho(m, m);
  for (Eigen::Index j = 0; j < m; ++j) {
    for (Eigen::Index i = 0; i < m; ++i) {
      const double d = sigma(i, i) * sigma(j, j);
      rho(i, j) =
          (sigma(i, i) > 0 && sigma(j, j) > 0) ? sigma(i, j) / std::sqrt(d) : KernelMetrics::kNaN;
    }
  }
  return rho;
}

KernelMetrics ComputeKernelMetrics(const Eigen::Ref<const Eigen::MatrixXd>& sigma) {
  KernelMetrics k;
  const Eigen::Index m = sigma.rows();
  if (m == 0) return k;
  if (m > 1) {
    const Eigen::MatrixXd rho = CorrelationMatrix(sigma);
    double sum = 0, lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (Eigen::Index j = 1; j < m; ++j) {
      for (Eigen::Index i = 0; i < j; ++i) {
        sum += rho(i, j);
        lo = std::min(lo, rho(i, j));
        hi = std::max(hi, rho(i, j));
      }
    }
    const bool finite = std::isfinite(sum);
    k.mean_correlation =
        finite ? sum / (0.5 * static_cast<double>(m * (m - 1))) : KernelMetrics::kNaN;
    k.min_correlation = finite ? lo : KernelMetrics::kNaN;
    k.max_correlation = finite ? hi : KernelMetrics::kNaN;
  }
  k.trace = sigma.trace();
  const double tr2 = sigma.squaredNorm();  // tr(Σ²) = ‖Σ‖_F² for symmetric Σ
  k.effective_rank = tr2 > 0 ? k.trace * k.trace / tr2 : KernelMetrics::kNaN;
  if (!sigma.allFinite()) return k;
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(sigma, Eigen::EigenvaluesOnly);
  const Eigen::VectorXd& lambda = eig.eigenvalues();  // ascending
  k.min_eigenvalue = lambda(0);
  k.max_eigenvalue = lambda(m - 1);
  k.condition_number =
      lambda(0) > 0 ? lambda(m - 1) / lambda(0) : std::numeric_limits<double>::infinity();
  const double total = lambda.squaredNorm();
  const double top = lambda.cwiseAbs().maxCoeff();
  k.rank_one_distance =
      total > 0 ? std::sqrt(std::max(0.0, total - top * top) / total) : KernelMetrics::kNaN;
  return k;
}

}  // namespace attnpaths
