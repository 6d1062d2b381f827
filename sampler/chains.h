// RunChains — several NUTS chains with warm-up adaptation, in parallel
// threads, each with its own Boost.Random engine seeded from (seed, chain).
//
//   attnpaths::ChainOptions options;            // 4 chains × (1000 warm-up + 1000 draws)
//   options.seed = 42;
//   std::vector<attnpaths::ChainResult> chains = attnpaths::RunChains(
//       potential, options, /*num_quantities=*/k,
//       [&](const attnpaths::Position& x, Eigen::RowVectorXd* out) { *out = … });
//   chains[0].draws;                             // num_samples × k reported quantities
//
// Each iteration is one NUTS transition (nuts.h) with the integrator of
// options.nuts (leapfrog.h). Warm-up adapts the step size by dual averaging
// and the metric (diagonal or dense, metric.h) in windows (adaptation.h);
// after every metric window the step size is searched again and the dual
// averaging restarts from it. The draws of a chain depend only on the seed
// and the chain index, never on the number of threads or their timing.
// Libraries print nothing: progress goes to a callback, one call per
// iteration of every chain, serialised by a mutex.
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "sampler/adaptation.h"
#include "sampler/leapfrog.h"
#include "sampler/nuts.h"
#include "sampler/potential.h"
#include "sampler/random.h"

namespace attnpaths {

struct ChainProgress {
  int chain = 0;
  int iteration = 0;  // 0-based, warm-up first
  int num_warmup = 0;
  int num_samples = 0;
  bool warmup = true;
  double step_size = 0;
  int depth = 0;        // of this transition
  int divergences = 0;  // so far in this chain (warm-up and sampling)
  bool nuts = true;     // false for Gibbs chains: step size, depth and divergences do not apply
};

struct ChainOptions {
  int num_chains = 4;                     // independent chains (R-hat needs at least 2)
  int num_warmup = 1000;                  // adaptation iterations, discarded
  int num_samples = 1000;                 // retained draws per chain
  std::uint64_t seed = 1;                 // engines are seeded from (seed, chain)
  int threads = 0;                        // <= 0: one per chain, at most the core count
  double initial_step_size = 1;           // refined by FindStepSize before warm-up
  bool adapt_metric = true;               // windowed metric adaptation (else M = I)
  MetricKind metric = MetricKind::kAuto;  // diagonal, dense or auto M⁻¹ (metric.h)
  int max_init_attempts = 100;            // initial points tried until U and ∇U are finite
  AdaptationOptions adaptation;           // dual averaging and window schedule
  NutsOptions nuts;                       // tree depth and divergence threshold
  std::function<void(const ChainProgress&)> progress;  // optional

  // Checks the ranges of every field; writes the first violation into *error.
  bool IsValid(std::string* error) const;
};

// The progress of `chain` at `iteration` (0-based, warm-up first) with the
// fields every chain reports; a NUTS chain adds its step size, depth and
// divergences, a Gibbs chain sets nuts = false.
ChainProgress ChainProgressAt(const ChainOptions& options, int chain, int iteration, bool warmup);

struct ChainResult {
  bool initialized = false;  // false: no finite starting point was found
  Eigen::MatrixXd draws;     // num_samples × quantities
  // Per retained draw:
  Eigen::VectorXd accept_stat, energy;
  Eigen::VectorXi depth, leapfrog_steps, divergent;
  int warmup_divergences = 0;
  std::int64_t gradient_evaluations = 0;            // leapfrog steps, warm-up included
  double step_size = 0;                             // after warm-up
  Eigen::VectorXd inverse_metric;                   // diag(M⁻¹) after warm-up (any metric kind)
  Position last;                                    // the chain's final state
  double warmup_seconds = 0, sampling_seconds = 0;  // wall clock
  // CPU time of the chain's thread: what a chain costs on a shared machine.
  double warmup_cpu_seconds = 0, sampling_cpu_seconds = 0;
};

// Draws a starting point (the default is N(0, I), the prior of WeightLayout
// coordinates).
using Initializer = std::function<Eigen::VectorXd(RandomEngine&)>;
// Writes the reported quantities of the draw x (x.q, x.potential) into *out
// (sized to the number of quantities); `engine` is the chain's own reporting
// stream (ChainEngine(seed, chain, 1)) for any random draw the report needs.
// Called from every chain's thread, so it must be thread-safe. Empty: the
// quantities are x.q itself.
using Reporter =
    std::function<void(const Position& x, RandomEngine& engine, Eigen::RowVectorXd* out)>;

// Throws Error for invalid options; rethrows an exception raised inside a chain.
std::vector<ChainResult> RunChains(const Potential& potential, const ChainOptions& options,
                                   Eigen::Index num_quantities, const Reporter& reporter = {},
                                   const Initializer& initializer = {});

}  // namespace attnpaths
