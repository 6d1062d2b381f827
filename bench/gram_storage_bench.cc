// gram_storage_bench — the three storages of G = K_U + T·I (solver/training_gram.h)
// on the HMM task (4 paths, N0 = 231, M = 924; issue 13 §1/§3), printed as
// the markdown of bench/results/gram_storage.md:
//
// 1. Per-operation rates on this machine (one core): GEMM multiply–adds
//    (Eigen, M × M × M), LAPACK Cholesky (solver/spd.h at n = 2000) and
//    memory streaming (a multiply–add sum over 160 MB), the constants of the
//    cost model in kernels/path_kernel.cc.
// 2. One action + gradient evaluation (solver/action.h) in each storage at
//    P = 500 … 4000, the model's estimate of each, and whether kAuto picks the
//    fastest measured (the crossover between storages).
//
//   OPENBLAS_NUM_THREADS=1 ./gram_storage_bench            # both sections
//   OPENBLAS_NUM_THREADS=1 ./gram_storage_bench rates      # section 1 only
//   OPENBLAS_NUM_THREADS=1 ./gram_storage_bench endtoend 1000 10000 100000
// 3. End to end in the feature-space form: streamed Gram, solve, streamed
//    test predictor at P = 10³ … 10⁶ train, 10⁴ test, with peak RSS.
#include <Eigen/Core>
#include <cstdio>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "data/hmm.h"
#include "kernels/gram.h"
#include "kernels/path_input_stream.h"
#include "kernels/path_inputs.h"
#include "kernels/path_kernel.h"
#include "solver/action.h"
#include "solver/order_parameters.h"
#include "solver/solve.h"
#include "solver/spd.h"
#include "solver/training_gram.h"

using namespace attnpaths;
using namespace attnpaths::bench;

