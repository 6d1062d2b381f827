// One-layer moments of the finite shaped block against the SDE coefficients
// (signal-propagation.md §I.6 a).
//
//   attnpaths::OneLayerMomentsOptions o;
//   o.model = model;  o.V0 = V0;  o.width = 1024;
//   attnpaths::OneLayerMoments mo = attnpaths::MeasureOneLayerMoments(o);
//   mo.drift_mc;       // n E[ΔV] ± mo.drift_se, against mo.drift = b(V0)
//   mo.diffusion_mc;   // n Cov(ΔV) ± mo.diffusion_se (m² × m²), against mo.diffusion = Σ(V0)
//
// Drift: the attention sub-block's E[ΔV | S] = γ²(A V Aᵀ − V) (exact over W^V),
// averaged over antithetic logit pairs (S, −S) drawn as in the network; with
// the MLP sub-block its finite-width drift γ'² κ_n² N(V) (exact over W¹, W²)
// is added. Diffusion: n Cov(ΔV) over full one-layer increments of the chain
// sampler, standard errors from 20 batch means.
#pragma once

#include <Eigen/Core>
#include <cstdint>

#include "propagation/shaped_model.h"

namespace attnpaths {

struct OneLayerMomentsOptions {
  ShapedModel model;
  Eigen::MatrixXd V0;             // m × m positive definite
  Eigen::Index width = 1024;      // n >= m
  Eigen::Index key_dim = 4;       // n_k
  int drift_samples = 40000;      // antithetic pairs (>= 2)
  int diffusion_samples = 40000;  // increments (>= 40)
  std::uint64_t seed = 1;
  int threads = 0;
  bool IsValid(std::string* error) const;
};

struct OneLayerMoments {
  Eigen::MatrixXd drift, drift_mc, drift_se;              // m × m
  Eigen::MatrixXd diffusion, diffusion_mc, diffusion_se;  // m² × m² (index a + m b)
  double seconds = 0;
};

OneLayerMoments MeasureOneLayerMoments(const OneLayerMomentsOptions& options);

}  // namespace attnpaths
