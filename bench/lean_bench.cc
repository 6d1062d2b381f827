// lean_bench — issue 14 §2 and §5 and its "Must show" table on the paper's
// Markov task (theory.md §8), printed as Markdown:
//   1. one action+gradient evaluation (pairs storage, D = 1) against its FLOP
//      floor at P = 100 … 1000: the evaluation before issue 14 §2, a1ef836's
//      (SetLeanGramSteps(false)) and now, with the Cholesky, G⁻¹-from-G and
//      inverse steps alone by Eigen and LAPACK;
//   2. solves at P = 100 for N = 10 … 1000 (default flow, stability check
//      included, predictor excluded), a1ef836's configuration, the L-BFGS
//      scaling alone and now, interleaved: time, evaluations, Hessians,
//      gradient, |ΔU| against a reference solved to 1e-13, the ratio to the
//      FLOP floor and the speed-up over the reference implementation's Adam
//      (theory.md §8: 4.2 s at N = 10, 0.40 s at N ≥ 100, issue 14);
//   3. the 7-width × 10-temperature grid (widths of theory.md §8, the
//      temperatures theory.md §8 scans on the image task), each temperature a
//      chain in decreasing N as study/sweep.cc runs it: cold (every point from
//      U_GP) and warm (Newton from the neighbouring width's solution), each
//      with a1ef836's configuration and now;
//   4. `attnpaths solve --config` end to end on the 100-train / 1000-test
//      Markov study (examples/hmm/four_paths.toml's study), when --cli is given,
//      interleaved with a --baseline-cli binary when one is given, and the
//      process start alone (`attnpaths --version`);
//   5. the path inputs of the 1000 test sequences with the same-token head
//      scored through its rank-31 factors and through W (issue 14 §3).
// Repetitions are interleaved; times are minima (medians in brackets).
// OpenBLAS runs on one thread in this process, whatever OPENBLAS_NUM_THREADS
// says: times are process CPU, and after a multi-threaded BLAS call (the set-up's
// path inputs) OpenBLAS's idle workers spin for about 0.1 s, which that clock
// counts (the "bimodal" solves of bench/results/solver_bench.md). Section 4's
// command-line runs keep the environment's setting.
//
//   ./lean_bench --reps 5 --cli $PWD/../attnpaths
#include <Eigen/Cholesky>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "data/hmm.h"
#include "kernels/path_inputs.h"
#include "kernels/path_kernel.h"
#include "parallel/blas_threads.h"
#include "solver/action.h"
#include "solver/action_hessian.h"
#include "solver/order_parameters.h"
#include "solver/solve.h"
#include "solver/spd.h"
#include "solver/training_gram.h"

extern "C" {
void dgemm_(const char* transa, const char* transb, const int* m, const int* n, const int* k,
            const double* alpha, const double* a, const int* lda, const double* b, const int* ldb,
            const double* beta, double* c, const int* ldc, size_t, size_t);
void dpotrf_(const char* uplo, const int* n, double* a, const int* lda, int* info, size_t);
}

