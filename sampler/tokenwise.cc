#include "sampler/tokenwise.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

#include "kernels/error.h"

namespace attnpaths {

namespace {

// Examples per pass of network/pass.h.
constexpr Eigen::Index kChunk = 64;

}  // namespace

TokenwisePotential::TokenwisePotential(const Architecture& arch, const Inputs& x, Eigen::MatrixXd Y,
                                       double temperature, Split split)
    : layout_(arch, x.N0(), Y.cols()), x_(x), Y_(std::move(Y)), temperature_(temperature) {
  arch.Validate(x.N0(), x.n_tok());
  Require(Y_.rows() == x.P(), "Y rows", Y_.rows(), std::to_string(x.P()));
  Require(std::isfinite(temperature) && temperature > 0, "temperature", temperature,
          "a finite value > 0");
  network_ = Network(FixedHeadShape(arch, x.N0(), x.n_tok(), Y_.cols()));
  // The fixed-head network's layout is WeightLayout's block for block
  // (network/network.h); the coordinates differ by the prior scale σ.
  const ParameterLayout& lay = network_.layout();
  Require(lay.size() == layout_.dimension(), "token-wise layout size", lay.size(),
          std::to_string(layout_.dimension()) + " (the sampler's WeightLayout)");
  scale_.resize(lay.size());
  auto set = [&](ParameterLayout::Block b, double sigma) {
    scale_.segment(b.offset, b.rows * b.cols).setConstant(sigma);
  };
  set(lay.V0(), layout_.sigma(0));
  for (int l = 1; l <= layout_.L(); ++l) {
    for (Eigen::Index h = 0; h < layout_.H(l); ++h) set(lay.V(l, h), layout_.sigma(l));
  }
  set(lay.a(), layout_.sigma(layout_.L() + 1));
  Require(lay.a().offset == layout_.readout_offset(), "token-wise readout offset", lay.a().offset,
          std::to_string(layout_.readout_offset()));
  attention_ = ComputeFixedAttention(arch, x_, split);
}

Network TokenwisePotential::WeightsAt(const Eigen::Ref<const Eigen::VectorXd>& q) const {
  Require(q.size() == layout_.dimension(), "q size", q.size(), std::to_string(layout_.dimension()));
  Network net = network_;
  net.parameters() = scale_.cwiseProduct(q);
  return net;
}

Eigen::MatrixXd TokenwisePotential::Outputs(const Eigen::Ref<const Eigen::VectorXd>& q) const {
  const Network net = WeightsAt(q);
  NetworkPass pass(net, nullptr, &attention_);
  std::vector<Eigen::Index> ids(static_cast<size_t>(x_.P()));
  for (Eigen::Index mu = 0; mu < x_.P(); ++mu) ids[static_cast<size_t>(mu)] = mu;
  Eigen::MatrixXd f(x_.P(), layout_.outputs());
  for (Eigen::Index s = 0; s < x_.P(); s += kChunk) {
    const Eigen::Index B = std::min(kChunk, x_.P() - s);
    f.middleRows(s, B) = pass.Forward(x_, ids.data() + s, B);
  }
  return f;
}

double TokenwisePotential::Evaluate(const Eigen::Ref<const Eigen::VectorXd>& q,
                                    Eigen::VectorXd* gradient) const {
  // U(q) = ½ |q|² + Σ_μ |f(x^μ) − y^μ|² / (2T) (theory.md §1, §5).
  const Network net = WeightsAt(q);
  NetworkPass pass(net, nullptr, &attention_);
  std::vector<Eigen::Index> ids(static_cast<size_t>(x_.P()));
  for (Eigen::Index mu = 0; mu < x_.P(); ++mu) ids[static_cast<size_t>(mu)] = mu;
  double value = 0.5 * q.squaredNorm();
  Eigen::VectorXd grad_w;
  if (gradient) grad_w = Eigen::VectorXd::Zero(q.size());
  for (Eigen::Index s = 0; s < x_.P(); s += kChunk) {
    const Eigen::Index B = std::min(kChunk, x_.P() - s);
    const Eigen::MatrixXd residual = pass.Forward(x_, ids.data() + s, B) - Y_.middleRows(s, B);
    value += 0.5 * residual.squaredNorm() / temperature_;
    if (gradient) pass.Backward(residual / temperature_, &grad_w);
  }
  // ∂U/∂q = q + σ ⊙ ∂/∂W of the data term.
  if (gradient) *gradient = q + scale_.cwiseProduct(grad_w);
  return value;
}

}  // namespace attnpaths
