// inputs_bench — path inputs at GEMM speed, the input side end to end, and
// the streamed Gram of theory.md §10 (issue 14 §3/§4, issue 13 §2), printed
// as Markdown.
//
//   ./inputs_bench                       # everything (the P = 10⁶ Gram takes a while)
//   ./inputs_bench --quick               # small sizes, seconds
//   ./inputs_bench --only gram --gram-P 1000,100000
//   ./inputs_bench --cli build/attnpaths --baseline-cli /path/to/old/attnpaths
//
// 1. Path inputs on the Markov task (theory.md §8: 4 paths, N0 = 231,
//    n_tok = 31) and two other shapes: the per-example computation from full
//    attention matrices (PathTokenWeights, what ComputePathInputs did before)
//    against the batched one (PathInputCalculator), both on one thread, CPU
//    seconds (this machine is shared: CPU time is what a process got), their
//    FLOP rates, and the batched GEMM floor: the same FLOPs at the rate of
//    the batched score GEMM [β W_1; β W_2] · [x …] of the same shape, run in
//    the same process (Eigen, which the library uses, and OpenBLAS dgemm).
// 2. `attnpaths solve --config` on the 100-train / 1000-test Markov study,
//    generated and read from NPY files: the in-process breakdown (reading,
//    path inputs, solve, predictor) before (NPY read + copy, per-example path
//    inputs) and after, and the command line itself (wall and CPU).
// 3. The Gram A = ΞᵀΞ, b = Ξᵀy, yᵀy streamed from the HMM generator at
//    P = 10³ … 10⁶ (4 paths, M = 924), each in a fork()ed child: wall and CPU
//    time, the time in generation, path inputs and the Gram update, and the
//    peak RSS.
#include <unistd.h>

#include <Eigen/Core>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "data/array_reader.h"
#include "data/config.h"
#include "data/hmm.h"
#include "data/npy.h"
#include "kernels/gram.h"
#include "kernels/path_inputs.h"
#include "kernels/path_kernel.h"
#include "solver/action.h"
#include "solver/predictor.h"
#include "solver/solve.h"

extern "C" {
void dgemm_(const char* transa, const char* transb, const int* m, const int* n, const int* k,
            const double* alpha, const double* a, const int* lda, const double* b, const int* ldb,
            const double* beta, double* c, const int* ldc, size_t, size_t);
int openblas_get_num_threads(void) __attribute__((weak));
char* openblas_get_corename(void) __attribute__((weak));
void openblas_set_num_threads(int) __attribute__((weak));
}

