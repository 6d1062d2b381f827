#include "study/gp_study.h"

#include <chrono>

#include "study/result_row.h"
#include "study/solution_files.h"

namespace attnpaths {

GpSolution SolveGpLimit(const Study& study, double temperature, int threads) {
  using Clock = std::chrono::steady_clock;
  const auto t0 = Clock::now();
  GpSolution g;
  g.temperature = temperature;
  g.kernels = BuildKernels(study, threads);
  g.order_parameters = GpLimit(study.architecture, study.train.y.cols());
  g.test = Predict(StudyProblem(study, g.kernels, temperature), g.order_parameters.U[0],
                   g.kernels.test, study.has_test_labels ? &study.test.y : nullptr);
  ApplyTask(study.task, &g.test);
  g.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return g;
}

nlohmann::json WriteGpSolution(ResultFolder& out, const Study& study, const GpSolution& g,
                               const nlohmann::json& provenance) {
  const ResultRow row =
      MakeRow(std::nullopt, nullptr, nullptr, g.order_parameters, g.test, g.seconds);
  const nlohmann::json written =
      StageStudySolution(out, study, row, g.test, g.temperature, provenance,
                         {{"kernel_strategy", KernelStrategyName(g.kernels.train->strategy())}});
  out.Commit({"summary.json"});
  return written;
}

}  // namespace attnpaths
