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
// The storage of G is `storage` ([solver] storage / --storage) when given,
// else the study's [solver] storage; not auto overrides [kernel] strategy.
// kAuto weighs the study's D and whether any of its temperatures is 0.
// With `stream_block` >= 0 (solve, predict) and the storage resolving to
// features, the training set is streamed through AccumulateGram in blocks of
// that many examples (0: about 32 MiB of inputs): the kernel keeps A = ΞᵀΞ,
// b = ΞᵀY, YᵀY and no P × M path inputs (PathKernel(Gram), theory.md §10).
StudyKernels BuildKernels(const Study& study, int threads,
                          std::optional<GramStorage> storage = std::nullopt,
                          int stream_block = -1);
// The KernelOptions BuildKernels uses.
KernelOptions StudyKernelOptions(const Study& study, std::optional<GramStorage> storage);

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
