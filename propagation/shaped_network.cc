#include "propagation/shaped_network.h"

#include <boost/random/chi_squared_distribution.hpp>
#include <chrono>
#include <cmath>

#include "kernels/error.h"
#include "propagation/parallel.h"
#include "propagation/shaped_sde.h"

namespace attnpaths {

namespace {

Eigen::MatrixXd Normal(Eigen::Index rows, Eigen::Index cols, PropagationRng& engine) {
  Eigen::MatrixXd z(rows, cols);
  for (Eigen::Index k = 0; k < z.size(); ++k) z.data()[k] = PropagationNormal(engine);
  return z;
}

// The per-network constants of the block at width n.
struct Block {
  double n, nk, lambda, gamma, mlp_lambda, mlp_gamma, kappa, s_plus, s_minus;
  bool shaped, attention, mlp;
  double logit_scale;  // S = logit_scale · q kᵀ with q, k = X W^{Q,K}/√n
};

Block MakeBlock(const ShapedNetworkOptions& o) {
  Block b;
  b.n = static_cast<double>(o.width);
  b.nk = static_cast<double>(o.key_dim);
  b.gamma = o.model.gamma;
  b.lambda = std::sqrt(1 - b.gamma * b.gamma);
  b.mlp = o.model.mlp;
  b.mlp_gamma = o.model.mlp_gamma;
  b.mlp_lambda = std::sqrt(1 - b.mlp_gamma * b.mlp_gamma);
  b.s_plus = 1 + o.model.c_plus / std::sqrt(b.n);
  b.s_minus = 1 + o.model.c_minus / std::sqrt(b.n);
  b.kappa = std::sqrt(2 / (b.s_plus * b.s_plus + b.s_minus * b.s_minus));
  b.shaped = o.attention == ShapedAttention::kShaped;
  b.attention = !b.shaped || o.model.attention();
  // (I.3): S = (X W^Q)(X W^K)ᵀ/(τ0 n^{3/2} √n_k) = q kᵀ/(τ0 √(n n_k)) for q = X W^Q/√n;
  // standard: S' = (X W^Q)(X W^K)ᵀ/(n √n_k) = q kᵀ/√n_k.
  b.logit_scale = b.shaped ? 1 / (o.model.tau0 * std::sqrt(b.n * b.nk)) : 1 / std::sqrt(b.nk);
  return b;
}

Eigen::MatrixXd AttentionFromLogits(const Block& b, const Eigen::MatrixXd& S) {
  return b.shaped ? ShapedAttentionMatrix(S) : SoftmaxRows(S);
}

// A from the logits of queries/keys q = R Z_q, k = R Z_k (exact in law given V).
Eigen::MatrixXd DrawAttention(const Block& b, const Eigen::MatrixXd& R, Eigen::Index m,
                              Eigen::Index nk, PropagationRng& engine) {
  if (!b.attention) return Eigen::MatrixXd::Identity(m, m);
  const Eigen::MatrixXd q = R * Normal(m, nk, engine), k = R * Normal(m, nk, engine);
  return AttentionFromLogits(b, b.logit_scale * (q * k.transpose()));
}

Eigen::MatrixXd ShapedReluOf(const Block& b, const Eigen::MatrixXd& x) {
  const double sp = b.s_plus, sm = b.s_minus;
  return x.unaryExpr([sp, sm](double v) { return ShapedRelu(v, sp, sm); });
}

Eigen::MatrixXd Gram(const Eigen::MatrixXd& X, double n) {
  Eigen::MatrixXd V = X * X.transpose() / n;
  return 0.5 * (V + V.transpose());
}

// State of one network: X (samplers full and X) or V (chain).
struct Network {
  Eigen::MatrixXd X, V;
  std::int32_t events = 0;
};

void Start(const ShapedNetworkOptions& o, const Eigen::MatrixXd& V0, Network* net) {
  const Eigen::Index m = V0.rows();
  if (o.sampler == ShapedSampler::kChain) {
    net->V = V0;
    return;
  }
  bool clipped = false;
  net->X = Eigen::MatrixXd::Zero(m, o.width);
  net->X.leftCols(m) = std::sqrt(static_cast<double>(o.width)) * CovarianceRoot(V0, &clipped);
  net->V = Gram(net->X, static_cast<double>(o.width));
}

// One layer (attention sub-block, then the MLP sub-block if any).
void Step(const ShapedNetworkOptions& o, const Block& b, Network* net, PropagationRng& engine) {
  const Eigen::Index m = net->V.rows(), n = o.width, nk = o.key_dim;
  bool clipped = false;
  switch (o.sampler) {
    case ShapedSampler::kFull: {
      Eigen::MatrixXd& X = net->X;
      Eigen::MatrixXd A = Eigen::MatrixXd::Identity(m, m);
      if (b.attention) {
        const Eigen::MatrixXd q = X * Normal(n, nk, engine) / std::sqrt(b.n);
        const Eigen::MatrixXd k = X * Normal(n, nk, engine) / std::sqrt(b.n);
        A = AttentionFromLogits(b, b.logit_scale * (q * k.transpose()));
      }
      X = b.lambda * X + b.gamma * (A * (X * Normal(n, n, engine))) / std::sqrt(b.n);
      if (b.mlp) {
        const Eigen::MatrixXd H = ShapedReluOf(b, X * Normal(n, n, engine) / std::sqrt(b.n));
        X = b.mlp_lambda * X + b.mlp_gamma * b.kappa * (H * Normal(n, n, engine)) / std::sqrt(b.n);
      }
      net->V = Gram(X, b.n);
      return;
    }
    case ShapedSampler::kX: {
      Eigen::MatrixXd& X = net->X;
      Eigen::MatrixXd R = CovarianceRoot(net->V, &clipped);
      net->events += clipped;
      const Eigen::MatrixXd A = DrawAttention(b, R, m, nk, engine);
      X = b.lambda * X + b.gamma * (A * (R * Normal(m, n, engine)));  // X W^V/√n = R Z in law
      if (b.mlp) {
        R = CovarianceRoot(Gram(X, b.n), &clipped);
        net->events += clipped;
        const Eigen::MatrixXd H = ShapedReluOf(b, R * Normal(m, n, engine));
        const Eigen::MatrixXd RH = CovarianceRoot(Gram(H, b.n), &clipped);
        X = b.mlp_lambda * X + b.mlp_gamma * b.kappa * (RH * Normal(m, n, engine));
      }
      net->V = Gram(X, b.n);
      return;
    }
    case ShapedSampler::kChain: {
      Eigen::MatrixXd& V = net->V;
      Eigen::MatrixXd R = CovarianceRoot(V, &clipped);
      net->events += clipped;
      const Eigen::MatrixXd A = DrawAttention(b, R, m, nk, engine);
      // (I.9)
      const Eigen::MatrixXd Y = Normal(m, m, engine);
      const Eigen::MatrixXd W = WishartIdentity(m, n - m, engine);
      const Eigen::MatrixXd AR = A * R;
      const Eigen::MatrixXd cross = AR * Y * R.transpose();
      Eigen::MatrixXd next =
          b.lambda * b.lambda * V +
          (b.lambda * b.gamma / std::sqrt(b.n)) * (cross + cross.transpose()) +
          (b.gamma * b.gamma / b.n) * (AR * (Y * Y.transpose() + W) * AR.transpose());
      V = 0.5 * (next + next.transpose());
      if (b.mlp) {
        R = CovarianceRoot(V, &clipped);
        net->events += clipped;
        const Eigen::MatrixXd H = ShapedReluOf(b, R * Normal(m, n, engine));
        const Eigen::MatrixXd RH = CovarianceRoot(Gram(H, b.n), &clipped);
        const Eigen::MatrixXd Y2 = Normal(m, m, engine);
        const Eigen::MatrixXd W2 = WishartIdentity(m, n - m, engine);
        const Eigen::MatrixXd c2 = RH * Y2 * R.transpose();
        const double g = b.mlp_gamma * b.kappa;
        next = b.mlp_lambda * b.mlp_lambda * V +
               (b.mlp_lambda * g / std::sqrt(b.n)) * (c2 + c2.transpose()) +
               (g * g / b.n) * (RH * (Y2 * Y2.transpose() + W2) * RH.transpose());
        V = 0.5 * (next + next.transpose());
      }
      return;
    }
  }
}

}  // namespace

const char* ShapedSamplerName(ShapedSampler s) {
  switch (s) {
    case ShapedSampler::kChain:
      return "chain";
    case ShapedSampler::kX:
      return "x";
    case ShapedSampler::kFull:
      return "full";
  }
  return "?";
}

ShapedSampler ParseShapedSampler(const std::string& text, const std::string& field) {
  for (ShapedSampler s : {ShapedSampler::kChain, ShapedSampler::kX, ShapedSampler::kFull}) {
    if (text == ShapedSamplerName(s)) return s;
  }
  throw Error(ErrorMessage(field, "\"" + text + "\"", "one of chain, x, full"));
}

const char* ShapedAttentionName(ShapedAttention a) {
  return a == ShapedAttention::kShaped ? "shaped" : "standard";
}

ShapedAttention ParseShapedAttention(const std::string& text, const std::string& field) {
  if (text == "shaped") return ShapedAttention::kShaped;
  if (text == "standard") return ShapedAttention::kStandard;
  throw Error(ErrorMessage(field, "\"" + text + "\"", "shaped or standard"));
}

bool ShapedNetworkOptions::IsValid(std::string* error) const {
  auto fail = [&](const std::string& field, const std::string& found, const std::string& want) {
    if (error) *error = ErrorMessage(field, found, want);
    return false;
  };
  if (!model.IsValid(error)) return false;
  if (!ValidateInitialCovariance(V0, error)) return false;
  if (!(depth_to_width > 0) || !std::isfinite(depth_to_width)) {
    return fail("depth_to_width", ToText(depth_to_width), "a finite t_f = d/n > 0");
  }
  if (width < V0.rows()) {
    return fail(
        "networks.widths", ToText(width),
        "a width n >= tokens = " + std::to_string(V0.rows()) + " (X_0 X_0^T / n must equal V0)");
  }
  if (key_dim < 1) return fail("networks.key_dim", ToText(key_dim), "at least 1");
  if (samples < 1) return fail("networks.samples", ToText(samples), "at least 1 network");
  if (!(cap > 0)) return fail("cap", ToText(cap), "a value > 0");
  if (grid_points < 2) return fail("grid_points", ToText(grid_points), "at least 2 time points");
  return ValidateTrackedEntries(entries, V0.rows(), error);
}

Eigen::MatrixXd WishartIdentity(Eigen::Index m, Eigen::Index dof, PropagationRng& engine) {
  if (dof < m) {
    const Eigen::MatrixXd Z = Normal(m, dof, engine);
    return Z * Z.transpose();
  }
  Eigen::MatrixXd B = Eigen::MatrixXd::Zero(m, m);
  for (Eigen::Index i = 0; i < m; ++i) {
    // B_ii² ~ χ²_{dof − i} (0-based i), B_ij ~ N(0, 1) below the diagonal.
    boost::random::chi_squared_distribution<double> chi2(static_cast<double>(dof - i));
    B(i, i) = std::sqrt(chi2(engine));
    for (Eigen::Index j = 0; j < i; ++j) B(i, j) = PropagationNormal(engine);
  }
  return B * B.transpose();
}

Eigen::MatrixXd ShapedConditionalDrift(const ShapedModel& model,
                                       const Eigen::Ref<const Eigen::MatrixXd>& V,
                                       const Eigen::Ref<const Eigen::MatrixXd>& S) {
  const Eigen::MatrixXd A = ShapedAttentionMatrix(S);
  return model.gamma * model.gamma * (A * V * A.transpose() - V);
}

Eigen::MatrixXd ShapedNetworkLayer(const ShapedNetworkOptions& o,
                                   const Eigen::Ref<const Eigen::MatrixXd>& V,
                                   PropagationRng& engine) {
  std::string error;
  ShapedNetworkOptions check = o;
  check.V0 = V;
  if (!check.IsValid(&error)) throw Error(error);
  const Block b = MakeBlock(o);
  Network net;
  Start(o, V, &net);
  Step(o, b, &net, engine);
  return net.V;
}

ShapedPaths SimulateShapedNetworks(const ShapedNetworkOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  std::string error;
  if (!o.IsValid(&error)) throw Error(error);
  const Eigen::Index m = o.V0.rows();
  const Eigen::Index layers = std::max<Eigen::Index>(
      1, static_cast<Eigen::Index>(std::llround(o.depth_to_width * static_cast<double>(o.width))));
  const std::string source =
      !o.source.empty() ? o.source
                        : std::string(o.attention == ShapedAttention::kShaped ? "net_" : "std_") +
                              std::to_string(o.width);
  ShapedPaths out;
  InitShapedPaths(&out, source, m, o.samples, layers, 1.0 / static_cast<double>(o.width),
                  o.grid_points, o.entries.empty() ? DefaultTrackedEntries(m) : o.entries);
  const Block b = MakeBlock(o);
  const Eigen::MatrixXd V0 = 0.5 * (o.V0 + o.V0.transpose());
  ParallelFor(
      o.samples, o.threads,
      [&](Eigen::Index p) {
        PropagationRng engine = PropagationEngine(o.seed, o.stream, static_cast<std::uint64_t>(p));
        Network net;
        Start(o, V0, &net);
        size_t k = 0;
        bool exploded = false;
        for (Eigen::Index l = 0; l <= layers; ++l) {
          while (k < out.grid.size() && out.grid[k] == l) RecordGrid(&out, p, k++, net.V);
          if (l == layers) break;
          const Eigen::MatrixXd previous = net.V;
          Step(o, b, &net, engine);
          if (Exceeds(net.V, o.cap)) {
            exploded = true;
            out.explosion_time[static_cast<size_t>(p)] =
                static_cast<double>(l + 1) / static_cast<double>(o.width);
            net.V = previous;
            while (k < out.grid.size()) RecordGrid(&out, p, k++, net.V);  // frozen
            break;
          }
        }
        FinishPath(&out, p, exploded, net.events, net.V);
      },
      PathsProgressReporter(o.progress, source, o.samples, t0));
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return out;
}

}  // namespace attnpaths
