#include "solver/action_hessian.h"

#include <Eigen/Cholesky>
#include <array>
#include <cmath>
#include <string>
#include <utility>

#include "kernels/error.h"
#include "solver/hessian.h"
#include "solver/order_parameters.h"
#include "solver/training_gram.h"

namespace attnpaths {

namespace {

// The independent entries (i ≤ j) of an s × s matrix, column by column.
std::vector<std::pair<Eigen::Index, Eigen::Index>> Entries(Eigen::Index s) {
  std::vector<std::pair<Eigen::Index, Eigen::Index>> e;
  e.reserve(static_cast<size_t>(s * (s + 1) / 2));
  for (Eigen::Index j = 0; j < s; ++j) {
    for (Eigen::Index i = 0; i <= j; ++i) e.emplace_back(i, j);
  }
  return e;
}

// The generators of E_k: {(i,j), (j,i)}, or {(i,i)} on the diagonal.
struct Generators {
  std::array<std::pair<Eigen::Index, Eigen::Index>, 2> g;
  int count;
};
Generators Expand(std::pair<Eigen::Index, Eigen::Index> e) {
  if (e.first == e.second) return {{e, e}, 1};
  return {{e, std::make_pair(e.second, e.first)}, 2};
}

// tr(M E_k N E_l) = Σ over generators (i,j) of E_k and (p,q) of E_l of M_qi N_jp.
double TraceMENE(const Eigen::MatrixXd& M, const Eigen::MatrixXd& N, const Generators& k,
                 const Generators& l) {
  double s = 0;
  for (int a = 0; a < k.count; ++a) {
    for (int b = 0; b < l.count; ++b) {
      const auto [i, j] = k.g[static_cast<size_t>(a)];
      const auto [p, q] = l.g[static_cast<size_t>(b)];
      s += M(q, i) * N(j, p);
    }
  }
  return s;
}

// The inverse of a small SPD matrix; false when not positive definite.
bool SmallInverse(const Eigen::MatrixXd& U, Eigen::MatrixXd* inverse) {
  Eigen::LLT<Eigen::MatrixXd> llt(U);
  if (llt.info() != Eigen::Success || (llt.matrixLLT().diagonal().array() <= 0).any()) {
    return false;
  }
  *inverse = llt.solve(Eigen::MatrixXd::Identity(U.rows(), U.cols()));
  return inverse->allFinite();
}

}  // namespace

namespace {

// The Hessian of S / n_max at U_in (checked against the action's shapes by
// the caller) for the widths and variances of `arch` and the readout of
// `action`, with the energy block (of the full S, before the Schur
// complement) of `action` when `with_energy`, else without it.
bool ActionHessian(const Action& action, const Architecture& arch,
                   const std::vector<Eigen::MatrixXd>& U_in, Eigen::MatrixXd* hessian,
                   TrainingGram::HessianForm energy_form, bool with_energy) {
  const int L = arch.L();
  const auto heads = arch.heads_per_layer();
  const bool free_readout = action.readout() == ReadoutMode::kFree;

  // Matrices 0..L-1 are U_1..U_L, matrix L is U_a (eliminated root or free).
  std::vector<Eigen::MatrixXd> U(static_cast<size_t>(L + 1));
  for (int l = 0; l < L; ++l) {
    const auto& u = U_in[static_cast<size_t>(l)];
    U[static_cast<size_t>(l)] = 0.5 * (u + u.transpose());
  }
  U[static_cast<size_t>(L)] = free_readout
                                  ? Eigen::MatrixXd(0.5 * (U_in.back() + U_in.back().transpose()))
                                  : EliminateUa(arch, U[static_cast<size_t>(L - 1)]);
  std::vector<Eigen::MatrixXd> inv(U.size());
  std::vector<std::vector<std::pair<Eigen::Index, Eigen::Index>>> entries(U.size());
  std::vector<Eigen::Index> offset(U.size() + 1, 0);
  for (size_t l = 0; l < U.size(); ++l) {
    if (!SmallInverse(U[l], &inv[l])) return false;
    entries[l] = Entries(U[l].rows());
    offset[l + 1] = offset[l] + static_cast<Eigen::Index>(entries[l].size());
  }
  const Eigen::Index total = offset.back();
  Eigen::MatrixXd Hf = Eigen::MatrixXd::Zero(total, total);

  // Adds c · f(k, l) to the block (x, y) of Hf for every entry pair (and its mirror).
  auto add_block = [&](size_t x, size_t y, double c, auto&& f) {
    for (size_t l = 0; l < entries[y].size(); ++l) {
      const Generators gl = Expand(entries[y][l]);
      for (size_t k = 0; k < entries[x].size(); ++k) {
        const Generators gk = Expand(entries[x][k]);
        const double v = c * f(gk, gl, entries[x][k]);
        Hf(offset[x] + static_cast<Eigen::Index>(k), offset[y] + static_cast<Eigen::Index>(l)) += v;
        if (x != y) {
          Hf(offset[y] + static_cast<Eigen::Index>(l), offset[x] + static_cast<Eigen::Index>(k)) +=
              v;
        }
      }
    }
  };

  // Entropy, layer by layer (see the header).
  for (int l = 1; l <= L; ++l) {
    const size_t i = static_cast<size_t>(l - 1), next = i + 1;
    const double n = arch.widths[i], s2 = arch.variances[static_cast<size_t>(l)];
    const double h = static_cast<double>(heads[i]);
    const Eigen::MatrixXd& Ui = inv[i];
    const Eigen::MatrixXd& Vi = inv[next];
    const Eigen::MatrixXd W = Vi * PartialTrace(U[i], heads[i]) * Vi;
    add_block(i, i, n, [&](const Generators& a, const Generators& b, auto) {
      return TraceMENE(Ui, Ui, a, b);
    });
    add_block(next, next, 1.0, [&](const Generators& a, const Generators& b, auto) {
      return -n * h * TraceMENE(Vi, Vi, a, b) +
             (n / s2) * (TraceMENE(W, Vi, a, b) + TraceMENE(Vi, W, a, b));
    });
    // −(n/σ²) ⟨E_k, I_H ⊗ V⁻¹ E_l V⁻¹⟩, E_k in U_ℓ, E_l in V.
    const Eigen::Index s = U[next].rows();
    add_block(i, next, -n / s2,
              [&](const Generators&, const Generators& b, std::pair<Eigen::Index, Eigen::Index> e) {
                const auto [r, c] = e;
                if (r / s != c / s) return 0.0;
                const Eigen::Index x = r % s, y = c % s;
                double z = 0;
                for (int g = 0; g < b.count; ++g) {
                  const auto [p, q] = b.g[static_cast<size_t>(g)];
                  z += Vi(x, p) * Vi(q, y);
                }
                return r == c ? z : 2.0 * z;
              });
  }
  {
    const size_t a = static_cast<size_t>(L);
    const double na = arch.widths[a];
    add_block(a, a, na, [&](const Generators& x, const Generators& y, auto) {
      return TraceMENE(inv[a], inv[a], x, y);
    });
  }

  // Energy (U_1, U_1).
  if (with_energy) {
    Eigen::MatrixXd energy;
    if (!action.EnergyHessian(U[0], &energy, energy_form)) return false;
    Hf.block(0, 0, offset[1], offset[1]) += energy;
  }

  const double scale = 1.0 / arch.n_max();
  if (free_readout) {
    *hessian = scale * 0.5 * (Hf + Hf.transpose());
    return hessian->allFinite();
  }
  // U_a eliminated: the Schur complement of its block.
  const Eigen::Index nU = offset[static_cast<size_t>(L)], na = total - nU;
  const Eigen::LDLT<Eigen::MatrixXd> ldlt(Hf.bottomRightCorner(na, na));
  if (ldlt.info() != Eigen::Success) return false;
  Eigen::MatrixXd reduced = Hf.topLeftCorner(nU, nU) -
                            Hf.topRightCorner(nU, na) * ldlt.solve(Hf.bottomLeftCorner(na, nU));
  *hessian = scale * 0.5 * (reduced + reduced.transpose());
  return hessian->allFinite();
}

}  // namespace

bool AnalyticActionHessian(const Action& action, const std::vector<Eigen::MatrixXd>& U,
                           Eigen::MatrixXd* hessian, TrainingGram::HessianForm energy_form) {
  action.CheckPoint(U);
  return ActionHessian(action, action.architecture(), U, hessian, energy_form,
                       /*with_energy=*/true);
}

bool NeighbourActionHessian(const Action& action, const Architecture& neighbour,
                            const std::vector<Eigen::MatrixXd>& U,
                            const Eigen::MatrixXd& neighbour_hessian, Eigen::MatrixXd* hessian) {
  const Architecture& arch = action.architecture();
  Require(neighbour.L() == arch.L() && neighbour.heads_per_layer() == arch.heads_per_layer(),
          "neighbour architecture", "other layers or heads",
          "the action's layers and heads (only widths and variances may differ)");
  neighbour.ValidateHyperparameters();
  const std::vector<Eigen::MatrixXd> point = action.Start(U);
  action.CheckPoint(point);
  const Eigen::Index side = IndependentEntries(point);
  Require(
      neighbour_hessian.rows() == side && neighbour_hessian.cols() == side, "neighbour Hessian",
      std::to_string(neighbour_hessian.rows()) + " x " + std::to_string(neighbour_hessian.cols()),
      std::to_string(side) + " x " + std::to_string(side) + " (the independent entries of U)");
  Eigen::MatrixXd here, there;
  const auto form = TrainingGram::HessianForm::kAuto;  // unused without the energy
  // The neighbour's action has the same kernel, labels, temperature and
  // readout, hence the same energy; only its widths and variances differ.
  if (!ActionHessian(action, arch, point, &here, form, false) ||
      !ActionHessian(action, neighbour, point, &there, form, false)) {
    return false;
  }
  // neighbour_hessian = (E + R') / n', here = R / n, there = R' / n' with E
  // the energy block (zero outside U_1's entries; the Schur complement of U_a
  // involves only entropy blocks), so E + R = n' (neighbour_hessian − there) + n here.
  const double ratio = neighbour.n_max() / arch.n_max();
  *hessian = ratio * (neighbour_hessian - there) + here;
  return hessian->allFinite();
}

}  // namespace attnpaths
