#include "solver/spd.h"

#include <Eigen/Cholesky>
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstddef>
#include <limits>
#include <string>

#include "kernels/error.h"

extern "C" {
// LAPACK (Fortran ABI; the trailing size_t is the hidden length of `uplo`).
void dpotrf_(const char* uplo, const int* n, double* a, const int* lda, int* info, size_t);
void dpotrs_(const char* uplo, const int* n, const int* nrhs, const double* a, const int* lda,
             double* b, const int* ldb, int* info, size_t);
void dpotri_(const char* uplo, const int* n, double* a, const int* lda, int* info, size_t);
void dgemm_(const char* transa, const char* transb, const int* m, const int* n, const int* k,
            const double* alpha, const double* a, const int* lda, const double* b, const int* ldb,
            const double* beta, double* c, const int* ldc, size_t, size_t);
// OpenBLAS only (weak: null with another BLAS): the kernel set it chose.
char* openblas_get_corename(void) __attribute__((weak));
}

namespace attnpaths {

int BlasInt(Eigen::Index n) {
  Require(n <= std::numeric_limits<int>::max(), "matrix dimension", n,
          "at most 2^31 - 1 (32-bit BLAS)");
  return static_cast<int>(n);
}

bool EigenGemmIsFaster() {
#ifdef EIGEN_VECTORIZE_AVX512
  static const bool faster = [] {
    if (openblas_get_corename == nullptr) return false;  // another BLAS: trust it
    std::string core = openblas_get_corename();
    std::transform(core.begin(), core.end(), core.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    for (const char* wide : {"skylakex", "cooperlake", "sapphirerapids"}) {
      if (core == wide) return false;
    }
    return true;
  }();
  return faster;
#else
  return false;
#endif
}

void Gemm(char transa, char transb, int m, int n, int k, double alpha, const double* a, int lda,
          const double* b, int ldb, double beta, double* c, int ldc) {
  if (!EigenGemmIsFaster()) {
    dgemm_(&transa, &transb, &m, &n, &k, &alpha, a, &lda, b, &ldb, &beta, c, &ldc, 1, 1);
    return;
  }
  using ConstMap = Eigen::Map<const Eigen::MatrixXd, 0, Eigen::OuterStride<>>;
  const bool ta = transa != 'N' && transa != 'n', tb = transb != 'N' && transb != 'n';
  const ConstMap A(a, ta ? k : m, ta ? m : k, Eigen::OuterStride<>(lda));
  const ConstMap B(b, tb ? n : k, tb ? k : n, Eigen::OuterStride<>(ldb));
  Eigen::Map<Eigen::MatrixXd, 0, Eigen::OuterStride<>> C(c, m, n, Eigen::OuterStride<>(ldc));
  if (beta == 0) {
    C.setZero();
  } else if (beta != 1) {
    C *= beta;
  }
  if (ta && tb) {
    C.noalias() += alpha * A.transpose() * B.transpose();
  } else if (ta) {
    C.noalias() += alpha * A.transpose() * B;
  } else if (tb) {
    C.noalias() += alpha * A * B.transpose();
  } else {
    C.noalias() += alpha * A * B;
  }
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

namespace {

// Below this size the recursions below work entry by entry.
constexpr Eigen::Index kRecursionBase = 24;
using Square = Eigen::Ref<Eigen::MatrixXd>;

// The base case of the recursions below: the lower triangle of X ← L⁻¹
// column by column, X_jj = 1/L_jj, X_ij = −(Σ_{j≤k<i} L_ik X_kj)/L_ii. X may
// be L itself: column j reads only L's columns ≥ j (not yet overwritten) and
// X's entries of column j above row i (already computed). False on a zero pivot.
bool InvertLowerByColumns(Square L, Square X) {
  const Eigen::Index n = L.rows();
  for (Eigen::Index j = 0; j < n; ++j) {
    if (!(L(j, j) != 0)) return false;
    X(j, j) = 1.0 / L(j, j);
    for (Eigen::Index i = j + 1; i < n; ++i) {
      double s = 0;
      for (Eigen::Index k = j; k < i; ++k) s += L(i, k) * X(k, j);
      X(i, j) = -s / L(i, i);
    }
  }
  return true;
}

// The lower triangle of L ← L⁻¹ (LAPACK's trtri, recursively): for
// L = [A 0; B C], L⁻¹ = [A⁻¹ 0; −C⁻¹ B A⁻¹ C⁻¹], the off-diagonal block by two
// triangular products (Eigen's blocked kernels) through `scratch` (at least
// ⌈n/2⌉² doubles). False on a zero pivot.
bool TriangularInverseInPlace(Square L, double* scratch) {
  const Eigen::Index n = L.rows();
  if (n <= kRecursionBase) return InvertLowerByColumns(L, L);
  const Eigen::Index n1 = n / 2, n2 = n - n1;
  auto A = L.topLeftCorner(n1, n1);
  auto B = L.bottomLeftCorner(n2, n1);
  auto C = L.bottomRightCorner(n2, n2);
  if (!TriangularInverseInPlace(A, scratch) || !TriangularInverseInPlace(C, scratch)) {
    return false;
  }
  Eigen::Map<Eigen::MatrixXd> CB(scratch, n2, n1);
  CB.noalias() = C.triangularView<Eigen::Lower>() * B;
  B.noalias() = -CB * A.triangularView<Eigen::Lower>();
  return true;
}

// The lower triangle of X ← that of Xᵀ X for lower triangular X (LAPACK's
// lauum): for X = [A 0; B C], XᵀX = [AᵀA + BᵀB, ·; CᵀB, CᵀC].
void LowerGramInPlace(Square X, double* scratch) {
  const Eigen::Index n = X.rows();
  if (n <= kRecursionBase) {
    // (XᵀX)_ij = Σ_{k≥i} X_ki X_kj (i ≥ j): column j left to right, each
    // entry from entries of X not yet overwritten.
    for (Eigen::Index j = 0; j < n; ++j) {
      for (Eigen::Index i = j; i < n; ++i) {
        double s = 0;
        for (Eigen::Index k = i; k < n; ++k) s += X(k, i) * X(k, j);
        X(i, j) = s;
      }
    }
    return;
  }
  const Eigen::Index n1 = n / 2, n2 = n - n1;
  auto A = X.topLeftCorner(n1, n1);
  auto B = X.bottomLeftCorner(n2, n1);
  auto C = X.bottomRightCorner(n2, n2);
  LowerGramInPlace(A, scratch);
  A.selfadjointView<Eigen::Lower>().rankUpdate(B.transpose());
  Eigen::Map<Eigen::MatrixXd> CtB(scratch, n2, n1);
  CtB.noalias() = C.triangularView<Eigen::Lower>().transpose() * B;
  B = CtB;
  LowerGramInPlace(C, scratch);
}

// The base case of SchurInverse: A (n ≤ kRecursionBase) ← A⁻¹, both
// triangles, from its lower triangle, in a contiguous copy: L column by column
// (right-looking, so the inner loops run down contiguous columns), L⁻¹ by
// forward substitution on the unit columns, then A⁻¹ = L⁻ᵀ L⁻¹ as dot products
// of L⁻¹'s columns. Adds ln det A = 2 Σ ln L_jj to *log_det. False when A is
// not numerically positive definite.
bool SmallSpdInverse(Square A, double* log_det) {
  const Eigen::Index n = A.rows();
  double l[kRecursionBase * kRecursionBase], w[kRecursionBase * kRecursionBase];
  for (Eigen::Index j = 0; j < n; ++j) {
    for (Eigen::Index i = j; i < n; ++i) l[i + j * n] = A(i, j);
  }
  for (Eigen::Index j = 0; j < n; ++j) {
    double* __restrict cj = l + j * n;
    const double d = cj[j];
    if (!(d > 0) || !std::isfinite(d)) return false;
    const double root = std::sqrt(d), scale = 1.0 / root;
    cj[j] = root;
    *log_det += 2.0 * std::log(root);
    for (Eigen::Index i = j + 1; i < n; ++i) cj[i] *= scale;
    for (Eigen::Index k = j + 1; k < n; ++k) {
      double* __restrict ck = l + k * n;
      const double f = cj[k];
      for (Eigen::Index i = k; i < n; ++i) ck[i] -= cj[i] * f;
    }
  }
  for (Eigen::Index j = 0; j < n; ++j) {
    double* __restrict wj = w + j * n;
    for (Eigen::Index i = j; i < n; ++i) wj[i] = 0;
    wj[j] = 1.0;
    for (Eigen::Index k = j; k < n; ++k) {
      const double xk = wj[k] / l[k + k * n];
      wj[k] = xk;
      const double* __restrict lk = l + k * n;
      for (Eigen::Index i = k + 1; i < n; ++i) wj[i] -= lk[i] * xk;
    }
  }
  for (Eigen::Index j = 0; j < n; ++j) {
    for (Eigen::Index i = j; i < n; ++i) {
      const double* __restrict wi = w + i * n;
      const double* __restrict wj = w + j * n;
      double s = 0;
      for (Eigen::Index k = i; k < n; ++k) s += wi[k] * wj[k];
      A(i, j) = s;
      A(j, i) = s;
    }
  }
  return true;
}

// Above this size the symmetric products of SchurInverse form only their
// lower triangle (Eigen's triangular-result products); below it the full
// GEMM is faster (bench/results/solver_bench.md, "A GEMM-speed inverse").
constexpr Eigen::Index kTriangularUpdate = 128;

// A ← A⁻¹ (both triangles) for symmetric positive definite A, of which only
// the lower triangle is read: block LDLᵀ by halving. For A = [A11 ·; A21 A22],
// with X = A21 A11⁻¹ and the Schur complement S = A22 − X A21ᵀ,
//   A⁻¹ = [A11⁻¹ + Xᵀ S⁻¹ X, −(S⁻¹ X)ᵀ; −S⁻¹ X, S⁻¹],   ln det A = ln det A11 + ln det S.
// Four GEMMs of (n/2)³ per level (4/3 n³ flops in all against n³ for
// Cholesky, trtri and lauum) that run at GEMM speed where the triangular
// kernels do not. `scratch` holds at least n²/3 doubles. Adds ln det A to
// *log_det. False when A is not numerically positive definite.
bool SchurInverse(Square A, double* log_det, double* scratch) {
  const Eigen::Index n = A.rows();
  if (n <= kRecursionBase) return SmallSpdInverse(A, log_det);
  const Eigen::Index n1 = n / 2, n2 = n - n1;
  auto A11 = A.topLeftCorner(n1, n1);
  auto A21 = A.bottomLeftCorner(n2, n1);
  auto A22 = A.bottomRightCorner(n2, n2);
  if (!SchurInverse(A11, log_det, scratch)) return false;  // A11 ← A11⁻¹
  Eigen::Map<Eigen::MatrixXd> X(scratch, n2, n1);
  const int m1 = static_cast<int>(n1), m2 = static_cast<int>(n2);
  const int ld = static_cast<int>(A.outerStride());
  // Below kTriangularUpdate the full products go through Gemm (OpenBLAS's
  // small-matrix kernels where it has them: 1.2–1.5× Eigen's at 25–64 rows,
  // bench/results/solver_bench.md).
  const bool full = n <= kTriangularUpdate;
  if (full) {
    Gemm('N', 'N', m2, m1, m1, 1.0, A21.data(), ld, A11.data(), ld, 0.0, X.data(), m2);
    // The upper triangle of A22 is not read below.
    Gemm('N', 'T', m2, m2, m1, -1.0, X.data(), m2, A21.data(), ld, 1.0, A22.data(), ld);
  } else {
    X.noalias() = A21 * A11;
    A22.triangularView<Eigen::Lower>() -= X * A21.transpose();
  }
  if (!SchurInverse(A22, log_det, scratch + n2 * n1)) return false;  // A22 ← S⁻¹
  if (full) {
    Gemm('N', 'N', m2, m1, m2, -1.0, A22.data(), ld, X.data(), m2, 0.0, A21.data(), ld);
    Gemm('T', 'N', m1, m1, m2, -1.0, X.data(), m2, A21.data(), ld, 1.0, A11.data(), ld);
  } else {
    A21.noalias() = -A22 * X;
    A11.triangularView<Eigen::Lower>() -= X.transpose() * A21;
  }
  A11.triangularView<Eigen::StrictlyUpper>() = A11.transpose();  // exactly symmetric
  A.topRightCorner(n1, n2) = A21.transpose();
  return std::isfinite(*log_det);
}

}  // namespace

bool InverseFromCholeskyInPlace(Eigen::MatrixXd* L, SpdBackend backend) {
  if (backend == SpdBackend::kAuto) {
    backend = L->rows() <= kEigenInverseSize ? SpdBackend::kEigen : SpdBackend::kLapack;
  }
  if (backend == SpdBackend::kEigen) {
    // G⁻¹ = L⁻ᵀ L⁻¹: L⁻¹, then the lower triangle of its Gram, both in place
    // (the off-diagonal products in a scratch kept per thread: nothing is
    // allocated once it is large enough).
    thread_local Eigen::VectorXd scratch;
    const Eigen::Index half = (L->rows() + 1) / 2;
    if (scratch.size() < half * half) scratch.resize(half * half);
    if (!TriangularInverseInPlace(*L, scratch.data())) return false;
    LowerGramInPlace(*L, scratch.data());
    return true;
  }
  const int n = BlasInt(L->rows());
  int info = 0;
  dpotri_("L", &n, L->data(), &n, &info, 1);
  return info == 0;
}

bool SpdInverseInPlace(Eigen::MatrixXd* A, double* log_det, double* condition) {
  const Eigen::Index n = A->rows();
  *log_det = 0;
  if (condition != nullptr) *condition = 1;
  if (n == 0) return true;
  // ‖A‖₁ from the lower triangle: column j's sum is Σ_{i≥j} |A_ij| + Σ_{i<j} |A_ji|.
  double norm = 0;
  if (condition != nullptr) {
    Eigen::VectorXd sums = Eigen::VectorXd::Zero(n);
    for (Eigen::Index j = 0; j < n; ++j) {
      const auto column = A->col(j).tail(n - j).cwiseAbs();
      sums(j) += column.sum();
      sums.tail(n - j - 1) += column.tail(n - j - 1);
    }
    // The sum of every |entry| is finite exactly when every entry is (short
    // of overflow near 1e308, which reports too): a non-finite lower triangle
    // is refused before any work, and Eigen's maxCoeff never sees a NaN.
    if (!std::isfinite(sums.sum())) {
      *condition = std::numeric_limits<double>::infinity();
      return false;
    }
    norm = sums.maxCoeff();
  }
  thread_local Eigen::VectorXd scratch;
  const Eigen::Index need = (n * n) / 3 + 2 * n + 16;  // Σ over the levels of ⌈m/2⌉⌊m/2⌋
  if (scratch.size() < need) scratch.resize(need);
  if (!SchurInverse(*A, log_det, scratch.data())) return false;
  if (condition != nullptr) *condition = norm * A->cwiseAbs().colwise().sum().maxCoeff();
  return true;
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
