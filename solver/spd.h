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
// Whether a dense product of a few hundred rows is faster in Eigen than in the
// linked BLAS: true when Eigen is built with AVX-512 (ATTNPATHS_NATIVE on such a
// CPU) and OpenBLAS does not run AVX-512 kernels (SkylakeX, Cooperlake,
// SapphireRapids) — e.g. OpenBLAS 0.3.21 takes this project's CPU for a
// generic x86-64 ("Prescott", 13 GFLOP/s) unless OPENBLAS_CORETYPE says
// otherwise, where Eigen runs 100³ products at 55–70 GFLOP/s; with SkylakeX
// kernels OpenBLAS is ahead (bench/results/solver_bench.md, "AVX-512 and the
// Hessian"). Decided once per process.
bool EigenGemmIsFaster();
// C ← alpha op(A) op(B) + beta C, BLAS dgemm's conventions (column-major,
// op = 'N' or 'T', leading dimensions), through Eigen when EigenGemmIsFaster(),
// else through BLAS. C must not overlap A or B.
void Gemm(char transa, char transb, int m, int n, int k, double alpha, const double* a, int lda,
          const double* b, int ldb, double beta, double* c, int ldc);

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
// Up to this size InverseFromCholeskyInPlace runs in Eigen (kAuto): Solve runs
// OpenBLAS single-threaded up to P D = 1024 anyway.
constexpr Eigen::Index kEigenInverseSize = 1024;
// L ← (L Lᵀ)⁻¹ in the lower triangle (the strict upper one is not defined);
// false on a zero pivot (LAPACK) or a zero diagonal entry (Eigen). kEigen:
// L⁻¹ and then the lower triangle of L⁻ᵀ L⁻¹, both by recursive halving
// (LAPACK's trtri and lauum, on Eigen's blocked triangular products); kLapack:
// dpotri. kAuto is Eigen up to kEigenInverseSize rows: single-threaded
// OpenBLAS 0.3.21 inverts 100-row triangles entry by entry (dtrti2), and the
// recursion is 1.6–1.9× faster at 100 rows and 2× at 200–400
// (bench/results/solver_bench.md, "AVX-512 and the Hessian").
bool InverseFromCholeskyInPlace(Eigen::MatrixXd* L, SpdBackend backend = SpdBackend::kAuto);

// A ← A⁻¹ (both triangles) for symmetric positive definite A, of which only
// the lower triangle is read, and *log_det ← ln det A: block LDLᵀ by halving
// (A⁻¹ from A11⁻¹ and the inverse of the Schur complement S = A22 − A21 A11⁻¹ A12,
// ln det A = ln det A11 + ln det S), every step a GEMM, down to 24-row blocks
// inverted through their Cholesky factor. The products of blocks up to 128
// rows go through Gemm (at most 64³ each, sizes OpenBLAS computes on the
// calling thread), the larger ones through Eigen on the calling thread; nothing allocated per call
// once the per-thread scratch is large enough. 4/3 n³ flops against n³ for Cholesky, trtri and
// lauum, but 1.5× faster at 100 rows, where those triangular steps run at a fifth of the GEMM rate
// (bench/results/solver_bench.md, "A GEMM-speed inverse"). The price is accuracy: the Schur
// complements are formed with explicit inverses, so the error grows faster with the condition
// number than through the Cholesky factor: on Grams of the form low rank + T·I (a solve's),
// relative errors of A⁻¹ of 1.2e-14 against 3.7e-15 at κ₁ = 2e3, 1.4e-13 against 7e-15 at κ₁
// = 5.5e3, 1.5e-12 against 2.3e-14 at κ₁ = 1.8e4, and 8e-10 against 1.5e-12 at κ₂ = 4e4. With
// `condition` given, *condition ← κ₁ = ‖A‖₁ ‖A⁻¹‖₁ (exact, from both matrices) for the caller to
// refuse the result above its limit (kInverseConditionLimit); a non-finite entry in the lower
// triangle then returns false at once with *condition = ∞ (the caller need not check A first).
// False when A is not numerically positive definite (A is then not usable).
bool SpdInverseInPlace(Eigen::MatrixXd* A, double* log_det, double* condition = nullptr);
// The largest κ₁ at which a solve takes SpdInverseInPlace's G⁻¹ (TrainingGram;
// above it G is factorised): below it the error stayed within 50 times that
// of the route through the Cholesky factor, and below 1e-12 relative
// (tests/solver/spd_test.cc).
constexpr double kInverseConditionLimit = 1e4;

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
