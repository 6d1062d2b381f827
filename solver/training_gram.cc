#include "solver/training_gram.h"

#include <Eigen/Cholesky>
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "kernels/error.h"
#include "solver/spd.h"

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

Eigen::MatrixXd PredictorMoments::Covariance(Eigen::Index mu) const {
  const Eigen::Index D = mean.cols();
  Eigen::MatrixXd S(D, D);
  for (Eigen::Index e = 0; e < D; ++e) {
    for (Eigen::Index d = 0; d < D; ++d) S(d, e) = covariance(mu, d + D * e);
  }
  return S;
}

Eigen::MatrixXd PredictorMoments::Variance() const {
  const Eigen::Index D = mean.cols();
  Eigen::MatrixXd v(covariance.rows(), D);
  for (Eigen::Index d = 0; d < D; ++d) v.col(d) = covariance.col(d + D * d);
  return v;
}

Eigen::VectorXd StackOutputs(const Eigen::Ref<const Eigen::MatrixXd>& Y) {
  const Eigen::MatrixXd Yt = Y.transpose();  // column μ holds the outputs of example μ
  return Eigen::Map<const Eigen::VectorXd>(Yt.data(), Yt.size());
}

Eigen::MatrixXd UnstackOutputs(const Eigen::Ref<const Eigen::VectorXd>& v, Eigen::Index outputs) {
  Require(outputs >= 1 && v.size() % outputs == 0, "stacked outputs", v.size(),
          "a multiple of D = " + std::to_string(outputs) + " entries");
  const Eigen::VectorXd c = v;
  return Eigen::Map<const Eigen::MatrixXd>(c.data(), outputs, v.size() / outputs).transpose();
}

namespace {

using StridedVector = Eigen::Map<Eigen::VectorXd, 0, Eigen::InnerStride<>>;
using ConstStridedVector = Eigen::Map<const Eigen::VectorXd, 0, Eigen::InnerStride<>>;

// The packed pairs (kernels/path_kernel.h PackedPairs: one column per pair
// ππ', its lower triangle packed) are read twice per evaluation, once to form
// K_U and once to contract the gradient; both are bound by reading them (404 KB
// at P = 100). These two loops read each once, eight rows at a time
// (bench/results/solver_bench.md, "Two passes over the pairs": 1.35× and
// 1.15× Eigen's GEMVs at P = 100, the same sums to the bit there).
using Rows8 = Eigen::Array<double, 8, 1>;
using ConstRows8 = Eigen::Map<const Rows8>;

// out = K w for the packed pairs K (rows × C, column-major): K_U's lower
// triangle, packed, from the pair weights w (theory.md §2).
void CombinePairs(const Eigen::MatrixXd& K, const Eigen::VectorXd& w, Eigen::VectorXd* out) {
  const Eigen::Index rows = K.rows(), C = K.cols();
  out->resize(rows);
  const double* k = K.data();
  double* y = out->data();
  Eigen::Index i = 0;
  for (; i + 16 <= rows; i += 16) {
    Rows8 a = Rows8::Zero(), b = Rows8::Zero();
    for (Eigen::Index c = 0; c < C; ++c) {
      const double* column = k + c * rows + i;
      a += w(c) * ConstRows8(column);
      b += w(c) * ConstRows8(column + 8);
    }
    Eigen::Map<Rows8>(y + i) = a;
    Eigen::Map<Rows8>(y + i + 8) = b;
  }
  for (; i < rows; ++i) {
    double a = 0;
    for (Eigen::Index c = 0; c < C; ++c) a += w(c) * k[c * rows + i];
    y[i] = a;
  }
}

// sums = Kᵀ r: Σ_{i≥j} r_ij (C_ππ' + C_ππ'ᵀ)(i, j) for every pair (theory.md
// §2's gradient), four pairs at a time over blocks of kChunk rows whose sums
// are added at the end: one sum over all P(P+1)/2 rows accumulates in a few
// long sequential chains, whose rounding stalled a 1e-12 solve at P = 2000
// (GramStorage.SolveGivesTheSameSaddlePointAtLargeP).
void ContractPairs(const Eigen::MatrixXd& K, const Eigen::VectorXd& r, Eigen::VectorXd* sums) {
  constexpr Eigen::Index kChunk = 256;
  const Eigen::Index rows = K.rows(), C = K.cols();
  sums->setZero(C);
  const double* k = K.data();
  for (Eigen::Index i0 = 0; i0 < rows; i0 += kChunk) {
    const Eigen::Index b = std::min(kChunk, rows - i0), whole = b - b % 8;
    const double* x = r.data() + i0;
    Eigen::Index c = 0;
    for (; c + 4 <= C; c += 4) {
      const double* k0 = k + c * rows + i0;
      const double *k1 = k0 + rows, *k2 = k1 + rows, *k3 = k2 + rows;
      Rows8 a0 = Rows8::Zero(), a1 = Rows8::Zero(), a2 = Rows8::Zero(), a3 = Rows8::Zero();
      for (Eigen::Index i = 0; i < whole; i += 8) {
        const Rows8 xi = ConstRows8(x + i);
        a0 += ConstRows8(k0 + i) * xi;
        a1 += ConstRows8(k1 + i) * xi;
        a2 += ConstRows8(k2 + i) * xi;
        a3 += ConstRows8(k3 + i) * xi;
      }
      double s0 = a0.sum(), s1 = a1.sum(), s2 = a2.sum(), s3 = a3.sum();
      for (Eigen::Index i = whole; i < b; ++i) {
        s0 += k0[i] * x[i];
        s1 += k1[i] * x[i];
        s2 += k2[i] * x[i];
        s3 += k3[i] * x[i];
      }
      (*sums)(c) += s0;
      (*sums)(c + 1) += s1;
      (*sums)(c + 2) += s2;
      (*sums)(c + 3) += s3;
    }
    for (; c < C; ++c) {
      const double* k0 = k + c * rows + i0;
      Rows8 a0 = Rows8::Zero();
      for (Eigen::Index i = 0; i < whole; i += 8) a0 += ConstRows8(k0 + i) * ConstRows8(x + i);
      double s0 = a0.sum();
      for (Eigen::Index i = whole; i < b; ++i) s0 += k0[i] * x[i];
      (*sums)(c) += s0;
    }
  }
}

// A P × (H·N0) matrix of path inputs (column-major) read as the (P·N0) × H
// matrix whose column π holds every entry of ξ_π: then Ξ (M ⊗ I_N0) is one
// GEMM with M.
Eigen::Map<Eigen::MatrixXd> Stacked(Eigen::MatrixXd& xi, Eigen::Index N0) {
  return {xi.data(), xi.rows() * N0, xi.cols() / N0};
}
Eigen::Map<const Eigen::MatrixXd> Stacked(const Eigen::MatrixXd& xi, Eigen::Index N0) {
  return {xi.data(), xi.rows() * N0, xi.cols() / N0};
}

// Ũ_d (H × D·H) for d = 0..D-1: Ũ_d(π, e H + π') = U_1[(π,d),(π',e)], so that
// block e of Ξ (Ũ_d ⊗ I_N0) holds Σ_π U_1[(π,d),(π',e)] ξ_π for every π'.
std::vector<Eigen::MatrixXd> OutputRows(const Eigen::MatrixXd& U1, Eigen::Index H, Eigen::Index D) {
  std::vector<Eigen::MatrixXd> Ut(static_cast<size_t>(D), Eigen::MatrixXd(H, D * H));
  for (Eigen::Index d = 0; d < D; ++d) {
    for (Eigen::Index e = 0; e < D; ++e) {
      for (Eigen::Index p = 0; p < H; ++p) {
        for (Eigen::Index q = 0; q < H; ++q) {
          Ut[static_cast<size_t>(d)](p, e * H + q) = U1(p * D + d, q * D + e);
        }
      }
    }
  }
  return Ut;
}

using BlockMap = Eigen::Map<Eigen::MatrixXd, 0, Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>>;

// Block (d, e) of a (rows D) × (cols D) matrix in (μ, d) order: the rows × cols
// matrix of entries [(μ,d),(ν,e)].
BlockMap OutputBlock(Eigen::MatrixXd& M, Eigen::Index D, Eigen::Index d, Eigen::Index e) {
  return BlockMap(M.data() + d + e * M.rows(), M.rows() / D, M.cols() / D,
                  Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>(D * M.rows(), D));
}

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

// t ← cᵀ, or t ← c + cᵀ with kAdd, for square n × n column-major matrices:
// W × W tiles of SIMD packets (W doubles each) transposed in registers by
// Eigen's packet transpose (the one its GEMM packing uses), the last n mod W
// rows and columns by scalars. A plain loop walks one side with stride n,
// one double at a time (with the packing loop it replaced, 24 % of an energy
// Hessian at P = 100; bench/results/solver_bench.md, session 14).
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wignored-attributes"  // Eigen's packet types (as Eigen does)
#endif
template <bool kAdd>
void TransposeTiles(const double* c, double* t, Eigen::Index n) {
  using Packet = Eigen::internal::packet_traits<double>::type;
  constexpr int W = Eigen::internal::unpacket_traits<Packet>::size;
  const Eigen::Index nb = n / W * W;
  for (Eigen::Index j0 = 0; j0 < nb; j0 += W) {
    for (Eigen::Index i0 = 0; i0 < nb; i0 += W) {
      // packet r: c(j0 .. j0+W−1, i0+r); after the transpose, c(j0+r, i0 .. i0+W−1),
      // which is column j0+r of cᵀ in rows i0 .. i0+W−1.
      Eigen::internal::PacketBlock<Packet, W> block;
      for (int r = 0; r < W; ++r) {
        block.packet[r] = Eigen::internal::ploadu<Packet>(c + j0 + (i0 + r) * n);
      }
      Eigen::internal::ptranspose(block);
      for (int r = 0; r < W; ++r) {
        double* out = t + i0 + (j0 + r) * n;
        Packet v = block.packet[r];
        if constexpr (kAdd) {
          v = Eigen::internal::padd(v, Eigen::internal::ploadu<Packet>(c + i0 + (j0 + r) * n));
        }
        Eigen::internal::pstoreu(out, v);
      }
    }
  }
  for (Eigen::Index j = 0; j < n; ++j) {
    for (Eigen::Index i = j < nb ? nb : 0; i < n; ++i) {
      t[i + j * n] = kAdd ? c[i + j * n] + c[j + i * n] : c[j + i * n];
    }
  }
}
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

// S ← S + Sᵀ for a square S, in place.
void AddTranspose(Eigen::MatrixXd* S) {
  const Eigen::Index n = S->rows();
  for (Eigen::Index j = 0; j < n; ++j) {
    (*S)(j, j) *= 2.0;
    for (Eigen::Index i = j + 1; i < n; ++i) {
      const double s = (*S)(i, j) + (*S)(j, i);
      (*S)(i, j) = (*S)(j, i) = s;
    }
  }
}

}  // namespace

