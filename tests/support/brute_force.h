// Brute-force, token-by-token evaluation of attention, path inputs and path
// kernels with explicit scalar loops (theory.md §1, §2). Slow and plain on
// purpose: it shares no code with kernels/ beyond the input structs, so the
// vectorised library can be checked against it.
//
//   Eigen::MatrixXd omega = attnpaths::test_util::BruteAttention(head, x, mu, Split::kTrain);
//   auto xi = attnpaths::test_util::BrutePathInputs(arch, X, Split::kTrain);  // xi[μ](i, π)
//   Eigen::MatrixXd C = attnpaths::test_util::BrutePair(xi, xi, p, q);        // C_pq(μ, ν)
//   Eigen::RowVectorXd f = attnpaths::test_util::BruteNetworkOutput(arch, V0, V, a, X, mu, split);
#pragma once

#include <Eigen/Core>
#include <cmath>
#include <limits>
#include <vector>

#include "kernels/architecture.h"
#include "kernels/head.h"
#include "kernels/inputs.h"

namespace attnpaths::test_util {

// Attention score of key s for query t, from the tokens one by one.
inline double BruteScore(const HeadSpec& head, const Eigen::MatrixXd& x, Eigen::Index s,
                         Eigen::Index t) {
  const Eigen::Index N0 = x.rows();
  double score = 0;
  switch (head.kind) {
    case HeadKind::kWForm:
      // β x_sᵀ W x_t
      for (Eigen::Index i = 0; i < N0; ++i) {
        for (Eigen::Index j = 0; j < N0; ++j) score += x(i, s) * head.W(i, j) * x(j, t);
      }
      return head.beta * score;
    case HeadKind::kQKForm: {
      // β (K x_s)·(Q x_t) / √d
      const Eigen::Index d = head.Q.rows();
      for (Eigen::Index a = 0; a < d; ++a) {
        double k = 0, q = 0;
        for (Eigen::Index i = 0; i < N0; ++i) {
          k += head.K(a, i) * x(i, s);
          q += head.Q(a, i) * x(i, t);
        }
        score += k * q;
      }
      return head.beta * score / std::sqrt(static_cast<double>(d));
    }
    default:
      return 0.0;
  }
}

// Ω (key index first) of `head` for the example x (N0 × n_tok), by loops.
inline Eigen::MatrixXd BruteAttention(const HeadSpec& head, const Eigen::MatrixXd& x,
                                      Eigen::Index example, Split split) {
  const Eigen::Index n = x.cols();
  if (head.kind == HeadKind::kGiven) {
    const auto& given = split == Split::kTrain ? *head.given_train : *head.given_test;
    return given[static_cast<size_t>(example)];
  }
  if (head.kind == HeadKind::kFixed) return head.fixed;  // as it is: no mask, no normalisation
  Eigen::MatrixXd omega = Eigen::MatrixXd::Zero(n, n);
  for (Eigen::Index t = 0; t < n; ++t) {
    auto allowed = [&](Eigen::Index s) { return !head.causal || s <= t; };
    if (head.kind == HeadKind::kUniform) {
      int count = 0;
      for (Eigen::Index s = 0; s < n; ++s) count += allowed(s);
      for (Eigen::Index s = 0; s < n; ++s) omega(s, t) = allowed(s) ? 1.0 / count : 0.0;
      continue;
    }
    if (head.normalization == Normalization::kHardmax) {
      // The first key with the largest score (ties to the lowest index).
      Eigen::Index best = -1;
      double best_score = -std::numeric_limits<double>::infinity();
      for (Eigen::Index s = 0; s < n; ++s) {
        if (!allowed(s)) continue;
        const double sc = BruteScore(head, x, s, t);
        if (best < 0 || sc > best_score) {
          best = s;
          best_score = sc;
        }
      }
      omega(best, t) = 1.0;
    } else {
      double z = 0;
      for (Eigen::Index s = 0; s < n; ++s) {
        if (allowed(s)) z += std::exp(BruteScore(head, x, s, t));
      }
      for (Eigen::Index s = 0; s < n; ++s) {
        omega(s, t) = allowed(s) ? std::exp(BruteScore(head, x, s, t)) / z : 0.0;
      }
    }
  }
  return omega;
}

// ω_s: the mean over queries, the first query's column or the last one's.
inline Eigen::VectorXd BruteReadout(const Eigen::MatrixXd& omega, Readout readout) {
  const Eigen::Index n = omega.rows();
  Eigen::VectorXd w(n);
  for (Eigen::Index s = 0; s < n; ++s) {
    switch (readout) {
      case Readout::kMean: {
        double m = 0;
        for (Eigen::Index t = 0; t < omega.cols(); ++t) m += omega(s, t);
        w(s) = m / static_cast<double>(omega.cols());
        break;
      }
      case Readout::kFirst:
        w(s) = omega(s, 0);
        break;
      case Readout::kLast:
        w(s) = omega(s, omega.cols() - 1);
        break;
    }
  }
  return w;
}

// Heads (h_1, …, h_L) of packed path p: h_L the fastest digit (theory.md §2).
inline std::vector<Eigen::Index> BrutePathHeads(const Architecture& arch, Eigen::Index p) {
  std::vector<Eigen::Index> h(static_cast<size_t>(arch.L()));
  Eigen::Index stride = arch.Htot();
  for (int l = 0; l < arch.L(); ++l) {
    stride /= static_cast<Eigen::Index>(arch.layers[static_cast<size_t>(l)].size());
    h[static_cast<size_t>(l)] =
        (p / stride) % static_cast<Eigen::Index>(arch.layers[static_cast<size_t>(l)].size());
  }
  return h;
}

// ξ_π(x^μ) = σ_0/√(N0 Htot) · x Ω^{1,h_1} ⋯ ω^{L,h_L} for every example:
// result[μ] is N0 × Htot with column π = ξ_π(x^μ) (theory.md §2).
inline std::vector<Eigen::MatrixXd> BrutePathInputs(const Architecture& arch, const Inputs& X,
                                                    Split split) {
  const Eigen::Index N0 = X.N0(), n = X.n_tok(), Htot = arch.Htot();
  const double c = std::sqrt(arch.variances[0]) / std::sqrt(static_cast<double>(N0 * Htot));
  std::vector<Eigen::MatrixXd> out;
  for (Eigen::Index mu = 0; mu < X.P(); ++mu) {
    const Eigen::MatrixXd x = X.example(mu);
    // Every head's attention for this example.
    std::vector<std::vector<Eigen::MatrixXd>> omega(arch.layers.size());
    for (size_t l = 0; l < arch.layers.size(); ++l) {
      for (const auto& head : arch.layers[l]) {
        omega[l].push_back(BruteAttention(head, x, mu, split));
      }
    }
    Eigen::MatrixXd xi(N0, Htot);
    for (Eigen::Index p = 0; p < Htot; ++p) {
      const auto h = BrutePathHeads(arch, p);
      const size_t L = arch.layers.size();
      // v = ω^{L,h_L}, then v ← Ω^{ℓ,h_ℓ} v for ℓ = L−1, …, 1.
      Eigen::VectorXd v = BruteReadout(omega[L - 1][static_cast<size_t>(h[L - 1])], arch.readout);
      for (size_t l = L - 1; l-- > 0;) {
        const Eigen::MatrixXd& o = omega[l][static_cast<size_t>(h[l])];
        Eigen::VectorXd next(n);
        for (Eigen::Index s = 0; s < n; ++s) {
          double acc = 0;
          for (Eigen::Index t = 0; t < n; ++t) acc += o(s, t) * v(t);
          next(s) = acc;
        }
        v = next;
      }
      for (Eigen::Index i = 0; i < N0; ++i) {
        double acc = 0;
        for (Eigen::Index s = 0; s < n; ++s) acc += x(i, s) * v(s);
        xi(i, p) = c * acc;
      }
    }
    out.push_back(std::move(xi));
  }
  return out;
}

// C_pq(a^μ, b^ν) = ξ_p(a^μ) · ξ_q(b^ν) by loops (|a| × |b|).
inline Eigen::MatrixXd BrutePair(const std::vector<Eigen::MatrixXd>& a,
                                 const std::vector<Eigen::MatrixXd>& b, Eigen::Index p,
                                 Eigen::Index q) {
  const auto Pa = static_cast<Eigen::Index>(a.size()), Pb = static_cast<Eigen::Index>(b.size());
  Eigen::MatrixXd C(Pa, Pb);
  for (Eigen::Index mu = 0; mu < Pa; ++mu) {
    for (Eigen::Index nu = 0; nu < Pb; ++nu) {
      const Eigen::MatrixXd& xa = a[static_cast<size_t>(mu)];
      const Eigen::MatrixXd& xb = b[static_cast<size_t>(nu)];
      double acc = 0;
      for (Eigen::Index i = 0; i < xa.rows(); ++i) acc += xa(i, p) * xb(i, q);
      C(mu, nu) = acc;
    }
  }
  return C;
}

// K_U(a^μ, b^ν) = Σ_ππ' U_ππ' C_ππ'(a^μ, b^ν) by loops (theory.md §2).
inline Eigen::MatrixXd BruteKernel(const std::vector<Eigen::MatrixXd>& a,
                                   const std::vector<Eigen::MatrixXd>& b,
                                   const Eigen::MatrixXd& U) {
  Eigen::MatrixXd K = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(a.size()),
                                            static_cast<Eigen::Index>(b.size()));
  for (Eigen::Index p = 0; p < U.rows(); ++p) {
    for (Eigen::Index q = 0; q < U.cols(); ++q) K += U(p, q) * BrutePair(a, b, p, q);
  }
  return K;
}

