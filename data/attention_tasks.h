// Inputs and targets for the loss Hessian of one self-attention layer
// (docs/attention-hessian.md, "What the user runs"), tokens as rows.
//
//   attnpaths::AttentionTaskOptions task;          // B = 64, m = 18, D = 16, seed
//   task.kind = attnpaths::AttentionTaskKind::kAddition;
//   attnpaths::AttentionTask t = attnpaths::GenerateAttentionTask(task);
//   t.X[s];                                        // m × D, row i = token i of sequence s
//   t.Y[s];                                        // m × D targets
//
// Addition: sequences "XXXXX+YYYYY=ZZZZZZ" (18 tokens over a vocabulary of
// the ten digits, "+" and "="; two uniform 5-digit numbers and their 6-digit
// sum, zero-padded), the first m of them. X_s row i = E[token_i] + P[i] with
// an embedding E (12 × D) and positions P (18 × D) of independent N(0, 1)
// entries; Y_s row i = the one-hot code of token i+1 in the first 12
// coordinates (the next-token target; the last row is zero). Needs D ≥ 12.
// Gaussian: every entry of X and Y independent N(0, 1).
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <string>
#include <vector>

namespace attnpaths {

enum class AttentionTaskKind { kAddition, kGaussian };
const char* AttentionTaskKindName(AttentionTaskKind kind);  // "addition", "gaussian"
AttentionTaskKind ParseAttentionTaskKind(const std::string& text, const std::string& field);

struct AttentionTaskOptions {
  AttentionTaskKind kind = AttentionTaskKind::kAddition;
  Eigen::Index sequences = 64;  // B
  Eigen::Index tokens = 18;     // m (≤ 18 for addition)
  Eigen::Index features = 16;   // D (≥ 12 for addition)
  std::uint64_t seed = 1;       // Boost.Random mt19937
  // Throws Error naming the field ("hessian.tokens: found 20, expected …").
  void Validate() const;
};

struct AttentionTask {
  std::vector<Eigen::MatrixXd> X, Y;     // B sequences, each m × D
  std::vector<std::vector<int>> tokens;  // addition: the token ids (0-9 digits, 10 "+", 11 "=")
};

AttentionTask GenerateAttentionTask(const AttentionTaskOptions& options);

}  // namespace attnpaths
