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
#include "cli/settings_flags.h"
#include "data/config.h"
#include "data/provenance.h"
#include "data/result_folder.h"
#include "kernels/path_inputs.h"
#include "sampler/sample.h"
#include "study/path_labels.h"

namespace attnpaths::cli {

// The sampler's command-line flags: the [sampler] settings (cli/settings_flags.h,
// flags over the study file) and --width.
struct SampleCliOptions {
  SettingsFlags settings;
  std::optional<double> width;  // --width: overrides every n_l of the study
};

void AddSampleFlags(CLI::App* cmd, SampleCliOptions* o);

// Loads the study and applies --width (every n_l, readout included).
Study LoadSampleStudy(const std::string& config, const SampleCliOptions& o);

// SampleOptions of the study's [sampler] table and the flags, with the global
// thread count and a progress line on stderr labelled `label`.
SampleOptions MakeSampleOptions(const SampleCliOptions& o, const Study& study,
                                const GlobalOptions& g, const std::string& label);

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
