#include "network/network.h"

#include <boost/random/mersenne_twister.hpp>
#include <boost/random/normal_distribution.hpp>
#include <cmath>
#include <utility>

#include "kernels/error.h"

namespace attnpaths {

const char* HeadScalingName(HeadScaling s) { return s == HeadScaling::kSqrt ? "sqrt" : "mean"; }

HeadScaling ParseHeadScaling(const std::string& text, const std::string& field) {
  if (text == "sqrt") return HeadScaling::kSqrt;
  if (text == "mean") return HeadScaling::kMean;
  throw Error(ErrorMessage(field, "\"" + text + "\"",
                           "one of sqrt (1/sqrt(H n), theory.md), mean (1/(H sqrt(n)))"));
}

double NetworkShape::LayerScale(int l) const {
  const Eigen::Index H = heads[static_cast<size_t>(l - 1)];
  const Eigen::Index n = widths[static_cast<size_t>(l - 1)];
  if (head_scaling == HeadScaling::kSqrt) return 1.0 / std::sqrt(static_cast<double>(H * n));
  return 1.0 / (static_cast<double>(H) * std::sqrt(static_cast<double>(n)));
}

void NetworkShape::Validate() const {
  Require(N0 >= 1, "network.N0", N0, "a value >= 1 (features per token)");
  Require(n_tok >= 1, "network.n_tok", n_tok, "a value >= 1 (tokens per sequence)");
  Require(!heads.empty(), "network.heads", "nothing", "at least one layer (H_1, …, H_L)");
  for (size_t l = 0; l < heads.size(); ++l) {
    Require(heads[l] >= 1, "network.heads[" + std::to_string(l) + "]", heads[l],
            "a value >= 1 (heads in layer " + std::to_string(l + 1) + ")");
  }
  Require(widths.size() == heads.size() + 1, "network.widths count", widths.size(),
          std::to_string(heads.size() + 1) + " (n_1, …, n_L, n_{L+1})");
  for (size_t l = 0; l < widths.size(); ++l) {
    Require(widths[l] >= 1, "network.widths[" + std::to_string(l) + "]", widths[l], "a value >= 1");
  }
  Require(key_dim >= 1, "network.key_dim", key_dim, "a value >= 1 (d of Q, K)");
  Require(outputs >= 1, "network.outputs", outputs, "a value >= 1 (columns of the readout a)");
}

HeadMask AllHeads(const NetworkShape& shape) {
  HeadMask mask;
  for (Eigen::Index H : shape.heads) mask.emplace_back(static_cast<size_t>(H), true);
  return mask;
}

void ValidateHeadMask(const HeadMask& mask, const NetworkShape& shape) {
  if (mask.empty()) return;
  Require(mask.size() == shape.heads.size(), "head mask layers", mask.size(),
          std::to_string(shape.heads.size()) + " (one entry per layer)");
  for (size_t l = 0; l < mask.size(); ++l) {
    Require(static_cast<Eigen::Index>(mask[l].size()) == shape.heads[l],
            "head mask layer " + std::to_string(l + 1) + " heads", mask[l].size(),
            std::to_string(shape.heads[l]));
  }
}

ParameterLayout::ParameterLayout(const NetworkShape& shape)
    : heads_(shape.heads), has_qk_(shape.head_weights == HeadWeights::kQK) {
  Eigen::Index offset = 0;
  auto take = [&](Eigen::Index rows, Eigen::Index cols) {
    Block b{offset, rows, cols};
    offset += rows * cols;
    return b;
  };
  V0_ = take(shape.widths[0], shape.N0);
  for (int l = 1; l <= shape.L(); ++l) {
    first_.push_back(V_.size());
    for (Eigen::Index h = 0; h < shape.heads[static_cast<size_t>(l - 1)]; ++h) {
      V_.push_back(
          take(shape.widths[static_cast<size_t>(l)], shape.widths[static_cast<size_t>(l - 1)]));
      if (!has_qk_) continue;
      Q_.push_back(take(shape.key_dim, shape.N0));
      K_.push_back(take(shape.key_dim, shape.N0));
    }
  }
  a_ = take(shape.widths.back(), shape.outputs);
  size_ = offset;
}

size_t ParameterLayout::Index(int l, Eigen::Index h) const {
  Require(l >= 1 && l <= static_cast<int>(heads_.size()), "layer", l,
          "1 … " + std::to_string(heads_.size()));
  Require(h >= 0 && h < heads_[static_cast<size_t>(l - 1)], "head", h,
          "0 … " + std::to_string(heads_[static_cast<size_t>(l - 1)] - 1));
  return first_[static_cast<size_t>(l - 1)] + static_cast<size_t>(h);
}

size_t ParameterLayout::QKIndex(int l, Eigen::Index h) const {
  Require(has_qk_, "network heads", "fixed heads (no Q, K weights)", "QK-form heads");
  return Index(l, h);
}

Network::Network(NetworkShape shape) : shape_(std::move(shape)) {
  shape_.Validate();
  layout_ = ParameterLayout(shape_);
  theta_ = Eigen::VectorXd::Zero(layout_.size());
}

void InitializeNetwork(double value_std, double attention_std, std::uint64_t seed, Network* net) {
  Require(std::isfinite(value_std) && value_std >= 0, "value_init_std", value_std,
          "a finite value >= 0");
  Require(std::isfinite(attention_std) && attention_std >= 0, "attention_init_std", attention_std,
          "a finite value >= 0");
  boost::random::mt19937 engine(static_cast<std::uint32_t>(seed ^ (seed >> 32)));
  boost::random::normal_distribution<double> normal;
  auto fill = [&](Eigen::Map<Eigen::MatrixXd> m, double sd) {
    for (Eigen::Index j = 0; j < m.cols(); ++j) {
      for (Eigen::Index i = 0; i < m.rows(); ++i) m(i, j) = sd * normal(engine);
    }
  };
  const NetworkShape& s = net->shape();
  fill(net->V0(), value_std);
  for (int l = 1; l <= s.L(); ++l) {
    for (Eigen::Index h = 0; h < s.heads[static_cast<size_t>(l - 1)]; ++h) {
      fill(net->V(l, h), value_std);
      if (!net->layout().has_qk()) continue;
      fill(net->Q(l, h), attention_std);
      fill(net->K(l, h), attention_std);
    }
  }
  fill(net->a(), value_std);
}

std::string TrainedHeadName(int l, Eigen::Index h) {
  return "L" + std::to_string(l) + "H" + std::to_string(h + 1);
}

Architecture FrozenHeadArchitecture(const Network& net, double N, const HeadMask& mask) {
  const NetworkShape& s = net.shape();
  Require(s.head_weights == HeadWeights::kQK, "network heads", "fixed heads",
          "QK-form heads (trained Q, K)");
  Require(s.head_scaling == HeadScaling::kSqrt, "network.head_scaling",
          HeadScalingName(s.head_scaling), "sqrt (the theory's 1/sqrt(H n))");
  ValidateHeadMask(mask, s);
  Architecture arch;
  arch.readout = s.readout;
  for (int l = 1; l <= s.L(); ++l) {
    std::vector<HeadSpec> layer;
    for (Eigen::Index h = 0; h < s.heads[static_cast<size_t>(l - 1)]; ++h) {
      if (!mask.empty() && !mask[static_cast<size_t>(l - 1)][static_cast<size_t>(h)]) continue;
      HeadSpec head;
      head.name = TrainedHeadName(l, h);
      head.kind = HeadKind::kQKForm;
      head.beta = 1.0;
      head.Q = net.Q(l, h);
      head.K = net.K(l, h);
      layer.push_back(std::move(head));
    }
    Require(!layer.empty(), "head mask layer " + std::to_string(l), "every head removed",
            "at least one head per layer");
    arch.layers.push_back(std::move(layer));
  }
  arch.SetUniform(N, 1.0);
  return arch;
}

NetworkShape FixedHeadShape(const Architecture& arch, Eigen::Index N0, Eigen::Index n_tok,
                            Eigen::Index outputs) {
  arch.ValidateHyperparameters();
  NetworkShape s;
  s.N0 = N0;
  s.n_tok = n_tok;
  s.heads = arch.heads_per_layer();
  for (size_t l = 0; l < arch.widths.size(); ++l) {
    const double n = arch.widths[l];
    Require(n >= 1 && n == std::floor(n) && n <= 1e9,
            "architecture.widths[" + std::to_string(l) + "]", n,
            "an integer >= 1 (the finite network has whole units)");
    s.widths.push_back(static_cast<Eigen::Index>(n));
  }
  s.readout = arch.readout;
  s.head_weights = HeadWeights::kFixed;
  s.outputs = outputs;
  s.Validate();
  return s;
}

}  // namespace attnpaths
