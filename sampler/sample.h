// Sample — draws from the posterior of the finite network's weights
// (theory.md §1) with NUTS, and the statistics the theory predicts
// (theory.md §5): predictor mean and variance on test inputs, accuracy,
// generalisation error and the sampled order parameter U^sampled.
//
//   attnpaths::PathInputs train = ComputePathInputs(arch, x_train, Split::kTrain);
//   attnpaths::PathInputs test = ComputePathInputs(arch, x_test, Split::kTest);
//   attnpaths::SampleOptions options;               // 4 chains × (1000 warm-up + 1000 draws)
//   options.chains.seed = 7;
//   attnpaths::SampleSummary summary;
//   attnpaths::SampleResult r = attnpaths::Sample(arch, train, Y, /*temperature=*/0.01, test,
//                                                 options, &summary, &Y_test);
//   std::cout << summary.BriefReport() << "\n";
//   r.predictor.mean;  r.predictor.mean_se;          // f̄(x*) ± MCSE      (P* × D)
//   r.predictor.Covariance(mu);                      // D × D over outputs at x*_μ
//   r.order_parameter.U;  r.order_parameter.U_se;    // U^sampled ± MCSE  ((Htot D)²)
//
// The likelihood uses max(T, T_min). The architecture's widths must be
// integers. Invalid input throws attnpaths::Error naming the field;
// sampling trouble (no finite starting point, divergences, R-hat > 1.01,
// ESS < 100) is reported in the summary, never hidden in the result.
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "kernels/architecture.h"
#include "kernels/option_field.h"
#include "kernels/path_inputs.h"
#include "sampler/chains.h"
#include "sampler/diagnostics.h"
#include "sampler/estimates.h"
#include "sampler/potential.h"
#include "sampler/weight_layout.h"

namespace attnpaths {

using SampleProgress = ChainProgress;

struct SampleOptions {
  // The chains: their number, warm-up and draws, seed, threads, metric
  // (kAuto: dense up to kDenseMetricMaxDimension sampled coordinates), step
  // size and its adaptation (chains.adaptation: target_accept, warm-up
  // windows), NUTS (chains.nuts: max_depth, max_energy_error, integrator)
  // and the progress callback (called for every iteration of every chain,
  // serialised; libraries print nothing). The defaults are those of
  // chains.h, adaptation.h and nuts.h.
  ChainOptions chains;
  // T_min: the likelihood uses max(T, T_min) (theory.md §5; 1e-3 in §8).
  double temperature_floor = 1e-3;
  // kReduced (default): NUTS on the triangular factors of the value weights'
  // QR chain, the readout and every rotation the likelihood cannot see
  // integrated out exactly, each draw lifted to the network's weights
  // (reduced_potential.h); its dimension stops growing with the width once
  // n_{ℓ+1} >= H_ℓ c_{ℓ−1}. When no layer reduces (every width below those
  // ranks, e.g. n < N0) it is the collapsed sampler, and the summary says
  // "collapsed". kCollapsed: NUTS on the value weights with the readout
  // integrated out exactly, a | V drawn from its Gaussian, and
  // Rao–Blackwellised estimates (collapsed_potential.h). kAll: NUTS on every
  // weight (theory.md §5). kReadout: a only, the value weights fixed (a
  // Gaussian posterior). kGibbs: every weight, not by NUTS but by blocked
  // Gibbs sweeps (gibbs.h: V_0, each layer's heads, then a, each block drawn
  // exactly from its Gaussian conditional), one sweep per iteration; warm-up
  // is burn-in, and the reports are kAll's. Its summary has metric and
  // integrator "none", step size 0, accept 1, tree depth 0, gibbs_sweeps
  // "leapfrog steps" (sweeps) per draw and gradient_evaluations = sweeps.
  SampledWeights sampled_weights = SampledWeights::kReduced;
  // kGibbs: sweeps per iteration (warm-up and retained draws alike): thinning
  // for small widths, where U^sampled decorrelates over tens of sweeps.
  int gibbs_sweeps = 1;
  // kReadout: the fixed value weights (their a is ignored); empty draws them
  // once from the prior with the seed.
  std::optional<NetworkWeights> fixed_weights;
  // Report U^sampled entries per draw (theory.md §5).
  bool report_order_parameter = true;
  // Warn when a quantity's R-hat exceeds this.
  double rhat_threshold = 1.01;
  // Warn when a quantity's bulk or tail ESS is below this.
  double ess_threshold = 100;

