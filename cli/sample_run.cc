#include "cli/sample_run.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <vector>

#include "cli/report.h"
#include "kernels/error.h"

namespace attnpaths::cli {

void AddSampleFlags(CLI::App* cmd, SampleCliOptions* o) {
  o->settings.Add(cmd, {"sampler"});
  cmd->add_option_function<double>(
      "--width", [o](const double& w) { o->width = w; },
      "Every width n_l, readout included (default: the study's widths)");
}

void AddSampleCommandFlags(CLI::App* cmd, SampleCommandOptions* o, GlobalOptions& global,
                           const std::string& json_help) {
  cmd->add_option("--config,-c", o->config, "The TOML study file")
      ->check(NonEmptyPath())
      ->required();
  cmd->add_option("--output,-o", o->output, "Output directory (default: [output] directory)")
      ->check(NonEmptyPath());
  AddSampleFlags(cmd, &o->sampler);
  cmd->add_flag("--json", global.json, json_help);
  cmd->add_flag("--quiet", global.quiet, "No progress on stderr");
  cmd->add_option("--threads", global.threads,
                  "Threads for path inputs and chains (0: one per chain, at most all cores)");
}

SampleRunStudy LoadSampleStudy(const SampleCommandOptions& o, const std::string& command) {
  SampleRunStudy r;
  Study& study = r.study;
  study = LoadStudy(o.config);
  if (o.sampler.width) {
    const double w = *o.sampler.width;
    Require(std::isfinite(w) && w >= 1 && w == std::floor(w), "--width", w,
            "an integer >= 1 (the sampled network has whole neurons)");
    study.architecture.widths.assign(study.architecture.widths.size(), w);
  }
  Require(study.temperatures.size() == 1, study.config_path + ": temperatures",
          study.temperatures.size(), "one temperature for " + command);
  r.temperature = study.temperatures[0];
  r.output = o.output.empty() ? study.output_directory : o.output;
  return r;
}

SampleOptions MakeSampleOptions(const SampleCliOptions& o, const Study& study,
                                const GlobalOptions& g, const std::string& label) {
  SampleOptions options = o.settings.Read(study).sample;
  options.chains.threads = g.threads;
  std::string error;
  if (!options.IsValid(&error)) throw Error(error);
  if (g.quiet) return options;
  // One line at most every half second: iterations done over all chains.
  struct State {
    std::vector<int> done;
    int divergences = 0;
    std::chrono::steady_clock::time_point last;
  };
  auto state = std::make_shared<State>();
  state->done.assign(static_cast<size_t>(options.chains.num_chains), 0);
  const bool quiet = g.quiet;
  options.chains.progress = [state, label, quiet](const SampleProgress& p) {
    state->done[static_cast<size_t>(p.chain)] = p.iteration + 1;
    const auto now = std::chrono::steady_clock::now();
    const int per_chain = p.num_warmup + p.num_samples;
    long total = 0;
    for (int d : state->done) total += d;
    const bool last = total == static_cast<long>(per_chain) * static_cast<long>(state->done.size());
    if (!last && now - state->last < std::chrono::milliseconds(500)) return;
    state->last = now;
    char buf[200];
    const int n = std::snprintf(buf, sizeof buf, "%s: %3.0f%%  chain %d %s %d/%d", label.c_str(),
                                100.0 * total / (per_chain * double(state->done.size())), p.chain,
                                p.warmup ? "warm-up" : "sampling",
                                p.warmup ? p.iteration + 1 : p.iteration + 1 - p.num_warmup,
                                p.warmup ? p.num_warmup : p.num_samples);
    if (p.nuts && n > 0 && static_cast<size_t>(n) < sizeof buf) {  // Gibbs has no step or tree
      std::snprintf(buf + n, sizeof buf - static_cast<size_t>(n),
                    "  step %.3g  depth %d  divergences %d", p.step_size, p.depth, p.divergences);
    }
    ProgressLine(buf, quiet);
  };
  return options;
}

}  // namespace attnpaths::cli
