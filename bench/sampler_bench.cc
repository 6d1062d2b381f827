// sampler_bench — the sampler's figures on the paper's hidden-Markov task
// (theory.md §8: P = 100, 30 chain tokens + BOS, N0 = 231, H = (2, 2), W-form
// heads, last-token readout, T = 0.01), every configuration in one run of
// one binary so that their ratios are measured side by side:
//
//  1. one potential + gradient evaluation in effective-weight form
//     (sampler/potential.h) vs the token-by-token network
//     (sampler/tokenwise.h), and the collapsed potential
//     (sampler/collapsed_potential.h) and the reduced potential
//     (sampler/reduced_potential.h), per width N;
//  2. NUTS effective samples per CPU second for the entries of U^sampled and
//     the test predictor means, per width N and sampler configuration
//     (weights:integrator:metric, e.g. collapsed:prior_split:diag or
//     all:leapfrog:diag, today's full sampler before issue 15; `gibbs`, the
//     blocked Gibbs sampler of sampler/gibbs.h, has neither integrator nor
//     metric; gibbs:K runs K sweeps per retained draw).
//
//   sampler_bench                                   # both tables, N ∈ {10, 100, 1000}
//   sampler_bench --gradient-only
//   sampler_bench --ess-only --widths 100 --samplers collapsed,all:leapfrog:diag
//                 --chains 2 --warmup 150 --samples 150 --threads 2     (one line)
//   sampler_bench --ess-only --widths 1000 --samplers all:leapfrog:diag --warmup 30 --samples 30
//   sampler_bench --ess-only --widths 10,100 --samplers reduced,gibbs,gibbs:10,all:leapfrog:diag
//
// ESS/s = median (or minimum) bulk ESS over the quantities, divided by the
// CPU seconds the chains' threads spent in the sampling phase (summed over
// chains): on a shared machine CPU time, not wall time, measures the cost.
// "grad ms" is CPU time per gradient evaluation over warm-up and sampling
// (the collapsed sampler's sampling phase also pays the conditional
// statistics of every retained draw); for gibbs it is the CPU time per sweep
// over warm-up and sampling, reports included ("steps" = sweeps per draw,
// step and depth 0).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "data/hmm.h"
#include "kernels/path_inputs.h"
#include "sampler/collapsed_potential.h"
#include "sampler/metric.h"
#include "sampler/nuts.h"
#include "sampler/potential.h"
#include "sampler/random.h"
#include "sampler/reduced_potential.h"
#include "sampler/sample.h"
#include "sampler/thread_clock.h"
#include "sampler/tokenwise.h"

namespace {

using namespace attnpaths;

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double Min(const std::vector<double>& v) {
  return v.empty() ? 0 : *std::min_element(v.begin(), v.end());
}

// Mean CPU seconds of the calling thread per call of f, repeated until
// `budget` CPU seconds (at least 2 calls): less sensitive than wall time to
// the other jobs of a shared machine.
template <typename F>
double TimePerCall(F f, double budget) {
  f();  // warm caches and allocations
  int calls = 0;
  const double start = ThreadCpuSeconds();
  double elapsed = 0;
  while (calls < 2 || elapsed < budget) {
    f();
    ++calls;
    elapsed = ThreadCpuSeconds() - start;
  }
  return elapsed / calls;
}

std::vector<std::string> SplitList(const std::string& list, char separator) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= list.size()) {
    const size_t next = list.find(separator, pos);
    out.push_back(list.substr(pos, next == std::string::npos ? std::string::npos : next - pos));
    if (next == std::string::npos) break;
    pos = next + 1;
  }
  return out;
}

