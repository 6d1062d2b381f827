// CollapsedPotential — the posterior of the value weights V (V_0 and every
// V_{ℓ,h}) with the readout a integrated out exactly: the first step of the
// theory's derivation (theory.md §3), with D outputs sharing one kernel
// (theory.md §9).
//
//   attnpaths::CollapsedPotential potential(arch, train_xi, Y, /*temperature=*/0.01);
//   Eigen::VectorXd v = Eigen::VectorXd::Random(potential.dimension());   // V / σ
//   Eigen::VectorXd grad;
//   double U = potential.Evaluate(v, &grad);           // −log p(V | data) + const
//   attnpaths::ReadoutPosterior a = potential.Readout(v);
//   Eigen::MatrixXd draw = a.Draw(engine);              // ã | V, n_{L+1} × D
//   attnpaths::ConditionalStatistics c = potential.Conditionals(v, test_xi, engine);
//   c.f_mean;  c.f_variance;  c.U;                     // E[· | V]: Rao–Blackwellised draws
//
// Given V the network is linear in ã = a / σ_a: f_d(x) = φ(x) · ã_d with the
// last layer's features φ(x) = κ z(x) ∈ R^n, n = n_{L+1} (weight_tree.h, κ of
// potential.h), Φ = φ(x^μ) stacked P × n. Prior ã_d ~ N(0, I) and the
// Gaussian likelihood at T give, for every output,
//
//   ã_d | V ~ N(m_d, Σ),   Σ = (I + ΦᵀΦ/T)⁻¹,   m_d = Σ Φᵀ y_d / T,
//
// and the marginal of V is prior(V) × Π_d N(y_d; 0, G) with G = K_V + T I_P,
// K_V = ΦΦᵀ the kernel of the last layer's features, the same for every
// output (theory.md §9). In coordinates v = V / σ,
//
//   U(v) = ½ |v|² + ½ Σ_d y_dᵀ G⁻¹ y_d + (D/2) ln det(G / T)
//
// which is −ln ∫ exp(−U_full(v, ã)) dã − (nD/2) ln 2π, U_full the potential
// of potential.h. The determinant and solve use the P × P matrix G
// (example form, when P ≤ n) or the n × n matrix A = ΦᵀΦ + T I_n (feature
// form, n < P): ln det(G/T) = ln det(A/T), G⁻¹ = (I − Φ A⁻¹ Φᵀ) / T. The
// gradient ∂U/∂Φ = D G⁻¹Φ − α αᵀ Φ (α = G⁻¹ Y, P × D; G⁻¹Φ = Φ A⁻¹) is
// back-propagated through the features bottom-up. One evaluation costs about
// P (Htot N0 n_1 + Σ_ℓ m_ℓ n_ℓ n_{ℓ+1}) multiply–adds three times, plus
// min(P, n)² max(P, n).
#pragma once

#include <Eigen/Cholesky>
#include <Eigen/Core>

#include "kernels/architecture.h"
#include "kernels/path_inputs.h"
#include "sampler/potential.h"
#include "sampler/random.h"
#include "sampler/weight_layout.h"

namespace attnpaths {

// Which matrix the Gaussian integrals factorise.
enum class CollapsedForm {
  kAuto,      // the smaller: examples when P <= n_{L+1}, else features
  kExamples,  // G = ΦΦᵀ + T I_P
  kFeatures,  // A = ΦᵀΦ + T I_n
};

// Whether `form` with P examples and n features uses the example form.
bool UseExampleForm(CollapsedForm form, Eigen::Index P, Eigen::Index n);

// The Gaussian of the readout given the value weights: ã_d | V ~ N(m_d, Σ),
// the same Σ for every output.
class ReadoutPosterior {
 public:
  // Φ: P × n features, Y: P × D labels, T > 0. Throws Error when the
  // factorisation fails (non-finite features).
  ReadoutPosterior(Eigen::MatrixXd Phi, const Eigen::Ref<const Eigen::MatrixXd>& Y,
                   double temperature, CollapsedForm form = CollapsedForm::kAuto);

  bool example_form() const { return example_form_; }
  // m (n × D).
  const Eigen::MatrixXd& mean() const { return mean_; }
  // Σ (n × n), explicitly (tests and small n).
  Eigen::MatrixXd Covariance() const;
  // k independent draws of N(0, Σ), n × k (example form: Matheron's update
  // of a prior draw, z − Φᵀ G⁻¹ (Φ z + √T ε), which costs P n per column).
  Eigen::MatrixXd Noise(RandomEngine& engine, Eigen::Index k) const;
  // One draw of ã (n × D).
  Eigen::MatrixXd Draw(RandomEngine& engine) const;
  // φᵀ Σ φ for every row φ of Phi_star (P* × n).
  Eigen::VectorXd Variance(const Eigen::Ref<const Eigen::MatrixXd>& Phi_star) const;
  // tr(B_i Σ B_jᵀ) for the column blocks B_i = B.middleCols(i n, n), i < B.cols() / n.
  Eigen::MatrixXd SandwichTraces(const Eigen::Ref<const Eigen::MatrixXd>& B) const;