namespace {
std::atomic<bool> lean_gram_steps{true};
}  // namespace

void SetLeanGramSteps(bool on) { lean_gram_steps = on; }
bool LeanGramSteps() { return lean_gram_steps; }

TrainingGram::TrainingGram(const PathKernel& kernel, Eigen::Index outputs)
    : kernel_(kernel), D_(outputs) {
  Require(outputs >= 1, "outputs D", outputs, "at least 1 label column");
}

TrainingGram::TrainingGram(const PathKernel& kernel, const Eigen::Ref<const Eigen::MatrixXd>& Y)
    : kernel_(kernel), D_(Y.cols()), labels_(true) {
  Require(D_ >= 1, "outputs D", D_, "at least 1 label column");
  Require(Y.rows() == kernel.P(), "label rows", Y.rows(),
          std::to_string(kernel.P()) + " (one per training example)");
  if (kernel.strategy() != KernelStrategy::kFeatures) {
    y_ = StackOutputs(Y);
    return;
  }
  const Gram& g = kernel.feature_gram();
  const double yty = Y.squaredNorm();
  Eigen::MatrixXd b;
  if (kernel.has_inputs()) {
    b.noalias() = kernel.inputs().xi.transpose() * Y;  // b = ΞᵀY (theory.md §10)
  } else {
    Require(g.D() == D_ && std::abs(g.yty - yty) <= 1e-10 * std::max(1.0, yty),
            "labels of the streamed kernel",
            std::to_string(D_) + " columns with y^T y = " + ToText(yty),
            "the labels summed into its Gram (" + std::to_string(g.D()) +
                " columns, y^T y = " + ToText(g.yty) + ")");
    b = g.b;
  }
  features_ = std::make_unique<FeatureGram>(&g.A, std::move(b), yty, kernel.P(), kernel.Htot(),
                                            kernel.N0());
}

TrainingGram::~TrainingGram() = default;

KernelStrategy TrainingGram::storage() const {
  if (use_features_) return KernelStrategy::kFeatures;
  return kernel_.strategy() == KernelStrategy::kPrecomputed ? KernelStrategy::kPrecomputed
                                                            : KernelStrategy::kFactored;
}

double TrainingGram::Quadratic() const {
  Require(labels_, "TrainingGram", "no labels", "the constructor with labels");
  Require(factorized_, "TrainingGram", "no factorisation", "a successful Factorize first");
  if (use_features_) return features_->Quadratic();
  return y_.dot(alpha_);
}

bool TrainingGram::EnergyGradient(Eigen::MatrixXd* grad) {
  Require(labels_, "TrainingGram", "no labels", "the constructor with labels");
  Require(factorized_, "TrainingGram", "no factorisation", "a successful Factorize first");
  if (use_features_) return features_->EnergyGradient(grad);
  return EnergyGradient(alpha_, grad);
}

