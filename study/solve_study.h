// SolveStudy — the theory solved for a study in one call: path inputs, the
// saddle point at the study's widths and one temperature (theory.md §3, §8),
// and the predictor on its test set (theory.md §4, §9).
//
//   const Study study = LoadStudy("run.toml");
//   const StudySolution s = SolveStudy(study, study.temperatures[0],
//                                      ReadStudySettings(study).solve, /*threads=*/0);
//   std::cout << s.summary.BriefReport() << "\n" << s.test.accuracy << "\n";
//   ResultFolder out("runs/a", SolutionFiles());        // locked before the work
//   WriteStudySolution(out, study, s, run.Json());      // what `attnpaths solve` writes
//
// A solve that does not converge is returned (summary.converged() false); one
// whose action cannot be evaluated is an Error naming the study file.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "data/config.h"
#include "data/result_folder.h"
#include "solver/predictor.h"
#include "solver/solve.h"
#include "study/study_kernels.h"

namespace attnpaths {

struct StudySolution {
  StudyKernels kernels;  // path inputs of the training and test sets
  double temperature = 0;
  Solution solution;
  SolveSummary summary;
  SolveOptions options;  // as used (progress callback included)
  // The predictor on the study's test set (accuracy NaN for regression or
  // without test labels).
  PredictorStatistics test;
  double seconds = 0;  // path inputs, solve and prediction
};

// Solves `study` at its widths and `temperature` with `options`; `threads`
// for the path inputs (0: all cores).
StudySolution SolveStudy(const Study& study, double temperature, const SolveOptions& options,
                         int threads);

// Writes the files of a solution into `out` (opened with SolutionFiles(),
// study/solution_files.h: U_<l>.npy, U_a.npy, test_*.npy, then summary.json
// with the row, the temperature, widths, kernel strategy, solver message,
// `provenance` and solved_for) and commits them as a whole; returns the
// summary JSON written.
nlohmann::json WriteStudySolution(ResultFolder& out, const Study& study, const StudySolution& s,
                                  const nlohmann::json& provenance);

}  // namespace attnpaths
