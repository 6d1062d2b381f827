#include "solver/action.h"

#include <Eigen/Cholesky>
#include <cmath>
#include <cstddef>
#include <mutex>

#include "kernels/error.h"
#include "solver/order_parameters.h"
#include "solver/spd.h"

namespace attnpaths {

void CheckLabels(const Eigen::Ref<const Eigen::MatrixXd>& Y, Eigen::Index P, const char* field) {
  Require(Y.rows() == P, std::string(field) + " rows", Y.rows(),
          std::to_string(P) + " (one label row per example of X)");
  Require(Y.cols() >= 1, std::string(field) + " columns", Y.cols(), "at least 1 output");
  for (Eigen::Index i = 0; i < Y.rows(); ++i) {
    for (Eigen::Index j = 0; j < Y.cols(); ++j) {
      Require(std::isfinite(Y(i, j)),
              std::string(field) + "[" + std::to_string(i) + "," + std::to_string(j) + "]", Y(i, j),
              "a finite number");
    }
  }
}

// Scratch matrices of the energy term, reused while their size holds.
struct Action::Workspace {
  std::mutex mutex;           // held by the evaluation using the matrices
  Eigen::MatrixXd work;       // factored, P × Htot·N0: Φ = Ξ (C ⊗ I), then Z = L⁻¹ Ξ
  Eigen::MatrixXd G;          // P × P: G = K_U + T I, then L (lower); precomputed: then R
  Eigen::MatrixXd L_inverse;  // factored, P × P: L⁻¹ (lower)
};

Action::Action(const Architecture& arch, const PathKernel& kernel,
               const Eigen::Ref<const Eigen::MatrixXd>& Y, double temperature)
    : arch_(arch),
      kernel_(kernel),
      Y_(Y),
      temperature_(temperature),
      workspace_(std::make_shared<Workspace>()) {
  arch.ValidateHyperparameters();
  Require(std::isfinite(temperature) && temperature >= 0, "temperature", temperature,
          "a finite value >= 0");
  Require(kernel.Htot() == arch.Htot(), "path kernel paths", kernel.Htot(),
          std::to_string(arch.Htot()) + " (Htot of the architecture)");
  Require(kernel.P() >= 1, "training set size P", kernel.P(), "at least 1 example");
  CheckLabels(Y_, kernel.P(), "y");
}

namespace {

// ln det and inverse of a small SPD matrix, and its lower Cholesky factor when
// `factor` is given; false when not positive definite.
bool SmallSpd(const Eigen::MatrixXd& U, double* log_det, Eigen::MatrixXd* inverse,
              Eigen::MatrixXd* factor = nullptr) {
  Eigen::LLT<Eigen::MatrixXd> llt(U);
  if (llt.info() != Eigen::Success) return false;
  const auto d = llt.matrixLLT().diagonal();
  if ((d.array() <= 0).any()) return false;
  *log_det = 2.0 * d.array().log().sum();
  if (inverse) *inverse = llt.solve(Eigen::MatrixXd::Identity(U.rows(), U.cols()));
  if (factor) *factor = llt.matrixL();
  return std::isfinite(*log_det);
}

// The energy E = D ln det G + tr(Yᵀ G⁻¹ Y), G = K_U + T I, and, when `grad1`
// is given, ∂E/∂U_1 = Σ_μν R_μν C_ππ'(μ,ν) with R = D G⁻¹ − α αᵀ, α = G⁻¹ Y
// (theory.md §3). The P × P and P × Htot·N0 matrices live in the caller's
// scratch; false when G is not positive definite. Defined below.
bool Energy(const PathKernel& kernel, const Eigen::MatrixXd& U1, const Eigen::MatrixXd& C,
            const Eigen::MatrixXd& Y, double temperature, Eigen::MatrixXd* work, Eigen::MatrixXd* G,
            Eigen::MatrixXd* L_inverse, double* energy, Eigen::MatrixXd* grad1);

}  // namespace

ActionValue Action::Evaluate(const std::vector<Eigen::MatrixXd>& U_in,
                             std::vector<Eigen::MatrixXd>* grad) const {
  CheckShapes(arch_, U_in);
  const int L = arch_.L();
  const auto H = arch_.heads_per_layer();
  ActionValue v;

  // Symmetrise: U_ℓ = (M_ℓ + M_ℓᵀ)/2 (theory.md §3, §8).
  std::vector<Eigen::MatrixXd> U(U_in.size());
  for (size_t l = 0; l < U.size(); ++l) U[l] = 0.5 * (U_in[l] + U_in[l].transpose());

  std::vector<double> log_det(static_cast<size_t>(L));
  std::vector<Eigen::MatrixXd> inv(static_cast<size_t>(L));
  Eigen::MatrixXd U1_factor;  // lower Cholesky factor of U_1
  for (int l = 0; l < L; ++l) {
    if (!SmallSpd(U[static_cast<size_t>(l)], &log_det[static_cast<size_t>(l)],
                  &inv[static_cast<size_t>(l)], l == 0 ? &U1_factor : nullptr)) {
      v.failure = "U_" + std::to_string(l + 1) + " is not positive definite";
      return v;
    }
  }
  const double sa2 = arch_.variances[static_cast<size_t>(L + 1)];
  const double na = arch_.widths[static_cast<size_t>(L)];
  v.U_a = EliminateUa(arch_, U[static_cast<size_t>(L - 1)]);
  if (!(v.U_a > 0)) {
    v.failure = "U_a is not positive";
    return v;
  }

  // Entropy (theory.md §3, first two lines).
  double entropy = na * (v.U_a / sa2 - std::log(v.U_a));
  for (int l = 1; l <= L; ++l) {
    const size_t i = static_cast<size_t>(l - 1);
    const double n = arch_.widths[i], s2 = arch_.variances[static_cast<size_t>(l)];
    const double h = static_cast<double>(H[i]);
    const Eigen::MatrixXd tr = PartialTrace(U[i], H[i]);
    double next_trace, next_log_det;
    if (l < L) {
      next_trace = inv[i + 1].cwiseProduct(tr).sum();  // tr(U_{ℓ+1}⁻¹ tr_ℓ U_ℓ), both symmetric
      next_log_det = log_det[i + 1];
    } else {
      next_trace = tr(0, 0) / v.U_a;
      next_log_det = std::log(v.U_a);
    }
    entropy += n * (next_trace / s2 - log_det[i] + h * next_log_det);
  }

  // Energy: D ln det G + tr(Yᵀ G⁻¹ Y) (theory.md §3, last line), with its
  // gradient when asked, in the shared scratch when free, else in this call's own.
  std::unique_lock<std::mutex> lock(workspace_->mutex, std::try_to_lock);
  Workspace own;
  Workspace& ws = lock.owns_lock() ? *workspace_ : own;
  double energy = 0;
  Eigen::MatrixXd energy_grad;
  if (!Energy(kernel_, U[0], U1_factor, Y_, temperature_, &ws.work, &ws.G, &ws.L_inverse, &energy,
              grad ? &energy_grad : nullptr)) {
    v.failure = "G = K_U + T I is not positive definite (at T = 0 the kernel must be invertible)";
    return v;
  }

  v.entropy = entropy;
  v.energy = energy;
  v.S = entropy + energy;
  v.ok = std::isfinite(v.S);
  if (!v.ok) {
    v.failure = "the action is not finite";
    return v;
  }
  if (!grad) return v;

  // Gradient (theory.md §3, "Gradient"); the U_a path vanishes by stationarity.
  grad->assign(static_cast<size_t>(L), Eigen::MatrixXd());
  for (int l = 1; l <= L; ++l) {
    const size_t i = static_cast<size_t>(l - 1);
    const double n = arch_.widths[i], s2 = arch_.variances[static_cast<size_t>(l)];
    Eigen::MatrixXd next_inv = l < L ? inv[i + 1] : Eigen::MatrixXd::Constant(1, 1, 1.0 / v.U_a);
    Eigen::MatrixXd gl = n * (BlockDiagonal(H[i], next_inv) / s2 - inv[i]);
    if (l >= 2) {
      const double n_prev = arch_.widths[i - 1];
      const double s2_prev = arch_.variances[static_cast<size_t>(l - 1)];
      const double h_prev = static_cast<double>(H[i - 1]);
      const Eigen::MatrixXd tr_prev = PartialTrace(U[i - 1], H[i - 1]);
      gl += n_prev * (h_prev * inv[i] - inv[i] * tr_prev * inv[i] / s2_prev);
    }
    (*grad)[i] = std::move(gl);
  }
  (*grad)[0] += energy_grad;
  for (auto& gl : *grad) gl = (0.5 * (gl + gl.transpose())).eval();
  return v;
}

}  // namespace attnpaths

