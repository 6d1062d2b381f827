// ReducedPotential — the posterior of the value weights with the readout AND
// every rotation the likelihood cannot see integrated out exactly: NUTS moves
// the triangular factors of a chain of QR decompositions, bottom-up or on the
// span of the training data (top-down), and with one output the scalar
// |ã|² in place of the last layer and the readout; their number does not
// grow with the width once the width exceeds their ranks.
//
//   attnpaths::ReducedPotential potential(arch, train_xi, Y, /*temperature=*/0.01);
//   Eigen::VectorXd theta = potential.DrawPrior(engine);   // potential.dimension() coordinates
//   double U = potential.Evaluate(theta, &grad);            // −ln p(θ | data) + const
//   Eigen::VectorXd w = potential.Lift(theta, engine);     // an exact draw of (V, ã) | θ
//   attnpaths::ConditionalStatistics c = potential.Conditionals(theta, X_test, engine);
//
// Derivation (theory.md §1, §5 and §9 in the coordinates Ṽ = V / σ of
// weight_layout.h). The last layer's features are φ(x)ᵀ = κ Σ_π M_π ξ_π(x)
// with M_π = Ṽ_{L,h_L} ⋯ Ṽ_{1,h_1} Ṽ_0, and with the readout integrated out
// (collapsed_potential.h) the likelihood depends on the value weights only
// through the kernel ΦΦᵀ. Reduce layer by layer, bottom-up:
//
//  * Layer 0. When n_1 >= N0, Ṽ_0 = Q_0 R_0 (QR, R_ii > 0): by Bartlett's
//    decomposition (bartlett.h) Q_0 is Haar on the Stiefel manifold
//    V_{N0}(R^{n_1}) and independent of R_0, whose law is known. c_0 = N0.
//    Otherwise (n_1 < N0, "wide") nothing is reduced: Q_0 = I, B_0 = Ṽ_0, c_0 = n_1.
//  * Layer ℓ >= 1. Given Q_{ℓ−1} (n_ℓ × c_{ℓ−1}, orthonormal columns),
//    G_h = Ṽ_{ℓ,h} Q_{ℓ−1} (n_{ℓ+1} × c_{ℓ−1}) has independent N(0, 1) entries and
//    is independent of Ṽ_{ℓ,h} (I − Q_{ℓ−1} Q_{ℓ−1}ᵀ), which never reaches the
//    likelihood because Ṽ_{ℓ,h} only ever multiplies Q_{ℓ−1} (below). Stack
//    G = [G_1 … G_{H_ℓ}] (n_{ℓ+1} × H_ℓ c_{ℓ−1}); when n_{ℓ+1} >= H_ℓ c_{ℓ−1},
//    G = Q_ℓ B_ℓ with B_ℓ the Bartlett factor (c_ℓ = H_ℓ c_{ℓ−1}); otherwise
//    Q_ℓ = I and B_ℓ = G is sampled as it is (c_ℓ = n_{ℓ+1}).
//
// With B_{ℓ,h} the h-th column block of B_ℓ, Ṽ_{ℓ,h} Q_{ℓ−1} = Q_ℓ B_{ℓ,h}, so
// Ṽ_{ℓ,h} Ṽ_{ℓ−1,h'} ⋯ Ṽ_0 = Q_ℓ B_{ℓ,h} B_{ℓ−1,h'} ⋯ B_0 and
//
//   M_π = Q_L B_{L,h_L} ⋯ B_{1,h_1} B_0,    ΦΦᵀ = Φ_R Φ_Rᵀ,
//   Φ_R = κ Σ_π Ξ_π (B_{L,h_L} ⋯ B_0)ᵀ   (P × c_L, the reduced features).
//
// The reduced network is the network of theory.md §1 with widths c_0 … c_L
// and value weights B (so weight_tree.h computes Φ_R and back-propagates
// through it). The potential of the sampled coordinates θ (the B's of the
// Gaussian layers, the Bartlett coordinates of the triangular ones) is
//
//   U(θ) = Σ_ℓ U_ℓ(θ_ℓ) + ½ Σ_d y_dᵀ G⁻¹ y_d + (D/2) ln det(G / T),
//   G = Φ_R Φ_Rᵀ + T I_P,
//
// with U_ℓ = ½ |θ_ℓ|² for a Gaussian layer and the Bartlett potential
// (bartlett.h: standardised log-parametrised diagonal and its Jacobian) for a triangular
// one. Its dimension is Σ_ℓ c_ℓ(c_ℓ + 1)/2 over triangular layers plus
// n_{ℓ+1} × (H_ℓ c_{ℓ−1}) over wide ones: independent of the widths once every
// layer is triangular (n_{ℓ+1} >= H_ℓ c_{ℓ−1}, e.g. n >= Htot N0 at equal widths).
// At smaller widths it equals the collapsed sampler's dimension for the wide
// layers (nothing to reduce) and the gain comes only from the triangular ones.
//
// Lifting. Every θ lifts to an exact posterior draw of (Ṽ, ã): with the
// canonical frames Q_ℓ = [I; 0], Ṽ_0 = [B_0; 0], the first c_{ℓ−1} columns of
// Ṽ_{ℓ,h} are [B_{ℓ,h}; 0] and its other columns are fresh N(0, 1) draws; the
// readout is ã = [ã_R; z] with ã_R | θ the readout posterior of the reduced
// features (collapsed_potential.h) and z ~ N(0, I). Rotating every layer by
// independent Haar matrices O_ℓ (Ṽ_0 → O_1 Ṽ_0, Ṽ_{ℓ,h} → O_{ℓ+1} Ṽ_{ℓ,h} O_ℓᵀ,
// ã → O_{L+1} ã) gives the Haar Q's of the construction above, so the lifted
// weights are a draw of the full posterior (theory.md §1). The posterior is
// invariant under these rotations and so are f(x) and U^sampled (theory.md §5),
// so the statistics need the canonical frame only.
//
// Top-down: the span of the training data. The layers above see layer ℓ's
// output only through the Gram matrix of its training rows, so from some
// layer s on (the "span layers", s >= 1) each layer is reduced to the span of
// its training inputs instead. Stack the layer-ℓ inputs of the
// r_ℓ = m_{ℓ+1} P training rows (node above × example) head by head,
//
//   Y_ℓ = [Z_{ℓ−1,h=1} … Z_{ℓ−1,h=H_ℓ}]   (r_ℓ × H_ℓ w, w the width of the
//                                           representation below),
//
// so that the layer's output rows are Y_ℓ B_ℓᵀ with B_ℓ = [Ṽ_{ℓ,1} … Ṽ_{ℓ,H}]
// (n_{ℓ+1} × H_ℓ w in the frame below). With Y_ℓ Y_ℓᵀ = L_ℓ L_ℓᵀ (Cholesky;
// Y_ℓ of full row rank) and Q_ℓ = Y_ℓᵀ L_ℓ⁻ᵀ (orthonormal columns, a smooth
// function of the layers below), Y_ℓ B_ℓᵀ = L_ℓ G_ℓᵀ with G_ℓ = B_ℓ Q_ℓ. B_ℓ is
// i.i.d. N(0, 1) and independent of the layers below, so G_ℓ is an
// n_{ℓ+1} × r_ℓ standard Gaussian whatever Q_ℓ is, independent of
// B_ℓ (I − Q_ℓ Q_ℓᵀ), which never reaches the likelihood; with
// n_{ℓ+1} >= r_ℓ, G_ℓ = O R_ℓ with R_ℓ a Bartlett factor (r_ℓ × r_ℓ) and O
// Haar, which the layer above absorbs. So the output rows of layer ℓ are
// F_ℓ = L_ℓ R_ℓᵀ in the frame of G_ℓ, the next layer stacks F_ℓ's row blocks
// (w = r_ℓ), and at the top Φ_R = κ F_L (P × P). The sampled coordinates of a
// span layer are the r_ℓ(r_ℓ+1)/2 Bartlett coordinates of R_ℓ (law
// Bartlett(r_ℓ, n_{ℓ+1})), so their number depends on P and the heads only.
// The gradient goes back through F = L Rᵀ, the Cholesky factor (∂K =
// L⁻ᵀ sym(Φ(Lᵀ ∂L)) L⁻¹, Φ the lower triangle with the diagonal halved) and
// K = Y Yᵀ (∂Y = 2 ∂K Y). The plan (layers below s bottom-up as above, s … L
// span) is the one of smallest dimension among those whose span layers have
// r_ℓ <= n_{ℓ+1} and r_ℓ <= ¾ H_ℓ w (Y_ℓ Y_ℓᵀ well conditioned); the
// constructor checks the pivots of L_ℓ at one prior draw and reduces
// bottom-up only when the data do not span r_ℓ dimensions (repeated examples).
// On the four-path Markov task (P = 100, N0 = 231, H = (2, 2)) at N = 1000:
// c_0 = 231 bottom-up, r_1 = 200, r_2 = 100: 26 796 + 20 100 + 5 050 = 51 946
// coordinates at every N >= 231 (561 099 bottom-up only at N = 1000).
//
// Test inputs through a span layer. Test rows Y* (in the frame below, plus
// columns outside it where the training rows vanish) give
// Y* B_ℓᵀ = C R_ℓᵀ Oᵀ + W* B_ℓᵀ with C = Y* Q_ℓ and W* = Y* (I − Q_ℓ Q_ℓᵀ),
// and W* B_ℓᵀ = W* Wᵀ for a fresh Gaussian W independent of everything the
// likelihood sees. In the frame [O, O⊥] of R^{n_{ℓ+1}}: the first r_ℓ
// coordinates are C R_ℓᵀ + W* W_aᵀ (W_a: r_ℓ × k fresh), the other
// n_{ℓ+1} − r_ℓ are W* W_bᵀ, of which the layers above see only the Gram
// matrix, so W_b is replaced by a k × k Bartlett factor when n_{ℓ+1} − r_ℓ >= k.
// At the top, ã = [ã_R; z] and f(x*) = Φ*_R ã_R + κ W* W_bᵀ z with
// Φ*_R = κ (C R_Lᵀ + W* W_aᵀ): given θ and the fresh draws below the top,
//   E[f | ·] = Φ*_R m,   Var[f | ·] = Φ*_Rᵀ Σ Φ*_R + κ² (n_{L+1} − r_L) |W*|²
// (row by row; the readout's Σ, m of collapsed_potential.h). These are the
// Rao–Blackwellised estimates over ã and W_b; the draws below the top are
// fresh at every call, so the estimator stays unbiased (law of total
// variance). U^sampled goes down the same frames: B_ℓᵀ E =
// Q_ℓ R_ℓᵀ E_{top r_ℓ rows} + (I − Q_ℓ Q_ℓᵀ) Wᵀ E.
//
// The scalar top (one output, D = 1). The last layer and the readout enter
// the likelihood through f(x^μ) = κ Y_L(μ) u with u = B_Lᵀ ã ∈ R^{H_L w}.
// Given ã, u ~ N(0, |ã|² I), and with ã = √s â: ũ = B_Lᵀ â ~ N(0, I) is
// independent of s = |ã|² ~ χ²_{n_{L+1}}, of â (Haar) and of the rest of B_L.
// So the top layer and the readout reduce, at every width, to the scalar s
// (one coordinate: a 1 × 1 Bartlett factor, R_00 = √s) and ũ, which is the
// "readout" of the features Φ_R = κ √s Y_L (P × H_L w) and is integrated out
// as in collapsed_potential.h: U = U_lower + U_s(s) + ½ yᵀ G⁻¹ y + ½ ln det(G/T),
// G = κ² s Y_L Y_Lᵀ + T I. No Cholesky factor of Y_L is needed at the top;
// the layers below (span or bottom-up) are as above, with span layers
// s … L−1 (r_{L−1} = H_L P on the Markov task). Lifting: ã = √s e_1, the
// first row of B_L is ũᵀ (ũ_R of the readout posterior in the frame below,
// N(0, 1) outside it), the other rows fresh. Test inputs: E[f | ·] = Φ*_R m
// and Var[f | ·] = Φ*_Rᵀ Σ Φ*_R + κ² s |Y*_c|² with Φ*_R = κ √s Y*_f (Y*_f,
// Y*_c the test rows in and outside the frame below). Note that θ then holds
// s = |ã|², which is not a function of V: the conditionals of this sampler
// are expectations given (V's reduced coordinates, s), not given V.
#pragma once

