// AttentionHessian — the loss Hessian of one self-attention layer in its
// query, key and value weights, split into its outer-product (Gauss–Newton)
// and functional parts, block by block in closed form, with matrix-free
// Hessian–vector products (docs/attention-hessian.md, the spec's Parts A–C).
//
//   attnpaths::AttentionLayerData data;           // B sequences, tokens as rows
//   data.X = {X_1, X_2};                          // m × D each
//   data.Y = {Y_1, Y_2};                          // targets, m × D
//   data.attention = attnpaths::AttentionKind::kSoftmax;
//   attnpaths::AttentionLayerWeights w{WQ, WK, WV};  // D × k, D × k, D × D
//   attnpaths::AttentionHessian hessian(data, w);
//   double loss = hessian.loss();                                  // ℓ(W)
//   Eigen::VectorXd g = hessian.Gradient();                        // [vec W_Q, vec W_K, vec W_V]
//   Eigen::MatrixXd QK = hessian.Block(WeightGroup::kQ, WeightGroup::kK, HessianPart::kOuter);
//   Eigen::MatrixXd H = hessian.Dense(HessianPart::kFull);         // n_p × n_p
//   Eigen::VectorXd Hv = hessian.Apply(v, HessianPart::kFunctional);  // without forming H
//
// The model (spec §A), per sequence X ∈ R^{m×D} (row i = token i):
//   Λ = X W_Q W_Kᵀ Xᵀ/√k,  A = softmax_row(Λ + M) or Λ ⊙ M₀ (linear attention),
//   F = A X W_V,  ℓ = (1/(B m D)) Σ_s ‖F_s − Y_s‖_F²,
// M the causal mask (−∞ above the diagonal) or none; M₀ its 0/1 form. In
// attnpaths' notation (tokens as columns, theory.md §1) W_Q = Qᵀ, W_K = Kᵀ and
// the score of key j for query i is (Q x_i)·(K x_j)/√k: the QK-form score.
//
// Parameters are flattened row-major — entry (p, q) of a P × Q matrix has
// index p·Q + q — and stacked [vec W_Q, vec W_K, vec W_V] (n_p = 2Dk + D²).
// The row-major index of W_Q[p, q] equals the column-major index of
// Q[q, p] = W_Q[p, q], so attnpaths' column-major Q, K, V blocks use the same
// numbers. H = H_o + H_f with H_o = c Jᵀ J (c = 2/(B m D), J = ∂F/∂w) and
// H_f = c Σ R_ia ∂²F_ia/∂w² (R = F − Y).
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <string>
#include <vector>

namespace attnpaths {

enum class AttentionKind {
  kSoftmax,  // A = softmax over keys of each query row (the paper's layer)
  kLinear,   // A = Λ ⊙ M₀, no softmax (the TransformerLens fork's switch)
};
const char* AttentionKindName(AttentionKind kind);
// Parses "softmax" or "linear"; throws Error naming `field`.
AttentionKind ParseAttentionKind(const std::string& text, const std::string& field);

enum class HessianPart {
  kOuter,       // H_o = c Jᵀ J, the Gauss–Newton part (positive semi-definite)
  kFunctional,  // H_f = H − H_o, the residual-weighted second derivatives of F
  kFull,        // H
};
const char* HessianPartName(HessianPart part);  // "outer", "functional", "full"
HessianPart ParseHessianPart(const std::string& text, const std::string& field);

enum class WeightGroup { kQ, kK, kV };
const char* WeightGroupName(WeightGroup group);  // "Q", "K", "V"

// The blocks named by the spec: VV, QQ, KK, QK, VQ, VK (first letter = rows).
struct BlockName {
  WeightGroup rows, cols;
  std::string name() const;
};
const std::vector<BlockName>& SpecBlocks();

struct AttentionLayerData {
  std::vector<Eigen::MatrixXd> X;  // B sequences, each m × D (row i = token i)
  std::vector<Eigen::MatrixXd> Y;  // B targets, each m × D
  AttentionKind attention = AttentionKind::kSoftmax;
  bool causal = false;  // query i reads keys j ≤ i only

