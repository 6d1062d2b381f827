// Sampling one study (shared by `attnpaths sample` and `attnpaths compare`):
// sampler flags, the progress line, and the files a run writes.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "data/config.h"
#include "data/provenance.h"
#include "data/result_folder.h"
#include "kernels/path_inputs.h"
#include "sampler/sample.h"

namespace attnpaths::cli {

// NUTS settings from the command line (theory.md §8 used 1 chain × 100 + 100
// for the Markov task, 10 chains × 20 + 20 for the image task).
struct SampleCliOptions {
  int chains = 4;
  int warmup = 1000;
  int samples = 1000;
  std::uint64_t seed = 1;
  int max_tree_depth = 10;
  double target_accept = 0.8;
  double temperature_floor = 1e-3;
  std::string weights = "collapsed";  // "collapsed", "all" or "readout"
  std::string metric = "auto";        // "auto", "diag" or "dense" (sampler/metric.h)
  std::string integrator = "auto";    // "auto", "leapfrog" or "prior_split"
  std::optional<double> width;        // --width: overrides every n_l of the study
};

void AddSampleFlags(CLI::App* cmd, SampleCliOptions* o);

// Loads the study and applies --width (every n_l, readout included).
Study LoadSampleStudy(const std::string& config, const SampleCliOptions& o);

// SampleOptions from the flags, with a progress line on stderr labelled `label`.
SampleOptions MakeSampleOptions(const SampleCliOptions& o, const GlobalOptions& g,
                                const std::string& label);

// "h1>h2" labels of every path of the architecture.
std::vector<std::string> ArchitecturePathLabels(const Architecture& arch);

// Labels of the rows of U^sampled and of U_1 (theory.md §9): the path labels
// for D = 1, "path:d" (d = 0 … D−1, output fastest) for D > 1.
std::vector<std::string> OrderParameterLabels(const Architecture& arch, Eigen::Index D);

// The sampler's summary and estimates as JSON (no draws).
nlohmann::json SampleJson(const Study& study, const SampleResult& r, const SampleSummary& s,
                          double temperature);

// The files of a sample run as ResultFolder patterns.
std::vector<std::string> SampleFiles();

// Stages draws.h5 (draws [chain, draw, quantity], accept_stat, energy,
// tree_depth, leapfrog_steps, divergent [chain, draw], step_size [chain]),
// sampled_test_mean(_se).npy, sampled_test_variance(_se).npy,
// sampled_test_covariance.npy (P* × D × D), U_sampled(_se).npy and then
// `summary_name` (the JSON `summary` with "files": their fingerprints) in
// `out`; the caller commits. `run` becomes the root attributes of draws.h5
// (the summary carries its own).
void StageSampleOutputs(ResultFolder& out, const SampleResult& r, const SampleSummary& s,
                        nlohmann::json summary, const std::string& summary_name,
                        const Provenance& run);

}  // namespace attnpaths::cli
