// The attention network of theory.md §1 — the one implementation that the
// trainer, the sampler's token-wise reference, the curvature module and the
// tests share: its shape, its weights in one flat parameter vector with named
// views, the seeded initialisation, the head mask used for pruning, and the
// frozen-head Architecture that the theory reads. The forward pass and
// backpropagation are in network/pass.h.
//
//   attnpaths::NetworkShape shape;
//   shape.N0 = 20; shape.n_tok = 16;
//   shape.heads = {4, 4};                 // H_1, H_2
//   shape.widths = {32, 32, 32};          // n_1, n_2, n_3 (= n_{L+1})
//   shape.key_dim = 8;                    // Q, K ∈ R^{d×N0}
//   attnpaths::Network net(shape);        // every weight zero
//   attnpaths::InitializeNetwork(1.0, 0.1, /*seed=*/1, &net);
//   net.V(1, 0);                          // V_{1,1} ∈ R^{n_2×n_1} (heads 0-based)
//
// Parameters are stored in one vector (V_0; then per layer and head V, Q, K;
// then a) so that Adam, gradients and finite differences work on flat
// vectors; ParameterLayout gives every block's place in it. A network whose
// heads are fixed (HeadWeights::kFixed: any head of kernels/head.h, attention
// computed once from x) has no Q, K blocks: its layout V_0, V_{1,0}, …,
// V_{L,H_L-1}, a is the sampler's WeightLayout (sampler/weight_layout.h)
// before the prior scaling.
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <string>
#include <vector>

#include "kernels/architecture.h"

namespace attnpaths {

// Where the heads' attention matrices Ω^{ℓ,h}(x) come from.
enum class HeadWeights {
  kQK,     // QK-form softmax heads whose Q_{ℓ,h}, K_{ℓ,h} are weights of the network
  kFixed,  // heads fixed outside the network (FixedAttention, network/pass.h): no Q, K weights
};

// How a layer's sum over heads is scaled.
enum class HeadScaling {
  kSqrt,  // 1/√(H_ℓ n_ℓ): theory.md §1
  kMean,  // 1/(H_ℓ √n_ℓ): the average of the heads (docs/attention-hessian.md, Part E)
};
const char* HeadScalingName(HeadScaling s);  // "sqrt", "mean"
HeadScaling ParseHeadScaling(const std::string& text, const std::string& field);

struct NetworkShape {
  Eigen::Index N0 = 0;               // features per token (positional rows included)
  Eigen::Index n_tok = 0;            // tokens per sequence
  std::vector<Eigen::Index> heads;   // H_1, …, H_L
  std::vector<Eigen::Index> widths;  // n_1, …, n_L, n_{L+1} (size L+1)
  Eigen::Index key_dim = 8;          // d: Q, K ∈ R^{d×N0} (theory.md §1, QK-form)
  Readout readout = Readout::kMean;  // token readout ω of the last layer (theory.md §1)
  HeadWeights head_weights = HeadWeights::kQK;  // trained QK heads (the trainer) or fixed heads
  Eigen::Index outputs = 1;  // D: columns of the readout a (theory.md §9; 1 in §1)
  HeadScaling head_scaling = HeadScaling::kSqrt;  // 1/√(H_ℓ n_ℓ) of theory.md §1, or 1/(H_ℓ √n_ℓ)

  int L() const { return static_cast<int>(heads.size()); }
  // The factor of layer ℓ's sum over heads: 1/√(H_ℓ n_ℓ) or 1/(H_ℓ √n_ℓ).
  double LayerScale(int l) const;
  // Throws Error naming the field ("network.heads[1]: found 0, expected …").
  void Validate() const;
};

// Which heads take part in the forward pass: mask[ℓ-1][h]. A removed head's
// term is dropped from its layer's sum; the scale 1/√(H_ℓ n_ℓ) keeps the
// trained H_ℓ. An empty mask means every head.
using HeadMask = std::vector<std::vector<bool>>;

// Every head of `shape` active.
HeadMask AllHeads(const NetworkShape& shape);
// Throws Error unless `mask` is empty or has one entry per head of `shape`.
void ValidateHeadMask(const HeadMask& mask, const NetworkShape& shape);

// Where each weight matrix sits in the flat parameter vector (column-major
// blocks, in the order V_0; for ℓ = 1..L and h: V_{ℓ,h}, Q_{ℓ,h}, K_{ℓ,h}; a;
// without Q and K for fixed heads). a is n_{L+1} × D.
class ParameterLayout {
 public:
  struct Block {
    Eigen::Index offset = 0, rows = 0, cols = 0;
  };

  ParameterLayout() = default;
  explicit ParameterLayout(const NetworkShape& shape);

  Eigen::Index size() const { return size_; }
  Block V0() const { return V0_; }
  // Layer ℓ = 1..L, head h = 0..H_ℓ-1.
  Block V(int l, Eigen::Index h) const { return V_[Index(l, h)]; }
  // Throws Error for a network with fixed heads (no Q, K blocks).
  Block Q(int l, Eigen::Index h) const { return Q_[QKIndex(l, h)]; }
  Block K(int l, Eigen::Index h) const { return K_[QKIndex(l, h)]; }
  bool has_qk() const { return has_qk_; }
  Block a() const { return a_; }

