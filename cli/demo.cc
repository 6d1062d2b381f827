// attnpaths demo — the paper's 4-path hidden-Markov-chain setting (theory.md §8):
// L = 2, layer 1 {same_token β=10, blank p=1}, layer 2 {uniform, blank p=1},
// P = 100 train / 1000 test, 30 chain tokens + BOS, N_f = 200, noise (1,1,1),
// σ² = 1, T = 0.01, last-token readout, N ∈ {10, 30, 100, 300, 1000} and the GP limit.
#include <chrono>
#include <cmath>
#include <iostream>

#include "cli/commands.h"
#include "cli/report.h"
#include "data/config.h"
#include "data/hmm.h"
#include "data/size_limit.h"
#include "kernels/error.h"
#include "kernels/path_kernel.h"
#include "solver/predictor.h"
#include "solver/solve.h"
#include "study/result_row.h"

namespace attnpaths::cli {

namespace {

struct DemoOptions {
  std::vector<double> widths{10, 30, 100, 300, 1000};
  double temperature = 0.01;
  Eigen::Index P = 100, P_test = 1000;
};

int RunDemo(const DemoOptions& o, const GlobalOptions& g) {
  using Clock = std::chrono::steady_clock;
  // Every flag is checked before anything is printed or allocated.
  CheckSweepValues(o.widths, "--widths", 1.0);
  Require(!o.widths.empty(), "--widths", "nothing", "at least one width");
  Require(std::isfinite(o.temperature) && o.temperature >= 0, "--temperature", o.temperature,
          "a finite value >= 0");
  Require(o.P >= 2, "--train", o.P, "at least 2 training examples (both classes)");
  Require(o.P_test >= 1, "--test", o.P_test, "at least 1 test example");
  HmmTaskOptions task;
  const double n_tok = static_cast<double>(task.chain_tokens) + 1;
  const double N0 = static_cast<double>(task.N_f) + n_tok;
  RequireGeneratedSize("--train", "P*n_tok*N0", {static_cast<double>(o.P), n_tok, N0});
  RequireGeneratedSize("--test", "P*n_tok*N0", {static_cast<double>(o.P_test), n_tok, N0});
  task.P = o.P;
  task.seed = 27;
  const Dataset train = GenerateHmmTask(task);
  task.P = o.P_test;
  task.seed = 59;
  const Dataset test = GenerateHmmTask(task);
  Architecture arch = HmmArchitecture(HmmVariant::kFourPaths, task);

  ProgressLine("demo: computing path inputs for " + std::to_string(o.P) + " train and " +
                   std::to_string(o.P_test) + " test sequences",
               g.quiet);
  const PathKernel kernel(ComputePathInputs(arch, train.x, Split::kTrain, g.threads));
  const PathInputs test_inputs = ComputePathInputs(arch, test.x, Split::kTest, g.threads);

  std::vector<ResultRow> rows;
  if (!g.json) std::cout << TableHeader() << "\n";
  bool all_converged = true;
  for (double N : o.widths) {
    const auto t0 = Clock::now();
    arch.SetUniform(N);
    const Action action(arch, kernel, train.y, o.temperature);
    SolveOptions options;
    options.progress = [&](const SolveProgress& p) {
      if (p.iteration % 10 == 0) {
        char buf[160];
        std::snprintf(buf, sizeof buf, "demo: N = %g  iteration %d  S/N = %.8f  |grad| = %.2e", N,
                      p.iteration, p.action, p.gradient_norm);
        ProgressLine(buf, g.quiet);
      }
    };
    SolveSummary summary;
    const Solution sol = Solve(action, options, &summary);
    const PredictorStatistics st =
        Predict(kernel, train.y, o.temperature, sol.order_parameters.U[0], test_inputs, &test.y);
    const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    rows.push_back(MakeRow(N, &sol, &summary, sol.order_parameters, st, secs));
    all_converged = all_converged && summary.converged();
    ProgressLine("", g.quiet);
    if (!g.json) std::cout << TableLine(rows.back()) << std::endl;
  }
  {
    const auto t0 = Clock::now();
    const OrderParameters gp = GpLimit(arch);
    const PredictorStatistics st =
        Predict(kernel, train.y, o.temperature, gp.U[0], test_inputs, &test.y);
    const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    rows.push_back(MakeRow(std::nullopt, nullptr, nullptr, gp, st, secs));
    if (!g.json) std::cout << TableLine(rows.back()) << std::endl;
  }
  if (g.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& r : rows) out.push_back(RowJson(r));
    std::cout << out.dump(2) << std::endl;
  }
  return all_converged ? 0 : 1;
}

}  // namespace

void RegisterDemo(CLI::App& app, GlobalOptions& global, Command* run) {
  auto* cmd = app.add_subcommand(
      "demo", "Run the paper's 4-path Markov-chain setting over widths N and the GP limit");
  auto o = std::make_shared<DemoOptions>();
  cmd->add_option("--widths", o->widths, "Widths N to solve (every n_l = N)")
      ->capture_default_str();
  cmd->add_option("--temperature", o->temperature, "Temperature T")->capture_default_str();
  cmd->add_option("--train", o->P, "Training examples P")->capture_default_str();
  cmd->add_option("--test", o->P_test, "Test examples")->capture_default_str();
  AddRunFlags(cmd, global, "Print a JSON array, one object per row", "Threads for path inputs");
  cmd->callback([o, &global, run] { *run = [o, &global] { return RunDemo(*o, global); }; });
}

}  // namespace attnpaths::cli
