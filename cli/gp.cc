// attnpaths gp --config run.toml — the GP-limit baseline only (all widths → ∞,
// U = U_GP, theory.md §2, §4): predictions, accuracy, generalisation error.
#include <iostream>

#include "cli/commands.h"
#include "cli/report.h"
#include "cli/run_provenance.h"
#include "kernels/error.h"
#include "study/gp_study.h"
#include "study/result_row.h"
#include "study/solution_files.h"

namespace attnpaths::cli {

namespace {

struct GpCliOptions {
  std::string config;
  std::string output;
};

int RunGp(const GpCliOptions& o, const GlobalOptions& g) {
  const Study study = LoadStudy(o.config);
  Require(study.temperatures.size() == 1, study.config_path + ": temperatures",
          study.temperatures.size(), "one temperature for gp");
  const std::string out = o.output.empty() ? study.output_directory : o.output;
  ResultFolder folder(out, SolutionFiles());  // locked; removed again if this run fails
  ProgressLine("gp: computing path inputs", g.quiet);
  const GpSolution gp = SolveGpLimit(study, study.temperatures[0], g.threads);
  Provenance run = CommandProvenance(g, study.config_path);
  RecordStudy(study, g, &run);
  const nlohmann::json written = WriteGpSolution(folder, study, gp, run.Json());
  ProgressLine("", g.quiet);
  if (g.json) {
    std::cout << written.dump(2) << std::endl;
  } else {
    const ResultRow row =
        MakeRow(std::nullopt, nullptr, nullptr, gp.order_parameters, gp.test, gp.seconds);
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
  AddRunFlags(cmd, global, "Print the JSON summary on stdout", "Threads for path inputs");
  cmd->callback([o, &global, run] { *run = [o, &global] { return RunGp(*o, global); }; });
}

}  // namespace attnpaths::cli
