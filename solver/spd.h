// SpdFactor — Cholesky factorisation of a symmetric positive definite matrix
// through LAPACK (potrf / potrs / potri), used for G = K_U + T·I (theory.md §3).
//
//   attnpaths::SpdFactor g;
//   if (!g.Factorize(K + T * I)) { /* not positive definite: report, don't guess */ }
//   Eigen::MatrixXd alpha = g.Solve(Y);      // G⁻¹ Y
//   double ld = g.log_det();                 // ln det G
//   Eigen::MatrixXd Ginv = g.Inverse();      // G⁻¹ (full, symmetric)
#pragma once

#include <Eigen/Core>

namespace attnpaths {

class SpdFactor {
 public:
  // Factorises A (only its lower triangle is read). Returns false, and keeps
  // nothing usable, when A is not numerically positive definite.
  bool Factorize(Eigen::MatrixXd A);
  bool ok() const { return ok_; }
  Eigen::Index size() const { return factor_.rows(); }
  double log_det() const { return log_det_; }
  // A⁻¹ B.
  Eigen::MatrixXd Solve(const Eigen::Ref<const Eigen::MatrixXd>& B) const;
  // A⁻¹, both triangles filled.
  Eigen::MatrixXd Inverse() const;
  // The lower Cholesky factor (upper triangle undefined).
  const Eigen::MatrixXd& factor() const { return factor_; }

 private:
  Eigen::MatrixXd factor_;
  double log_det_ = 0;
  bool ok_ = false;
};

}  // namespace attnpaths
