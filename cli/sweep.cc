// attnpaths sweep --config run.toml — a grid of widths × temperatures.
//
// Points of one temperature form a chain in decreasing N: the largest width
// starts from U_GP (theory.md §8), every other point from the solution of the
// next larger width (continuation in N). Chains run in parallel threads. Each
// finished point is written atomically to <out>/points/ at once; a sweep
// started again with the same command loads the finished points (their U is
// stored exactly) and solves only the missing ones, so it ends with exactly the
// result of an uninterrupted run.
#include "study/sweep.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <thread>

#include "cli/commands.h"
#include "cli/report.h"
#include "cli/run_provenance.h"
#include "data/config.h"
#include "kernels/collective.h"
#include "parallel/communicator.h"
#include "study/study_examples.h"

namespace attnpaths::cli {

namespace {

struct SweepCliOptions {
  std::string config;
  std::string output;
  std::vector<double> widths;
  std::vector<double> temperatures;
};

int RunSweep(const SweepCliOptions& o, const GlobalOptions& g) {
  // Every process of an mpirun reads the study; the sweep splits its columns
  // over them (study/sweep.h). A generated set too large for memory is streamed.
  Study study;
  RunCollectively(Communicator::World(), [&] {
    CheckSweepValues(o.widths, "--widths", 1.0);
    CheckSweepValues(o.temperatures, "--temperatures", 0.0);
    study = LoadStudy(o.config, StudyLoading::kDeferGenerated);
    ResolveStudyData(&study, std::nullopt);  // a generated set streamed in the feature form
  });
  SweepOptions options;
  options.widths = o.widths;
  options.temperatures = o.temperatures;
  options.output = o.output;
  options.threads = g.threads;
  options.provenance = CommandProvenance(g, o.config);
  const char* delay_env = std::getenv("ATTNPATHS_TEST_POINT_DELAY_MS");  // tests only
  const int delay_ms = delay_env ? std::atoi(delay_env) : 0;
  options.progress = [&](const SweepProgress& p) {
    char buf[160];
    if (p.computing_path_inputs) {
      std::snprintf(buf, sizeof buf, "sweep: computing path inputs");
    } else if (p.solved > 0 && p.done < p.total) {
      std::snprintf(buf, sizeof buf, "sweep: %zu/%zu points done, ETA %.0f s", p.done, p.total,
                    p.elapsed_seconds / static_cast<double>(p.solved) *
                        static_cast<double>(p.total - p.done));
    } else {
      std::snprintf(buf, sizeof buf, "sweep: %zu/%zu points done", p.done, p.total);
    }
    ProgressLine(buf, g.quiet);
    if (p.point_solved && delay_ms > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    }
  };
  SweepSummary summary;
  const SweepResult r = Sweep(study, options, &summary);
  ProgressLine("", g.quiet);
  if (g.json) {
    std::cout << r.json.dump(2) << std::endl;
  } else {
    std::cout << r.csv.substr(r.csv.find('\n') + 1) << "wrote " << summary.output
              << "/sweep.csv and sweep.json (" << summary.solved << " points solved, "
              << summary.loaded << " loaded)\n";
  }
  return summary.all_converged ? 0 : 1;
}

}  // namespace

void RegisterSweep(CLI::App& app, GlobalOptions& global, Command* run) {
  auto* cmd = app.add_subcommand(
      "sweep", "Solve a grid of widths x temperatures (warm-started, parallel, resumable)");
  auto o = std::make_shared<SweepCliOptions>();
  cmd->add_option("--config,-c", o->config, "The TOML study file")
      ->check(NonEmptyPath())
      ->required();
  cmd->add_option("--output,-o", o->output, "Output directory (default: [output] directory)")
      ->check(NonEmptyPath());
  cmd->add_option("--widths", o->widths, "Widths N (default: [sweep] widths)");
  cmd->add_option("--temperatures", o->temperatures, "Temperatures (default: the study's)");
  AddRunFlags(cmd, global, "Print the table as JSON on stdout", "Parallel chains");
  cmd->callback([o, &global, run] { *run = [o, &global] { return RunSweep(*o, global); }; });
}

}  // namespace attnpaths::cli
