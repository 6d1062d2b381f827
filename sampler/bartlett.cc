#include "sampler/bartlett.h"

#include <boost/random/chi_squared_distribution.hpp>
#include <cmath>
#include <string>

#include "kernels/error.h"

namespace attnpaths {

BartlettFactor::BartlettFactor(Eigen::Index k, Eigen::Index n) : k_(k), n_(n) {
  Require(k >= 1, "Bartlett factor columns", k, "at least 1");
  Require(n >= k, "Bartlett factor rows", n, "at least the " + std::to_string(k) + " columns");
}

double BartlettFactor::Shift(Eigen::Index j) const {
  return 0.5 * std::log(static_cast<double>(n_ - j));
}
double BartlettFactor::Scale(Eigen::Index j) const {
  return 1 / std::sqrt(2 * static_cast<double>(n_ - j));
}
double BartlettFactor::LogDiagonal(Eigen::Index j, double theta_jj) const {
  return Shift(j) + Scale(j) * theta_jj;
}

void BartlettFactor::Unpack(const Eigen::Ref<const Eigen::VectorXd>& theta,
                            Eigen::Ref<Eigen::MatrixXd> R) const {
  for (Eigen::Index j = 0; j < k_; ++j) {
    const double* column = theta.data() + Index(0, j);
    for (Eigen::Index i = 0; i < j; ++i) R(i, j) = column[i];
    R(j, j) = std::exp(LogDiagonal(j, column[j]));
  }
}

void BartlettFactor::PullBack(const Eigen::Ref<const Eigen::VectorXd>& theta,
                              const Eigen::Ref<const Eigen::MatrixXd>& g_R,
                              Eigen::Ref<Eigen::VectorXd> gradient) const {
  for (Eigen::Index j = 0; j < k_; ++j) {
    const Eigen::Index first = Index(0, j);
    for (Eigen::Index i = 0; i < j; ++i) gradient[first + i] += g_R(i, j);
    // R_jj = e^{s + w θ}: ∂R_jj/∂θ = w R_jj.
    gradient[first + j] += g_R(j, j) * Scale(j) * std::exp(LogDiagonal(j, theta[first + j]));
  }
}

double BartlettFactor::Potential(const Eigen::Ref<const Eigen::VectorXd>& theta,
                                 Eigen::VectorXd* gradient) const {
  double value = 0;
  for (Eigen::Index j = 0; j < k_; ++j) {
    const Eigen::Index first = Index(0, j);
    for (Eigen::Index i = 0; i < j; ++i) {
      const double r = theta[first + i];
      value += 0.5 * r * r;
      if (gradient != nullptr) (*gradient)[first + i] += r;
    }
    const double rho = LogDiagonal(j, theta[first + j]), e2 = std::exp(2 * rho);
    const auto nu = static_cast<double>(n_ - j);
    value += 0.5 * e2 - nu * rho;
    if (gradient != nullptr) (*gradient)[first + j] += Scale(j) * (e2 - nu);
  }
  return value;
}

Eigen::VectorXd BartlettFactor::Draw(RandomEngine& engine) const {
  Eigen::VectorXd theta(dimension());
  for (Eigen::Index j = 0; j < k_; ++j) {
    const Eigen::Index first = Index(0, j);
    for (Eigen::Index i = 0; i < j; ++i) theta[first + i] = StandardNormal(engine);
    boost::random::chi_squared_distribution<double> chi2(static_cast<double>(n_ - j));
    theta[first + j] = (0.5 * std::log(chi2(engine)) - Shift(j)) / Scale(j);
  }
  return theta;
}

}  // namespace attnpaths
