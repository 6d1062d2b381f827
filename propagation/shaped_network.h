// Finite shaped-attention networks at initialisation (signal-propagation.md
// §I.1, §I.4): three samplers with the same law.
//
//   attnpaths::ShapedNetworkOptions o;
//   o.V0 = V0;  o.model.gamma = 0.4;  o.model.tau0 = 0.6;
//   o.width = 256;  o.depth_to_width = 1.0;           // d = round(n t_f) = 256 layers
//   o.sampler = attnpaths::ShapedSampler::kChain;     // O(m³ + m² n_k) per layer
//   attnpaths::ShapedPaths nets = attnpaths::SimulateShapedNetworks(o);
//
// Samplers (n the width, n_k the key width, m tokens):
//  * kFull  — every W^Q, W^K, W^V (and W¹, W²) drawn; X ∈ R^{m×n} kept;
//             O(m n² + m n n_k) per layer. A reference for small n.
//  * kX     — exact in law keeping X: given X, X W/√n has iid columns N(0, V),
//             drawn as R Z; O(m² n) per layer.
//  * kChain — the covariance chain (I.9): V' = λ²V + (λγ/√n)(A R Y Rᵀ + R Yᵀ Rᵀ Aᵀ)
//             + (γ²/n) A R (Y Yᵀ + W) Rᵀ Aᵀ with Y iid m × m and W ~ Wishart_m(I, n − m)
//             (Bartlett when n >= 2m). With the MLP sub-block the chain draws
//             H = φ_s(R Z₁) (m × n) for its Gram H Hᵀ/n = R_H R_Hᵀ and applies
//             the same identity with (R, R_H) — O(m² n) per layer (our extension
//             of (I.9), exact in law by the same argument).
// Every sampler starts from X_0 = √n [L_0 | 0] (or V_0) and needs n >= m.
// Networks whose V exceeds the cap (non-finite or max |V_ab| > cap) are
// frozen and flagged like SDE paths.
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "propagation/random.h"
#include "propagation/shaped_model.h"
#include "propagation/shaped_paths.h"

namespace attnpaths {

enum class ShapedSampler { kChain, kX, kFull };
const char* ShapedSamplerName(ShapedSampler s);
ShapedSampler ParseShapedSampler(const std::string& text, const std::string& field);

enum class ShapedAttention {
  kShaped,    // A = I + softmax(S) − 11ᵀ/m with S = O(n^{-1/2}) (I.2–I.3)
  kStandard,  // A = softmax(S'), S' = (X W^Q)(X W^K)ᵀ/(n √n_k) = O(1): the rank-collapse baseline
};
const char* ShapedAttentionName(ShapedAttention a);
ShapedAttention ParseShapedAttention(const std::string& text, const std::string& field);

struct ShapedNetworkOptions {
  ShapedModel model;
  ShapedAttention attention = ShapedAttention::kShaped;
  Eigen::MatrixXd V0;           // m × m positive definite
  double depth_to_width = 1.0;  // d = max(1, round(n t_f)) layers
  Eigen::Index width = 256;     // n >= m
  Eigen::Index key_dim = 8;     // n_k >= 1
  ShapedSampler sampler = ShapedSampler::kChain;
  Eigen::Index samples = 1000;  // networks
  double cap = 1e4;
  std::uint64_t seed = 1;
  std::uint64_t stream = 100;  // engine key's source (the CLI uses 100 + width index, 200 + …)
  std::string source;          // the name in outputs (default "net_<n>" / "std_<n>")
  int grid_points = 64;
  std::vector<std::pair<Eigen::Index, Eigen::Index>> entries;
  int threads = 0;
  ShapedProgress progress;

  bool IsValid(std::string* error) const;
};

ShapedPaths SimulateShapedNetworks(const ShapedNetworkOptions& options);

// One layer of one network from covariance V (the chain and X samplers start
// from X = √n [chol(V) | 0]); returns V after the layer. For the one-layer
// moment tests (§I.6 a).
Eigen::MatrixXd ShapedNetworkLayer(const ShapedNetworkOptions& options,
                                   const Eigen::Ref<const Eigen::MatrixXd>& V,
                                   PropagationRng& engine);

// E[ΔV | S] = γ²(A V Aᵀ − V) for the attention sub-block with logits S
// (the expectation over W^V is exact; §I.6 a).
Eigen::MatrixXd ShapedConditionalDrift(const ShapedModel& model,
                                       const Eigen::Ref<const Eigen::MatrixXd>& V,
                                       const Eigen::Ref<const Eigen::MatrixXd>& S);

// A Wishart_m(I, dof) matrix: Bartlett's decomposition when dof >= m, the
// Gram matrix of m × dof Gaussians otherwise.
Eigen::MatrixXd WishartIdentity(Eigen::Index m, Eigen::Index dof, PropagationRng& engine);

}  // namespace attnpaths
