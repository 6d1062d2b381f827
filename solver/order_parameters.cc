#include "solver/order_parameters.h"

#include <Eigen/Eigenvalues>
#include <cmath>
#include <string>

#include "kernels/error.h"
#include "kernels/paths.h"

namespace attnpaths {

OrderParameters GpOrderParameters(const Architecture& arch, Eigen::Index outputs) {
  Require(outputs >= 1, "outputs D", outputs, "at least 1");
  const int L = arch.L();
  const Paths paths(arch.heads_per_layer());
  OrderParameters op;
  const double sa2 = arch.variances[static_cast<size_t>(L + 1)];
  op.U_a = sa2 * Eigen::MatrixXd::Identity(outputs, outputs);
  op.U.resize(static_cast<size_t>(L));
  double scale = sa2;
  for (int l = L; l >= 1; --l) {
    scale *= arch.variances[static_cast<size_t>(l)];
    const Eigen::Index m = paths.m(l) * outputs;
    op.U[static_cast<size_t>(l - 1)] = scale * Eigen::MatrixXd::Identity(m, m);
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

double ReadoutRoot(double beta, double gamma) {
  // Stable form of the positive root (avoids cancellation when β > 0).
  const double disc = std::sqrt(beta * beta + 4.0 * gamma);
  return beta > 0 ? 2.0 * gamma / (beta + disc) : 0.5 * (-beta + disc);
}

Eigen::MatrixXd EliminateUa(const Architecture& arch,
                            const Eigen::Ref<const Eigen::MatrixXd>& U_L) {
  const size_t L = static_cast<size_t>(arch.L());
  const double sa2 = arch.variances[L + 1], sL2 = arch.variances[L];
  const double nL = arch.widths[L - 1], na = arch.widths[L];
  const Eigen::Index H_L = static_cast<Eigen::Index>(arch.layers[L - 1].size());
  const double HL = static_cast<double>(H_L);
  const double beta = sa2 * (HL * nL / na - 1.0);
  // C = tr_L U_L (theory.md §9); γ_k = γ̃ c_k for each eigenvalue c_k of C.
  if (U_L.rows() == H_L) {  // D = 1: tr_L U_L = tr U_L (theory.md §3)
    Eigen::MatrixXd U_a(1, 1);
    U_a(0, 0) = ReadoutRoot(beta, sa2 * nL * U_L.trace() / (na * sL2));
    return U_a;
  }
  const Eigen::MatrixXd C = PartialTrace(0.5 * (U_L + U_L.transpose()), H_L);
  const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(C);
  Eigen::VectorXd root(C.rows());
  for (Eigen::Index k = 0; k < C.rows(); ++k) {
    root(k) = ReadoutRoot(beta, sa2 * nL * eig.eigenvalues()(k) / (na * sL2));
  }
  const Eigen::MatrixXd U_a =
      eig.eigenvectors() * root.asDiagonal() * eig.eigenvectors().transpose();
  return 0.5 * (U_a + U_a.transpose());
}

void CheckShapes(const Architecture& arch, const std::vector<Eigen::MatrixXd>& U,
                 Eigen::Index outputs) {
  const Paths paths(arch.heads_per_layer());
  Require(static_cast<int>(U.size()) == arch.L(), "order parameters (number of U_l)", U.size(),
          std::to_string(arch.L()) + " (one per layer)");
  for (int l = 1; l <= arch.L(); ++l) {
    const auto& u = U[static_cast<size_t>(l - 1)];
    const Eigen::Index m = paths.m(l) * outputs;
    std::string expected = std::to_string(m) + " x " + std::to_string(m);
    if (outputs > 1) {
      expected += " (m_" + std::to_string(l) + " = " + std::to_string(paths.m(l)) +
                  " times D = " + std::to_string(outputs) + " outputs)";
    }
    Require(u.rows() == m && u.cols() == m, "U_" + std::to_string(l) + " shape",
            std::to_string(u.rows()) + " x " + std::to_string(u.cols()), expected);
    Require(u.allFinite(), "U_" + std::to_string(l), "a non-finite entry", "finite entries");
  }
}

Eigen::Index OutputsOf(const Architecture& arch, const Eigen::Ref<const Eigen::MatrixXd>& U1,
                       const std::string& field) {
  const Eigen::Index H = arch.Htot();
  Require(U1.rows() == U1.cols() && U1.rows() >= H && U1.rows() % H == 0, field + " shape",
          std::to_string(U1.rows()) + " x " + std::to_string(U1.cols()),
          "a square (Htot D) x (Htot D) matrix with Htot = " + std::to_string(H));
  return U1.rows() / H;
}

}  // namespace attnpaths
