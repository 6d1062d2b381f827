#include "solver/feature_gram.h"

#include <Eigen/Cholesky>
#include <Eigen/Eigenvalues>
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "kernels/error.h"
#include "solver/spd.h"
#include "solver/training_gram.h"

namespace attnpaths {

namespace {

// X (rows × k·N0, column-major, column block a of N0 columns per index a)
// times (S ⊗ I_N0) for S (k × k'): one GEMM of X read as the (rows·N0) × k
// matrix whose column a holds block a.
Eigen::MatrixXd KronRight(const Eigen::MatrixXd& X, const Eigen::MatrixXd& S, Eigen::Index N0) {
  const Eigen::Index rows = X.rows();
  Eigen::MatrixXd out(rows, S.cols() * N0);
  Eigen::Map<Eigen::MatrixXd>(out.data(), rows * N0, S.cols()).noalias() =
      Eigen::Map<const Eigen::MatrixXd>(X.data(), rows * N0, S.rows()) * S;
  return out;
}

// ℓ_d (Htot × m): the rows (π, d) of ℓ (m × m, rows π D + d).
Eigen::MatrixXd OutputRowsOf(const Eigen::MatrixXd& ell, Eigen::Index H, Eigen::Index D,
                             Eigen::Index d) {
  Eigen::MatrixXd out(H, ell.cols());
  for (Eigen::Index p = 0; p < H; ++p) out.row(p) = ell.row(p * D + d);
  return out;
}

// Σ_i X[(a,i),(b,i)]: the traces of the N0 × N0 blocks of an (m N0) square matrix.
Eigen::MatrixXd BlockTraces(const Eigen::MatrixXd& X, Eigen::Index m, Eigen::Index N0) {
  Eigen::MatrixXd t(m, m);
  for (Eigen::Index b = 0; b < m; ++b) {
    for (Eigen::Index a = 0; a < m; ++a) t(a, b) = X.block(a * N0, b * N0, N0, N0).trace();
  }
  return t;
}

}  // namespace

FeatureGram::FeatureGram(const Eigen::MatrixXd* A, Eigen::MatrixXd b, double yty, Eigen::Index P,
                         Eigen::Index Htot, Eigen::Index N0)
    : A_(A), b_(std::move(b)), yty_(yty), P_(P), H_(Htot), N0_(N0), D_(b_.cols()) {
  const Eigen::Index M = Htot * N0;
  Require(A != nullptr && A->rows() == M && A->cols() == M, "feature Gram A",
          A ? std::to_string(A->rows()) + " x " + std::to_string(A->cols()) : "none",
          std::to_string(M) + " x " + std::to_string(M) + " (M = Htot N0)");
  Require(b_.rows() == M && D_ >= 1, "feature Gram b = Xi^T Y",
          std::to_string(b_.rows()) + " x " + std::to_string(b_.cols()),
          std::to_string(M) + " x D with D >= 1");
  Require(P >= 1, "training set size P", P, "at least 1 example");
  m_ = H_ * D_;
  r_ = m_ * N0_;
}

bool FeatureGram::Factorize(const Eigen::Ref<const Eigen::MatrixXd>& U1, double temperature) {
  factorized_ = false;
  have_fw_ = false;
  Require(U1.rows() == m_ && U1.cols() == m_, "U_1 shape",
          std::to_string(U1.rows()) + " x " + std::to_string(U1.cols()),
          std::to_string(m_) + " x " + std::to_string(m_) + " (Htot D x Htot D)");
  if (!(std::isfinite(temperature) && temperature > 0)) {
    const bool singular = P_ * D_ > r_;
    throw Error(ErrorMessage(
        "temperature", ToText(temperature),
        "a value > 0 for the feature-space storage of G (theory.md §10)" +
            std::string(singular ? ": with P D = " + std::to_string(P_ * D_) +
                                       " above Htot N0 D = " + std::to_string(r_) +
                                       ", G = K_U is singular at T = 0"
                                 : "; at T = 0 use storage \"pairs\" or \"factored\"")));
  }
  if (!U1.allFinite()) return false;
  temperature_ = temperature;
  // U_1 = ℓ ℓᵀ: the Cholesky factor, or for a singular positive semi-definite
  // U_1 (silenced paths, solver/pruning.h) ℓ = V Λ^{1/2} with the null
  // directions as zero columns — Φ then has zero columns, F = W + T I stays
  // positive definite and every identity above holds; only the gradient and
  // Hessian, which need ℓ⁻¹, report false there.
  const Eigen::MatrixXd Us = 0.5 * (U1 + U1.transpose());
  const Eigen::LLT<Eigen::MatrixXd> llt(Us);
  has_inverse_ = true;
  if (llt.info() == Eigen::Success && (llt.matrixLLT().diagonal().array() > 0).all()) {
    ell_ = llt.matrixL();
    ell_inverse_.setIdentity(m_, m_);
    ell_.triangularView<Eigen::Lower>().solveInPlace(ell_inverse_);
  } else {
    const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(Us);
    if (es.info() != Eigen::Success) return false;
    const Eigen::VectorXd lam = es.eigenvalues();
    const double floor = -1e-12 * std::max(1.0, lam.cwiseAbs().maxCoeff());
    if (lam.minCoeff() < floor) return false;  // not positive semi-definite
    const Eigen::VectorXd root = lam.cwiseMax(0.0).cwiseSqrt();
    ell_ = es.eigenvectors() * root.asDiagonal();
    has_inverse_ = false;
  }

  // W = Lᵀ Ã L = Σ_d (ℓ_d ⊗ I)ᵀ A (ℓ_d ⊗ I); s = Lᵀ b̃ = Σ_d (ℓ_dᵀ ⊗ I) b_d.
  W_.setZero(r_, r_);
  Eigen::VectorXd s = Eigen::VectorXd::Zero(r_);
  for (Eigen::Index d = 0; d < D_; ++d) {
    const Eigen::MatrixXd ld = OutputRowsOf(ell_, H_, D_, d);
    const Eigen::MatrixXd X = KronRight(*A_, ld, N0_);  // A (ℓ_d ⊗ I): M × r
    const Eigen::MatrixXd Xt = X.transpose();
    W_ += KronRight(Xt, ld, N0_);  // (ℓ_d ⊗ I)ᵀ A (ℓ_d ⊗ I), transposed (symmetric)
    const Eigen::Map<const Eigen::MatrixXd> bd(b_.col(d).data(), N0_, H_);
    Eigen::Map<Eigen::MatrixXd>(s.data(), N0_, m_) += bd * ld;
  }
  W_ = (0.5 * (W_ + W_.transpose())).eval();
  if (!W_.allFinite()) return false;
  F_ = W_;
  F_.diagonal().array() += temperature;
  if (!CholeskyInPlace(&F_)) return false;
  const auto diag = F_.diagonal();
  if ((diag.array() <= 0).any()) return false;
  log_det_ =
      static_cast<double>(P_ * D_ - r_) * std::log(temperature) + 2.0 * diag.array().log().sum();
  Eigen::MatrixXd c = s;
  CholeskySolveInPlace(F_, &c);
  c_ = c.col(0);
  quadratic_ = (yty_ - s.dot(c_)) / temperature;
  factorized_ = std::isfinite(log_det_) && std::isfinite(quadratic_);
  return factorized_;
}

double FeatureGram::LogDet() const {
  Require(factorized_, "FeatureGram", "no factorisation", "a successful Factorize first");
  return log_det_;
}

double FeatureGram::Quadratic() const {
  Require(factorized_, "FeatureGram", "no factorisation", "a successful Factorize first");
  return quadratic_;
}

void FeatureGram::SolveFW() {
  if (have_fw_) return;
  X_ = W_;
  CholeskySolveInPlace(F_, &X_);
  X_ = (0.5 * (X_ + X_.transpose())).eval();
  have_fw_ = true;
}

Eigen::VectorXd FeatureGram::FeatureAlpha() const {
  Require(factorized_, "FeatureGram", "no factorisation", "a successful Factorize first");
  Require(has_inverse_, "FeatureGram::FeatureAlpha", "a singular U_1", "a positive definite U_1");
  // Ξ̃ᵀα = L⁻ᵀ c: block b is Σ_a ℓ⁻¹[a,b] c_a.
  Eigen::VectorXd w(r_);
  Eigen::Map<Eigen::MatrixXd>(w.data(), N0_, m_).noalias() =
      Eigen::Map<const Eigen::MatrixXd>(c_.data(), N0_, m_) * ell_inverse_;
  return w;
}

bool FeatureGram::EnergyGradient(Eigen::MatrixXd* grad) {
  Require(factorized_, "FeatureGram", "no factorisation", "a successful Factorize first");
  if (!has_inverse_) return false;
  SolveFW();
  // tr_blocks(F⁻¹W − c cᵀ), then ℓ⁻ᵀ (·) ℓ⁻¹.
  Eigen::MatrixXd Q = BlockTraces(X_, m_, N0_);
  const Eigen::Map<const Eigen::MatrixXd> C(c_.data(), N0_, m_);
  Q.noalias() -= C.transpose() * C;
  *grad = ell_inverse_.transpose() * Q * ell_inverse_;
  *grad = (0.5 * (*grad + grad->transpose())).eval();
  return grad->allFinite();
}

bool FeatureGram::EnergyHessian(Eigen::MatrixXd* hessian) {
  Require(factorized_, "FeatureGram", "no factorisation", "a successful Factorize first");
  if (!has_inverse_) return false;
  SolveFW();
  // Γ = Ξ̃ᵀG⁻¹Ξ̃ = (ℓ⁻ᵀ ⊗ I) F⁻¹W (ℓ⁻¹ ⊗ I).
  const Eigen::MatrixXd Y1t = KronRight(X_, ell_inverse_, N0_).transpose();
  Eigen::MatrixXd Gamma = KronRight(Y1t, ell_inverse_, N0_);
  Gamma = (0.5 * (Gamma + Gamma.transpose())).eval();
  FeatureEnergyHessian(Gamma, FeatureAlpha(), m_, N0_, hessian);
  return hessian->allFinite();
}

PredictorMoments FeatureGram::Predict(const PathInputs& test) const {
  Require(factorized_, "FeatureGram", "no factorisation", "a successful Factorize first");
  Require(
      test.Htot == H_ && test.N0 == N0_, "test path inputs",
      std::to_string(test.Htot) + " paths x " + std::to_string(test.N0) + " features",
      std::to_string(H_) + " paths x " + std::to_string(N0_) + " features (the training set's)");
  const Eigen::Index Pt = test.P(), D = D_;
  PredictorMoments out;
  out.mean.resize(Pt, D);
  out.covariance.resize(Pt, D * D);
  std::vector<Eigen::MatrixXd> ld(static_cast<size_t>(D));
  for (Eigen::Index d = 0; d < D; ++d) ld[static_cast<size_t>(d)] = OutputRowsOf(ell_, H_, D, d);
  // Test points in blocks of about 32 MiB of Φ*.
  const Eigen::Index block =
      std::clamp<Eigen::Index>((Eigen::Index{1} << 22) / std::max<Eigen::Index>(r_ * D, 1), 1,
                               std::max<Eigen::Index>(Pt, 1));
  Eigen::MatrixXd X;
  std::vector<Eigen::MatrixXd> V(static_cast<size_t>(D));
  for (Eigen::Index t0 = 0; t0 < Pt; t0 += block) {
    const Eigen::Index b = std::min(block, Pt - t0);
    X = test.xi.middleRows(t0, b);  // contiguous for the stacked view
    for (Eigen::Index d = 0; d < D; ++d) {
      // Φ*_d = Ξ* (ℓ_d ⊗ I): row μ holds the r features of output d at test point μ.
      const Eigen::MatrixXd Phi = KronRight(X, ld[static_cast<size_t>(d)], N0_);
      out.mean.col(d).segment(t0, b).noalias() = Phi * c_;  // f̄_d = Φ*_d c
      Eigen::MatrixXd& v = V[static_cast<size_t>(d)];
      v = Phi.transpose();
      F_.triangularView<Eigen::Lower>().solveInPlace(v);  // R⁻¹ Φ*_dᵀ, F = R Rᵀ
    }
    // Σ(x*)_de = T (R⁻¹Φ*_dᵀ)ᵀ(R⁻¹Φ*_eᵀ) at each point.
    for (Eigen::Index d = 0; d < D; ++d) {
      for (Eigen::Index e = 0; e <= d; ++e) {
        const Eigen::VectorXd s = temperature_ * V[static_cast<size_t>(d)]
                                                     .cwiseProduct(V[static_cast<size_t>(e)])
                                                     .colwise()
                                                     .sum()
                                                     .transpose();
        out.covariance.col(d + D * e).segment(t0, b) = s;
        out.covariance.col(e + D * d).segment(t0, b) = s;
      }
    }
  }
  return out;
}

double FeatureGram::MemoryBytes() const {
  const double r = static_cast<double>(r_), M = static_cast<double>(H_ * N0_);
  return 8.0 * (3 * r * r + M * r + M * static_cast<double>(D_));
}

}  // namespace attnpaths