  // Writes the first invalid field, its value and the expectation into *error.
  bool IsValid(std::string* error) const;
};

// The settings of SampleOptions a study file ([sampler]) or the command line
// may set, bound to *options (sampler/sample_option_fields.cc; docs/config.md).
std::vector<OptionField> SampleOptionFields(SampleOptions* options);

enum class SampleTermination {
  kCompleted,  // every chain ran; read the warnings for the quality of the draws
  kFailure,    // a chain found no starting point with a finite posterior
};

const char* SampleTerminationName(SampleTermination t);

struct SampleSummary {
  SampleTermination termination = SampleTermination::kFailure;
  std::string message = "Sample was not called";
  int num_chains = 0, num_warmup = 0, num_samples = 0;
  Eigen::Index dimension = 0;   // sampled coordinates
  std::string sampled_weights;  // as resolved: "reduced" runs "collapsed" when nothing reduces
  std::string metric;           // "diag" or "dense", as resolved from the options
  std::string integrator;       // "leapfrog" or "prior_split"
  std::uint64_t seed = 0;
  double temperature = 0;       // as requested
  double temperature_used = 0;  // max(T, T_min)
  // Per chain, sampling phase:
  std::vector<double> step_size;
  std::vector<double> mean_accept_stat;
  std::vector<int> divergences;
  std::vector<int> max_depth_hits;  // transitions that reached max_tree_depth
  std::vector<double> mean_tree_depth;
  std::vector<double> ebfmi;                                     // energy BFMI; < 0.3 is suspect
  std::vector<double> mean_leapfrog_steps;                       // gradient evaluations per draw
  std::vector<double> warmup_cpu_seconds, sampling_cpu_seconds;  // CPU time of each chain
  int warmup_divergences = 0;                                    // all chains
  int total_divergences = 0;                                     // all chains, sampling phase
  int total_max_depth_hits = 0;
  std::int64_t gradient_evaluations = 0;
  // Over every reported quantity (NaN for constant ones are skipped):
  double max_rhat = std::numeric_limits<double>::quiet_NaN();
  std::string max_rhat_quantity;
  double min_ess_bulk = std::numeric_limits<double>::quiet_NaN();
  std::string min_ess_bulk_quantity;
  double min_ess_tail = std::numeric_limits<double>::quiet_NaN();
  std::string min_ess_tail_quantity;
  std::vector<std::string> warnings;
  // Wall-clock seconds: warm-up and sampling are the slowest chain's.
  double warmup_seconds = 0, sampling_seconds = 0, diagnostics_seconds = 0, total_seconds = 0;

  bool completed() const { return termination == SampleTermination::kCompleted; }
  std::string BriefReport() const;
  std::string FullReport() const;
};

struct SampleResult {
  SampledPredictor predictor;             // on the test inputs
  SampledOrderParameter order_parameter;  // empty unless report_order_parameter
  // Reported quantities: "lp" (log posterior up to a constant), then f[μ]
  // (or f[μ,d] for D > 1) for every test point, then U[i,j] for i <= j with
  // i = π·D + d the (π, d) row of U^sampled (theory.md §9; U[π,π'] for D = 1).
  std::vector<std::string> quantity_names;
  Eigen::Index predictor_column = 1;  // first f column
  // First f_var column (collapsed sampler: Var[f(x*_μ) | V], one per test
  // point); -1 when absent.
  Eigen::Index predictor_variance_column = -1;
  Eigen::Index order_parameter_column = 0;  // first U column (== quantities when absent)
  std::vector<Eigen::MatrixXd> draws;       // per chain: num_samples × quantities
  // Per transition of the sampling phase (num_chains × num_samples):
  Eigen::MatrixXd accept_stat, energy;
  Eigen::MatrixXi tree_depth, leapfrog_steps, divergent;
  std::vector<QuantityDiagnostics> diagnostics;  // per quantity
  NetworkWeights last_weights;                   // chain 0's final draw, in the weights' units
};

// Y: P × D training labels; test: path inputs of the test set (may hold no
// examples); Y_test optional (P* × D) for accuracy and generalisation error.
// Throws Error for invalid options or shapes that disagree.
SampleResult Sample(const Architecture& arch, const PathInputs& train,
                    const Eigen::Ref<const Eigen::MatrixXd>& Y, double temperature,
                    const PathInputs& test, const SampleOptions& options, SampleSummary* summary,
                    const Eigen::MatrixXd* Y_test = nullptr);

}  // namespace attnpaths
