// Products of the value weights along the tree of heads (theory.md §5), the
// building blocks of both potentials (potential.h, collapsed_potential.h).
//
//   attnpaths::WeightLayout layout(arch, N0, D);
//   // Top-down from readout columns a (n_{L+1} × k): E[ℓ-1] holds e_{(h_ℓ…h_L)}
//   // for every node of layer ℓ, column node·k + j.
//   std::vector<Eigen::MatrixXd> E = attnpaths::TopDownProducts(layout, q, a);
//   Eigen::MatrixXd u = attnpaths::StackedEffectiveWeights(layout, q, E[0], k);  // (Htot N0) × k
//
//   // Bottom-up from examples: Z[ℓ] = the layer-ℓ features of every node.
//   Eigen::MatrixXd X = attnpaths::StackPathInputs(xi);      // (Htot P) × N0
//   std::vector<Eigen::MatrixXd> Z = attnpaths::BottomUpFeatures(layout, q, X);
//   Z.back();                                                 // P × n_{L+1}: z^L (unscaled)
//
// In the coordinates q = W / σ of WeightLayout (Ṽ = V / σ):
//
//   top-down   e_{h_L} = Ṽ_{L,h_L}ᵀ a,  e_{(h_ℓ, rest)} = Ṽ_{ℓ,h_ℓ}ᵀ e_rest,  u_π = Ṽ_0ᵀ e_π;
//   bottom-up  Z[0]_π = Ξ_π Ṽ_0ᵀ,  Z[ℓ]_rest = Σ_h Z[ℓ-1]_{(h, rest)} Ṽ_{ℓ,h}ᵀ,
//
// so that Σ_π Ξ_π u_π = Z[L] a: the two directions give the same network
// output, the first cheaply for a few readout columns, the second for a few
// examples. Node blocks are ordered with h_ℓ outermost, like paths (theory.md §2).
#pragma once

#include <Eigen/Core>
#include <vector>

#include "kernels/path_inputs.h"
#include "sampler/weight_layout.h"

namespace attnpaths {

// κ = σ_1 ⋯ σ_L σ_a / √(n_1 ⋯ n_{L+1}): f(x) = κ Σ_π u_π · ξ_π(x) (potential.h).
double OutputScale(const WeightLayout& layout);
// s = σ_a Π_ℓ σ_ℓ / √n_{ℓ+1}: e_{π,d} of theory.md §5 is s times the top-down
// product of the coordinates (U^sampled = s² e·e / n_1).
double OrderParameterScale(const WeightLayout& layout);

// E[ℓ-1] (n_ℓ × m_ℓ k) for ℓ = 1..L+1, E[L] = a (n_{L+1} × k); column node·k + j.
std::vector<Eigen::MatrixXd> TopDownProducts(const WeightLayout& layout,
                                             const Eigen::Ref<const Eigen::VectorXd>& values,
                                             const Eigen::Ref<const Eigen::MatrixXd>& a);

// TopDownProducts(layout, values, I) with a = I_{n_{L+1}} without multiplying
// by the identity (E[L] is left empty): E[ℓ-1] (n_ℓ × m_ℓ n_{L+1}) holds the
// path products Ṽ_{ℓ,h_ℓ}ᵀ ⋯ Ṽ_{L,h_L}ᵀ of every node side by side.
std::vector<Eigen::MatrixXd> TopDownIdentity(const WeightLayout& layout,
                                             const Eigen::Ref<const Eigen::VectorXd>& values);

// u_π = Ṽ_0ᵀ e_π for every path and column, stacked (Htot N0) × k, rows π·N0 + i.
Eigen::MatrixXd StackedEffectiveWeights(const WeightLayout& layout,
                                        const Eigen::Ref<const Eigen::VectorXd>& values,
                                        const Eigen::MatrixXd& E0, Eigen::Index k);

// The path inputs with paths stacked along rows: (Htot P) × N0, block π = Ξ_π.
Eigen::MatrixXd StackPathInputs(const PathInputs& xi);

// Z[ℓ] ((m_{ℓ+1} P) × n_{ℓ+1}) for ℓ = 0..top from the stacked inputs X
// (Htot P × N0); top < 0 means L.
std::vector<Eigen::MatrixXd> BottomUpFeatures(const WeightLayout& layout,
                                              const Eigen::Ref<const Eigen::VectorXd>& values,
                                              const Eigen::MatrixXd& X, int top = -1);

// Back-propagates ∂/∂Z[top] through BottomUpFeatures(…, top) (top < 0: L,
// g_top P × n_{L+1}): adds the gradient of every value-weight block up to
// layer top to *gradient (sized like values; the readout block is left alone).
void BottomUpGradient(const WeightLayout& layout, const Eigen::Ref<const Eigen::VectorXd>& values,
                      const Eigen::MatrixXd& X, const std::vector<Eigen::MatrixXd>& Z,
                      Eigen::MatrixXd g_top, Eigen::VectorXd* gradient, int top = -1);

}  // namespace attnpaths