bool TrainingGram::EnergyHessian(Eigen::MatrixXd* hessian, HessianForm form) {
  Require(labels_, "TrainingGram", "no labels", "the constructor with labels");
  Require(factorized_, "TrainingGram", "no factorisation", "a successful Factorize first");
  if (use_features_) return features_->EnergyHessian(hessian);
  return EnergyHessian(alpha_, hessian, form);
}

PredictorMoments TrainingGram::Predict(const PathInputs& test) const {
  Require(labels_, "TrainingGram", "no labels", "the constructor with labels");
  Require(factorized_, "TrainingGram", "no factorisation", "a successful Factorize first");
  if (use_features_) return features_->Predict(test);
  return Predict(test, alpha_);
}

// Factored strategy, one output: through BLAS (multi-threaded OpenBLAS here)
// on the path inputs Ξ (P × Htot·N0) read as the (P·N0) × Htot matrix whose
// column π holds every entry of ξ_π, so that (· ⊗ I_N0) products are one BLAS
// call. About the flops of one P × Htot·N0 × P GEMM:
//   U_1 = C Cᵀ, Φ = Ξ (C ⊗ I_N0):  K = Ξ (U_1 ⊗ I) Ξᵀ = Φ Φᵀ          (dtrmm, dsyrk)
//   G = L Lᵀ, Z = L⁻¹ Ξ:           Σ_μν (G⁻¹)_μν C_ππ' = Σ Z_π ∘ Z_π'    (dtrtri, dtrmm, dsyrk)
//   w = Ξᵀ α:                       Σ_μν α_μ α_ν C_ππ' = w_π · w_π'
// Z is L⁻¹ times Ξ because OpenBLAS' dtrsm is several times slower than
// dtrtri + dtrmm at these shapes (P ≪ Htot·N0; see bench/core_bench).
// Several outputs work block by block, (d, e) with e ≤ d: K's block is
// Ξ (U^{de} ⊗ I) Ξᵀ and the gradient's Σ (Ξ_π ∘ (R_de Ξ)_π'), about
// D(D+1)/2 P × Htot·N0 × P GEMMs each, plus the inverse of G (PD)³.
void TrainingGram::Assemble(const Eigen::Ref<const Eigen::MatrixXd>& U1) {
  const PathInputs& in = kernel_.inputs();
  const Eigen::Index P = in.P(), H = in.Htot, D = D_, n = P * D;
  if (kernel_.strategy() == KernelStrategy::kPrecomputed) {
    if (D == 1) {
      const Eigen::MatrixXd* packed = kernel_.PackedPairs();
      if (packed == nullptr) {
        kernel_.Total(U1, &G_);
        return;
      }
      // K_U(i, j) = Σ_{π≤π'} u_ππ' (C_ππ' + C_ππ'ᵀ)(i, j), u_ππ' = (U_ππ' + U_π'π)/2,
      // u_ππ = U_ππ/2 (theory.md §2): one GEMV, then the lower triangle of G.
      pair_weights_.resize(packed->cols());
      for (Eigen::Index p = 0; p < H; ++p) {
        for (Eigen::Index q = p; q < H; ++q) {
          pair_weights_(kernel_.PairIndex(p, q)) = 0.5 * (p == q ? U1(p, p) : U1(p, q) + U1(q, p));
        }
      }
      CombinePairs(*packed, pair_weights_, &packed_);
      G_.resize(n, n);
      const double* k = packed_.data();
      for (Eigen::Index j = 0; j < n; ++j, k += n - j + 1) {
        G_.col(j).tail(n - j) = Eigen::Map<const Eigen::VectorXd>(k, n - j);
      }
      return;
    }
    // S = Σ_{π<π'} C_ππ' ⊗ A^{ππ'} + Σ_π C_ππ ⊗ A^{ππ}/2, then G = S + Sᵀ.
    G_.setZero(n, n);
    for (Eigen::Index p = 0; p < H; ++p) {
      for (Eigen::Index q = p; q < H; ++q) {
        const Eigen::MatrixXd& C = kernel_.StoredPair(p, q);
        Eigen::MatrixXd A = U1.block(p * D, q * D, D, D);
        if (p == q) A *= 0.5;
        for (Eigen::Index nu = 0; nu < P; ++nu) {
          for (Eigen::Index e = 0; e < D; ++e) {
            double* column = G_.col(nu * D + e).data();
            for (Eigen::Index d = 0; d < D; ++d) {
              if (A(d, e) == 0.0) continue;
              StridedVector(column + d, P, Eigen::InnerStride<>(D)) += A(d, e) * C.col(nu);
            }
          }
        }
      }
    }
    AddTranspose(&G_);
    return;
  }
  if (D > 1) {
    // Block (d, e) of K is Ξ (U^{de} ⊗ I_N0) Ξᵀ, U^{de}_ππ' = U_1[(π,d),(π',e)]:
    // A_d = Ξ (Ũ_d ⊗ I) is one GEMM, then one P × Htot·N0 × P GEMM per block
    // e ≤ d (D(D+1)/2 of them; the blocks e > d are their transposes).
    const std::vector<Eigen::MatrixXd> Ut = OutputRows(U1, H, D);
    G_.resize(n, n);
    for (Eigen::Index d = 0; d < D; ++d) {
      work_.resize(P * in.N0, D * H);
      work_.noalias() = Stacked(in.xi, in.N0) * Ut[static_cast<size_t>(d)];
      for (Eigen::Index e = 0; e <= d; ++e) {
        const Eigen::Map<const Eigen::MatrixXd> Ade(work_.data() + e * H * P * in.N0, P, H * in.N0);
        OutputBlock(G_, D, d, e).noalias() = Ade * in.xi.transpose();
      }
    }
    for (Eigen::Index d = 0; d < D; ++d) {
      for (Eigen::Index e = d + 1; e < D; ++e) {
        OutputBlock(G_, D, d, e) = OutputBlock(G_, D, e, d).transpose();
      }
    }
    return;
  }
  const int Pn = BlasInt(P), Hn = BlasInt(H), cols = BlasInt(H * in.N0);
  const int stacked = BlasInt(P * in.N0);
  const double one = 1.0, zero = 0.0;
  work_ = in.xi;  // no allocation when the size is unchanged
  const Eigen::LLT<Eigen::MatrixXd> llt(U1);
  if (llt.info() == Eigen::Success) {
    const Eigen::MatrixXd C = llt.matrixL();
    dtrmm_("R", "L", "N", "N", &stacked, &Hn, &one, C.data(), &Hn, work_.data(), &stacked, 1, 1, 1,
           1);  // Φ = Ξ (C ⊗ I)
    G_.resize(n, n);
    dsyrk_("L", "N", &Pn, &cols, &one, work_.data(), &Pn, &zero, G_.data(), &Pn, 1, 1);
    return;
  }
  // U_1 only semi-definite (silenced heads, theory.md §6): Ξ (U_1 ⊗ I) Ξᵀ by two GEMMs.
  Eigen::MatrixXd W(work_.rows(), work_.cols());
  Stacked(W, in.N0).noalias() = Stacked(std::as_const(work_), in.N0) * U1;
  G_.resize(n, n);
  G_.noalias() = W * work_.transpose();
}

