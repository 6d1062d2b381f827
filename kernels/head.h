// Head specifications and their attention matrices (theory.md §1).
//
//   attnpaths::HeadSpec head;
//   head.kind = attnpaths::HeadKind::kWForm;
//   head.W = Eigen::MatrixXd::Identity(N0, N0);
//   head.beta = 10;                                   // score = beta · x_sᵀ W x_t
//   Eigen::MatrixXd omega = attnpaths::AttentionMatrix(head, x.example(0), 0,
//                                                      attnpaths::Split::kTrain);
//
// Ω_{st} is the weight with which query token t reads key token s: the key
// index comes first and every column sums to one. Attention is computed from
// the input tokens x only, never from hidden activations.
#pragma once

#include <Eigen/Core>
#include <memory>
#include <string>
#include <vector>

namespace attnpaths {

enum class HeadKind {
  kWForm,    // score(s,t) = beta · x_sᵀ W x_t
  kQKForm,   // score(s,t) = beta · (K x_s)·(Q x_t) / √d
  kUniform,  // equal weight on every allowed key, whatever the normalisation
  kBlank,    // all-zero score: uniform under softmax, key 1 under hardmax
  kGiven,    // attention matrices given per example (train and test sets)
  kFixed,    // one matrix Ω for every example, not normalised (signal-propagation.md §II.3)
};

enum class Normalization { kSoftmax, kHardmax };

// Which dataset a per-example attention (kind kGiven) is read from.
enum class Split { kTrain, kTest };

const char* HeadKindName(HeadKind kind);
// Parses "w", "qk", "uniform", "blank", "given", "fixed"; throws Error naming `field`.
HeadKind ParseHeadKind(const std::string& text, const std::string& field);

struct HeadSpec {
  std::string name = "head";  // label used in path labels and reports
  HeadKind kind = HeadKind::kUniform;
  double beta = 1.0;     // inverse softmax temperature multiplying the score
  Eigen::MatrixXd W;     // kWForm: N0 × N0
  Eigen::MatrixXd Q, K;  // kQKForm: d × N0 each
  Normalization normalization = Normalization::kSoftmax;
  bool causal = false;  // keys s <= t only (our extension; default off)
  // kGiven: Ω per example, key index first, columns summing to one.
  std::shared_ptr<const std::vector<Eigen::MatrixXd>> given_train, given_test;
  // kFixed: Ω (n_tok × n_tok, key index first) used for every example of both
  // splits as it is: entries of any sign, columns need not sum to one (an
  // E-SPA head Ω = Aᵀ = Pᵀ D at initialisation, signal-propagation.md §II.3).
  Eigen::MatrixXd fixed;

  // Throws Error naming `field` when the head does not fit inputs of N0
  // features and n_tok tokens.
  void Validate(Eigen::Index N0, Eigen::Index n_tok, const std::string& field) const;
};

// Ω(x) of theory.md §1 for the example `x` (N0 × n_tok). `example` and
// `split` select the given matrix for kind kGiven and are ignored otherwise.
Eigen::MatrixXd AttentionMatrix(const HeadSpec& head, const Eigen::Ref<const Eigen::MatrixXd>& x,
                                Eigen::Index example, Split split);

// Normalises a score matrix (key index first) column by column: softmax or
// hardmax over keys, with the causal mask when asked (theory.md §1).
Eigen::MatrixXd NormalizeScores(const Eigen::Ref<const Eigen::MatrixXd>& scores,
                                Normalization normalization, bool causal);

// The same for one column in place: `column` holds the scores of every key
// for query token `query`; on return it holds that query's attention weights
// (zero on keys s > query under the causal mask). Every path that normalises
// scores (NormalizeScores, the batched path inputs) goes through here.
void NormalizeScoreColumn(Eigen::Ref<Eigen::VectorXd> column, Eigen::Index query,
                          Normalization normalization, bool causal);

}  // namespace attnpaths