namespace {

void Progress(const std::string& text) {
  std::fprintf(stderr, "gram_storage_bench: %s\n", text.c_str());
}

void Rates() {
  std::printf("## 1. Per-operation rates (one core)\n\n");
  std::printf("| operation | size | time (min of reps) | rate |\n|---|---:|---:|---:|\n");
  {
    const Eigen::Index n = 924;
    const Eigen::MatrixXd a = Eigen::MatrixXd::Random(n, n), b = Eigen::MatrixXd::Random(n, n);
    Eigen::MatrixXd c(n, n);
    const Timing t = Time([&] { c.noalias() = a * b; }, 3, 10, 3.0);
    const double rate = double(n) * n * n / t.wall_min;
    std::printf("| GEMM (Eigen) multiply–adds | %ld³ | %s | %.2e /s |\n", long(n),
                Sec(t.wall_min).c_str(), rate);
  }
  {
    const Eigen::Index n = 2000;
    const Eigen::MatrixXd r = Eigen::MatrixXd::Random(n, n);
    Eigen::MatrixXd s = r * r.transpose() / double(n);
    s.diagonal().array() += 1.0;
    Eigen::MatrixXd f;
    const Timing t = Time(
        [&] {
          f = s;
          CholeskyInPlace(&f);
        },
        3, 10, 3.0);
    const double rate = double(n) * n * n / 3 / t.wall_min;
    std::printf("| Cholesky (LAPACK potrf) multiply–adds | n = %ld | %s | %.2e /s |\n", long(n),
                Sec(t.wall_min).c_str(), rate);
  }
  {
    const Eigen::Index n = 4500;  // 162 MB
    const Eigen::MatrixXd a = Eigen::MatrixXd::Random(n, n), b = Eigen::MatrixXd::Random(n, n);
    double sink = 0;
    const Timing t = Time([&] { sink += a.cwiseProduct(b).sum(); }, 3, 10, 3.0);
    const double rate = 2.0 * double(n) * n * 8 / t.wall_min;
    std::printf("| streaming multiply–add sum | 2 × %.0f MB | %s | %.2e B/s |\n",
                double(n) * n * 8 / 1e6, Sec(t.wall_min).c_str(), rate);
    if (sink == 1.2345) std::printf("\n");
  }
  std::printf("\n");
}

void Evaluations(const std::vector<Eigen::Index>& Ps) {
  std::printf(
      "## 2. One action + gradient evaluation per storage (HMM task, 4 paths, M = 924)\n\n");
  std::printf(
      "T = 0.1, U at the GP limit, N = 100. *measured*: median of 3 evaluations (after one "
      "warm-up); *model*: KernelCostPerEvaluation (kernels/path_kernel.cc); *auto*: "
      "ChooseKernelStrategy's pick. The features column includes the one-off A = ΞᵀΞ "
      "(built with the kernel) only in the model, spread over %g evaluations; its build "
      "time is in the last column.\n\n",
      kEvaluationsPerSolve);
  std::printf(
      "| P | pairs measured | factored measured | features measured | pairs model | factored "
      "model | features model | auto | fastest | A = ΞᵀΞ build |\n");
  std::printf("|---:|---:|---:|---:|---:|---:|---:|---|---|---:|\n");
  for (Eigen::Index P : Ps) {
    Progress("evaluations: P = " + std::to_string(P));
    HmmTaskOptions task;
    task.P = P;
    const Dataset data = GenerateHmmTask(task);
    Architecture arch = HmmArchitecture(HmmVariant::kFourPaths, task);
    arch.SetUniform(100);
    const PathInputs train = ComputePathInputs(arch, data.x, Split::kTrain, 1);
    const std::vector<Eigen::MatrixXd> U = GpOrderParameters(arch, 1).U;
    const KernelStrategy all[] = {KernelStrategy::kPrecomputed, KernelStrategy::kFactored,
                                  KernelStrategy::kFeatures};
    double measured[3] = {0, 0, 0}, build = 0;
    for (int k = 0; k < 3; ++k) {
      const Stopwatch w;
      const PathKernel kernel(train, {all[k]});
      if (all[k] == KernelStrategy::kFeatures) build = w.wall();
      const Action action(arch, kernel, data.y, 0.1);
      std::vector<Eigen::MatrixXd> g;
      action.Evaluate(U, &g);
      std::vector<double> t;
      for (int r = 0; r < 3; ++r) {
        const Stopwatch e;
        action.Evaluate(U, &g);
        t.push_back(e.wall());
      }
      measured[k] = MedianMin(t).median;
    }
    KernelOptions o;
    const KernelStrategy pick = ChooseKernelStrategy(o, P, 4, 231);
    int fastest = 0;
    for (int k = 1; k < 3; ++k) {
      if (measured[k] < measured[fastest]) fastest = k;
    }
    std::printf("| %ld | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", long(P),
                Sec(measured[0]).c_str(), Sec(measured[1]).c_str(), Sec(measured[2]).c_str(),
                Sec(KernelCostPerEvaluation(all[0], P, 4, 231)).c_str(),
                Sec(KernelCostPerEvaluation(all[1], P, 4, 231)).c_str(),
                Sec(KernelCostPerEvaluation(all[2], P, 4, 231)).c_str(), KernelStrategyName(pick),
                KernelStrategyName(all[fastest]), Sec(build).c_str());
    std::fflush(stdout);
  }
  std::printf("\n");
}

// ------------------------------------------------------------ 3. end to end
struct EndToEnd {
  double gram = 0, inputs = 0, gram_update = 0, solve = 0, predict = 0, predict_inputs = 0;
  double total = 0, peak_rss = 0, accuracy = 0, gen_error = 0, u_offdiag = 0;
  int evaluations = 0, iterations = 0;
  bool converged = false;
};

void RunEndToEnd(const std::vector<Eigen::Index>& Ps, Eigen::Index P_test, int threads) {
  std::printf(
      "## 3. End to end in the feature-space form (HMM task, 4 paths, N0 = 231, M = 924)\n\n");
  std::printf(
      "N = 100, T = 0.01. Train examples streamed from the HmmExamples generator (seed 27) "
      "through AccumulateGram (path inputs and Gram on %d threads, default blocks), a "
      "PathKernel(Gram) without Ξ, the saddle point (L-BFGS, gradient tolerance 1e-9), then "
      "%ld test examples (seed 59) streamed block by block through the predictor. Each P in a "
      "fork()ed child: peak RSS (VmHWM) is the whole run's.\n\n",
      threads, long(P_test));
  std::printf(
      "| P | path inputs + Gram | (path inputs) | solve | evaluations | predictor (%ld test) | "
      "total | peak RSS | test accuracy | gen. error |\n",
      long(P_test));
  std::printf("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  for (Eigen::Index P : Ps) {
    Progress("end to end: P = " + std::to_string(P));
    std::string failed;
    const EndToEnd r = RunIsolated<EndToEnd>(
        [&] {
          EndToEnd out;
          const Stopwatch all;
          HmmTaskOptions task;
          task.P = P;
          Architecture arch = HmmArchitecture(HmmVariant::kFourPaths, task);
          arch.SetUniform(100);
          const double T = 0.01;
          StreamOptions so;
          so.threads = threads;
          Stopwatch w;
          HmmExamples source(task);
          GramSummary gs;
          Gram g = AccumulateGram(arch, source, Split::kTrain, so, &gs);
          out.gram = w.wall();
          out.inputs = gs.stream.path_input_seconds;
          // The labels: the first ⌈P/2⌉ examples are class +1 (data/hmm.h).
          Eigen::MatrixXd Y(P, 1);
          for (Eigen::Index mu = 0; mu < P; ++mu) Y(mu, 0) = mu < (P + 1) / 2 ? 1.0 : -1.0;
          const PathKernel kernel(std::move(g));
          const Action action(arch, kernel, Y, T);
          SolveOptions options;
          options.compute_hessian = false;
          SolveSummary summary;
          w = Stopwatch();
          const Solution sol = Solve(action, options, &summary);
          out.solve = w.wall();
          out.evaluations = summary.evaluations;
          out.iterations = summary.iterations;
          out.converged = summary.converged();
          const Eigen::MatrixXd& U1 = sol.order_parameters.U[0];
          out.u_offdiag = U1(0, 1) / U1(0, 0);
          // Test points streamed through the predictor.
          w = Stopwatch();
          TrainingGram gram(kernel, Y);
          if (!gram.Factorize(U1, T)) return out;
          HmmTaskOptions test_task = task;
          test_task.P = P_test;
          test_task.seed = 59;
          HmmExamples test_source(test_task);
          StreamSummary ts;
          long correct = 0;
          double err = 0;
          StreamPathInputs(
              arch, test_source, Split::kTest, so,
              [&](const PathInputBlock& block) {
                PathInputs in;
                in.Htot = arch.Htot();
                in.N0 = test_source.N0();
                in.xi = block.xi_t.transpose();
                const PredictorMoments m = gram.Predict(in);
                for (Eigen::Index mu = 0; mu < in.P(); ++mu) {
                  const double y = block.y(mu, 0), f = m.mean(mu, 0);
                  correct += (f > 0) == (y > 0);
                  err += (f - y) * (f - y) + m.covariance(mu, 0);
                }
              },
              &ts);
          out.predict = w.wall();
          out.predict_inputs = ts.path_input_seconds;
          out.accuracy = double(correct) / double(P_test);
          out.gen_error = err / double(P_test);
          out.total = all.wall();
          out.peak_rss = PeakRssBytes();
          return out;
        },
        &failed);
    if (!failed.empty()) {
      std::printf("| %ld | failed: %s | | | | | | | | |\n", long(P), failed.c_str());
      continue;
    }
    std::printf("| %ld | %s | %s | %s | %d%s | %s | **%s** | **%s** | %.4f | %.4f |\n", long(P),
                Sec(r.gram).c_str(), Sec(r.inputs).c_str(), Sec(r.solve).c_str(), r.evaluations,
                r.converged ? "" : " (not converged)", Sec(r.predict).c_str(), Sec(r.total).c_str(),
                Bytes(r.peak_rss).c_str(), r.accuracy, r.gen_error);
    std::fflush(stdout);
  }
  std::printf("\n");
}

}  // namespace

int main(int argc, char** argv) {
  const std::string only = argc > 1 ? argv[1] : "";
  std::printf("%s; %s; load average %s\n\n", UtcNow().c_str(), CpuModel().c_str(),
              LoadAverage().c_str());
  if (only.empty() || only == "rates") Rates();
  if (only.empty() || only == "evaluations") {
    Evaluations({300, 600, 900, 1200, 1600, 2000, 3000, 4000});
  }
  if (only.empty() || only == "endtoend") {
    std::vector<Eigen::Index> Ps{1000, 10000, 100000};
    if (argc > 2) {
      Ps.clear();
      for (int i = 2; i < argc; ++i) Ps.push_back(std::stol(argv[i]));
    }
    RunEndToEnd(Ps, 10000, 2);
  }
  return 0;
}
