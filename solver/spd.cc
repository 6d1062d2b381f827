#include "solver/spd.h"

#include <Eigen/Cholesky>
#include <cmath>
#include <cstddef>
#include <limits>

#include "kernels/error.h"

extern "C" {
// LAPACK (Fortran ABI; the trailing size_t is the hidden length of `uplo`).
void dpotrf_(const char* uplo, const int* n, double* a, const int* lda, int* info, size_t);
void dpotrs_(const char* uplo, const int* n, const int* nrhs, const double* a, const int* lda,
             double* b, const int* ldb, int* info, size_t);
void dpotri_(const char* uplo, const int* n, double* a, const int* lda, int* info, size_t);
}

namespace attnpaths {

int BlasInt(Eigen::Index n) {
  Require(n <= std::numeric_limits<int>::max(), "matrix dimension", n,
          "at most 2^31 - 1 (32-bit BLAS)");
  return static_cast<int>(n);
}

bool CholeskyInPlace(Eigen::MatrixXd* G, SpdBackend backend) {
  if (backend == SpdBackend::kAuto) {
    backend = G->rows() <= kSmallSpd ? SpdBackend::kEigen : SpdBackend::kLapack;
  }
  if (backend == SpdBackend::kEigen) {
    const Eigen::LLT<Eigen::Ref<Eigen::MatrixXd>> llt(*G);
    return llt.info() == Eigen::Success;
  }
  const int n = BlasInt(G->rows());
  int info = 0;
  dpotrf_("L", &n, G->data(), &n, &info, 1);
  return info == 0;
}

void CholeskySolveInPlace(const Eigen::MatrixXd& L, Eigen::MatrixXd* B) {
  if (L.rows() <= kSmallSpd) {
    L.triangularView<Eigen::Lower>().solveInPlace(*B);
    L.triangularView<Eigen::Lower>().transpose().solveInPlace(*B);
    return;
  }
  const int n = BlasInt(L.rows()), nrhs = BlasInt(B->cols());
  int info = 0;
  dpotrs_("L", &n, &nrhs, L.data(), &n, B->data(), &n, &info, 1);
}

void CholeskySolveInPlace(const Eigen::MatrixXd& L, Eigen::VectorXd* b) {
  if (L.rows() <= kSmallSpd) {
    L.triangularView<Eigen::Lower>().solveInPlace(*b);
    L.triangularView<Eigen::Lower>().transpose().solveInPlace(*b);
    return;
  }
  const int n = BlasInt(L.rows()), nrhs = 1;
  int info = 0;
  dpotrs_("L", &n, &nrhs, L.data(), &n, b->data(), &n, &info, 1);
}

bool InverseFromCholeskyInPlace(Eigen::MatrixXd* L, SpdBackend backend) {
  if (backend == SpdBackend::kAuto) backend = SpdBackend::kLapack;
  if (backend == SpdBackend::kEigen) {
    Eigen::MatrixXd L_inverse = Eigen::MatrixXd::Identity(L->rows(), L->cols());
    L->triangularView<Eigen::Lower>().solveInPlace(L_inverse);
    L->noalias() = L_inverse.transpose() * L_inverse;
    return true;
  }
  const int n = BlasInt(L->rows());
  int info = 0;
  dpotri_("L", &n, L->data(), &n, &info, 1);
  return info == 0;
}

bool SpdFactor::Factorize(Eigen::MatrixXd A) {
  factor_ = std::move(A);
  ok_ = false;
  if (factor_.rows() == 0) {
    ok_ = true;
    log_det_ = 0;
    return true;
  }
  if (!factor_.allFinite()) return false;
  if (!CholeskyInPlace(&factor_)) return false;
  log_det_ = 2.0 * factor_.diagonal().array().log().sum();
  ok_ = std::isfinite(log_det_);
  return ok_;
}

Eigen::MatrixXd SpdFactor::Solve(const Eigen::Ref<const Eigen::MatrixXd>& B) const {
  Eigen::MatrixXd X = B;
  if (factor_.rows() == 0 || X.cols() == 0) return X;
  CholeskySolveInPlace(factor_, &X);
  return X;
}

Eigen::MatrixXd SpdFactor::Inverse() const {
  Eigen::MatrixXd inv = factor_;
  if (inv.rows() == 0) return inv;
  InverseFromCholeskyInPlace(&inv);
  inv.triangularView<Eigen::StrictlyUpper>() = inv.transpose();
  return inv;
}

}  // namespace attnpaths
