#include "sampler/reduced_potential.h"

#include <Eigen/QR>
#include <cmath>
#include <limits>
#include <string>
#include <utility>

#include "kernels/error.h"
#include "sampler/weight_tree.h"

namespace attnpaths {
namespace {

constexpr double kInfinity = std::numeric_limits<double>::infinity();

// The layers of the reduction (reduced_potential.h) and the architecture of
// the reduced network (widths c_0 … c_L).
Architecture ReducedArchitecture(const Architecture& arch, Eigen::Index N0,
                                 std::vector<ReducedLayer>* layers) {
  const WeightLayout layout(arch, N0);
  Architecture reduced = arch;
  Eigen::Index offset = 0, c = N0;
  for (int l = 0; l <= layout.L(); ++l) {
    ReducedLayer layer;
    layer.cols = l == 0 ? N0 : layout.H(l) * c;
    layer.width = layout.n(l + 1);
    layer.triangular = layer.width >= layer.cols;
    layer.rows = layer.triangular ? layer.cols : layer.width;
    layer.offset = offset;
    layer.dimension =
        layer.triangular ? layer.cols * (layer.cols + 1) / 2 : layer.rows * layer.cols;
    offset += layer.dimension;
    c = layer.rows;
    reduced.widths[static_cast<size_t>(l)] = static_cast<double>(c);
    layers->push_back(layer);
  }
  return reduced;
}

// B_ℓ (rows × cols) inside the reduced value weights v.
Eigen::Map<Eigen::MatrixXd> LayerBlock(const WeightLayout& reduced, const ReducedLayer& layer,
                                       int l, Eigen::VectorXd& v) {
  double* first = l == 0 ? reduced.V0(v).data() : reduced.V(v, l, 0).data();
  return {first, layer.rows, layer.cols};
}

// A Haar-distributed n × n orthogonal matrix: Q of the QR of a Gaussian
// matrix with the signs that make R's diagonal positive.
Eigen::MatrixXd HaarOrthogonal(Eigen::Index n, RandomEngine& engine) {
  Eigen::MatrixXd G(n, n);
  for (Eigen::Index j = 0; j < n; ++j) {
    for (Eigen::Index i = 0; i < n; ++i) G(i, j) = StandardNormal(engine);
  }
  const Eigen::HouseholderQR<Eigen::MatrixXd> qr(G);
  Eigen::MatrixXd Q = qr.householderQ();
  for (Eigen::Index j = 0; j < n; ++j) {
    if (qr.matrixQR()(j, j) < 0) Q.col(j) *= -1;
  }
  return Q;
}

// Rows of N(0, EᵀE), `rows` of them: Wᵀ E for a rows' worth of N(0, I)
// columns W, without forming W (E = Q R, so Wᵀ E = (Qᵀ W)ᵀ R ~ Z R).
Eigen::MatrixXd GaussianTimes(const Eigen::MatrixXd& E, Eigen::Index rows, RandomEngine& engine) {
  if (rows == 0) return Eigen::MatrixXd(0, E.cols());
  const Eigen::HouseholderQR<Eigen::MatrixXd> qr(E);
  const Eigen::Index r = std::min(E.rows(), E.cols());
  const Eigen::MatrixXd R = qr.matrixQR().topRows(r).triangularView<Eigen::Upper>();
  Eigen::MatrixXd Z(rows, r);
  for (Eigen::Index j = 0; j < r; ++j) {
    for (Eigen::Index i = 0; i < rows; ++i) Z(i, j) = StandardNormal(engine);
  }
  return Z * R;
}

}  // namespace

ReducedPotential::ReducedPotential(const Architecture& arch, PathInputs train, Eigen::MatrixXd Y,
                                   double temperature, CollapsedForm form)
    : layers_(),
      layout_(arch, train.N0, Y.cols()),
      reduced_(ReducedArchitecture(arch, train.N0, &layers_), train.N0, Y.cols()),
      train_(std::move(train)),
      Y_(std::move(Y)),
      temperature_(temperature) {
  RequirePosteriorData(layout_, train_, Y_, temperature);
  X_ = StackPathInputs(train_);
  example_form_ = UseExampleForm(form, train_.P(), layers_.back().rows);
  kappa_ = OutputScale(layout_);
  dimension_ = layers_.back().offset + layers_.back().dimension;
}

Eigen::VectorXd ReducedPotential::ReducedWeights(
    const Eigen::Ref<const Eigen::VectorXd>& theta) const {
  Require(theta.size() == dimension_, "reduced coordinates size", theta.size(),
          std::to_string(dimension_));
  Eigen::VectorXd v = Eigen::VectorXd::Zero(reduced_.dimension());
  for (size_t i = 0; i < layers_.size(); ++i) {
    const ReducedLayer& layer = layers_[i];
    Eigen::Map<Eigen::MatrixXd> B = LayerBlock(reduced_, layer, static_cast<int>(i), v);
    const auto segment = theta.segment(layer.offset, layer.dimension);
    if (layer.triangular) {
      BartlettFactor(layer.cols, layer.width).Unpack(segment, B);
    } else {
      B = segment.reshaped(layer.rows, layer.cols);
    }
  }
  return v;
}

double ReducedPotential::Evaluate(const Eigen::Ref<const Eigen::VectorXd>& theta,
                                  Eigen::VectorXd* gradient) const {
  Eigen::VectorXd v = ReducedWeights(theta);
  const std::vector<Eigen::MatrixXd> Z = BottomUpFeatures(reduced_, v, X_);
  const Eigen::MatrixXd Phi = kappa_ * Z.back();  // Φ_R, P × c_L
  Eigen::MatrixXd g_Phi;
  const double marginal = CollapsedMarginal(Phi, Y_, temperature_, example_form_,
                                            gradient != nullptr ? &g_Phi : nullptr);
  if (!std::isfinite(marginal)) return kInfinity;
  double value = marginal;
  Eigen::VectorXd g_v;
  if (gradient != nullptr) {
    gradient->setZero(dimension_);
    g_v = Eigen::VectorXd::Zero(reduced_.dimension());
    BottomUpGradient(reduced_, v, X_, Z, kappa_ * g_Phi, &g_v);
  }
  for (size_t i = 0; i < layers_.size(); ++i) {
    const ReducedLayer& layer = layers_[i];
    const auto segment = theta.segment(layer.offset, layer.dimension);
    if (!layer.triangular) {
      value += 0.5 * segment.squaredNorm();
      if (gradient != nullptr) {
        gradient->segment(layer.offset, layer.dimension) =
            segment + LayerBlock(reduced_, layer, static_cast<int>(i), g_v).reshaped();
      }
      continue;
    }
    const BartlettFactor law(layer.cols, layer.width);
    if (gradient == nullptr) {
      value += law.Potential(segment);
      continue;
    }
    Eigen::VectorXd g = Eigen::VectorXd::Zero(layer.dimension);
    value += law.Potential(segment, &g);
    law.PullBack(segment, LayerBlock(reduced_, layer, static_cast<int>(i), g_v), g);
    gradient->segment(layer.offset, layer.dimension) = g;
  }
  return value;
}

Eigen::MatrixXd ReducedPotential::Features(const Eigen::Ref<const Eigen::VectorXd>& theta,
                                           const Eigen::MatrixXd& X) const {
  Require(X.cols() == layout_.N0() && X.rows() % layout_.Htot() == 0, "stacked path inputs shape",
          std::to_string(X.rows()) + " x " + std::to_string(X.cols()),
          "(Htot P) x " + std::to_string(layout_.N0()));
  return kappa_ * BottomUpFeatures(reduced_, ReducedWeights(theta), X).back();
}

Eigen::VectorXd ReducedPotential::DrawPrior(RandomEngine& engine) const {
  Eigen::VectorXd theta(dimension_);
  for (const ReducedLayer& layer : layers_) {
    if (layer.triangular) {
      theta.segment(layer.offset, layer.dimension) =
          BartlettFactor(layer.cols, layer.width).Draw(engine);
    } else {
      for (Eigen::Index i = 0; i < layer.dimension; ++i) {
        theta[layer.offset + i] = StandardNormal(engine);
      }
    }
  }
  return theta;
}

Eigen::VectorXd ReducedPotential::Lift(const Eigen::Ref<const Eigen::VectorXd>& theta,
                                       RandomEngine& engine, bool rotate) const {
  Eigen::VectorXd B = ReducedWeights(theta);
  Eigen::VectorXd w = Eigen::VectorXd::Zero(layout_.dimension());
  const int L = layout_.L();
  // Canonical frames Q_ℓ = [I; 0]: Ṽ_0 = [B_0; 0].
  layout_.V0(w).topRows(layers_[0].rows) = reduced_.V0(B);
  for (int l = 1; l <= L; ++l) {
    const Eigen::Index c_below = layers_[static_cast<size_t>(l - 1)].rows;
    const Eigen::Index c_here = layers_[static_cast<size_t>(l)].rows;
    for (Eigen::Index h = 0; h < layout_.H(l); ++h) {
      auto V = layout_.V(w, l, h);  // n_{ℓ+1} × n_ℓ
      V.topLeftCorner(c_here, c_below) = reduced_.V(B, l, h);
      for (Eigen::Index j = c_below; j < V.cols(); ++j) {
        for (Eigen::Index i = 0; i < V.rows(); ++i) V(i, j) = StandardNormal(engine);
      }
    }
  }
  // ã = [ã_R; z]: Φ = [Φ_R, 0] in this frame.
  const ReadoutPosterior readout(
      kappa_ * BottomUpFeatures(reduced_, B, X_).back(), Y_, temperature_,
      example_form_ ? CollapsedForm::kExamples : CollapsedForm::kFeatures);
  auto a = layout_.a(w);
  a.topRows(layers_.back().rows) = readout.Draw(engine);
  for (Eigen::Index j = 0; j < a.cols(); ++j) {
    for (Eigen::Index i = layers_.back().rows; i < a.rows(); ++i) a(i, j) = StandardNormal(engine);
  }
  if (!rotate) return w;
  std::vector<Eigen::MatrixXd> O;  // O[ℓ-1] acts on R^{n_ℓ}, ℓ = 1 … L+1
  for (int l = 1; l <= L + 1; ++l) O.push_back(HaarOrthogonal(layout_.n(l), engine));
  layout_.V0(w) = O[0] * layout_.V0(w);
  for (int l = 1; l <= L; ++l) {
    for (Eigen::Index h = 0; h < layout_.H(l); ++h) {
      layout_.V(w, l, h) = O[static_cast<size_t>(l)] * layout_.V(w, l, h) *
                           O[static_cast<size_t>(l - 1)].transpose();
    }
  }
  layout_.a(w) = O[static_cast<size_t>(L)] * layout_.a(w);
  return w;
}

ConditionalStatistics ReducedPotential::Conditionals(const Eigen::Ref<const Eigen::VectorXd>& theta,
                                                     const Eigen::MatrixXd& X_test,
                                                     RandomEngine& engine,
                                                     bool order_parameter) const {
  const Eigen::VectorXd B = ReducedWeights(theta);
  const ReadoutPosterior readout(
      kappa_ * BottomUpFeatures(reduced_, B, X_).back(), Y_, temperature_,
      example_form_ ? CollapsedForm::kExamples : CollapsedForm::kFeatures);
  ConditionalStatistics c;
  const Eigen::Index D = layout_.outputs(), L = layout_.L();
  const Eigen::Index n_top = layout_.n(static_cast<int>(L) + 1), c_top = layers_.back().rows;
  const Eigen::MatrixXd a_R = readout.Draw(engine);
  if (X_test.rows() > 0) {
    const Eigen::MatrixXd Phi_star = Features(theta, X_test);
    c.f_mean = Phi_star * readout.mean();
    c.f_variance = readout.Variance(Phi_star);
    c.f_draw = Phi_star * a_R;
  } else {
    c.f_mean.resize(0, D);
    c.f_variance.resize(0);
    c.f_draw.resize(0, D);
  }
  c.a.resize(n_top, D);
  c.a.topRows(c_top) = a_R;
  for (Eigen::Index j = 0; j < D; ++j) {
    for (Eigen::Index i = c_top; i < n_top; ++i) c.a(i, j) = StandardNormal(engine);
  }
  if (!order_parameter) return c;
  // Top-down through the canonical lift (theory.md §5): Ṽ_{ℓ,h}ᵀ E =
  // [B_{ℓ,h}ᵀ E_{top c_ℓ rows}; W_hᵀ E], W_h the columns outside the frame.
  Eigen::MatrixXd E = c.a;
  for (int l = static_cast<int>(L); l >= 1; --l) {
    const Eigen::Index c_below = layers_[static_cast<size_t>(l - 1)].rows;
    const Eigen::Index c_here = layers_[static_cast<size_t>(l)].rows;
    const Eigen::Index block = E.cols();
    Eigen::MatrixXd here(layout_.n(l), layout_.H(l) * block);
    for (Eigen::Index h = 0; h < layout_.H(l); ++h) {
      auto out = here.middleCols(h * block, block);
      out.topRows(c_below).noalias() = reduced_.V(B, l, h).transpose() * E.topRows(c_here);
      out.bottomRows(layout_.n(l) - c_below) = GaussianTimes(E, layout_.n(l) - c_below, engine);
    }
    E.swap(here);
  }
  const double s = OrderParameterScale(layout_);
  c.U = (s * s / static_cast<double>(layout_.n(1))) * (E.transpose() * E);
  return c;
}

}  // namespace attnpaths
