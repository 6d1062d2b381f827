// Reproducible random test inputs (Boost.Random, fixed seeds): Gaussian
// matrices, symmetric positive definite matrices, datasets and W-/QK-form heads.
//
//   attnpaths::test_util::Rng rng(42);
//   Eigen::MatrixXd U = attnpaths::test_util::RandomSpd(4, rng);
//   attnpaths::Inputs x = attnpaths::test_util::RandomInputs(12, 5, 6, rng);
#pragma once

#include <Eigen/Core>
#include <boost/random/mersenne_twister.hpp>
#include <boost/random/normal_distribution.hpp>
#include <boost/random/uniform_real_distribution.hpp>
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "kernels/head.h"
#include "kernels/inputs.h"

namespace attnpaths::test_util {

class Rng {
 public:
  explicit Rng(std::uint32_t seed) : engine_(seed) {}
  double Normal() { return normal_(engine_); }
  double Uniform(double a, double b) {
    return boost::random::uniform_real_distribution<double>(a, b)(engine_);
  }

 private:
  boost::random::mt19937 engine_;
  boost::random::normal_distribution<double> normal_;
};

// rows × cols with independent N(0, sd²) entries.
inline Eigen::MatrixXd RandomNormal(Eigen::Index rows, Eigen::Index cols, Rng& rng,
                                    double sd = 1.0) {
  Eigen::MatrixXd m(rows, cols);
  for (Eigen::Index j = 0; j < cols; ++j) {
    for (Eigen::Index i = 0; i < rows; ++i) m(i, j) = sd * rng.Normal();
  }
  return m;
}

// A random symmetric positive definite m × m matrix, `scale` times a matrix
// with eigenvalues of order one (smallest at least `floor`), with sizeable
// off-diagonal entries.
inline Eigen::MatrixXd RandomSpd(Eigen::Index m, Rng& rng, double scale = 1.0, double floor = 0.3) {
  const Eigen::MatrixXd A = RandomNormal(m, m, rng);
  Eigen::MatrixXd S = A * A.transpose() / static_cast<double>(m);
  S.diagonal().array() += floor;
  S = 0.5 * (S + S.transpose());
  return scale * S;
}

// A random symmetric m × m matrix (not necessarily definite).
inline Eigen::MatrixXd RandomSymmetric(Eigen::Index m, Rng& rng) {
  const Eigen::MatrixXd A = RandomNormal(m, m, rng);
  return 0.5 * (A + A.transpose());
}

// P examples of n_tok tokens with N0 standard normal features each.
inline Inputs RandomInputs(Eigen::Index P, Eigen::Index n_tok, Eigen::Index N0, Rng& rng) {
  Inputs x(P, n_tok, N0);
  for (double& v : x.values()) v = rng.Normal();
  return x;
}

// A W-form head with W of entries N(0, 1/N0) (scores of order one).
inline HeadSpec RandomWHead(Eigen::Index N0, Rng& rng,
                            Normalization normalization = Normalization::kSoftmax,
                            bool causal = false, double beta = 1.0, const std::string& name = "w") {
  HeadSpec h;
  h.name = name;
  h.kind = HeadKind::kWForm;
  h.W = RandomNormal(N0, N0, rng, 1.0 / std::sqrt(static_cast<double>(N0)));
  h.beta = beta;
  h.normalization = normalization;
  h.causal = causal;
  return h;
}

// A QK-form head with Q, K ∈ R^{d×N0} of entries N(0, 1/N0).
inline HeadSpec RandomQKHead(Eigen::Index N0, Eigen::Index d, Rng& rng,
                             Normalization normalization = Normalization::kSoftmax,
                             bool causal = false, double beta = 1.0,
                             const std::string& name = "qk") {
  HeadSpec h;
  h.name = name;
  h.kind = HeadKind::kQKForm;
  const double sd = 1.0 / std::sqrt(static_cast<double>(N0));
  h.Q = RandomNormal(d, N0, rng, sd);
  h.K = RandomNormal(d, N0, rng, sd);
  h.beta = beta;
  h.normalization = normalization;
  h.causal = causal;
  return h;
}

// A head of a kind without parameters (uniform or blank).
inline HeadSpec SimpleHead(HeadKind kind, Normalization normalization = Normalization::kSoftmax,
                           bool causal = false, const std::string& name = "simple") {
  HeadSpec h;
  h.name = name;
  h.kind = kind;
  h.normalization = normalization;
  h.causal = causal;
  return h;
}

// A random column-stochastic n × n matrix (each column sums to one).
inline Eigen::MatrixXd RandomStochastic(Eigen::Index n, Rng& rng) {
  Eigen::MatrixXd m(n, n);
  for (Eigen::Index t = 0; t < n; ++t) {
    double z = 0;
    for (Eigen::Index s = 0; s < n; ++s) {
      m(s, t) = rng.Uniform(0.05, 1.0);
      z += m(s, t);
    }
    m.col(t) /= z;
  }
  return m;
}

// A head of kind kGiven with random per-example matrices for both splits.
inline HeadSpec RandomGivenHead(Eigen::Index n_tok, Eigen::Index P_train, Eigen::Index P_test,
                                Rng& rng, const std::string& name = "given") {
  HeadSpec h;
  h.name = name;
  h.kind = HeadKind::kGiven;
  auto train = std::make_shared<std::vector<Eigen::MatrixXd>>();
  auto test = std::make_shared<std::vector<Eigen::MatrixXd>>();
  for (Eigen::Index mu = 0; mu < P_train; ++mu) train->push_back(RandomStochastic(n_tok, rng));
  for (Eigen::Index mu = 0; mu < P_test; ++mu) test->push_back(RandomStochastic(n_tok, rng));
  h.given_train = train;
  h.given_test = test;
  return h;
}

// Labels ±1 (binary tasks) or standard normal, P × D.
inline Eigen::MatrixXd RandomLabels(Eigen::Index P, Eigen::Index D, Rng& rng, bool binary = false) {
  Eigen::MatrixXd y(P, D);
  for (Eigen::Index i = 0; i < P; ++i) {
    for (Eigen::Index d = 0; d < D; ++d) {
      const double z = rng.Normal();
      y(i, d) = binary ? (z >= 0 ? 1.0 : -1.0) : z;
    }
  }
  return y;
}

}  // namespace attnpaths::test_util