bool TrainingGram::Factorize(const Eigen::Ref<const Eigen::MatrixXd>& U1, double temperature) {
  const Eigen::Index m = kernel_.Htot() * D_;
  Require(U1.rows() == m && U1.cols() == m, "U_1 shape",
          std::to_string(U1.rows()) + " x " + std::to_string(U1.cols()),
          std::to_string(m) + " x " + std::to_string(m) + " (Htot D x Htot D)");
  Require(std::isfinite(temperature) && temperature >= 0, "temperature", temperature,
          "a finite value >= 0");
  const bool lean = LeanGramSteps();
  if (lean && factorized_ && !use_features_ && temperature == temperature_ && U1 == U1_) {
    return true;
  }
  factorized_ = false;
  inverse_state_ = InverseState::kNone;
  U1_ = U1;
  temperature_ = temperature;
  // The feature-space form needs T > 0; at T = 0 a kernel that keeps its path
  // inputs is factorised as kFactored, a streamed one throws the reason.
  use_features_ = features_ && (temperature > 0 || !kernel_.has_inputs());
  if (use_features_) {
    factorized_ = features_->Factorize(U1_, temperature);
    return factorized_;
  }
  Assemble(U1_);
  const Eigen::Index n = size();
  G_.diagonal().array() += temperature;
  // Where the gradient needs G⁻¹ and G is small, G⁻¹ and ln det G come
  // straight from G (block LDLᵀ by GEMMs, solver/spd.h) and no factor is kept:
  // α, Solve and Predict multiply by G⁻¹. Elsewhere G = L Lᵀ.
  // Above kInverseConditionLimit that G⁻¹ is not accurate enough: G is
  // assembled again and factorised. That route also takes a G with a
  // non-finite entry (its κ₁ is ∞), which the check before the factor refuses.
  bool inverse_only =
      lean && n <= kSmallSpd && (kernel_.strategy() == KernelStrategy::kPrecomputed || D_ > 1);
  if (inverse_only) {
    G_.swap(inverse_);  // G into inverse_, inverted in place; G_ keeps the old buffer
    double condition = 0;
    if (SpdInverseInPlace(&inverse_, &log_det_, &condition) &&
        condition <= kInverseConditionLimit) {
      inverse_state_ = InverseState::kFull;
    } else {
      inverse_only = false;
      Assemble(U1_);
      G_.diagonal().array() += temperature;
    }
  }
  if (!inverse_only) {
    for (Eigen::Index j = 0; j < n; ++j) {
      if (!G_.col(j).tail(n - j).allFinite()) return false;
    }
    if (!CholeskyInPlace(&G_)) return false;
    log_det_ = 2.0 * G_.diagonal().array().log().sum();
  }
  if (!std::isfinite(log_det_)) return false;
  factorized_ = true;
  if (labels_) {
    if (inverse_only) {
      alpha_.resize(n);  // no allocation when the size is unchanged
      alpha_.noalias() = inverse_ * y_;
    } else {
      alpha_ = y_;
      CholeskySolveInPlace(G_, &alpha_);
    }
  }
  return true;
}

const Eigen::MatrixXd* TrainingGram::LowerInverse() {
  switch (inverse_state_) {
    case InverseState::kFull:
      return &inverse_;
    case InverseState::kNone:
      break;
  }
  work_ = G_;
  if (!InverseFromCholeskyInPlace(&work_)) return nullptr;
  return &work_;
}

double TrainingGram::LogDet() const {
  Require(factorized_, "TrainingGram", "no factorisation", "a successful Factorize first");
  if (use_features_) return features_->LogDet();
  return log_det_;
}

namespace {
void RequireExamples(bool features, const char* what) {
  Require(!features, what, "the feature-space storage (no P x P matrix, no alpha)",
          "the pairs or factored storage, or the label-bound calls");
}
}  // namespace

Eigen::MatrixXd TrainingGram::Solve(const Eigen::Ref<const Eigen::MatrixXd>& B) const {
  Require(factorized_, "TrainingGram", "no factorisation", "a successful Factorize first");
  RequireExamples(use_features_, "TrainingGram::Solve");
  Require(B.rows() == size(), "right-hand side rows", B.rows(), std::to_string(size()) + " (P D)");
  if (inverse_state_ == InverseState::kFull) return inverse_ * B;  // no factor kept
  Eigen::MatrixXd X = B;
  if (X.cols() > 0) CholeskySolveInPlace(G_, &X);
  return X;
}