#include <Eigen/Core>
#include <vector>

#include "kernels/architecture.h"
#include "kernels/path_inputs.h"
#include "sampler/bartlett.h"
#include "sampler/collapsed_potential.h"
#include "sampler/potential.h"
#include "sampler/random.h"
#include "sampler/weight_layout.h"

namespace attnpaths {

// One layer of the reduction: B_ℓ is rows × cols.
struct ReducedLayer {
  Eigen::Index rows = 0;    // c_ℓ
  Eigen::Index cols = 0;    // H_ℓ c_{ℓ−1} (N0 for ℓ = 0)
  Eigen::Index width = 0;   // n_{ℓ+1}, the network's width
  bool triangular = false;  // B_ℓ = R_ℓ (Bartlett, rows × rows); else B_ℓ = G (N(0, 1))
  bool span = false;        // reduced to the span of the training data (rows = r_ℓ,
                            // cols = H_ℓ w); triangular too
  bool scalar = false;      // the top layer with the readout: s = |ã|² (D = 1; one
                            // coordinate, rows = cols = H_L w the width of Φ_R)
  Eigen::Index offset = 0;  // first coordinate of θ_ℓ
  Eigen::Index dimension = 0;
};

class ReducedPotential : public Potential {
 public:
  // As CollapsedPotential: `train` the path inputs of the training set, Y
  // (P × D) labels, T > 0. Throws Error naming the field otherwise. `span`:
  // allow the top-down reduction to the span of the training data.
  ReducedPotential(const Architecture& arch, PathInputs train, Eigen::MatrixXd Y,
                   double temperature, CollapsedForm form = CollapsedForm::kAuto, bool span = true);

