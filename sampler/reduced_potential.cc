#include "sampler/reduced_potential.h"

#include <Eigen/Cholesky>
#include <Eigen/QR>
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <utility>

#include "kernels/error.h"
#include "sampler/weight_tree.h"

namespace attnpaths {
namespace {

constexpr double kInfinity = std::numeric_limits<double>::infinity();

// Y_ℓ Y_ℓᵀ of a data-span layer (m_{ℓ+1} P rows, H_ℓ w columns) is well
// conditioned only when its rows are clearly fewer than its columns (a Wishart
// matrix's smallest eigenvalue ~ (√cols − √rows)²): r_ℓ <= 3/4 of H_ℓ w.
constexpr double kSpanRatio = 0.75;
// The smallest pivot ratio min L_ii / max L_ii at the construction's check.
constexpr double kSpanPivot = 1e-6;

// The bottom-up layers of the reduction (reduced_potential.h): triangular
// where n_{ℓ+1} >= H_ℓ c_{ℓ−1}, wide otherwise.
std::vector<ReducedLayer> BottomUpLayers(const WeightLayout& layout) {
  std::vector<ReducedLayer> layers;
  Eigen::Index c = layout.N0();
  for (int l = 0; l <= layout.L(); ++l) {
    ReducedLayer layer;
    layer.cols = l == 0 ? layout.N0() : layout.H(l) * c;
    layer.width = layout.n(l + 1);
    layer.triangular = layer.width >= layer.cols;
    layer.rows = layer.triangular ? layer.cols : layer.width;
    layer.dimension =
        layer.triangular ? layer.cols * (layer.cols + 1) / 2 : layer.rows * layer.cols;
    c = layer.rows;
    layers.push_back(layer);
  }
  return layers;
}

Eigen::Index TotalDimension(const std::vector<ReducedLayer>& layers) {
  Eigen::Index d = 0;
  for (const ReducedLayer& layer : layers) d += layer.dimension;
  return d;
}

// The plan of the smallest dimension: layers below s bottom-up, layers s … L
// reduced to the span of the training data (reduced_potential.h), for the s
// whose span layers all satisfy r_ℓ <= n_{ℓ+1} and r_ℓ <= kSpanRatio H_ℓ w.
// With `scalar` (D = 1) the top layer and the readout are always reduced to
// the scalar s = |ã|² (reduced_potential.h), and the span layers are s … L−1.
std::vector<ReducedLayer> PlanLayers(const WeightLayout& layout, Eigen::Index P, bool span,
                                     bool scalar) {
  const std::vector<ReducedLayer> bottom = BottomUpLayers(layout);
  const int L = layout.L();
  scalar = scalar && layout.outputs() == 1 && L >= 1;
  std::vector<ReducedLayer> best = bottom;
  for (int s = scalar && !span ? L : 1; (span || scalar) && s <= L; ++s) {
    std::vector<ReducedLayer> plan(bottom.begin(), bottom.begin() + s);
    Eigen::Index w = plan.back().rows;
    bool ok = true;
    for (int l = s; l <= (scalar ? L - 1 : L) && ok; ++l) {
      ReducedLayer layer;
      layer.span = layer.triangular = true;
      layer.rows = layout.m(l + 1) * P;
      layer.cols = layout.H(l) * w;
      layer.width = layout.n(l + 1);
      layer.dimension = layer.rows * (layer.rows + 1) / 2;
      ok = layer.rows <= layer.width &&
           static_cast<double>(layer.rows) <= kSpanRatio * static_cast<double>(layer.cols);
      plan.push_back(layer);
      w = layer.rows;
    }
    if (!ok) continue;
    if (scalar) {
      ReducedLayer top;
      top.scalar = top.triangular = true;
      top.cols = top.rows = layout.H(L) * w;  // Φ_R = κ √s Y_L has H_L w columns
      top.width = layout.n(L + 1);
      top.dimension = 1;
      plan.push_back(top);
    }
    // Every plan of a scalar run ends in the scalar: the first replaces the
    // bottom-up plan, the others compete on their dimension.
    if ((scalar && !best.back().scalar) || TotalDimension(plan) < TotalDimension(best)) {
      best = plan;
    }
  }
  Eigen::Index offset = 0;
  for (ReducedLayer& layer : best) {
    layer.offset = offset;
    offset += layer.dimension;
  }
  return best;
}

// The architecture of the reduced network (widths c_0 … c_L; a span layer's
// width is its rank r_ℓ, and its value-weight blocks stay unused).
Architecture ReducedArchitecture(const Architecture& arch,
                                 const std::vector<ReducedLayer>& layers) {
  Architecture reduced = arch;
  for (size_t l = 0; l < layers.size(); ++l) {
    reduced.widths[l] = static_cast<double>(layers[l].rows);
  }
  return reduced;
}

// Fills an n × k matrix with independent N(0, 1) draws.
Eigen::MatrixXd GaussianMatrix(Eigen::Index n, Eigen::Index k, RandomEngine& engine) {
  Eigen::MatrixXd G(n, k);
  for (Eigen::Index j = 0; j < k; ++j) {
    for (Eigen::Index i = 0; i < n; ++i) G(i, j) = StandardNormal(engine);
  }
  return G;
}

// Y (rows × H w): the H row blocks of `below` (H rows × w) side by side, the
// stacked input of a span layer (reduced_potential.h).
Eigen::MatrixXd StackHeads(const Eigen::MatrixXd& below, Eigen::Index H, Eigen::Index rows) {
  const Eigen::Index w = below.cols();
  Eigen::MatrixXd Y(rows, H * w);
  for (Eigen::Index h = 0; h < H; ++h) Y.middleCols(h * w, w) = below.middleRows(h * rows, rows);
  return Y;
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
                                   double temperature, CollapsedForm form, bool span)
    : layers_(PlanLayers(WeightLayout(arch, train.N0, Y.cols()), train.P(), span, span)),
      layout_(arch, train.N0, Y.cols()),
      reduced_(ReducedArchitecture(arch, layers_), train.N0, Y.cols()),
      train_(std::move(train)),
      Y_(std::move(Y)),
      temperature_(temperature) {
  RequirePosteriorData(layout_, train_, Y_, temperature);
  X_ = StackPathInputs(train_);
  kappa_ = OutputScale(layout_);
  const auto Set = [&] {
    top_scalar_ = layers_.back().scalar;
    last_span_ = top_scalar_ ? layout_.L() - 1 : layout_.L();
    first_span_ = layout_.L() + 1;
    for (int l = layout_.L();
         l >= 1 && (layers_[static_cast<size_t>(l)].span || layers_[static_cast<size_t>(l)].scalar);
         --l) {
      first_span_ = l;
    }
    example_form_ = UseExampleForm(form, train_.P(), layers_.back().rows);
    dimension_ = layers_.back().offset + layers_.back().dimension;
  };
  Set();
  if (first_span_ <= last_span_) {
    // The data must span r_ℓ dimensions at every span layer (no repeated
    // examples, path inputs of full rank): check the pivots of Y_ℓ Y_ℓᵀ at
    // one prior draw; else reduce bottom-up only.
    RandomEngine engine = ChainEngine(0x5a17, 0);
    std::vector<SpanPass> pass;
    const Eigen::VectorXd theta = DrawPrior(engine);
    bool ok = SpanForward(theta, LowerFeatures(ReducedWeights(theta), X_).back(), &pass);
    for (const SpanPass& s : pass) {
      const Eigen::VectorXd d = s.L.diagonal();
      ok = ok && d.minCoeff() > kSpanPivot * d.maxCoeff();
    }
    if (!ok) {
      layers_ = PlanLayers(layout_, train_.P(), false, span);
      reduced_ = WeightLayout(ReducedArchitecture(arch, layers_), train_.N0, Y_.cols());
      Set();
    }
  }
}

Eigen::VectorXd ReducedPotential::ReducedWeights(
    const Eigen::Ref<const Eigen::VectorXd>& theta) const {
  Require(theta.size() == dimension_, "reduced coordinates size", theta.size(),
          std::to_string(dimension_));
  Eigen::VectorXd v = Eigen::VectorXd::Zero(reduced_.dimension());
  for (int l = 0; l < first_span_; ++l) {
    const ReducedLayer& layer = layers_[static_cast<size_t>(l)];
    Eigen::Map<Eigen::MatrixXd> B = LayerBlock(reduced_, layer, l, v);
    const auto segment = theta.segment(layer.offset, layer.dimension);
    if (layer.triangular) {
      BartlettFactor(layer.rows, layer.width).Unpack(segment, B);
    } else {
      B = segment.reshaped(layer.rows, layer.cols);
    }
  }
  return v;
}

std::vector<Eigen::MatrixXd> ReducedPotential::LowerFeatures(const Eigen::VectorXd& v,
                                                             const Eigen::MatrixXd& X) const {
  return BottomUpFeatures(reduced_, v, X, first_span_ - 1);  // the layers below the span
}

void ReducedPotential::LowerGradient(const Eigen::VectorXd& v,
                                     const std::vector<Eigen::MatrixXd>& Z, Eigen::MatrixXd g_here,
                                     Eigen::VectorXd* g_v) const {
  BottomUpGradient(reduced_, v, X_, Z, std::move(g_here), g_v, first_span_ - 1);
}

bool ReducedPotential::SpanForward(const Eigen::Ref<const Eigen::VectorXd>& theta,
                                   const Eigen::MatrixXd& below,
                                   std::vector<SpanPass>* pass) const {
  pass->clear();
  // `input` points into the previous pass: no reallocation while the loop runs.
  pass->reserve(static_cast<size_t>(std::max(0, last_span_ - first_span_ + 1)));
  const Eigen::Index P = train_.P();
  const Eigen::MatrixXd* input = &below;
  for (int l = first_span_; l <= last_span_; ++l) {
    const ReducedLayer& layer = layers_[static_cast<size_t>(l)];
    SpanPass& s = pass->emplace_back();
    s.Y = StackHeads(*input, layout_.H(l), layout_.m(l + 1) * P);  // Y_ℓ (r × H w)
    Eigen::MatrixXd K = Eigen::MatrixXd::Zero(layer.rows, layer.rows);
    K.selfadjointView<Eigen::Lower>().rankUpdate(s.Y);
    const Eigen::LLT<Eigen::MatrixXd> llt(K);
    if (llt.info() != Eigen::Success) return false;
    s.L = llt.matrixL();
    if (!s.L.allFinite() || s.L.diagonal().minCoeff() <= 0) return false;
    s.R = Eigen::MatrixXd::Zero(layer.rows, layer.rows);
    BartlettFactor(layer.rows, layer.width)
        .Unpack(theta.segment(layer.offset, layer.dimension), s.R);
    s.F.noalias() = s.L.triangularView<Eigen::Lower>() * s.R.transpose();  // L_ℓ R_ℓᵀ
    input = &s.F;
  }
  return true;
}

Eigen::MatrixXd ReducedPotential::SpanBasis(const SpanPass& s) const {
  return s.L.triangularView<Eigen::Lower>().solve(s.Y);  // Q_ℓᵀ = L_ℓ⁻¹ Y_ℓ
}

double ReducedPotential::RootS(const Eigen::Ref<const Eigen::VectorXd>& theta) const {
  const ReducedLayer& top = layers_.back();
  return std::exp(BartlettFactor(1, top.width).LogDiagonal(0, theta[top.offset]));
}

Eigen::MatrixXd ReducedPotential::TopInput(const std::vector<Eigen::MatrixXd>& Z,
                                           const std::vector<SpanPass>& pass) const {
  const Eigen::MatrixXd& below = pass.empty() ? Z.back() : pass.back().F;
  if (!top_scalar_) return below;
  return StackHeads(below, layout_.H(layout_.L()), train_.P());  // Y_L
}

Eigen::MatrixXd ReducedPotential::TopFeatures(const Eigen::Ref<const Eigen::VectorXd>& theta,
                                              const Eigen::MatrixXd& top_input) const {
  return (top_scalar_ ? kappa_ * RootS(theta) : kappa_) * top_input;  // Φ_R
}

double ReducedPotential::Evaluate(const Eigen::Ref<const Eigen::VectorXd>& theta,
                                  Eigen::VectorXd* gradient) const {
  const Eigen::VectorXd v = ReducedWeights(theta);
  const std::vector<Eigen::MatrixXd> Z = LowerFeatures(v, X_);
  std::vector<SpanPass> pass;
  if (!SpanForward(theta, Z.back(), &pass)) return kInfinity;
  const Eigen::MatrixXd top_input = TopInput(Z, pass);
  const Eigen::MatrixXd Phi = TopFeatures(theta, top_input);  // Φ_R
  Eigen::MatrixXd g_Phi;
  const double marginal = CollapsedMarginal(Phi, Y_, temperature_, example_form_,
                                            gradient != nullptr ? &g_Phi : nullptr);
  if (!std::isfinite(marginal)) return kInfinity;
  double value = marginal;
  Eigen::VectorXd g_v;
  std::vector<Eigen::MatrixXd> g_R(pass.size() + (top_scalar_ ? 1 : 0));
  if (gradient != nullptr) {
    gradient->setZero(dimension_);
    g_v = Eigen::VectorXd::Zero(reduced_.dimension());
    Eigen::MatrixXd g = kappa_ * g_Phi;  // ∂U/∂F_ℓ, top-down
    if (top_scalar_) {
      // Φ_R = κ √s Y_L: ∂√s = κ ⟨∂Φ, Y_L⟩, ∂Y_L = κ √s ∂Φ, unstacked by head.
      g_R.back() = Eigen::MatrixXd::Constant(1, 1, (g.array() * top_input.array()).sum());
      const Eigen::Index H = layout_.H(layout_.L()), rows = top_input.rows();
      const Eigen::Index w = top_input.cols() / H;
      Eigen::MatrixXd g_below(H * rows, w);
      const double root_s = RootS(theta);
      for (Eigen::Index h = 0; h < H; ++h) {
        g_below.middleRows(h * rows, rows) = root_s * g.middleCols(h * w, w);
      }
      g.swap(g_below);
    }
    for (int l = last_span_; l >= first_span_; --l) {
      const SpanPass& s = pass[static_cast<size_t>(l - first_span_)];
      // F = L Rᵀ: ∂R = gᵀ L (upper triangle), ∂L = g R (lower triangle).
      g_R[static_cast<size_t>(l - first_span_)].noalias() = g.transpose() * s.L;
      Eigen::MatrixXd g_L = g * s.R;
      // Through the Cholesky factor of K = Y Yᵀ: with A = Lᵀ ∂L and Φ(A) its
      // lower triangle with the diagonal halved, ∂K = L⁻ᵀ sym(Φ(A)) L⁻¹, and
      // ∂Y = 2 ∂K Y.
      Eigen::MatrixXd A = s.L.transpose() * g_L.triangularView<Eigen::Lower>();
      A.triangularView<Eigen::StrictlyUpper>().setZero();
      A.diagonal() *= 0.5;
      const Eigen::MatrixXd S = 0.5 * (A + A.transpose());
      const auto Lt = s.L.triangularView<Eigen::Lower>().transpose();
      const Eigen::MatrixXd X1 = Lt.solve(S);                            // L⁻ᵀ S
      const Eigen::MatrixXd g_K = Lt.solve(X1.transpose()).transpose();  // L⁻ᵀ S L⁻¹
      const Eigen::MatrixXd g_Y = 2 * g_K * s.Y;
      const Eigen::Index H = layout_.H(l), rows = s.Y.rows(), w = s.Y.cols() / H;
      Eigen::MatrixXd g_below(H * rows, w);
      for (Eigen::Index h = 0; h < H; ++h) {
        g_below.middleRows(h * rows, rows) = g_Y.middleCols(h * w, w);
      }
      g.swap(g_below);
    }
    LowerGradient(v, Z, std::move(g), &g_v);
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
    const BartlettFactor law(layer.scalar ? 1 : layer.rows, layer.width);
    if (gradient == nullptr) {
      value += law.Potential(segment);
      continue;
    }
    Eigen::VectorXd g = Eigen::VectorXd::Zero(layer.dimension);
    value += law.Potential(segment, &g);
    if (layer.span || layer.scalar) {
      law.PullBack(segment, g_R[i - static_cast<size_t>(first_span_)], g);
    } else {
      law.PullBack(segment, LayerBlock(reduced_, layer, static_cast<int>(i), g_v), g);
    }
    gradient->segment(layer.offset, layer.dimension) = g;
  }
  return value;
}

Eigen::MatrixXd ReducedPotential::TrainingFeatures(
    const Eigen::Ref<const Eigen::VectorXd>& theta) const {
  const Eigen::VectorXd v = ReducedWeights(theta);
  const std::vector<Eigen::MatrixXd> Z = LowerFeatures(v, X_);
  std::vector<SpanPass> pass;
  Require(SpanForward(theta, Z.back(), &pass), "reduced coordinates", "a singular Y_ℓ Y_ℓᵀ",
          "training data that span every data-span layer");
  return TopFeatures(theta, TopInput(Z, pass));
}

Eigen::MatrixXd ReducedPotential::Features(const Eigen::Ref<const Eigen::VectorXd>& theta,
                                           const Eigen::MatrixXd& X) const {
  Require(X.cols() == layout_.N0() && X.rows() % layout_.Htot() == 0, "stacked path inputs shape",
          std::to_string(X.rows()) + " x " + std::to_string(X.cols()),
          "(Htot P) x " + std::to_string(layout_.N0()));
  Require(first_span_ > layout_.L(), "features of new inputs", "a data-span layer",
          "a network reduced bottom-up only (use Conditionals or TrainingFeatures)");
  return kappa_ * LowerFeatures(ReducedWeights(theta), X).back();
}

Eigen::VectorXd ReducedPotential::DrawPrior(RandomEngine& engine) const {
  Eigen::VectorXd theta(dimension_);
  for (const ReducedLayer& layer : layers_) {
    if (layer.triangular) {
      theta.segment(layer.offset, layer.dimension) =
          BartlettFactor(layer.scalar ? 1 : layer.rows, layer.width).Draw(engine);
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
  for (int l = 1; l < first_span_; ++l) {
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
  // Span layers: [Ṽ_{ℓ,1} … Ṽ_{ℓ,H}] = [R_ℓ; 0] Q_ℓᵀ + W (I − Q_ℓ Q_ℓᵀ), W fresh,
  // Q_ℓ = Y_ℓᵀ L_ℓ⁻ᵀ embedded in the first w coordinates of every head's block.
  std::vector<SpanPass> pass;
  Require(SpanForward(theta, LowerFeatures(B, X_).back(), &pass), "reduced coordinates",
          "a singular Y_ℓ Y_ℓᵀ", "training data that span every data-span layer");
  for (int l = first_span_; l <= last_span_; ++l) {
    const SpanPass& s = pass[static_cast<size_t>(l - first_span_)];
    const Eigen::Index H = layout_.H(l), n_in = layout_.n(l), r = s.R.rows();
    const Eigen::Index w_in = s.Y.cols() / H;
    const Eigen::MatrixXd basis = SpanBasis(s);
    Eigen::MatrixXd Qt = Eigen::MatrixXd::Zero(r, H * n_in);
    for (Eigen::Index h = 0; h < H; ++h) {
      Qt.middleCols(h * n_in, w_in) = basis.middleCols(h * w_in, w_in);
    }
    Eigen::MatrixXd V = GaussianMatrix(layout_.n(l + 1), H * n_in, engine);
    const Eigen::MatrixXd VQ = V * Qt.transpose();
    V.noalias() -= VQ * Qt;
    V.topRows(r).noalias() += s.R * Qt;
    for (Eigen::Index h = 0; h < H; ++h) layout_.V(w, l, h) = V.middleCols(h * n_in, n_in);
  }
  const ReadoutPosterior readout(
      TopFeatures(theta, TopInput(LowerFeatures(B, X_), pass)), Y_, temperature_,
      example_form_ ? CollapsedForm::kExamples : CollapsedForm::kFeatures);
  auto a = layout_.a(w);
  if (top_scalar_) {
    // ã = √s e_1; the first row of [Ṽ_{L,1} … Ṽ_{L,H}] is ũᵀ (ũ_R of the
    // readout posterior in the frame below, N(0, 1) outside it), the other
    // rows are fresh: [Ṽ_{L,h}]ᵀ ã = √s ũ_h.
    const Eigen::Index H = layout_.H(L), w_in = layers_.back().cols / H;
    const Eigen::VectorXd u_R = readout.Draw(engine);
    for (Eigen::Index h = 0; h < H; ++h) {
      auto V = layout_.V(w, L, h);
      V = GaussianMatrix(V.rows(), V.cols(), engine);
      V.row(0).head(w_in) = u_R.segment(h * w_in, w_in).transpose();
    }
    a.setZero();
    a(0, 0) = RootS(theta);
  } else {
    // ã = [ã_R; z]: Φ = [Φ_R, 0] in this frame.
    a.topRows(layers_.back().rows) = readout.Draw(engine);
    for (Eigen::Index j = 0; j < a.cols(); ++j) {
      for (Eigen::Index i = layers_.back().rows; i < a.rows(); ++i) {
        a(i, j) = StandardNormal(engine);
      }
    }
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
  std::vector<SpanPass> pass;
  const std::vector<Eigen::MatrixXd> Z = LowerFeatures(B, X_);
  Require(SpanForward(theta, Z.back(), &pass), "reduced coordinates", "a singular Y_ℓ Y_ℓᵀ",
          "training data that span every data-span layer");
  const double root_s = top_scalar_ ? RootS(theta) : 1.0;
  const ReadoutPosterior readout(
      TopFeatures(theta, TopInput(Z, pass)), Y_, temperature_,
      example_form_ ? CollapsedForm::kExamples : CollapsedForm::kFeatures);
  ConditionalStatistics c;
  const Eigen::Index D = layout_.outputs(), L = layout_.L();
  const Eigen::Index n_top = layout_.n(static_cast<int>(L) + 1), c_top = layers_.back().rows;
  const Eigen::MatrixXd a_R = readout.Draw(engine);
  c.a.resize(n_top, D);
  if (top_scalar_) {
    c.a.setZero();
    c.a(0, 0) = root_s;  // the canonical frame of Lift
  } else {
    c.a.topRows(c_top) = a_R;
    for (Eigen::Index j = 0; j < D; ++j) {
      for (Eigen::Index i = c_top; i < n_top; ++i) c.a(i, j) = StandardNormal(engine);
    }
  }
  std::vector<Eigen::MatrixXd> bases;  // Q_ℓᵀ of every span layer
  for (const SpanPass& s : pass) bases.push_back(SpanBasis(s));
  if (X_test.rows() > 0 && pass.empty() && !top_scalar_) {
    const Eigen::MatrixXd Phi_star = kappa_ * LowerFeatures(B, X_test).back();
    c.f_mean = Phi_star * readout.mean();
    c.f_variance = readout.Variance(Phi_star);
    c.f_draw = Phi_star * a_R;
  } else if (X_test.rows() > 0) {
    // The test rows through the span layers (reduced_potential.h, "Test
    // inputs"): in the frame (Tf, w columns) and outside it (Tc).
    Eigen::MatrixXd Tf = LowerFeatures(B, X_test).back(), Tc(Tf.rows(), 0);
    const Eigen::Index P_test = X_test.rows() / layout_.Htot();
    for (int l = first_span_; l <= last_span_; ++l) {
      const SpanPass& s = pass[static_cast<size_t>(l - first_span_)];
      const Eigen::MatrixXd& Qt = bases[static_cast<size_t>(l - first_span_)];
      const Eigen::Index H = layout_.H(l), rows = layout_.m(l + 1) * P_test, r = s.R.rows();
      const Eigen::MatrixXd Yf = StackHeads(Tf, H, rows), Yc = StackHeads(Tc, H, rows);
      const Eigen::MatrixXd C = Yf * Qt.transpose();   // Y* Q_ℓ
      Eigen::MatrixXd W(rows, Yf.cols() + Yc.cols());  // Y* (I − Q_ℓ Q_ℓᵀ)
      W.leftCols(Yf.cols()) = Yf - C * Qt;
      W.rightCols(Yc.cols()) = Yc;
      Eigen::MatrixXd in = C * s.R.transpose();
      in.noalias() += W * GaussianMatrix(r, W.cols(), engine).transpose();
      const Eigen::Index outside = layout_.n(l + 1) - r, k = W.cols();
      if (l < static_cast<int>(L)) {
        Eigen::MatrixXd comp;
        if (outside >= k) {
          Eigen::MatrixXd Rb = Eigen::MatrixXd::Zero(k, k);
          const BartlettFactor law(k, outside);
          law.Unpack(law.Draw(engine), Rb);
          comp.noalias() = W * Rb.triangularView<Eigen::Upper>().transpose();
        } else {
          comp.noalias() = W * GaussianMatrix(outside, k, engine).transpose();
        }
        Tf.swap(in);
        Tc.swap(comp);
        continue;
      }
      const Eigen::MatrixXd Phi_star = kappa_ * in;
      c.f_mean = Phi_star * readout.mean();
      c.f_variance = readout.Variance(Phi_star) +
                     (kappa_ * kappa_ * static_cast<double>(outside)) * W.rowwise().squaredNorm();
      c.f_draw = Phi_star * a_R;
      if (outside > 0) {
        // κ W W_bᵀ z with z = ã's coordinates outside the frame: given z,
        // W_bᵀ z ~ N(0, |z|² I).
        const Eigen::MatrixXd g = GaussianMatrix(k, D, engine);
        for (Eigen::Index d = 0; d < D; ++d) {
          c.f_draw.col(d) += kappa_ * c.a.col(d).tail(outside).norm() * (W * g.col(d));
        }
      }
    }
    if (top_scalar_) {
      // Φ*_R = κ √s Y*_f; ũ outside the frame is N(0, 1): variance κ² s |Y*_c|².
      const Eigen::Index H = layout_.H(static_cast<int>(L));
      const Eigen::MatrixXd Phi_star = kappa_ * root_s * StackHeads(Tf, H, P_test);
      const Eigen::MatrixXd Yc = StackHeads(Tc, H, P_test);
      c.f_mean = Phi_star * readout.mean();
      c.f_variance = readout.Variance(Phi_star) +
                     (kappa_ * kappa_ * root_s * root_s) * Yc.rowwise().squaredNorm();
      c.f_draw = Phi_star * a_R;
      if (Yc.cols() > 0) c.f_draw += kappa_ * root_s * (Yc * GaussianMatrix(Yc.cols(), D, engine));
    }
  } else {
    c.f_mean.resize(0, D);
    c.f_variance.resize(0);
    c.f_draw.resize(0, D);
  }
  if (!order_parameter) return c;
  // Top-down through the canonical lift (theory.md §5). Span layer ℓ:
  // [Ṽ_{ℓ,1} … Ṽ_{ℓ,H}]ᵀ E = Q_ℓ R_ℓᵀ E_{top r rows} + (I − Q_ℓ Q_ℓᵀ) Wᵀ E, W
  // fresh; bottom-up layer: Ṽ_{ℓ,h}ᵀ E = [B_{ℓ,h}ᵀ E_{top c_ℓ rows}; W_hᵀ E],
  // W_h the columns outside the frame.
  Eigen::MatrixXd E = c.a;
  int top = static_cast<int>(L);
  if (top_scalar_) {
    // e_h = Ṽ_{L,h}ᵀ ã = √s ũ_h: ũ_R in the frame, N(0, 1) outside it.
    const Eigen::Index H = layout_.H(top), n_in = layout_.n(top), w_in = c_top / H;
    E = root_s * GaussianMatrix(n_in, H, engine);
    for (Eigen::Index h = 0; h < H; ++h)
      E.col(h).head(w_in) = root_s * a_R.col(0).segment(h * w_in, w_in);
    --top;
  }
  for (int l = top; l >= 1; --l) {
    const Eigen::Index c_below = layers_[static_cast<size_t>(l - 1)].rows;
    const Eigen::Index c_here = layers_[static_cast<size_t>(l)].rows;
    const Eigen::Index block = E.cols(), H = layout_.H(l), n_in = layout_.n(l);
    Eigen::MatrixXd here(n_in, H * block);
    if (l >= first_span_) {
      const Eigen::MatrixXd& Qt = bases[static_cast<size_t>(l - first_span_)];
      const SpanPass& s = pass[static_cast<size_t>(l - first_span_)];
      const Eigen::MatrixXd T = GaussianTimes(E, H * n_in, engine);  // Wᵀ E
      Eigen::MatrixXd Tf(H * c_below, block);
      for (Eigen::Index h = 0; h < H; ++h) {
        Tf.middleRows(h * c_below, c_below) = T.middleRows(h * n_in, c_below);
      }
      const Eigen::MatrixXd inner = s.R.transpose() * E.topRows(c_here) - Qt * Tf;
      Tf.noalias() += Qt.transpose() * inner;
      for (Eigen::Index h = 0; h < H; ++h) {
        auto out = here.middleCols(h * block, block);
        out = T.middleRows(h * n_in, n_in);
        out.topRows(c_below) = Tf.middleRows(h * c_below, c_below);
      }
    } else {
      for (Eigen::Index h = 0; h < H; ++h) {
        auto out = here.middleCols(h * block, block);
        out.topRows(c_below).noalias() = reduced_.V(B, l, h).transpose() * E.topRows(c_here);
        out.bottomRows(n_in - c_below) = GaussianTimes(E, n_in - c_below, engine);
      }
    }
    E.swap(here);
  }
  const double s = OrderParameterScale(layout_);
  c.U = (s * s / static_cast<double>(layout_.n(1))) * (E.transpose() * E);
  return c;
}

}  // namespace attnpaths
