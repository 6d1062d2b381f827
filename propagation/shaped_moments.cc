#include "propagation/shaped_moments.h"

#include <chrono>
#include <cmath>
#include <vector>

#include "kernels/error.h"
#include "propagation/parallel.h"
#include "propagation/random.h"
#include "propagation/shaped_network.h"
#include "propagation/shaped_sde.h"

namespace attnpaths {

bool OneLayerMomentsOptions::IsValid(std::string* error) const {
  if (!model.IsValid(error) || !ValidateInitialCovariance(V0, error)) return false;
  auto fail = [&](const std::string& field, const std::string& found, const std::string& want) {
    if (error) *error = ErrorMessage(field, found, want);
    return false;
  };
  if (width < V0.rows()) {
    return fail("one_layer width", ToText(width), "a width n >= tokens = " + ToText(V0.rows()));
  }
  if (key_dim < 1) return fail("key_dim", ToText(key_dim), "at least 1");
  if (drift_samples < 2) return fail("drift_samples", ToText(drift_samples), "at least 2");
  if (diffusion_samples < 40) {
    return fail("diffusion_samples", ToText(diffusion_samples), "at least 40 (20 batches of 2)");
  }
  return true;
}

OneLayerMoments MeasureOneLayerMoments(const OneLayerMomentsOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  std::string error;
  if (!o.IsValid(&error)) throw Error(error);
  const Eigen::Index m = o.V0.rows(), m2 = m * m;
  const Eigen::MatrixXd V = 0.5 * (o.V0 + o.V0.transpose());
  const double n = static_cast<double>(o.width), nk = static_cast<double>(o.key_dim);
  OneLayerMoments r;
  r.drift = ShapedDrift(o.model, V);
  r.diffusion = ShapedDiffusion(o.model, V);

  // Drift: antithetic logits, sums per sample (in its own slot).
  std::vector<Eigen::MatrixXd> d(static_cast<size_t>(o.drift_samples));
  bool clipped = false;
  const Eigen::MatrixXd R = CovarianceRoot(V, &clipped);
  ShapedModel attention_only = o.model;
  attention_only.mlp = false;
  const double scale = 1 / (o.model.tau0 * std::sqrt(n * nk));
  ParallelFor(o.drift_samples, o.threads, [&](Eigen::Index k) {
    Eigen::MatrixXd& out = d[static_cast<size_t>(k)];
    if (!o.model.attention()) {
      out = Eigen::MatrixXd::Zero(m, m);
      return;
    }
    PropagationRng rng = PropagationEngine(o.seed, 7, static_cast<std::uint64_t>(k));
    Eigen::MatrixXd zq(m, o.key_dim), zk(m, o.key_dim);
    for (Eigen::Index i = 0; i < zq.size(); ++i) zq.data()[i] = PropagationNormal(rng);
    for (Eigen::Index i = 0; i < zk.size(); ++i) zk.data()[i] = PropagationNormal(rng);
    const Eigen::MatrixXd S = scale * (R * zq) * (R * zk).transpose();
    out = n * 0.5 *
          (ShapedConditionalDrift(attention_only, V, S) +
           ShapedConditionalDrift(attention_only, V, -S));
  });
  Eigen::MatrixXd s1 = Eigen::MatrixXd::Zero(m, m), s2 = s1;
  for (const Eigen::MatrixXd& x : d) {
    s1 += x;
    s2 += x.cwiseProduct(x);
  }
  const double N = o.drift_samples;
  r.drift_mc = s1 / N;
  r.drift_se = ((s2 / N - r.drift_mc.cwiseProduct(r.drift_mc)).cwiseMax(0.0) / N).cwiseSqrt();
  if (o.model.mlp) {
    // n E[ΔV] of the MLP sub-block at finite n: γ'² κ_n² N(V) (exact, §I.2).
    const double sp = 1 + o.model.c_plus / std::sqrt(n), sm = 1 + o.model.c_minus / std::sqrt(n);
    r.drift_mc += o.model.mlp_gamma * o.model.mlp_gamma * 2 / (sp * sp + sm * sm) *
                  ShapedMlpDrift(o.model.c_plus, o.model.c_minus, V);
  }

  // Diffusion: one-layer increments of the chain sampler, 20 batches.
  ShapedNetworkOptions net;
  net.model = o.model;
  net.V0 = V;
  net.width = o.width;
  net.key_dim = o.key_dim;
  net.sampler = ShapedSampler::kChain;
  const int batches = 20, per = o.diffusion_samples / batches;
  Eigen::MatrixXd D(static_cast<Eigen::Index>(batches) * per, m2);
  ParallelFor(D.rows(), o.threads, [&](Eigen::Index k) {
    PropagationRng rng = PropagationEngine(o.seed, 8, static_cast<std::uint64_t>(k));
    const Eigen::MatrixXd dV = ShapedNetworkLayer(net, V, rng) - V;
    D.row(k) = Eigen::Map<const Eigen::RowVectorXd>(dV.data(), m2);
  });
  std::vector<Eigen::MatrixXd> cov;
  for (int b = 0; b < batches; ++b) {
    Eigen::MatrixXd X = D.middleRows(static_cast<Eigen::Index>(b) * per, per);
    const Eigen::RowVectorXd mu = X.colwise().mean();
    X.rowwise() -= mu;
    cov.push_back(n * (X.transpose() * X) / (per - 1));
  }
  r.diffusion_mc = Eigen::MatrixXd::Zero(m2, m2);
  for (const auto& c : cov) r.diffusion_mc += c / batches;
  Eigen::MatrixXd ss = Eigen::MatrixXd::Zero(m2, m2);
  for (const auto& c : cov) ss += (c - r.diffusion_mc).cwiseProduct(c - r.diffusion_mc);
  r.diffusion_se = (ss / (batches - 1) / batches).cwiseSqrt();
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace attnpaths