  Eigen::Index dimension() const override { return dimension_; }
  double Evaluate(const Eigen::Ref<const Eigen::VectorXd>& theta,
                  Eigen::VectorXd* gradient) const override;

  const WeightLayout& layout() const { return layout_; }           // the network's
  const WeightLayout& reduced_layout() const { return reduced_; }  // widths c_0 … c_L
  const std::vector<ReducedLayer>& layers() const { return layers_; }
  double temperature() const { return temperature_; }
  bool example_form() const { return example_form_; }
  // The first span layer s (L + 1 when none).
  int first_span_layer() const { return first_span_; }

  // The reduced value weights B (reduced_layout coordinates, readout slot zero).
  Eigen::VectorXd ReducedWeights(const Eigen::Ref<const Eigen::VectorXd>& theta) const;
  // Φ_R (P' × c_L) for the stacked path inputs X (StackPathInputs, (Htot P') × N0);
  // throws Error when a layer is reduced to the span of the training data (the
  // features of new inputs are then random given θ: use Conditionals).
  Eigen::MatrixXd Features(const Eigen::Ref<const Eigen::VectorXd>& theta,
                           const Eigen::MatrixXd& X) const;
  // Φ_R (P × c_L) of the training set.
  Eigen::MatrixXd TrainingFeatures(const Eigen::Ref<const Eigen::VectorXd>& theta) const;
  // One exact draw of θ from the prior (the chains' initializer).
  Eigen::VectorXd DrawPrior(RandomEngine& engine) const;
  // The network's weights (WeightLayout coordinates, readout included) lifted
  // from θ: canonical frames, or Haar-rotated (`rotate`: an exact posterior
  // draw; costs Σ_ℓ n_ℓ³ for the rotations).
  Eigen::VectorXd Lift(const Eigen::Ref<const Eigen::VectorXd>& theta, RandomEngine& engine,
                       bool rotate = true) const;
  // The conditional statistics of collapsed_potential.h for the stacked test
  // inputs X_test: f_mean, f_variance (E and Var of f(x*) over ã given θ, from
  // the reduced features) and a draw of ã in the canonical frame. U is
  // e_{π,d} · e_{π',d'} s² / n_1 at one lifted draw (ã and the unobserved
  // columns), not its conditional mean: the columns of Ṽ_{ℓ,h} outside the
  // frame enter e_π only as W_hᵀ E, drawn as rows of N(0, EᵀE) without forming
  // W_h (Σ_ℓ m_ℓ n_ℓ n_{ℓ+1} D operations at most).
  ConditionalStatistics Conditionals(const Eigen::Ref<const Eigen::VectorXd>& theta,
                                     const Eigen::MatrixXd& X_test, RandomEngine& engine,
                                     bool order_parameter = true) const;

