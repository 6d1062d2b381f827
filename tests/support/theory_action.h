// The action of theory.md §3, with the output index of §9, written out
// directly and independently of solver/: explicit partial traces,
// log-determinants from eigenvalues, the PD × PD kernel G from brute-force
// path inputs entry by entry, and the energy from the eigen-decomposition of
// G. U_a is an argument (a D × D matrix), not eliminated, so tests can check
// the elimination separately.
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

// The output block U^{dd'}_ππ' = U_1[(π,d),(π',d')] (rows (π, d), d fastest).
inline Eigen::MatrixXd OutputBlock(const Eigen::MatrixXd& U1, Eigen::Index D, Eigen::Index d,
                                   Eigen::Index e) {
  const Eigen::Index H = U1.rows() / D;
  Eigen::MatrixXd B(H, H);
  for (Eigen::Index p = 0; p < H; ++p) {
    for (Eigen::Index q = 0; q < H; ++q) B(p, q) = U1(p * D + d, q * D + e);
  }
  return B;
}

// K[(μ,d),(ν,d')] = Σ_ππ' U_1[(π,d),(π',d')] C_ππ'(a^μ, b^ν) by loops
// (theory.md §9; (|a| D) × (|b| D), μ outer).
inline Eigen::MatrixXd BruteOutputKernel(const std::vector<Eigen::MatrixXd>& a,
                                         const std::vector<Eigen::MatrixXd>& b,
                                         const Eigen::MatrixXd& U1, Eigen::Index D) {
  const auto Pa = static_cast<Eigen::Index>(a.size()), Pb = static_cast<Eigen::Index>(b.size());
  Eigen::MatrixXd K(Pa * D, Pb * D);
  for (Eigen::Index d = 0; d < D; ++d) {
    for (Eigen::Index e = 0; e < D; ++e) {
      const Eigen::MatrixXd Kde = BruteKernel(a, b, OutputBlock(U1, D, d, e));
      for (Eigen::Index mu = 0; mu < Pa; ++mu) {
        for (Eigen::Index nu = 0; nu < Pb; ++nu) K(mu * D + d, nu * D + e) = Kde(mu, nu);
      }
    }
  }
  return K;
}

// vec(Y): entry μ D + d = Y_μd.
inline Eigen::VectorXd VecByLoops(const Eigen::MatrixXd& Y) {
  Eigen::VectorXd v(Y.size());
  for (Eigen::Index mu = 0; mu < Y.rows(); ++mu) {
    for (Eigen::Index d = 0; d < Y.cols(); ++d) v(mu * Y.cols() + d) = Y(mu, d);
  }
  return v;
}

struct TheoryActionTerms {
  double entropy = 0, energy = 0;
  double S() const { return entropy + energy; }
};

// S of theory.md §3/§9 at U = {U_1, …, U_L} ((m_ℓ D) × (m_ℓ D)) and the
// readout matrix U_a (D × D), D = Y.cols().
inline TheoryActionTerms TheoryAction(const Architecture& arch,
                                      const std::vector<Eigen::MatrixXd>& xi,
                                      const Eigen::MatrixXd& Y, double temperature,
                                      const std::vector<Eigen::MatrixXd>& U,
                                      const Eigen::MatrixXd& U_a) {
  const int L = arch.L();
  const Eigen::Index D = Y.cols();
  TheoryActionTerms out;
  for (int l = 1; l <= L; ++l) {
    const auto i = static_cast<size_t>(l - 1);
    const double n = arch.widths[i], s2 = arch.variances[static_cast<size_t>(l)];
    const auto H = static_cast<Eigen::Index>(arch.layers[i].size());
    const Eigen::MatrixXd tr = PartialTraceByLoops(U[i], H);
    const Eigen::MatrixXd next = l < L ? U[i + 1] : U_a;
    const double trace_term = next.ldlt().solve(tr).trace();  // tr(U_{ℓ+1}⁻¹ tr_ℓ U_ℓ)
    out.entropy += n * (trace_term / s2 - LogDetFromEigenvalues(U[i]) +
                        static_cast<double>(H) * LogDetFromEigenvalues(next));
  }
  const double na = arch.widths[static_cast<size_t>(L)];
  const double sa2 = arch.variances[static_cast<size_t>(L + 1)];
  out.entropy += na * (U_a.trace() / sa2 - LogDetFromEigenvalues(U_a));

  // Energy: with G = Σ_k λ_k v_k v_kᵀ, ln det G = Σ ln λ_k and
  // yᵀ G⁻¹ y = Σ_k (v_k · y)² / λ_k, y = vec(Y).
  Eigen::MatrixXd G = BruteOutputKernel(xi, xi, U[0], D);
  G.diagonal().array() += temperature;
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(G);
  const Eigen::VectorXd lam = es.eigenvalues();
  const Eigen::VectorXd proj = es.eigenvectors().transpose() * VecByLoops(Y);
  for (Eigen::Index k = 0; k < lam.size(); ++k) {
    out.energy += std::log(lam(k)) + proj(k) * proj(k) / lam(k);
  }
  return out;
}

// ∂(energy)/∂U_1 at entry [(π,d),(π',d')] = Σ_μν R[(μ,d),(ν,d')] C_ππ'(μ, ν),
// R = G⁻¹ − α αᵀ, α = G⁻¹ vec(Y) (theory.md §3 "Gradient", §9), by loops.
inline Eigen::MatrixXd TheoryEnergyGradient(const std::vector<Eigen::MatrixXd>& xi,
                                            const Eigen::MatrixXd& Y, double temperature,
                                            const Eigen::MatrixXd& U1) {
  const Eigen::Index D = Y.cols(), P = static_cast<Eigen::Index>(xi.size());
  Eigen::MatrixXd G = BruteOutputKernel(xi, xi, U1, D);
  G.diagonal().array() += temperature;
  const Eigen::MatrixXd Ginv = G.ldlt().solve(Eigen::MatrixXd::Identity(G.rows(), G.cols()));
  const Eigen::VectorXd alpha = Ginv * VecByLoops(Y);
  const Eigen::MatrixXd R = Ginv - alpha * alpha.transpose();
  const Eigen::Index H = U1.rows() / D;
  Eigen::MatrixXd g(H * D, H * D);
  for (Eigen::Index d = 0; d < D; ++d) {
    for (Eigen::Index e = 0; e < D; ++e) {
      Eigen::MatrixXd Rde(P, P);
      for (Eigen::Index mu = 0; mu < P; ++mu) {
        for (Eigen::Index nu = 0; nu < P; ++nu) Rde(mu, nu) = R(mu * D + d, nu * D + e);
      }
      for (Eigen::Index p = 0; p < H; ++p) {
        for (Eigen::Index q = 0; q < H; ++q) {
          const Eigen::MatrixXd C = BrutePair(xi, xi, p, q);
          g(p * D + d, q * D + e) = Rde.cwiseProduct(C).sum();
        }
      }
    }
  }
  return g;
}

}  // namespace attnpaths::test_util
