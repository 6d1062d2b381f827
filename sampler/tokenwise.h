// TokenwisePotential — the same posterior as NetworkPotential, evaluated by a
// token-by-token forward pass of the explicit network (theory.md §1) and
// back-propagation through it: the network of network/ with fixed heads
// (network/pass.h), in the coordinates q = W / σ of WeightLayout. It is the
// reference that tests and the benchmark compare the effective-weight form
// against; do not sample with it (theory.md §5: it costs a factor ~n_tok·n
// more per evaluation).
//
//   attnpaths::TokenwisePotential reference(arch, x_train, Y, /*temperature=*/0.01);
//   double U = reference.Evaluate(q, &grad);    // same q layout as NetworkPotential
//   Eigen::MatrixXd f = reference.Outputs(q);    // P × D
//
//   z⁰ = V_0 x / √N0,   z^ℓ = Σ_h V_{ℓ,h} z^{ℓ-1} Ω^{ℓ,h} / √(H_ℓ n_ℓ)   (ℓ < L),
//   z^L = Σ_h V_{L,h} z^{L-1} ω^{L,h} / √(H_L n_L),   f = aᵀ z^L / √n_{L+1}.
#pragma once

#include <Eigen/Core>
#include <vector>

#include "kernels/architecture.h"
#include "kernels/head.h"
#include "kernels/inputs.h"
#include "network/network.h"
#include "network/pass.h"
#include "sampler/potential.h"
#include "sampler/weight_layout.h"

namespace attnpaths {

class TokenwisePotential : public Potential {
 public:
  // Computes and stores every attention matrix of every example once (the
  // network's fixed heads).
  // Throws Error as NetworkPotential does.
  TokenwisePotential(const Architecture& arch, const Inputs& x, Eigen::MatrixXd Y,
                     double temperature, Split split = Split::kTrain);

  Eigen::Index dimension() const override { return layout_.dimension(); }
  double Evaluate(const Eigen::Ref<const Eigen::VectorXd>& q,
                  Eigen::VectorXd* gradient) const override;

  const WeightLayout& layout() const { return layout_; }
  // f(x^μ) of every stored example (P × D).
  Eigen::MatrixXd Outputs(const Eigen::Ref<const Eigen::VectorXd>& q) const;

 private:
  // The network with weights W = σ q (the prior scale of each block).
  Network WeightsAt(const Eigen::Ref<const Eigen::VectorXd>& q) const;

  WeightLayout layout_;
  Inputs x_;
  Eigen::MatrixXd Y_;
  double temperature_;
  Network network_;        // fixed heads; the same block order as layout_
  Eigen::VectorXd scale_;  // σ of every coordinate: W = scale_ ⊙ q
  FixedAttention attention_;
};

}  // namespace attnpaths