 private:
  // One span layer's forward pass: Y_ℓ, L_ℓ (lower), R_ℓ (upper), F_ℓ = L_ℓ R_ℓᵀ.
  struct SpanPass {
    Eigen::MatrixXd Y, L, R, F;
  };
  // Z[ℓ] for the layers below the first span layer (weight_tree.h's recursion).
  std::vector<Eigen::MatrixXd> LowerFeatures(const Eigen::VectorXd& v,
                                             const Eigen::MatrixXd& X) const;
  // Back-propagates ∂/∂Z[s−1] through LowerFeatures(v, X_) into *g_v.
  void LowerGradient(const Eigen::VectorXd& v, const std::vector<Eigen::MatrixXd>& Z,
                     Eigen::MatrixXd g_here, Eigen::VectorXd* g_v) const;
  // The span layers on the training rows `below` = Z[s−1]; false when a
  // Cholesky factorisation fails.
  bool SpanForward(const Eigen::Ref<const Eigen::VectorXd>& theta, const Eigen::MatrixXd& below,
                   std::vector<SpanPass>* pass) const;
  // Q_ℓᵀ = L_ℓ⁻¹ Y_ℓ (r_ℓ × H_ℓ w, orthonormal rows).
  Eigen::MatrixXd SpanBasis(const SpanPass& s) const;
  // √s of the scalar top layer.
  double RootS(const Eigen::Ref<const Eigen::VectorXd>& theta) const;
  // The top representation of the training rows: Y_L (scalar top) or the
  // last layer's output rows; TopFeatures scales it to Φ_R.
  Eigen::MatrixXd TopInput(const std::vector<Eigen::MatrixXd>& Z,
                           const std::vector<SpanPass>& pass) const;
  Eigen::MatrixXd TopFeatures(const Eigen::Ref<const Eigen::VectorXd>& theta,
                              const Eigen::MatrixXd& top_input) const;

  std::vector<ReducedLayer> layers_;  // before reduced_: its initialiser fills it
  WeightLayout layout_;
  WeightLayout reduced_;
  PathInputs train_;
  Eigen::MatrixXd X_;  // StackPathInputs(train_)
  Eigen::MatrixXd Y_;
  double temperature_;
  bool example_form_;
  double kappa_;
  int first_span_ = 0;  // the lowest span (or scalar) layer; L + 1 when none
  int last_span_ = 0;   // the highest span layer (L − 1 under a scalar top)
  bool top_scalar_ = false;
  Eigen::Index dimension_ = 0;
};

}  // namespace attnpaths
