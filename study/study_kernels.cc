#include "study/study_kernels.h"

#include <algorithm>
#include <limits>

#include "kernels/error.h"
#include "kernels/example_source.h"
#include "kernels/finite_path_inputs.h"
#include "kernels/gram.h"
#include "study/settings.h"

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

KernelOptions StudyKernelOptions(const Study& study, std::optional<GramStorage> storage) {
  KernelOptions o = study.kernel;
  const GramStorage s = storage ? *storage : ReadStudySettings(study).solve.storage;
  if (s != GramStorage::kAuto) o.strategy = ToKernelStrategy(s);
  o.outputs = std::max<Eigen::Index>(study.train.y.cols(), 1);
  o.zero_temperature = false;
  for (double T : study.temperatures) o.zero_temperature = o.zero_temperature || T == 0;
  return o;
}

std::unique_ptr<PathKernel> BuildTrainKernel(const Study& study, int threads,
                                             std::optional<GramStorage> storage, int stream_block) {
  const KernelOptions options = StudyKernelOptions(study, storage);
  // Refuse before allocating anything large (the error names the size).
  const KernelStrategy strategy = ChooseKernelStrategy(
      options, study.train.x.P(), study.architecture.Htot(), study.train.x.N0());
  if (stream_block >= 0 && strategy == KernelStrategy::kFeatures) {
    // A, b, YᵀY in one streamed pass (kernels/gram.h); no P × M matrix.
    InMemoryExamples source(study.train.x, study.train.y, study.config_path + ": data.train_x");
    StreamOptions so;
    so.block_examples = stream_block;
    so.threads = threads;
    Gram g = AccumulateGram(study.architecture, source, Split::kTrain, so);
    if (!(g.A.allFinite() && g.b.allFinite())) {
      // Name the head or the example (this error path only holds Ξ once).
      const PathInputs xi =
          ComputePathInputs(study.architecture, study.train.x, Split::kTrain, threads);
      CheckFinitePathInputs(study.architecture, study.train.x, xi, Split::kTrain,
                            study.config_path + ": data.train_x");
      throw Error(ErrorMessage(study.config_path + ": data.train_x",
                               "path inputs whose Gram A = Xi^T Xi is not finite (overflow)",
                               "inputs whose attention and path inputs stay finite"));
    }
    return std::make_unique<PathKernel>(std::move(g));
  }
  return std::make_unique<PathKernel>(StudyPathInputs(study, Split::kTrain, threads), options);
}

StudyKernels BuildKernels(const Study& study, int threads, std::optional<GramStorage> storage,
                          int stream_block) {
  StudyKernels k;
  k.train = BuildTrainKernel(study, threads, storage, stream_block);
  k.test = StudyPathInputs(study, Split::kTest, threads);
  return k;
}

PathProblem StudyProblem(const Study& study, const StudyKernels& kernels, double temperature) {
  PathProblem problem;
  problem.architecture = study.architecture;
  problem.train = kernels.train;
  problem.Y = study.train.y;
  problem.temperature = temperature;
  return problem;
}

void ApplyTask(Task task, PredictorStatistics* stats) {
  if (task == Task::kRegression) stats->accuracy = std::numeric_limits<double>::quiet_NaN();
}

}  // namespace attnpaths