bool TrainingGram::EnergyGradient(const Eigen::Ref<const Eigen::VectorXd>& alpha,
                                  Eigen::MatrixXd* grad) {
  Require(factorized_, "TrainingGram", "no factorisation", "a successful Factorize first");
  RequireExamples(use_features_, "TrainingGram::EnergyGradient(alpha)");
  Require(alpha.size() == size(), "alpha size", alpha.size(), std::to_string(size()) + " (P D)");
  const PathInputs& in = kernel_.inputs();
  const Eigen::Index P = in.P(), H = in.Htot, N0 = in.N0, D = D_;
  const Eigen::MatrixXd* packed = kernel_.strategy() == KernelStrategy::kPrecomputed && D == 1
                                      ? kernel_.PackedPairs()
                                      : nullptr;
  if (packed != nullptr) {
    // The lower triangle of R = G⁻¹ − α αᵀ, packed, diagonal halved: then
    // Σ_μν R_μν C_ππ'(μ,ν) = Σ_{i≥j} r_ij (C_ππ' + C_ππ'ᵀ)(i, j), one GEMV over the pairs.
    const Eigen::MatrixXd* inverse = LowerInverse();
    if (inverse == nullptr) return false;
    const Eigen::MatrixXd& Gi = *inverse;
    packed_.resize(packed->rows());
    double* r = packed_.data();
    for (Eigen::Index j = 0; j < P; ++j) {
      const double aj = alpha(j);
      *r++ = 0.5 * (Gi(j, j) - aj * aj);
      for (Eigen::Index i = j + 1; i < P; ++i) *r++ = Gi(i, j) - alpha(i) * aj;
    }
    ContractPairs(*packed, packed_, &pair_sums_);
    grad->resize(H, H);
    for (Eigen::Index p = 0; p < H; ++p) {
      for (Eigen::Index q = p; q < H; ++q) {
        (*grad)(p, q) = (*grad)(q, p) = pair_sums_(kernel_.PairIndex(p, q));
      }
    }
    return true;
  }
  if (kernel_.strategy() == KernelStrategy::kPrecomputed || D > 1) {
    // R = G⁻¹ − α αᵀ (PD × PD, both triangles).
    const Eigen::MatrixXd* inverse = LowerInverse();
    if (inverse == nullptr) return false;
    if (inverse != &work_) work_ = *inverse;
    work_.triangularView<Eigen::StrictlyUpper>() = work_.transpose();
    work_.noalias() -= alpha * alpha.transpose();
  }
  if (kernel_.strategy() == KernelStrategy::kPrecomputed) {
    if (D == 1) {
      *grad = kernel_.Contract(work_);
      return true;
    }
    // Σ_μν R[(μ,d),(ν,e)] C_ππ'(μ,ν), every stored pair once.
    grad->setZero(H * D, H * D);
    Eigen::MatrixXd M(D, D);
    for (Eigen::Index p = 0; p < H; ++p) {
      for (Eigen::Index q = p; q < H; ++q) {
        const Eigen::MatrixXd& C = kernel_.StoredPair(p, q);
        M.setZero();
        for (Eigen::Index nu = 0; nu < P; ++nu) {
          for (Eigen::Index e = 0; e < D; ++e) {
            const double* column = work_.col(nu * D + e).data();
            for (Eigen::Index d = 0; d < D; ++d) {
              M(d, e) += ConstStridedVector(column + d, P, Eigen::InnerStride<>(D)).dot(C.col(nu));
            }
          }
        }
        grad->block(p * D, q * D, D, D) = M;
        if (p != q) grad->block(q * D, p * D, D, D) = M.transpose();
      }
    }
    *grad = (0.5 * (*grad + grad->transpose())).eval();
    return true;
  }
  if (D > 1) {
    // Block (d, e): Σ_μν R_de(μ,ν) ξ_π(μ)·ξ_π'(ν) = Σ (Ξ_π ∘ (R_de Ξ)_π'), one
    // P × P × Htot·N0 GEMM and one contraction of the stacked views per block e ≤ d.
    grad->resize(H * D, H * D);
    Eigen::MatrixXd Rde(P, P), B(P, H * N0), M(H, H);
    for (Eigen::Index d = 0; d < D; ++d) {
      for (Eigen::Index e = 0; e <= d; ++e) {
        Rde = OutputBlock(work_, D, d, e);
        B.noalias() = Rde * in.xi;
        M.noalias() = Stacked(in.xi, N0).transpose() * Stacked(std::as_const(B), N0);
        for (Eigen::Index p = 0; p < H; ++p) {
          for (Eigen::Index q = 0; q < H; ++q) {
            (*grad)(p * D + d, q * D + e) = M(p, q);
            (*grad)(q * D + e, p * D + d) = M(p, q);
          }
        }
      }
    }
    *grad = (0.5 * (*grad + grad->transpose())).eval();
    return true;
  }
  // Σ Z_π ∘ Z_π' with Z = L⁻¹ Ξ (the lower triangle of Zᵀ Z, stacked view).
  if (!TriangularInverse(G_, &L_inverse_)) return false;
  const int Pn = BlasInt(P), Hn = BlasInt(H), cols = BlasInt(H * N0);
  const int stacked = BlasInt(P * N0);
  const double one = 1.0, zero = 0.0;
  work_ = in.xi;
  dtrmm_("L", "L", "N", "N", &Pn, &cols, &one, L_inverse_.data(), &Pn, work_.data(), &Pn, 1, 1, 1,
         1);
  grad->setZero(H, H);
  dsyrk_("L", "T", &Hn, &stacked, &one, work_.data(), &stacked, &zero, grad->data(), &Hn, 1, 1);
  // − Σ w_πᵀ w_π' with w = Ξᵀ α read as N0 × H.
  const Eigen::VectorXd w = in.xi.transpose() * alpha;
  const Eigen::Map<const Eigen::MatrixXd> W(w.data(), N0, H);
  grad->triangularView<Eigen::Lower>() -= W.transpose() * W;
  grad->triangularView<Eigen::StrictlyUpper>() = grad->transpose();
  return true;
}

namespace {

// The independent entries (i, j), i ≤ j, of an m × m matrix, column by column.
std::vector<std::pair<Eigen::Index, Eigen::Index>> UpperEntries(Eigen::Index m) {
  std::vector<std::pair<Eigen::Index, Eigen::Index>> entry;
  entry.reserve(static_cast<size_t>(m * (m + 1) / 2));
  for (Eigen::Index j = 0; j < m; ++j) {
    for (Eigen::Index i = 0; i <= j; ++i) entry.emplace_back(i, j);
  }
  return entry;
}

// H_kl = 2 Q_kl − Σ_{(a,b) of E_k, (c,e) of E_l} t(a,b;c,e): the generators of
// E_k are (i,j) and (j,i) (once on the diagonal); Q is filled on entry.
template <typename Trace>
void SubtractTraces(Eigen::Index m, const Trace& generator_trace, Eigen::MatrixXd* hessian) {
  const auto entry = UpperEntries(m);
  const Eigen::Index entries = static_cast<Eigen::Index>(entry.size());
  for (Eigen::Index l = 0; l < entries; ++l) {
    const auto [p, q] = entry[static_cast<size_t>(l)];
    for (Eigen::Index k = 0; k <= l; ++k) {
      const auto [i, j] = entry[static_cast<size_t>(k)];
      double trace = generator_trace(i, j, p, q);
      if (p != q) trace += generator_trace(i, j, q, p);
      if (i != j) {
        trace += generator_trace(j, i, p, q);
        if (p != q) trace += generator_trace(j, i, q, p);
      }
      (*hessian)(k, l) -= trace;
    }
  }
  hessian->triangularView<Eigen::StrictlyLower>() = hessian->transpose();
}

// t(a m + b, c m + e) = tr(Γ_abᵀ Γ_ce) = Σ Γ_ab ∘ Γ_ce over the N0 × N0 blocks of Γ
// (m × m blocks): every trace the energy Hessian's first term needs, as one GEMM.
Eigen::MatrixXd BlockTraceTable(const Eigen::MatrixXd& Gamma, Eigen::Index m, Eigen::Index N0) {
  Eigen::MatrixXd blocks(N0 * N0, m * m);  // column a m + b: vec(Γ_ab)
  for (Eigen::Index a = 0; a < m; ++a) {
    for (Eigen::Index b = 0; b < m; ++b) {
      Eigen::Map<Eigen::MatrixXd>(blocks.col(a * m + b).data(), N0, N0) =
          Gamma.block(a * N0, b * N0, N0, N0);
    }
  }
  Eigen::MatrixXd t(m * m, m * m);
  t.noalias() = blocks.transpose() * blocks;
  return t;
}

}  // namespace

double TrainingGram::EnergyHessianFlops(HessianForm form) const {
  const double H = double(kernel_.Htot()), D = double(D_), P = double(kernel_.P());
  const double N0 = double(kernel_.inputs().N0), m = H * D;
  if (form == HessianForm::kExamples) {
    if (D_ == 1) {  // EnergyHessianSymmetric: one GEMM per independent entry
      const double e = H * (H + 1) / 2;
      return 2 * e * P * P * P + 2 * e * e * P * P;
    }
    return 2 * H * H * D * D * P * P * P + 2 * m * m * m * m * P * P;
  }
  return (P * D) * (P * D) * m * N0 + (m * N0) * (m * N0) * P * D + 2 * m * m * m * m * N0 * N0;
}

