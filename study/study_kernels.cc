#include "study/study_kernels.h"

#include <limits>

#include "kernels/error.h"
#include "kernels/finite_path_inputs.h"

namespace attnpaths {

std::unique_ptr<PathKernel> BuildTrainKernel(const Study& study, int threads) {
  // Refuse before allocating anything large (the error names the size).
  ChooseKernelStrategy(study.kernel, study.train.x.P(), study.architecture.Htot(),
                       study.train.x.N0());
  PathInputs train = ComputePathInputs(study.architecture, study.train.x, Split::kTrain, threads);
  // Overflow names the head or the data, not "not positive definite" later on.
  CheckFinitePathInputs(study.architecture, study.train.x, train, Split::kTrain,
                        study.config_path + ": data.train_x");
  return std::make_unique<PathKernel>(std::move(train), study.kernel);
}

StudyKernels BuildKernels(const Study& study, int threads) {
  StudyKernels k;
  k.train = BuildTrainKernel(study, threads);
  k.test = ComputePathInputs(study.architecture, study.test.x, Split::kTest, threads);
  CheckFinitePathInputs(study.architecture, study.test.x, k.test, Split::kTest,
                        study.config_path + ": data.test_x");
  return k;
}

void ApplyTask(Task task, PredictorStatistics* stats) {
  if (task == Task::kRegression) stats->accuracy = std::numeric_limits<double>::quiet_NaN();
}

}  // namespace attnpaths