namespace {

using namespace attnpaths;
using namespace attnpaths::bench;
namespace fs = std::filesystem;

void Progress(const std::string& text) { std::fprintf(stderr, "inputs_bench: %s\n", text.c_str()); }

// ---------------------------------------------------------------- FLOP counts

// FLOPs per example of the per-example computation: every head's full n × n
// attention, full path products, ξ (a multiply–add counts two).
double PerExampleFlops(const Architecture& arch, Eigen::Index N0, Eigen::Index n) {
  const double N = static_cast<double>(N0), t = static_cast<double>(n);
  double flops = 0;
  Eigen::Index m_above = 1;
  for (int l = arch.L(); l >= 1; --l) {
    const auto& heads = arch.layers[static_cast<size_t>(l - 1)];
    for (const HeadSpec& h : heads) {
      if (h.kind == HeadKind::kWForm) flops += 2 * N * N * t + 2 * N * t * t;
      if (h.kind == HeadKind::kQKForm) {
        const double d = static_cast<double>(h.Q.rows());
        flops += 4 * d * N * t + 2 * t * t * d;
      }
    }
    if (l < arch.L()) {
      flops += 2 * t * t * static_cast<double>(m_above * static_cast<Eigen::Index>(heads.size()));
    }
    m_above *= static_cast<Eigen::Index>(heads.size());
  }
  return flops + 2 * N * t * static_cast<double>(arch.Htot());
}

// The pre-batching ComputePathInputs, one thread: PathTokenWeights per example.
Eigen::MatrixXd PerExamplePathInputs(const Architecture& arch, const Inputs& x, Split split) {
  const Eigen::Index Htot = arch.Htot(), N0 = x.N0();
  const double c = std::sqrt(arch.variances[0] / static_cast<double>(N0 * Htot));
  Eigen::MatrixXd out(x.P(), Htot * N0);
  for (Eigen::Index mu = 0; mu < x.P(); ++mu) {
    const auto xm = x.example(mu);
    const Eigen::MatrixXd w = PathTokenWeights(arch, xm, mu, split);
    const Eigen::MatrixXd xi = c * (xm * w);
    out.row(mu) = Eigen::Map<const Eigen::RowVectorXd>(xi.data(), xi.size());
  }
  return out;
}

// GFLOP/s of C = A B with A m × k, B k × n (Eigen, then OpenBLAS dgemm).
struct GemmRate {
  double eigen = 0, blas = 0;
};

GemmRate MeasureGemm(Eigen::Index m, Eigen::Index k, Eigen::Index n) {
  const Eigen::MatrixXd A = Eigen::MatrixXd::Random(m, k), B = Eigen::MatrixXd::Random(k, n);
  Eigen::MatrixXd C(m, n);
  const double flops = 2.0 * static_cast<double>(m * k * n);
  const Timing te = Time([&] { C.noalias() = A * B; }, 5, 200, 0.5);
  const int mi = static_cast<int>(m), ni = static_cast<int>(n), ki = static_cast<int>(k);
  const double one = 1, zero = 0;
  const Timing tb = Time(
      [&] {
        dgemm_("N", "N", &mi, &ni, &ki, &one, A.data(), &mi, B.data(), &ki, &zero, C.data(), &mi, 1,
               1);
      },
      5, 200, 0.5);
  return {flops / te.cpu_min * 1e-9, flops / tb.cpu_min * 1e-9};
}

// ---------------------------------------------------------------- 1. path inputs

struct InputsCase {
  std::string name;
  Architecture arch;
  Eigen::Index P;
  std::uint64_t seed;
};

Architecture QkArchitecture(Eigen::Index N0, Eigen::Index d) {
  std::srand(7);  // Eigen::MatrixXd::Random draws from std::rand
  auto head = [&](const std::string& name) {
    HeadSpec h;
    h.name = name;
    h.kind = HeadKind::kQKForm;
    h.Q = Eigen::MatrixXd::Random(d, N0) / std::sqrt(static_cast<double>(N0));
    h.K = Eigen::MatrixXd::Random(d, N0) / std::sqrt(static_cast<double>(N0));
    h.beta = 4;
    return h;
  };
  Architecture arch;
  HeadSpec uniform;
  uniform.kind = HeadKind::kUniform;
  arch.layers = {{head("q1"), head("q2")}, {head("q3"), uniform}};
  arch.readout = Readout::kLast;
  arch.SetUniform(100);
  return arch;
}

void RunPathInputs(bool quick) {
  std::printf("## 1. Path inputs: per-example vs batched, and the batched-GEMM floor\n\n");
  std::printf(
      "Inputs of the Markov task (theory.md §8: N0 = 231, n_tok = 31; HMM heads are W-form). "
      "*per-example* is the computation before batching (full n_tok × n_tok attention of every "
      "head, PathTokenWeights per example), *batched* the PathInputCalculator (only the queries "
      "that reach the readout; one score GEMM per layer and chunk of examples), both on one "
      "thread, CPU seconds (minimum of the repetitions). *FLOP/ex* counts the GEMM work each "
      "does per example. *floor* is the batched computation's FLOPs at the rate of its own "
      "score GEMM ([β W_1; …] (H·N0 × N0) times 512 tokens) measured in the same process with "
      "Eigen (what the library runs) and, for reference, OpenBLAS dgemm; *ratio* = batched / "
      "floor (goal ≤ 1.5). *2 threads* is the batched wall time with two workers. *diff* is "
      "max |Ξ_batched − Ξ_per-example| / max |Ξ|.\n\n");
  std::printf(
      "| case | P | FLOP/ex per-example → batched | per-example | GFLOP/s | batched | GFLOP/s "
      "| speed-up | Eigen GEMM GFLOP/s | floor | ratio | ratio (OpenBLAS %s) | 2 threads (wall) "
      "| diff |\n",
      openblas_get_corename ? openblas_get_corename() : "?");
  std::printf("|:---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  HmmTaskOptions task;
  std::vector<InputsCase> cases;
  Architecture four = HmmArchitecture(HmmVariant::kFourPaths, task);
  four.SetUniform(100);
  Architecture mean = four;
  mean.readout = Readout::kMean;
  const Eigen::Index N0 = task.N_f + task.chain_tokens + 1;
  for (Eigen::Index P :
       quick ? std::vector<Eigen::Index>{100, 1000} : std::vector<Eigen::Index>{100, 1000, 10000}) {
    cases.push_back({"Markov, 4 paths, last token", four, P, P == 100 ? 27u : 59u});
  }
  cases.push_back({"Markov, 4 paths, mean readout", mean, 1000, 59});
  cases.push_back({"QK heads d = 16 (2×2, last token)", QkArchitecture(N0, 16), 1000, 59});
  for (const InputsCase& c : cases) {
    Progress("path inputs: " + c.name + ", P = " + std::to_string(c.P));
    task.P = c.P;
    task.seed = c.seed;
    const Dataset data = GenerateHmmTask(task);
    const PathInputCalculator calc(c.arch, data.x.N0(), data.x.n_tok());
    Eigen::MatrixXd xi(data.x.P(), calc.M()), old;
    PathInputOptions one;
    one.threads = 1;
    const int reps = c.P >= 10000 ? 1 : 3;
    const Timing t_old =
        Time([&] { old = PerExamplePathInputs(c.arch, data.x, Split::kTest); }, 1, reps, 0.0);
    const Timing t_new =
        Time([&] { calc.Compute(data.x, Split::kTest, 0, xi, one); }, reps, 3 * reps, 1.0);
    PathInputOptions two;
    two.threads = 2;
    const Timing t_two =
        Time([&] { calc.Compute(data.x, Split::kTest, 0, xi, two); }, reps, 3 * reps, 1.0);
    const double diff = (xi - old).cwiseAbs().maxCoeff() / old.cwiseAbs().maxCoeff();
    // The floor: the score GEMM of the widest layer at the chunk the library uses.
    Eigen::Index h_w = 0;
    for (const auto& layer : c.arch.layers) {
      Eigen::Index n = 0;
      for (const auto& h : layer) n += h.kind == HeadKind::kWForm;
      h_w = std::max(h_w, n);
    }
    const GemmRate rate = MeasureGemm(std::max<Eigen::Index>(1, h_w) * N0, N0, 512);
    const double f_old = PerExampleFlops(c.arch, data.x.N0(), data.x.n_tok()) * c.P;
    const double f_new = calc.FlopsPerExample() * c.P;
    const double floor_eigen = f_new / (rate.eigen * 1e9), floor_blas = f_new / (rate.blas * 1e9);
    std::printf(
        "| %s | %ld | %.2f M → %.2f M | %s | %.1f | %s | %.1f | %.1f× | %.1f | %s | **%.2f** | "
        "%.2f | %s | %.1e |\n",
        c.name.c_str(), static_cast<long>(c.P), f_old / c.P * 1e-6, f_new / c.P * 1e-6,
        Sec(t_old.cpu_min).c_str(), f_old / t_old.cpu_min * 1e-9, Sec(t_new.cpu_min).c_str(),
        f_new / t_new.cpu_min * 1e-9, t_old.cpu_min / t_new.cpu_min, rate.eigen,
        Sec(floor_eigen).c_str(), t_new.cpu_min / floor_eigen, t_new.cpu_min / floor_blas,
        Sec(t_two.wall_min).c_str(), diff);
    std::fflush(stdout);
  }
  std::printf("\n");
}

// ---------------------------------------------------------------- 2. end to end

const char* kStudyHead = R"(name = "markov-N100"
temperature = 0.01
)";
const char* kStudyArchitecture = R"(
[architecture]
readout = "last"
width = 100
variance = 1.0
[[architecture.layers]]
heads = [ { kind = "hmm_same_token", name = "good", beta = 10 },
          { kind = "hmm_blank", name = "blank1", beta = 10, perturbation = 1, seed = 147 } ]
[[architecture.layers]]
heads = [ { kind = "hmm_uniform", name = "uniform", beta = 10 },
          { kind = "hmm_blank", name = "blank2", beta = 10, perturbation = 1, seed = 247 } ]
[output]
directory = "out"
)";

