#include "sampler/weight_layout.h"

#include <cmath>
#include <string>

#include "kernels/error.h"

namespace attnpaths {

WeightLayout::WeightLayout(const Architecture& arch, Eigen::Index N0, Eigen::Index outputs)
    : N0_(N0), D_(outputs) {
  arch.ValidateHyperparameters();
  Require(N0 >= 1, "N0", N0, "at least 1 feature");
  Require(outputs >= 1, "outputs", outputs, "at least 1 label column");
  H_ = arch.heads_per_layer();
  const int L = arch.L();
  for (int i = 0; i <= L; ++i) {
    const double w = arch.widths[static_cast<size_t>(i)];
    Require(w == std::floor(w) && w <= 1e9, "architecture.widths[" + std::to_string(i) + "]", w,
            "an integer width (the sampler draws a finite network)");
    n_.push_back(static_cast<Eigen::Index>(w));
  }
  for (double v : arch.variances) sigma_.push_back(std::sqrt(v));
  m_.assign(static_cast<size_t>(L + 1), 1);
  for (int l = L; l >= 1; --l) {
    m_[static_cast<size_t>(l - 1)] = m_[static_cast<size_t>(l)] * H_[static_cast<size_t>(l - 1)];
  }
  Eigen::Index offset = n(1) * N0_;
  for (int l = 1; l <= L; ++l) {
    layer_offset_.push_back(offset);
    offset += H(l) * n(l + 1) * n(l);
  }
  a_offset_ = offset;
  dimension_ = offset + n(L + 1) * D_;
}

Eigen::Index WeightLayout::Offset(int l, Eigen::Index h) const {
  return layer_offset_[static_cast<size_t>(l - 1)] + h * n(l + 1) * n(l);
}

Eigen::Map<Eigen::MatrixXd> WeightLayout::V0(Eigen::VectorXd& q) const {
  return {q.data(), n(1), N0_};
}
Eigen::Map<const Eigen::MatrixXd> WeightLayout::V0(
    const Eigen::Ref<const Eigen::VectorXd>& q) const {
  return {q.data(), n(1), N0_};
}
Eigen::Map<Eigen::MatrixXd> WeightLayout::V(Eigen::VectorXd& q, int l, Eigen::Index h) const {
  return {q.data() + Offset(l, h), n(l + 1), n(l)};
}
Eigen::Map<const Eigen::MatrixXd> WeightLayout::V(const Eigen::Ref<const Eigen::VectorXd>& q, int l,
                                                  Eigen::Index h) const {
  return {q.data() + Offset(l, h), n(l + 1), n(l)};
}
Eigen::Map<Eigen::MatrixXd> WeightLayout::a(Eigen::VectorXd& q) const {
  return {q.data() + a_offset_, n(L() + 1), D_};
}
Eigen::Map<const Eigen::MatrixXd> WeightLayout::a(
    const Eigen::Ref<const Eigen::VectorXd>& q) const {
  return {q.data() + a_offset_, n(L() + 1), D_};
}

NetworkWeights WeightLayout::ToWeights(const Eigen::Ref<const Eigen::VectorXd>& q) const {
  Require(q.size() == dimension_, "weights size", q.size(), std::to_string(dimension_));
  NetworkWeights w;
  w.V0 = sigma(0) * V0(q);
  w.V.resize(static_cast<size_t>(L()));
  for (int l = 1; l <= L(); ++l) {
    for (Eigen::Index h = 0; h < H(l); ++h)
      w.V[static_cast<size_t>(l - 1)].push_back(sigma(l) * V(q, l, h));
  }
  w.a = sigma(L() + 1) * a(q);
  return w;
}

Eigen::VectorXd WeightLayout::FromWeights(const NetworkWeights& weights) const {
  auto check = [](const Eigen::MatrixXd& m, Eigen::Index rows, Eigen::Index cols,
                  const std::string& field) {
    Require(m.rows() == rows && m.cols() == cols, field,
            std::to_string(m.rows()) + " x " + std::to_string(m.cols()),
            std::to_string(rows) + " x " + std::to_string(cols));
  };
  Eigen::VectorXd q(dimension_);
  check(weights.V0, n(1), N0_, "weights.V0 shape");
  V0(q) = weights.V0 / sigma(0);
  Require(static_cast<int>(weights.V.size()) == L(), "weights.V layers", weights.V.size(),
          std::to_string(L()));
  for (int l = 1; l <= L(); ++l) {
    const auto& layer = weights.V[static_cast<size_t>(l - 1)];
    Require(static_cast<Eigen::Index>(layer.size()) == H(l),
            "weights.V[" + std::to_string(l) + "] heads", layer.size(), std::to_string(H(l)));
    for (Eigen::Index h = 0; h < H(l); ++h) {
      check(layer[static_cast<size_t>(h)], n(l + 1), n(l),
            "weights.V[" + std::to_string(l) + "][" + std::to_string(h) + "] shape");
      V(q, l, h) = layer[static_cast<size_t>(h)] / sigma(l);
    }
  }
  check(weights.a, n(L() + 1), D_, "weights.a shape");
  a(q) = weights.a / sigma(L() + 1);
  return q;
}

void RequirePosteriorData(const WeightLayout& layout, const PathInputs& train,
                          const Eigen::MatrixXd& Y, double temperature) {
  Require(train.Htot == layout.Htot(), "path inputs Htot", train.Htot,
          std::to_string(layout.Htot()) + " (the architecture's paths)");
  Require(train.xi.cols() == train.Htot * train.N0, "path inputs columns", train.xi.cols(),
          std::to_string(train.Htot * train.N0) + " (Htot * N0)");
  Require(Y.rows() == train.P(), "Y rows", Y.rows(),
          std::to_string(train.P()) + " (one label row per training example)");
  Require(Y.allFinite(), "Y", "a non-finite label", "finite labels");
  Require(std::isfinite(temperature) && temperature > 0, "temperature", temperature,
          "a finite value > 0 (apply the floor T_min before)");
}

}  // namespace attnpaths