// ---------------------------------------------------------------------------
// Factored strategy through BLAS (multi-threaded OpenBLAS here).

extern "C" {
// BLAS (Fortran ABI; the trailing size_t are the hidden lengths of the flags).
void dsyrk_(const char* uplo, const char* trans, const int* n, const int* k, const double* alpha,
            const double* a, const int* lda, const double* beta, double* c, const int* ldc, size_t,
            size_t);
void dtrmm_(const char* side, const char* uplo, const char* transa, const char* diag, const int* m,
            const int* n, const double* alpha, const double* a, const int* lda, double* b,
            const int* ldb, size_t, size_t, size_t, size_t);
// LAPACK: inverse of a triangular matrix.
void dtrtri_(const char* uplo, const char* diag, const int* n, double* a, const int* lda, int* info,
             size_t, size_t);
}

namespace attnpaths {
namespace {

// L⁻¹ of the lower triangle of L (its strict upper triangle zero).
bool TriangularInverse(const Eigen::MatrixXd& L, Eigen::MatrixXd* L_inverse) {
  if (L.rows() <= kSmallSpd) {
    L_inverse->setIdentity(L.rows(), L.cols());
    L.triangularView<Eigen::Lower>().solveInPlace(*L_inverse);
    return true;
  }
  const int n = BlasInt(L.rows());
  int info = 0;
  L_inverse->resize(n, n);
  L_inverse->triangularView<Eigen::Lower>() = L.triangularView<Eigen::Lower>();
  L_inverse->triangularView<Eigen::StrictlyUpper>().setZero();
  dtrtri_("L", "N", &n, L_inverse->data(), &n, &info, 1, 1);
  return info == 0;
}

// Factored strategy: K_U and the gradient's traces straight from the path
// inputs Ξ (P × Htot·N0, column-major), read as the (P·N0) × Htot matrix whose
// column π holds every entry of ξ_π so that (· ⊗ I_N0) products are one BLAS
// call. About the flops of one P × Htot·N0 × P GEMM, where Total + Contract(R)
// take two plus G⁻¹:
//   U_1 = C Cᵀ, Φ = Ξ (C ⊗ I_N0):   K_U = Ξ (U_1 ⊗ I) Ξᵀ = Φ Φᵀ            (dtrmm, dsyrk)
//   G = L Lᵀ, Z = L⁻¹ Ξ:            Σ_μν (G⁻¹)_μν C_ππ' = Σ_μi Z_π ∘ Z_π'    (dtrtri, dtrmm, dsyrk)
//   w_π,d = Ξ_πᵀ α_d:               Σ_μν α_μd α_νd C_ππ' = w_π,d · w_π',d
// Z is L⁻¹ times Ξ because OpenBLAS' dtrsm is several times slower than
// dtrtri + dtrmm at these shapes (P ≪ Htot·N0; see bench/core_bench).
// Precomputed strategy: K_U from the stored pairs, R = D G⁻¹ − α αᵀ in place
// of L (dpotri), and Contract(R).
bool Energy(const PathKernel& kernel, const Eigen::MatrixXd& U1, const Eigen::MatrixXd& C,
            const Eigen::MatrixXd& Y, double temperature, Eigen::MatrixXd* work, Eigen::MatrixXd* G,
            Eigen::MatrixXd* L_inverse, double* energy, Eigen::MatrixXd* grad1) {
  const PathInputs& in = kernel.inputs();
  const bool factored = kernel.strategy() == KernelStrategy::kFactored;
  const int P = BlasInt(in.P()), H = BlasInt(in.Htot), N0 = BlasInt(in.N0);
  const int cols = BlasInt(in.Htot * in.N0), stacked = BlasInt(in.P() * in.N0);
  const double one = 1.0, zero = 0.0;
  const double D = static_cast<double>(Y.cols());

  // G = K_U + T I; only its lower triangle is read below.
  if (factored) {
    *work = in.xi;  // no allocation when the size is unchanged
    dtrmm_("R", "L", "N", "N", &stacked, &H, &one, C.data(), &H, work->data(), &stacked, 1, 1, 1,
           1);  // Φ = Ξ (C ⊗ I)
    G->resize(in.P(), in.P());
    dsyrk_("L", "N", &P, &cols, &one, work->data(), &P, &zero, G->data(), &P, 1, 1);
  } else {
    kernel.Total(U1, G);
  }
  G->diagonal().array() += temperature;
  for (Eigen::Index j = 0; j < in.P(); ++j) {
    if (!G->col(j).tail(in.P() - j).allFinite()) return false;
  }
  if (!CholeskyInPlace(G)) return false;  // G = L Lᵀ
  const double log_det = 2.0 * G->diagonal().array().log().sum();
  if (!std::isfinite(log_det)) return false;
  Eigen::MatrixXd alpha = Y;
  CholeskySolveInPlace(*G, &alpha);  // α = G⁻¹ Y
  *energy = D * log_det + Y.cwiseProduct(alpha).sum();
  if (!grad1) return true;

  if (!factored) {
    // R = D G⁻¹ − α αᵀ in place of L.
    if (!InverseFromCholeskyInPlace(G)) return false;
    G->triangularView<Eigen::StrictlyUpper>() = G->transpose();
    *G *= D;
    G->noalias() -= alpha * alpha.transpose();
    *grad1 = kernel.Contract(*G);
    return true;
  }
  // D · Σ Z_π ∘ Z_π' with Z = L⁻¹ Ξ (the lower triangle of Zᵀ Z, stacked view).
  if (!TriangularInverse(*G, L_inverse)) return false;
  *work = in.xi;
  dtrmm_("L", "L", "N", "N", &P, &cols, &one, L_inverse->data(), &P, work->data(), &P, 1, 1, 1, 1);
  grad1->setZero(in.Htot, in.Htot);
  dsyrk_("L", "T", &H, &stacked, &D, work->data(), &stacked, &zero, grad1->data(), &H, 1, 1);
  // − Σ_d w_dᵀ w_d with w_d = Ξᵀ α_d read as N0 × H.
  const Eigen::MatrixXd w = in.xi.transpose() * alpha;  // Htot·N0 × D
  for (Eigen::Index d = 0; d < w.cols(); ++d) {
    const Eigen::Map<const Eigen::MatrixXd> wd(w.col(d).data(), N0, H);
    grad1->triangularView<Eigen::Lower>() -= wd.transpose() * wd;
  }
  grad1->triangularView<Eigen::StrictlyUpper>() = grad1->transpose();
  return true;
}

}  // namespace
}  // namespace attnpaths
