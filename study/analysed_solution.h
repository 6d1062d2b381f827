// AnalysedSolution — the solution that head relevance, pruning and alignment
// analyse (`attnpaths heads`, `prune`, `align`; Python heads/prune/align):
// solved here from a study at its widths (or one width N), or loaded from what
// solve / gp / sweep wrote (study/solution_reader.h).
//
//   const Study study = LoadStudy("run.toml");
//   AnalysedSolution s = SolveForAnalysis(study, /*width=*/std::nullopt,
//                                         ReadStudySettings(study).solve, /*threads=*/0);
//   AnalysedSolution t = LoadForAnalysis(study, "runs/a");        // a solve/gp folder
//   const StudyKernels& k = AnalysisKernels(t, /*threads=*/0);    // built once, on demand
//   nlohmann::json j = SolutionJson(s);                           // config, N, widths, T, ...
//
// Errors name the study file, the path and the field (Error).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "data/config.h"
#include "data/provenance.h"
#include "solver/order_parameters.h"
#include "solver/solve.h"
#include "study/study_kernels.h"

namespace attnpaths {

struct AnalysedSolution {
  Study study;  // widths set to those of the solution
  double temperature = 0;
  std::optional<double> N;  // empty for a GP-limit solution (or unequal widths)
  OrderParameters order_parameters;
  bool converged = true;
  std::string source;  // "solved" or the path loaded
  // A loaded file that lacks the records readers check (solved_for, files):
  // the caller warns about it (UncheckedWarning, study/solved_for.h).
  std::string unchecked;
  StudyKernels kernels;  // built on demand (train is null until then)
};

// Solves `study` at its one temperature (Error naming the study file and
// `command` otherwise) and, when given, width N for every n_ℓ; `options`
// (progress included) for the solve, `threads` for the path inputs. A solve
// that fails to evaluate is an Error; one that does not converge is kept with
// converged = false.
AnalysedSolution SolveForAnalysis(const Study& study, std::optional<double> width,
                                  const SolveOptions& options, int threads,
                                  const std::string& command = "analysis");

// Loads a solution for `study` (LoadSolution: a solve/gp folder, its
// summary.json or a sweep point file); `field` names the path in errors.
AnalysedSolution LoadForAnalysis(const Study& study, const std::string& path,
                                 const std::string& field = "solution");

// The study's path kernels (train and test) at the solution's widths, built
// on the first call.
const StudyKernels& AnalysisKernels(AnalysedSolution& s, int threads);

// The fields every analysis output starts with: config, N, widths,
// temperature, solution (its source) and converged.
nlohmann::json SolutionJson(const AnalysedSolution& s);

// "N = 10, T = 0.01 (solved)" for report headers.
std::string SolutionLine(const AnalysedSolution& s);

// The study (RecordStudy, study/run_record.h) and the solution: the solver
// settings when it was solved here, or the files it was loaded from with their
// SHA-256.
void RecordSolution(const AnalysedSolution& s, int threads, Provenance* run);

}  // namespace attnpaths
