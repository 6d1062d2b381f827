// The command line of the solution that heads, prune and align analyse
// (study/analysed_solution.h): solved here from the study, or loaded from what
// solve / gp / sweep wrote.
//
//   --solution DIR        a directory written by solve or gp (U_<l>.npy, U_a.npy, summary.json)
//   --solution FILE.json  a summary.json, or a sweep point file (<out>/points/N10_T0.01.json)
//   (none)                solve the study at its width (or --width N) and temperature
#pragma once

#include <optional>
#include <string>

#include "cli/commands.h"
#include "study/analysed_solution.h"

namespace attnpaths::cli {

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

// Loads the study and the solution (study/analysed_solution.h), with progress
// on stderr and a warning for an unchecked file; --width (solving only)
// overrides every width. `command` names the subcommand in progress lines.
// Throws Error naming the file and field on bad input; a solve that fails to
// evaluate is an error, one that does not converge is kept with converged = false.
AnalysedSolution ObtainSolution(const SolutionSourceOptions& o, const std::string& command,
                                const GlobalOptions& g);

// The study's path kernels (train and test), built once (AnalysisKernels),
// with a progress line.
const StudyKernels& Kernels(AnalysedSolution& s, const std::string& command,
                            const GlobalOptions& g);

}  // namespace attnpaths::cli
