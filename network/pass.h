// NetworkPass — the token-wise forward pass of the network of theory.md §1
// and its backpropagation, on a chunk of examples. The one implementation
// behind the trainer (trainer/forward_backward.h), the sampler's token-wise
// reference (sampler/tokenwise.h) and the curvature of the trained network
// (curvature/network_hessian.h).
//
//   attnpaths::NetworkPass pass(net);                       // QK heads from net's Q, K
//   const Eigen::MatrixXd& f = pass.Forward(x, ids, B);     // B × D: f(x^{ids[b]})
//   Eigen::VectorXd grad = Eigen::VectorXd::Zero(net.num_parameters());
//   pass.Backward(g, &grad);                                // grad += Σ_b Σ_k g_bk ∂f_bk/∂θ
//
//   // Fixed heads (any head of kernels/head.h), attention computed once:
//   attnpaths::FixedAttention omega = attnpaths::ComputeFixedAttention(arch, x, Split::kTrain);
//   attnpaths::Network net(attnpaths::FixedHeadShape(arch, x.N0(), x.n_tok()));
//   attnpaths::NetworkPass fixed(net, nullptr, &omega);
//
// Forward, per example (x ∈ R^{N0×n_tok}, theory.md §1):
//   Ω^{ℓ,h} = softmax over keys of (K_{ℓ,h} x)ᵀ(Q_{ℓ,h} x)/√d  (key index first; QK heads)
//   z⁰ = V_0 x/√N0;  z^ℓ = Σ_h V_{ℓ,h} z^{ℓ-1} Ω^{ℓ,h} / √(H_ℓ n_ℓ)  (ℓ < L)
//   z^L = Σ_h V_{L,h} z^{L-1} ω^{L,h} / √(H_L n_L);   f = aᵀ z^L / √n_{L+1}
// (with HeadScaling::kMean the layer factor is 1/(H_ℓ √n_ℓ) instead)
// with ω = Ω r the token readout of the last layer (r: the mean over queries,
// or the first or last query). The chunk's tokens sit side by side, so the
// weight products are single matrix products over all its tokens and only
// the n_tok × n_tok attention products are per example. The pass keeps its
// buffers in the calling thread (thread_local, a few MB at most, freed when
// the thread ends): repeated passes of the same sizes allocate nothing.
// A pass object is used by one thread; results are bitwise reproducible.
#pragma once

#include <Eigen/Core>
#include <vector>

#include "kernels/architecture.h"
#include "kernels/head.h"
#include "kernels/inputs.h"
#include "network/network.h"

namespace attnpaths {

// Ω^{ℓ,h}(x^μ) of fixed heads for every example: omega[μ][ℓ-1][h], each
// n_tok × n_tok with the key index first (the last layer's full matrix; the
// pass applies the token readout).
struct FixedAttention {
  std::vector<std::vector<std::vector<Eigen::MatrixXd>>> omega;
};

// Every head's attention matrix on every example of x (kernels/head.h).
// Throws Error when `arch`'s heads do not fit x.
FixedAttention ComputeFixedAttention(const Architecture& arch, const Inputs& x, Split split);

// The token readout as a vector r over queries: ω = Ω r (theory.md §1).
Eigen::VectorXd ReadoutWeights(Readout readout, Eigen::Index n_tok);

class NetworkPass {
 public:
  // `net`, `*mask` and `*attention` must outlive the pass. Heads removed by
  // `mask` (network/network.h; null or empty: every head) contribute nothing.
  // A network with fixed heads needs `attention` (one entry per example index
  // used in Forward); a network with QK heads ignores it. Throws Error when
  // they do not fit.
  explicit NetworkPass(const Network& net, const HeadMask* mask = nullptr,
                       const FixedAttention* attention = nullptr);

  // Gathers the examples ids[0..B) of x and runs the forward pass; returns
  // f (B × D), valid until the next Forward in this thread. x must fit the
  // network (checked by the callers once, not here).
  const Eigen::MatrixXd& Forward(const Inputs& x, const Eigen::Index* ids, Eigen::Index B);

  // Adds Σ_b Σ_k g(b, k) ∂f_bk/∂θ to *grad (the network's parameter layout)
  // for the chunk of this thread's last Forward call: backpropagation
  // through every layer and, for QK heads, through the softmax into Q and K.
  void Backward(const Eigen::Ref<const Eigen::MatrixXd>& g, Eigen::VectorXd* grad);

 private:
  struct Workspace;
  static Workspace& ThreadWorkspace();

  const Network& net_;
  const NetworkShape& s_;
  const HeadMask* mask_;
  const FixedAttention* attention_;
  const Eigen::VectorXd r_;
  Workspace& w_;
  Eigen::Index B_ = 0;
};

// ∂f/∂θ of every listed example, one forward and one backward pass per
// example seeded with a unit output cotangent (not the loss gradient):
// (B·D) × n_params, row b·D + k = ∇_θ f_k(x^{ids[b]}) in the network's
// parameter layout (docs/attention-hessian.md, Part D, "OutputJacobian").
Eigen::MatrixXd OutputJacobian(const Network& net, const Inputs& x,
                               const std::vector<Eigen::Index>& ids, const HeadMask* mask = nullptr,
                               const FixedAttention* attention = nullptr);

}  // namespace attnpaths
