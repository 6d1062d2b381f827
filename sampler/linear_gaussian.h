// Exact draws from the Gaussian posterior of a linear model with a standard
// normal prior: the conditional of one weight block of the network given all
// the others (gibbs.h), whose outputs are linear in that block.
//
//   θ ~ N(0, I_d),   y | θ ~ N(J θ, T I_n)   ⇒   θ | y ~ N(m, Σ),
//   Σ = (I_d + JᵀJ / T)⁻¹,   m = Σ Jᵀ y / T.
//
//   attnpaths::LinearGaussianModel model;
//   model.apply = [&](const auto& u) { return Eigen::VectorXd(J * u); };      // R^d → R^n
//   model.add_transpose = [&](const auto& w, auto out) { out += J.transpose() * w; };
//   model.gram = J * J.transpose();                                           // n × n
//   Eigen::VectorXd theta(d);
//   attnpaths::DrawLinearGaussian(model, y, T, engine, theta);               // in place
//
// DrawLinearGaussian never forms a d × d matrix (Bhattacharya, Chakraborty &
// Mallick 2016, "Fast sampling with Gaussian scale-mixture priors in
// high-dimensional regression", Biometrika 103, Algorithm 2, with Φ = J/√T,
// α = y/√T, D = I): draw u ~ N(0, I_d) and δ ~ N(0, I_n), solve
// (J Jᵀ + T I_n) w = y − J u − √T δ, and return θ = u + Jᵀ w. Then θ is
// exactly N(m, Σ): it costs one J u, one Jᵀ w, d + n normals and a Cholesky
// factorisation of the n × n matrix. DrawGaussianByPrecision is the d × d
// form for blocks smaller than their data (d < n).
#pragma once

#include <Eigen/Core>
#include <functional>

#include "sampler/random.h"

namespace attnpaths {

struct LinearGaussianModel {
  // u ↦ J u (n).
  std::function<Eigen::VectorXd(const Eigen::Ref<const Eigen::VectorXd>&)> apply;
  // out += Jᵀ w (out has d coordinates).
  std::function<void(const Eigen::VectorXd&, Eigen::Ref<Eigen::VectorXd>)> add_transpose;
  Eigen::MatrixXd gram;  // J Jᵀ (n × n)
};

// One exact draw of θ | y written into `theta` (d = theta.size() coordinates;
// no d-sized temporary: the blocks of a wide network are millions of
// coordinates) by the n × n form above; T > 0. Throws Error when J Jᵀ + T I
// is not positive definite (a non-finite Gram).
void DrawLinearGaussian(const LinearGaussianModel& model,
                        const Eigen::Ref<const Eigen::VectorXd>& y, double T, RandomEngine& engine,
                        Eigen::Ref<Eigen::VectorXd> theta);

// Several exact draws sharing one J: column k of the result is a draw of
// θ | y_k (Y: n × k), every column independent (the readout's outputs).
// The d × d form: A = I + JᵀJ / T = R Rᵀ (Cholesky), θ = A⁻¹ Jᵀ y / T + R⁻ᵀ z,
// z ~ N(0, I_d). `JtJ` is JᵀJ (d × d) and `JtY` is Jᵀ Y (d × k).
Eigen::MatrixXd DrawGaussianByPrecision(const Eigen::Ref<const Eigen::MatrixXd>& JtJ,
                                        const Eigen::Ref<const Eigen::MatrixXd>& JtY, double T,
                                        RandomEngine& engine);

}  // namespace attnpaths
