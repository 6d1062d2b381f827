// attnpaths gp --config run.toml — the GP-limit baseline only (all widths → ∞,
// U = U_GP, theory.md §2, §4): predictions, accuracy, generalisation error.
#include <chrono>
#include <iostream>

#include "cli/commands.h"
#include "cli/report.h"
#include "cli/run_provenance.h"
#include "cli/solution_record.h"
#include "cli/study_run.h"
#include "kernels/error.h"
#include "solver/predictor.h"
#include "study/result_row.h"
#include "study/solution_files.h"
#include "study/solved_for.h"
#include "study/study_kernels.h"

namespace attnpaths::cli {

namespace {

struct GpCliOptions {
  std::string config;
  std::string output;
};

int RunGp(const GpCliOptions& o, const GlobalOptions& g) {
  const auto t0 = std::chrono::steady_clock::now();
  const Study study = LoadStudy(o.config);
  Require(study.temperatures.size() == 1, study.config_path + ": temperatures",
          study.temperatures.size(), "one temperature for gp");
  const double T = study.temperatures[0];
  const std::string out = o.output.empty() ? study.output_directory : o.output;
  ResultFolder folder(out, SolutionFiles());  // locked; removed again if this run fails
  ProgressLine("gp: computing path inputs", g.quiet);
  const StudyKernels k = BuildKernels(study, g.threads);
  const OrderParameters gp = GpLimit(study.architecture, study.train.y.cols());
  PredictorStatistics st = Predict(*k.train, study.train.y, T, gp.U[0], k.test,
                                   study.has_test_labels ? &study.test.y : nullptr);
  ApplyTask(study.task, &st);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const ResultRow row = MakeRow(std::nullopt, nullptr, nullptr, gp, st, secs);
  nlohmann::json extra;
  extra["temperature"] = T;
  extra["kernel_strategy"] = KernelStrategyName(k.train->strategy());
  Provenance run = CommandProvenance(g, study.config_path);
  RecordStudy(study, g, &run);
  extra["provenance"] = run.Json();
  extra["solved_for"] = SolvedForJson(study);
  const nlohmann::json written = StageSolution(folder, row, st, extra);
  folder.Commit({"summary.json"});
  ProgressLine("", g.quiet);
  if (g.json) {
    std::cout << written.dump(2) << std::endl;
  } else {
    std::cout << TableHeader() << "\n" << TableLine(row) << "\nwrote " << out << "/summary.json\n";
  }
  return 0;
}

}  // namespace

void RegisterGp(CLI::App& app, GlobalOptions& global, Command* run) {
  auto* cmd = app.add_subcommand("gp", "The GP-limit (infinite-width) baseline of a study");
  auto o = std::make_shared<GpCliOptions>();
  cmd->add_option("--config,-c", o->config, "The TOML study file")
      ->check(NonEmptyPath())
      ->required();
  cmd->add_option("--output,-o", o->output, "Output directory (default: [output] directory)")
      ->check(NonEmptyPath());
  cmd->add_flag("--json", global.json, "Print the JSON summary on stdout");
  cmd->add_flag("--quiet", global.quiet, "No progress on stderr");
  cmd->add_option("--threads", global.threads, "Threads for path inputs (0: all cores)");
  cmd->callback([o, &global, run] { *run = [o, &global] { return RunGp(*o, global); }; });
}

}  // namespace attnpaths::cli
