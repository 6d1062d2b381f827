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
                            const Eigen::Ref<const Eigen::MatrixXd>& y,
                            const AlignmentOptions& options) {
  std::string why;
  if (!options.IsValid(&why)) throw Error(why);
  const Eigen::Index P = K.rows();
  Require(K.cols() == P && P >= 1, "kernel shape",
          std::to_string(K.rows()) + " x " + std::to_string(K.cols()),
          "a square P x P matrix, P >= 1");
  Require(y.rows() == P && y.cols() == 1, "labels shape",
          std::to_string(y.rows()) + " x " + std::to_string(y.cols()),
          std::to_string(P) + " x 1 (one label column per training example)");
  Require(K.allFinite(), "kernel", "a non-finite entry", "finite entries");
  Require(y.allFinite(), "labels", "a non-finite entry", "finite entries");
  const double y2 = y.squaredNorm();
  Require(y2 > 0, "labels", "all zero", "a nonzero label vector");

  const Eigen::MatrixXd Ks = K.selfadjointView<Eigen::Lower>();
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(Ks);
  Require(eig.info() == Eigen::Success, "kernel eigen-decomposition", "no convergence",
          "a symmetric matrix Eigen can decompose");
  // Eigen sorts ascending; component k (descending) is column P-1-k.
  const Eigen::VectorXd proj = eig.eigenvectors().transpose() * y.col(0);  // v_k · y, ascending
  const Eigen::Index n = std::min<Eigen::Index>(options.components, P);
  KernelAlignment a;
  a.eigenvalues.resize(n);
  a.overlap.resize(n);
  a.cumulative.resize(n);
  double acc = 0;
  for (Eigen::Index k = 0; k < n; ++k) {
    const Eigen::Index j = P - 1 - k;
    a.eigenvalues(k) = eig.eigenvalues()(j);
    a.overlap(k) = std::abs(proj(j)) / std::sqrt(static_cast<double>(P));  // theory.md §7
    acc += proj(j) * proj(j);
    a.cumulative(k) = acc / y2;
  }
  a.trace = eig.eigenvalues().sum();
  const double fro = Ks.norm();
  a.kernel_target_alignment = fro > 0 ? y.col(0).dot(Ks * y.col(0)) / (fro * y2) : 0.0;
  return a;
}

}  // namespace attnpaths
