// core_bench — the figures issue 3 ("Benchmark") asks for, printed as Markdown.
//
//   OPENBLAS_CORETYPE=SkylakeX ./core_bench            # full run
//   OPENBLAS_CORETYPE=SkylakeX ./core_bench --quick    # a small subset (seconds)
//   OPENBLAS_CORETYPE=SkylakeX ./core_bench --no-demo --P 1600,4000 --H 8x8
//
// bench/results/core_bench.md is a full run with `--max-gib 6` and
// OPENBLAS_NUM_THREADS=1 (14 minutes on a 2-vCPU AMD EPYC machine while
// builds kept its load average near 5; with 2 BLAS threads on a busy
// machine OpenBLAS' spinning threads make every LAPACK call tens of times
// slower, so single-threaded BLAS gives the steadier ratios). Most of the
// time goes to the path inputs at P = 4000 and the precomputed kernels.
//
// 1. The demo setting (theory.md §8 Markov task, data/hmm.h): kernel build
//    time, solve time with and without the Hessian check, iterations,
//    evaluations and the time of one action+gradient evaluation (median).
// 2. Scaling with P and the number of paths: for every configuration, in a
//    fork()ed child (so that VmHWM is the configuration's own peak), the path
//    inputs, the kernel build, one action+gradient evaluation, and in the same
//    process the dense linear algebra the evaluation cannot avoid — one DGEMM
//    of the size that forms K_U (P × Htot·N0 × P factored, P × P × P
//    precomputed) plus a Cholesky (LAPACK dpotrf) of G — with their ratio
//    (goal: ≤ 2), and Eigen's GEMM at the same size against OpenBLAS dgemm.
#include <sys/wait.h>
#include <unistd.h>

#include <Eigen/Core>
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <functional>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "data/hmm.h"
#include "kernels/path_inputs.h"
#include "kernels/path_kernel.h"
#include "solver/action.h"
#include "solver/order_parameters.h"
#include "solver/solve.h"

extern "C" {
// BLAS / LAPACK (Fortran ABI; trailing size_t are hidden string lengths).
void dgemm_(const char* transa, const char* transb, const int* m, const int* n, const int* k,
            const double* alpha, const double* a, const int* lda, const double* b, const int* ldb,
            const double* beta, double* c, const int* ldc, size_t, size_t);
void dpotrf_(const char* uplo, const int* n, double* a, const int* lda, int* info, size_t);
// OpenBLAS extensions; weak so the bench still links against another BLAS.
int openblas_get_num_threads(void) __attribute__((weak));
char* openblas_get_corename(void) __attribute__((weak));
}

namespace {

using namespace attnpaths;
using Clock = std::chrono::steady_clock;

double Since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Median (and minimum) of repeated timings: at least min_reps, then more while
// the total stays under budget_seconds, at most max_reps. `setup` runs untimed
// before each repetition. On a shared machine the minimum is the figure least
// disturbed by other processes.
struct Timing {
  double median = 0, min = 0;
  int reps = 0;
};

Timing TimeMedian(const std::function<void()>& run, int min_reps, int max_reps,
                  double budget_seconds, const std::function<void()>& setup = {}) {
  std::vector<double> t;
  double total = 0;
  while (static_cast<int>(t.size()) < max_reps &&
         (static_cast<int>(t.size()) < min_reps || total < budget_seconds)) {
    if (setup) setup();
    const auto t0 = Clock::now();
    run();
    t.push_back(Since(t0));
    total += t.back();
  }
  std::sort(t.begin(), t.end());
  const size_t n = t.size();
  return {n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]), t.front(), static_cast<int>(n)};
}

std::string Fmt(const char* format, double value) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, value);
  return buf;
}

// Seconds with a unit that keeps three significant digits readable.
std::string Sec(double s) {
  if (s < 1e-3) return Fmt("%.1f µs", s * 1e6);
  if (s < 1.0) return Fmt("%.2f ms", s * 1e3);
  return Fmt("%.2f s", s);
}

