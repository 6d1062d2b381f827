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

// Loads the study and applies --width (every n_l, readout included).
Study LoadSampleStudy(const std::string& config, const SampleCliOptions& o);

// SampleOptions of the study's [sampler] table and the flags, with the global
// thread count and a progress line on stderr labelled `label`.
SampleOptions MakeSampleOptions(const SampleCliOptions& o, const Study& study,
                                const GlobalOptions& g, const std::string& label);

}  // namespace attnpaths::cli