 private:
  bool example_form_ = true;
  double T_ = 0;
  Eigen::MatrixXd Phi_;
  Eigen::LLT<Eigen::MatrixXd> llt_;  // of G (examples) or A (features)
  Eigen::MatrixXd mean_;
};

// What one retained draw of V contributes to the estimates: conditional
// expectations over ã given V (Rao–Blackwellised), and one exact draw of ã.
struct ConditionalStatistics {
  Eigen::MatrixXd f_mean;      // P* × D: E[f_d(x*) | V] = φ(x*) · m_d
  Eigen::VectorXd f_variance;  // P*: Var[f_d(x*) | V] = φ(x*)ᵀ Σ φ(x*), every output
  // E[U^sampled | V] ((Htot D)², theory.md §5, §9): s²/n_1 [ (E_π m_d)·(E_π' m_d')
  // + δ_dd' tr(E_π Σ E_π'ᵀ) ], E_π the top-down product of path π; empty
  // unless asked for.
  Eigen::MatrixXd U;
  Eigen::MatrixXd a;       // one draw of ã | V (n × D)
  Eigen::MatrixXd f_draw;  // P* × D: f(x*) at (V, that draw)
};

// The readout-integrated part of U above: ½ Σ_d y_dᵀ G⁻¹ y_d + (D/2) ln det(G/T)
// with G = ΦΦᵀ + T I_P (example form) or through A = ΦᵀΦ + T I_n (feature
// form); writes ∂/∂Φ = D G⁻¹Φ − α αᵀ Φ into *g_Phi unless null. Returns +∞
// for non-finite features or a factorisation that fails. Shared by
// CollapsedPotential and ReducedPotential (reduced_potential.h).
double CollapsedMarginal(const Eigen::Ref<const Eigen::MatrixXd>& Phi, const Eigen::MatrixXd& Y,
                         double T, bool example_form, Eigen::MatrixXd* g_Phi);

class CollapsedPotential : public Potential {
 public:
  // `train`: path inputs of the training set; Y: P × D labels; T > 0 (apply
  // any floor before). Throws Error naming the field for a non-integer
  // width, shapes that disagree, non-finite labels or T <= 0.
  CollapsedPotential(const Architecture& arch, PathInputs train, Eigen::MatrixXd Y,
                     double temperature, CollapsedForm form = CollapsedForm::kAuto);

  // The value weights: WeightLayout's coordinates before the readout.
  Eigen::Index dimension() const override { return layout_.readout_offset(); }
  double Evaluate(const Eigen::Ref<const Eigen::VectorXd>& v,
                  Eigen::VectorXd* gradient) const override;
  bool standard_normal_prior() const override { return true; }

  const WeightLayout& layout() const { return layout_; }
  double temperature() const { return temperature_; }
  bool example_form() const { return example_form_; }

  // Φ for every example of xi (P' × n_{L+1}), bottom-up.
  Eigen::MatrixXd Features(const Eigen::Ref<const Eigen::VectorXd>& v, const PathInputs& xi) const;
  ReadoutPosterior Readout(const Eigen::Ref<const Eigen::VectorXd>& v) const;
  // The full coordinates (WeightLayout) of V with the readout ã.
  Eigen::VectorXd FullCoordinates(const Eigen::Ref<const Eigen::VectorXd>& v,
                                  const Eigen::Ref<const Eigen::MatrixXd>& a) const;
  // Conditional statistics on the test inputs (which may hold no example);
  // the draw of ã uses `engine`. Costs one top-down pass with n_{L+1}
  // columns (Σ_ℓ m_ℓ n_ℓ n_{ℓ+1} n_{L+1}) and P* Htot N0 n_{L+1} for the test
  // features.
  ConditionalStatistics Conditionals(const Eigen::Ref<const Eigen::VectorXd>& v,
                                     const PathInputs& test, RandomEngine& engine,
                                     bool order_parameter = true) const;

 private:
  WeightLayout layout_;
  PathInputs train_;
  Eigen::MatrixXd X_;  // StackPathInputs(train_)
  Eigen::MatrixXd Y_;
  double temperature_;
  bool example_form_;
  double kappa_;
};

}  // namespace attnpaths
