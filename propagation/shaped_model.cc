#include "propagation/shaped_model.h"

#include <Eigen/Cholesky>
#include <Eigen/Eigenvalues>
#include <algorithm>
#include <cmath>

#include "kernels/error.h"

namespace attnpaths {

bool ShapedModel::IsValid(std::string* error) const {
  auto fail = [&](const std::string& field, double found, const std::string& want) {
    if (error) *error = ErrorMessage(field, ToText(found), want);
    return false;
  };
  if (!(gamma > 0 && gamma <= 1)) {
    return fail("gamma", gamma, "a residual weight in (0, 1] (lambda = sqrt(1 - gamma^2))");
  }
  if (!(tau0 > 0)) return fail("tau0", tau0, "a value > 0 (inf: no attention)");
  if (mlp) {
    if (!(mlp_gamma > 0 && mlp_gamma <= 1)) {
      return fail("mlp.gamma", mlp_gamma, "a residual weight in (0, 1]");
    }
    if (!std::isfinite(c_plus)) return fail("mlp.c_plus", c_plus, "a finite number");
    if (!std::isfinite(c_minus)) return fail("mlp.c_minus", c_minus, "a finite number");
  }
  return true;
}

Eigen::MatrixXd ShapedMlpDrift(double c_plus, double c_minus,
                               const Eigen::Ref<const Eigen::MatrixXd>& V) {
  const Eigen::Index m = V.rows();
  const double k = (c_plus - c_minus) * (c_plus - c_minus) / (2 * M_PI);
  Eigen::MatrixXd N = Eigen::MatrixXd::Zero(m, m);
  for (Eigen::Index b = 0; b < m; ++b) {
    for (Eigen::Index a = 0; a < b; ++a) {
      const double q = std::sqrt(V(a, a) * V(b, b));
      if (!(q > 0)) continue;
      const double rho = std::clamp(V(a, b) / q, -1.0, 1.0);
      N(a, b) = N(b, a) = k * (std::sqrt(1 - rho * rho) - rho * std::acos(rho)) * q;
    }
  }
  return N;  // ν(1) = 0: zero diagonal
}

Eigen::MatrixXd ShapedDrift(const ShapedModel& model, const Eigen::Ref<const Eigen::MatrixXd>& V) {
  const Eigen::Index m = V.rows();
  Eigen::MatrixXd b = Eigen::MatrixXd::Zero(m, m);
  if (model.attention()) {
    const double md = static_cast<double>(m);
    const Eigen::MatrixXd P =
        Eigen::MatrixXd::Identity(m, m) - Eigen::MatrixXd::Constant(m, m, 1.0 / md);
    const Eigen::MatrixXd Vc = P * V * P;
    const Eigen::VectorXd v = V.diagonal();
    const Eigen::VectorXd u = Vc.diagonal() - Eigen::VectorXd::Constant(m, Vc.trace() / md);
    const Eigen::VectorXd w = V * u;
    const double g2t2 = model.gamma * model.gamma / (model.tau0 * model.tau0);
    b = g2t2 * ((Vc.cwiseProduct(V).sum() / (md * md)) * V +
                (v * w.transpose() + w * v.transpose()) / (2 * md));
  }
  if (model.mlp) {
    b += model.mlp_gamma * model.mlp_gamma * ShapedMlpDrift(model.c_plus, model.c_minus, V);
  }
  return b;
}

Eigen::MatrixXd ShapedDiffusion(const ShapedModel& model,
                                const Eigen::Ref<const Eigen::MatrixXd>& V) {
  const Eigen::Index m = V.rows();
  const double g2 = model.gamma * model.gamma;
  double cv = g2 * (2 - g2);
  if (model.mlp) cv += 2 * model.mlp_gamma * model.mlp_gamma;
  Eigen::MatrixXd Vt = Eigen::MatrixXd::Zero(m, m);
  double ca = 0;
  if (model.attention()) {
    const double md = static_cast<double>(m);
    const Eigen::MatrixXd P =
        Eigen::MatrixXd::Identity(m, m) - Eigen::MatrixXd::Constant(m, m, 1.0 / md);
    Vt = V * P * V * P * V;  // Ṽ
    ca = g2 * g2 / (model.tau0 * model.tau0 * md * md);
  }
  Eigen::MatrixXd S(m * m, m * m);
  for (Eigen::Index d = 0; d < m; ++d) {
    for (Eigen::Index c = 0; c < m; ++c) {
      for (Eigen::Index b = 0; b < m; ++b) {
        for (Eigen::Index a = 0; a < m; ++a) {
          // (α, β, γ, δ) = (a, b, c, d)
          S(a + m * b, c + m * d) = cv * (V(a, c) * V(b, d) + V(a, d) * V(b, c)) +
                                    ca * (V(a, c) * Vt(b, d) + V(a, d) * Vt(b, c) +
                                          V(b, c) * Vt(a, d) + V(b, d) * Vt(a, c));
        }
      }
    }
  }
  return S;
}

Eigen::MatrixXd ShapedNoise(const ShapedModel& model, const Eigen::Ref<const Eigen::MatrixXd>& V,
                            const Eigen::Ref<const Eigen::MatrixXd>& R,
                            const Eigen::Ref<const Eigen::MatrixXd>& Z1,
                            const Eigen::Ref<const Eigen::MatrixXd>& Z2) {
  const Eigen::Index m = V.rows();
  const double g2 = model.gamma * model.gamma;
  double cv = g2 * (2 - g2);
  if (model.mlp) cv += 2 * model.mlp_gamma * model.mlp_gamma;
  const Eigen::MatrixXd RZ1R = R * Z1 * R.transpose();
  Eigen::MatrixXd noise = std::sqrt(cv / 2) * (RZ1R + RZ1R.transpose());
  if (model.attention()) {
    const double md = static_cast<double>(m);
    Eigen::MatrixXd PV = V;  // P V: subtract column means
    PV.rowwise() -= V.colwise().mean();
    const Eigen::MatrixXd T = (R * Z2 * R.transpose()) * PV;  // R Z₂ Rᵀ P V
    noise += g2 / (model.tau0 * md) * (T + T.transpose());
  }
  return noise;
}

Eigen::MatrixXd CovarianceRoot(const Eigen::Ref<const Eigen::MatrixXd>& V, bool* clipped) {
  Eigen::LLT<Eigen::MatrixXd> llt(V);
  if (llt.info() == Eigen::Success) {
    Eigen::MatrixXd L = llt.matrixL();
    if (L.allFinite()) {
      if (clipped) *clipped = false;
      return L;
    }
  }
  if (clipped) *clipped = true;
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(V);
  return eig.eigenvectors() * eig.eigenvalues().cwiseMax(0.0).cwiseSqrt().asDiagonal();
}

Eigen::MatrixXd SoftmaxRows(const Eigen::Ref<const Eigen::MatrixXd>& S) {
  Eigen::MatrixXd A(S.rows(), S.cols());
  for (Eigen::Index i = 0; i < S.rows(); ++i) {
    const double top = S.row(i).maxCoeff();
    A.row(i) = (S.row(i).array() - top).exp();
    A.row(i) /= A.row(i).sum();
  }
  return A;
}

Eigen::MatrixXd ShapedAttentionMatrix(const Eigen::Ref<const Eigen::MatrixXd>& S) {
  const Eigen::Index m = S.rows();
  Eigen::MatrixXd A = SoftmaxRows(S);
  A.array() -= 1.0 / static_cast<double>(m);
  A.diagonal().array() += 1.0;
  return A;
}

}  // namespace attnpaths