bool TrainingGram::EnergyHessian(const Eigen::Ref<const Eigen::VectorXd>& alpha,
                                 Eigen::MatrixXd* hessian, HessianForm form) {
  Require(factorized_, "TrainingGram", "no factorisation", "a successful Factorize first");
  RequireExamples(use_features_, "TrainingGram::EnergyHessian(alpha)");
  Require(alpha.size() == size(), "alpha size", alpha.size(), std::to_string(size()) + " (P D)");
  if (form == HessianForm::kAuto) {
    form = EnergyHessianFlops(HessianForm::kExamples) <= EnergyHessianFlops(HessianForm::kFeatures)
               ? HessianForm::kExamples
               : HessianForm::kFeatures;
  }
  if (form == HessianForm::kFeatures) return EnergyHessianFeatures(alpha, hessian);
  const Eigen::Index H = kernel_.Htot(), D = D_, P = kernel_.P(), n = P * D, m = H * D;
  // R = G⁻¹ (both triangles): inverse_ itself when it holds G⁻¹ (kFull).
  const Eigen::MatrixXd* inverse = LowerInverse();
  if (inverse == nullptr) return false;
  Eigen::MatrixXd filled;
  if (inverse_state_ != InverseState::kFull) {
    filled = *inverse;
    filled.triangularView<Eigen::StrictlyUpper>() = filled.transpose();
    inverse = &filled;
  }
  const Eigen::MatrixXd& R = *inverse;
  if (D == 1) return EnergyHessianSymmetric(R, alpha, hessian);

  // The pairs C_pq (p ≤ q), stored or formed once.
  std::vector<Eigen::MatrixXd> formed;
  std::vector<const Eigen::MatrixXd*> pair(static_cast<size_t>(H * H), nullptr);
  if (kernel_.strategy() != KernelStrategy::kPrecomputed) {
    formed.reserve(static_cast<size_t>(H * (H + 1) / 2));
  }
  for (Eigen::Index p = 0; p < H; ++p) {
    for (Eigen::Index q = p; q < H; ++q) {
      if (kernel_.strategy() == KernelStrategy::kPrecomputed) {
        pair[static_cast<size_t>(p * H + q)] = &kernel_.StoredPair(p, q);
      } else {
        formed.push_back(kernel_.Pair(p, q));
        pair[static_cast<size_t>(p * H + q)] = &formed.back();
      }
    }
  }
  auto C = [&](Eigen::Index p, Eigen::Index q) -> const Eigen::MatrixXd& {
    return *pair[static_cast<size_t>(std::min(p, q) * H + std::max(p, q))];
  };

  // Generators F_ab = e_a e_bᵀ, a = (p,d), b = (q,d') (index p D + d):
  // K_{F_ab} = J_d C_pq J_d'ᵀ (block (d,d') of the PD × PD matrix is C_pq), so
  //   tr(R K_{F_ab} R K_{F_ce}) = Σ_μν X^{d,pq}[(μ,f'),ν] X^{f,rs}[(ν,d'),μ]
  // with X^{d,pq} = R J_d C_pq (PD × P), c = (r,f), e = (s,f'). Column
  // ((d H + p) H + q) D + x of A holds the P × P block of X^{d,pq} in the rows
  // of output x, the same column of B its transpose: t = Aᵀ B.
  // The GEMMs go to BLAS or Eigen, whichever is faster here (Gemm, solver/spd.h).
  const Eigen::Index blocks = D * H * H * D;
  Eigen::MatrixXd A(P * P, blocks), B(P * P, blocks), X(n, P);
  using ConstBlockMap =
      Eigen::Map<const Eigen::MatrixXd, 0, Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>>;
  const int nb = BlasInt(n), Pb = BlasInt(P), ldr = BlasInt(D * n), PPb = BlasInt(P * P),
            bb = BlasInt(blocks);
  const double one = 1.0, zero = 0.0;
  for (Eigen::Index d = 0; d < D; ++d) {
    // R J_d: the columns (ν, d) of R, n × P with leading dimension D n.
    const double* Rd = R.data() + d * n;
    for (Eigen::Index p = 0; p < H; ++p) {
      for (Eigen::Index q = 0; q < H; ++q) {
        const Eigen::MatrixXd& Cpq = C(p, q);  // C_qp = C_pqᵀ
        Gemm('N', p <= q ? 'N' : 'T', nb, Pb, Pb, one, Rd, ldr, Cpq.data(), Pb, zero, X.data(), nb);
        for (Eigen::Index x = 0; x < D; ++x) {
          const Eigen::Index col = ((d * H + p) * H + q) * D + x;
          const ConstBlockMap V(X.data() + x, P, P,
                                Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>(n, D));
          Eigen::Map<Eigen::MatrixXd>(A.col(col).data(), P, P) = V;
          Eigen::Map<Eigen::MatrixXd>(B.col(col).data(), P, P) = V.transpose();
        }
      }
    }
  }
  Eigen::MatrixXd t(blocks, blocks);
  Gemm('T', 'N', bb, bb, PPb, one, A.data(), PPb, B.data(), PPb, zero, t.data(), bb);
  auto generator_trace = [&](Eigen::Index a, Eigen::Index b, Eigen::Index c, Eigen::Index e) {
    const Eigen::Index p = a / D, d = a % D, q = b / D, d2 = b % D;
    const Eigen::Index r = c / D, f = c % D, s = e / D, f2 = e % D;
    return t(((d * H + p) * H + q) * D + f2, ((f * H + r) * H + s) * D + d2);
  };

  // v_k = K_{E_k} α: K_{F_ab} α = J_d (C_pq α_d'), α_d' = the entries of output d'.
  const auto entry = UpperEntries(m);
  const Eigen::Index entries = static_cast<Eigen::Index>(entry.size());
  Eigen::MatrixXd alpha_out(P, D);  // column d' = α_d'
  for (Eigen::Index mu = 0; mu < P; ++mu) alpha_out.row(mu) = alpha.segment(mu * D, D).transpose();
  Eigen::MatrixXd V = Eigen::MatrixXd::Zero(n, entries);
  auto add_generator = [&](Eigen::Index k, Eigen::Index a, Eigen::Index b) {
    const Eigen::Index p = a / D, d = a % D, q = b / D, d2 = b % D;
    const Eigen::VectorXd c = p <= q ? Eigen::VectorXd(C(p, q) * alpha_out.col(d2))
                                     : Eigen::VectorXd(C(q, p).transpose() * alpha_out.col(d2));
    StridedVector(V.col(k).data() + d, P, Eigen::InnerStride<>(D)) += c;
  };
  for (Eigen::Index k = 0; k < entries; ++k) {
    const auto [i, j] = entry[static_cast<size_t>(k)];
    add_generator(k, i, j);
    if (i != j) add_generator(k, j, i);
  }
  const Eigen::MatrixXd RV = R * V;
  hessian->noalias() = 2.0 * V.transpose() * RV;
  SubtractTraces(m, generator_trace, hessian);
  return true;
}