// Multiply–adds of the collapsed gradient's matrix products: the features
// Z[0] = X Ṽ_0ᵀ (F0 = Htot P N0 n_1) and Z[ℓ] = Σ_h Z[ℓ-1]_h Ṽ_{ℓ,h}ᵀ
// (F_ℓ = m_{ℓ+1} P H_ℓ n_ℓ n_{ℓ+1}), then back-propagation: ∂Ṽ_0 costs F0,
// every upper layer ∂Ṽ_{ℓ,h} and ∂Z[ℓ-1], 2 F_ℓ. The P × P (or n × n)
// factorisation and solves are left out (a few percent at N ≥ 100).
double CollapsedGradientMacs(const WeightLayout& layout, Eigen::Index P) {
  const auto p = static_cast<double>(P);
  const double F0 = static_cast<double>(layout.Htot() * layout.N0() * layout.n(1)) * p;
  double F = 0;
  for (int l = 1; l <= layout.L(); ++l) {
    F += static_cast<double>(layout.m(l + 1) * layout.H(l) * layout.n(l) * layout.n(l + 1)) * p;
  }
  return 2 * F0 + 3 * F;
}

// U(q) = ½ |q|²: NUTS steps on it cost the tree's own work, not a gradient.
class StandardNormalPotential : public Potential {
 public:
  explicit StandardNormalPotential(Eigen::Index d) : d_(d) {}
  Eigen::Index dimension() const override { return d_; }
  double Evaluate(const Eigen::Ref<const Eigen::VectorXd>& q,
                  Eigen::VectorXd* gradient) const override {
    if (gradient != nullptr) *gradient = q;
    return 0.5 * q.squaredNorm();
  }

 private:
  Eigen::Index d_;
};

// CPU seconds per leapfrog step of NUTS transitions (depth ≤ 6, diagonal
// metric) on a d-dimensional standard normal, minus its trivial gradient:
// the per-step work of the tree (momentum updates, copies, no-U-turn dot
// products) that every sampler pays on top of its gradient.
double NutsTreeSecondsPerStep(Eigen::Index d) {
  const StandardNormalPotential potential(d);
  const std::unique_ptr<Metric> metric = MakeMetric(MetricKind::kDiagonal, d);
  RandomEngine engine = ChainEngine(7, 0);
  const std::function<double()> uniform = [&engine] { return Uniform01(engine); };
  NutsOptions options;
  options.max_depth = 6;
  NutsSampler nuts(potential, *metric, options, uniform);
  Eigen::VectorXd q(d), p, g;
  for (Eigen::Index i = 0; i < d; ++i) q[i] = StandardNormal(engine);
  Position x = EvaluatePosition(potential, q);
  const int transitions = d > 1000000 ? 2 : 20;
  long steps = 0;
  const double start = ThreadCpuSeconds();
  for (int i = 0; i < transitions; ++i) {
    metric->SampleMomentum(engine, &p);
    steps += nuts.Transition(0.05, x, p, &x).leapfrog_steps;
  }
  const double per_step = (ThreadCpuSeconds() - start) / static_cast<double>(steps);
  const double gradient_start = ThreadCpuSeconds();
  for (int i = 0; i < 10; ++i) potential.Evaluate(q, &g);
  return per_step - (ThreadCpuSeconds() - gradient_start) / 10;
}

