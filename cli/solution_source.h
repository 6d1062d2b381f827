// The solution that heads, prune and align analyse: solved here from the
// study, or loaded from what solve / gp / sweep wrote.
//
//   --solution DIR        a directory written by solve or gp (U_<l>.npy, U_a.npy, summary.json)
//   --solution FILE.json  a summary.json, or a sweep point file (<out>/points/N10_T0.01.json)
//   (none)                solve the study at its width (or --width N) and temperature
#pragma once

#include <optional>
#include <string>

#include "cli/commands.h"
#include "data/config.h"
#include "solver/order_parameters.h"
#include "study/result_row.h"
#include "study/study_kernels.h"

namespace attnpaths::cli {

struct AnalysedSolution {
  Study study;  // widths set to those of the solution
  double temperature = 0;
  std::optional<double> N;  // empty for a GP-limit solution (or unequal widths)
  OrderParameters order_parameters;
  bool converged = true;
  std::string source;  // "solved" or the path loaded
  // A loaded file that lacks the records readers check (solved_for, files):
  // warned about once the solution passed every other check.
  std::string unchecked;
  StudyKernels kernels;  // built on demand (train is null until then)
};

// The flags heads, prune and align share, and where they land.
struct SolutionSourceOptions {
  std::string config;           // --config (required)
  std::string solution;         // --solution (empty: solve)
  std::optional<double> width;  // --width, when given (excludes --solution)
  std::string output;           // --output (empty: the study's [output] directory)
};

// Registers --config, --solution and --width (in that order).
void AddSolutionSourceFlags(CLI::App* cmd, SolutionSourceOptions* o);
// Registers --output, --json, --quiet and --threads (in that order).
void AddAnalysisOutputFlags(CLI::App* cmd, SolutionSourceOptions* o, GlobalOptions& global);

// Loads the study and the solution; --width (solving only) overrides every
// width. `command` names the subcommand in progress lines. Throws Error naming
// the file and field on bad input; a solve that fails to evaluate is an error,
// one that does not converge is kept with converged = false.
AnalysedSolution ObtainSolution(const SolutionSourceOptions& o, const std::string& command,
                                const GlobalOptions& g);

// The study's path kernels (train and test), built once.
const StudyKernels& Kernels(AnalysedSolution& s, const std::string& command,
                            const GlobalOptions& g);

// JSON fields shared by the outputs of heads, prune and align.
nlohmann::json SolutionJson(const AnalysedSolution& s);

// "N = 10, T = 0.01 (solved)" for report headers.
std::string SolutionLine(const AnalysedSolution& s);

}  // namespace attnpaths::cli
