#include "study/study_kernels.h"

#include <limits>

#include "kernels/error.h"
#include "kernels/finite_path_inputs.h"

namespace attnpaths {

PathInputs StudyPathInputs(const Study& study, Split split, int threads) {
  const bool train = split == Split::kTrain;
  const Inputs& x = train ? study.train.x : study.test.x;
  PathInputs xi = ComputePathInputs(study.architecture, x, split, threads);
  // Overflow names the head or the data, not "not positive definite" later on.
  CheckFinitePathInputs(study.architecture, x, xi, split,
                        study.config_path + (train ? ": data.train_x" : ": data.test_x"));
  return xi;
}

std::unique_ptr<PathKernel> BuildTrainKernel(const Study& study, int threads) {
  // Refuse before allocating anything large (the error names the size).
  ChooseKernelStrategy(study.kernel, study.train.x.P(), study.architecture.Htot(),
                       study.train.x.N0());
  return std::make_unique<PathKernel>(StudyPathInputs(study, Split::kTrain, threads), study.kernel);
}

StudyKernels BuildKernels(const Study& study, int threads) {
  StudyKernels k;
  k.train = BuildTrainKernel(study, threads);
  k.test = StudyPathInputs(study, Split::kTest, threads);
  return k;
}

void ApplyTask(Task task, PredictorStatistics* stats) {
  if (task == Task::kRegression) stats->accuracy = std::numeric_limits<double>::quiet_NaN();
}

}  // namespace attnpaths
