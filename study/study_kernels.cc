#include "study/study_kernels.h"

#include <algorithm>
#include <limits>

#include "kernels/collective.h"
#include "kernels/error.h"
#include "kernels/example_range.h"
#include "kernels/example_source.h"
#include "kernels/finite_path_inputs.h"
#include "kernels/gram.h"
#include "study/settings.h"
#include "study/study_examples.h"

namespace attnpaths {

PathInputs StudyPathInputs(const Study& study, Split split, int threads) {
  const bool train = split == Split::kTrain;
  Require(!Streamed(study, split), StudyExamplesField(study, split),
          std::to_string(StudyExamples(study, split)) +
              " generated examples, too many to hold their path inputs in memory",
          "a smaller set (this command holds every example's path inputs)");
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
  const Eigen::Index P = StudyExamples(study, Split::kTrain);
  // Refuse before allocating anything large (the error names the size).
  const KernelStrategy strategy =
      ChooseKernelStrategy(options, P, study.architecture.Htot(), study.train.x.N0());
  const bool streamed = Streamed(study, Split::kTrain);
  if (streamed && strategy != KernelStrategy::kFeatures) {
    throw Error(ErrorMessage(
        study.config_path + ": solver.storage",
        std::string("\"") + StorageName(strategy) + "\" for a generated set of P = " +
            std::to_string(P) + " examples, too large to hold in memory",
        "storage = \"features\" (or \"auto\"): the set is streamed through A = Xi^T Xi"));
  }
  const Communicator& world = Communicator::World();
  if (strategy == KernelStrategy::kFeatures &&
      (stream_block >= 0 || streamed || world.size() > 1)) {
    // A, b, YᵀY in one streamed pass (kernels/gram.h); no P × M matrix. In a
    // data-parallel run each process sums its share of the examples and one
    // all-reduce gives every process the whole Gram (theory.md §10).
    const std::unique_ptr<ExampleSource> source = OpenStudyExamples(study, Split::kTrain);
    const auto [begin, end] = world.Share(source->P());
    ExampleRange mine(*source, begin, end);
    StreamOptions so;
    so.block_examples = std::max(stream_block, 0);
    so.threads = threads;
    Gram g;
    RunCollectively(world, [&] {
      g = AccumulateGram(study.architecture, mine, Split::kTrain, so);
      if (g.A.allFinite() && g.b.allFinite()) return;
      if (!streamed && world.size() == 1) {
        // Name the head or the example (this error path only holds Ξ once).
        const PathInputs xi =
            ComputePathInputs(study.architecture, study.train.x, Split::kTrain, threads);
        CheckFinitePathInputs(study.architecture, study.train.x, xi, Split::kTrain,
                              study.config_path + ": data.train_x");
      }
      throw Error(ErrorMessage(StudyExamplesField(study, Split::kTrain) + " examples [" +
                                   std::to_string(begin) + ", " + std::to_string(end) + ")",
                               "path inputs whose Gram A = Xi^T Xi is not finite (overflow)",
                               "inputs whose attention and path inputs stay finite"));
    });
    SumOverRanks(world, &g);
    return std::make_unique<PathKernel>(std::move(g));
  }
  return std::make_unique<PathKernel>(StudyPathInputs(study, Split::kTrain, threads), options);
}

StudyKernels BuildKernels(const Study& study, int threads, std::optional<GramStorage> storage,
                          int stream_block) {
  StudyKernels k;
  k.train = BuildTrainKernel(study, threads, storage, stream_block);
  // A streamed test set, or one split over the processes of an MPI run, is
  // predicted block by block (study/test_predictions.h).
  if (!TestSetInBlocks(study)) k.test = StudyPathInputs(study, Split::kTest, threads);
  return k;
}

bool TestSetInBlocks(const Study& study) { return Streamed(study, Split::kTest); }

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