  Eigen::Index B() const { return static_cast<Eigen::Index>(X.size()); }
  Eigen::Index m() const { return X.empty() ? 0 : X[0].rows(); }
  Eigen::Index D() const { return X.empty() ? 0 : X[0].cols(); }
  // Throws Error naming the field: no sequence, sequences of different shapes,
  // targets that do not match, non-finite values.
  void Validate() const;
};

struct AttentionLayerWeights {
  Eigen::MatrixXd WQ, WK;  // D × k
  Eigen::MatrixXd WV;      // D × D
  Eigen::Index D() const { return WV.rows(); }
  Eigen::Index k() const { return WQ.cols(); }
  // Throws Error unless the shapes fit D features (and are finite).
  void Validate(Eigen::Index D) const;
};

// W_Q, W_K (D × k) and W_V (D × D) with independent N(0, std²) entries
// (Boost.Random mt19937, in that order, each row by row); std <= 0 means
// 1/√D, which keeps X W_V and the logits of the order of the inputs.
AttentionLayerWeights RandomAttentionWeights(Eigen::Index D, Eigen::Index k, std::uint64_t seed,
                                             double std = 0);

// [vec W_Q, vec W_K, vec W_V], row-major, and back.
Eigen::VectorXd FlattenWeights(const AttentionLayerWeights& w);
AttentionLayerWeights UnflattenWeights(const Eigen::Ref<const Eigen::VectorXd>& theta,
                                       Eigen::Index D, Eigen::Index k);

// ℓ(W) by the forward pass alone (spec §A): the function the finite
// differences of the tests differentiate.
double AttentionLayerLoss(const AttentionLayerData& data, const AttentionLayerWeights& w);
// F_s = A_s X_s W_V for every sequence.
std::vector<Eigen::MatrixXd> AttentionLayerOutputs(const AttentionLayerData& data,
                                                   const AttentionLayerWeights& w);

class AttentionHessian {
 public:
  // Runs the forward pass and keeps every sequence's A, F, R, Q̃ = X W_Q,
  // K̃ = X W_K. Throws Error for invalid data or weights.
  AttentionHessian(const AttentionLayerData& data, const AttentionLayerWeights& weights);

  Eigen::Index D() const { return D_; }
  Eigen::Index k() const { return k_; }
  Eigen::Index num_parameters() const { return 2 * D_ * k_ + D_ * D_; }
  Eigen::Index offset(WeightGroup g) const;  // first index of the group
  Eigen::Index size(WeightGroup g) const;    // Dk, Dk or D²

  double loss() const { return loss_; }
  // ∇ℓ (spec §B.1, "Gradient").
  Eigen::VectorXd Gradient() const;
  // The block H(a, b) of `part` in closed form (spec §B.2, §B.3):
  // size(a) × size(b), entry ∂²ℓ/∂(W_a)_{pq}∂(W_b)_{p'q'}.
  Eigen::MatrixXd Block(WeightGroup a, WeightGroup b, HessianPart part) const;
  // Every block assembled (n_p × n_p, order Q, K, V).
  Eigen::MatrixXd Dense(HessianPart part) const;
  // H v, H_o v or H_f v without forming H (spec §C.1): forward tangent, the
  // backward map on c δF (outer), the backward map's directional derivative
  // at fixed cotangent c R (functional).
  Eigen::VectorXd Apply(const Eigen::Ref<const Eigen::VectorXd>& v, HessianPart part) const;
  // ‖H(a, a)‖_F for a diagonal block by the Kronecker-sum Gram identity
  // ‖Σ_i a_i ⊗ b_i‖_F² = Σ_ij ⟨a_i, a_j⟩⟨b_i, b_j⟩ (spec §C.2), without
  // forming the block: O((B m)² (D² + k²)). Parts outer and functional only.
  double DiagonalBlockNormByGram(WeightGroup a, HessianPart part) const;

 private:
  struct Sequence {
    Eigen::MatrixXd X, Y, Qt, Kt, A, Z, F, R, AX, M0;
  };
  // E_i (m × D): E_{i,l,a} = Σ_j ∂A_ij/∂Λ_il Z_ja (spec §B.1).
  Eigen::MatrixXd E(const Sequence& s, Eigen::Index i) const;
  // Bx_i (m × D): Σ_j ∂A_ij/∂Λ_il X_jb.
  Eigen::MatrixXd Bx(const Sequence& s, Eigen::Index i) const;
  // Φ_i (m × m): Σ_a R_ia Σ_j Z_ja ∂²A_ij/∂Λ_il∂Λ_im (zero for linear attention).
  Eigen::MatrixXd Phi(const Sequence& s, Eigen::Index i, const Eigen::MatrixXd& G) const;
  // Ψ (m × m): Ψ_il = Σ_a R_ia E_{i,l,a}.
  Eigen::MatrixXd Psi(const Sequence& s, const Eigen::MatrixXd& G) const;
  // The pieces of the Kronecker-sum diagonal blocks, one (a_i, b_i) per query row.
  void KroneckerTerms(WeightGroup a, HessianPart part, std::vector<Eigen::MatrixXd>* left,
                      std::vector<Eigen::MatrixXd>* right) const;

  std::vector<Sequence> seq_;
  AttentionKind attention_;
  Eigen::MatrixXd WQ_, WK_, WV_;
  Eigen::Index D_ = 0, k_ = 0, m_ = 0;
  double c_ = 0;  // 2/(B m D), ∂²ℓ/∂F²
  double loss_ = 0;
};

}  // namespace attnpaths
