// The tokenised mixture model of the multi-head gradient-descent study
// (docs/attention-hessian.md, Part E; after Deora, Ghaderi, Taheri,
// Thrampoulidis, TMLR 2024): a label y = ±1 and a sequence of n_tok tokens
// in R^{N0} whose first token is a fixed query token and whose other tokens
// are, each independently, "relevant" (the label's mean μ_y plus noise) with
// probability relevant_fraction or "irrelevant" (one of M label-free means
// ν_j plus noise). Only attention that finds the relevant tokens classifies.
//
//   attnpaths::TokenizedMixtureOptions o;   // n_tok 8, N0 16, ζ = 0.25, M = 4, S = 3, noise 1
//   o.examples = 256;
//   attnpaths::TokenizedMixture d = attnpaths::GenerateTokenizedMixture(o);
//   d.x;                                    // Inputs, P × n_tok × N0
//   d.y;                                    // P labels ±1
//
// Means: orthogonal, length `signal` — μ_+ = S e_0, μ_− = S e_1, ν_j = S e_{2+j},
// the query token S e_{2+M} (noise-free), so N0 ≥ M + 3. Noise: N(0, noise² I)
// on every non-query token. Every non-query token is relevant independently
// with probability ζ, and at least one token per sequence is relevant (token
// 1 is forced relevant when none was drawn), so the Bayes-optimal classifier
// errs only through noise. Labels: balanced in expectation (fair coin).
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <string>

#include "kernels/inputs.h"

namespace attnpaths {

struct TokenizedMixtureOptions {
  Eigen::Index examples = 256;        // P
  Eigen::Index tokens = 8;            // n_tok (the query token and n_tok − 1 others)
  Eigen::Index features = 16;         // N0 (≥ irrelevant_means + 3)
  double relevant_fraction = 0.25;    // ζ ∈ (0, 1]
  Eigen::Index irrelevant_means = 4;  // M ≥ 0
  double signal = 3.0;                // S = ‖μ_±‖ = ‖ν_j‖
  double noise = 1.0;                 // per-coordinate noise std (≥ 0)
  std::uint64_t seed = 1;             // Boost.Random mt19937
  // Throws Error naming `prefix`.field ("mixture.tokens: found 1, expected …").
  void Validate(const std::string& prefix = "mixture") const;
};

struct TokenizedMixture {
  Inputs x;                  // P × n_tok × N0
  Eigen::VectorXd y;         // ±1
  Eigen::MatrixXi relevant;  // P × n_tok, 1 where a token carries μ_y (column 0: query, 0)
};

TokenizedMixture GenerateTokenizedMixture(const TokenizedMixtureOptions& options);

}  // namespace attnpaths