struct Config {
  std::vector<double> widths{10, 100, 1000};
  bool gradient = true, ess = true, tokenwise = true;
  int chains = 2, warmup = 150, samples = 150, threads = 2, P_test = 100;
  double temperature = 0.01;
  std::vector<std::string> samplers{"collapsed", "all:leapfrog:diag"};
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
    } else if (a == "--no-tokenwise") {
      c.tokenwise = false;
    } else if (a == "--widths") {
      c.widths.clear();
      for (const std::string& w : SplitList(next(), ',')) c.widths.push_back(std::atof(w.c_str()));
    } else if (a == "--samplers") {
      c.samplers = SplitList(next(), ',');
    } else if (a == "--chains") {
      c.chains = std::atoi(next().c_str());
    } else if (a == "--warmup") {
      c.warmup = std::atoi(next().c_str());
    } else if (a == "--samples") {
      c.samples = std::atoi(next().c_str());
    } else if (a == "--threads") {
      c.threads = std::atoi(next().c_str());
    } else if (a == "--test") {
      c.P_test = std::atoi(next().c_str());
    } else {
      std::fprintf(stderr,
                   "usage: sampler_bench [--gradient-only|--ess-only] [--no-tokenwise] "
                   "[--widths 10,100] [--samplers collapsed,all:leapfrog:diag] [--chains C] "
                   "[--warmup W] [--samples S] [--threads T] [--test P*]\n");
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
  std::printf("HMM task: P = %td, P* = %td, n_tok = %td, N0 = %td, Htot = %td, T = %g\n\n",
              train.x.P(), test.x.P(), train.x.n_tok(), train.x.N0(), arch.Htot(),
              config.temperature);

  if (config.gradient) {
    std::printf(
        "One potential + gradient evaluation (ms, CPU time of the thread); coll. GF/s: the "
        "collapsed "
        "gradient's matrix products (2 F0 + 3 F multiply-adds, CollapsedGradientMacs) per second; "
        "NUTS tree ms: one NUTS "
        "step's own work (everything but the gradient) at the collapsed dimension\n");
    std::printf("%7s %10s %12s %12s %10s %12s %12s %10s %10s %12s %12s %12s\n", "N", "dim (all)",
                "effective", "token-wise", "max |dg|", "dim (coll.)", "collapsed", "coll./eff.",
                "coll. GF/s", "NUTS tree ms", "dim (red.)", "reduced");
    for (double N : config.widths) {
      arch.SetUniform(N);
      const NetworkPotential effective(arch, train_inputs, train.y, config.temperature);
      const CollapsedPotential collapsed(arch, train_inputs, train.y, config.temperature);
      RandomEngine engine = ChainEngine(1, 0);
      Eigen::VectorXd q(effective.dimension());
      for (Eigen::Index i = 0; i < q.size(); ++i) q[i] = StandardNormal(engine);
      Eigen::VectorXd g1, g2, g3;
      const double t_eff = TimePerCall([&] { effective.Evaluate(q, &g1); }, 1.0);
      double t_tok = 0, diff = 0;
      if (config.tokenwise) {
        const TokenwisePotential tokenwise(arch, train.x, train.y, config.temperature);
        t_tok = TimePerCall([&] { tokenwise.Evaluate(q, &g2); }, 2.0);
        diff = (g1 - g2).cwiseAbs().maxCoeff() / g2.cwiseAbs().maxCoeff();
      }
      const Eigen::VectorXd v = q.head(collapsed.dimension());
      const double t_col = TimePerCall([&] { collapsed.Evaluate(v, &g3); }, 2.0);
      const double flops = 2 * CollapsedGradientMacs(collapsed.layout(), train_inputs.P());
      const double t_tree = NutsTreeSecondsPerStep(collapsed.dimension());
      const ReducedPotential reduced(arch, train_inputs, train.y, config.temperature);
      const Eigen::VectorXd theta = reduced.DrawPrior(engine);
      Eigen::VectorXd g4;
      const double t_red = TimePerCall([&] { reduced.Evaluate(theta, &g4); }, 2.0);
      std::printf("%7g %10td %12.4f %12.4f %10.1e %12td %12.4f %9.1fx %10.1f %12.4f %12td %12.4f\n",
                  N, effective.dimension(), 1e3 * t_eff, 1e3 * t_tok, diff, collapsed.dimension(),
                  1e3 * t_col, t_col / t_eff, 1e-9 * flops / t_col, 1e3 * t_tree,
                  reduced.dimension(), 1e3 * t_red);
      std::fflush(stdout);
    }
    std::printf("\n");
  }

  if (config.ess) {
    std::printf(
        "NUTS: %d chains x (%d warm-up + %d draws), %d threads; ESS/s = bulk ESS per CPU second "
        "of the sampling phase (summed over chains)\n",
        config.chains, config.warmup, config.samples, config.threads);
    std::printf("%6s %-28s %8s %8s %7s %6s %8s %4s %9s %9s %8s %8s %8s %8s %9s %9s %6s\n", "N",
                "sampler", "dim", "grad ms", "step", "depth", "steps", "div", "warm CPU",
                "samp CPU", "ESS U", "min U", "ESS f", "min f", "ESS/s U", "ESS/s f", "R-hat");
    for (double N : config.widths) {
      for (const std::string& spec : config.samplers) {
        const std::vector<std::string> parts = SplitList(spec, ':');
        arch.SetUniform(N);
        SampleOptions options;
        options.sampled_weights = ParseSampledWeights(parts[0], "--samplers");
        ChainOptions& chains = options.chains;
        const bool gibbs = options.sampled_weights == SampledWeights::kGibbs;
        if (gibbs && parts.size() > 1) {
          options.gibbs_sweeps = std::atoi(parts[1].c_str());  // gibbs:K, K sweeps per draw
        } else {
          if (parts.size() > 1)
            chains.nuts.integrator = ParseEnum<Integrator>(parts[1], "--samplers");
          if (parts.size() > 2) chains.metric = ParseEnum<MetricKind>(parts[2], "--samplers");
        }
        chains.num_chains = config.chains;
        chains.num_warmup = config.warmup;
        chains.num_samples = config.samples;
        chains.threads = config.threads;
        chains.seed = 2024;
        std::string error;
        if (!options.IsValid(&error)) {
          std::fprintf(stderr, "error: --samplers %s: %s\n", spec.c_str(), error.c_str());
          return 2;
        }
        SampleSummary s;
        const SampleResult r = Sample(arch, train_inputs, train.y, config.temperature, test_inputs,
                                      options, &s, &test.y);
        std::vector<double> ess_U, ess_f;
        const Eigen::Index f_end = r.predictor_variance_column >= 0 ? r.predictor_variance_column
                                                                    : r.order_parameter_column;
        for (size_t j = 0; j < r.diagnostics.size(); ++j) {
          const auto k = static_cast<Eigen::Index>(j);
          const double e = r.diagnostics[j].ess_bulk;
          if (k >= r.order_parameter_column) {
            ess_U.push_back(e);
          } else if (k >= r.predictor_column && k < f_end) {
            ess_f.push_back(e);
          }
        }
        double depth = 0, steps = 0, warm_cpu = 0, samp_cpu = 0;
        for (size_t c = 0; c < s.mean_tree_depth.size(); ++c) {
          depth += s.mean_tree_depth[c] / s.mean_tree_depth.size();
          steps += s.mean_leapfrog_steps[c] / s.mean_leapfrog_steps.size();
          warm_cpu += s.warmup_cpu_seconds[c];
          samp_cpu += s.sampling_cpu_seconds[c];
        }
        const double per_grad = (warm_cpu + samp_cpu) / static_cast<double>(s.gradient_evaluations);
        const std::string name =
            gibbs ? "gibbs:" + std::to_string(options.gibbs_sweeps) + " sweeps/draw"
                  : std::string(SampledWeightsName(options.sampled_weights)) + ":" + s.integrator +
                        ":" + s.metric;
        std::printf(
            "%6g %-28s %8td %8.3f %7.3g %6.2f %8.1f %4d %9.1f %9.1f %8.0f %8.0f %8.0f %8.0f %9.2f "
            "%9.2f %6.3f\n",
            N, name.c_str(), s.dimension, 1e3 * per_grad, Median(s.step_size), depth, steps,
            s.total_divergences, warm_cpu, samp_cpu, Median(ess_U), Min(ess_U), Median(ess_f),
            Min(ess_f), Median(ess_U) / samp_cpu, Median(ess_f) / samp_cpu, s.max_rhat);
        std::fflush(stdout);
      }
    }
  }
  return 0;
}
