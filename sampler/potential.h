// The potential — minus the log posterior of the network's weights
// (theory.md §1), in the effective-weight form of theory.md §5.
//
//   attnpaths::PathInputs xi = attnpaths::ComputePathInputs(arch, x, Split::kTrain);
//   attnpaths::NetworkPotential potential(arch, xi, Y, /*temperature=*/0.01);
//   Eigen::VectorXd q = Eigen::VectorXd::Random(potential.dimension());
//   Eigen::VectorXd grad(potential.dimension());
//   double U = potential.Evaluate(q, &grad);        // −log p(q | data) + const
//   Eigen::MatrixXd f = potential.Outputs(q, xi);   // f(x^μ), P × D
//
// In the coordinates q = W / σ of WeightLayout,
//
//   U(q) = ½ |q|² + Σ_μ |f(x^μ) − y^μ|² / (2T),
//   f(x) = κ Σ_π u_π · ξ_π(x),   κ = σ_1 ⋯ σ_L σ_a / √(n_1 ⋯ n_{L+1}),
//   u_π = Ṽ_0ᵀ Ṽ_{1,h_1}ᵀ ⋯ Ṽ_{L,h_L}ᵀ ã,
//
// which is f of theory.md §1 with ξ_π = σ_0 / √(N0·Htot) · x Ω^{1,h_1} ⋯ ω^{L,h_L}
// (theory.md §2): the c·r_π of theory.md §5 with the factor σ_0 and the Htot of
// c moved into ξ_π. The u_π are built top-down over the tree of heads, sharing
// prefixes (e_{h_L} = Ṽ_{L,h_L}ᵀ ã, e_{(h_ℓ, rest)} = Ṽ_{ℓ,h_ℓ}ᵀ e_rest,
// u_π = Ṽ_0ᵀ e_π), and the gradient is back-propagated through the same tree:
// one evaluation costs about P·Htot·N0 + Σ_ℓ m_ℓ n_ℓ n_{ℓ+1} + Htot·n_1·N0
// multiply–adds per output, independent of the number of tokens.
#pragma once

#include <Eigen/Core>
#include <array>
#include <vector>

#include "kernels/architecture.h"
#include "kernels/enum_names.h"
#include "kernels/path_inputs.h"
#include "sampler/weight_layout.h"

namespace attnpaths {

// A differentiable potential U(q) = −log density + const, the only thing the
// sampler knows about a model (Stan's split: model vs. algorithm).
class Potential {
 public:
  virtual ~Potential() = default;
  virtual Eigen::Index dimension() const = 0;
  // U(q); writes ∇U(q) into *gradient (resized to dimension()) unless null.
  // Must be safe to call from several threads at once. May return a
  // non-finite value (the sampler treats it as a divergence).
  virtual double Evaluate(const Eigen::Ref<const Eigen::VectorXd>& q,
                          Eigen::VectorXd* gradient) const = 0;
  // True when U(q) = ½ |q|² + U₁(q): a standard normal prior times the rest,
  // which the prior-split integrator (leapfrog.h) integrates exactly.
  virtual bool standard_normal_prior() const { return false; }
};

// Which weights the sampler moves.
enum class SampledWeights {
  kAll,        // V_0, every V_{ℓ,h} and a (theory.md §5)
  kReadout,    // a only; the value weights stay at given values (a Gaussian posterior)
  kCollapsed,  // the value weights, with a integrated out exactly (collapsed_potential.h)
  kReduced,    // the triangular factors of the value weights: a and the unobserved
               // rotations integrated out exactly (reduced_potential.h)
  kGibbs,      // every weight, by blocked Gibbs sweeps of exact Gaussian conditionals
               // (gibbs.h), not NUTS
};

template <>
struct EnumNames<SampledWeights> {
  static constexpr std::array<EnumName<SampledWeights>, 5> values{
      {{SampledWeights::kCollapsed, "collapsed"},
       {SampledWeights::kReduced, "reduced"},
       {SampledWeights::kAll, "all"},
       {SampledWeights::kReadout, "readout"},
       {SampledWeights::kGibbs, "gibbs"}}};
};

const char* SampledWeightsName(SampledWeights s);
// Parses "all", "readout", "collapsed", "reduced", "gibbs"; throws Error naming `field`.
SampledWeights ParseSampledWeights(const std::string& text, const std::string& field);

class NetworkPotential : public Potential {
 public:
  // `train`: the path inputs of the training set; Y: P × D labels;
  // `temperature` > 0: the T of the likelihood (the caller applies any
  // floor T_min). With kReadout, `fixed` holds the value weights (its a is
  // ignored) and must not be null. Throws Error naming the field for a
  // non-integer width, shapes that disagree, non-finite labels or T <= 0.
  NetworkPotential(const Architecture& arch, PathInputs train, Eigen::MatrixXd Y,
                   double temperature, SampledWeights sampled = SampledWeights::kAll,
                   const NetworkWeights* fixed = nullptr);

  Eigen::Index dimension() const override;
  double Evaluate(const Eigen::Ref<const Eigen::VectorXd>& q,
                  Eigen::VectorXd* gradient) const override;
  bool standard_normal_prior() const override { return true; }

  const WeightLayout& layout() const { return layout_; }
  SampledWeights sampled() const { return sampled_; }
  double temperature() const { return temperature_; }
  const PathInputs& train() const { return train_; }
  const Eigen::MatrixXd& labels() const { return Y_; }

  // All weights in WeightLayout coordinates for the sampled coordinates q
  // (q itself with kAll; the fixed value weights and a = q with kReadout).
  Eigen::VectorXd FullCoordinates(const Eigen::Ref<const Eigen::VectorXd>& q) const;
  // f(x) for every example of `xi` (P' × D) at the sampled coordinates q.
  Eigen::MatrixXd Outputs(const Eigen::Ref<const Eigen::VectorXd>& q, const PathInputs& xi) const;
  // U^sampled of this one draw (theory.md §5, §9): e_{π,d} · e_{π',d'} / n_1,
  // (Htot D) × (Htot D) with rows (π, d), d fastest (Htot × Htot for D = 1).
  Eigen::MatrixXd OrderParameter(const Eigen::Ref<const Eigen::VectorXd>& q) const;

 private:
  WeightLayout layout_;
  PathInputs train_;
  Eigen::MatrixXd Y_;
  double temperature_;
  SampledWeights sampled_;
  Eigen::VectorXd fixed_;  // kReadout: full coordinates of the fixed value weights
  double kappa_;           // κ above
};

}  // namespace attnpaths