namespace {

using namespace attnpaths;
using bench::Clock;
using bench::LoadAverage;
using bench::MedianMin;
using bench::Sec;
using bench::Since;
using bench::Stats;

template <class F>
double TimeOnce(F&& f) {
  const auto t0 = Clock::now();
  f();
  return Since(t0);
}

// Minimum time of f over repetitions lasting at least `budget` seconds.
template <class F>
double MinTime(F&& f, double budget = 0.2, int min_reps = 5) {
  double best = std::numeric_limits<double>::infinity(), total = 0;
  for (int r = 0; r < min_reps || total < budget; ++r) {
    const double t = TimeOnce(f);
    best = std::min(best, t);
    total += t;
  }
  return best;
}

// One core's DGEMM rate (flop/s): the fastest of many 500 × 500 × 500 products
// (short, so that some run undisturbed on a loaded machine).
double GemmPeak() {
  const int n = 500;
  const Eigen::MatrixXd A = Eigen::MatrixXd::Random(n, n), B = Eigen::MatrixXd::Random(n, n);
  Eigen::MatrixXd C(n, n);
  const double one = 1, zero = 0;
  const double t = MinTime(
      [&] {
        dgemm_("N", "N", &n, &n, &n, &one, A.data(), &n, B.data(), &n, &zero, C.data(), &n, 1, 1);
      },
      2.0, 20);
  return 2.0 * n * n * static_cast<double>(n) / t;
}

// G⁻¹ from its factor as Eigen computed it before (the kEigen route until the
// recursive one): L⁻¹ by a triangular solve on I, then a full GEMM.
void OldEigenInverse(Eigen::MatrixXd* L) {
  Eigen::MatrixXd L_inverse = Eigen::MatrixXd::Identity(L->rows(), L->cols());
  L->triangularView<Eigen::Lower>().solveInPlace(L_inverse);
  L->noalias() = L_inverse.transpose() * L_inverse;
}

// The evaluation before issue 14 §2 at D = 1 (pairs storage): K_U by
// PathKernel::Total, the Cholesky factor and G⁻¹ by Eigen (a triangular
// solve on I and a full GEMM) up to kSmallSpd rows and LAPACK above, α,
// R = G⁻¹ − ααᵀ both triangles, PathKernel::Contract.
struct BeforeEvaluation {
  const PathKernel& kernel;
  Eigen::VectorXd y;
  Eigen::MatrixXd G, R;
  Eigen::MatrixXd Run(const Eigen::MatrixXd& U1, double T, double* energy) {
    const SpdBackend backend = G.rows() <= kSmallSpd ? SpdBackend::kEigen : SpdBackend::kLapack;
    kernel.Total(U1, &G);
    G.diagonal().array() += T;
    CholeskyInPlace(&G, backend);
    Eigen::VectorXd alpha = y;
    G.triangularView<Eigen::Lower>().solveInPlace(alpha);
    G.triangularView<Eigen::Lower>().transpose().solveInPlace(alpha);
    *energy = 2.0 * G.diagonal().array().log().sum() + y.dot(alpha);
    R = G;
    if (backend == SpdBackend::kEigen) {
      OldEigenInverse(&R);
    } else {
      InverseFromCholeskyInPlace(&R, backend);
    }
    R.triangularView<Eigen::StrictlyUpper>() = R.transpose();
    R.noalias() -= alpha * alpha.transpose();
    return kernel.Contract(R);
  }
};

struct Task {
  Dataset train;
  Architecture arch;
};

Task MarkovTask(Eigen::Index P) {
  HmmTaskOptions task;
  task.P = P;
  task.seed = 27;
  return {GenerateHmmTask(task), HmmArchitecture(HmmVariant::kFourPaths, task)};
}

// ------------------------------------------------------------ 1. evaluations

void Evaluations(const std::vector<Eigen::Index>& sizes, double peak) {
  std::printf("## 1. One evaluation against its FLOP floor (pairs storage, D = 1, N = 100)\n\n");
  std::printf(
      "*flops*: K_U (Htot(Htot+1)/2 · P² multiply–adds over the packed pairs), Cholesky P³/3, "
      "G⁻¹ from it 2P³/3, α 2P², the gradient's contraction (Htot(Htot+1)/2 · P² multiply–adds): "
      "≈ P³ + 20 P² flops at Htot = 4. *floor* = flops / the DGEMM peak measured in this run "
      "(%.1f GFLOP/s, one core, the fastest 500³ product). *before* is the evaluation as it was "
      "(K_U and "
      "Σ R∘C over the P × P pairs; Cholesky and G⁻¹ by Eigen up to 256 rows — G⁻¹ by a "
      "triangular solve on I and a full GEMM — and LAPACK above); *now* Action::Evaluate. Steps "
      "alone: Cholesky by Eigen (LLT) and LAPACK (dpotrf), the "
      "inverse from the factor by Eigen (the recursive trtri + lauum of solver/spd.cc, kEigen) "
      "and LAPACK (dpotri). Minima over interleaved "
      "repetitions; |Δg| is max |∂E/∂U_1 now − before| / max |before|.\n\n",
      peak * 1e-9);
  std::printf(
      "*a1ef836* is Action::Evaluate with SetLeanGramSteps(false) (Eigen's LLT, then G⁻¹ from "
      "L), *now* with it on (G⁻¹ and ln det G straight from G by block LDLᵀ, "
      "SpdInverseInPlace, no factor), both evaluating two points in turn (at the point just "
      "evaluated Factorize has nothing to do); *G⁻¹ from G* is that step alone.\n\n");
  std::printf(
      "| P | flops | floor | before | a1ef836 | now | now / floor | a1ef836 / now | before / now "
      "| LLT Eigen | dpotrf | G⁻¹ from G | inverse Eigen | dpotri | \\|Δg\\| |\n");
  std::printf("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  for (Eigen::Index P : sizes) {
    Task t = MarkovTask(P);
    t.arch.SetUniform(100);
    const PathKernel kernel(ComputePathInputs(t.arch, t.train.x, Split::kTrain),
                            {KernelStrategy::kPrecomputed});
    const Action action(t.arch, kernel, t.train.y, 0.01);
    SolveOptions quick;
    quick.compute_hessian = false;
    const Solution sol = Solve(action, quick, nullptr);
    const std::vector<Eigen::MatrixXd> U = sol.order_parameters.U;
    BeforeEvaluation before{kernel, t.train.y.col(0), {}, {}};
    std::vector<Eigen::MatrixXd> grad;
    action.Evaluate(U, &grad);  // builds the packed pairs once
    double energy_before = 0;
    TrainingGram gram(kernel, t.train.y);
    gram.Factorize(U[0], 0.01);
    Eigen::MatrixXd g_now;
    gram.EnergyGradient(&g_now);
    const Eigen::MatrixXd g_before = before.Run(U[0], 0.01, &energy_before);
    const double dg = (g_now - g_before).cwiseAbs().maxCoeff() / g_before.cwiseAbs().maxCoeff();

    Eigen::MatrixXd A = kernel.Total(U[0]);
    A.diagonal().array() += 0.01;
    Eigen::MatrixXd W, L = A;
    CholeskyInPlace(&L);
    const int n = static_cast<int>(P);
    int info = 0;
    std::vector<Eigen::MatrixXd> U2 = U;
    U2[0] *= 1 + 1e-6;
    double t_off = 1e9, t_direct = 1e9;
    double t_before = 1e9, t_now = 1e9, t_llt = 1e9, t_potrf = 1e9, t_inv_e = 1e9, t_inv_l = 1e9;
    const double budget = P <= 200 ? 0.05 : 0.3;
    for (int round = 0; round < 5; ++round) {  // interleaved
      t_before =
          std::min(t_before, MinTime([&] { before.Run(U[0], 0.01, &energy_before); }, budget));
      // Two points in turn: at the point just evaluated Factorize has nothing to do.
      int turn = 0;
      SetLeanGramSteps(false);
      t_off =
          std::min(t_off, MinTime([&] { action.Evaluate(turn++ % 2 ? U : U2, &grad); }, budget));
      SetLeanGramSteps(true);
      t_now =
          std::min(t_now, MinTime([&] { action.Evaluate(turn++ % 2 ? U : U2, &grad); }, budget));
      t_direct = std::min(t_direct, MinTime(
                                        [&] {
                                          W = A;
                                          double log_det = 0;
                                          SpdInverseInPlace(&W, &log_det);
                                        },
                                        budget));
      t_llt = std::min(t_llt, MinTime(
                                  [&] {
                                    W = A;
                                    Eigen::LLT<Eigen::Ref<Eigen::MatrixXd>> llt(W);
                                  },
                                  budget));
      t_potrf = std::min(t_potrf, MinTime(
                                      [&] {
                                        W = A;
                                        dpotrf_("L", &n, W.data(), &n, &info, 1);
                                      },
                                      budget));
      t_inv_e = std::min(t_inv_e, MinTime(
                                      [&] {
                                        W = L;
                                        InverseFromCholeskyInPlace(&W, SpdBackend::kEigen);
                                      },
                                      budget));
      t_inv_l = std::min(t_inv_l, MinTime(
                                      [&] {
                                        W = L;
                                        InverseFromCholeskyInPlace(&W, SpdBackend::kLapack);
                                      },
                                      budget));
    }
    const double e = 10.0, p = static_cast<double>(P);
    const double flops = 2 * e * p * (p + 1) / 2 + p * p * p / 3 + 2 * p * p * p / 3 + 4 * p * p +
                         2 * e * p * (p + 1) / 2;
    const double floor = flops / peak;
    std::printf(
        "| %ld | %.2f M | %s | %s | %s | %s | **%.1f** | %.2f | %.2f | %s | %s | %s | %s | %s | "
        "%.0e |\n",
        static_cast<long>(P), flops * 1e-6, Sec(floor).c_str(), Sec(t_before).c_str(),
        Sec(t_off).c_str(), Sec(t_now).c_str(), t_now / floor, t_off / t_now, t_before / t_now,
        Sec(t_llt).c_str(), Sec(t_potrf).c_str(), Sec(t_direct).c_str(), Sec(t_inv_e).c_str(),
        Sec(t_inv_l).c_str(), dg);
    std::fflush(stdout);
  }
  std::printf("\n");
}

// ------------------------------------------------------------ 2. solves

// A solver configuration of sections 2 and 3: SolveOptions and the lean Gram
// steps (solver/training_gram.h SetLeanGramSteps) switched together.
struct Flow {
  const char* name;
  bool lbfgs_scaling, lean;
};
// a1ef836 (before the fused factorisation), the defaults (the cold flow is
// that of 04cd314: this branch changes warm starts only), and the defaults
// with SolveOptions::lbfgs_scaling.
const Flow kFlows[] = {{"a1ef836", false, false},
                       {"now (the defaults; cold solves as 04cd314)", false, true},
                       {"L-BFGS scaling", true, true}};

void Solves(const std::vector<double>& widths, int reps, double tolerance, double peak) {
  std::printf(
      "## 2. Solves on the Markov task (P = 100, 4 paths, T = 0.01, gradient_tolerance %.0e)\n\n",
      tolerance);
  std::printf(
      "*solve* includes the stability check (the Hessian's smallest eigenvalue) and excludes "
      "the predictor; storage pairs (kAuto's choice); default flow (line search to "
      "newton_threshold 1e-3, then Newton with hessian_reuse 0.25). *a1ef836*: "
      "SetLeanGramSteps(false) (Eigen LLT, G⁻¹ from L, every Hessian factorises G again in a "
      "TrainingGram of its own); *now*: the defaults (a cold solve is 04cd314's); *L-BFGS "
      "scaling*: the defaults with lbfgs_scaling on. *vs before* is against *now*. The "
      "configurations run interleaved, %d repetitions each; "
      "minimum (median) of the solve's CPU time (one thread). |ΔU| = max |U_1 − U_1^ref| "
      "against Newton from the solution to max |∂(S/n)/∂U| ≤ 1e-13. *floor*: the solve's FLOPs "
      "(evaluations × one evaluation's, section 1's count, + Hessians × "
      "(TrainingGram::EnergyHessianFlops + P³ for G's factor and inverse)) at the DGEMM peak "
      "of this run (%.1f GFLOP/s); *ratio* = minimum CPU / floor; *vs reference*: the "
      "reference implementation's Adam (4.2 s at N = 10, 0.40 s at N ≥ 100; issue 14) over "
      "the minimum CPU.\n\n",
      reps, peak * 1e-9);
  std::printf(
      "| N | flow | solve CPU | evaluations | Hessians | Newton steps | max \\|∂(S/n)/∂U\\| | "
      "Hessian min eig | \\|ΔU\\| | floor | ratio | vs before | vs reference |\n");
  std::printf("|---:|:---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  Task t = MarkovTask(100);
  const PathInputs inputs = ComputePathInputs(t.arch, t.train.x, Split::kTrain);
  const PathKernel kernel(inputs);
  const double p = static_cast<double>(inputs.P()), e = 10.0;
  const double eval_flops = 2 * e * p * (p + 1) / 2 + p * p * p / 3 + 2 * p * p * p / 3 +
                            4 * p * p + 2 * e * p * (p + 1) / 2;
  TrainingGram flop_gram(kernel, t.train.y);
  const double hessian_flops =
      flop_gram.EnergyHessianFlops(TrainingGram::HessianForm::kExamples) + p * p * p;
  const size_t kN = sizeof(kFlows) / sizeof(kFlows[0]);
  for (double N : widths) {
    t.arch.SetUniform(N);
    const Action action(t.arch, kernel, t.train.y, 0.01);
    std::vector<std::vector<double>> cpu(kN);
    std::vector<SolveSummary> summary(kN);
    std::vector<Solution> sol(kN);
    for (int r = 0; r < reps; ++r) {
      for (size_t f = 0; f < kN; ++f) {
        SolveOptions options;
        options.gradient_tolerance = tolerance;
        options.lbfgs_scaling = kFlows[f].lbfgs_scaling;
        SetLeanGramSteps(kFlows[f].lean);
        const bench::Stopwatch w;
        sol[f] = Solve(action, options, &summary[f]);
        cpu[f].push_back(w.cpu());
      }
    }
    SetLeanGramSteps(true);
    SolveOptions tight;
    tight.gradient_tolerance = 1e-13;
    tight.newton_threshold = std::numeric_limits<double>::infinity();
    tight.max_newton_steps = 50;
    tight.compute_hessian = false;
    tight.initial_U = sol[0].order_parameters.U;
    const Solution ref = Solve(action, tight, nullptr);
    const double before = MedianMin(cpu[1]).min;
    for (size_t f = 0; f < kN; ++f) {
      const SolveSummary& b = summary[f];
      const double du =
          (sol[f].order_parameters.U[0] - ref.order_parameters.U[0]).cwiseAbs().maxCoeff();
      const Stats sc = MedianMin(cpu[f]);
      const double reference = N <= 10 ? 4.2 : (N >= 100 ? 0.40 : std::nan(""));
      const double floor = (b.evaluations * eval_flops + b.hessians * hessian_flops) / peak;
      std::printf(
          "| %g | %s | **%s** (%s) | %d | %d | %d | %.1e | %.6g | %.1e | %s | %.1f | %.2f× | %s "
          "|\n",
          N, kFlows[f].name, Sec(sc.min).c_str(), Sec(sc.median).c_str(), b.evaluations, b.hessians,
          b.newton_steps, b.gradient_norm, b.hessian_min_eigenvalue, du, Sec(floor).c_str(),
          sc.min / floor, before / sc.min,
          std::isnan(reference) ? "" : bench::Fmt("%.0f×", reference / sc.min).c_str());
      std::fflush(stdout);
    }
  }
  std::printf("\n");
}

// ------------------------------------------------------------ 3. warm starts

void Sweeps(const std::vector<double>& widths, const std::vector<double>& temps, int reps,
            double tolerance) {
  std::printf("## 3. The 7-width × 10-temperature grid: cold and warm starts\n\n");
  std::printf(
      "P = 100, 4 paths; widths %zu, temperatures %zu; every temperature a chain in decreasing "
      "N as `attnpaths sweep` runs it (study/sweep.cc). *cold*: every point from U_GP; *warm*: "
      "from the next larger width's solution (Newton first, newton_from_initial); default "
      "options otherwise. *first model computed (04cd314)*: the first Newton step of a warm "
      "start takes a fresh Hessian; *neighbour's Hessian*: it takes the previous width's "
      "stability-check Hessian with the entropy part exchanged (NeighbourActionHessian, "
      "SolveOptions::initial_hessian, as study/sweep.cc; its cost is timed); *scaling*: "
      "lbfgs_scaling on. Solves only (stability check "
      "included; Action construction, path inputs and predictor excluded), total CPU and wall time "
      "over the grid, "
      "minimum (median) over %d interleaved repetitions; per point: mean evaluations and Hessians "
      "(max in "
      "brackets). max |ΔU| is the largest max |U_1 − U_1^cold| over the grid; *not "
      "converged* counts points above the tolerance, %.0e.\n\n",
      widths.size(), temps.size(), reps, tolerance);
  Task t = MarkovTask(100);
  const PathKernel kernel(ComputePathInputs(t.arch, t.train.x, Split::kTrain));
  std::vector<double> chain = widths;
  std::sort(chain.begin(), chain.end(), std::greater<>());
  struct Mode {
    const char* name;
    bool warm, lean, scaling, carry;  // carry: the neighbour's Hessian as first Newton model
  };
  const Mode modes[] = {{"cold (as 04cd314)", false, true, false, false},
                        {"warm, first model computed (04cd314)", true, true, false, false},
                        {"warm, neighbour's Hessian (now)", true, true, false, true},
                        {"cold, L-BFGS scaling", false, true, true, false},
                        {"warm, scaling + neighbour's Hessian", true, true, true, true}};
  const size_t kModes = sizeof(modes) / sizeof(modes[0]);
  std::vector<std::vector<double>> times(kModes), walls(kModes);
  std::vector<std::vector<SolveSummary>> summaries(kModes);
  std::vector<std::vector<Eigen::MatrixXd>> solutions(kModes);
  for (int r = 0; r < reps; ++r) {
    for (size_t m = 0; m < kModes; ++m) {
      summaries[m].clear();
      solutions[m].clear();
      double total = 0, wall_total = 0;
      for (double T : temps) {
        std::vector<Eigen::MatrixXd> start;
        Eigen::MatrixXd start_hessian;
        Architecture start_arch;
        for (double N : chain) {
          t.arch.SetUniform(N);
          const Action action(t.arch, kernel, t.train.y, T);
          SolveOptions o;
          o.lbfgs_scaling = modes[m].scaling;
          SetLeanGramSteps(modes[m].lean);
          o.gradient_tolerance = tolerance;
          if (modes[m].warm) o.initial_U = start;
          SolveSummary s;
          const bench::Stopwatch w;
          // As study/sweep.cc: the previous width's stability-check Hessian,
          // its entropy part exchanged for this width's (timed with the solve).
          if (modes[m].warm && modes[m].carry && start_hessian.size() > 0 &&
              !NeighbourActionHessian(action, start_arch, start, start_hessian,
                                      &o.initial_hessian)) {
            o.initial_hessian.resize(0, 0);
          }
          Solution sol = Solve(action, o, &s);
          total += w.cpu();
          wall_total += w.wall();
          start = sol.order_parameters.U;
          start_hessian = std::move(sol.hessian);
          start_arch = t.arch;
          summaries[m].push_back(s);
          solutions[m].push_back(sol.order_parameters.U[0]);
        }
      }
      times[m].push_back(total);
      walls[m].push_back(wall_total);
    }
  }
  SetLeanGramSteps(true);
  std::printf(
      "| start | grid total CPU | wall | per point CPU | evaluations / point | Hessians / point | "
      "Newton steps "
      "/ point | max \\|ΔU\\| vs cold | max \\|∂(S/n)/∂U\\| | not converged | vs cold |\n");
  std::printf("|:---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  const double cold_min = MedianMin(times[0]).min;
  for (size_t m = 0; m < kModes; ++m) {
    const Stats st = MedianMin(times[m]);
    double evals = 0, hess = 0, newton = 0, du = 0, grad = 0;
    int max_evals = 0, max_hess = 0, failed = 0;
    for (size_t k = 0; k < summaries[m].size(); ++k) {
      const SolveSummary& s = summaries[m][k];
      evals += s.evaluations;
      hess += s.hessians;
      newton += s.newton_steps;
      max_evals = std::max(max_evals, s.evaluations);
      max_hess = std::max(max_hess, s.hessians);
      grad = std::max(grad, s.gradient_norm);
      failed += s.converged() ? 0 : 1;
      du = std::max(du, (solutions[m][k] - solutions[0][k]).cwiseAbs().maxCoeff());
    }
    const double n = static_cast<double>(summaries[m].size());
    const Stats sw = MedianMin(walls[m]);
    std::printf(
        "| %s | **%s** (%s) | %s (%s) | %s | %.1f (%d) | %.1f (%d) | %.1f | %.1e | %.1e | %d | "
        "%.2f× |\n",
        modes[m].name, Sec(st.min).c_str(), Sec(st.median).c_str(), Sec(sw.min).c_str(),
        Sec(sw.median).c_str(), Sec(st.min / n).c_str(), evals / n, max_evals, hess / n, max_hess,
        newton / n, du, grad, failed, cold_min / st.min);
    std::fflush(stdout);
  }
  std::printf("\n");
}

// ------------------------------------------------------------ 4. end to end

void EndToEnd(const std::string& cli, const std::string& baseline, int reps) {
  namespace fs = std::filesystem;
  std::printf("## 4. `attnpaths solve --config` end to end (100 train, 1000 test sequences)\n\n");
  const fs::path dir = fs::temp_directory_path() / ("lean_bench_" + std::to_string(getpid()));
  fs::create_directories(dir);
  // examples/hmm/four_paths.toml's study at its one width N = 100.
  std::ofstream(dir / "study.toml")
      << "name = \"hmm-four-paths\"\ntemperature = 0.01\n[data]\ngenerator = \"hmm\"\n"
         "[data.hmm]\nP = 100\nP_test = 1000\nchain_tokens = 30\nN_f = 200\n"
         "noise = [1.0, 1.0, 1.0]\n[architecture]\nreadout = \"last\"\nwidth = 100\n"
         "variance = 1.0\n[[architecture.layers]]\nheads = [ { kind = \"hmm_same_token\", name = "
         "\"good\", beta = 10 },\n  { kind = \"hmm_blank\", name = \"blank1\", beta = 10, "
         "perturbation = 1, seed = 147 } ]\n[[architecture.layers]]\nheads = [ { kind = "
         "\"hmm_uniform\", name = \"uniform\", beta = 10 },\n  { kind = \"hmm_blank\", name = "
         "\"blank2\", beta = 10, perturbation = 1, seed = 247 } ]\n[output]\ndirectory = "
         "\"out\"\n";
  // The binaries' runs interleaved (the load changes from minute to minute);
  // `--version` is the process start alone (loading ~70 shared libraries).
  std::vector<std::string> binaries = {cli};
  if (!baseline.empty()) binaries.insert(binaries.begin(), baseline);
  struct Runs {
    std::vector<double> wall, cpu, start_wall, start_cpu;
    int status = 0;
  };
  std::vector<Runs> runs(binaries.size());
  for (int r = 0; r < reps; ++r) {
    for (size_t b = 0; b < binaries.size(); ++b) {
      fs::remove_all(dir / "out");
      const bench::CommandTiming c = bench::RunCommand(
          {binaries[b], "solve", "--config", "study.toml", "--quiet"}, dir.string());
      runs[b].wall.push_back(c.wall);
      runs[b].cpu.push_back(c.cpu);
      runs[b].status = std::max(runs[b].status, c.status);
      const bench::CommandTiming v = bench::RunCommand({binaries[b], "--version"}, dir.string());
      runs[b].start_wall.push_back(v.wall);
      runs[b].start_cpu.push_back(v.cpu);
    }
  }
  std::printf(
      "`attnpaths solve --config study.toml --quiet` (examples/hmm/four_paths.toml at N = 100, "
      "data generated), default threads, %d interleaved runs of each binary: minimum (median) "
      "wall and CPU (user + system) time of the process; *start* is `attnpaths --version`.\n\n"
      "| binary | wall | CPU | start wall | start CPU | exit |\n|:---|---:|---:|---:|---:|---:|\n",
      reps);
  for (size_t b = 0; b < binaries.size(); ++b) {
    const Stats w = MedianMin(runs[b].wall), c = MedianMin(runs[b].cpu),
                sw = MedianMin(runs[b].start_wall), sc = MedianMin(runs[b].start_cpu);
    std::printf("| %s | **%s** (%s) | **%s** (%s) | %s (%s) | %s (%s) | %d |\n",
                binaries[b] == cli ? "this build" : "baseline", Sec(w.min).c_str(),
                Sec(w.median).c_str(), Sec(c.min).c_str(), Sec(c.median).c_str(),
                Sec(sw.min).c_str(), Sec(sw.median).c_str(), Sec(sc.min).c_str(),
                Sec(sc.median).c_str(), runs[b].status);
  }
  std::printf("\n");
  fs::remove_all(dir);
}

// ------------------------------------------------------------ 5. path inputs

// The 1000 test sequences' path inputs with the same-token head of layer 1
// scored through its rank-31 factors (what the library does), against the W
// route that scored it before: the same head with W perturbed by a full-rank
// 1e-13 relative noise (so LowRankFactors refuses it; the FLOPs are those of
// the W route). One thread, CPU time, minimum over interleaved repetitions.
void PathInputRoutes(int reps) {
  // The floor's rate: Eigen's GEMM (what PathInputCalculator runs), 500³.
  const Eigen::MatrixXd A = Eigen::MatrixXd::Random(500, 500),
                        B = Eigen::MatrixXd::Random(500, 500);
  Eigen::MatrixXd C(500, 500);
  const double peak = 2.0 * 500 * 500 * 500 / MinTime([&] { C.noalias() = A * B; }, 1.0, 10);
  std::printf(
      "## 5. Path inputs of the 1000 test sequences: factored same-token head vs W route\n\n");
  HmmTaskOptions task;
  task.P = 1000;
  task.seed = 59;
  const Dataset test = GenerateHmmTask(task);
  const Architecture factored = HmmArchitecture(HmmVariant::kFourPaths, task);
  Architecture w_route = factored;
  HeadSpec& good = w_route.layers[0][0];
  Eigen::MatrixXd noise = Eigen::MatrixXd::Random(good.W.rows(), good.W.cols());
  good.W += (1e-13 * good.W.norm() / noise.norm()) * noise;
  const PathInputCalculator calc_f(factored, test.x.N0(), test.x.n_tok());
  const PathInputCalculator calc_w(w_route, test.x.N0(), test.x.n_tok());
  PathInputOptions one;
  one.threads = 1;
  Eigen::MatrixXd xi_f(test.x.P(), calc_f.M()), xi_w(test.x.P(), calc_w.M());
  std::vector<double> tf, tw, cf, cw;
  for (int r = 0; r < std::max(3, reps); ++r) {
    bench::Stopwatch a;
    calc_w.Compute(test.x, Split::kTest, 0, xi_w, one);
    tw.push_back(a.cpu());
    bench::Stopwatch b;
    calc_f.Compute(test.x, Split::kTest, 0, xi_f, one);
    tf.push_back(b.cpu());
    bench::Stopwatch c;
    const PathInputCalculator again(factored, test.x.N0(), test.x.n_tok());
    cf.push_back(c.cpu());
    bench::Stopwatch d;
    const PathInputCalculator again_w(w_route, test.x.N0(), test.x.n_tok());
    cw.push_back(d.cpu());
  }
  const double diff = (xi_f - xi_w).cwiseAbs().maxCoeff() / xi_w.cwiseAbs().maxCoeff();
  const double P = static_cast<double>(test.x.P());
  std::printf(
      "*FLOP/ex* are the GEMM operations per example (PathInputCalculator::FlopsPerExample), "
      "*floor* their time at this run's 500³ GEMM rate (%.1f GFLOP/s, Eigen), *ratio* CPU / floor "
      "(issue 14 §3: goal ≤ 1.5); *setup* the "
      "calculator's construction (the factors' range finder included). |ΔΞ| = max |Ξ_factored − "
      "Ξ_W| / max |Ξ_W|.\n\n",
      peak * 1e-9);
  std::printf(
      "| route of the same-token head | FLOP/ex | CPU (1 thread) | GFLOP/s | floor | ratio | setup "
      "|\n"
      "|:---|---:|---:|---:|---:|---:|---:|\n");
  const Stats sw = MedianMin(tw), sf = MedianMin(tf), scw = MedianMin(cw), scf = MedianMin(cf);
  for (int k = 0; k < 2; ++k) {
    const PathInputCalculator& c = k == 0 ? calc_w : calc_f;
    const Stats& st = k == 0 ? sw : sf;
    const Stats& setup = k == 0 ? scw : scf;
    const double flops = c.FlopsPerExample() * P;
    std::printf("| %s | %.2f M | **%s** | %.1f | %s | %.2f | %s |\n",
                k == 0 ? "W route (before)" : "rank-31 factors (now)", c.FlopsPerExample() * 1e-6,
                Sec(st.min).c_str(), flops / st.min * 1e-9, Sec(flops / peak).c_str(),
                st.min / (flops / peak), Sec(setup.min).c_str());
  }
  std::printf("\nSpeed-up %.2f×; |ΔΞ| = %.1e.\n\n", sw.min / sf.min, diff);
}

std::vector<double> ParseList(const char* text) {
  std::vector<double> v;
  std::string s(text);
  size_t pos = 0;
  while (pos < s.size()) {
    const size_t next = s.find(',', pos);
    v.push_back(std::atof(s.substr(pos, next - pos).c_str()));
    if (next == std::string::npos) break;
    pos = next + 1;
  }
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  int reps = 5;
  double tolerance = 1e-12;  // issue 14: converged to max |∂(S/n_max)/∂U| ≤ 1e-12
  std::string cli, baseline, only;
  std::vector<double> sizes = {100, 200, 400, 1000};
  std::vector<double> widths = {10, 20, 50, 100, 200, 500, 1000};
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--reps" && i + 1 < argc) {
      reps = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--cli" && i + 1 < argc) {
      cli = argv[++i];
    } else if (a == "--baseline-cli" && i + 1 < argc) {
      baseline = argv[++i];
    } else if (a == "--tolerance" && i + 1 < argc) {
      tolerance = std::atof(argv[++i]);
    } else if (a == "--only" && i + 1 < argc) {
      only = argv[++i];
    } else if (a == "--sizes" && i + 1 < argc) {
      sizes = ParseList(argv[++i]);
    } else if (a == "--widths" && i + 1 < argc) {
      widths = ParseList(argv[++i]);
    } else {
      std::fprintf(stderr,
                   "usage: lean_bench [--reps R] [--cli path/to/attnpaths] [--baseline-cli "
                   "path] [--only 1|2|3|4|5] "
                   "[--sizes 100,400] [--widths 10,100] [--tolerance 1e-12]\n");
      return a == "--help" || a == "-h" ? 0 : 2;
    }
  }
  const char* threads = std::getenv("OPENBLAS_NUM_THREADS");
  const char* core = std::getenv("OPENBLAS_CORETYPE");
  LimitBlasThreads(1);
  std::printf(
      "# lean_bench\n\n%s; load average %s (1, 5, 15 min) at the start; OPENBLAS_NUM_THREADS=%s "
      "(OpenBLAS on %d thread in this process), OPENBLAS_CORETYPE=%s; %d repetitions.\n\n",
      bench::UtcNow().c_str(), LoadAverage().c_str(), threads ? threads : "(unset)",
      BlasThreadCount(), core ? core : "(unset)", reps);
  const double peak = GemmPeak();
  if (only.empty() || only == "1") {
    std::vector<Eigen::Index> P;
    for (double s : sizes) P.push_back(static_cast<Eigen::Index>(s));
    Evaluations(P, peak);
  }
  if (only.empty() || only == "2") Solves(widths, reps, tolerance, peak);
  if (only.empty() || only == "3") {
    Sweeps({10, 30, 50, 100, 300, 500, 1000},
           {0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 1.5}, std::max(1, reps / 2),
           tolerance);
  }
  if (!cli.empty() && (only.empty() || only == "4")) EndToEnd(cli, baseline, reps);
  if (only.empty() || only == "5") PathInputRoutes(reps);
  std::printf("load average at the end: %s\n", LoadAverage().c_str());
  return 0;
}
