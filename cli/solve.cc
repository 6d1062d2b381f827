// attnpaths solve --config run.toml — solve the theory at the study's width and
// temperature, predict on its test set, write summary.json and NPY arrays.
#include <chrono>
#include <iostream>

#include "cli/commands.h"
#include "cli/run_provenance.h"
#include "cli/settings_flags.h"
#include "cli/solution_record.h"
#include "cli/study_run.h"
#include "kernels/error.h"
#include "solver/predictor.h"
#include "study/settings.h"

namespace attnpaths::cli {

namespace {

struct SolveCliOptions {
  std::string config;
  std::string output;      // overrides [output] directory
  SettingsFlags settings;  // --method, --gradient-tolerance, --max-iterations ([solver])
};

int RunSolve(const SolveCliOptions& o, const GlobalOptions& g) {
  using Clock = std::chrono::steady_clock;
  const auto t0 = Clock::now();
  Study study = LoadStudy(o.config);
  Require(study.temperatures.size() == 1, study.config_path + ": temperatures",
          study.temperatures.size(), "one temperature for solve (use sweep for several)");
  const double T = study.temperatures[0];
  const std::string out = o.output.empty() ? study.output_directory : o.output;
  ResultFolder folder(out, SolutionFiles());  // locked; removed again if this run fails

  SolveOptions options = o.settings.Read(study).solve;
  ProgressLine("solve: computing path inputs", g.quiet);
  const StudyKernels k = BuildKernels(study, g.threads, options.storage, options.block_examples);
  const Action action(study.architecture, *k.train, study.train.y, T);
  options.progress = [&](const SolveProgress& p) {
    if (p.iteration % 10 == 0) {
      char buf[160];
      std::snprintf(buf, sizeof buf, "solve: iteration %d  S/n_max = %.10g  |grad| = %.2e",
                    p.iteration, p.action, p.gradient_norm);
      ProgressLine(buf, g.quiet);
    }
  };
  SolveSummary summary;
  const Solution sol = Solve(action, options, &summary);
  if (summary.termination == SolveTermination::kFailure) {
    throw Error(ErrorMessage(study.config_path, summary.message,
                             "an action that can be evaluated at U_GP (raise the temperature)"));
  }
  const Eigen::MatrixXd* y_test = study.has_test_labels ? &study.test.y : nullptr;
  PredictorStatistics st =
      Predict(*k.train, study.train.y, T, sol.order_parameters.U[0], k.test, y_test);
  ApplyTask(study.task, &st);
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  const ResultRow row =
      MakeRow(study.architecture.widths.front(), &sol, &summary, sol.order_parameters, st, secs);
  nlohmann::json extra;
  extra["temperature"] = T;
  extra["widths"] = study.architecture.widths;
  extra["kernel_strategy"] = KernelStrategyName(k.train->strategy());
  extra["storage"] = StorageName(k.train->strategy());
  extra["streamed"] = !k.train->has_inputs();
  extra["message"] = summary.message;
  Provenance run = CommandProvenance(g, study.config_path);
  RecordStudy(study, g, &run);
  run.Set("solver", SolverSettings(options));
  extra["provenance"] = run.Json();
  extra["solved_for"] = SolvedForJson(study);
  const nlohmann::json written = StageSolution(folder, row, st, extra);
  folder.Commit({"summary.json"});
  ProgressLine("", g.quiet);
  if (g.json) {
    std::cout << written.dump(2) << std::endl;
  } else {
    std::cout << summary.FullReport() << TableHeader() << "\n"
              << TableLine(row) << "\n"
              << "wrote " << out
              << "/summary.json and U_*.npy, test_mean.npy, test_variance.npy, "
                 "test_covariance.npy\n";
  }
  return summary.converged() ? 0 : 1;
}

}  // namespace

void RegisterSolve(CLI::App& app, GlobalOptions& global, Command* run) {
  auto* cmd =
      app.add_subcommand("solve", "Solve the theory for one TOML study (width, temperature)");
  auto o = std::make_shared<SolveCliOptions>();
  cmd->add_option("--config,-c", o->config, "The TOML study file")
      ->check(NonEmptyPath())
      ->required();
  cmd->add_option("--output,-o", o->output, "Output directory (default: [output] directory)")
      ->check(NonEmptyPath());
  o->settings.Add(cmd, {"solver"});
  cmd->add_flag("--json", global.json, "Print the JSON summary on stdout");
  cmd->add_flag("--quiet", global.quiet, "No progress on stderr");
  cmd->add_option("--threads", global.threads, "Threads for path inputs (0: all cores)");
  cmd->callback([o, &global, run] { *run = [o, &global] { return RunSolve(*o, global); }; });
}

}  // namespace attnpaths::cli
