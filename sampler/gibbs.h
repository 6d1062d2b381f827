// GibbsSampler — blocked Gibbs sampling of every weight of the network of
// theory.md §1, each block drawn exactly from its Gaussian conditional.
//
//   attnpaths::GibbsSampler gibbs(arch, train_xi, Y, /*temperature=*/0.01);
//   Eigen::VectorXd q = …;                  // WeightLayout coordinates (every weight)
//   gibbs.Sweep(&q, engine);                // V_0, layer 1, …, layer L, then a
//   gibbs.DrawBlock(2, &q, engine);         // only layer 2 (block ℓ = layer ℓ, 0 = V_0,
//                                           // L + 1 = the readout)
//
// Attention depends on the input only (theory.md §1), so in the coordinates
// q = W / σ of WeightLayout
//
//   f_d(x^μ) = κ Σ_h Σ_s Z_{(h,s)}^μ · (Ṽ_{ℓ,h}ᵀ e_{s,d})          for every layer ℓ,
//
// with Z_{(h,s)} the layer-ℓ inputs of the node (h, s) (weight_tree.h:
// Z[ℓ-1], the path inputs Ξ_π themselves for ℓ = 0, where V_0 is one "head"
// and s runs over all paths) and e_s the top-down products of the layers
// above (E[ℓ] of weight_tree.h; e = a for ℓ = L). Every path passes through
// exactly one head of each layer, so f is linear — not merely affine — in
// the layer's block {Ṽ_{ℓ,h}}_h: no output depends on the block without
// being proportional to it, and f = J θ_ℓ with J the (P D) × dim(θ_ℓ) matrix
// above. With the N(0, I) prior and the likelihood N(Y; f, T I), the block's
// conditional is the Gaussian of linear_gaussian.h, drawn exactly in the
// P D × P D form (the block itself is n_{ℓ+1} H_ℓ n_ℓ coordinates, J never
// formed):
//
//   J θ      = κ Σ_{h,s} Z_{(h,s)} θ_hᵀ e_s,
//   Jᵀ W     = κ Σ_s e_s Wᵀ Z_{(h,s)}            (block h, W ∈ R^{P × D}),
//   J Jᵀ     = κ² Σ_h Σ_{s,s'} (e_sᵀ e_{s'})_{dd'} Z_{(h,s)} Z_{(h,s')}ᵀ,
//
// the last through a factor F Fᵀ = [e_sᵀ e_{s'}] of rank ≤ min(n_{ℓ+1}, m D)
// (one rank-P D update per head and factor column), or for V_0, whose
// inputs Ξ_π never change, from X Xᵀ computed once ((Htot P)² entries, kept
// when Htot P ≤ max_stored_gram_rows; m² D² P² per sweep instead of
// m D P² N0 / 2). The readout is the
// D independent Gaussians of a linear model on the features κ Z[L], drawn in
// the n_{L+1} × n_{L+1} or P × P form, whichever is smaller. A sweep visits
// V_0, layers 1…L bottom-up (each with the layers below already updated) and
// the readout; it leaves the posterior invariant and, every conditional being
// exact, needs no step size, tuning or accept/reject.
#pragma once

#include <Eigen/Core>

#include "kernels/architecture.h"
#include "kernels/path_inputs.h"
#include "sampler/random.h"
#include "sampler/weight_layout.h"

namespace attnpaths {

class GibbsSampler {
 public:
  static constexpr Eigen::Index kMaxStoredGramRows = 3000;  // 72 MB
  // `train`: path inputs of the training set; Y: P × D labels; temperature
  // > 0 (the caller applies any floor T_min). Throws Error naming the field
  // for a non-integer width, shapes that disagree, non-finite labels or T <= 0.
  // X Xᵀ is stored when Htot P <= max_stored_gram_rows (0: never).
  GibbsSampler(const Architecture& arch, const PathInputs& train, Eigen::MatrixXd Y,
               double temperature, Eigen::Index max_stored_gram_rows = kMaxStoredGramRows);

  const WeightLayout& layout() const { return layout_; }
  Eigen::Index dimension() const { return layout_.dimension(); }
  // Blocks: 0 = V_0, ℓ = 1..L = every head of layer ℓ, L + 1 = the readout a.
  int num_blocks() const { return layout_.L() + 2; }
  // Where block b sits in q (WeightLayout coordinates): a contiguous segment.
  Eigen::Index BlockOffset(int block) const;
  Eigen::Index BlockSize(int block) const;

  // Replaces block b of *q by an exact draw from its conditional given the rest.
  void DrawBlock(int block, Eigen::VectorXd* q, RandomEngine& engine) const;
  // One sweep: every block once, V_0 first, the readout last.
  void Sweep(Eigen::VectorXd* q, RandomEngine& engine) const;

 private:
  // Block ℓ = 0..L given its inputs Zb (node rows, as Z[ℓ-1]; X for ℓ = 0) and
  // the top-down products Eb = E[ℓ] of the layers above.
  void DrawValueBlock(int l, const Eigen::MatrixXd& Zb, const Eigen::MatrixXd& Eb,
                      Eigen::VectorXd* q, RandomEngine& engine) const;
  // The readout given the last layer's features ZL (P × n_{L+1}).
  void DrawReadout(const Eigen::MatrixXd& ZL, Eigen::VectorXd* q, RandomEngine& engine) const;
  // Z[ℓ] from Z[ℓ-1] (X for ℓ = 0) with the current weights of layer ℓ.
  Eigen::MatrixXd Forward(int l, const Eigen::MatrixXd& below,
                          const Eigen::Ref<const Eigen::VectorXd>& q) const;

  WeightLayout layout_;
  Eigen::MatrixXd X_;   // stacked path inputs, (Htot P) × N0 (weight_tree.h)
  Eigen::MatrixXd XX_;  // X Xᵀ (lower triangle) when (Htot P)² is small, else empty
  Eigen::MatrixXd Y_;   // P × D
  double temperature_;
  double kappa_;
};

}  // namespace attnpaths
