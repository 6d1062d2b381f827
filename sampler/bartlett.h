// BartlettFactor — the law of the triangular factor R in the QR decomposition
// G = Q R of an n × k matrix of independent N(0, 1) entries (n ≥ k, R_ii > 0),
// in the coordinates the reduced sampler moves (reduced_potential.h).
//
//   attnpaths::BartlettFactor law(/*k=*/3, /*n=*/10);
//   Eigen::VectorXd theta = law.Draw(engine);     // k(k+1)/2 coordinates
//   Eigen::MatrixXd R(3, 3);
//   law.Unpack(theta, R);                         // upper triangular, R_ii > 0
//   Eigen::VectorXd grad = Eigen::VectorXd::Zero(law.dimension());
//   double U = law.Potential(theta, &grad);       // −ln p(theta) + const
//
// Bartlett's decomposition: Q is Haar-distributed on the Stiefel manifold and
// independent of R; the entries of R are independent, with
//
//   R_ii² ~ χ²_{n−i}  (i = 0 … k−1, 0-based),    R_ij ~ N(0, 1)  (i < j).
//
// The coordinates θ list the upper triangle column by column (j = 0 … k−1,
// i = 0 … j); an off-diagonal θ is R_ij itself, a diagonal one is the
// standardised logarithm θ_ii = (ln R_ii − s_i) / w_i with s_i = ½ ln ν_i,
// w_i = 1/√(2ν_i), ν_i = n − i, so every coordinate is unconstrained and of
// prior scale about 1 (ln χ_ν has mean ≈ ½ ln ν and variance ≈ 1/(2ν)): the
// sampler's initial unit metric fits all of them, whatever n. The density
// of R_ii = r is ∝ r^{ν−1} e^{−r²/2} and dr = r w dθ, so with
// ρ_i = s_i + w_i θ_ii = ln R_ii
//
//   U(θ) = Σ_{i<j} R_ij² / 2 + Σ_i ( e^{2ρ_i} / 2 − ν_i ρ_i ),
//   ∂U/∂θ_ij = R_ij,   ∂U/∂θ_ii = w_i (e^{2ρ_i} − ν_i).
#pragma once

#include <Eigen/Core>

#include "sampler/random.h"

namespace attnpaths {

class BartlettFactor {
 public:
  // k >= 1 columns of an n × k Gaussian matrix, n >= k (asserted by Require).
  BartlettFactor(Eigen::Index k, Eigen::Index n);

  Eigen::Index k() const { return k_; }
  Eigen::Index n() const { return n_; }
  Eigen::Index dimension() const { return k_ * (k_ + 1) / 2; }
  // Index of R_ij (i <= j) in θ.
  static Eigen::Index Index(Eigen::Index i, Eigen::Index j) { return j * (j + 1) / 2 + i; }
  // ln R_jj from its coordinate θ_jj.
  double LogDiagonal(Eigen::Index j, double theta_jj) const;

  // R (k × k; its strict lower triangle is left untouched) from θ.
  void Unpack(const Eigen::Ref<const Eigen::VectorXd>& theta, Eigen::Ref<Eigen::MatrixXd> R) const;
  // The chain rule through Unpack: adds Σ_ij g_R(i, j) ∂R_ij/∂θ to *gradient
  // (g_R k × k, its strict lower triangle ignored).
  void PullBack(const Eigen::Ref<const Eigen::VectorXd>& theta,
                const Eigen::Ref<const Eigen::MatrixXd>& g_R,
                Eigen::Ref<Eigen::VectorXd> gradient) const;
  // U(θ) above; adds ∇U to *gradient unless null.
  double Potential(const Eigen::Ref<const Eigen::VectorXd>& theta,
                   Eigen::VectorXd* gradient = nullptr) const;
  // One exact draw of θ.
  Eigen::VectorXd Draw(RandomEngine& engine) const;

 private:
  double Shift(Eigen::Index j) const;  // s_j
  double Scale(Eigen::Index j) const;  // w_j

  Eigen::Index k_, n_;
};

}  // namespace attnpaths
