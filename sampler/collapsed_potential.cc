#include "sampler/collapsed_potential.h"

#include <cmath>
#include <limits>
#include <string>
#include <utility>

#include "kernels/error.h"
#include "sampler/weight_tree.h"

namespace attnpaths {
namespace {

constexpr double kInfinity = std::numeric_limits<double>::infinity();

// M M ᵀ + T I (lower triangle filled, which is all LLT reads).
Eigen::MatrixXd GramPlusT(const Eigen::Ref<const Eigen::MatrixXd>& M, double T) {
  Eigen::MatrixXd G = Eigen::MatrixXd::Zero(M.rows(), M.rows());
  G.selfadjointView<Eigen::Lower>().rankUpdate(M);
  G.diagonal().array() += T;
  return G;
}

double LogDet(const Eigen::LLT<Eigen::MatrixXd>& llt) {
  return 2 * llt.matrixLLT().diagonal().array().log().sum();
}

// Frobenius inner products of the column blocks of B (block width w):
// out(i, j) = Σ B_i ∘ B_j.
Eigen::MatrixXd BlockFrobenius(const Eigen::Ref<const Eigen::MatrixXd>& B, Eigen::Index w) {
  const Eigen::Index K = w > 0 ? B.cols() / w : 0;
  Eigen::MatrixXd out(K, K);
  for (Eigen::Index i = 0; i < K; ++i) {
    for (Eigen::Index j = i; j < K; ++j) {
      out(i, j) = out(j, i) =
          (B.middleCols(i * w, w).array() * B.middleCols(j * w, w).array()).sum();
    }
  }
  return out;
}

}  // namespace

bool UseExampleForm(CollapsedForm form, Eigen::Index P, Eigen::Index n) {
  switch (form) {
    case CollapsedForm::kExamples:
      return true;
    case CollapsedForm::kFeatures:
      return false;
    case CollapsedForm::kAuto:
      break;
  }
  return P <= n;
}

ReadoutPosterior::ReadoutPosterior(Eigen::MatrixXd Phi, const Eigen::Ref<const Eigen::MatrixXd>& Y,
                                   double temperature, CollapsedForm form)
    : example_form_(UseExampleForm(form, Phi.rows(), Phi.cols())),
      T_(temperature),
      Phi_(std::move(Phi)) {
  Require(Y.rows() == Phi_.rows(), "Y rows", Y.rows(),
          std::to_string(Phi_.rows()) + " (one label row per example)");
  Require(std::isfinite(T_) && T_ > 0, "temperature", T_, "a finite value > 0");
  Require(Phi_.allFinite(), "features", "a non-finite value",
          "finite last-layer features (the value weights overflowed)");
  if (example_form_) {
    // m = Σ Φᵀ y / T = Φᵀ (ΦΦᵀ + T I)⁻¹ y (push-through identity).
    llt_.compute(GramPlusT(Phi_, T_));
    Require(llt_.info() == Eigen::Success, "G = K_V + T I", "not positive definite",
            "a positive definite matrix");
    mean_ = Phi_.transpose() * llt_.solve(Y);
  } else {
    llt_.compute(GramPlusT(Phi_.transpose(), T_));
    Require(llt_.info() == Eigen::Success, "A = ΦᵀΦ + T I", "not positive definite",
            "a positive definite matrix");
    mean_ = llt_.solve(Phi_.transpose() * Y);
  }
}

Eigen::MatrixXd ReadoutPosterior::Covariance() const {
  const Eigen::Index n = Phi_.cols();
  if (example_form_) {
    return Eigen::MatrixXd::Identity(n, n) - Phi_.transpose() * llt_.solve(Phi_);
  }
  return T_ * llt_.solve(Eigen::MatrixXd::Identity(n, n));
}

Eigen::MatrixXd ReadoutPosterior::Noise(RandomEngine& engine, Eigen::Index k) const {
  const Eigen::Index n = Phi_.cols(), P = Phi_.rows();
  Eigen::MatrixXd z(n, k);
  for (Eigen::Index j = 0; j < k; ++j) {
    for (Eigen::Index i = 0; i < n; ++i) z(i, j) = StandardNormal(engine);
  }
  if (!example_form_) {
    // Σ = T A⁻¹ = (√T L⁻ᵀ)(√T L⁻ᵀ)ᵀ with A = L Lᵀ.
    return std::sqrt(T_) * llt_.matrixU().solve(z);
  }
  // Matheron's rule: z ~ N(0, I) prior, ε ~ N(0, T I) likelihood noise;
  // z − Φᵀ G⁻¹ (Φ z + ε) ~ N(0, I − Φᵀ G⁻¹ Φ) = N(0, Σ).
  Eigen::MatrixXd residual = Phi_ * z;
  const double sqrt_T = std::sqrt(T_);
  for (Eigen::Index j = 0; j < k; ++j) {
    for (Eigen::Index i = 0; i < P; ++i) residual(i, j) += sqrt_T * StandardNormal(engine);
  }
  z.noalias() -= Phi_.transpose() * llt_.solve(residual);
  return z;
}

Eigen::MatrixXd ReadoutPosterior::Draw(RandomEngine& engine) const {
  return mean_ + Noise(engine, mean_.cols());
}

Eigen::VectorXd ReadoutPosterior::Variance(
    const Eigen::Ref<const Eigen::MatrixXd>& Phi_star) const {
  if (example_form_) {
    // φᵀ(I − Φᵀ G⁻¹ Φ)φ = |φ|² − |L⁻¹ Φ φ|².
    const Eigen::MatrixXd W = llt_.matrixL().solve(Phi_ * Phi_star.transpose());
    return (Phi_star.rowwise().squaredNorm() - W.colwise().squaredNorm().transpose()).cwiseMax(0.0);
  }
  const Eigen::MatrixXd W = llt_.matrixL().solve(Phi_star.transpose());
  return T_ * W.colwise().squaredNorm().transpose();
}

Eigen::MatrixXd ReadoutPosterior::SandwichTraces(const Eigen::Ref<const Eigen::MatrixXd>& B) const {
  const Eigen::Index n = Phi_.cols(), K = B.cols() / n;
  if (example_form_) {
    // tr(B_i (I − W Wᵀ) B_jᵀ) with W = Φᵀ L⁻ᵀ (n × P).
    const Eigen::MatrixXd W = llt_.matrixL().solve(Phi_).transpose();
    const Eigen::Index P = W.cols();
    Eigen::MatrixXd BW(B.rows(), K * P);
    for (Eigen::Index i = 0; i < K; ++i) {
      BW.middleCols(i * P, P).noalias() = B.middleCols(i * n, n) * W;
    }
    return BlockFrobenius(B, n) - BlockFrobenius(BW, P);
  }
  // tr(B_i R Rᵀ B_jᵀ) with R = √T L⁻ᵀ: B_i R = √T (L⁻¹ B_iᵀ)ᵀ.
  Eigen::MatrixXd BR(B.rows(), K * n);
  for (Eigen::Index i = 0; i < K; ++i) {
    BR.middleCols(i * n, n) =
        std::sqrt(T_) * llt_.matrixL().solve(B.middleCols(i * n, n).transpose()).transpose();
  }
  return BlockFrobenius(BR, n);
}

CollapsedPotential::CollapsedPotential(const Architecture& arch, PathInputs train,
                                       Eigen::MatrixXd Y, double temperature, CollapsedForm form)
    : layout_(arch, train.N0, Y.cols()),
      train_(std::move(train)),
      Y_(std::move(Y)),
      temperature_(temperature) {
  RequirePosteriorData(layout_, train_, Y_, temperature);
  X_ = StackPathInputs(train_);
  example_form_ = UseExampleForm(form, train_.P(), layout_.n(layout_.L() + 1));
  kappa_ = OutputScale(layout_);
}

double CollapsedMarginal(const Eigen::Ref<const Eigen::MatrixXd>& Phi, const Eigen::MatrixXd& Y,
                         double T, bool example_form, Eigen::MatrixXd* g_Phi) {
  if (!Phi.allFinite()) return kInfinity;
  const auto D = static_cast<double>(Y.cols());
  const auto P = static_cast<double>(Phi.rows()), n = static_cast<double>(Phi.cols());
  double value = 0;
  if (example_form) {
    const Eigen::LLT<Eigen::MatrixXd> llt(GramPlusT(Phi, T));
    if (llt.info() != Eigen::Success) return kInfinity;
    const Eigen::MatrixXd alpha = llt.solve(Y);  // G⁻¹ Y
    value += 0.5 * (Y.array() * alpha.array()).sum() + 0.5 * D * (LogDet(llt) - P * std::log(T));
    if (g_Phi != nullptr) *g_Phi = D * llt.solve(Phi) - alpha * (alpha.transpose() * Phi);
  } else {
    const Eigen::LLT<Eigen::MatrixXd> llt(GramPlusT(Phi.transpose(), T));
    if (llt.info() != Eigen::Success) return kInfinity;
    const Eigen::MatrixXd m = llt.solve(Phi.transpose() * Y);  // A⁻¹ Φᵀ Y
    const Eigen::MatrixXd alpha = (Y - Phi * m) / T;           // G⁻¹ Y
    value += 0.5 * (Y.array() * alpha.array()).sum() + 0.5 * D * (LogDet(llt) - n * std::log(T));
    if (g_Phi != nullptr) {
      *g_Phi = D * llt.solve(Phi.transpose()).transpose() - alpha * (alpha.transpose() * Phi);
    }
  }
  return value;
}

double CollapsedPotential::Evaluate(const Eigen::Ref<const Eigen::VectorXd>& v,
                                    Eigen::VectorXd* gradient) const {
  const std::vector<Eigen::MatrixXd> Z = BottomUpFeatures(layout_, v, X_);
  const Eigen::MatrixXd Phi = kappa_ * Z.back();  // P × n
  Eigen::MatrixXd g_Phi;
  const double marginal = CollapsedMarginal(Phi, Y_, temperature_, example_form_,
                                            gradient != nullptr ? &g_Phi : nullptr);
  if (!std::isfinite(marginal)) return kInfinity;
  const double value = 0.5 * v.squaredNorm() + marginal;
  if (gradient == nullptr) return value;
  *gradient = v;
  BottomUpGradient(layout_, v, X_, Z, kappa_ * g_Phi, gradient);
  return value;
}

Eigen::MatrixXd CollapsedPotential::Features(const Eigen::Ref<const Eigen::VectorXd>& v,
                                             const PathInputs& xi) const {
  Require(xi.Htot == layout_.Htot() && xi.N0 == layout_.N0(), "path inputs shape",
          std::to_string(xi.Htot) + " paths x " + std::to_string(xi.N0) + " features",
          std::to_string(layout_.Htot()) + " paths x " + std::to_string(layout_.N0()) +
              " features (as the training set)");
  Require(v.size() == dimension(), "value weights size", v.size(), std::to_string(dimension()));
  return kappa_ * BottomUpFeatures(layout_, v, StackPathInputs(xi)).back();
}

ReadoutPosterior CollapsedPotential::Readout(const Eigen::Ref<const Eigen::VectorXd>& v) const {
  return ReadoutPosterior(Features(v, train_), Y_, temperature_,
                          example_form_ ? CollapsedForm::kExamples : CollapsedForm::kFeatures);
}

Eigen::VectorXd CollapsedPotential::FullCoordinates(
    const Eigen::Ref<const Eigen::VectorXd>& v, const Eigen::Ref<const Eigen::MatrixXd>& a) const {
  Require(v.size() == dimension(), "value weights size", v.size(), std::to_string(dimension()));
  Require(a.size() == layout_.readout_size(), "readout size", a.size(),
          std::to_string(layout_.readout_size()));
  Eigen::VectorXd full(layout_.dimension());
  full.head(dimension()) = v;
  full.tail(layout_.readout_size()) = a.reshaped();
  return full;
}

ConditionalStatistics CollapsedPotential::Conditionals(const Eigen::Ref<const Eigen::VectorXd>& v,
                                                       const PathInputs& test, RandomEngine& engine,
                                                       bool order_parameter) const {
  Require(test.Htot == layout_.Htot() && test.N0 == layout_.N0(), "test path inputs shape",
          std::to_string(test.Htot) + " paths x " + std::to_string(test.N0) + " features",
          std::to_string(layout_.Htot()) + " paths x " + std::to_string(layout_.N0()) +
              " features (as the training set)");
  const Eigen::Index n = layout_.n(layout_.L() + 1), D = layout_.outputs();
  const Eigen::Index Htot = layout_.Htot();
  // The path products E_π (n_1 × n each) and u_π = Ṽ_0ᵀ E_π: φ(x) = κ Σ_π ξ_π(x)ᵀ u_π.
  const std::vector<Eigen::MatrixXd> E = TopDownIdentity(layout_, v);
  const Eigen::MatrixXd u = StackedEffectiveWeights(layout_, v, E[0], n);  // (Htot N0) × n
  const ReadoutPosterior readout(
      kappa_ * (train_.xi * u), Y_, temperature_,
      example_form_ ? CollapsedForm::kExamples : CollapsedForm::kFeatures);
  ConditionalStatistics c;
  c.a = readout.Draw(engine);
  const Eigen::MatrixXd Phi_star = kappa_ * (test.xi * u);  // P* × n
  c.f_mean = Phi_star * readout.mean();
  c.f_variance = readout.Variance(Phi_star);
  c.f_draw = Phi_star * c.a;
  if (!order_parameter) return c;
  // E[ã_d ã_d'ᵀ | V] = δ_dd' Σ + m_d m_d'ᵀ, so
  // E[e_{π,d} · e_{π',d'} | V] = s² [(E_π m_d)·(E_π' m_d') + δ_dd' tr(E_π Σ E_π'ᵀ)].
  Eigen::MatrixXd Em(E[0].rows(), Htot * D);
  for (Eigen::Index p = 0; p < Htot; ++p) {
    Em.middleCols(p * D, D).noalias() = E[0].middleCols(p * n, n) * readout.mean();
  }
  c.U = Em.transpose() * Em;
  const Eigen::MatrixXd tau = readout.SandwichTraces(E[0]);
  for (Eigen::Index p = 0; p < Htot; ++p) {
    for (Eigen::Index r = 0; r < Htot; ++r) {
      for (Eigen::Index d = 0; d < D; ++d) c.U(p * D + d, r * D + d) += tau(p, r);
    }
  }
  const double s = OrderParameterScale(layout_);
  c.U *= s * s / static_cast<double>(layout_.n(1));
  return c;
}

}  // namespace attnpaths
