#include "cli/solution_source.h"

#include <cmath>
#include <cstdio>

#include "cli/report.h"
#include "cli/solution_record.h"
#include "kernels/error.h"
#include "study/settings.h"

namespace attnpaths::cli {

const StudyKernels& Kernels(AnalysedSolution& s, const std::string& command,
                            const GlobalOptions& g) {
  if (!s.kernels.train) ProgressLine(command + ": computing path inputs", g.quiet);
  return AnalysisKernels(s, g.threads);
}

void AddSolutionSourceFlags(CLI::App* cmd, SolutionSourceOptions* o) {
  cmd->add_option("--config,-c", o->config, "The TOML study file")
      ->check(NonEmptyPath())
      ->required();
  auto* sol = cmd->add_option("--solution,-s", o->solution,
                              "Load instead of solving: a directory written by solve/gp, or a "
                              "summary.json or sweep point file")
                  ->check(NonEmptyPath());
  cmd->add_option_function<double>(
         "--width,-N", [o](const double& w) { o->width = w; },
         "Solve at this width N (every n_l) instead of the study's")
      ->excludes(sol);
}

void AddAnalysisOutputFlags(CLI::App* cmd, SolutionSourceOptions* o, GlobalOptions& global) {
  cmd->add_option("--output,-o", o->output, "Output directory (default: [output] directory)")
      ->check(NonEmptyPath());
  AddRunFlags(cmd, global, "Print the JSON result on stdout", "Threads for path inputs");
}

AnalysedSolution ObtainSolution(const SolutionSourceOptions& o, const std::string& command,
                                const GlobalOptions& g) {
  const Study study = LoadStudy(o.config);
  if (!o.solution.empty()) {
    Require(!o.width, "--width", o.width.value_or(0),
            "no --width with --solution (the solution "
            "fixes the widths)");
    AnalysedSolution s = LoadForAnalysis(study, o.solution, "--solution");
    if (!s.unchecked.empty()) WarnUnchecked(s.unchecked);
    return s;
  }
  Require(study.temperatures.size() == 1, study.config_path + ": temperatures",
          study.temperatures.size(), "one temperature for " + command);
  if (o.width) {
    Require(*o.width >= 1 && std::isfinite(*o.width), "--width", *o.width, "a finite width >= 1");
  }
  ProgressLine(command + ": computing path inputs", g.quiet);
  SolveOptions options = ReadStudySettings(study).solve;
  options.progress = [&](const SolveProgress& p) {
    if (p.iteration % 10 == 0) {
      char buf[160];
      std::snprintf(buf, sizeof buf, "%s: solving, iteration %d  S/n_max = %.10g  |grad| = %.2e",
                    command.c_str(), p.iteration, p.action, p.gradient_norm);
      ProgressLine(buf, g.quiet);
    }
  };
  return SolveForAnalysis(study, o.width, options, g.threads, command);
}

}  // namespace attnpaths::cli
