// Standard errors of the sampled accuracy and generalisation error
// (sampler/estimates.h) against the spread of those statistics over many
// independent replicas of Gaussian Monte Carlo noise: the predicted s.e.
// must match the replicas' standard deviation within the sampling error of a
// standard deviation estimated from R replicas (relative s.e. ≈ 1/√(2(R−1))).
#include "sampler/estimates.h"

#include <gtest/gtest.h>

#include <boost/random/mersenne_twister.hpp>
#include <boost/random/normal_distribution.hpp>
#include <cmath>
#include <cstdio>
#include <vector>

#include "kernels/metrics.h"

namespace attnpaths {
namespace {

struct Spread {
  double mean = 0, sd = 0;
};

Spread Of(const std::vector<double>& v) {
  Spread s;
  for (double x : v) s.mean += x;
  s.mean /= static_cast<double>(v.size());
  for (double x : v) s.sd += (x - s.mean) * (x - s.mean);
  s.sd = std::sqrt(s.sd / static_cast<double>(v.size() - 1));
  return s;
}

// Replicas of f̄ = m + se·z; the s.e. is predicted from one replica's
// estimates (as the sampler does), averaged over replicas.
void CheckAgainstReplicas(int D) {
  const Eigen::Index P = 400;
  const int R = 2000;
  boost::random::mt19937 rng(11 + D);
  boost::random::normal_distribution<double> z;
  Eigen::MatrixXd m(P, D), se(P, D), Y = Eigen::MatrixXd::Zero(P, D);
  Eigen::MatrixXd var(P, D), var_se(P, D);
  for (Eigen::Index mu = 0; mu < P; ++mu) {
    for (int d = 0; d < D; ++d) {
      // Margins of the order of the error, so that many points can flip.
      m(mu, d) = 0.3 * z(rng);
      se(mu, d) = 0.05 + 0.2 * std::abs(z(rng));
      var(mu, d) = 1 + 0.1 * std::abs(z(rng));
      var_se(mu, d) = 0.05;
    }
    if (D == 1) {
      Y(mu, 0) = z(rng) > 0 ? 1 : -1;
    } else {
      Y(mu, static_cast<Eigen::Index>(mu % D)) = 1;
    }
  }
  std::vector<double> acc, gen, acc_se, gen_se;
  for (int r = 0; r < R; ++r) {
    Eigen::MatrixXd f(P, D), v(P, D);
    for (Eigen::Index mu = 0; mu < P; ++mu) {
      for (int d = 0; d < D; ++d) {
        f(mu, d) = m(mu, d) + se(mu, d) * z(rng);
        v(mu, d) = var(mu, d) + var_se(mu, d) * z(rng);
      }
    }
    acc.push_back(Accuracy(f, Y));
    gen.push_back(GeneralizationError(f, v, Y));
    acc_se.push_back(SampledAccuracySe(f, se, Y));
    gen_se.push_back(SampledGeneralizationErrorSe(f, se, var_se, Y));
  }
  const double rel = 1 / std::sqrt(2.0 * (R - 1));  // relative s.e. of a sample sd
  const Spread a = Of(acc), g = Of(gen);
  const double predicted_acc = Of(acc_se).mean, predicted_gen = Of(gen_se).mean;
  // The plug-in estimate (flip probabilities from a noisy f̄) is itself biased
  // by a few per cent; allow that on top of 4 sampling standard errors.
  EXPECT_NEAR(predicted_acc / a.sd, 1.0, 4 * rel + 0.08) << "D = " << D;
  EXPECT_NEAR(predicted_gen / g.sd, 1.0, 4 * rel + 0.03) << "D = " << D;
  std::printf(
      "D = %d: accuracy s.e. predicted %.5f, replicas %.5f; generalisation error s.e. predicted "
      "%.5f, replicas %.5f\n",
      D, predicted_acc, a.sd, predicted_gen, g.sd);
  EXPECT_GT(a.sd, 0.005);  // the test exercises flips at all
}

TEST(SampledStandardErrors, MatchTheSpreadOverReplicasForOneOutput) { CheckAgainstReplicas(1); }
TEST(SampledStandardErrors, MatchTheSpreadOverReplicasForThreeOutputs) { CheckAgainstReplicas(3); }

TEST(SampledStandardErrors, ExactMeansGiveZero) {
  const Eigen::MatrixXd f = Eigen::MatrixXd::Constant(5, 1, 0.5);
  const Eigen::MatrixXd Y = Eigen::MatrixXd::Ones(5, 1);
  const Eigen::MatrixXd zero = Eigen::MatrixXd::Zero(5, 1);
  EXPECT_EQ(SampledAccuracySe(f, zero, Y), 0.0);
  EXPECT_EQ(SampledGeneralizationErrorSe(f, zero, zero, Y), 0.0);
}

TEST(EstimatePredictor, CovarianceOverOutputsIsThePooledSampleCovariance) {
  // Two chains of draws of (f_0, f_1, f_2) at two test points: the D × D
  // covariance per point is the unbiased sample covariance over all draws,
  // written out here with explicit sums.
  boost::random::mt19937 rng(5);
  boost::random::normal_distribution<double> z;
  const Eigen::Index P = 2, D = 3, S = 50;
  std::vector<Eigen::MatrixXd> draws(2, Eigen::MatrixXd(S, 1 + P * D));
  for (auto& c : draws) {
    for (Eigen::Index i = 0; i < S; ++i) {
      c(i, 0) = z(rng);
      const double common = z(rng);
      for (Eigen::Index k = 0; k < P * D; ++k) c(i, 1 + k) = common + 0.5 * z(rng) + k;
    }
  }
  const SampledPredictor f = EstimatePredictor(draws, 1, P, D);
  ASSERT_EQ(f.covariance.rows(), P);
  ASSERT_EQ(f.covariance.cols(), D * D);
  for (Eigen::Index mu = 0; mu < P; ++mu) {
    const Eigen::MatrixXd C = f.Covariance(mu);
    for (Eigen::Index d = 0; d < D; ++d) {
      for (Eigen::Index e = 0; e < D; ++e) {
        double mean_d = 0, mean_e = 0;
        for (const auto& c : draws) {
          for (Eigen::Index i = 0; i < S; ++i) {
            mean_d += c(i, 1 + mu * D + d) / (2.0 * S);
            mean_e += c(i, 1 + mu * D + e) / (2.0 * S);
          }
        }
        double cov = 0;
        for (const auto& c : draws) {
          for (Eigen::Index i = 0; i < S; ++i) {
            cov += (c(i, 1 + mu * D + d) - mean_d) * (c(i, 1 + mu * D + e) - mean_e);
          }
        }
        cov /= 2.0 * S - 1;
        EXPECT_NEAR(C(d, e), cov, 1e-12 * (1 + std::abs(cov))) << mu << d << e;
      }
      EXPECT_DOUBLE_EQ(C(d, d), f.variance(mu, d));
    }
  }
}

}  // namespace
}  // namespace attnpaths