std::string GiB(double bytes) {
  const double g = bytes / double(1ull << 30);
  return g < 0.1 ? Fmt("%.1f MiB", bytes / double(1ull << 20)) : Fmt("%.2f GiB", g);
}

// "12.3 ms (11.9)": median and, in brackets, minimum.
std::string MedMin(const Timing& t) {
  std::string m = Sec(t.min);
  const std::string med = Sec(t.median);
  // Drop the unit from the minimum when it matches the median's.
  const size_t sp = m.find(' ');
  if (sp != std::string::npos && med.size() > sp && med.substr(med.find(' ')) == m.substr(sp)) {
    m = m.substr(0, sp);
  }
  return med + " (" + m + ")";
}

std::string Ratio(double r) { return r <= 2 ? Fmt("%.2f", r) : "**" + Fmt("%.2f", r) + "**"; }

void Progress(const std::string& text) { std::fprintf(stderr, "core_bench: %s\n", text.c_str()); }

// VmHWM (peak resident set) of this process in bytes.
double PeakRssBytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return 1024.0 * std::atof(line.c_str() + 6);
  }
  return -1;
}

double MemAvailableBytes() {
  std::ifstream meminfo("/proc/meminfo");
  std::string line;
  while (std::getline(meminfo, line)) {
    if (line.rfind("MemAvailable:", 0) == 0) return 1024.0 * std::atof(line.c_str() + 13);
  }
  return -1;
}

std::string LoadAverage() {
  std::ifstream f("/proc/loadavg");
  double a = 0, b = 0, c = 0;
  f >> a >> b >> c;
  return Fmt("%.2f", a) + " " + Fmt("%.2f", b) + " " + Fmt("%.2f", c);
}

std::string CpuModel() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  }
  return "unknown";
}

// ---------------------------------------------------------------- dense references

// C = A Bᵀ with OpenBLAS (A, B: m × k).
void BlasGemm(const Eigen::MatrixXd& A, const Eigen::MatrixXd& B, Eigen::MatrixXd* C) {
  const int m = static_cast<int>(A.rows()), n = static_cast<int>(B.rows()),
            k = static_cast<int>(A.cols());
  const double one = 1.0, zero = 0.0;
  dgemm_("N", "T", &m, &n, &k, &one, A.data(), &m, B.data(), &n, &zero, C->data(), &m, 1, 1);
}

// In-place lower Cholesky; returns LAPACK's info.
int BlasCholesky(Eigen::MatrixXd* S) {
  const int n = static_cast<int>(S->rows());
  int info = 0;
  dpotrf_("L", &n, S->data(), &n, &info, 1);
  return info;
}

// ---------------------------------------------------------------- part 1: demo setting

struct DemoConfig {
  std::vector<double> widths;
  int solve_reps;
  int eval_min_reps, eval_max_reps;
  double eval_budget;
};

