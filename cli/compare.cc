// attnpaths compare --config run.toml — solve the theory and sample the finite
// network at the same width, P and temperature, and put them side by side
// (theory.md §4 vs §5): predictor mean and variance on the test set,
// accuracy, generalisation error and every entry of U_1 vs U^sampled, each
// with the sampled standard error and the difference in standard errors.
// Writes compare.json, compare.csv, the theory's files (summary.json, U_*.npy,
// test_*.npy) and the sampler's (sample_summary.json, draws.h5, …).
#include <cstdio>
#include <iostream>

#include "cli/commands.h"
#include "cli/report.h"
#include "cli/run_provenance.h"
#include "cli/sample_run.h"
#include "data/result_folder.h"
#include "kernels/error.h"
#include "study/compare_study.h"
#include "study/settings.h"

namespace attnpaths::cli {

namespace {

int RunCompare(const SampleCommandOptions& o, const GlobalOptions& g) {
  const SampleRunStudy loaded = LoadSampleStudy(o, "compare");
  const Study& study = loaded.study;
  const double T = loaded.temperature;
  const std::string& out = loaded.output;
  ResultFolder folder(out, ComparisonFiles());  // locked; removed again if this run fails
  const SampleOptions sample_options = MakeSampleOptions(o.sampler, study, g, "compare: sampling");

  ProgressLine("compare: computing path inputs", g.quiet);
  SolveOptions solve_options = ReadStudySettings(study).solve;
  solve_options.progress = [&](const SolveProgress& p) {
    if (p.iteration % 10 == 0) {
      char buf[160];
      std::snprintf(buf, sizeof buf, "compare: solving, iteration %d  |grad| = %.2e", p.iteration,
                    p.gradient_norm);
      ProgressLine(buf, g.quiet);
    }
  };
  const CompareStudyResult r = CompareStudy(study, T, solve_options, sample_options, g.threads);
  ProgressLine("", g.quiet);

  Provenance run = CommandProvenance(g, study.config_path);
  RecordStudy(study, g, &run);
  const nlohmann::json j = WriteComparison(folder, study, r, run);
  if (g.json) {
    std::cout << j.dump(2) << std::endl;
  } else {
    std::cout << r.theory.summary.BriefReport() << "\n" << r.sample_summary.BriefReport() << "\n";
    for (const std::string& w : r.sample_summary.warnings) std::cout << "warning: " << w << "\n";
    std::cout << r.comparison.Table();
    std::cout << "wrote " << out << "/compare.json, compare.csv, summary.json, "
              << "sample_summary.json, draws.h5\n";
  }
  return r.ok() ? 0 : 1;
}

}  // namespace

void RegisterCompare(CLI::App& app, GlobalOptions& global, Command* run) {
  auto* cmd = app.add_subcommand(
      "compare", "Solve the theory and sample the network at the same settings; compare them");
  auto o = std::make_shared<SampleCommandOptions>();
  AddSampleCommandFlags(cmd, o.get(), global, "Print the JSON comparison on stdout");
  cmd->callback([o, &global, run] { *run = [o, &global] { return RunCompare(*o, global); }; });
}

}  // namespace attnpaths::cli
