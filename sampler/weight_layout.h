// WeightLayout — where every weight matrix of the network of theory.md §1 sits
// in the sampler's coordinate vector q, and the prior scale of each.
//
//   attnpaths::WeightLayout layout(arch, /*N0=*/231, /*outputs=*/1);
//   Eigen::VectorXd q = Eigen::VectorXd::Zero(layout.dimension());
//   layout.V0(q);               // n_1 × N0        (V_0 / σ_0)
//   layout.V(q, 2, 1);          // n_3 × n_2       (V_{2,h} / σ_2 for head h = 1, 0-based)
//   layout.a(q);                // n_{L+1} × D     (a / σ_a; D = 1 in theory.md)
//   attnpaths::NetworkWeights w = layout.ToWeights(q);   // the weights themselves
//
// The coordinates are the weights divided by their prior standard deviation,
// q = W / σ, so the Gaussian prior of theory.md §1 is N(0, I) in q. The
// blocks are stored one after another, each column-major: V_0, then
// V_{1,0}, …, V_{1,H_1-1}, …, V_{L,H_L-1}, then a. With D > 1 label columns the
// readout has one column per output (our extension; D = 1 is theory.md).
#pragma once

#include <Eigen/Core>
#include <vector>

#include "kernels/architecture.h"
#include "kernels/path_inputs.h"

namespace attnpaths {

// The weights of one network of theory.md §1, in their own units.
struct NetworkWeights {
  Eigen::MatrixXd V0;                           // n_1 × N0
  std::vector<std::vector<Eigen::MatrixXd>> V;  // V[ℓ-1][h]: n_{ℓ+1} × n_ℓ
  Eigen::MatrixXd a;                            // n_{L+1} × D
};

class WeightLayout {
 public:
  // Throws Error naming the field when a width is not an integer, the
  // hyperparameters are invalid, N0 < 1 or outputs < 1.
  WeightLayout(const Architecture& arch, Eigen::Index N0, Eigen::Index outputs = 1);

  int L() const { return static_cast<int>(H_.size()); }
  Eigen::Index N0() const { return N0_; }
  Eigen::Index outputs() const { return D_; }
  Eigen::Index Htot() const { return m_[0]; }
  // H_ℓ for ℓ = 1..L.
  Eigen::Index H(int l) const { return H_[static_cast<size_t>(l - 1)]; }
  // n_ℓ for ℓ = 1..L+1.
  Eigen::Index n(int l) const { return n_[static_cast<size_t>(l - 1)]; }
  // m_ℓ = H_ℓ ⋯ H_L for ℓ = 1..L+1 (m_{L+1} = 1): nodes of the top-down tree.
  Eigen::Index m(int l) const { return m_[static_cast<size_t>(l - 1)]; }
  // σ_0, σ_1, …, σ_L, σ_a (standard deviations, index 0..L+1).
  double sigma(int i) const { return sigma_[static_cast<size_t>(i)]; }

  Eigen::Index dimension() const { return dimension_; }
  // First coordinate of the readout a (all value weights come before it).
  Eigen::Index readout_offset() const { return a_offset_; }
  Eigen::Index readout_size() const { return dimension_ - a_offset_; }

  Eigen::Map<Eigen::MatrixXd> V0(Eigen::VectorXd& q) const;
  Eigen::Map<const Eigen::MatrixXd> V0(const Eigen::Ref<const Eigen::VectorXd>& q) const;
  // l = 1..L, h = 0..H_l-1.
  Eigen::Map<Eigen::MatrixXd> V(Eigen::VectorXd& q, int l, Eigen::Index h) const;
  Eigen::Map<const Eigen::MatrixXd> V(const Eigen::Ref<const Eigen::VectorXd>& q, int l,
                                      Eigen::Index h) const;
  Eigen::Map<Eigen::MatrixXd> a(Eigen::VectorXd& q) const;
  Eigen::Map<const Eigen::MatrixXd> a(const Eigen::Ref<const Eigen::VectorXd>& q) const;

  // W = σ q block by block, and back. FromWeights throws Error naming the
  // block whose shape does not match.
  NetworkWeights ToWeights(const Eigen::Ref<const Eigen::VectorXd>& q) const;
  Eigen::VectorXd FromWeights(const NetworkWeights& weights) const;

 private:
  Eigen::Index Offset(int l, Eigen::Index h) const;

  std::vector<Eigen::Index> H_, n_, m_;
  std::vector<double> sigma_;
  std::vector<Eigen::Index> layer_offset_;  // first coordinate of V_{ℓ,0}, ℓ = 1..L
  Eigen::Index N0_ = 0, D_ = 1, a_offset_ = 0, dimension_ = 0;
};

// The training data a posterior over this layout's weights needs: path inputs
// of Htot paths × N0 features, one finite label row per example, and a finite
// T > 0. Throws Error naming the field otherwise.
void RequirePosteriorData(const WeightLayout& layout, const PathInputs& train,
                          const Eigen::MatrixXd& Y, double temperature);

}  // namespace attnpaths
