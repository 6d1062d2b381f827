#include "study/solve_study.h"

#include <chrono>

#include "kernels/error.h"
#include "solver/action.h"
#include "study/result_row.h"
#include "study/solution_files.h"

namespace attnpaths {

StudySolution SolveStudy(const Study& study, double temperature, const SolveOptions& options,
                         int threads) {
  using Clock = std::chrono::steady_clock;
  const auto t0 = Clock::now();
  StudySolution s;
  s.temperature = temperature;
  s.options = options;
  s.kernels = BuildKernels(study, threads, options.storage, options.block_examples);
  const PathProblem problem = StudyProblem(study, s.kernels, temperature);
  s.solution = Solve(Action(problem), options, &s.summary);
  if (s.summary.termination == SolveTermination::kFailure) {
    throw Error(ErrorMessage(study.config_path, s.summary.message,
                             "an action that can be evaluated at U_GP (raise the temperature)"));
  }
  const Eigen::MatrixXd* y_test = study.has_test_labels ? &study.test.y : nullptr;
  s.test = Predict(problem, s.solution.order_parameters.U[0], s.kernels.test, y_test);
  ApplyTask(study.task, &s.test);
  s.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return s;
}

nlohmann::json WriteStudySolution(ResultFolder& folder, const Study& study, const StudySolution& s,
                                  const nlohmann::json& provenance) {
  const ResultRow row = MakeRow(study.architecture.widths.front(), &s.solution, &s.summary,
                                s.solution.order_parameters, s.test, s.seconds);
  nlohmann::json extra;
  extra["widths"] = study.architecture.widths;
  extra["kernel_strategy"] = KernelStrategyName(s.kernels.train->strategy());
  extra["storage"] = StorageName(s.kernels.train->strategy());
  extra["streamed"] = !s.kernels.train->has_inputs();
  extra["message"] = s.summary.message;
  const nlohmann::json written =
      StageStudySolution(folder, study, row, s.test, s.temperature, provenance, extra);
  folder.Commit({"summary.json"});
  return written;
}

}  // namespace attnpaths
