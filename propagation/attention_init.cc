#include "propagation/attention_init.h"

#include <Eigen/Cholesky>
#include <Eigen/Eigenvalues>
#include <algorithm>
#include <cmath>
#include <limits>

#include "kernels/error.h"

namespace attnpaths {

const char* AttentionMethodName(AttentionMethod method) {
  switch (method) {
    case AttentionMethod::kUniform:
      return "uniform";
    case AttentionMethod::kValueSkipInit:
      return "value_skipinit";
    case AttentionMethod::kShaped:
      return "shaped";
    case AttentionMethod::kUSpa:
      return "uspa";
    case AttentionMethod::kESpa:
      return "espa";
  }
  return "?";
}

AttentionMethod ParseAttentionMethod(const std::string& text, const std::string& field) {
  for (AttentionMethod m :
       {AttentionMethod::kUniform, AttentionMethod::kValueSkipInit, AttentionMethod::kShaped,
        AttentionMethod::kUSpa, AttentionMethod::kESpa}) {
    if (text == AttentionMethodName(m)) return m;
  }
  throw Error(ErrorMessage(field, "\"" + text + "\"",
                           "one of uniform, value_skipinit, shaped, uspa, espa"));
}

bool IsSpa(AttentionMethod method) {
  return method == AttentionMethod::kUSpa || method == AttentionMethod::kESpa;
}

const char* NegativeAttentionName(NegativeAttention policy) {
  return policy == NegativeAttention::kClamp ? "clamp" : "keep";
}

NegativeAttention ParseNegativeAttention(const std::string& text, const std::string& field) {
  if (text == "clamp") return NegativeAttention::kClamp;
  if (text == "keep") return NegativeAttention::kKeep;
  throw Error(ErrorMessage(field, "\"" + text + "\"", "clamp or keep"));
}

std::vector<double> EspaGammas(int depth, double gamma_final) {
  Require(depth >= 1, "depth", depth, "at least 1 layer");
  Require(gamma_final > 0 && std::isfinite(gamma_final), "gamma_final", gamma_final,
          "a finite E-SPA decay rate > 0");
  // a_L² = 1 − e^{−2γ_L}; 1 − e^{−2γ_ℓ} = a_L^{2ℓ/L}  ⇒  γ_ℓ = −½ log(1 − a_L^{2ℓ/L}).
  const double log_a2 = std::log(-std::expm1(-2 * gamma_final));  // log a_L²
  std::vector<double> g(static_cast<size_t>(depth) + 1);
  g[0] = std::numeric_limits<double>::infinity();
  for (int l = 1; l <= depth; ++l) {
    const double a2l = std::exp(log_a2 * l / depth);  // a_L^{2ℓ/L}
    g[static_cast<size_t>(l)] = -0.5 * std::log1p(-a2l);
  }
  g[static_cast<size_t>(depth)] = gamma_final;  // exact at ℓ = L
  return g;
}

std::vector<double> UspaRhos(int depth, double rho_final) {
  Require(depth >= 1, "depth", depth, "at least 1 layer");
  Require(rho_final >= 0 && rho_final < 1, "rho_final", rho_final, "a U-SPA correlation in [0, 1)");
  std::vector<double> r(static_cast<size_t>(depth) + 1);
  for (int l = 0; l <= depth; ++l) {
    r[static_cast<size_t>(l)] = 1 - std::pow(1 - rho_final, static_cast<double>(l) / depth);
  }
  r[static_cast<size_t>(depth)] = rho_final;
  return r;
}

Eigen::MatrixXd EspaKernel(Eigen::Index m, double gamma) {
  if (std::isinf(gamma)) return Eigen::MatrixXd::Identity(m, m);
  Eigen::MatrixXd s(m, m);
  for (Eigen::Index j = 0; j < m; ++j) {
    for (Eigen::Index i = 0; i < m; ++i) {
      s(i, j) = std::exp(-gamma * static_cast<double>(std::abs(i - j)));
    }
  }
  return s;
}

Eigen::MatrixXd UspaKernel(Eigen::Index m, double rho) {
  return (1 - rho) * Eigen::MatrixXd::Identity(m, m) + rho * Eigen::MatrixXd::Ones(m, m);
}

Eigen::MatrixXd KernelFactor(const Eigen::Ref<const Eigen::MatrixXd>& sigma, bool causal,
                             const std::string& field) {
  const Eigen::Index m = sigma.rows();
  if (causal) {
    Eigen::LLT<Eigen::MatrixXd> llt(sigma);
    if (llt.info() == Eigen::Success) {
      Eigen::MatrixXd L = llt.matrixL();
      if (L.allFinite() && (m == 0 || L.diagonal().minCoeff() > 0)) return L;
    }
  } else {
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(sigma);
    if (eig.info() == Eigen::Success && (m == 0 || eig.eigenvalues()(0) > 0)) {
      const Eigen::MatrixXd& U = eig.eigenvectors();
      return U * eig.eigenvalues().cwiseSqrt().asDiagonal() * U.transpose();
    }
  }
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(sigma, Eigen::EigenvaluesOnly);
  throw Error(ErrorMessage(field, "smallest eigenvalue " + ToText(eig.eigenvalues()(0)),
                           "a positive-definite kernel (SPA needs L_{l-1}^{-1})"));
}

Eigen::MatrixXd EspaCholesky(Eigen::Index m, double gamma) {
  if (std::isinf(gamma)) return Eigen::MatrixXd::Identity(m, m);
  const double rho = std::exp(-gamma), a = std::sqrt(-std::expm1(-2 * gamma));
  Eigen::MatrixXd L = Eigen::MatrixXd::Zero(m, m);
  for (Eigen::Index i = 0; i < m; ++i) {
    L(i, 0) = std::pow(rho, static_cast<double>(i));  // L[i,1] = ρ^{i−1} (1-based)
    for (Eigen::Index j = 1; j <= i; ++j) L(i, j) = a * std::pow(rho, static_cast<double>(i - j));
  }
  return L;
}

Eigen::MatrixXd EspaCholeskyInverse(Eigen::Index m, double gamma) {
  if (std::isinf(gamma)) return Eigen::MatrixXd::Identity(m, m);
  const double rho = std::exp(-gamma), a = std::sqrt(-std::expm1(-2 * gamma));
  Eigen::MatrixXd Li = Eigen::MatrixXd::Zero(m, m);
  if (m > 0) Li(0, 0) = 1;
  for (Eigen::Index i = 1; i < m; ++i) {
    Li(i, i) = 1 / a;
    Li(i, i - 1) = -rho / a;
  }
  return Li;
}

Eigen::MatrixXd EspaAttention(Eigen::Index m, double gamma, double gamma_previous) {
  // signal-propagation.md §II.2, E-SPA closed forms (1-based i, j in comments).
  const double rho = std::isinf(gamma) ? 0.0 : std::exp(-gamma);
  const double a = std::isinf(gamma) ? 1.0 : std::sqrt(-std::expm1(-2 * gamma));
  const double rp = std::isinf(gamma_previous) ? 0.0 : std::exp(-gamma_previous);
  const double ap = std::isinf(gamma_previous) ? 1.0 : std::sqrt(-std::expm1(-2 * gamma_previous));
  Eigen::MatrixXd A = Eigen::MatrixXd::Zero(m, m);
  if (m == 0) return A;
  A(0, 0) = 1;
  for (Eigen::Index i = 1; i < m; ++i) {
    A(i, 0) =
        std::pow(rho, static_cast<double>(i - 1)) * (rho - a * rp / ap);  // ρ^{i−2}(ρ − aρ'/a')
    A(i, i) = a / ap;
    for (Eigen::Index j = 1; j < i; ++j) {
      A(i, j) = (a / ap) * std::pow(rho, static_cast<double>(i - j - 1)) * (rho - rp);
    }
  }
  return A;
}

Eigen::MatrixXd SpaAttention(const Eigen::Ref<const Eigen::MatrixXd>& sigma_previous,
                             const Eigen::Ref<const Eigen::MatrixXd>& sigma, bool causal) {
  const Eigen::MatrixXd L = KernelFactor(sigma, causal, "target kernel");
  const Eigen::MatrixXd Lp = KernelFactor(sigma_previous, causal, "previous kernel");
  if (causal) {
    // A = L Lp^{-1}: solve Aᵀ from Lpᵀ Aᵀ = Lᵀ (upper triangular).
    Eigen::MatrixXd At = Lp.transpose().triangularView<Eigen::Upper>().solve(L.transpose());
    Eigen::MatrixXd A = At.transpose();
    A.triangularView<Eigen::StrictlyUpper>().setZero();
    return A;
  }
  // Lp symmetric positive definite: A = L Lp^{-1} = (Lp^{-1} L)ᵀ.
  return Lp.llt().solve(L).transpose();
}

Eigen::MatrixXd UniformAttention(Eigen::Index m, bool causal) {
  Eigen::MatrixXd U = Eigen::MatrixXd::Zero(m, m);
  for (Eigen::Index i = 0; i < m; ++i) {
    const Eigen::Index keys = causal ? i + 1 : m;
    U.row(i).head(keys).setConstant(1.0 / static_cast<double>(keys));
  }
  return U;
}

AttentionDecomposition DecomposeAttention(const Eigen::Ref<const Eigen::MatrixXd>& A, bool causal,
                                          NegativeAttention policy, double epsilon) {
  const Eigen::Index m = A.rows();
  AttentionDecomposition d;
  d.A = A;
  auto allowed = [&](Eigen::Index i, Eigen::Index j) { return !causal || j <= i; };
  double lo = std::numeric_limits<double>::infinity();
  for (Eigen::Index i = 0; i < m; ++i) {
    for (Eigen::Index j = 0; j < m; ++j) {
      if (allowed(i, j)) lo = std::min(lo, A(i, j));
    }
  }
  d.min_entry = m > 0 ? lo : 0;
  if (m > 0 && lo <= 0 && policy == NegativeAttention::kClamp) {
    const double floor = std::abs(lo) + epsilon;
    for (Eigen::Index i = 0; i < m; ++i) {
      for (Eigen::Index j = 0; j < m; ++j) {
        if (allowed(i, j) && d.A(i, j) < floor) {
          d.A(i, j) = floor;
          ++d.clamped;
        }
      }
    }
  }
  d.D = d.A.rowwise().sum();
  d.bias.resize(m, m);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (Eigen::Index i = 0; i < m; ++i) {
    for (Eigen::Index j = 0; j < m; ++j) {
      if (!allowed(i, j)) {
        d.bias(i, j) = -std::numeric_limits<double>::infinity();
      } else {
        const double p = d.A(i, j) / d.D(i);
        d.bias(i, j) = (d.D(i) > 0 && p > 0) ? std::log(p) : nan;
      }
    }
  }
  return d;
}

}  // namespace attnpaths
