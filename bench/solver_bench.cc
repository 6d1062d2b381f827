// solver_bench — the solve itself on the paper's Markov task (issue 14 §1):
// the analytic Hessian of the action against the finite-difference one, and
// Newton steps with it, measured side by side in one run, printed as Markdown.
//
//   OPENBLAS_NUM_THREADS=1 ./solver_bench              # 7 widths, 5 repetitions
//   OPENBLAS_NUM_THREADS=1 ./solver_bench --reps 3 --widths 10,100,1000
//
// Setting: theory.md §8 Markov task (data/hmm.h), P = 100 training sequences,
// the four-path architecture, T = 0.01, every width N, default SolveOptions
// except what a configuration changes:
//   before    L-BFGS to max |∂(S/n)/∂U| ≤ 1e-9, Newton polish and stability
//             check with the finite-difference Hessian (2 evaluations per entry)
//   analytic  the same flow with the analytic Hessian (solver/action_hessian.h)
//   hybrid    L-BFGS down to newton_threshold, then Newton (analytic Hessian;
//             1e-3 is the default of SolveOptions)
//   newton    Newton from U_GP (newton_threshold = ∞)
// Every configuration includes the stability check (the Hessian's smallest
// eigenvalue). Repetitions are interleaved (before, analytic, …, before, …) so
// that every configuration sees the same machine load; times are medians
// (minimum in brackets). |ΔU| is max |U_1 − U_1^ref| against a reference
// solved to max |∂(S/n)/∂U| ≤ 1e-13 (Newton from the `before` solution).
// A second table times one action+gradient evaluation, one analytic and one
// finite-difference Hessian at the solution.
#include <Eigen/Eigenvalues>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <functional>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "data/hmm.h"
#include "kernels/path_inputs.h"
#include "kernels/path_kernel.h"
#include "solver/action.h"
#include "solver/action_hessian.h"
#include "solver/hessian.h"
#include "solver/solve.h"