// One output: the generator of entry k = (i, j), i ≤ j, gives the symmetric
// S_k = K_{E_k} = C_ij + C_ijᵀ (C_ii on the diagonal), so with Y_k = G⁻¹ S_k
//   H_kl = −tr(Y_k Y_l) + 2 (S_k α)ᵀ G⁻¹ (S_l α),   tr(Y_k Y_l) = ⟨Y_kᵀ, Y_l⟩:
// one GEMM per entry (Htot(Htot+1)/2 of them, 2 P³ flops each, against the
// Htot² products of the ordered pairs in the general form below), Y_k kept,
// and the traces with every earlier Y_l as one GEMV with Y_kᵀ (issue 14 §2).
bool TrainingGram::EnergyHessianSymmetric(const Eigen::MatrixXd& R,
                                          const Eigen::Ref<const Eigen::VectorXd>& alpha,
                                          Eigen::MatrixXd* hessian) {
  const Eigen::Index H = kernel_.Htot(), P = kernel_.P();
  const auto entry = UpperEntries(H);
  const Eigen::Index entries = static_cast<Eigen::Index>(entry.size());
  const bool stored = kernel_.strategy() == KernelStrategy::kPrecomputed;
  // The P² × e and P × P buffers are kept between calls (allocated once they
  // have their size); per call only e × e and P × e matrices are allocated,
  // and each pair C_ij when the kernel does not store them.
  Eigen::MatrixXd &Y = hessian_y_, &Yt = hessian_yt_, &V = hessian_v_, &S = hessian_s_;
  Y.resize(P * P, entries);                  // column k: vec Y_k
  Yt.resize(P, P);                           // Y_kᵀ
  V.resize(P, entries);                      // column k: S_k α
  S.resize(P, P);                            // S_k off the diagonal
  Eigen::MatrixXd traces(entries, entries);  // tr(Y_k Y_l), l ≤ k
  Eigen::MatrixXd C;
  const int Pb = BlasInt(P);
  const double one = 1.0, zero = 0.0;
  for (Eigen::Index k = 0; k < entries; ++k) {
    const auto [i, j] = entry[static_cast<size_t>(k)];
    if (!stored) C = kernel_.Pair(i, j);
    const Eigen::MatrixXd& Cij = stored ? kernel_.StoredPair(i, j) : C;
    const double* s = Cij.data();  // S_k = C_ii (symmetric) on the diagonal
    if (i != j) {
      TransposeTiles<true>(Cij.data(), S.data(), P);  // S_k = C_ij + C_ijᵀ
      s = S.data();
    }
    V.col(k).noalias() = Eigen::Map<const Eigen::MatrixXd>(s, P, P) * alpha;
    // Y_k = G⁻¹ S_k (BLAS or Eigen, whichever is faster here: Gemm, solver/spd.h)
    Gemm('N', 'N', Pb, Pb, Pb, one, R.data(), Pb, s, Pb, zero, Y.col(k).data(), Pb);
    TransposeTiles<false>(Y.col(k).data(), Yt.data(), P);
    traces.col(k).head(k + 1).noalias() =
        Y.leftCols(k + 1).transpose() * Eigen::Map<const Eigen::VectorXd>(Yt.data(), P * P);
  }
  const Eigen::MatrixXd RV = R * V;
  hessian->noalias() = 2.0 * V.transpose() * RV;
  hessian->triangularView<Eigen::Upper>() -= traces;
  hessian->triangularView<Eigen::StrictlyLower>() = hessian->transpose();
  return true;
}

bool TrainingGram::EnergyHessianFeatures(const Eigen::Ref<const Eigen::VectorXd>& alpha,
                                         Eigen::MatrixXd* hessian) const {
  const PathInputs& in = kernel_.inputs();
  const Eigen::Index H = in.Htot, D = D_, P = in.P(), N0 = in.N0, n = P * D, m = H * D;
  // M = L⁻¹ Ξ̃ (PD × m N0): column block a = (π,d) of Ξ̃ is J_d Ξ_π (the
  // features of path π in the rows of output d), so L⁻¹ K_{F_ab} L⁻ᵀ = M_a M_bᵀ
  // and, with Γ = Mᵀ M (blocks Γ_ab = M_aᵀ M_b, N0 × N0),
  //   t(a,b;c,e) = tr(M_a M_bᵀ M_c M_eᵀ) = ⟨Γ_ea, Γ_cb⟩,
  // every one from one GEMM of the vectorised blocks.
  Eigen::MatrixXd M = Eigen::MatrixXd::Zero(n, m * N0);
  for (Eigen::Index p = 0; p < H; ++p) {
    for (Eigen::Index d = 0; d < D; ++d) {
      for (Eigen::Index mu = 0; mu < P; ++mu) {
        M.block(mu * D + d, (p * D + d) * N0, 1, N0) = in.xi.block(mu, p * N0, 1, N0);
      }
    }
  }
  // Any B with BᵀB = G⁻¹ serves below: L⁻¹ with the factor kept, else Rᵀ for
  // the Cholesky factor R of G⁻¹ (G⁻¹ = R Rᵀ).
  if (inverse_state_ == InverseState::kFull) {
    const Eigen::LLT<Eigen::MatrixXd> root(inverse_);
    if (root.info() != Eigen::Success) return false;
    M = root.matrixU() * M;
  } else {
    G_.triangularView<Eigen::Lower>().solveInPlace(M);
  }
  Eigen::MatrixXd Gamma(m * N0, m * N0);
  Gamma.setZero();
  Gamma.selfadjointView<Eigen::Lower>().rankUpdate(M.transpose());
  Gamma.triangularView<Eigen::StrictlyUpper>() = Gamma.transpose();
  const Eigen::MatrixXd t = BlockTraceTable(Gamma, m, N0);
  auto generator_trace = [&](Eigen::Index a, Eigen::Index b, Eigen::Index c, Eigen::Index e) {
    return t(e * m + a, c * m + b);
  };

  // (K_{E_k} α)ᵀ G⁻¹ (K_{E_l} α) = u_kᵀ u_l with u_k = L⁻¹ K_{E_k} α, and
  // L⁻¹ K_{F_ab} α = M_a w_b, w_b = Ξ_π'ᵀ α_d' for b = (π', d').
  Eigen::MatrixXd alpha_out(P, D);
  for (Eigen::Index mu = 0; mu < P; ++mu) alpha_out.row(mu) = alpha.segment(mu * D, D).transpose();
  const Eigen::MatrixXd w = in.xi.transpose() * alpha_out;  // (H N0) × D
  const auto entry = UpperEntries(m);
  const Eigen::Index entries = static_cast<Eigen::Index>(entry.size());
  Eigen::MatrixXd U = Eigen::MatrixXd::Zero(n, entries);
  auto add_generator = [&](Eigen::Index k, Eigen::Index a, Eigen::Index b) {
    const Eigen::Index q = b / D, d2 = b % D;
    U.col(k).noalias() += M.middleCols(a * N0, N0) * w.block(q * N0, d2, N0, 1);
  };
  for (Eigen::Index k = 0; k < entries; ++k) {
    const auto [i, j] = entry[static_cast<size_t>(k)];
    add_generator(k, i, j);
    if (i != j) add_generator(k, j, i);
  }
  hessian->noalias() = 2.0 * U.transpose() * U;
  SubtractTraces(m, generator_trace, hessian);
  return true;
}

