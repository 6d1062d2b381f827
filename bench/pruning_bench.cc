// pruning_bench — pruning by re-solving on the paper's Markov task (issue 12
// §4): each reduced network's path inputs selected from the full network's
// (kernels/path_inputs.h SelectPaths, the library's route) against recomputing
// attention for every reduced network (PruningOptions::recompute_path_inputs,
// the former route), measured side by side in one run, printed as Markdown.
//
//   OPENBLAS_NUM_THREADS=1 ./pruning_bench                 # examples/hmm's prune setting
//   OPENBLAS_NUM_THREADS=1 ./pruning_bench --reps 3 --P 400 --P-test 2000 --width 10
//
// Setting: theory.md §8 Markov task (data/hmm.h; training seed 27, test seed
// 59), the four-path architecture at width N, T = 0.01, default PruningOptions
// (increasing, 10 random, decreasing) and SolveOptions, one thread for the
// path inputs. Routes, repetitions interleaved so that each sees the same load:
//   recompute  raw inputs; every reduced network's path inputs from attention
//   select     raw inputs; the full network's once, then selected (the default)
//   kernel     the full network's kernel and test inputs given (as `attnpaths
//              prune` calls it, which has built them already for silencing)
// Times are medians (minimum in brackets) of the whole PruneByResolving call.
// The curves of the routes are compared: accuracies must be equal and the
// generalisation errors agree to the solver's tolerance.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "data/hmm.h"
#include "kernels/path_inputs.h"
#include "kernels/path_kernel.h"
#include "solver/action.h"
#include "solver/pruning.h"
#include "solver/solve.h"

namespace {

using namespace attnpaths;
using bench::Fmt;
using bench::Sec;

using attnpaths::bench::MedianMin;
using attnpaths::bench::Stats;

// max |Δ generalisation error| over every step; -1 when an accuracy differs.
double CurveDifference(const PruningResult& a, const PruningResult& b) {
  double d = 0;
  for (size_t c = 0; c < a.curves.size(); ++c) {
    for (size_t s = 0; s < a.curves[c].steps.size(); ++s) {
      const PruningStep &x = a.curves[c].steps[s], &y = b.curves[c].steps[s];
      if (x.accuracy != y.accuracy) return -1;
      d = std::max(d, std::abs(x.generalization_error - y.generalization_error));
    }
  }
  return d;
}

}  // namespace

int main(int argc, char** argv) {
  int reps = 5;
  HmmTaskOptions task;  // P = 100, seed 27
  Eigen::Index P_test = 1000;
  double width = 10;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--reps")
      reps = std::atoi(argv[i + 1]);
    else if (flag == "--P")
      task.P = std::atol(argv[i + 1]);
    else if (flag == "--P-test")
      P_test = std::atol(argv[i + 1]);
    else if (flag == "--width")
      width = std::atof(argv[i + 1]);
    else {
      std::fprintf(stderr, "error: unknown flag %s (--reps, --P, --P-test, --width)\n", argv[i]);
      return 2;
    }
  }
  const Dataset train = GenerateHmmTask(task);
  HmmTaskOptions test_task = task;
  test_task.P = P_test;
  test_task.seed = 59;
  const Dataset test = GenerateHmmTask(test_task);
  Architecture arch = HmmArchitecture(HmmVariant::kFourPaths, task);
  arch.SetUniform(width);
  const double T = 0.01;

  const auto t_inputs = bench::Clock::now();
  const PathKernel kernel(ComputePathInputs(arch, train.x, Split::kTrain, 1));
  const PathInputs test_inputs = ComputePathInputs(arch, test.x, Split::kTest, 1);
  const double full_inputs_seconds = bench::Since(t_inputs);
  SolveSummary ss;
  const Solution sol = Solve(Action(arch, kernel, train.y, T), SolveOptions(), &ss);
  if (!ss.converged()) {
    std::fprintf(stderr, "error: the full network did not converge: %s\n",
                 ss.BriefReport().c_str());
    return 1;
  }

  PruningOptions select;
  select.threads = 1;
  PruningOptions recompute = select;
  recompute.recompute_path_inputs = true;
  std::vector<double> t_recompute, t_select, t_kernel;
  PruningResult r_recompute, r_select, r_kernel;
  PruningSummary summary;
  for (int k = 0; k < reps; ++k) {
    auto t0 = bench::Clock::now();
    r_recompute = PruneByResolving(arch, train.x, train.y, test.x, test.y, T, sol.order_parameters,
                                   recompute, &summary);
    t_recompute.push_back(bench::Since(t0));
    t0 = bench::Clock::now();
    r_select = PruneByResolving(arch, train.x, train.y, test.x, test.y, T, sol.order_parameters,
                                select, &summary);
    t_select.push_back(bench::Since(t0));
    t0 = bench::Clock::now();
    r_kernel = PruneByResolving(arch, kernel, train.y, test_inputs, test.y, T, sol.order_parameters,
                                select, &summary);
    t_kernel.push_back(bench::Since(t0));
  }
  const Stats a = MedianMin(t_recompute), b = MedianMin(t_select), c = MedianMin(t_kernel);

  std::printf("## Pruning by re-solving: selected vs recomputed path inputs\n\n");
  std::printf("%s; %s; load average %s; OPENBLAS_NUM_THREADS=%s; %d interleaved repetitions.\n\n",
              bench::UtcNow().c_str(), bench::CpuModel().c_str(), bench::LoadAverage().c_str(),
              std::getenv("OPENBLAS_NUM_THREADS") ? std::getenv("OPENBLAS_NUM_THREADS") : "unset",
              reps);
  std::printf(
      "Markov task (theory.md §8), four paths, N = %g, T = 0.01, P = %ld, P* = %ld; %d curves, "
      "%d removals, %d reduced networks solved. Full network's path inputs (train + test, one "
      "thread): %s.\n\n",
      width, static_cast<long>(task.P), static_cast<long>(P_test), summary.curves, summary.steps,
      summary.solves, Sec(full_inputs_seconds).c_str());
  std::printf("| route | PruneByResolving | vs recompute |\n|---|---|---|\n");
  std::printf("| recompute (former) | %s (%s) | 1 |\n", Sec(a.median).c_str(), Sec(a.min).c_str());
  std::printf("| select (raw inputs) | %s (%s) | %s |\n", Sec(b.median).c_str(), Sec(b.min).c_str(),
              Fmt("%.2f", b.median / a.median).c_str());
  std::printf("| select (kernel given) | %s (%s) | %s |\n\n", Sec(c.median).c_str(),
              Sec(c.min).c_str(), Fmt("%.2f", c.median / a.median).c_str());
  const double d_select = CurveDifference(r_recompute, r_select);
  const double d_kernel = CurveDifference(r_select, r_kernel);
  std::printf(
      "Curves: accuracies %s; max |Δ generalisation error| select vs recompute %s, kernel vs "
      "select %s.\n",
      d_select < 0 || d_kernel < 0 ? "DIFFER" : "equal at every step",
      Fmt("%.1e", d_select).c_str(), Fmt("%.1e", d_kernel).c_str());
  return d_select < 0 || d_kernel < 0 ? 1 : 0;
}
