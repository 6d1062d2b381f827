#include "sampler/linear_gaussian.h"

#include <Eigen/Cholesky>
#include <cmath>

#include "kernels/error.h"

namespace attnpaths {

void DrawLinearGaussian(const LinearGaussianModel& model,
                        const Eigen::Ref<const Eigen::VectorXd>& y, double T, RandomEngine& engine,
                        Eigen::Ref<Eigen::VectorXd> theta) {
  const Eigen::Index n = y.size();
  for (Eigen::Index i = 0; i < theta.size(); ++i) theta[i] = StandardNormal(engine);  // u
  Eigen::VectorXd r = y - model.apply(theta);
  const double sqrt_T = std::sqrt(T);
  for (Eigen::Index i = 0; i < n; ++i) r[i] -= sqrt_T * StandardNormal(engine);
  Eigen::MatrixXd G = model.gram;
  G.diagonal().array() += T;
  const Eigen::LLT<Eigen::MatrixXd> llt(G);
  Require(llt.info() == Eigen::Success, "Gibbs block Gram matrix", "not positive definite",
          "J Jᵀ + T I positive definite (finite weights and T > 0)");
  model.add_transpose(llt.solve(r), theta);  // θ = u + Jᵀ w
}

Eigen::MatrixXd DrawGaussianByPrecision(const Eigen::Ref<const Eigen::MatrixXd>& JtJ,
                                        const Eigen::Ref<const Eigen::MatrixXd>& JtY, double T,
                                        RandomEngine& engine) {
  const Eigen::Index d = JtJ.rows(), k = JtY.cols();
  Eigen::MatrixXd A = JtJ / T;
  A.diagonal().array() += 1;
  const Eigen::LLT<Eigen::MatrixXd> llt(A);
  Require(llt.info() == Eigen::Success, "Gibbs readout precision", "not positive definite",
          "I + JᵀJ / T positive definite (finite weights and T > 0)");
  Eigen::MatrixXd z(d, k);
  for (Eigen::Index j = 0; j < k; ++j) {
    for (Eigen::Index i = 0; i < d; ++i) z(i, j) = StandardNormal(engine);
  }
  // A = R Rᵀ with R = L lower: Rᵀ θ_noise = z gives Cov = (R Rᵀ)⁻¹ = A⁻¹.
  Eigen::MatrixXd theta = llt.solve(JtY / T);
  theta += llt.matrixU().solve(z);
  return theta;
}

}  // namespace attnpaths
