#include "solver/order_parameters.h"

#include <cmath>

#include "kernels/error.h"
#include "kernels/paths.h"

namespace attnpaths {

OrderParameters GpOrderParameters(const Architecture& arch) {
  const int L = arch.L();
  const Paths paths(arch.heads_per_layer());
  OrderParameters op;
  op.U_a = arch.variances[static_cast<size_t>(L + 1)];
  op.U.resize(static_cast<size_t>(L));
  double scale = op.U_a;
  for (int l = L; l >= 1; --l) {
    scale *= arch.variances[static_cast<size_t>(l)];
    op.U[static_cast<size_t>(l - 1)] = scale * Eigen::MatrixXd::Identity(paths.m(l), paths.m(l));
  }
  return op;
}

Eigen::MatrixXd PartialTrace(const Eigen::Ref<const Eigen::MatrixXd>& U, Eigen::Index H_outer) {
  const Eigen::Index m = U.rows() / H_outer;
  Eigen::MatrixXd t = Eigen::MatrixXd::Zero(m, m);
  for (Eigen::Index h = 0; h < H_outer; ++h) t += U.block(h * m, h * m, m, m);
  return t;
}

Eigen::MatrixXd BlockDiagonal(Eigen::Index H, const Eigen::Ref<const Eigen::MatrixXd>& M) {
  const Eigen::Index m = M.rows();
  Eigen::MatrixXd B = Eigen::MatrixXd::Zero(H * m, H * m);
  for (Eigen::Index h = 0; h < H; ++h) B.block(h * m, h * m, m, m) = M;
  return B;
}

double EliminateUa(const Architecture& arch, const Eigen::Ref<const Eigen::MatrixXd>& U_L) {
  const size_t L = static_cast<size_t>(arch.L());
  const double sa2 = arch.variances[L + 1], sL2 = arch.variances[L];
  const double nL = arch.widths[L - 1], na = arch.widths[L];
  const double HL = static_cast<double>(arch.layers[L - 1].size());
  const double beta = sa2 * (HL * nL / na - 1.0);
  const double gamma = sa2 * nL * U_L.trace() / (na * sL2);
  // Stable form of the positive root (avoids cancellation when β > 0).
  const double disc = std::sqrt(beta * beta + 4.0 * gamma);
  return beta > 0 ? 2.0 * gamma / (beta + disc) : 0.5 * (-beta + disc);
}

void CheckShapes(const Architecture& arch, const std::vector<Eigen::MatrixXd>& U) {
  const Paths paths(arch.heads_per_layer());
  Require(static_cast<int>(U.size()) == arch.L(), "order parameters (number of U_l)", U.size(),
          std::to_string(arch.L()) + " (one per layer)");
  for (int l = 1; l <= arch.L(); ++l) {
    const auto& u = U[static_cast<size_t>(l - 1)];
    Require(u.rows() == paths.m(l) && u.cols() == paths.m(l),
            "U_" + std::to_string(l) + " shape",
            std::to_string(u.rows()) + " x " + std::to_string(u.cols()),
            std::to_string(paths.m(l)) + " x " + std::to_string(paths.m(l)));
    Require(u.allFinite(), "U_" + std::to_string(l), "a non-finite entry", "finite entries");
  }
}

}  // namespace attnpaths
