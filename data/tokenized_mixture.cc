#include "data/tokenized_mixture.h"

#include <boost/random/bernoulli_distribution.hpp>
#include <boost/random/mersenne_twister.hpp>
#include <boost/random/normal_distribution.hpp>
#include <boost/random/uniform_int_distribution.hpp>
#include <cmath>

#include "kernels/error.h"

namespace attnpaths {

void TokenizedMixtureOptions::Validate(const std::string& prefix) const {
  const std::string p = prefix.empty() ? "" : prefix + ".";
  Require(examples >= 1, p + "examples", examples, "a value >= 1");
  Require(tokens >= 2, p + "tokens", tokens,
          "a value >= 2 (the query token and at least one other)");
  Require(irrelevant_means >= 0, p + "irrelevant_means", irrelevant_means, "a value >= 0");
  Require(features >= irrelevant_means + 3, p + "features", features,
          "a value >= irrelevant_means + 3 = " + ToText(irrelevant_means + 3) +
              " (orthogonal means mu_+, mu_-, nu_1..nu_M and the query token)");
  Require(relevant_fraction > 0 && relevant_fraction <= 1, p + "relevant_fraction",
          relevant_fraction, "a value in (0, 1]");
  Require(irrelevant_means >= 1 || relevant_fraction == 1, p + "irrelevant_means", irrelevant_means,
          "a value >= 1 when relevant_fraction < 1");
  Require(std::isfinite(signal) && signal > 0, p + "signal", signal, "a finite value > 0");
  Require(std::isfinite(noise) && noise >= 0, p + "noise", noise, "a finite value >= 0");
}

TokenizedMixture GenerateTokenizedMixture(const TokenizedMixtureOptions& o) {
  o.Validate();
  boost::random::mt19937 engine(static_cast<std::uint32_t>(o.seed ^ (o.seed >> 32)));
  boost::random::normal_distribution<double> normal(0.0, 1.0);
  boost::random::bernoulli_distribution<double> coin(0.5), relevant(o.relevant_fraction);
  const Eigen::Index M = o.irrelevant_means;
  boost::random::uniform_int_distribution<Eigen::Index> which(0, M > 0 ? M - 1 : 0);
  TokenizedMixture d;
  d.x = Inputs(o.examples, o.tokens, o.features);
  d.y.resize(o.examples);
  d.relevant = Eigen::MatrixXi::Zero(o.examples, o.tokens);
  double* v = d.x.values().data();
  for (Eigen::Index mu = 0; mu < o.examples; ++mu) {
    d.y(mu) = coin(engine) ? 1.0 : -1.0;
    // Which tokens are relevant (at least one).
    bool any = false;
    for (Eigen::Index t = 1; t < o.tokens; ++t) {
      d.relevant(mu, t) = relevant(engine) ? 1 : 0;
      any = any || d.relevant(mu, t);
    }
    if (!any) d.relevant(mu, 1) = 1;
    for (Eigen::Index t = 0; t < o.tokens; ++t) {
      double* token = v + (mu * o.tokens + t) * o.features;
      if (t == 0) {  // the query token, noise-free
        token[2 + M] = o.signal;
        continue;
      }
      for (Eigen::Index i = 0; i < o.features; ++i) token[i] = o.noise * normal(engine);
      if (d.relevant(mu, t)) {
        token[d.y(mu) > 0 ? 0 : 1] += o.signal;
      } else {
        token[2 + which(engine)] += o.signal;
      }
    }
  }
  return d;
}

}  // namespace attnpaths