void RunDemo(const DemoConfig& cfg) {
  std::printf("## 1. Demo setting (P = 100, 1000 test, 4 paths, T = 0.01)\n\n");
  HmmTaskOptions task;
  task.P = 100;
  task.seed = 27;
  const Dataset train = GenerateHmmTask(task);
  task.P = 1000;
  task.seed = 59;
  const Dataset test = GenerateHmmTask(task);
  Architecture arch = HmmArchitecture(HmmVariant::kFourPaths, task);

  // Kernel build: path inputs for train + test and the PathKernel (median of 3).
  PathInputs train_inputs, test_inputs;
  const Timing t_train =
      TimeMedian([&] { train_inputs = ComputePathInputs(arch, train.x, Split::kTrain); }, 3, 3, 0);
  const Timing t_test =
      TimeMedian([&] { test_inputs = ComputePathInputs(arch, test.x, Split::kTest); }, 3, 3, 0);
  std::unique_ptr<PathKernel> kernel;
  const Timing t_kernel = TimeMedian(
      [&] {
        kernel.reset();
        kernel = std::make_unique<PathKernel>(train_inputs);  // copies Ξ (counted)
      },
      3, 3, 0);
  std::printf(
      "Kernel build (median of 3): path inputs train %s + test %s + PathKernel %s "
      "(strategy %s, %s) = **%s**\n\n",
      Sec(t_train.median).c_str(), Sec(t_test.median).c_str(), Sec(t_kernel.median).c_str(),
      KernelStrategyName(kernel->strategy()), GiB(kernel->memory_bytes()).c_str(),
      Sec(t_train.median + t_test.median + t_kernel.median).c_str());

  // The other strategy on the same inputs: its evaluation time, and a check
  // that both strategies give the same action and gradient.
  const PathKernel other(
      train_inputs, {kernel->strategy() == KernelStrategy::kFactored ? KernelStrategy::kPrecomputed
                                                                     : KernelStrategy::kFactored});
  std::printf(
      "*solve* is Solve with the default SolveOptions (L-BFGS to max |∂(S/N)/∂U| ≤ 1e-9, "
      "then the Hessian check), median of %d; *eval* is one action+gradient evaluation at the "
      "solution, median (minimum) of *reps*, with the strategy kAuto picks (%s); *other* is the "
      "same with the %s strategy, and *diff* the largest relative difference between the two "
      "in S and ∂S/∂U at U_GP.\n\n",
      cfg.solve_reps, KernelStrategyName(kernel->strategy()), KernelStrategyName(other.strategy()));
  std::printf(
      "| N | solve (with Hessian) | of which Hessian | solve (no Hessian) | iterations | "
      "evaluations | eval in solve (mean) | eval | reps | other | diff | "
      "Hessian min eig | S/N | converged |\n");
  std::printf("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|:---:|\n");
  for (double N : cfg.widths) {
    Progress("demo N = " + Fmt("%g", N));
    arch.SetUniform(N);
    const Action action(arch, *kernel, train.y, 0.01);
    // Each solve three times (median), with and without the Hessian check.
    SolveOptions with_hessian, no_hessian;
    no_hessian.compute_hessian = false;
    SolveSummary s_h, s_n;
    Solution sol;
    const Timing solve_h = TimeMedian([&] { sol = Solve(action, with_hessian, &s_h); },
                                      cfg.solve_reps, cfg.solve_reps, 0);
    const Timing solve_n =
        TimeMedian([&] { Solve(action, no_hessian, &s_n); }, cfg.solve_reps, cfg.solve_reps, 0);

    std::vector<Eigen::MatrixXd> grad;
    const auto& U = sol.order_parameters.U;
    const Timing t_eval = TimeMedian([&] { action.Evaluate(U, &grad); }, cfg.eval_min_reps,
                                     cfg.eval_max_reps, cfg.eval_budget);
    const Action other_action(arch, other, train.y, 0.01);
    std::vector<Eigen::MatrixXd> other_grad;
    const Timing t_other = TimeMedian([&] { other_action.Evaluate(U, &other_grad); },
                                      cfg.eval_min_reps, cfg.eval_max_reps, cfg.eval_budget);
    // At the start U_GP, where the gradient is far from zero.
    const auto U_gp = GpOrderParameters(arch).U;
    const double S1 = action.Evaluate(U_gp, &grad).S;
    const double S2 = other_action.Evaluate(U_gp, &other_grad).S;
    double diff = std::abs(S1 - S2) / std::abs(S1);
    for (size_t l = 0; l < grad.size(); ++l) {
      diff = std::max(
          diff, (grad[l] - other_grad[l]).cwiseAbs().maxCoeff() / grad[l].cwiseAbs().maxCoeff());
    }
    std::printf("| %g | %s | %s | %s | %d | %d | %s | %s | %d | %s | %.1e | %.3g | %.10f | %s |\n",
                N, Sec(solve_h.median).c_str(), Sec(s_h.hessian_seconds).c_str(),
                Sec(solve_n.median).c_str(), s_h.iterations, s_h.evaluations,
                Sec(s_h.evaluation_seconds / std::max(1, s_h.evaluations)).c_str(),
                MedMin(t_eval).c_str(), t_eval.reps, MedMin(t_other).c_str(), diff,
                s_h.hessian_min_eigenvalue, s_h.final_action / arch.n_max(),
                s_h.converged() ? "yes" : "**no**");
    std::fflush(stdout);
  }
  std::printf("\n");
}

