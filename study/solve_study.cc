#include "study/solve_study.h"

#include <chrono>

#include "kernels/collective.h"
#include "kernels/error.h"
#include "parallel/communicator.h"
#include "solver/action.h"
#include "study/result_row.h"
#include "study/solution_files.h"
#include "study/solved_for.h"
#include "study/test_predictions.h"

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
  // Every process of an MPI run solves the same summed problem; a failure is
  // every process's (kernels/collective.h).
  RunCollectively(Communicator::World(), [&] {
    s.solution = Solve(Action(problem), options, &s.summary);
    if (s.summary.termination == SolveTermination::kFailure) {
      throw Error(ErrorMessage(study.config_path, s.summary.message,
                               "an action that can be evaluated at U_GP (raise the temperature)"));
    }
  });
  s.test = PredictStudyTest(study, *s.kernels.train, s.kernels.test, temperature,
                            s.solution.order_parameters.U[0], threads, options.block_examples);
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
