// Running one (N, T) point of a study: path inputs once, then solve + predict.
#pragma once

#include <optional>
#include <string>

#include "cli/report.h"
#include "data/config.h"
#include "data/result_folder.h"
#include "kernels/path_kernel.h"
#include "solver/predictor.h"
#include "solver/solve.h"

namespace attnpaths::cli {

// Path inputs of a study's train and test sets, computed once.
struct StudyKernels {
  std::unique_ptr<PathKernel> train;
  PathInputs test;
};
StudyKernels BuildKernels(const Study& study, int threads);

// Regression targets have no accuracy (data/labels.h): sets it to NaN, which
// outputs report as null.
void ApplyTask(Task task, PredictorStatistics* stats);

// Creates `dir` (and parents) or throws Error naming it.
void EnsureDirectory(const std::string& dir, const std::string& field);

// Throws Error naming `dir` unless it is, or can be created as, a writable
// directory; creates nothing (so a failed run leaves nothing behind).
void CheckOutputDirectory(const std::string& dir, const std::string& field);

// The files of a solution (solve, gp, compare) as ResultFolder patterns.
std::vector<std::string> SolutionFiles();

// Stages U_<l>.npy, U_a.npy, test_mean.npy, test_variance.npy,
// test_covariance.npy (docs/formats.md: with one output U_a.npy is a scalar and
// test_variance.npy has shape (P*,); with D outputs (D, D) and (P*, D)) and then
// summary.json (the row, `extra` and "files": their fingerprints) in `out`;
// the caller commits with out.Commit({..., "summary.json"}).
// Returns the JSON written (what --json prints).
nlohmann::json StageSolution(ResultFolder& out, const ResultRow& row,
                             const PredictorStatistics& stats, const nlohmann::json& extra);

// Stages <prefix>_mean.npy (P* × D), <prefix>_variance.npy ((P*,) for one
// output, else P* × D) and <prefix>_covariance.npy (P* × D × D, theory.md §9)
// in `out`; returns the file names staged.
std::vector<std::string> StagePredictorArrays(ResultFolder& out, const std::string& prefix,
                                              const PredictorStatistics& stats);

// U_a as written to NPY and JSON: a scalar for one output, else D × D.
void WriteReadoutNpy(const std::string& path, const Eigen::MatrixXd& U_a);

}  // namespace attnpaths::cli
