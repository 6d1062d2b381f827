#include "sampler/gibbs_chains.h"

#include <cstdint>
#include <limits>
#include <mutex>

#include "kernels/error.h"
#include "parallel/cpu_budget.h"
#include "parallel/executor.h"
#include "sampler/thread_clock.h"

namespace attnpaths {
namespace {

ChainResult RunGibbsChain(const GibbsSampler& gibbs, const Potential& potential,
                          const ChainOptions& options, int chain, Eigen::Index num_quantities,
                          const Reporter& reporter, int sweeps, std::mutex& progress_mutex) {
  ChainResult result;
  RandomEngine engine = ChainEngine(options.seed, chain);
  RandomEngine report_engine = ChainEngine(options.seed, chain, 1);
  Position x;
  x.q.resize(gibbs.dimension());
  for (Eigen::Index i = 0; i < x.q.size(); ++i) x.q[i] = StandardNormal(engine);  // the prior
  result.initialized = true;
  auto report_progress = [&](int iteration, bool warmup) {
    if (!options.progress) return;
    ChainProgress progress = ChainProgressAt(options, chain, iteration, warmup);
    progress.nuts = false;
    std::lock_guard<std::mutex> lock(progress_mutex);
    options.progress(progress);
  };

  const auto warmup_start = ChainClock::now();
  const double warmup_cpu_start = ThreadCpuSeconds();
  for (int i = 0; i < options.num_warmup; ++i) {
    for (int k = 0; k < sweeps; ++k) gibbs.Sweep(&x.q, engine);
    report_progress(i, true);
  }
  result.gradient_evaluations = static_cast<std::int64_t>(options.num_warmup) * sweeps;
  result.warmup_seconds = SecondsSince(warmup_start);
  result.warmup_cpu_seconds = ThreadCpuSeconds() - warmup_cpu_start;

  const auto sampling_start = ChainClock::now();
  const double sampling_cpu_start = ThreadCpuSeconds();
  const int S = options.num_samples;
  result.draws.resize(S, reporter ? num_quantities : gibbs.dimension());
  result.accept_stat = Eigen::VectorXd::Ones(S);
  result.energy = Eigen::VectorXd::Constant(S, std::numeric_limits<double>::quiet_NaN());
  result.depth = Eigen::VectorXi::Zero(S);
  result.leapfrog_steps = Eigen::VectorXi::Constant(S, sweeps);
  result.divergent = Eigen::VectorXi::Zero(S);
  Eigen::RowVectorXd quantities = Eigen::RowVectorXd::Zero(result.draws.cols());
  for (int i = 0; i < S; ++i) {
    for (int k = 0; k < sweeps; ++k) gibbs.Sweep(&x.q, engine);
    result.gradient_evaluations += sweeps;
    if (reporter) {
      x.potential = potential.Evaluate(x.q, nullptr);
      reporter(x, report_engine, &quantities);
      result.draws.row(i) = quantities;
    } else {
      result.draws.row(i) = x.q.transpose();
    }
    report_progress(options.num_warmup + i, false);
  }
  result.sampling_seconds = SecondsSince(sampling_start);
  result.sampling_cpu_seconds = ThreadCpuSeconds() - sampling_cpu_start;
  result.step_size = 0;
  x.potential = potential.Evaluate(x.q, nullptr);
  result.last = std::move(x);
  return result;
}

}  // namespace

std::vector<ChainResult> RunGibbsChains(const GibbsSampler& gibbs, const Potential& potential,
                                        const ChainOptions& options, Eigen::Index num_quantities,
                                        const Reporter& reporter, int sweeps_per_iteration) {
  std::string error;
  if (!options.IsValid(&error)) throw Error(error);
  Require(potential.dimension() == gibbs.dimension(), "potential dimension", potential.dimension(),
          std::to_string(gibbs.dimension()) + " (every weight)");
  const int chains = options.num_chains;
  std::vector<ChainResult> results(static_cast<size_t>(chains));
  std::mutex progress_mutex;
  ParallelForEach(ResolveThreads(options.threads, chains), chains, [&](std::int64_t c) {
    results[static_cast<size_t>(c)] =
        RunGibbsChain(gibbs, potential, options, static_cast<int>(c), num_quantities, reporter,
                      sweeps_per_iteration, progress_mutex);
  });
  return results;
}

}  // namespace attnpaths