// ---------------------------------------------------------------- part 2: scaling

struct ScalingCase {
  Eigen::Index P;
  std::vector<Eigen::Index> H;
};

std::string HeadsText(const std::vector<Eigen::Index>& H) {
  std::string s = "(";
  for (size_t i = 0; i < H.size(); ++i) s += (i ? "," : "") + std::to_string(H[i]);
  return s + ")";
}

// Layer 1: same_token, then alternately blank (p = 1) and perturbed same_token
// (p = 0.5); layers ≥ 2: uniform, then blank heads (p = 1). Every perturbation
// has its own seed, so all heads differ.
Architecture ScalingArchitecture(const std::vector<Eigen::Index>& H, const HmmTaskOptions& task) {
  Architecture arch;
  arch.readout = Readout::kLast;
  for (size_t l = 0; l < H.size(); ++l) {
    std::vector<HeadSpec> layer;
    for (Eigen::Index h = 0; h < H[l]; ++h) {
      HmmHeadOptions o;
      o.seed = 1000 * (l + 1) + static_cast<std::uint64_t>(h);
      HmmHeadKind kind;
      if (h == 0) {
        kind = l == 0 ? HmmHeadKind::kSameToken : HmmHeadKind::kUniform;
      } else if (l == 0 && h % 2 == 0) {
        kind = HmmHeadKind::kSameToken;
        o.SetPerturbation(0.5);
      } else {
        kind = HmmHeadKind::kBlank;
        o.SetPerturbation(1.0);
      }
      layer.push_back(MakeHmmHead(kind, task.N_f, task.chain_tokens, o,
                                  "l" + std::to_string(l + 1) + "h" + std::to_string(h)));
    }
    arch.layers.push_back(std::move(layer));
  }
  arch.SetUniform(100.0);
  return arch;
}

// What a child sends back through the pipe (plain data).
struct ScalingResult {
  int ok = 0;
  char error[200] = {};
  double path_inputs = 0, kernel_build = 0;
  Timing eval, gemm, cholesky, eigen_gemm;
  double peak_rss = 0;              // after the evaluations, before the reference matrices
  double peak_rss_all = 0;          // at the end
  double action = 0, grad_max = 0;  // S and max |∂S/∂U_1| at U (a check between builds)
};

// Repetitions for an operation whose first (untimed) call took `first`
// seconds: three when cheap, fewer for the largest configurations, more while
// the budget lasts.
struct Reps {
  int min_reps, max_reps;
  double budget;
};
Reps RepsFor(double first, bool quick) {
  const int min_reps = first > 8.0 ? 1 : first > 2.0 ? 2 : 3;
  return {min_reps, quick ? 5 : 15, quick ? 0.2 : 1.0};
}

