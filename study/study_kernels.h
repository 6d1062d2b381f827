// StudyKernels — the path inputs of a study's training and test sets
// (theory.md §2), computed once and shared by solving, predicting and sampling.
//
//   const Study study = LoadStudy("run.toml");
//   const StudyKernels k = BuildKernels(study, /*threads=*/0);
//   const PathProblem problem = StudyProblem(study, k, T);    // shares k.train
//   const Action action(problem);
//   PredictorStatistics st = Predict(problem, U1, k.test, &study.test.y);
//   ApplyTask(study.task, &st);   // regression: accuracy NaN
//
// BuildKernels refuses a kernel too large for the memory limit before
// allocating it, and names the data file whose path inputs overflow.
#pragma once

#include <memory>
#include <optional>

#include "data/config.h"
#include "kernels/path_kernel.h"
#include "solver/path_problem.h"
#include "solver/predictor.h"

namespace attnpaths {

// Path inputs of a study's train and test sets, computed once.
struct StudyKernels {
  std::shared_ptr<const PathKernel> train;  // shared with the problems and predictors made from it
  PathInputs test;  // empty when TestSetInBlocks(study): predicted in blocks instead
};
// The storage of G is `storage` ([solver] storage / --storage) when given,
// else the study's [solver] storage; not auto overrides [kernel] strategy.
// kAuto weighs the study's D and whether any of its temperatures is 0.
// With `stream_block` >= 0 (solve, predict) and the storage resolving to
// features, the training set is streamed through AccumulateGram in blocks of
// that many examples (0: about 32 MiB of inputs): the kernel keeps A = ΞᵀΞ,
// b = ΞᵀY, YᵀY and no P × M path inputs (PathKernel(Gram), theory.md §10).
StudyKernels BuildKernels(const Study& study, int threads,
                          std::optional<GramStorage> storage = std::nullopt, int stream_block = -1);
// In an MPI run (mpirun -n R, parallel/communicator.h) with the storage
// resolving to features, each process streams only its share of the
// training examples and SumOverRanks gives every process the whole Gram; a
// failing process stops them all (kernels/collective.h).
// The training half alone.
std::unique_ptr<PathKernel> BuildTrainKernel(const Study& study, int threads,
                                             std::optional<GramStorage> storage = std::nullopt,
                                             int stream_block = -1);
// True when the test set is predicted in blocks (PredictStudyTest) rather
// than from path inputs held whole: it is streamed. (Under MPI the test set
// held whole is still split over the processes by PredictStudyTest.)
bool TestSetInBlocks(const Study& study);
// The KernelOptions they use.
KernelOptions StudyKernelOptions(const Study& study, std::optional<GramStorage> storage);
// The path inputs of the study's training or test set, checked finite (an
// error names the data file); no kernel (what the sampler needs).
PathInputs StudyPathInputs(const Study& study, Split split, int threads);

// Regression targets have no accuracy (data/labels.h): sets it to NaN, which
// outputs report as null.
// The study's problem at `temperature` (solver/path_problem.h): its
// architecture (at its widths), labels and the training kernel of `kernels`,
// shared, not copied.
PathProblem StudyProblem(const Study& study, const StudyKernels& kernels, double temperature);

void ApplyTask(Task task, PredictorStatistics* stats);

}  // namespace attnpaths
