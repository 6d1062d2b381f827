#include "solver/action.h"

#include <Eigen/Cholesky>
#include <cmath>
#include <mutex>

#include "kernels/error.h"
#include "kernels/paths.h"
#include "solver/order_parameters.h"
#include "solver/training_gram.h"

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

// The TrainingGram of the energy term with its scratch, reused while no other
// evaluation holds it.
struct Action::Workspace {
  Workspace(const PathKernel& kernel, const Eigen::MatrixXd& Y) : gram(kernel, Y) {}
  std::mutex mutex;
  TrainingGram gram;
};

Action::Action(const Architecture& arch, const PathKernel& kernel,
               const Eigen::Ref<const Eigen::MatrixXd>& Y, double temperature, ReadoutMode readout)
    : arch_(arch), kernel_(kernel), Y_(Y), temperature_(temperature), readout_(readout) {
  arch.ValidateHyperparameters();
  Require(std::isfinite(temperature) && temperature >= 0, "temperature", temperature,
          "a finite value >= 0");
  Require(kernel.Htot() == arch.Htot(), "path kernel paths", kernel.Htot(),
          std::to_string(arch.Htot()) + " (Htot of the architecture)");
  Require(kernel.P() >= 1, "training set size P", kernel.P(), "at least 1 example");
  CheckLabels(Y_, kernel.P(), "y");
  Require(!(temperature == 0 && !kernel.has_inputs()), "temperature", 0,
          "a value > 0 with a streamed (feature-space) kernel (theory.md §10: at T = 0 G = K_U "
          "is singular when P D > Htot N0 D); use storage \"pairs\" or \"factored\"");
  y_ = StackOutputs(Y_);
  workspace_ = std::make_shared<Workspace>(kernel_, Y_);
}

std::vector<Eigen::MatrixXd> Action::InitialPoint() const {
  OrderParameters gp = GpOrderParameters(arch_, outputs());
  if (readout_ == ReadoutMode::kFree) gp.U.push_back(gp.U_a);
  return gp.U;
}

void Action::CheckPoint(const std::vector<Eigen::MatrixXd>& U) const {
  const size_t L = static_cast<size_t>(arch_.L());
  if (readout_ == ReadoutMode::kEliminated) {
    CheckShapes(arch_, U, outputs());
    return;
  }
  Require(U.size() == L + 1, "order parameters (number of matrices)", U.size(),
          std::to_string(L + 1) + " (U_1, ..., U_L and U_a: the readout is free)");
  CheckShapes(arch_, std::vector<Eigen::MatrixXd>(U.begin(), U.end() - 1), outputs());
  const Eigen::Index D = outputs();
  Require(U.back().rows() == D && U.back().cols() == D, "U_a shape",
          std::to_string(U.back().rows()) + " x " + std::to_string(U.back().cols()),
          std::to_string(D) + " x " + std::to_string(D) + " (D x D)");
  Require(U.back().allFinite(), "U_a", "a non-finite entry", "finite entries");
}

namespace {

// ln det and inverse of a small SPD matrix, and its lower Cholesky factor when
// `factor` is given; false when not positive definite.
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
  CheckPoint(U_in);
  const int L = arch_.L();
  const auto H = arch_.heads_per_layer();
  const bool free_readout = readout_ == ReadoutMode::kFree;
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
  // U_a: the matrix root of theory.md §9 (§3's root at D = 1), or the free variable.
  v.U_a = free_readout ? U.back() : EliminateUa(arch_, U[static_cast<size_t>(L - 1)]);
  double log_det_a = 0;
  Eigen::MatrixXd inv_a;
  if (!SmallSpd(v.U_a, &log_det_a, &inv_a)) {
    v.failure = "U_a is not positive definite";
    return v;
  }
  const double sa2 = arch_.variances[static_cast<size_t>(L + 1)];
  const double na = arch_.widths[static_cast<size_t>(L)];

  // Entropy (theory.md §3, first two lines; §9 with U_{L+1} ≡ U_a).
  double entropy = na * (v.U_a.trace() / sa2 - log_det_a);
  for (int l = 1; l <= L; ++l) {
    const size_t i = static_cast<size_t>(l - 1);
    const double n = arch_.widths[i], s2 = arch_.variances[static_cast<size_t>(l)];
    const double h = static_cast<double>(H[i]);
    const Eigen::MatrixXd tr = PartialTrace(U[i], H[i]);
    const Eigen::MatrixXd& next_inv = l < L ? inv[i + 1] : inv_a;
    const double next_log_det = l < L ? log_det[i + 1] : log_det_a;
    // tr(U_{ℓ+1}⁻¹ tr_ℓ U_ℓ), both symmetric
    entropy += n * (next_inv.cwiseProduct(tr).sum() / s2 - log_det[i] + h * next_log_det);
  }

  // Energy: ln det G + vec(Y)ᵀ G⁻¹ vec(Y) (theory.md §3 last line, §9), in the
  // shared TrainingGram when free, else in this call's own.
  std::unique_lock<std::mutex> lock(workspace_->mutex, std::try_to_lock);
  std::unique_ptr<Workspace> own;
  if (!lock.owns_lock()) own = std::make_unique<Workspace>(kernel_, Y_);
  TrainingGram& gram = own ? own->gram : workspace_->gram;
  if (!gram.Factorize(U[0], temperature_)) {
    v.failure = "G = K_U + T I is not positive definite (at T = 0 the kernel must be invertible)";
    return v;
  }
  const double energy = gram.LogDet() + gram.Quadratic();
  Eigen::MatrixXd energy_grad;
  if (grad && !gram.EnergyGradient(&energy_grad)) {
    v.failure = "G = K_U + T I could not be inverted (LAPACK)";
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

  // Gradient (theory.md §3 "Gradient", §9).
  grad->assign(U.size(), Eigen::MatrixXd());
  for (int l = 1; l <= L; ++l) {
    const size_t i = static_cast<size_t>(l - 1);
    const double n = arch_.widths[i], s2 = arch_.variances[static_cast<size_t>(l)];
    const Eigen::MatrixXd& next_inv = l < L ? inv[i + 1] : inv_a;
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
  if (free_readout) {
    // ∂S/∂U_a = n_{L+1}(I/σ_a² − U_a⁻¹) + n_L (H_L U_a⁻¹ − U_a⁻¹ (tr_L U_L) U_a⁻¹ / σ_L²)
    const size_t iL = static_cast<size_t>(L - 1);
    const double nL = arch_.widths[iL], sL2 = arch_.variances[static_cast<size_t>(L)];
    const Eigen::MatrixXd trL = PartialTrace(U[iL], H[iL]);
    const Eigen::Index D = outputs();
    (*grad)[static_cast<size_t>(L)] =
        na * (Eigen::MatrixXd::Identity(D, D) / sa2 - inv_a) +
        nL * (static_cast<double>(H[iL]) * inv_a - inv_a * trL * inv_a / sL2);
  }
  (*grad)[0] += energy_grad;
  for (auto& gl : *grad) gl = (0.5 * (gl + gl.transpose())).eval();
  return v;
}

}  // namespace attnpaths