// The architecture for data read from files: the HMM heads need N_f and T.
std::string WithFeatureSize(std::string text, Eigen::Index N_f, Eigen::Index chain_tokens) {
  const std::string from = "beta = 10", to = "beta = 10, N_f = " + std::to_string(N_f) +
                                             ", chain_tokens = " + std::to_string(chain_tokens);
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

struct Breakdown {
  double read = 0, inputs_train = 0, inputs_test = 0, kernel = 0, solve = 0, predict = 0;
  double total() const { return read + inputs_train + inputs_test + kernel + solve + predict; }
};

// The steps of `attnpaths solve --config` in this process (CPU seconds),
// with the reading and path inputs of before (`before`) or now.
Breakdown SolveBreakdown(const std::string& config, bool before, bool npy, int threads) {
  Breakdown b;
  Stopwatch w;
  Study study = LoadStudy(config);
  if (before && npy) {  // the arrays as they were read: NPY → NpyArray → a zero-filled copy
    const fs::path dir = fs::path(config).parent_path();
    study.train.x = NpyToInputs(ReadNpy((dir / "train_x.npy").string()), "train_x");
    study.test.x = NpyToInputs(ReadNpy((dir / "test_x.npy").string()), "test_x");
  }
  b.read = w.cpu();
  PathInputs train, test;
  w = Stopwatch();
  if (before) {
    train.Htot = test.Htot = study.architecture.Htot();
    train.N0 = test.N0 = study.train.x.N0();
    train.xi = PerExamplePathInputs(study.architecture, study.train.x, Split::kTrain);
  } else {
    train = ComputePathInputs(study.architecture, study.train.x, Split::kTrain, threads);
  }
  b.inputs_train = w.cpu();
  w = Stopwatch();
  if (before) {
    test.xi = PerExamplePathInputs(study.architecture, study.test.x, Split::kTest);
  } else {
    test = ComputePathInputs(study.architecture, study.test.x, Split::kTest, threads);
  }
  b.inputs_test = w.cpu();
  w = Stopwatch();
  const PathKernel kernel(std::move(train), study.kernel);
  b.kernel = w.cpu();
  w = Stopwatch();
  const Action action(study.architecture, kernel, study.train.y, study.temperatures[0]);
  SolveSummary summary;
  const Solution sol = Solve(action, SolveOptions{}, &summary);
  b.solve = w.cpu();
  w = Stopwatch();
  const PredictorStatistics st = Predict(kernel, study.train.y, study.temperatures[0],
                                         sol.order_parameters.U[0], test, &study.test.y);
  b.predict = w.cpu();
  if (!summary.converged() || !(st.accuracy > 0.5)) Progress("warning: the solve did not converge");
  return b;
}

void RunEndToEnd(const std::string& cli, const std::string& baseline_cli) {
  std::printf("## 2. `attnpaths solve --config` on the Markov study (100 train, 1000 test)\n\n");
  const fs::path dir = fs::temp_directory_path() / ("inputs_bench_" + std::to_string(getpid()));
  fs::create_directories(dir);
  // The generated study, and the same data as NPY files.
  {
    std::ofstream(dir / "generated.toml")
        << kStudyHead << "[data]\ngenerator = \"hmm\"\n[data.hmm]\nP = 100\nP_test = 1000\n"
        << kStudyArchitecture;
    HmmTaskOptions task;
    const Dataset train = GenerateHmmTask(task);
    task.P = 1000;
    task.seed = 59;
    const Dataset test = GenerateHmmTask(task);
    for (const auto& [name, d] : {std::pair{"train", &train}, std::pair{"test", &test}}) {
      WriteNpy((dir / (std::string(name) + "_x.npy")).string(), {d->x.P(), d->x.n_tok(), d->x.N0()},
               d->x.values().data());
      WriteNpy((dir / (std::string(name) + "_y.npy")).string(), d->y.col(0));
    }
    std::ofstream(dir / "npy.toml")
        << kStudyHead
        << "[data]\ntrain_x = \"train_x.npy\"\ntrain_y = "
           "\"train_y.npy\"\ntest_x = \"test_x.npy\"\ntest_y = "
           "\"test_y.npy\"\n"
        << WithFeatureSize(kStudyArchitecture, task.N_f, task.chain_tokens);
  }
  std::printf(
      "In-process steps of the command (CPU seconds, minimum of 3; one thread for the path "
      "inputs): *reading* is LoadStudy (generating the data, or reading the NPY files: before, "
      "ReadNpy into a zero-filled array and a second zero-filled copy into Inputs; now a "
      "private memory map of the file), *path inputs* per-example (before) or batched (now), "
      "*kernel* the PathKernel build, *solve* Solve with the default options, *predictor* "
      "the 1000 test predictions.\n\n");
  std::printf(
      "| data | version | reading | path inputs train | path inputs test | kernel | solve | "
      "predictor | total |\n");
  std::printf("|:---|:---|---:|---:|---:|---:|---:|---:|---:|\n");
  for (const bool npy : {false, true}) {
    const std::string config = (dir / (npy ? "npy.toml" : "generated.toml")).string();
    for (const bool before : {true, false}) {
      Progress(std::string("end to end: ") + (npy ? "npy" : "generated") +
               (before ? ", before" : ", now"));
      Breakdown best;
      for (int r = 0; r < 3; ++r) {
        const Breakdown b = SolveBreakdown(config, before, npy, 1);
        if (r == 0 || b.total() < best.total()) best = b;
      }
      std::printf("| %s | %s | %s | %s | %s | %s | %s | %s | **%s** |\n",
                  npy ? "NPY files" : "generated", before ? "before" : "now",
                  Sec(best.read).c_str(), Sec(best.inputs_train).c_str(),
                  Sec(best.inputs_test).c_str(), Sec(best.kernel).c_str(), Sec(best.solve).c_str(),
                  Sec(best.predict).c_str(), Sec(best.total()).c_str());
      std::fflush(stdout);
    }
  }
  std::printf("\n");
  if (!cli.empty()) {
    std::printf(
        "The command line itself (`attnpaths solve --config … --quiet`, default threads), "
        "wall and CPU seconds (user + system) of the process, minimum of 5 runs, and its peak "
        "RSS%s.\n\n",
        baseline_cli.empty() ? "" : "; *baseline* is the binary given by --baseline-cli");
    std::printf(
        "| data | binary | wall | CPU | peak RSS | exit |\n|:---|:---|---:|---:|---:|---:|\n");
    for (const bool npy : {false, true}) {
      for (const std::string& bin : {baseline_cli, cli}) {
        if (bin.empty()) continue;
        Progress("end to end: command line " + bin);
        CommandTiming best;
        for (int r = 0; r < 5; ++r) {
          const CommandTiming t =
              RunCommand({bin, "solve", "--config", npy ? "npy.toml" : "generated.toml", "--quiet"},
                         dir.string());
          if (r == 0 || t.wall < best.wall) best = t;
        }
        std::printf("| %s | %s | **%s** | %s | %s | %d |\n", npy ? "NPY files" : "generated",
                    bin == cli ? "this build" : "baseline", Sec(best.wall).c_str(),
                    Sec(best.cpu).c_str(), Bytes(best.peak_rss_bytes).c_str(), best.status);
        std::fflush(stdout);
      }
    }
    std::printf("\n");
  }
  fs::remove_all(dir);
}

// ---------------------------------------------------------------- 3. streamed Gram

struct GramResult {
  double wall = 0, cpu = 0, read = 0, wait = 0, inputs = 0, gram = 0, peak_rss = 0;
  long blocks = 0, block_examples = 0;
  double trace_A = 0, yty = 0;
};

void RunGram(const std::vector<Eigen::Index>& Ps, int threads) {
  std::printf("## 3. The streamed Gram A = ΞᵀΞ, b = Ξᵀy, yᵀy (theory.md §10) of the HMM task\n\n");
  std::printf(
      "4 paths, N0 = 231, M = 924; the HmmExamples generator makes each block on the fly "
      "(the same examples as GenerateHmmTask, seed 27) while the previous block's path inputs "
      "and Gram update run on %d worker threads; default block (32 MiB of inputs). Each P in "
      "its own fork()ed child: *wall*, *CPU* (all threads), *generation* (on the reader "
      "thread, overlapped), *waited* (for the reader), *path inputs*, *Gram* (A, b updates), "
      "peak RSS (VmHWM). The solve in feature space is another step (issue 13 §1).\n\n",
      threads);
  std::printf(
      "| P | blocks × examples | wall | CPU | generation | waited | path inputs | Gram | peak "
      "RSS | tr A / P |\n");
  std::printf("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  for (Eigen::Index P : Ps) {
    Progress("gram: P = " + std::to_string(P));
    std::string failed;
    const GramResult r = RunIsolated<GramResult>(
        [&] {
          HmmTaskOptions task;
          task.P = P;
          Architecture arch = HmmArchitecture(HmmVariant::kFourPaths, task);
          arch.SetUniform(100);
          HmmExamples source(task);
          StreamOptions o;
          o.threads = threads;
          o.progress = [&](Eigen::Index done, Eigen::Index total) {
            if (total >= 100000 && done % (total / 10) < o.BlockExamples(total, 31, 231)) {
              Progress("  " + std::to_string(done) + " / " + std::to_string(total));
            }
          };
          const Stopwatch w;
          GramSummary s;
          const Gram g = AccumulateGram(arch, source, Split::kTrain, o, &s);
          GramResult out;
          out.wall = w.wall();
          out.cpu = w.cpu();
          out.read = s.stream.read_seconds;
          out.wait = s.stream.wait_seconds;
          out.inputs = s.stream.path_input_seconds;
          out.gram = s.gram_seconds;
          out.blocks = static_cast<long>(s.stream.blocks);
          out.block_examples = static_cast<long>(o.BlockExamples(P, 31, 231));
          out.trace_A = g.A.trace();
          out.yty = g.yty;
          out.peak_rss = PeakRssBytes();
          return out;
        },
        &failed);
    if (!failed.empty()) {
      std::printf("| %ld | failed: %s | | | | | | | | |\n", static_cast<long>(P), failed.c_str());
      continue;
    }
    std::printf("| %ld | %ld × %ld | **%s** | %s | %s | %s | %s | %s | **%s** | %.4f |\n",
                static_cast<long>(P), r.blocks, r.block_examples, Sec(r.wall).c_str(),
                Sec(r.cpu).c_str(), Sec(r.read).c_str(), Sec(r.wait).c_str(), Sec(r.inputs).c_str(),
                Sec(r.gram).c_str(), Bytes(r.peak_rss).c_str(), r.trace_A / static_cast<double>(P));
    std::fflush(stdout);
  }
  std::printf("\n");
}

std::vector<Eigen::Index> ParseList(const std::string& text) {
  std::vector<Eigen::Index> out;
  std::stringstream ss(text);
  for (std::string part; std::getline(ss, part, ',');) out.push_back(std::atol(part.c_str()));
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = false;
  std::string only, cli, baseline_cli;
  std::vector<Eigen::Index> gram_P;
  int threads = 2;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--quick") {
      quick = true;
    } else if (a == "--only" && i + 1 < argc) {
      only = argv[++i];
    } else if (a == "--cli" && i + 1 < argc) {
      cli = fs::absolute(argv[++i]).string();
    } else if (a == "--baseline-cli" && i + 1 < argc) {
      baseline_cli = fs::absolute(argv[++i]).string();
    } else if (a == "--gram-P" && i + 1 < argc) {
      gram_P = ParseList(argv[++i]);
    } else if (a == "--threads" && i + 1 < argc) {
      threads = std::atoi(argv[++i]);
    } else {
      std::fprintf(stderr,
                   "usage: inputs_bench [--quick] [--only inputs|e2e|gram] [--cli PATH]\n"
                   "                    [--baseline-cli PATH] [--gram-P 1000,10000] "
                   "[--threads 2]\n");
      return a == "--help" || a == "-h" ? 0 : 2;
    }
  }
  if (cli.empty()) {  // the attnpaths binary of the same build, when there
    const fs::path guess = fs::path(argv[0]).parent_path() / ".." / "attnpaths";
    if (fs::exists(guess)) cli = fs::canonical(guess).string();
  }
  if (gram_P.empty()) {
    gram_P = quick ? std::vector<Eigen::Index>{1000, 10000}
                   : std::vector<Eigen::Index>{1000, 10000, 100000, 1000000};
  }
  const Stopwatch total;
  const char* coretype = std::getenv("OPENBLAS_CORETYPE");
  if (openblas_set_num_threads) openblas_set_num_threads(1);
  std::printf("# inputs_bench%s\n\n", quick ? " --quick" : "");
  std::printf(
      "%s; %s, %ld CPUs online, load average %s (1, 5, 15 min), %s RAM available; OpenBLAS "
      "core %s (OPENBLAS_CORETYPE=%s), %d BLAS thread; Eigen %d.%d.%d.\n\n",
      UtcNow().c_str(), CpuModel().c_str(), sysconf(_SC_NPROCESSORS_ONLN), LoadAverage().c_str(),
      Bytes(MemAvailableBytes()).c_str(), openblas_get_corename ? openblas_get_corename() : "?",
      coretype ? coretype : "unset", openblas_get_num_threads ? openblas_get_num_threads() : -1,
      EIGEN_WORLD_VERSION, EIGEN_MAJOR_VERSION, EIGEN_MINOR_VERSION);
  if (only.empty() || only == "inputs") RunPathInputs(quick);
  if (only.empty() || only == "e2e") RunEndToEnd(cli, baseline_cli);
  if (only.empty() || only == "gram") RunGram(gram_P, threads);
  std::printf("Total bench time %s; load average at the end %s (1, 5, 15 min).\n",
              Sec(total.wall()).c_str(), LoadAverage().c_str());
  return 0;
}
