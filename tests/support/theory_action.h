// The action of theory.md §3 written out directly, independently of solver/:
// explicit partial traces, log-determinants from eigenvalues, the kernel
// from brute-force path inputs and the energy from the eigen-decomposition
// of G. U_a is an argument, not eliminated, so tests can check the
// elimination separately.
//
//   auto xi = attnpaths::test_util::BrutePathInputs(arch, X, Split::kTrain);
//   attnpaths::test_util::TheoryActionTerms t =
//       attnpaths::test_util::TheoryAction(arch, xi, Y, T, U, U_a);
#pragma once

#include <Eigen/Cholesky>
#include <Eigen/Core>
#include <Eigen/Eigenvalues>
#include <cmath>
#include <limits>
#include <vector>

#include "kernels/architecture.h"
#include "tests/support/brute_force.h"

namespace attnpaths::test_util {

// ln det of a symmetric matrix from its eigenvalues (NaN unless all > 0).
inline double LogDetFromEigenvalues(const Eigen::MatrixXd& A) {
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(A, Eigen::EigenvaluesOnly);
  if (es.eigenvalues().minCoeff() <= 0) return std::numeric_limits<double>::quiet_NaN();
  return es.eigenvalues().array().log().sum();
}

// tr_ℓ U: the sum of the H diagonal blocks of U (theory.md §3), by loops.
inline Eigen::MatrixXd PartialTraceByLoops(const Eigen::MatrixXd& U, Eigen::Index H) {
  const Eigen::Index m = U.rows() / H;
  Eigen::MatrixXd t = Eigen::MatrixXd::Zero(m, m);
  for (Eigen::Index h = 0; h < H; ++h) {
    for (Eigen::Index a = 0; a < m; ++a) {
      for (Eigen::Index b = 0; b < m; ++b) t(a, b) += U(h * m + a, h * m + b);
    }
  }
  return t;
}

struct TheoryActionTerms {
  double entropy = 0, energy = 0;
  double S() const { return entropy + energy; }
};

// S of theory.md §3 at U = {U_1, …, U_L} and the readout scalar U_a; the
// energy is summed over the D label columns.
inline TheoryActionTerms TheoryAction(const Architecture& arch,
                                      const std::vector<Eigen::MatrixXd>& xi,
                                      const Eigen::MatrixXd& Y, double temperature,
                                      const std::vector<Eigen::MatrixXd>& U, double U_a) {
  const int L = arch.L();
  TheoryActionTerms out;
  for (int l = 1; l <= L; ++l) {
    const auto i = static_cast<size_t>(l - 1);
    const double n = arch.widths[i], s2 = arch.variances[static_cast<size_t>(l)];
    const auto H = static_cast<Eigen::Index>(arch.layers[i].size());
    const Eigen::MatrixXd tr = PartialTraceByLoops(U[i], H);
    double trace_term, next_log_det;
    if (l < L) {
      const Eigen::MatrixXd next = U[i + 1];
      trace_term = next.ldlt().solve(tr).trace();  // tr(U_{ℓ+1}⁻¹ tr_ℓ U_ℓ)
      next_log_det = LogDetFromEigenvalues(next);
    } else {
      trace_term = tr(0, 0) / U_a;  // tr U_L / U_a
      next_log_det = std::log(U_a);
    }
    out.entropy +=
        n * (trace_term / s2 - LogDetFromEigenvalues(U[i]) + static_cast<double>(H) * next_log_det);
  }
  const double na = arch.widths[static_cast<size_t>(L)];
  const double sa2 = arch.variances[static_cast<size_t>(L + 1)];
  out.entropy += na * (U_a / sa2 - std::log(U_a));

  // Energy: with G = Σ_k λ_k v_k v_kᵀ, ln det G = Σ ln λ_k and
  // yᵀ G⁻¹ y = Σ_k (v_k · y)² / λ_k.
  Eigen::MatrixXd G = BruteKernel(xi, xi, U[0]);
  G.diagonal().array() += temperature;
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(G);
  const Eigen::VectorXd lam = es.eigenvalues();
  const Eigen::MatrixXd proj = es.eigenvectors().transpose() * Y;  // (v_k · y_d)
  for (Eigen::Index d = 0; d < Y.cols(); ++d) {
    for (Eigen::Index k = 0; k < lam.size(); ++k) {
      out.energy += std::log(lam(k)) + proj(k, d) * proj(k, d) / lam(k);
    }
  }
  return out;
}

// ∂(energy)/∂U_1 = Σ_μν R_μν C_ππ'(μ, ν), R = D G⁻¹ − Σ_d α_d α_dᵀ,
// α = G⁻¹ y (theory.md §3, "Gradient"), from brute-force kernels.
inline Eigen::MatrixXd TheoryEnergyGradient(const std::vector<Eigen::MatrixXd>& xi,
                                            const Eigen::MatrixXd& Y, double temperature,
                                            const Eigen::MatrixXd& U1) {
  Eigen::MatrixXd G = BruteKernel(xi, xi, U1);
  G.diagonal().array() += temperature;
  const Eigen::MatrixXd Ginv = G.ldlt().solve(Eigen::MatrixXd::Identity(G.rows(), G.cols()));
  const Eigen::MatrixXd alpha = Ginv * Y;
  const Eigen::MatrixXd R = static_cast<double>(Y.cols()) * Ginv - alpha * alpha.transpose();
  return BruteContract(xi, R);
}

}  // namespace attnpaths::test_util
