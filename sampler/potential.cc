#include "sampler/potential.h"

#include <cmath>
#include <string>
#include <utility>

#include "kernels/error.h"
#include "sampler/weight_tree.h"

namespace attnpaths {

const char* SampledWeightsName(SampledWeights s) { return NameOf(s); }

SampledWeights ParseSampledWeights(const std::string& text, const std::string& field) {
  return ParseEnum<SampledWeights>(text, field);
}

NetworkPotential::NetworkPotential(const Architecture& arch, PathInputs train, Eigen::MatrixXd Y,
                                   double temperature, SampledWeights sampled,
                                   const NetworkWeights* fixed)
    : layout_(arch, train.N0, Y.cols()),
      train_(std::move(train)),
      Y_(std::move(Y)),
      temperature_(temperature),
      sampled_(sampled) {
  RequirePosteriorData(layout_, train_, Y_, temperature);
  Require(sampled_ == SampledWeights::kAll || sampled_ == SampledWeights::kReadout,
          "sampled weights", SampledWeightsName(sampled_),
          "all or readout (the collapsed and reduced posteriors are CollapsedPotential and "
          "ReducedPotential)");
  if (sampled_ == SampledWeights::kReadout) {
    Require(fixed != nullptr, "fixed value weights", "none",
            "the value weights to hold fixed when only the readout is sampled");
    NetworkWeights w = *fixed;
    w.a = Eigen::MatrixXd::Zero(layout_.n(layout_.L() + 1), layout_.outputs());
    fixed_ = layout_.FromWeights(w);
  }
  kappa_ = OutputScale(layout_);
}

Eigen::Index NetworkPotential::dimension() const {
  return sampled_ == SampledWeights::kAll ? layout_.dimension() : layout_.readout_size();
}

Eigen::VectorXd NetworkPotential::FullCoordinates(
    const Eigen::Ref<const Eigen::VectorXd>& q) const {
  Require(q.size() == dimension(), "coordinates size", q.size(), std::to_string(dimension()));
  if (sampled_ == SampledWeights::kAll) return q;
  Eigen::VectorXd full = fixed_;
  full.tail(layout_.readout_size()) = q;
  return full;
}

double NetworkPotential::Evaluate(const Eigen::Ref<const Eigen::VectorXd>& q,
                                  Eigen::VectorXd* gradient) const {
  const bool all = sampled_ == SampledWeights::kAll;
  const Eigen::Ref<const Eigen::VectorXd> values =
      all ? q : Eigen::Ref<const Eigen::VectorXd>(fixed_);
  const Eigen::Map<const Eigen::MatrixXd> a(q.data() + (all ? layout_.readout_offset() : 0),
                                            layout_.n(layout_.L() + 1), layout_.outputs());
  const std::vector<Eigen::MatrixXd> E = TopDownProducts(layout_, values, a);
  const Eigen::MatrixXd u = StackedEffectiveWeights(layout_, values, E[0], layout_.outputs());
  // f(x^μ) = κ Σ_π u_π · ξ_π(x^μ); the likelihood of theory.md §1 at T.
  const Eigen::MatrixXd residual = kappa_ * (train_.xi * u) - Y_;
  const double value = 0.5 * q.squaredNorm() + 0.5 * residual.squaredNorm() / temperature_;
  if (gradient == nullptr) return value;

  const int L = layout_.L();
  const Eigen::Index N0 = layout_.N0(), D = layout_.outputs(), Htot = layout_.Htot();
  // Each block of ∇U is q (the prior ½|q|²) plus the likelihood's part,
  // written in one pass per block (a low-rank update, coefficient-wise).
  gradient->resize(q.size());
  if (!all) *gradient = q;
  // ∂/∂u_π, back to the N0 × (Htot D) layout of Ṽ_0ᵀ E[0].
  const Eigen::MatrixXd g_stacked = (kappa_ / temperature_) * (train_.xi.transpose() * residual);
  Eigen::MatrixXd g_u(N0, Htot * D);
  if (D == 1) {
    g_u = g_stacked.reshaped(N0, Htot);
  } else {
    for (Eigen::Index p = 0; p < Htot; ++p) {
      g_u.middleCols(p * D, D) = g_stacked.middleRows(p * N0, N0);
    }
  }
  // u = Ṽ_0ᵀ E[0]: ∂Ṽ_0 = E[0] g_uᵀ, ∂E[0] = Ṽ_0 g_u.
  if (all) layout_.V0(*gradient) = layout_.V0(q) + E[0].lazyProduct(g_u.transpose());
  Eigen::MatrixXd g_here = layout_.V0(values) * g_u;
  for (int l = 1; l <= L; ++l) {
    const Eigen::MatrixXd& above = E[static_cast<size_t>(l)];
    const Eigen::Index block = layout_.m(l + 1) * D;
    Eigen::MatrixXd g_above = Eigen::MatrixXd::Zero(above.rows(), above.cols());
    for (Eigen::Index h = 0; h < layout_.H(l); ++h) {
      const auto g_block = g_here.middleCols(h * block, block);
      // E[ℓ-1] block h = Ṽ_{ℓ,h}ᵀ E[ℓ]: ∂Ṽ_{ℓ,h} = E[ℓ] g_blockᵀ, ∂E[ℓ] += Ṽ_{ℓ,h} g_block.
      if (all) {
        layout_.V(*gradient, l, h) = layout_.V(q, l, h) + above.lazyProduct(g_block.transpose());
      }
      g_above.noalias() += layout_.V(values, l, h) * g_block;
    }
    g_here.swap(g_above);
  }
  if (all) {
    layout_.a(*gradient) = layout_.a(q) + g_here;
  } else {
    gradient->reshaped(layout_.n(L + 1), D) += g_here;
  }
  return value;
}

Eigen::MatrixXd NetworkPotential::Outputs(const Eigen::Ref<const Eigen::VectorXd>& q,
                                          const PathInputs& xi) const {
  Require(xi.Htot == layout_.Htot() && xi.N0 == layout_.N0(), "path inputs shape",
          std::to_string(xi.Htot) + " paths x " + std::to_string(xi.N0) + " features",
          std::to_string(layout_.Htot()) + " paths x " + std::to_string(layout_.N0()) +
              " features (as the training set)");
  // kAll: q is every weight already (no copy: 34 MB at N = 1000).
  Require(q.size() == dimension(), "coordinates size", q.size(), std::to_string(dimension()));
  const Eigen::VectorXd copy =
      sampled_ == SampledWeights::kAll ? Eigen::VectorXd() : FullCoordinates(q);
  const Eigen::Ref<const Eigen::VectorXd> full =
      sampled_ == SampledWeights::kAll ? q : Eigen::Ref<const Eigen::VectorXd>(copy);
  const std::vector<Eigen::MatrixXd> E = TopDownProducts(layout_, full, layout_.a(full));
  return kappa_ * (xi.xi * StackedEffectiveWeights(layout_, full, E[0], layout_.outputs()));
}

Eigen::MatrixXd NetworkPotential::OrderParameter(const Eigen::Ref<const Eigen::VectorXd>& q) const {
  Require(q.size() == dimension(), "coordinates size", q.size(), std::to_string(dimension()));
  const Eigen::VectorXd copy =
      sampled_ == SampledWeights::kAll ? Eigen::VectorXd() : FullCoordinates(q);
  const Eigen::Ref<const Eigen::VectorXd> full =
      sampled_ == SampledWeights::kAll ? q : Eigen::Ref<const Eigen::VectorXd>(copy);
  const std::vector<Eigen::MatrixXd> E = TopDownProducts(layout_, full, layout_.a(full));
  // e_{π,d} of theory.md §5/§9 in the weights' own units: each layer
  // contributes σ_ℓ / √n_{ℓ+1}, the readout σ_a. E[0] has column π·D + d, the
  // (π, d) order of U_1 in theory.md §9, so its Gram is U^sampled directly.
  const double scale = OrderParameterScale(layout_);
  Eigen::MatrixXd U = E[0].transpose() * E[0];
  U *= scale * scale / static_cast<double>(layout_.n(1));
  return U;
}

}  // namespace attnpaths
