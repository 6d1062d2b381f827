#include "solver/action.h"

#include <Eigen/Cholesky>
#include <cmath>
#include <mutex>

#include "kernels/error.h"
#include "kernels/paths.h"
#include "solver/action_hessian.h"
#include "solver/order_parameters.h"
#include "solver/training_gram.h"

namespace attnpaths {

// The TrainingGram of the energy term with its scratch, reused while no other
// evaluation holds it.
struct Action::Workspace {
  Workspace(const PathKernel& kernel, const Eigen::MatrixXd& Y) : gram(kernel, Y) {}
  std::mutex mutex;
  TrainingGram gram;
};

Action::Action(PathProblem problem, ReadoutMode readout)
    : problem_(std::move(problem)), readout_(readout) {
  problem_.Validate();
  workspace_ = std::make_shared<Workspace>(*problem_.train, problem_.Y);
}

Action::Action(const Architecture& arch, const PathKernel& kernel,
               const Eigen::Ref<const Eigen::MatrixXd>& Y, double temperature, ReadoutMode readout)
    : Action(PathProblem::Borrowing(arch, kernel, Y, temperature), readout) {}

std::vector<Eigen::MatrixXd> Action::InitialPoint() const {
  OrderParameters gp = GpOrderParameters(architecture(), outputs());
  if (readout_ == ReadoutMode::kFree) gp.U.push_back(gp.U_a);
  return gp.U;
}

std::vector<Eigen::MatrixXd> Action::Start(const std::vector<Eigen::MatrixXd>& initial) const {
  std::vector<Eigen::MatrixXd> start = initial.empty() ? InitialPoint() : initial;
  const Architecture& arch = architecture();
  if (readout_ == ReadoutMode::kFree && start.size() == static_cast<size_t>(arch.L())) {
    CheckShapes(arch, start, outputs());
    start.push_back(EliminateUa(arch, start.back()));  // a free U_a starts at its root
  }
  return start;
}

Eigen::MatrixXd Action::ReadoutAt(const std::vector<Eigen::MatrixXd>& U) const {
  CheckPoint(U);
  const size_t last =
      readout_ == ReadoutMode::kFree ? U.size() - 1 : static_cast<size_t>(architecture().L() - 1);
  const Eigen::MatrixXd sym = 0.5 * (U[last] + U[last].transpose());
  return readout_ == ReadoutMode::kFree ? sym : EliminateUa(architecture(), sym);
}

bool Action::Evaluate(const std::vector<Eigen::MatrixXd>& U, ObjectiveValue* value,
                      std::vector<Eigen::MatrixXd>* grad) const {
  *value = Evaluate(U, grad);
  return value->ok;
}

bool Action::Hessian(const std::vector<Eigen::MatrixXd>& U, Eigen::MatrixXd* hessian) const {
  return AnalyticActionHessian(*this, U, hessian);
}

bool Action::EnergyHessian(const Eigen::MatrixXd& U1, Eigen::MatrixXd* hessian,
                           TrainingGram::HessianForm form) const {
  std::unique_lock<std::mutex> lock(workspace_->mutex, std::try_to_lock);
  std::unique_ptr<Workspace> own;
  if (!lock.owns_lock() || !LeanGramSteps()) {
    own = std::make_unique<Workspace>(kernel(), problem_.Y);
  }
  TrainingGram& gram = own ? own->gram : workspace_->gram;
  if (!gram.Factorize(U1, problem_.temperature)) return false;
  return gram.EnergyHessian(hessian, form);
}

void Action::CheckPoint(const std::vector<Eigen::MatrixXd>& U) const {
  const Architecture& arch = architecture();
  const size_t L = static_cast<size_t>(arch.L());
  if (readout_ == ReadoutMode::kEliminated) {
    CheckShapes(arch, U, outputs());
    return;
  }
  Require(U.size() == L + 1, "order parameters (number of matrices)", U.size(),
          std::to_string(L + 1) + " (U_1, ..., U_L and U_a: the readout is free)");
  CheckShapes(arch, std::vector<Eigen::MatrixXd>(U.begin(), U.end() - 1), outputs());
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
  const Architecture& arch = architecture();
  const int L = arch.L();
  const auto H = arch.heads_per_layer();
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
  v.U_a = free_readout ? U.back() : EliminateUa(arch, U[static_cast<size_t>(L - 1)]);
  double log_det_a = 0;
  Eigen::MatrixXd inv_a;
  if (!SmallSpd(v.U_a, &log_det_a, &inv_a)) {
    v.failure = "U_a is not positive definite";
    return v;
  }
  const double sa2 = arch.variances[static_cast<size_t>(L + 1)];
  const double na = arch.widths[static_cast<size_t>(L)];

  // Entropy (theory.md §3, first two lines; §9 with U_{L+1} ≡ U_a).
  double entropy = na * (v.U_a.trace() / sa2 - log_det_a);
  for (int l = 1; l <= L; ++l) {
    const size_t i = static_cast<size_t>(l - 1);
    const double n = arch.widths[i], s2 = arch.variances[static_cast<size_t>(l)];
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
  if (!lock.owns_lock()) own = std::make_unique<Workspace>(kernel(), problem_.Y);
  TrainingGram& gram = own ? own->gram : workspace_->gram;
  if (!gram.Factorize(U[0], problem_.temperature)) {
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
    const double n = arch.widths[i], s2 = arch.variances[static_cast<size_t>(l)];
    const Eigen::MatrixXd& next_inv = l < L ? inv[i + 1] : inv_a;
    Eigen::MatrixXd gl = n * (BlockDiagonal(H[i], next_inv) / s2 - inv[i]);
    if (l >= 2) {
      const double n_prev = arch.widths[i - 1];
      const double s2_prev = arch.variances[static_cast<size_t>(l - 1)];
      const double h_prev = static_cast<double>(H[i - 1]);
      const Eigen::MatrixXd tr_prev = PartialTrace(U[i - 1], H[i - 1]);
      gl += n_prev * (h_prev * inv[i] - inv[i] * tr_prev * inv[i] / s2_prev);
    }
    (*grad)[i] = std::move(gl);
  }
  if (free_readout) {
    // ∂S/∂U_a = n_{L+1}(I/σ_a² − U_a⁻¹) + n_L (H_L U_a⁻¹ − U_a⁻¹ (tr_L U_L) U_a⁻¹ / σ_L²)
    const size_t iL = static_cast<size_t>(L - 1);
    const double nL = arch.widths[iL], sL2 = arch.variances[static_cast<size_t>(L)];
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