namespace {

using namespace attnpaths;
using bench::Clock;
using bench::Fmt;
using bench::LoadAverage;
using bench::MedianMin;
using bench::Sec;
using bench::Since;
using bench::Stats;

struct Config {
  std::string name;
  SolveOptions options;
};

std::vector<Config> Configs() {
  std::vector<Config> c;
  SolveOptions before;
  before.hessian = SolveOptions::HessianMethod::kFiniteDifferences;
  before.newton_threshold = 0;  // the flow before issue 14: Newton only as a polish
  c.push_back({"before (FD Hessian)", before});
  SolveOptions analytic;
  analytic.newton_threshold = 0;
  c.push_back({"analytic", analytic});
  for (double threshold : {1e-3, 1e-5}) {
    SolveOptions o;
    o.newton_threshold = threshold;
    c.push_back({"hybrid " + Fmt("%.0e", threshold), o});
  }
  SolveOptions newton;
  newton.newton_threshold = std::numeric_limits<double>::infinity();
  newton.max_newton_steps = 100;
  c.push_back({"newton", newton});
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<double> widths = {10, 20, 50, 100, 200, 500, 1000};
  int reps = 5;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--reps" && i + 1 < argc) {
      reps = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--widths" && i + 1 < argc) {
      widths.clear();
      std::stringstream ss(argv[++i]);
      std::string w;
      while (std::getline(ss, w, ',')) widths.push_back(std::atof(w.c_str()));
    } else {
      std::fprintf(stderr, "usage: solver_bench [--reps R] [--widths 10,100,1000]\n");
      return a == "--help" || a == "-h" ? 0 : 2;
    }
  }
  const std::string date = bench::UtcNow();
  const char* threads = std::getenv("OPENBLAS_NUM_THREADS");
  std::printf(
      "# solver_bench\n\n%s; load average %s (1, 5, 15 min) at the start; "
      "OPENBLAS_NUM_THREADS=%s; %d interleaved repetitions.\n\n",
      date.c_str(), LoadAverage().c_str(), threads ? threads : "(unset)", reps);

  HmmTaskOptions task;
  task.P = 100;
  task.seed = 27;
  const Dataset train = GenerateHmmTask(task);
  Architecture arch = HmmArchitecture(HmmVariant::kFourPaths, task);
  const double T = 0.01;
  const std::vector<Config> configs = Configs();

  std::printf("## 1. Solves (P = 100, 4 paths, T = 0.01)\n\n");
  std::printf(
      "| N | configuration | solve | evaluations | Hessians | iterations (Newton) | "
      "max \\|∂(S/n)/∂U\\| | Hessian min eig | \\|ΔU\\| vs ref | vs before |\n");
  std::printf("|---:|:---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  struct EvalRow {
    double N;
    Stats eval, analytic, fd;
    int entries;
    double hessian_difference;
  };
  std::vector<EvalRow> eval_rows;
  for (double N : widths) {
    arch.SetUniform(N);
    const PathKernel kernel(ComputePathInputs(arch, train.x, Split::kTrain));
    const Action action(arch, kernel, train.y, T);
    std::vector<std::vector<double>> times(configs.size());
    std::vector<SolveSummary> summaries(configs.size());
    std::vector<Solution> solutions(configs.size());
    for (int r = 0; r < reps; ++r) {
      for (size_t c = 0; c < configs.size(); ++c) {
        const auto t0 = Clock::now();
        solutions[c] = Solve(action, configs[c].options, &summaries[c]);
        times[c].push_back(Since(t0));
      }
    }
    // The reference: Newton from the `before` solution to 1e-13.
    SolveOptions tight;
    tight.gradient_tolerance = 1e-13;
    tight.newton_threshold = std::numeric_limits<double>::infinity();
    tight.max_newton_steps = 50;
    tight.initial_U = solutions[0].order_parameters.U;
    SolveSummary ref_summary;
    const Solution ref = Solve(action, tight, &ref_summary);
    for (size_t c = 0; c < configs.size(); ++c) {
      const SolveSummary& s = summaries[c];
      const Stats t = MedianMin(times[c]);
      const double du =
          (solutions[c].order_parameters.U[0] - ref.order_parameters.U[0]).cwiseAbs().maxCoeff();
      const double ratio = MedianMin(times[0]).median / t.median;
      std::printf("| %g | %s | %s (%s) | %d | %d | %d (%d) | %.1e | %.4g | %.1e | %s |\n", N,
                  configs[c].name.c_str(), Sec(t.median).c_str(), Sec(t.min).c_str(), s.evaluations,
                  s.hessians, s.iterations, s.newton_steps, s.gradient_norm,
                  s.hessian_min_eigenvalue, du,
                  c == 0 ? "1" : (Fmt("%.2f", ratio) + "× faster").c_str());
    }
    std::printf("| | reference (1e-13) | | | | %d (%d) | %.1e | %.4g | 0 | |\n",
                ref_summary.iterations, ref_summary.newton_steps, ref_summary.gradient_norm,
                ref_summary.hessian_min_eigenvalue);

    // One evaluation, one analytic Hessian, one FD Hessian at the solution.
    std::vector<Eigen::MatrixXd> U = ref.order_parameters.U;
    std::vector<double> te, ta, tf;
    Eigen::MatrixXd Ha, Hf;
    for (int r = 0; r < std::max(reps, 5); ++r) {
      std::vector<Eigen::MatrixXd> g;
      auto t0 = Clock::now();
      action.Evaluate(U, &g);
      te.push_back(Since(t0));
      t0 = Clock::now();
      Ha = ActionHessian(action, U);
      ta.push_back(Since(t0));
      t0 = Clock::now();
      Hf = FiniteDifferenceHessian(action, U);
      tf.push_back(Since(t0));
    }
    eval_rows.push_back({N, MedianMin(te), MedianMin(ta), MedianMin(tf),
                         static_cast<int>(Ha.rows()),
                         (Ha - Hf).cwiseAbs().maxCoeff() / Ha.cwiseAbs().maxCoeff()});
    std::fflush(stdout);
  }

  std::printf("\n## 2. One Hessian at the solution, in evaluations\n\n");
  std::printf(
      "*eval* is one action+gradient evaluation; *analytic* is AnalyticActionHessian "
      "(energy block in the example form at P = 100), *FD* the central differences of the "
      "gradient (2 evaluations per entry); medians (minima), interleaved; *difference* is "
      "max |H_analytic − H_FD| / max |H_analytic|.\n\n");
  std::printf(
      "| N | entries | eval | analytic | FD | analytic / eval | FD / analytic | difference |\n");
  std::printf("|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  for (const auto& r : eval_rows) {
    std::printf("| %g | %d | %s (%s) | %s (%s) | %s (%s) | %.1f | %.1f | %.1e |\n", r.N, r.entries,
                Sec(r.eval.median).c_str(), Sec(r.eval.min).c_str(), Sec(r.analytic.median).c_str(),
                Sec(r.analytic.min).c_str(), Sec(r.fd.median).c_str(), Sec(r.fd.min).c_str(),
                r.analytic.median / r.eval.median, r.fd.median / r.analytic.median,
                r.hessian_difference);
  }
  std::printf("\nload average at the end: %s\n", LoadAverage().c_str());
  return 0;
}
