#include "solver/alignment.h"

#include <Eigen/Eigenvalues>
#include <algorithm>
#include <cmath>

#include "kernels/error.h"

namespace attnpaths {

bool AlignmentOptions::IsValid(std::string* error) const {
  if (components < 1) {
    if (error) *error = ErrorMessage("alignment.components", ToText(components), "a value >= 1");
    return false;
  }
  return true;
}

KernelAlignment AlignKernel(const Eigen::Ref<const Eigen::MatrixXd>& K,
                            const Eigen::Ref<const Eigen::MatrixXd>& Y,
                            const AlignmentOptions& options) {
  std::string why;
  if (!options.IsValid(&why)) throw Error(why);
  const Eigen::Index n = K.rows();
  Require(K.cols() == n && n >= 1, "kernel shape",
          std::to_string(K.rows()) + " x " + std::to_string(K.cols()),
          "a square (P D) x (P D) matrix, P >= 1");
  const Eigen::Index P = Y.rows(), D = Y.cols();
  Require(P * D == n && D >= 1, "labels shape", std::to_string(P) + " x " + std::to_string(D),
          D >= 1 && n % D == 0 ? std::to_string(n / D) + " x " + std::to_string(D)
                               : "P x D with P D = " + std::to_string(n) + " (the kernel's side)");
  Require(K.allFinite(), "kernel", "a non-finite entry", "finite entries");
  Require(Y.allFinite(), "labels", "a non-finite entry", "finite entries");
  // y = vec(Y), (μ, d) order (theory.md §9).
  const Eigen::MatrixXd Yt = Y.transpose();
  const Eigen::Map<const Eigen::VectorXd> y(Yt.data(), n);
  const double y2 = y.squaredNorm();
  Require(y2 > 0, "labels", "all zero", "a nonzero label vector");

  const Eigen::MatrixXd Ks = K.selfadjointView<Eigen::Lower>();
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(Ks);
  Require(eig.info() == Eigen::Success, "kernel eigen-decomposition", "no convergence",
          "a symmetric matrix Eigen can decompose");
  // Eigen sorts ascending; component k (descending) is column n-1-k.
  const Eigen::VectorXd lambda = eig.eigenvalues().reverse();
  Eigen::VectorXd proj = (eig.eigenvectors().transpose() * y).reverse();  // v_k · y, descending
  // A group of (numerically) equal eigenvalues: rotate its basis so that the
  // labels project on its first vector only.
  const double tol = 1e-10 * lambda.cwiseAbs().maxCoeff();
  for (Eigen::Index start = 0; start < n;) {
    Eigen::Index end = start + 1;
    while (end < n && lambda(start) - lambda(end) <= tol) ++end;
    if (end - start > 1) {
      const double norm = proj.segment(start, end - start).norm();
      proj.segment(start, end - start).setZero();
      proj(start) = norm;
    }
    start = end;
  }
  const Eigen::Index shown = std::min<Eigen::Index>(options.components, n);
  KernelAlignment a;
  a.eigenvalues = lambda.head(shown);
  a.overlap.resize(shown);
  a.cumulative.resize(shown);
  double acc = 0;
  for (Eigen::Index k = 0; k < shown; ++k) {
    a.overlap(k) = std::abs(proj(k)) / std::sqrt(static_cast<double>(P));  // theory.md §7
    acc += proj(k) * proj(k);
    a.cumulative(k) = acc / y2;
  }
  a.trace = eig.eigenvalues().sum();
  const double fro = Ks.norm();
  a.kernel_target_alignment = fro > 0 ? y.dot(Ks * y) / (fro * y2) : 0.0;
  return a;
}

}  // namespace attnpaths
