// SpdFactor — Cholesky factorisation of a symmetric positive definite matrix
// through LAPACK (potrf / potrs / potri), or Eigen on the calling thread up to
// kSmallSpd rows, used for G = K_U + T·I (theory.md §3). The in-place routines
// below are the same steps for callers that keep their own scratch matrices.
//
//   attnpaths::SpdFactor g;
//   if (!g.Factorize(K + T * I)) { /* not positive definite: report, don't guess */ }
//   Eigen::MatrixXd alpha = g.Solve(Y);      // G⁻¹ Y
//   double ld = g.log_det();                 // ln det G
//   Eigen::MatrixXd Ginv = g.Inverse();      // G⁻¹ (full, symmetric)
#pragma once

#include <Eigen/Core>

namespace attnpaths {

// Up to this size the factorisations run in Eigen on the calling thread:
// waking OpenBLAS' threads costs more than the work there, and far more on a
// busy machine (bench/core_bench: the demo's solve).
constexpr Eigen::Index kSmallSpd = 256;

// n as the 32-bit int of BLAS/LAPACK; throws Error beyond 2^31 - 1.
int BlasInt(Eigen::Index n);
// Which library runs a step: kAuto is Eigen up to kSmallSpd rows while OpenBLAS
// may use several threads, else LAPACK (see InverseFromCholeskyInPlace).
enum class SpdBackend { kAuto, kEigen, kLapack };

// Cholesky factor L of the lower triangle of G, in place (lower triangle);
// false when G is not numerically positive definite. kAuto takes Eigen up to
// kSmallSpd rows, LAPACK above. (Single-threaded, dpotrf was ahead of Eigen's
// LLT even at 100 rows, 21 against 28 µs, bench/results/solver_bench.md "Lean
// evaluations"; the choice stays by size alone so that a result never depends
// on OpenBLAS's thread count.)
bool CholeskyInPlace(Eigen::MatrixXd* G, SpdBackend backend = SpdBackend::kAuto);
// B ← (L Lᵀ)⁻¹ B for the lower factor L of CholeskyInPlace.
void CholeskySolveInPlace(const Eigen::MatrixXd& L, Eigen::MatrixXd* B);
void CholeskySolveInPlace(const Eigen::MatrixXd& L, Eigen::VectorXd* b);
// L ← (L Lᵀ)⁻¹ in the lower triangle (the strict upper one is not defined).
// kAuto is LAPACK's dpotri at every size: single-threaded (as inside Solve up
// to P D = 1024) it beats Eigen's triangular solve and full GEMM 1.7× at 100
// rows and 4× at 1000 (bench/results/solver_bench.md, "Lean evaluations").
bool InverseFromCholeskyInPlace(Eigen::MatrixXd* L, SpdBackend backend = SpdBackend::kAuto);

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
