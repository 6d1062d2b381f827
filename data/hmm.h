// The hidden-Markov-chain task of the paper and its built-in heads (theory.md §8).
//
//   attnpaths::HmmTaskOptions task;                  // P = 100, 30 chain tokens, N_f = 200
//   attnpaths::Dataset train = attnpaths::GenerateHmmTask(task);
//   task.P = 1000; task.seed = 59;
//   attnpaths::Dataset test = attnpaths::GenerateHmmTask(task);
//   attnpaths::Architecture arch = attnpaths::HmmArchitecture(HmmVariant::kFourPaths, task);
//   arch.SetUniform(/*N=*/100);
//
// Sequences: a beginning-of-sequence (BOS) token with zero features, then T
// chain tokens; features (N_f) are stacked over a one-hot position code of size
// T+1, so N0 = N_f + T + 1 and n_tok = T + 1. The first ⌈P/2⌉ examples are
// class +1, the rest class −1.
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <memory>
#include <string>

#include "kernels/architecture.h"
#include "kernels/example_source.h"
#include "kernels/inputs.h"

namespace attnpaths {

struct Dataset {
  Inputs x;           // P × n_tok × N0
  Eigen::MatrixXd y;  // P × D
};

struct HmmTaskOptions {
  Eigen::Index P = 100;            // examples; the first ⌈P/2⌉ are class +1
  Eigen::Index chain_tokens = 30;  // T chain tokens after the BOS token
  Eigen::Index N_f = 200;          // feature dimension (even)
  double stay_plus = 0.7;          // class +1 stays in its hidden state with this probability
  double stay_minus = 0.3;         // class −1 stays with this probability
  double noise_sum = 1.0;          // noise std along (v₊+v₋)/|v₊+v₋|
  double noise_difference = 1.0;   // noise std along (v₊−v₋)/|v₊−v₋|
  double noise_orthogonal = 1.0;   // noise std in the orthogonal complement (per direction)
  std::uint64_t seed = 27;         // Boost.Random mt19937_64 seed (the reference's train seed)

  // Every parameter, and P·n_tok·N0 within the generator limit
  // (data/size_limit.h) for a set built at once (GenerateHmmTask).
  void Validate() const;
  // Every parameter but the size (HmmExamples makes blocks on the fly).
  void ValidateParameters() const;
};

// Seed-reproducible dataset (Boost.Random, identical across compilers).
Dataset GenerateHmmTask(const HmmTaskOptions& options);

// The same examples and labels as GenerateHmmTask(options), generated block by
// block on the fly (one random stream: reading forward continues it, reading
// backwards replays it from the seed), so a data set of any P streams through
// StreamPathInputs / AccumulateGram in bounded memory.
//
//   attnpaths::HmmTaskOptions task;
//   task.P = 1000000;
//   attnpaths::HmmExamples source(task);
//   attnpaths::Gram g = attnpaths::AccumulateGram(arch, source, Split::kTrain);
class HmmExamples : public ExampleSource {
 public:
  explicit HmmExamples(const HmmTaskOptions& options);  // validates the options
  ~HmmExamples() override;

  Eigen::Index P() const override { return options_.P; }
  Eigen::Index n_tok() const override { return options_.chain_tokens + 1; }
  Eigen::Index N0() const override { return options_.N_f + options_.chain_tokens + 1; }
  Eigen::Index D() const override { return 1; }
  std::string name() const override;
  void Read(Eigen::Index begin, Eigen::Index end, ExampleBlock* block) override;

 private:
  struct Stream;
  HmmTaskOptions options_;
  std::unique_ptr<Stream> stream_;
};

// The label of example μ of a generated set: +1 for the first ⌈P/2⌉, −1 after.
double HmmLabel(const HmmTaskOptions& options, Eigen::Index mu);

// v₊ = √2·(1,…,1,0,…,0) and v₋ = √2·(0,…,0,1,…,1) in R^{N_f}.
Eigen::VectorXd HmmStateVector(Eigen::Index N_f, int state);

enum class HmmHeadKind { kSameToken, kDifferentToken, kUniform, kBlank };
HmmHeadKind ParseHmmHeadKind(const std::string& text, const std::string& field);
const char* HmmHeadKindName(HmmHeadKind kind);

struct HmmHeadOptions {
  double beta = 10.0;         // multiplies W₀ and the perturbation (theory.md §8)
  int shift = -1;             // same/different token: key = query + shift
  double bos_strength = 1.5;  // same/different token: BOS row weight from every non-BOS query
  // Gaussian perturbation strengths: std p/N_f on the feature block, p on the
  // position block, p/√N_f on the two off-diagonal blocks.
  double perturbation_features = 0.0;
  double perturbation_positions = 0.0;
  double perturbation_cross = 0.0;
  std::uint64_t seed = 1;  // seed of the perturbation

  void SetPerturbation(double p) {
    perturbation_features = perturbation_positions = perturbation_cross = p;
  }
};

// The W-form head (kind kWForm, beta set) of the given kind for N_f features
// and T chain tokens: W = W₀ + noise, score = beta · x_sᵀ W x_t.
HeadSpec MakeHmmHead(HmmHeadKind kind, Eigen::Index N_f, Eigen::Index chain_tokens,
                     const HmmHeadOptions& options, const std::string& name = "");

enum class HmmVariant {
  kFourPaths,         // layer 1 {same_token, blank p=1}, layer 2 {uniform, blank p=1}
  kGoodPath,          // layer 1 {same_token}, layer 2 {uniform}
  kGoodAndDenoising,  // layer 1 {same_token, blank p=1}, layer 2 {uniform}
};

// The paper's Markov-task architectures, β = 10, last-token readout; widths
// and variances are set to 1 (call SetUniform for N). Blank heads use seeds
// 147 (layer 1) and 247 (layer 2).
Architecture HmmArchitecture(HmmVariant variant, const HmmTaskOptions& task);

}  // namespace attnpaths
