// Running one (N, T) point of a study: path inputs once, then solve + predict.
#pragma once

#include <optional>
#include <string>

#include "cli/report.h"
#include "data/config.h"
#include "kernels/path_kernel.h"
#include "solver/solve.h"

namespace attnpaths::cli {

// Path inputs of a study's train and test sets, computed once.
struct StudyKernels {
  std::unique_ptr<PathKernel> train;
  PathInputs test;
};
StudyKernels BuildKernels(const Study& study, int threads);

// Creates `dir` (and parents) or throws Error naming it.
void EnsureDirectory(const std::string& dir, const std::string& field);

// Throws Error naming `dir` unless it is, or can be created as, a writable
// directory; creates nothing (so a failed run leaves nothing behind).
void CheckOutputDirectory(const std::string& dir, const std::string& field);

// Creates `dir` and writes U_<l>.npy, U_a.npy, test_mean.npy, test_variance.npy and summary.json
// (every file atomically) into `dir`.
void WriteSolution(const std::string& dir, const ResultRow& row, const PredictorStatistics& stats,
                   const nlohmann::json& extra);

}  // namespace attnpaths::cli
