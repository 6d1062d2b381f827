#include "solver/action.h"

#include <Eigen/Cholesky>
#include <cmath>

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
              std::string(field) + "[" + std::to_string(i) + "," + std::to_string(j) + "]",
              Y(i, j), "a finite number");
    }
  }
}

Action::Action(const Architecture& arch, const PathKernel& kernel,
               const Eigen::Ref<const Eigen::MatrixXd>& Y, double temperature)
    : arch_(arch), kernel_(kernel), Y_(Y), temperature_(temperature) {
  arch.ValidateHyperparameters();
  Require(std::isfinite(temperature) && temperature >= 0, "temperature", temperature,
          "a finite value >= 0");
  Require(kernel.Htot() == arch.Htot(), "path kernel paths", kernel.Htot(),
          std::to_string(arch.Htot()) + " (Htot of the architecture)");
  Require(kernel.P() >= 1, "training set size P", kernel.P(), "at least 1 example");
  CheckLabels(Y_, kernel.P(), "y");
}

namespace {

// ln det and inverse of a small SPD matrix; false when not positive definite.
bool SmallSpd(const Eigen::MatrixXd& U, double* log_det, Eigen::MatrixXd* inverse) {
  Eigen::LLT<Eigen::MatrixXd> llt(U);
  if (llt.info() != Eigen::Success) return false;
  const auto d = llt.matrixLLT().diagonal();
  if ((d.array() <= 0).any()) return false;
  *log_det = 2.0 * d.array().log().sum();
  if (inverse) *inverse = llt.solve(Eigen::MatrixXd::Identity(U.rows(), U.cols()));
  return std::isfinite(*log_det);
}

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
  for (int l = 0; l < L; ++l) {
    if (!SmallSpd(U[static_cast<size_t>(l)], &log_det[static_cast<size_t>(l)],
                  &inv[static_cast<size_t>(l)])) {
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

  // Energy: D ln det G + tr(Yᵀ G⁻¹ Y) (theory.md §3, last line).
  Eigen::MatrixXd G = kernel_.Total(U[0]);
  G.diagonal().array() += temperature_;
  SpdFactor g;
  if (!g.Factorize(std::move(G))) {
    v.failure = "G = K_U + T I is not positive definite (at T = 0 the kernel must be invertible)";
    return v;
  }
  const double D = static_cast<double>(Y_.cols());
  const Eigen::MatrixXd alpha = g.Solve(Y_);
  const double energy = D * g.log_det() + Y_.cwiseProduct(alpha).sum();

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
    Eigen::MatrixXd next_inv =
        l < L ? inv[i + 1] : Eigen::MatrixXd::Constant(1, 1, 1.0 / v.U_a);
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
  // R = D G⁻¹ − α αᵀ; ∂E/∂U_1 = Σ_μν R_μν C_ππ'(μ,ν).
  Eigen::MatrixXd R = g.Inverse();
  R *= D;
  R.noalias() -= alpha * alpha.transpose();
  (*grad)[0] += kernel_.Contract(R);
  for (auto& gl : *grad) gl = 0.5 * (gl + gl.transpose());
  return v;
}

}  // namespace attnpaths
