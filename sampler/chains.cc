#include "sampler/chains.h"

#include <algorithm>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>

#include "kernels/error.h"
#include "parallel/cpu_budget.h"
#include "parallel/executor.h"
#include "sampler/thread_clock.h"

namespace attnpaths {
namespace {

bool Finite(const Position& x) { return std::isfinite(x.potential) && x.gradient.allFinite(); }

ChainResult RunChain(const Potential& potential, const ChainOptions& options, int chain,
                     Eigen::Index num_quantities, const Reporter& reporter,
                     const Initializer& initializer, std::mutex& progress_mutex) {
  ChainResult result;
  RandomEngine engine = ChainEngine(options.seed, chain);
  RandomEngine report_engine = ChainEngine(options.seed, chain, 1);
  const Eigen::Index dim = potential.dimension();

  Position x;
  for (int attempt = 0; attempt < options.max_init_attempts; ++attempt) {
    Eigen::VectorXd q(dim);
    if (initializer) {
      q = initializer(engine);
    } else {
      for (Eigen::Index i = 0; i < dim; ++i) q[i] = StandardNormal(engine);
    }
    x = EvaluatePosition(potential, q);
    if (Finite(x)) {
      result.initialized = true;
      break;
    }
  }
  if (!result.initialized) return result;

  const std::unique_ptr<Metric> metric_owner = MakeMetric(options.metric, dim);
  Metric& metric = *metric_owner;
  const Integrator integrator = options.nuts.integrator;
  double step_size =
      FindStepSize(potential, metric, x, options.initial_step_size, engine, integrator);
  const std::function<double()> uniform = [&engine] { return Uniform01(engine); };
  NutsSampler nuts(potential, metric, options.nuts, uniform);
  Eigen::VectorXd p;
  int divergences = 0;
  auto report_progress = [&](int iteration, bool warmup, const NutsTransition& t) {
    if (!options.progress) return;
    ChainProgress progress = ChainProgressAt(options, chain, iteration, warmup);
    progress.step_size = step_size;
    progress.depth = t.depth;
    progress.divergences = divergences;
    std::lock_guard<std::mutex> lock(progress_mutex);
    options.progress(progress);
  };

  // Warm-up: dual averaging every iteration, the metric at window ends.
  const auto warmup_start = ChainClock::now();
  const double warmup_cpu_start = ThreadCpuSeconds();
  const WarmupSchedule schedule(options.num_warmup, options.adaptation, options.adapt_metric);
  StepSizeAdaptation adaptation(options.adaptation);
  adaptation.Restart(step_size);
  for (int i = 0; i < options.num_warmup; ++i) {
    metric.SampleMomentum(engine, &p);
    const NutsTransition t = nuts.Transition(step_size, x, p, &x);
    result.gradient_evaluations += t.leapfrog_steps;
    divergences += t.divergent;
    step_size = adaptation.Update(t.accept_stat);
    if (schedule.InWindow(i)) metric.AddWindowDraw(x.q, x.gradient);
    if (schedule.EndsWindow(i)) {
      metric.EndWindow();
      step_size = FindStepSize(potential, metric, x, step_size, engine, integrator);
      adaptation.Restart(step_size);
    }
    report_progress(i, true, t);
  }
  if (options.num_warmup > 0) step_size = adaptation.Final();
  result.warmup_divergences = divergences;
  result.warmup_seconds = SecondsSince(warmup_start);
  result.warmup_cpu_seconds = ThreadCpuSeconds() - warmup_cpu_start;

  // Sampling with the adapted step size and metric.
  const auto sampling_start = ChainClock::now();
  const double sampling_cpu_start = ThreadCpuSeconds();
  const int S = options.num_samples;
  result.draws.resize(S, reporter ? num_quantities : dim);
  result.accept_stat.resize(S);
  result.energy.resize(S);
  result.depth.resize(S);
  result.leapfrog_steps.resize(S);
  result.divergent.resize(S);
  Eigen::RowVectorXd quantities = Eigen::RowVectorXd::Zero(result.draws.cols());
  for (int i = 0; i < S; ++i) {
    metric.SampleMomentum(engine, &p);
    const NutsTransition t = nuts.Transition(step_size, x, p, &x);
    result.gradient_evaluations += t.leapfrog_steps;
    divergences += t.divergent;
    result.accept_stat[i] = t.accept_stat;
    result.energy[i] = t.energy;
    result.depth[i] = t.depth;
    result.leapfrog_steps[i] = t.leapfrog_steps;
    result.divergent[i] = t.divergent;
    if (reporter) {
      reporter(x, report_engine, &quantities);
      result.draws.row(i) = quantities;
    } else {
      result.draws.row(i) = x.q.transpose();
    }
    report_progress(options.num_warmup + i, false, t);
  }
  result.sampling_seconds = SecondsSince(sampling_start);
  result.sampling_cpu_seconds = ThreadCpuSeconds() - sampling_cpu_start;
  result.step_size = step_size;
  result.inverse_metric = metric.InverseDiagonal();
  result.last = std::move(x);
  return result;
}

}  // namespace

ChainProgress ChainProgressAt(const ChainOptions& options, int chain, int iteration, bool warmup) {
  ChainProgress progress;
  progress.chain = chain;
  progress.iteration = iteration;
  progress.num_warmup = options.num_warmup;
  progress.num_samples = options.num_samples;
  progress.warmup = warmup;
  return progress;
}

bool ChainOptions::IsValid(std::string* error) const {
  auto fail = [&](const std::string& field, double found, const std::string& expected) {
    if (error) *error = ErrorMessage(field, ToText(found), expected);
    return false;
  };
  if (num_chains < 1) return fail("num_chains", num_chains, "at least 1");
  if (num_warmup < 0) return fail("num_warmup", num_warmup, "a count >= 0");
  if (num_samples < 1) return fail("num_samples", num_samples, "at least 1");
  if (threads > 1024) return fail("threads", threads, "at most 1024");
  if (!(initial_step_size > 0 && std::isfinite(initial_step_size))) {
    return fail("initial_step_size", initial_step_size, "a finite value > 0");
  }
  if (max_init_attempts < 1) return fail("max_init_attempts", max_init_attempts, "at least 1");
  if (nuts.max_depth < 1 || nuts.max_depth > 30) {
    return fail("max_tree_depth", nuts.max_depth, "an integer in [1, 30]");
  }
  if (!(nuts.max_energy_error > 0)) {
    return fail("max_energy_error", nuts.max_energy_error, "a value > 0");
  }
  return adaptation.IsValid(error);
}

std::vector<ChainResult> RunChains(const Potential& potential, const ChainOptions& options,
                                   Eigen::Index num_quantities, const Reporter& reporter,
                                   const Initializer& initializer) {
  std::string error;
  if (!options.IsValid(&error)) throw Error(error);
  Require(options.nuts.integrator != Integrator::kPriorSplit || potential.standard_normal_prior(),
          "integrator", "prior_split",
          "leapfrog for a potential without a standard normal prior (prior_split integrates "
          "½|q|² exactly)");
  Require(options.nuts.integrator != Integrator::kPriorSplit ||
              ResolveMetricKind(options.metric, potential.dimension()) != MetricKind::kLowRank,
          "metric", "lowrank",
          "diag or dense with the prior_split integrator (the low-rank metric has no exact "
          "harmonic flow)");
  const int chains = options.num_chains;
  std::vector<ChainResult> results(static_cast<size_t>(chains));
  std::mutex progress_mutex;
  // Chains in parallel, each seeded by its index: the results do not depend on
  // the thread count. The first failing chain's error is rethrown.
  ParallelForEach(ResolveThreads(options.threads, chains), chains, [&](std::int64_t c) {
    results[static_cast<size_t>(c)] =
        RunChain(potential, options, static_cast<int>(c), num_quantities, reporter, initializer,
                 progress_mutex);
  });
  return results;
}

}  // namespace attnpaths
