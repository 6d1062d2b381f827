#include "study/run_record.h"

#include "study/settings.h"

namespace attnpaths {

void RecordStudy(const Study& study, int threads, Provenance* run) {
  run->Set("study_seed", study.seed);
  run->Set("widths", study.architecture.widths);
  run->Set("variances", study.architecture.variances);
  run->Set("temperatures", study.temperatures);
  run->Set("kernel", {{"strategy", KernelStrategyName(study.kernel.strategy)},
                      {"memory_limit_bytes", study.kernel.memory_limit_bytes}});
  run->Set("threads", threads);
}

// Every field a study file or flag may set (the same keys as [solver] and
// [sampler], so a record reads back as a study table), and what only the
// library's callers set.
nlohmann::json SolverSettings(const SolveOptions& options) {
  SolveOptions o = options;
  nlohmann::json j = OptionsJson(SolveOptionFields(&o));
  j["initial_U"] = o.initial_U.empty() ? "U_GP" : "warm start";
  return j;
}

nlohmann::json SamplerSettings(const SampleOptions& options) {
  SampleOptions o = options;
  nlohmann::json j = OptionsJson(SampleOptionFields(&o));
  j["threads"] = o.chains.threads;
  j["fixed_weights"] = o.fixed_weights ? "given" : "drawn from the prior with the seed";
  return j;
}

}  // namespace attnpaths