ScalingResult RunScalingChild(const ScalingCase& c, KernelStrategy strategy, bool quick) {
  ScalingResult r;
  HmmTaskOptions task;
  task.P = c.P;
  task.seed = 27;
  const Dataset train = GenerateHmmTask(task);
  const Architecture arch = ScalingArchitecture(c.H, task);
  const Eigen::Index Htot = arch.Htot(), N0 = train.x.N0(), P = c.P;

  auto t0 = Clock::now();
  PathInputs inputs = ComputePathInputs(arch, train.x, Split::kTrain);
  r.path_inputs = Since(t0);
  KernelOptions ko;
  ko.strategy = strategy;
  ko.memory_limit_bytes = 20.0 * double(1ull << 30);
  t0 = Clock::now();
  const PathKernel kernel(std::move(inputs), ko);
  r.kernel_build = Since(t0);

  // A dense SPD U_1 (cross-path entries on, as at a finite-width solution); U_GP elsewhere.
  std::vector<Eigen::MatrixXd> U = GpOrderParameters(arch).U;
  std::mt19937_64 rng(5);
  std::normal_distribution<double> normal(0.0, 1.0);
  Eigen::MatrixXd B(Htot, Htot);
  for (Eigen::Index j = 0; j < Htot; ++j)
    for (Eigen::Index i = 0; i < Htot; ++i) B(i, j) = normal(rng);
  U[0] += 0.1 * B * B.transpose() / static_cast<double>(Htot);

  const Action action(arch, kernel, train.y, 0.01);
  std::vector<Eigen::MatrixXd> grad;
  // One untimed evaluation first (as in a solve, later ones reuse its scratch).
  t0 = Clock::now();
  ActionValue v = action.Evaluate(U, &grad);
  Reps reps = RepsFor(Since(t0), quick);
  if (!v.ok) {
    std::snprintf(r.error, sizeof r.error, "evaluation failed: %s", v.failure.c_str());
    return r;
  }
  r.eval =
      TimeMedian([&] { v = action.Evaluate(U, &grad); }, reps.min_reps, reps.max_reps, reps.budget);
  r.action = v.S;
  r.grad_max = grad[0].cwiseAbs().maxCoeff();
  r.peak_rss = PeakRssBytes();

  // The dense linear algebra of the same size, in this process.
  const Eigen::Index K = strategy == KernelStrategy::kFactored ? Htot * N0 : P;
  {
    Eigen::MatrixXd A = Eigen::MatrixXd::Random(P, K), Bm = Eigen::MatrixXd::Random(P, K);
    Eigen::MatrixXd C(P, P);
    t0 = Clock::now();
    BlasGemm(A, Bm, &C);  // untimed first call
    const double first = Since(t0);
    reps = RepsFor(first, quick);
    r.gemm = TimeMedian([&] { BlasGemm(A, Bm, &C); }, reps.min_reps, reps.max_reps, reps.budget);
    const Reps eigen_reps = RepsFor(3 * first, quick);  // one thread: a few times slower
    r.eigen_gemm = TimeMedian([&] { C.noalias() = A * Bm.transpose(); }, eigen_reps.min_reps,
                              eigen_reps.max_reps, eigen_reps.budget);
  }
  {
    Eigen::MatrixXd S = Eigen::MatrixXd::Random(P, P);
    S = (0.5 * (S + S.transpose())).eval();
    S.diagonal().array() += static_cast<double>(P);
    Eigen::MatrixXd work(P, P);
    int info = 0;
    r.cholesky = TimeMedian([&] { info = BlasCholesky(&work); }, reps.min_reps, reps.max_reps,
                            reps.budget, [&] { work = S; });
    if (info != 0) {
      std::snprintf(r.error, sizeof r.error, "reference dpotrf failed (info %d)", info);
      return r;
    }
  }
  r.peak_rss_all = PeakRssBytes();
  r.ok = 1;
  return r;
}

// Runs RunScalingChild in a fork()ed child (bench_util.h RunIsolated); the
// child's own error travels in the result, a crash's in `failed`.
ScalingResult RunScalingIsolated(const ScalingCase& c, KernelStrategy strategy, bool quick) {
  std::string failed;
  ScalingResult r = bench::RunIsolated<ScalingResult>(
      [&] {
        ScalingResult out;
        try {
          out = RunScalingChild(c, strategy, quick);
        } catch (const std::exception& e) {
          std::snprintf(out.error, sizeof out.error, "%s", e.what());
        }
        return out;
      },
      &failed);
  if (!failed.empty()) std::snprintf(r.error, sizeof r.error, "%s", failed.c_str());
  return r;
}