  static Eigen::Map<Eigen::MatrixXd> View(Eigen::VectorXd& v, Block b) {
    return {v.data() + b.offset, b.rows, b.cols};
  }
  static Eigen::Map<const Eigen::MatrixXd> View(const Eigen::VectorXd& v, Block b) {
    return {v.data() + b.offset, b.rows, b.cols};
  }

 private:
  size_t Index(int l, Eigen::Index h) const;
  size_t QKIndex(int l, Eigen::Index h) const;

  std::vector<size_t> first_;  // index of head 0 of layer ℓ in V_, Q_, K_
  std::vector<Eigen::Index> heads_;
  Block V0_, a_;
  std::vector<Block> V_, Q_, K_;
  bool has_qk_ = true;
  Eigen::Index size_ = 0;
};

class Network {
 public:
  Network() = default;
  // Validates the shape; every weight zero.
  explicit Network(NetworkShape shape);

  const NetworkShape& shape() const { return shape_; }
  const ParameterLayout& layout() const { return layout_; }
  Eigen::Index num_parameters() const { return layout_.size(); }

  // The flat parameter vector θ.
  Eigen::VectorXd& parameters() { return theta_; }
  const Eigen::VectorXd& parameters() const { return theta_; }

  // theory.md §1: V_0 ∈ R^{n_1×N0}; V_{ℓ,h} ∈ R^{n_{ℓ+1}×n_ℓ}; Q_{ℓ,h},
  // K_{ℓ,h} ∈ R^{d×N0}; a ∈ R^{n_{L+1}} (an n_{L+1} × D view, D = 1 in §1).
  Eigen::Map<Eigen::MatrixXd> V0() { return ParameterLayout::View(theta_, layout_.V0()); }
  Eigen::Map<Eigen::MatrixXd> V(int l, Eigen::Index h) {
    return ParameterLayout::View(theta_, layout_.V(l, h));
  }
  Eigen::Map<Eigen::MatrixXd> Q(int l, Eigen::Index h) {
    return ParameterLayout::View(theta_, layout_.Q(l, h));
  }
  Eigen::Map<Eigen::MatrixXd> K(int l, Eigen::Index h) {
    return ParameterLayout::View(theta_, layout_.K(l, h));
  }
  Eigen::Map<Eigen::MatrixXd> a() { return ParameterLayout::View(theta_, layout_.a()); }
  Eigen::Map<const Eigen::MatrixXd> V0() const {
    return ParameterLayout::View(theta_, layout_.V0());
  }
  Eigen::Map<const Eigen::MatrixXd> V(int l, Eigen::Index h) const {
    return ParameterLayout::View(theta_, layout_.V(l, h));
  }
  Eigen::Map<const Eigen::MatrixXd> Q(int l, Eigen::Index h) const {
    return ParameterLayout::View(theta_, layout_.Q(l, h));
  }
  Eigen::Map<const Eigen::MatrixXd> K(int l, Eigen::Index h) const {
    return ParameterLayout::View(theta_, layout_.K(l, h));
  }
  Eigen::Map<const Eigen::MatrixXd> a() const { return ParameterLayout::View(theta_, layout_.a()); }

 private:
  NetworkShape shape_;
  ParameterLayout layout_;
  Eigen::VectorXd theta_;
};

// Draws every weight independently (Boost.Random mt19937, `seed`, in layout
// order): entries of V_0, V_{ℓ,h} and a from N(0, value_std²) — value_std = 1
// is the prior of theory.md §1 with σ² = 1, the scalings 1/√N0, 1/√(H_ℓ n_ℓ),
// 1/√n_{L+1} keeping the output of order one — and entries of Q_{ℓ,h},
// K_{ℓ,h} from N(0, attention_std²), so that a small attention_std starts
// every head near uniform attention. Throws Error for a negative or
// non-finite std.
void InitializeNetwork(double value_std, double attention_std, std::uint64_t seed, Network* net);

// Name of head h (0-based) of layer ℓ in outputs: "L<ℓ>H<h+1>".
std::string TrainedHeadName(int l, Eigen::Index h);

// The trained heads frozen as QK-form softmax heads (β = 1, theory.md §1) in
// an Architecture with the network's readout, every width N and every
// variance 1 (theory.md §8); heads removed by `mask` are left out. Throws
// Error for a network with fixed heads or head averaging 1/(H √n) (the
// theory's scaling is 1/√(H n)).
Architecture FrozenHeadArchitecture(const Network& net, double N, const HeadMask& mask = {});

// The shape of the network whose heads are `arch`'s (fixed heads), on inputs
// of N0 features and n_tok tokens with D = `outputs` readout columns. Throws
// Error naming the field when a width of `arch` is not an integer >= 1.
NetworkShape FixedHeadShape(const Architecture& arch, Eigen::Index N0, Eigen::Index n_tok,
                            Eigen::Index outputs = 1);

}  // namespace attnpaths
