// GpStudy — `attnpaths gp` as library calls: the GP-limit baseline of a study
// (every width → ∞, U = U_GP, theory.md §2, §4, §9) on its test set, and the
// solution folder the command writes (summary.json, U_<l>.npy, U_a.npy,
// test_*.npy; docs/formats.md), which predict, heads, prune and align read
// like a solve's.
//
//   const Study study = LoadStudy("run.toml");
//   const GpSolution g = SolveGpLimit(study, study.temperatures[0], /*threads=*/0);
//   g.test.accuracy;                                   // the infinite-width baseline
//   ResultFolder out("runs/gp", SolutionFiles());      // study/solution_files.h
//   WriteGpSolution(out, study, g, run.Json());
#pragma once

#include <nlohmann/json.hpp>

#include "data/config.h"
#include "data/result_folder.h"
#include "solver/order_parameters.h"
#include "solver/predictor.h"
#include "study/study_kernels.h"

namespace attnpaths {

struct GpSolution {
  StudyKernels kernels;  // path inputs of the training and test sets
  double temperature = 0;
  OrderParameters order_parameters;  // U_GP for the study's D outputs
  // The predictor on the study's test set (accuracy NaN for regression or
  // without test labels).
  PredictorStatistics test;
  double seconds = 0;  // path inputs and prediction
};

// The GP limit of `study` at `temperature`; `threads` for the path inputs.
GpSolution SolveGpLimit(const Study& study, double temperature, int threads);

// Writes the files of the GP solution into `out` (opened with SolutionFiles())
// and commits them: the row (no N: the GP limit), temperature, kernel strategy,
// `provenance` and solved_for. Returns the summary JSON written.
nlohmann::json WriteGpSolution(ResultFolder& out, const Study& study, const GpSolution& g,
                               const nlohmann::json& provenance);

}  // namespace attnpaths