// g_pq = Σ_μν R_μν C_pq(x^μ, x^ν) by loops.
inline Eigen::MatrixXd BruteContract(const std::vector<Eigen::MatrixXd>& xi,
                                     const Eigen::MatrixXd& R) {
  const Eigen::Index H = xi.empty() ? 0 : xi[0].cols();
  Eigen::MatrixXd g(H, H);
  for (Eigen::Index p = 0; p < H; ++p) {
    for (Eigen::Index q = 0; q < H; ++q) {
      const Eigen::MatrixXd C = BrutePair(xi, xi, p, q);
      double acc = 0;
      for (Eigen::Index mu = 0; mu < C.rows(); ++mu) {
        for (Eigen::Index nu = 0; nu < C.cols(); ++nu) acc += R(mu, nu) * C(mu, nu);
      }
      g(p, q) = acc;
    }
  }
  return g;
}

// f(x^μ) of the network of theory.md §1 (1 × D) with explicit loops over
// tokens, features and heads: z⁰ = V_0 x/√N0, z^ℓ = Σ_h V_{ℓ,h} z^{ℓ-1} Ω^{ℓ,h}
// / √(H_ℓ n_ℓ), the token readout at the last layer, f = aᵀ z^L/√n_{L+1}.
// The weights are in their own units (V0: n_1 × N0, V[ℓ-1][h]: n_{ℓ+1} × n_ℓ,
// a: n_{L+1} × D); the heads are `arch`'s, with their attention from the loops
// above. Heads with mask[ℓ-1][h] == false are left out of their layer's sum
// (an empty mask keeps every head); H_ℓ in the scale stays the full count.
// The reference for network/pass.h, the trainer and the sampler's potentials.
inline Eigen::RowVectorXd BruteNetworkOutput(const Architecture& arch, const Eigen::MatrixXd& V0,
                                             const std::vector<std::vector<Eigen::MatrixXd>>& V,
                                             const Eigen::MatrixXd& a, const Inputs& X,
                                             Eigen::Index mu, Split split,
                                             const std::vector<std::vector<bool>>& mask = {}) {
  const Eigen::MatrixXd x = X.example(mu);
  const Eigen::Index N0 = X.N0(), n_tok = X.n_tok();
  const int L = arch.L();
  using Table = std::vector<std::vector<double>>;
  // z⁰ = V_0 x / √N0
  Table z(static_cast<size_t>(V0.rows()), std::vector<double>(static_cast<size_t>(n_tok), 0.0));
  for (Eigen::Index i = 0; i < V0.rows(); ++i) {
    for (Eigen::Index t = 0; t < n_tok; ++t) {
      double s = 0;
      for (Eigen::Index k = 0; k < N0; ++k) s += V0(i, k) * x(k, t);
      z[static_cast<size_t>(i)][static_cast<size_t>(t)] = s / std::sqrt(double(N0));
    }
  }
  for (int l = 1; l <= L; ++l) {
    const auto& heads = arch.layers[static_cast<size_t>(l - 1)];
    const auto& Vl = V[static_cast<size_t>(l - 1)];
    const auto H = static_cast<Eigen::Index>(heads.size());
    const Eigen::Index n_in = Vl[0].cols(), n_out = Vl[0].rows();
    const Eigen::Index queries = l < L ? n_tok : 1;
    Table next(static_cast<size_t>(n_out), std::vector<double>(static_cast<size_t>(queries), 0.0));
    for (Eigen::Index h = 0; h < H; ++h) {
      if (!mask.empty() && !mask[static_cast<size_t>(l - 1)][static_cast<size_t>(h)]) continue;
      const Eigen::MatrixXd omega = BruteAttention(heads[static_cast<size_t>(h)], x, mu, split);
      Eigen::MatrixXd mix = omega;  // Ω (ℓ < L) or ω as one column (ℓ = L)
      if (l == L) mix = BruteReadout(omega, arch.readout);
      const Eigen::MatrixXd& Vh = Vl[static_cast<size_t>(h)];
      for (Eigen::Index i = 0; i < n_out; ++i) {
        for (Eigen::Index t = 0; t < queries; ++t) {
          double s = 0;
          for (Eigen::Index j = 0; j < n_in; ++j) {
            for (Eigen::Index r = 0; r < n_tok; ++r) {
              s += Vh(i, j) * z[static_cast<size_t>(j)][static_cast<size_t>(r)] * mix(r, t);
            }
          }
          next[static_cast<size_t>(i)][static_cast<size_t>(t)] += s / std::sqrt(double(H * n_in));
        }
      }
    }
    z.swap(next);
  }
  Eigen::RowVectorXd f = Eigen::RowVectorXd::Zero(a.cols());
  for (Eigen::Index d = 0; d < a.cols(); ++d) {
    for (Eigen::Index i = 0; i < a.rows(); ++i) f[d] += a(i, d) * z[static_cast<size_t>(i)][0];
    f[d] /= std::sqrt(double(a.rows()));
  }
  return f;
}

}  // namespace attnpaths::test_util
