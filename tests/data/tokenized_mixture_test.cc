// The tokenised mixture (data/tokenized_mixture.h): every token decomposed
// into its mean and noise — the query token, μ_y on relevant tokens, one ν_j
// elsewhere; the relevant fraction, the label balance and the noise variance
// against their Monte-Carlo errors; reproducibility and bad options.
#include "data/tokenized_mixture.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "kernels/error.h"

namespace attnpaths {
namespace {

TEST(TokenizedMixture, TokensAreTheirMeansPlusNoise) {
  TokenizedMixtureOptions o;
  o.examples = 2000;
  o.tokens = 6;
  o.features = 9;
  o.irrelevant_means = 4;
  o.relevant_fraction = 0.3;
  o.signal = 50;  // means far above the noise: each token's mean is its largest coordinate
  o.noise = 1.0;
  o.seed = 3;
  const TokenizedMixture d = GenerateTokenizedMixture(o);
  ASSERT_EQ(d.x.P(), 2000);
  ASSERT_EQ(d.x.n_tok(), 6);
  ASSERT_EQ(d.x.N0(), 9);
  const Eigen::Index q = 2 + o.irrelevant_means;  // the query direction
  double relevant = 0, positives = 0, noise_sum = 0, noise_sq = 0, noise_count = 0;
  for (Eigen::Index mu = 0; mu < d.x.P(); ++mu) {
    const auto x = d.x.example(mu);  // N0 × n_tok
    ASSERT_TRUE(d.y(mu) == 1 || d.y(mu) == -1);
    positives += d.y(mu) > 0;
    Eigen::VectorXd query = Eigen::VectorXd::Zero(9);
    query(q) = o.signal;
    ASSERT_EQ(x.col(0), query);
    EXPECT_EQ(d.relevant(mu, 0), 0);
    int any = 0;
    for (Eigen::Index t = 1; t < 6; ++t) {
      Eigen::Index top;
      x.col(t).maxCoeff(&top);
      if (d.relevant(mu, t)) {
        EXPECT_EQ(top, d.y(mu) > 0 ? 0 : 1);
        ++any;
      } else {
        EXPECT_GE(top, 2);
        EXPECT_LT(top, q);
      }
      EXPECT_LT(std::abs(x(q, t)), 8);  // pure noise on the query direction
      Eigen::VectorXd z = x.col(t);
      z(top) -= o.signal;
      noise_sum += z.sum();
      noise_sq += z.squaredNorm();
      noise_count += static_cast<double>(z.size());
    }
    EXPECT_GE(any, 1);
    relevant += any;
  }
  // Relevant tokens: 5 ζ per sequence plus the forced one when none was drawn
  // (probability (1 − ζ)^5); binomial error over 10000 tokens.
  const double p_none = std::pow(0.7, 5);
  const double expected = 2000 * (5 * 0.3 + p_none);
  EXPECT_NEAR(relevant, expected,
              4 * std::sqrt(2000 * 5 * 0.3 * 0.7) + 4 * std::sqrt(2000 * p_none));
  EXPECT_NEAR(positives, 1000, 4 * std::sqrt(2000 * 0.25));
  EXPECT_NEAR(noise_sum / noise_count, 0, 4 / std::sqrt(noise_count));
  EXPECT_NEAR(noise_sq / noise_count, 1, 4 * std::sqrt(2 / noise_count));
}

TEST(TokenizedMixture, ReproducibleFromTheSeed) {
  TokenizedMixtureOptions o;
  o.examples = 10;
  const TokenizedMixture a = GenerateTokenizedMixture(o), b = GenerateTokenizedMixture(o);
  const auto same = [](const Inputs& u, const Inputs& v) {
    return u.values().size() == v.values().size() &&
           std::equal(u.values().begin(), u.values().end(), v.values().begin());
  };
  EXPECT_TRUE(same(a.x, b.x));
  EXPECT_EQ(a.y, b.y);
  o.seed = 2;
  EXPECT_FALSE(same(GenerateTokenizedMixture(o).x, a.x));
}

TEST(TokenizedMixture, BadOptionsNameTheField) {
  TokenizedMixtureOptions o;
  o.features = 5;
  try {
    GenerateTokenizedMixture(o);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("mixture.features: found 5, expected a value >= "
                                         "irrelevant_means + 3 = 7"),
              std::string::npos)
        << e.what();
  }
  o = {};
  o.relevant_fraction = 0;
  EXPECT_THROW(o.Validate(), Error);
  o = {};
  o.tokens = 1;
  EXPECT_THROW(o.Validate(), Error);
}

}  // namespace
}  // namespace attnpaths