void FeatureEnergyHessian(const Eigen::MatrixXd& Gamma, const Eigen::VectorXd& w, Eigen::Index m,
                          Eigen::Index N0, Eigen::MatrixXd* hessian) {
  Require(Gamma.rows() == m * N0 && Gamma.cols() == m * N0 && w.size() == m * N0, "feature Gamma",
          std::to_string(Gamma.rows()) + " x " + std::to_string(Gamma.cols()),
          std::to_string(m * N0) + " square");
  const Eigen::MatrixXd t = BlockTraceTable(Gamma, m, N0);
  auto generator_trace = [&](Eigen::Index a, Eigen::Index b, Eigen::Index c, Eigen::Index e) {
    return t(e * m + a, c * m + b);
  };
  // Q = Vᵀ Γ V with column k of V holding w_b in block a for each generator (a, b) of E_k.
  const auto entry = UpperEntries(m);
  const Eigen::Index entries = static_cast<Eigen::Index>(entry.size());
  Eigen::MatrixXd V = Eigen::MatrixXd::Zero(m * N0, entries);
  for (Eigen::Index k = 0; k < entries; ++k) {
    const auto [i, j] = entry[static_cast<size_t>(k)];
    V.col(k).segment(i * N0, N0) += w.segment(j * N0, N0);
    if (i != j) V.col(k).segment(j * N0, N0) += w.segment(i * N0, N0);
  }
  const Eigen::MatrixXd GV = Gamma * V;
  hessian->noalias() = 2.0 * V.transpose() * GV;
  SubtractTraces(m, generator_trace, hessian);
}

PredictorMoments TrainingGram::Predict(const PathInputs& test,
                                       const Eigen::Ref<const Eigen::VectorXd>& alpha) const {
  Require(factorized_, "TrainingGram", "no factorisation", "a successful Factorize first");
  RequireExamples(use_features_, "TrainingGram::Predict(test, alpha)");
  const PathInputs& in = kernel_.inputs();
  Require(test.Htot == in.Htot && test.N0 == in.N0, "test path inputs",
          std::to_string(test.Htot) + " paths x " + std::to_string(test.N0) + " features",
          std::to_string(in.Htot) + " paths x " + std::to_string(in.N0) +
              " features (the training set's)");
  Require(alpha.size() == size(), "alpha size", alpha.size(), std::to_string(size()) + " (P D)");
  const Eigen::Index H = in.Htot, N0 = in.N0, P = in.P(), D = D_, n = P * D, Pt = test.P();
  const std::vector<Eigen::MatrixXd> Ut = OutputRows(U1_, H, D);
  PredictorMoments m;
  m.mean.resize(Pt, D);
  m.covariance.resize(Pt, D * D);
  // Test points in blocks: k* of a block is (b D) × (P D).
  const Eigen::Index block = std::clamp<Eigen::Index>(
      (Eigen::Index{1} << 22) / std::max<Eigen::Index>(n * D, 1), 1, std::max<Eigen::Index>(Pt, 1));
  Eigen::MatrixXd X, A, K, Kstar, Gk;
  for (Eigen::Index t0 = 0; t0 < Pt; t0 += block) {
    const Eigen::Index b = std::min(block, Pt - t0);
    X = test.xi.middleRows(t0, b);  // b × Htot·N0, contiguous for the stacked view
    A.resize(b * N0, D * H);
    K.resize(b * D, n);
    Kstar.resize(b, D * D);
    for (Eigen::Index d = 0; d < D; ++d) {
      A.noalias() = Stacked(std::as_const(X), N0) * Ut[static_cast<size_t>(d)];
      for (Eigen::Index e = 0; e < D; ++e) {
        const Eigen::Map<const Eigen::MatrixXd> Ade(A.data() + e * H * b * N0, b, H * N0);
        // k*[(μ,d),(ν,e)] = Σ_ππ' U_1[(π,d),(π',e)] C_ππ'(x*_μ, x^ν)
        OutputBlock(K, D, d, e).noalias() = Ade * in.xi.transpose();
        // K*(x*, x*)_{de} = Σ_ππ' U_1[(π,d),(π',e)] C_ππ'(x*, x*)
        Kstar.col(d + D * e) = Ade.cwiseProduct(X).rowwise().sum();
      }
    }
    const Eigen::VectorXd f = K * alpha;  // (μ, d) order
    for (Eigen::Index mu = 0; mu < b; ++mu) m.mean.row(t0 + mu) = f.segment(mu * D, D).transpose();
    Gk = Solve(K.transpose());  // G⁻¹ k*ᵀ, (P D) × (b D)
    for (Eigen::Index mu = 0; mu < b; ++mu) {
      const Eigen::MatrixXd S = K.middleRows(mu * D, D) * Gk.middleCols(mu * D, D);
      for (Eigen::Index e = 0; e < D; ++e) {
        for (Eigen::Index d = 0; d < D; ++d) {
          // Σ = K* − k* G⁻¹ k*ᵀ, symmetrised (its two triangles round differently).
          m.covariance(t0 + mu, d + D * e) =
              0.5 * (Kstar(mu, d + D * e) + Kstar(mu, e + D * d)) - 0.5 * (S(d, e) + S(e, d));
        }
      }
    }
  }
  return m;
}

Eigen::MatrixXd TrainingGram::TrainingKernel(const Eigen::Ref<const Eigen::MatrixXd>& U1) {
  const Eigen::Index m = kernel_.Htot() * D_;
  Require(U1.rows() == m && U1.cols() == m, "U_1 shape",
          std::to_string(U1.rows()) + " x " + std::to_string(U1.cols()),
          std::to_string(m) + " x " + std::to_string(m) + " (Htot D x Htot D)");
  factorized_ = false;
  inverse_state_ = InverseState::kNone;
  Assemble(U1);
  G_.triangularView<Eigen::StrictlyUpper>() = G_.transpose();
  return G_;
}

Eigen::MatrixXd OutputKernel(const PathKernel& kernel,
                             const Eigen::Ref<const Eigen::MatrixXd>& U1) {
  const Eigen::Index H = kernel.Htot();
  Require(U1.rows() == U1.cols() && U1.rows() >= H && U1.rows() % H == 0, "U_1 shape",
          std::to_string(U1.rows()) + " x " + std::to_string(U1.cols()),
          "a square (Htot D) x (Htot D) matrix with Htot = " + std::to_string(H));
  TrainingGram gram(kernel, U1.rows() / H);
  return gram.TrainingKernel(U1);
}

}  // namespace attnpaths