void RunScaling(const std::vector<Eigen::Index>& Ps,
                const std::vector<std::vector<Eigen::Index>>& Hs, double max_gib, bool quick) {
  std::printf("## 2. Scaling with P and paths (N_f = 200, 30 chain tokens, N0 = 231)\n\n");
  std::printf(
      "Each row runs in its own fork()ed child. *eval* is one action+gradient evaluation at a "
      "dense SPD U_1 (after one untimed evaluation), *DGEMM* is OpenBLAS dgemm of the size that "
      "forms K_U (P × Htot·N0 × P factored, P × P × P precomputed), *Cholesky* is dpotrf of a "
      "P × P SPD matrix, all three in the same process; times are median (minimum) of *reps*. "
      "*ratio* = eval / (DGEMM + Cholesky) from the medians (minima), goal ≤ 2. *Eigen/BLAS* = "
      "Eigen's GEMM / OpenBLAS dgemm at the DGEMM's size (minima). *peak RSS* is VmHWM after "
      "the evaluations (before the reference matrices). *S* checks that the strategies (and "
      "builds) agree. Rows whose estimated kernel memory exceeds %.0f GiB are skipped.\n\n",
      max_gib);
  std::printf(
      "| P | H | Htot | strategy | est. kernel mem | peak RSS | path inputs | kernel build "
      "| eval | DGEMM | Cholesky | reps | ratio | Eigen/BLAS | S |\n");
  std::printf("|---:|:---|---:|:---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  const double max_bytes = max_gib * double(1ull << 30);
  const std::string empty_cells = " | | | | | | | | | |\n";
  for (const auto& H : Hs) {
    for (Eigen::Index P : Ps) {
      HmmTaskOptions task;
      const Eigen::Index N0 = task.N_f + task.chain_tokens + 1;
      Eigen::Index Htot = 1;
      for (auto h : H) Htot *= h;
      const KernelStrategy chosen = ChooseKernelStrategy(KernelOptions{}, P, Htot, N0);
      std::vector<KernelStrategy> strategies{chosen};
      strategies.push_back(chosen == KernelStrategy::kFactored ? KernelStrategy::kPrecomputed
                                                               : KernelStrategy::kFactored);
      for (KernelStrategy s : strategies) {
        const double mem = KernelMemoryBytes(s, P, Htot, N0);
        const std::string name =
            std::string(KernelStrategyName(s)) + (s == chosen ? " (auto)" : "");
        const std::string lead = "| " + std::to_string(P) + " | " + HeadsText(H) + " | " +
                                 std::to_string(Htot) + " | " + name + " | " + GiB(mem) + " | ";
        // Working memory beyond the kernel: a few P × P matrices and, factored,
        // one P × Htot·N0 scratch matrix.
        const double working =
            4.0 * P * P * 8 + (s == KernelStrategy::kFactored ? 1.0 * P * Htot * N0 * 8 : 0);
        if (mem > max_bytes) {
          std::printf("%sskipped: needs %.0f GiB%s", lead.c_str(),
                      std::ceil(mem / double(1ull << 30)), empty_cells.c_str());
          continue;
        }
        const double avail = MemAvailableBytes();
        if (avail > 0 && mem + working + 0.5 * double(1ull << 30) > avail) {
          std::printf("%sskipped: needs %s, %s available%s", lead.c_str(),
                      GiB(mem + working).c_str(), GiB(avail).c_str(), empty_cells.c_str());
          continue;
        }
        Progress("scaling P = " + std::to_string(P) + " H = " + HeadsText(H) + " " + name);
        const auto t0 = Clock::now();
        const ScalingResult r = RunScalingIsolated(ScalingCase{P, H}, s, quick);
        Progress("  done in " + Sec(Since(t0)));
        if (!r.ok) {
          std::printf("%sfailed: %s%s", lead.c_str(), r.error, empty_cells.c_str());
          continue;
        }
        const double ratio_med = r.eval.median / (r.gemm.median + r.cholesky.median);
        const double ratio_min = r.eval.min / (r.gemm.min + r.cholesky.min);
        std::printf("%s%s | %s | %s | %s | %s | %s | %d | %s (%s) | %.2f | %.12g |\n", lead.c_str(),
                    GiB(r.peak_rss).c_str(), Sec(r.path_inputs).c_str(),
                    Sec(r.kernel_build).c_str(), MedMin(r.eval).c_str(), MedMin(r.gemm).c_str(),
                    MedMin(r.cholesky).c_str(), r.eval.reps, Ratio(ratio_med).c_str(),
                    Ratio(ratio_min).c_str(), r.eigen_gemm.min / r.gemm.min, r.action);
        std::fflush(stdout);
      }
    }
  }
  std::printf("\n");
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = false, demo = true, scaling = true;
  double max_gib = 20.0;
  std::vector<Eigen::Index> only_P;
  std::vector<std::vector<Eigen::Index>> only_H;
  // "100,400" → {100, 400}; "8x8,4x4x4" → {{8, 8}, {4, 4, 4}}.
  auto split = [](const std::string& text, char sep) {
    std::vector<std::string> parts;
    std::stringstream ss(text);
    for (std::string part; std::getline(ss, part, sep);) parts.push_back(part);
    return parts;
  };
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--quick") {
      quick = true;
    } else if (a == "--no-demo") {
      demo = false;
    } else if (a == "--no-scaling") {
      scaling = false;
    } else if (a == "--max-gib" && i + 1 < argc) {
      max_gib = std::atof(argv[++i]);
    } else if (a == "--P" && i + 1 < argc) {
      for (const auto& p : split(argv[++i], ',')) only_P.push_back(std::atol(p.c_str()));
    } else if (a == "--H" && i + 1 < argc) {
      for (const auto& h : split(argv[++i], ',')) {
        only_H.emplace_back();
        for (const auto& n : split(h, 'x')) only_H.back().push_back(std::atol(n.c_str()));
      }
    } else {
      std::fprintf(stderr,
                   "usage: core_bench [--quick] [--no-demo] [--no-scaling] [--max-gib G]\n"
                   "                  [--P 100,400] [--H 2x2,4x4x4]   (scaling subset)\n");
      return a == "--help" || a == "-h" ? 0 : 2;
    }
  }
  const auto t_start = Clock::now();
  const std::time_t now = std::time(nullptr);
  char date[64];
  std::strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", std::gmtime(&now));
  const char* coretype = std::getenv("OPENBLAS_CORETYPE");
  std::printf("# core_bench%s\n\n", quick ? " --quick" : "");
  std::printf(
      "%s; %s, %ld CPUs online, load average %s (1, 5, 15 min), %s RAM available; "
      "OpenBLAS core %s (OPENBLAS_CORETYPE=%s), %d BLAS threads; Eigen %d.%d.%d "
      "single-threaded.\n\n",
      date, CpuModel().c_str(), sysconf(_SC_NPROCESSORS_ONLN), LoadAverage().c_str(),
      GiB(MemAvailableBytes()).c_str(), openblas_get_corename ? openblas_get_corename() : "?",
      coretype ? coretype : "unset", openblas_get_num_threads ? openblas_get_num_threads() : -1,
      EIGEN_WORLD_VERSION, EIGEN_MAJOR_VERSION, EIGEN_MINOR_VERSION);
  if (demo) {
    DemoConfig cfg;
    cfg.widths = quick ? std::vector<double>{10, 100} : std::vector<double>{10, 30, 100, 300, 1000};
    cfg.solve_reps = quick ? 1 : 3;
    cfg.eval_min_reps = 20;
    cfg.eval_max_reps = quick ? 200 : 2000;
    cfg.eval_budget = quick ? 0.2 : 1.0;
    RunDemo(cfg);
  }
  if (scaling) {
    std::vector<Eigen::Index> Ps = quick ? std::vector<Eigen::Index>{100, 400}
                                         : std::vector<Eigen::Index>{100, 400, 1600, 4000};
    std::vector<std::vector<Eigen::Index>> Hs =
        quick ? std::vector<std::vector<Eigen::Index>>{{2, 2}, {4, 4}}
              : std::vector<std::vector<Eigen::Index>>{{2, 2}, {4, 4}, {8, 8}, {4, 4, 4}};
    if (!only_P.empty()) Ps = only_P;
    if (!only_H.empty()) Hs = only_H;
    RunScaling(Ps, Hs, max_gib, quick);
  }
  std::printf("Total bench time %s; load average at the end %s (1, 5, 15 min).\n",
              Sec(Since(t_start)).c_str(), LoadAverage().c_str());
  return 0;
}
