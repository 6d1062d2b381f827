// sampler_bench — the figures issue 5 asks for, on the paper's hidden-Markov
// task (theory.md §8: P = 100, 30 chain tokens + BOS, N0 = 231, H = (2, 2),
// W-form heads, last-token readout, T = 0.01):
//
//  1. one potential + gradient evaluation in effective-weight form
//     (sampler/potential.h) vs the token-by-token forward and backward pass
//     (sampler/tokenwise.h), same weights, same binary, per width N;
//  2. NUTS effective samples per second of sampling for the entries of
//     U^sampled and for the test predictor mean, per width N.
//
//   sampler_bench                       # both tables, N ∈ {10, 100, 1000}
//   sampler_bench --gradient-only
//   sampler_bench --widths 10,100 --chains 2 --warmup 100 --samples 100 --threads 2
//
// Wall-clock times on a shared machine: read them as orders of magnitude.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "data/hmm.h"
#include "kernels/path_inputs.h"
#include "sampler/potential.h"
#include "sampler/random.h"
#include "sampler/sample.h"
#include "sampler/tokenwise.h"

namespace {

using namespace attnpaths;
using Clock = std::chrono::steady_clock;

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// Mean seconds per call of f, repeated until `budget` seconds (at least 2 calls).
template <typename F>
double TimePerCall(F f, double budget) {
  f();  // warm caches and allocations
  int calls = 0;
  const auto start = Clock::now();
  double elapsed = 0;
  while (calls < 2 || elapsed < budget) {
    f();
    ++calls;
    elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  }
  return elapsed / calls;
}

struct Config {
  std::vector<double> widths{10, 100, 1000};
  bool gradient = true, ess = true;
  int chains = 2, warmup = 100, samples = 100, threads = 2, P_test = 100;
  double temperature = 0.01;
};

Config Parse(int argc, char** argv) {
  Config c;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&] { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
    if (a == "--gradient-only") {
      c.ess = false;
    } else if (a == "--ess-only") {
      c.gradient = false;
    } else if (a == "--widths") {
      c.widths.clear();
      const std::string list = next();
      size_t pos = 0;
      while (pos < list.size()) {
        const size_t comma = list.find(',', pos);
        c.widths.push_back(std::atof(list.substr(pos, comma - pos).c_str()));
        pos = comma == std::string::npos ? list.size() : comma + 1;
      }
    } else if (a == "--chains") {
      c.chains = std::atoi(next().c_str());
    } else if (a == "--warmup") {
      c.warmup = std::atoi(next().c_str());
    } else if (a == "--samples") {
      c.samples = std::atoi(next().c_str());
    } else if (a == "--threads") {
      c.threads = std::atoi(next().c_str());
    } else {
      std::fprintf(stderr,
                   "usage: sampler_bench [--gradient-only|--ess-only] [--widths 10,100] "
                   "[--chains C] [--warmup W] [--samples S] [--threads T]\n");
      std::exit(2);
    }
  }
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  const Config config = Parse(argc, argv);
  HmmTaskOptions task;  // P = 100, 30 chain tokens, N_f = 200, seed 27
  const Dataset train = GenerateHmmTask(task);
  task.P = config.P_test;
  task.seed = 59;
  const Dataset test = GenerateHmmTask(task);
  Architecture arch = HmmArchitecture(HmmVariant::kFourPaths, task);
  arch.SetUniform(1);
  const PathInputs train_inputs = ComputePathInputs(arch, train.x, Split::kTrain);
  const PathInputs test_inputs = ComputePathInputs(arch, test.x, Split::kTest);
  std::printf("HMM task: P = %td, n_tok = %td, N0 = %td, Htot = %td, T = %g\n\n", train.x.P(),
              train.x.n_tok(), train.x.N0(), arch.Htot(), config.temperature);

  if (config.gradient) {
    std::printf("One potential + gradient evaluation (ms)\n");
    std::printf("%7s %10s %14s %14s %10s %12s\n", "N", "dimension", "effective", "token-wise",
                "speed-up", "max |Δgrad|");
    for (double N : config.widths) {
      arch.SetUniform(N);
      const NetworkPotential effective(arch, train_inputs, train.y, config.temperature);
      const TokenwisePotential tokenwise(arch, train.x, train.y, config.temperature);
      RandomEngine engine = ChainEngine(1, 0);
      Eigen::VectorXd q(effective.dimension());
      for (Eigen::Index i = 0; i < q.size(); ++i) q[i] = StandardNormal(engine);
      Eigen::VectorXd g1, g2;
      const double t_eff = TimePerCall([&] { effective.Evaluate(q, &g1); }, 1.0);
      const double t_tok = TimePerCall([&] { tokenwise.Evaluate(q, &g2); }, 2.0);
      const double diff = (g1 - g2).cwiseAbs().maxCoeff() / g2.cwiseAbs().maxCoeff();
      std::printf("%7g %10td %14.4f %14.4f %9.0fx %12.1e\n", N, effective.dimension(), 1e3 * t_eff,
                  1e3 * t_tok, t_tok / t_eff, diff);
      std::fflush(stdout);
    }
    std::printf("\n");
  }

  if (config.ess) {
    std::printf(
        "NUTS: %d chains x (%d warm-up + %d draws), %d threads; ESS per second of "
        "sampling (bulk ESS / wall-clock seconds of the sampling phase)\n",
        config.chains, config.warmup, config.samples, config.threads);
    std::printf("%7s %10s %9s %10s %8s %7s %9s %10s %10s %11s %11s %8s\n", "N", "dimension",
                "s/grad", "step", "depth", "div", "sample s", "ESS U med", "ESS f med", "ESS/s U",
                "ESS/s f", "R-hat");
    for (double N : config.widths) {
      arch.SetUniform(N);
      SampleOptions options;
      options.num_chains = config.chains;
      options.num_warmup = config.warmup;
      options.num_samples = config.samples;
      options.threads = config.threads;
      options.seed = 2024;
      SampleSummary s;
      const SampleResult r = Sample(arch, train_inputs, train.y, config.temperature, test_inputs,
                                    options, &s, &test.y);
      std::vector<double> ess_U, ess_f;
      for (size_t j = 0; j < r.diagnostics.size(); ++j) {
        const double e = r.diagnostics[j].ess_bulk;
        if (static_cast<Eigen::Index>(j) >= r.order_parameter_column) {
          ess_U.push_back(e);
        } else if (static_cast<Eigen::Index>(j) >= r.predictor_column) {
          ess_f.push_back(e);
        }
      }
      double depth = 0;
      for (double d : s.mean_tree_depth) depth += d / s.mean_tree_depth.size();
      const double seconds = s.sampling_seconds;
      const double per_grad = (s.warmup_seconds + s.sampling_seconds) *
                              std::min(config.chains, config.threads) /
                              static_cast<double>(s.gradient_evaluations);
      std::printf("%7g %10td %9.2e %10.3g %8.2f %7d %9.1f %10.0f %10.0f %11.2f %11.2f %8.3f\n", N,
                  s.dimension, per_grad, Median(s.step_size), depth, s.total_divergences, seconds,
                  Median(ess_U), Median(ess_f), Median(ess_U) / seconds, Median(ess_f) / seconds,
                  s.max_rhat);
      std::fflush(stdout);
    }
  }
  return 0;
}
