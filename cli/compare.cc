// attnpaths compare --config run.toml — solve the theory and sample the finite
// network at the same width, P and temperature, and put them side by side
// (theory.md §4 vs §5): predictor mean and variance on the test set,
// accuracy, generalisation error and every entry of U_1 vs U^sampled, each
// with the sampled standard error and the difference in standard errors.
// Writes compare.json, compare.csv, the theory's files (summary.json, U_*.npy,
// test_*.npy) and the sampler's (sample_summary.json, draws.h5, …).
#include <cmath>
#include <cstdio>
#include <iostream>
#include <limits>
#include <sstream>

#include "cli/commands.h"
#include "cli/report.h"
#include "cli/run_provenance.h"
#include "cli/sample_run.h"
#include "cli/solution_record.h"
#include "cli/study_run.h"
#include "data/atomic_file.h"
#include "data/result_index.h"
#include "kernels/error.h"
#include "sampler/diagnostics.h"
#include "sampler/estimates.h"
#include "solver/predictor.h"
#include "study/comparison.h"
#include "study/result_row.h"
#include "study/run_record.h"
#include "study/settings.h"
#include "study/solution_files.h"
#include "study/solve_study.h"
#include "study/solved_for.h"
#include "study/study_kernels.h"

namespace attnpaths::cli {

namespace {

struct CompareOptions {
  std::string config;
  std::string output;
  SampleCliOptions sampler;
};

nlohmann::json Number(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(); }

int RunCompare(const CompareOptions& o, const GlobalOptions& g) {
  using Clock = std::chrono::steady_clock;
  const auto t0 = Clock::now();
  const Study study = LoadSampleStudy(o.config, o.sampler);
  Require(study.temperatures.size() == 1, study.config_path + ": temperatures",
          study.temperatures.size(), "one temperature for compare");
  const double T = study.temperatures[0];
  const std::string out = o.output.empty() ? study.output_directory : o.output;
  std::vector<std::string> owned = SolutionFiles();
  for (const std::string& f : SampleFiles()) owned.push_back(f);
  owned.insert(owned.end(), {"compare.json", "compare.csv"});
  ResultFolder folder(out, owned);  // locked; removed again if this run fails
  const SampleOptions sample_options = MakeSampleOptions(o.sampler, study, g, "compare: sampling");

  ProgressLine("compare: computing path inputs", g.quiet);
  // Theory (theory.md §3–§4).
  SolveOptions solve_options = ReadStudySettings(study).solve;
  solve_options.progress = [&](const SolveProgress& p) {
    if (p.iteration % 10 == 0) {
      char buf[160];
      std::snprintf(buf, sizeof buf, "compare: solving, iteration %d  |grad| = %.2e", p.iteration,
                    p.gradient_norm);
      ProgressLine(buf, g.quiet);
    }
  };
  const StudySolution solved = SolveStudy(study, T, solve_options, g.threads);
  const StudyKernels& k = solved.kernels;
  const Solution& sol = solved.solution;
  const SolveSummary& solve_summary = solved.summary;
  const PredictorStatistics& theory = solved.test;
  const Eigen::MatrixXd& U = sol.order_parameters.U[0];
  const Eigen::MatrixXd* y_test = study.has_test_labels ? &study.test.y : nullptr;
  const double solve_seconds = std::chrono::duration<double>(Clock::now() - t0).count();

  // Sampling (theory.md §5).
  SampleSummary summary;
  const SampleResult r = Sample(study.architecture, k.train->inputs(), study.train.y, T, k.test,
                                sample_options, &summary, y_test);
  ProgressLine("", g.quiet);

  // Side by side.
  const Comparison comparison = CompareTheoryAndSamples(study, theory, U, r, summary);

  // Files: the theory's, the sampler's, and the comparison.
  Provenance run = CommandProvenance(g, study.config_path);
  RecordStudy(study, g, &run);
  run.Set("solver", SolverSettings(solve_options));
  run.Set("sampler", SamplerSettings(sample_options));
  run.Set("seed", sample_options.seed);
  const nlohmann::json provenance = run.Json();
  nlohmann::json extra;
  extra["provenance"] = provenance;
  extra["temperature"] = T;
  extra["widths"] = study.architecture.widths;
  extra["message"] = solve_summary.message;
  extra["solved_for"] = SolvedForJson(study);
  StageSolution(folder,
                MakeRow(study.architecture.widths.front(), &sol, &solve_summary,
                        sol.order_parameters, theory, solve_seconds),
                theory, extra);
  nlohmann::json sampled = SampleJson(study, r, summary, T);
  sampled["provenance"] = provenance;
  StageSampleOutputs(folder, r, summary, sampled, "sample_summary.json", run);
  nlohmann::json j;
  j["name"] = study.name;
  j["N"] = study.architecture.widths.front();
  j["temperature"] = T;
  j["theory"] = {{"converged", solve_summary.converged()},
                 {"message", solve_summary.message},
                 {"action", sol.action}};
  j["sampling"] = {{"termination", SampleTerminationName(summary.termination)},
                   {"message", summary.message},
                   {"warnings", summary.warnings},
                   {"max_rhat", Number(summary.max_rhat)},
                   {"min_ess_bulk", Number(summary.min_ess_bulk)},
                   {"divergences", summary.total_divergences}};
  const bool counted = comparison.counted > 0;
  j["test_mean_abs_z"] = counted ? Number(comparison.mean_abs_z) : nlohmann::json();
  j["test_mean_within_3se"] =
      counted ? Number(double(comparison.within3) / comparison.counted) : nlohmann::json();
  j["rows"] = comparison.RowsJson();
  j["test_points"] = comparison.TestPointsJson();
  j["provenance"] = provenance;
  WriteFileAtomically(folder.Path("compare.csv"), run.CsvComment() + comparison.Csv());
  j["files"] = FilesJson(folder.Staged({"compare.csv"}));
  WriteFileAtomically(folder.Path("compare.json"), j.dump(2) + "\n");
  folder.Commit({"summary.json", "sample_summary.json", "compare.json"});

  if (g.json) {
    std::cout << j.dump(2) << std::endl;
  } else {
    std::cout << solve_summary.BriefReport() << "\n" << summary.BriefReport() << "\n";
    for (const std::string& w : summary.warnings) std::cout << "warning: " << w << "\n";
    std::cout << comparison.Table();
    std::cout << "wrote " << out << "/compare.json, compare.csv, summary.json, "
              << "sample_summary.json, draws.h5\n";
  }
  return solve_summary.converged() && summary.completed() ? 0 : 1;
}

}  // namespace

void RegisterCompare(CLI::App& app, GlobalOptions& global, Command* run) {
  auto* cmd = app.add_subcommand(
      "compare", "Solve the theory and sample the network at the same settings; compare them");
  auto o = std::make_shared<CompareOptions>();
  cmd->add_option("--config,-c", o->config, "The TOML study file")
      ->check(NonEmptyPath())
      ->required();
  cmd->add_option("--output,-o", o->output, "Output directory (default: [output] directory)")
      ->check(NonEmptyPath());
  AddSampleFlags(cmd, &o->sampler);
  cmd->add_flag("--json", global.json, "Print the JSON comparison on stdout");
  cmd->add_flag("--quiet", global.quiet, "No progress on stderr");
  cmd->add_option("--threads", global.threads,
                  "Threads for path inputs and chains (0: one per chain, at most all cores)");
  cmd->callback([o, &global, run] { *run = [o, &global] { return RunCompare(*o, global); }; });
}

}  // namespace attnpaths::cli
