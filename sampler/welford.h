// Running means, variances and covariances (Welford's update), the window
// estimates behind metric adaptation (metric.h, adaptation.h).
//
//   attnpaths::VarianceEstimator v(dimension);
//   attnpaths::CovarianceEstimator c(dimension);
//   for (…) { v.Add(x); c.Add(x); }
//   v.Variance();  c.Covariance();          // unbiased (count >= 2)
//   attnpaths::RegularizedVariance(v);     // shrunk towards 1e-3 as Stan documents
#pragma once

#include <Eigen/Core>
#include <algorithm>

namespace attnpaths {

// Running mean and variance per coordinate.
class VarianceEstimator {
 public:
  explicit VarianceEstimator(Eigen::Index dimension)
      : mean_(Eigen::VectorXd::Zero(dimension)), m2_(Eigen::VectorXd::Zero(dimension)) {}
  void Add(const Eigen::Ref<const Eigen::VectorXd>& x) {
    ++count_;
    const Eigen::VectorXd delta = x - mean_;
    mean_ += delta / count_;
    m2_.array() += delta.array() * (x - mean_).array();
  }
  void Reset() {
    count_ = 0;
    mean_.setZero();
    m2_.setZero();
  }
  int count() const { return count_; }
  const Eigen::VectorXd& mean() const { return mean_; }
  // Unbiased sample variance (needs count >= 2).
  Eigen::VectorXd Variance() const { return m2_ / std::max(1, count_ - 1); }

 private:
  Eigen::VectorXd mean_, m2_;
  int count_ = 0;
};

// Running mean and covariance matrix.
class CovarianceEstimator {
 public:
  explicit CovarianceEstimator(Eigen::Index dimension)
      : mean_(Eigen::VectorXd::Zero(dimension)), m2_(Eigen::MatrixXd::Zero(dimension, dimension)) {}
  void Add(const Eigen::Ref<const Eigen::VectorXd>& x) {
    ++count_;
    const Eigen::VectorXd delta = x - mean_;
    mean_ += delta / count_;
    m2_.noalias() += delta * (x - mean_).transpose();
  }
  void Reset() {
    count_ = 0;
    mean_.setZero();
    m2_.setZero();
  }
  int count() const { return count_; }
  const Eigen::VectorXd& mean() const { return mean_; }
  // Unbiased sample covariance (needs count >= 2), symmetrised.
  Eigen::MatrixXd Covariance() const {
    return (m2_ + m2_.transpose()) / (2.0 * std::max(1, count_ - 1));
  }

 private:
  Eigen::VectorXd mean_;
  Eigen::MatrixXd m2_;
  int count_ = 0;
};

// The window's variances shrunk towards 1e-3: (n/(n+5)) var + 1e-3 · 5/(n+5),
// the regularisation Stan documents for its diagonal metric.
inline Eigen::VectorXd RegularizedVariance(const VarianceEstimator& estimator) {
  const double n = estimator.count();
  return (n / (n + 5.0)) * estimator.Variance().array() + 1e-3 * (5.0 / (n + 5.0));
}

// The same for a dense metric, with the off-diagonal entries first shrunk
// towards zero by n/(n + d) (d the dimension):
//   S = (n/(n+d)) Σ + (d/(n+d)) diag(Σ),   then (n/(n+5)) S + 1e-3 · 5/(n+5) I.
// The second step is Stan's dense_e; the first is ours: a window of n ≲ d
// draws has a rank-deficient Σ whose near-zero eigenvalues would freeze the
// sampler in those directions (seen at d = 59 with 25–100 draws per window:
// every transition at the maximum depth), so a short window falls back
// towards the diagonal metric and a long one keeps the full covariance.
inline Eigen::MatrixXd RegularizedCovariance(const CovarianceEstimator& estimator) {
  const double n = estimator.count();
  const double d = static_cast<double>(estimator.mean().size());
  const Eigen::MatrixXd covariance = estimator.Covariance();
  Eigen::MatrixXd S = (n / (n + d)) * covariance;
  S.diagonal() = covariance.diagonal();
  S *= n / (n + 5.0);
  S.diagonal().array() += 1e-3 * (5.0 / (n + 5.0));
  return S;
}

}  // namespace attnpaths
