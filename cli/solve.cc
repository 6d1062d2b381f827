// attnpaths solve --config run.toml — solve the theory at the study's width and
// temperature, predict on its test set, write summary.json and NPY arrays.
#include <chrono>
#include <iostream>
#include <optional>

#include "cli/commands.h"
#include "cli/report.h"
#include "cli/run_provenance.h"
#include "cli/settings_flags.h"
#include "data/result_folder.h"
#include "kernels/collective.h"
#include "kernels/error.h"
#include "parallel/communicator.h"
#include "study/result_row.h"
#include "study/run_record.h"
#include "study/solution_files.h"
#include "study/solve_study.h"
#include "study/study_examples.h"

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
  // Under mpirun every process reads the study (a generated set too large for
  // memory stays a generator) and sums its share of the Gram; rank 0 alone
  // locks and writes the folder (docs/cli.md "Running over MPI").
  const Communicator& world = Communicator::World();
  Study study;
  SolveOptions options;
  double T = 0;
  std::string out;
  std::optional<ResultFolder> folder;  // locked; removed again if this run fails
  RunCollectively(world, [&] {
    study = LoadStudy(o.config, StudyLoading::kDeferGenerated);
    options = o.settings.Read(study).solve;
    ResolveStudyData(&study, options.storage);  // stream a generated set in the feature form
    Require(study.temperatures.size() == 1, study.config_path + ": temperatures",
            study.temperatures.size(), "one temperature for solve (use sweep for several)");
    T = study.temperatures[0];
    out = o.output.empty() ? study.output_directory : o.output;
    if (world.root()) folder.emplace(out, SolutionFiles());
  });

  ProgressLine("solve: computing path inputs", g.quiet);
  options.progress = [&](const SolveProgress& p) {
    if (p.iteration % 10 == 0) {
      char buf[160];
      std::snprintf(buf, sizeof buf, "solve: iteration %d  S/n_max = %.10g  |grad| = %.2e",
                    p.iteration, p.action, p.gradient_norm);
      ProgressLine(buf, g.quiet);
    }
  };
  StudySolution s = SolveStudy(study, T, options, g.threads);
  s.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  Provenance run = CommandProvenance(g, study.config_path);
  RecordStudy(study, g, &run);
  run.Set("solver", SolverSettings(options));
  if (!world.root()) return s.summary.converged() ? 0 : 1;
  const nlohmann::json written = WriteStudySolution(*folder, study, s, run.Json());
  ProgressLine("", g.quiet);
  if (g.json) {
    std::cout << written.dump(2) << std::endl;
  } else {
    const ResultRow row = MakeRow(study.architecture.widths.front(), &s.solution, &s.summary,
                                  s.solution.order_parameters, s.test, s.seconds);
    std::cout << s.summary.FullReport() << TableHeader() << "\n"
              << TableLine(row) << "\n"
              << "wrote " << out
              << "/summary.json and U_*.npy, test_mean.npy, test_variance.npy, "
                 "test_covariance.npy\n";
  }
  return s.summary.converged() ? 0 : 1;
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
  AddRunFlags(cmd, global, "Print the JSON summary on stdout", "Threads for path inputs");
  cmd->callback([o, &global, run] { *run = [o, &global] { return RunSolve(*o, global); }; });
}

}  // namespace attnpaths::cli
