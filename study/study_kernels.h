// StudyKernels — the path inputs of a study's training and test sets
// (theory.md §2), computed once and shared by solving, predicting and sampling.
//
//   const Study study = LoadStudy("run.toml");
//   const StudyKernels k = BuildKernels(study, /*threads=*/0);
//   const Action action(study.architecture, *k.train, study.train.y, T);
//   PredictorStatistics st = Predict(*k.train, study.train.y, T, U1, k.test, &study.test.y);
//   ApplyTask(study.task, &st);   // regression: accuracy NaN
//
// BuildKernels refuses a kernel too large for the memory limit before
// allocating it, and names the data file whose path inputs overflow.
#pragma once

#include <memory>

#include "data/config.h"
#include "kernels/path_kernel.h"
#include "solver/predictor.h"

namespace attnpaths {

// Path inputs of a study's train and test sets, computed once.
struct StudyKernels {
  std::unique_ptr<PathKernel> train;
  PathInputs test;
};
StudyKernels BuildKernels(const Study& study, int threads);
// The training half alone.
std::unique_ptr<PathKernel> BuildTrainKernel(const Study& study, int threads);
// The path inputs of the study's training or test set, checked finite (an
// error names the data file); no kernel (what the sampler needs).
PathInputs StudyPathInputs(const Study& study, Split split, int threads);

// Regression targets have no accuracy (data/labels.h): sets it to NaN, which
// outputs report as null.
void ApplyTask(Task task, PredictorStatistics* stats);

}  // namespace attnpaths
