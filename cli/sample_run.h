// Sampling one study (shared by `attnpaths sample` and `attnpaths compare`):
// sampler flags and the progress line (the files a run writes: study/sample_files.h).
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/settings_flags.h"
#include "data/config.h"
#include "sampler/sample.h"
#include "study/path_labels.h"
#include "study/sample_files.h"

namespace attnpaths::cli {

// The sampler's command-line flags: the [sampler] settings (cli/settings_flags.h,
// flags over the study file) and --width.
struct SampleCliOptions {
  SettingsFlags settings;
  std::optional<double> width;  // --width: overrides every n_l of the study
};

void AddSampleFlags(CLI::App* cmd, SampleCliOptions* o);

// A command that samples one study (sample, compare): its file, its output
// folder and the sampler's flags.
struct SampleCommandOptions {
  std::string config;
  std::string output;  // overrides [output] directory
  SampleCliOptions sampler;
};

// --config, --output, the sampler's flags, --json (`json_help`), --quiet and --threads.
void AddSampleCommandFlags(CLI::App* cmd, SampleCommandOptions* o, GlobalOptions& global,
                           const std::string& json_help);

// The study a sampling command runs: --width applied (every n_l, readout
// included), its one temperature (Error naming `command` otherwise) and the
// output folder (--output, else the study's [output] directory).
struct SampleRunStudy {
  Study study;
  double temperature = 0;
  std::string output;
};
SampleRunStudy LoadSampleStudy(const SampleCommandOptions& o, const std::string& command);

// SampleOptions of the study's [sampler] table and the flags, with the global
// thread count and a progress line on stderr labelled `label`.
SampleOptions MakeSampleOptions(const SampleCliOptions& o, const Study& study,
                                const GlobalOptions& g, const std::string& label);

}  // namespace attnpaths::cli
