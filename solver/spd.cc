#include "solver/spd.h"

#include <cmath>
#include <cstddef>

extern "C" {
// LAPACK (Fortran ABI; the trailing size_t is the hidden length of `uplo`).
void dpotrf_(const char* uplo, const int* n, double* a, const int* lda, int* info, size_t);
void dpotrs_(const char* uplo, const int* n, const int* nrhs, const double* a, const int* lda,
             double* b, const int* ldb, int* info, size_t);
void dpotri_(const char* uplo, const int* n, double* a, const int* lda, int* info, size_t);
}

namespace attnpaths {

bool SpdFactor::Factorize(Eigen::MatrixXd A) {
  factor_ = std::move(A);
  ok_ = false;
  const int n = static_cast<int>(factor_.rows());
  if (n == 0) {
    ok_ = true;
    log_det_ = 0;
    return true;
  }
  if (!factor_.allFinite()) return false;
  int info = 0;
  dpotrf_("L", &n, factor_.data(), &n, &info, 1);
  if (info != 0) return false;
  log_det_ = 2.0 * factor_.diagonal().array().log().sum();
  ok_ = std::isfinite(log_det_);
  return ok_;
}

Eigen::MatrixXd SpdFactor::Solve(const Eigen::Ref<const Eigen::MatrixXd>& B) const {
  Eigen::MatrixXd X = B;
  const int n = static_cast<int>(factor_.rows());
  const int nrhs = static_cast<int>(X.cols());
  if (n == 0 || nrhs == 0) return X;
  int info = 0;
  dpotrs_("L", &n, &nrhs, factor_.data(), &n, X.data(), &n, &info, 1);
  return X;
}

Eigen::MatrixXd SpdFactor::Inverse() const {
  Eigen::MatrixXd inv = factor_;
  const int n = static_cast<int>(inv.rows());
  if (n == 0) return inv;
  int info = 0;
  dpotri_("L", &n, inv.data(), &n, &info, 1);
  inv.triangularView<Eigen::StrictlyUpper>() = inv.transpose();
  return inv;
}

}  // namespace attnpaths
