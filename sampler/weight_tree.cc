#include "sampler/weight_tree.h"

#include <cmath>

namespace attnpaths {

double OutputScale(const WeightLayout& layout) {
  double kappa = layout.sigma(layout.L() + 1);
  for (int l = 1; l <= layout.L(); ++l) kappa *= layout.sigma(l);
  for (int l = 1; l <= layout.L() + 1; ++l) kappa /= std::sqrt(static_cast<double>(layout.n(l)));
  return kappa;
}

double OrderParameterScale(const WeightLayout& layout) {
  double s = layout.sigma(layout.L() + 1);
  for (int l = 1; l <= layout.L(); ++l) {
    s *= layout.sigma(l) / std::sqrt(static_cast<double>(layout.n(l + 1)));
  }
  return s;
}

namespace {

// e_{(h_ℓ, rest)} = Ṽ_{ℓ,h_ℓ}ᵀ e_rest (theory.md §5), one product per head,
// for ℓ = top … 1, from E[top] (k columns per node).
void TopDownFrom(const WeightLayout& layout, const Eigen::Ref<const Eigen::VectorXd>& values,
                 int top, Eigen::Index k, std::vector<Eigen::MatrixXd>* E) {
  for (int l = top; l >= 1; --l) {
    const Eigen::MatrixXd& above = (*E)[static_cast<size_t>(l)];
    Eigen::MatrixXd& here = (*E)[static_cast<size_t>(l - 1)];
    const Eigen::Index block = layout.m(l + 1) * k;
    here.resize(layout.n(l), layout.m(l) * k);
    for (Eigen::Index h = 0; h < layout.H(l); ++h) {
      here.middleCols(h * block, block).noalias() = layout.V(values, l, h).transpose() * above;
    }
  }
}

}  // namespace

std::vector<Eigen::MatrixXd> TopDownProducts(const WeightLayout& layout,
                                             const Eigen::Ref<const Eigen::VectorXd>& values,
                                             const Eigen::Ref<const Eigen::MatrixXd>& a) {
  const int L = layout.L();
  std::vector<Eigen::MatrixXd> E(static_cast<size_t>(L + 1));
  E[static_cast<size_t>(L)] = a;
  TopDownFrom(layout, values, L, a.cols(), &E);
  return E;
}

std::vector<Eigen::MatrixXd> TopDownIdentity(const WeightLayout& layout,
                                             const Eigen::Ref<const Eigen::VectorXd>& values) {
  const int L = layout.L();
  const Eigen::Index n = layout.n(L + 1);
  std::vector<Eigen::MatrixXd> E(static_cast<size_t>(L + 1));
  Eigen::MatrixXd& top = E[static_cast<size_t>(L - 1)];
  top.resize(layout.n(L), layout.H(L) * n);
  for (Eigen::Index h = 0; h < layout.H(L); ++h) {
    top.middleCols(h * n, n) = layout.V(values, L, h).transpose();
  }
  TopDownFrom(layout, values, L - 1, n, &E);
  return E;
}

Eigen::MatrixXd StackedEffectiveWeights(const WeightLayout& layout,
                                        const Eigen::Ref<const Eigen::VectorXd>& values,
                                        const Eigen::MatrixXd& E0, Eigen::Index k) {
  const Eigen::Index N0 = layout.N0(), Htot = layout.Htot();
  // N0 × (Htot k), column π k + j.
  const Eigen::MatrixXd u = layout.V0(values).transpose() * E0;
  if (k == 1) return u.reshaped(Htot * N0, 1);
  Eigen::MatrixXd stacked(Htot * N0, k);
  for (Eigen::Index p = 0; p < Htot; ++p) stacked.middleRows(p * N0, N0) = u.middleCols(p * k, k);
  return stacked;
}

Eigen::MatrixXd StackPathInputs(const PathInputs& xi) {
  const Eigen::Index P = xi.P();
  Eigen::MatrixXd X(xi.Htot * P, xi.N0);
  for (Eigen::Index p = 0; p < xi.Htot; ++p) X.middleRows(p * P, P) = xi.path(p);
  return X;
}

std::vector<Eigen::MatrixXd> BottomUpFeatures(const WeightLayout& layout,
                                              const Eigen::Ref<const Eigen::VectorXd>& values,
                                              const Eigen::MatrixXd& X, int top) {
  const int L = top < 0 ? layout.L() : top;
  const Eigen::Index P = X.rows() / layout.Htot();
  std::vector<Eigen::MatrixXd> Z(static_cast<size_t>(L + 1));
  Z[0].noalias() = X * layout.V0(values).transpose();
  for (int l = 1; l <= L; ++l) {
    const Eigen::MatrixXd& below = Z[static_cast<size_t>(l - 1)];
    Eigen::MatrixXd& here = Z[static_cast<size_t>(l)];
    const Eigen::Index rows = layout.m(l + 1) * P;
    here.setZero(rows, layout.n(l + 1));
    for (Eigen::Index h = 0; h < layout.H(l); ++h) {
      here.noalias() += below.middleRows(h * rows, rows) * layout.V(values, l, h).transpose();
    }
  }
  return Z;
}

void BottomUpGradient(const WeightLayout& layout, const Eigen::Ref<const Eigen::VectorXd>& values,
                      const Eigen::MatrixXd& X, const std::vector<Eigen::MatrixXd>& Z,
                      Eigen::MatrixXd g_top, Eigen::VectorXd* gradient, int top) {
  const int L = top < 0 ? layout.L() : top;
  const Eigen::Index P = X.rows() / layout.Htot();
  Eigen::MatrixXd g_here = std::move(g_top);
  for (int l = L; l >= 1; --l) {
    const Eigen::MatrixXd& below = Z[static_cast<size_t>(l - 1)];
    const Eigen::Index rows = layout.m(l + 1) * P;
    Eigen::MatrixXd g_below(below.rows(), below.cols());
    for (Eigen::Index h = 0; h < layout.H(l); ++h) {
      // Z[ℓ] += Z[ℓ-1]_h Ṽ_{ℓ,h}ᵀ: ∂Ṽ_{ℓ,h} = g_hereᵀ Z[ℓ-1]_h, ∂Z[ℓ-1]_h = g_here Ṽ_{ℓ,h}.
      layout.V(*gradient, l, h).noalias() += g_here.transpose() * below.middleRows(h * rows, rows);
      g_below.middleRows(h * rows, rows).noalias() = g_here * layout.V(values, l, h);
    }
    g_here.swap(g_below);
  }
  // Z[0] = X Ṽ_0ᵀ: ∂Ṽ_0 = g_hereᵀ X.
  layout.V0(*gradient).noalias() += g_here.transpose() * X;
}

}  // namespace attnpaths
