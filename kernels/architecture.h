// Architecture — L attention layers of heads, token readout, widths and
// prior variances (theory.md §1).
//
//   attnpaths::Architecture arch;
//   arch.layers = {{same_token, blank}, {uniform, blank2}};   // H = (2, 2)
//   arch.readout = attnpaths::Readout::kLast;
//   arch.widths = {100, 100, 100};          // n_1, …, n_L, n_{L+1} (= N_a)
//   arch.variances = {1, 1, 1, 1};          // σ_0², σ_1², …, σ_L², σ_a²
//   arch.Validate(x.N0(), x.n_tok());
#pragma once

#include <Eigen/Core>
#include <string>
#include <vector>

#include "kernels/head.h"

namespace attnpaths {

// How the last layer's attention matrix becomes a vector over keys (theory.md §1).
enum class Readout { kMean, kFirst, kLast };

const char* ReadoutName(Readout readout);
// Parses "mean", "first", "last"; throws Error naming `field`.
Readout ParseReadout(const std::string& text, const std::string& field);

// ω_s of theory.md §1 from the last layer's Ω (key index first).
Eigen::VectorXd ReadoutVector(const Eigen::Ref<const Eigen::MatrixXd>& omega, Readout readout);

struct Architecture {
  std::vector<std::vector<HeadSpec>> layers;  // layers[ℓ-1] holds the H_ℓ heads of layer ℓ
  Readout readout = Readout::kLast;           // last token, as in the Markov task (theory.md §8)
  std::vector<double> widths;                 // n_1, …, n_{L+1}; size L+1
  std::vector<double> variances;              // σ_0², σ_1², …, σ_L², σ_a²; size L+2

  int L() const { return static_cast<int>(layers.size()); }
  // H_ℓ for ℓ = 1..L (index ℓ-1).
  std::vector<Eigen::Index> heads_per_layer() const;
  // Htot = Π_ℓ H_ℓ.
  Eigen::Index Htot() const;
  // max(n_1, …, n_{L+1}), the scale of the objective (theory.md §8).
  double n_max() const;

  // Sets every width to N and every variance to `variance` (theory.md §8 convention).
  void SetUniform(double N, double variance = 1.0);

  // Throws Error naming the field for: no layer, a layer without heads, wrong
  // count of widths or variances, width < 1, variance <= 0 or not finite, and
  // any head that does not fit inputs of N0 features and n_tok tokens.
  void Validate(Eigen::Index N0, Eigen::Index n_tok) const;
  // The same checks without the heads (widths and variances only).
  void ValidateHyperparameters() const;
};

}  // namespace attnpaths
