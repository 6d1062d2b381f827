#include "cli/solution_source.h"

#include <cmath>
#include <cstdio>
#include <filesystem>

#include "cli/report.h"
#include "cli/solution_record.h"
#include "kernels/error.h"
#include "solver/solve.h"
#include "study/result_row.h"
#include "study/settings.h"
#include "study/solution_reader.h"
#include "study/solve_study.h"
#include "study/study_kernels.h"

namespace attnpaths::cli {

const StudyKernels& Kernels(AnalysedSolution& s, const std::string& command,
                            const GlobalOptions& g) {
  if (!s.kernels.train) {
    ProgressLine(command + ": computing path inputs", g.quiet);
    s.kernels = BuildKernels(s.study, g.threads);
  }
  return s.kernels;
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
  cmd->add_flag("--json", global.json, "Print the JSON result on stdout");
  cmd->add_flag("--quiet", global.quiet, "No progress on stderr");
  cmd->add_option("--threads", global.threads, "Threads for path inputs (0: all cores)");
}

AnalysedSolution ObtainSolution(const SolutionSourceOptions& o, const std::string& command,
                                const GlobalOptions& g) {
  const std::string& config = o.config;
  const std::string& solution = o.solution;
  const std::optional<double>& width = o.width;
  AnalysedSolution s;
  s.study = LoadStudy(config);
  Architecture& arch = s.study.architecture;
  if (!solution.empty()) {
    Require(!width, "--width", width.value_or(0),
            "no --width with --solution (the solution "
            "fixes the widths)");
    LoadedSolution loaded = LoadSolution(s.study, solution, "--solution");
    s.study = std::move(loaded.study);
    s.temperature = loaded.temperature;
    s.N = loaded.N;
    s.order_parameters = std::move(loaded.order_parameters);
    s.converged = loaded.converged;
    s.unchecked = loaded.unchecked;
    s.source = solution;
    if (!s.unchecked.empty()) WarnUnchecked(s.unchecked);
    return s;
  }
  Require(s.study.temperatures.size() == 1, s.study.config_path + ": temperatures",
          s.study.temperatures.size(), "one temperature for " + command);
  if (width) {
    Require(*width >= 1 && std::isfinite(*width), "--width", *width, "a finite width >= 1");
    arch.widths.assign(arch.widths.size(), *width);
  }
  s.temperature = s.study.temperatures[0];
  ProgressLine(command + ": computing path inputs", g.quiet);
  SolveOptions options = ReadStudySettings(s.study).solve;
  options.progress = [&](const SolveProgress& p) {
    if (p.iteration % 10 == 0) {
      char buf[160];
      std::snprintf(buf, sizeof buf, "%s: solving, iteration %d  S/n_max = %.10g  |grad| = %.2e",
                    command.c_str(), p.iteration, p.action, p.gradient_norm);
      ProgressLine(buf, g.quiet);
    }
  };
  StudySolution sol = SolveStudy(s.study, s.temperature, options, g.threads);
  s.kernels = std::move(sol.kernels);
  s.order_parameters = sol.solution.order_parameters;
  s.converged = sol.summary.converged();
  bool equal = true;
  for (double w : arch.widths) equal = equal && w == arch.widths.front();
  if (equal) s.N = arch.widths.front();
  s.source = "solved";
  return s;
}

nlohmann::json SolutionJson(const AnalysedSolution& s) {
  nlohmann::json j;
  j["config"] = s.study.config_path;
  j["N"] = s.N ? nlohmann::json(*s.N) : nlohmann::json();
  j["widths"] = s.study.architecture.widths;
  j["temperature"] = s.temperature;
  j["solution"] = s.source;
  j["converged"] = s.converged;
  return j;
}

std::string SolutionLine(const AnalysedSolution& s) {
  std::string line = s.N ? "N = " + ExactNumber(*s.N) : std::string("GP limit");
  line += ", T = " + ExactNumber(s.temperature);
  line += s.source == "solved" ? " (solved)" : " (loaded from " + s.source + ")";
  if (!s.converged) line += " [NOT converged]";
  return line;
}

}  // namespace attnpaths::cli
