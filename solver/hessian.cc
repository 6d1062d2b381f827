#include "solver/hessian.h"

#include <Eigen/Eigenvalues>
#include <cmath>
#include <limits>

#include "solver/action_hessian.h"

namespace attnpaths {

namespace {

struct Entry {
  size_t layer;
  Eigen::Index i, j;  // i <= j
};

std::vector<Entry> Entries(const std::vector<Eigen::MatrixXd>& U) {
  std::vector<Entry> e;
  for (size_t l = 0; l < U.size(); ++l) {
    for (Eigen::Index j = 0; j < U[l].cols(); ++j) {
      for (Eigen::Index i = 0; i <= j; ++i) e.push_back({l, i, j});
    }
  }
  return e;
}

// ∂(S/n)/∂u_k for every independent entry: off-diagonal entries take the
// factor 2 (theory.md §3).
bool EntryGradient(const OrderParameterObjective& objective, const std::vector<Eigen::MatrixXd>& U,
                   const std::vector<Entry>& entries, Eigen::VectorXd* out) {
  std::vector<Eigen::MatrixXd> g;
  ObjectiveValue value;
  if (!objective.Evaluate(U, &value, &g)) return false;
  const double scale = 1.0 / objective.Normalization();
  out->resize(static_cast<Eigen::Index>(entries.size()));
  for (size_t k = 0; k < entries.size(); ++k) {
    const Entry& e = entries[k];
    (*out)(static_cast<Eigen::Index>(k)) = scale * (e.i == e.j ? 1.0 : 2.0) * g[e.layer](e.i, e.j);
  }
  return true;
}

}  // namespace

bool IndependentGradient(const OrderParameterObjective& objective,
                         const std::vector<Eigen::MatrixXd>& U, Eigen::VectorXd* gradient) {
  return EntryGradient(objective, U, Entries(U), gradient);
}

std::vector<Eigen::MatrixXd> AddToIndependentEntries(
    const std::vector<Eigen::MatrixXd>& U, const Eigen::Ref<const Eigen::VectorXd>& step) {
  const std::vector<Entry> entries = Entries(U);
  std::vector<Eigen::MatrixXd> out = U;
  for (size_t k = 0; k < entries.size(); ++k) {
    const Entry& e = entries[k];
    const double d = step(static_cast<Eigen::Index>(k));
    out[e.layer](e.i, e.j) += d;
    if (e.i != e.j) out[e.layer](e.j, e.i) += d;
  }
  return out;
}

int IndependentEntries(const std::vector<Eigen::MatrixXd>& U) {
  return static_cast<int>(Entries(U).size());
}

Eigen::MatrixXd ActionHessian(const Action& action, const std::vector<Eigen::MatrixXd>& U) {
  Eigen::MatrixXd hessian;
  if (!AnalyticActionHessian(action, U, &hessian)) return {};
  return hessian;
}

Eigen::MatrixXd FiniteDifferenceHessian(const OrderParameterObjective& objective,
                                        const std::vector<Eigen::MatrixXd>& U,
                                        double relative_step) {
  const std::vector<Entry> entries = Entries(U);
  const Eigen::Index n = static_cast<Eigen::Index>(entries.size());
  Eigen::MatrixXd Hm(n, n);
  Eigen::VectorXd gp, gm;
  for (Eigen::Index k = 0; k < n; ++k) {
    const Entry& e = entries[static_cast<size_t>(k)];
    const double size = U[e.layer].diagonal().cwiseAbs().mean();
    const double h = relative_step * std::max(std::abs(U[e.layer](e.i, e.j)), size);
    std::vector<Eigen::MatrixXd> up = U, down = U;
    up[e.layer](e.i, e.j) += h;
    down[e.layer](e.i, e.j) -= h;
    if (e.i != e.j) {
      up[e.layer](e.j, e.i) += h;
      down[e.layer](e.j, e.i) -= h;
    }
    if (!EntryGradient(objective, up, entries, &gp) ||
        !EntryGradient(objective, down, entries, &gm)) {
      return {};
    }
    Hm.col(k) = (gp - gm) / (2 * h);
  }
  return 0.5 * (Hm + Hm.transpose());
}

Eigen::MatrixXd ObjectiveHessian(const OrderParameterObjective& objective,
                                 const std::vector<Eigen::MatrixXd>& U) {
  if (!objective.HasHessian()) return FiniteDifferenceHessian(objective, U);
  Eigen::MatrixXd hessian;
  if (!objective.Hessian(U, &hessian)) return {};
  return hessian;
}

double HessianMinEigenvalue(const OrderParameterObjective& objective,
                            const std::vector<Eigen::MatrixXd>& U, Eigen::VectorXd* eigenvalues) {
  const Eigen::MatrixXd Hm = ObjectiveHessian(objective, U);
  if (Hm.size() == 0) return std::numeric_limits<double>::quiet_NaN();
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(Hm, Eigen::EigenvaluesOnly);
  if (eigenvalues) *eigenvalues = es.eigenvalues();
  return es.eigenvalues()(0);
}

}  // namespace attnpaths
