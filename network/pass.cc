#include "network/pass.h"

#include <cmath>
#include <string>
#include <utility>

#include "kernels/error.h"

namespace attnpaths {

namespace {

bool Active(const HeadMask* mask, int l, Eigen::Index h) {
  return mask == nullptr || mask->empty() ||
         (*mask)[static_cast<size_t>(l - 1)][static_cast<size_t>(h)];
}

// Column-wise softmax over keys (rows), in place: Ω_{st} = softmax_s A_{st}.
void SoftmaxColumns(Eigen::Ref<Eigen::MatrixXd> a) {
  for (Eigen::Index t = 0; t < a.cols(); ++t) {
    auto col = a.col(t);
    col.array() = (col.array() - col.maxCoeff()).exp();
    col /= col.sum();
  }
}

}  // namespace

FixedAttention ComputeFixedAttention(const Architecture& arch, const Inputs& x, Split split) {
  arch.Validate(x.N0(), x.n_tok());
  FixedAttention a;
  a.omega.resize(static_cast<size_t>(x.P()));
  for (Eigen::Index mu = 0; mu < x.P(); ++mu) {
    auto& per_layer = a.omega[static_cast<size_t>(mu)];
    per_layer.resize(arch.layers.size());
    for (size_t l = 0; l < arch.layers.size(); ++l) {
      for (const HeadSpec& head : arch.layers[l]) {
        per_layer[l].push_back(AttentionMatrix(head, x.example(mu), mu, split));
      }
    }
  }
  return a;
}

Eigen::VectorXd ReadoutWeights(Readout readout, Eigen::Index n_tok) {
  Eigen::VectorXd r = Eigen::VectorXd::Zero(n_tok);
  switch (readout) {
    case Readout::kMean:
      r.setConstant(1.0 / static_cast<double>(n_tok));
      break;
    case Readout::kFirst:
      r(0) = 1.0;
      break;
    case Readout::kLast:
      r(n_tok - 1) = 1.0;
      break;
  }
  return r;
}

// Buffers of one chunk's forward and backward pass, kept by each thread
// (thread_local) between calls: training calls the passes with the same
// sizes at every step, so after the first step nothing is allocated (large
// reallocations are mmap calls and page faults in glibc).
struct NetworkPass::Workspace {
  Eigen::MatrixXd X;  // N0 × (B n_tok): the chunk's inputs side by side
  std::vector<std::vector<Eigen::MatrixXd>> kappa, query, omega, m;  // [ℓ-1][h]
  std::vector<Eigen::MatrixXd> readout;                              // ω^{L,h}: n_tok × B
  std::vector<Eigen::MatrixXd> z;                                    // z⁰ … z^L
  std::vector<Eigen::MatrixXd> G;                                    // ∂/∂z⁰ … ∂/∂z^L
  Eigen::MatrixXd dm, dkappa, dquery, dA;
  Eigen::MatrixXd f;  // B × D
};

NetworkPass::Workspace& NetworkPass::ThreadWorkspace() {
  thread_local Workspace workspace;
  return workspace;
}

NetworkPass::NetworkPass(const Network& net, const HeadMask* mask, const FixedAttention* attention)
    : net_(net),
      s_(net.shape()),
      mask_(mask),
      attention_(attention),
      r_(ReadoutWeights(net.shape().readout, net.shape().n_tok)),
      w_(ThreadWorkspace()) {
  if (mask_) ValidateHeadMask(*mask_, s_);
  if (s_.head_weights == HeadWeights::kFixed) {
    Require(attention_ != nullptr, "network heads", "fixed heads without attention matrices",
            "a FixedAttention table (network/pass.h)");
  }
  const int L = s_.L();
  w_.kappa.resize(static_cast<size_t>(L));
  w_.query.resize(static_cast<size_t>(L));
  w_.omega.resize(static_cast<size_t>(L));
  w_.m.resize(static_cast<size_t>(L));
  for (int l = 0; l < L; ++l) {
    const auto H = static_cast<size_t>(s_.heads[static_cast<size_t>(l)]);
    w_.kappa[static_cast<size_t>(l)].resize(H);
    w_.query[static_cast<size_t>(l)].resize(H);
    w_.omega[static_cast<size_t>(l)].resize(H);
    w_.m[static_cast<size_t>(l)].resize(H);
  }
  w_.readout.resize(static_cast<size_t>(s_.heads.back()));
  w_.z.resize(static_cast<size_t>(L + 1));
  w_.G.resize(static_cast<size_t>(L + 1));
}

const Eigen::MatrixXd& NetworkPass::Forward(const Inputs& x, const Eigen::Index* ids,
                                            Eigen::Index B) {
  const Eigen::Index n = s_.n_tok, N0 = s_.N0;
  const int L = s_.L();
  const bool fixed = s_.head_weights == HeadWeights::kFixed;
  B_ = B;
  for (Eigen::Index b = 0; b < B; ++b) {  // before any read (ASan: x.example(P) overflowed)
    Require(ids[b] >= 0 && ids[b] < x.P(), "network input example", ids[b],
            "an example index in [0, " + std::to_string(x.P()) + ")");
  }
  w_.X.resize(N0, B * n);
  for (Eigen::Index b = 0; b < B; ++b) w_.X.middleCols(b * n, n) = x.example(ids[b]);
  const double inv_sqrt_d = 1.0 / std::sqrt(static_cast<double>(s_.key_dim));
  if (fixed) {
    for (Eigen::Index b = 0; b < B; ++b) {
      Require(ids[b] >= 0 && ids[b] < static_cast<Eigen::Index>(attention_->omega.size()),
              "fixed attention example", ids[b],
              "an example of the table (" + std::to_string(attention_->omega.size()) + ")");
      const auto& per_layer = attention_->omega[static_cast<size_t>(ids[b])];
      Require(per_layer.size() == static_cast<size_t>(L), "fixed attention layers",
              per_layer.size(), std::to_string(L));
      for (int l = 1; l <= L; ++l) {
        const auto& heads = per_layer[static_cast<size_t>(l - 1)];
        Require(static_cast<Eigen::Index>(heads.size()) == s_.heads[static_cast<size_t>(l - 1)],
                "fixed attention heads in layer " + std::to_string(l), heads.size(),
                std::to_string(s_.heads[static_cast<size_t>(l - 1)]));
        for (const Eigen::MatrixXd& om : heads) {
          Require(om.rows() == n && om.cols() == n, "fixed attention matrix rows", om.rows(),
                  std::to_string(n) + " × " + std::to_string(n));
        }
      }
    }
  }

  // z⁰ = V_0 x / √N0 (theory.md §1, embedding).
  w_.z[0].noalias() = net_.V0() * w_.X;
  w_.z[0] /= std::sqrt(static_cast<double>(N0));
  for (int l = 1; l <= L; ++l) {
    const auto li = static_cast<size_t>(l - 1);
    const Eigen::Index H = s_.heads[li];
    const double c = s_.LayerScale(l);
    const Eigen::MatrixXd& prev = w_.z[li];
    Eigen::MatrixXd& out = w_.z[li + 1];
    out.setZero(s_.widths[li + 1], l < L ? B * n : B);
    for (Eigen::Index h = 0; h < H; ++h) {
      if (!Active(mask_, l, h)) continue;
      const auto hi = static_cast<size_t>(h);
      Eigen::MatrixXd& kappa = w_.kappa[li][hi];
      Eigen::MatrixXd& query = w_.query[li][hi];
      Eigen::MatrixXd& omega = w_.omega[li][hi];
      Eigen::MatrixXd& m = w_.m[li][hi];
      if (!fixed) {
        // Ω^{ℓ,h}(x) from the input tokens (theory.md §1, QK-form).
        kappa.noalias() = net_.K(l, h) * w_.X;
        query.noalias() = net_.Q(l, h) * w_.X;
      }
      omega.resize(n, B * n);
      m.resize(s_.widths[li], l < L ? B * n : B);
      if (l == L) w_.readout[hi].resize(n, B);
      for (Eigen::Index b = 0; b < B; ++b) {
        auto om = omega.middleCols(b * n, n);
        if (fixed) {
          om = attention_->omega[static_cast<size_t>(ids[b])][li][hi];
        } else {
          om.noalias() = kappa.middleCols(b * n, n).transpose() * query.middleCols(b * n, n);
          om *= inv_sqrt_d;
          SoftmaxColumns(om);
        }
        if (l < L) {
          // z^{ℓ-1} Ω^{ℓ,h}
          m.middleCols(b * n, n).noalias() = prev.middleCols(b * n, n) * om;
        } else {
          // ω^{L,h} = Ω r, then z^{L-1} ω^{L,h}
          w_.readout[hi].col(b).noalias() = om * r_;
          m.col(b).noalias() = prev.middleCols(b * n, n) * w_.readout[hi].col(b);
        }
      }
      out.noalias() += c * (net_.V(l, h) * m);
    }
  }
  // f = aᵀ z^L / √n_{L+1}
  const Eigen::MatrixXd& zL = w_.z[static_cast<size_t>(L)];
  w_.f.resize(B, s_.outputs);
  if (s_.outputs == 1) {
    w_.f.col(0).noalias() = zL.transpose() * net_.a().col(0);
  } else {
    w_.f.noalias() = zL.transpose() * net_.a();
  }
  w_.f /= std::sqrt(static_cast<double>(s_.widths.back()));
  return w_.f;
}

void NetworkPass::Backward(const Eigen::Ref<const Eigen::MatrixXd>& g, Eigen::VectorXd* grad) {
  const ParameterLayout& lay = net_.layout();
  const Eigen::Index n = s_.n_tok, B = B_;
  const int L = s_.L();
  const bool fixed = s_.head_weights == HeadWeights::kFixed;
  if (g.rows() != B || g.cols() != s_.outputs) {
    throw Error(ErrorMessage("output cotangent", ToText(g.rows()) + " × " + ToText(g.cols()),
                             ToText(B) + " × " + ToText(s_.outputs) + " (the last chunk)"));
  }
  const double inv_sqrt_d = 1.0 / std::sqrt(static_cast<double>(s_.key_dim));
  const double inv_sqrt_na = 1.0 / std::sqrt(static_cast<double>(s_.widths.back()));

  // f = aᵀ z^L/√n_{L+1}: ∂a = z^L g/√n_{L+1}; G = ∂/∂z^L = a gᵀ/√n_{L+1}.
  // w_.G[ℓ] = ∂/∂z^ℓ; one buffer per layer, so that no buffer changes size
  // between calls.
  const Eigen::MatrixXd& zL = w_.z[static_cast<size_t>(L)];
  if (s_.outputs == 1) {
    ParameterLayout::View(*grad, lay.a()).col(0).noalias() += inv_sqrt_na * (zL * g.col(0));
    w_.G[static_cast<size_t>(L)].noalias() = inv_sqrt_na * (net_.a().col(0) * g.col(0).transpose());
  } else {
    ParameterLayout::View(*grad, lay.a()).noalias() += inv_sqrt_na * (zL * g);
    w_.G[static_cast<size_t>(L)].noalias() = inv_sqrt_na * (net_.a() * g.transpose());
  }
  Eigen::MatrixXd &dm = w_.dm, &dkappa = w_.dkappa, &dquery = w_.dquery, &dA = w_.dA;
  for (int l = L; l >= 1; --l) {
    const auto li = static_cast<size_t>(l - 1);
    const Eigen::Index H = s_.heads[li];
    const double c = s_.LayerScale(l);
    const Eigen::MatrixXd& prev = w_.z[li];
    const Eigen::MatrixXd& G = w_.G[li + 1];
    Eigen::MatrixXd& G_prev = w_.G[li];
    G_prev.setZero(s_.widths[li], B * n);
    for (Eigen::Index h = 0; h < H; ++h) {
      if (!Active(mask_, l, h)) continue;
      const auto hi = static_cast<size_t>(h);
      const Eigen::MatrixXd& kappa = w_.kappa[li][hi];
      const Eigen::MatrixXd& query = w_.query[li][hi];
      const Eigen::MatrixXd& omega = w_.omega[li][hi];
      const Eigen::MatrixXd& m = w_.m[li][hi];
      // z^ℓ += c V m: ∂V = c G mᵀ, ∂m = c Vᵀ G.
      ParameterLayout::View(*grad, lay.V(l, h)).noalias() += c * (G * m.transpose());
      dm.noalias() = c * (net_.V(l, h).transpose() * G);
      if (!fixed) {
        dkappa.resize(s_.key_dim, B * n);
        dquery.resize(s_.key_dim, B * n);
      }
      for (Eigen::Index b = 0; b < B; ++b) {
        const auto om = omega.middleCols(b * n, n);
        const auto zb = prev.middleCols(b * n, n);
        if (l < L) {
          // m_b = z_b Ω: ∂z_b += ∂m_b Ωᵀ, ∂Ω = z_bᵀ ∂m_b.
          G_prev.middleCols(b * n, n).noalias() += dm.middleCols(b * n, n) * om.transpose();
          if (!fixed) dA.noalias() = zb.transpose() * dm.middleCols(b * n, n);
        } else {
          // m_b = z_b ω, ω = Ω r: ∂z_b += ∂m_b ωᵀ, ∂ω = z_bᵀ ∂m_b, ∂Ω = ∂ω rᵀ.
          G_prev.middleCols(b * n, n).noalias() += dm.col(b) * w_.readout[hi].col(b).transpose();
          if (!fixed) {
            const Eigen::VectorXd domega = zb.transpose() * dm.col(b);
            dA.noalias() = domega * r_.transpose();
          }
        }
        if (fixed) continue;
        // Softmax over keys, column t: ∂A_st = Ω_st (∂Ω_st − Σ_s' Ω_s't ∂Ω_s't).
        const Eigen::RowVectorXd inner = (om.array() * dA.array()).colwise().sum();
        dA = (om.array() * (dA.rowwise() - inner).array()).matrix();
        // A = κᵀ q /√d: ∂κ = q ∂Aᵀ/√d, ∂q = κ ∂A/√d.
        dkappa.middleCols(b * n, n).noalias() =
            inv_sqrt_d * (query.middleCols(b * n, n) * dA.transpose());
        dquery.middleCols(b * n, n).noalias() = inv_sqrt_d * (kappa.middleCols(b * n, n) * dA);
      }
      if (fixed) continue;
      // κ = K x, q = Q x.
      ParameterLayout::View(*grad, lay.K(l, h)).noalias() += dkappa * w_.X.transpose();
      ParameterLayout::View(*grad, lay.Q(l, h)).noalias() += dquery * w_.X.transpose();
    }
  }
  // z⁰ = V_0 x/√N0: ∂V_0 = G xᵀ/√N0.
  ParameterLayout::View(*grad, lay.V0()).noalias() +=
      (1.0 / std::sqrt(static_cast<double>(s_.N0))) * (w_.G[0] * w_.X.transpose());
}

Eigen::MatrixXd OutputJacobian(const Network& net, const Inputs& x,
                               const std::vector<Eigen::Index>& ids, const HeadMask* mask,
                               const FixedAttention* attention) {
  const NetworkShape& s = net.shape();
  Require(x.N0() == s.N0 && x.n_tok() == s.n_tok, "inputs shape",
          "n_tok " + ToText(x.n_tok()) + ", N0 " + ToText(x.N0()),
          "n_tok " + ToText(s.n_tok) + ", N0 " + ToText(s.N0) + " (the network's)");
  for (Eigen::Index id : ids) {
    Require(id >= 0 && id < x.P(), "example index", id, "0 … " + ToText(x.P() - 1));
  }
  const Eigen::Index D = s.outputs;
  Eigen::MatrixXd J(static_cast<Eigen::Index>(ids.size()) * D, net.num_parameters());
  NetworkPass pass(net, mask, attention);
  Eigen::VectorXd grad(net.num_parameters());
  Eigen::MatrixXd g(1, D);
  for (size_t b = 0; b < ids.size(); ++b) {
    pass.Forward(x, &ids[b], 1);
    for (Eigen::Index k = 0; k < D; ++k) {
      g.setZero();
      g(0, k) = 1.0;
      grad.setZero();
      pass.Backward(g, &grad);
      J.row(static_cast<Eigen::Index>(b) * D + k) = grad.transpose();
    }
  }
  return J;
}

}  // namespace attnpaths
