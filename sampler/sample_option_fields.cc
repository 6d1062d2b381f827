// The [sampler] settings (docs/config.md) and their command-line flags: one
// description per field of SampleOptions, read by the study file, the command
// line (flags override the file) and the provenance.
#include <cmath>
#include <string>

#include "sampler/sample.h"

namespace attnpaths {

std::vector<OptionField> SampleOptionFields(SampleOptions* o) {
  auto at_least = [](double m) { return [m](double x) { return x >= m; }; };
  return {
      InRange(IntOption("chains", "chains", "NUTS chains (run in parallel threads)",
                        &o->chains.num_chains),
              at_least(1), "at least 1"),
      InRange(IntOption("warmup", "warmup", "warm-up (adaptation) iterations per chain",
                        &o->chains.num_warmup),
              at_least(0), "a count >= 0"),
      InRange(IntOption("samples", "samples", "retained draws per chain", &o->chains.num_samples),
              at_least(1), "at least 1"),
      UInt64Option("seed", "seed", "sampler seed (chain c draws from (seed, c))", &o->chains.seed),
      EnumOption("weights", "weights",
                 "sampled weights: reduced (NUTS on the triangular factors of the value "
                 "weights, the readout and the unobserved rotations integrated out exactly; "
                 "collapsed when no layer reduces), collapsed (NUTS on the value weights, the "
                 "readout integrated out exactly and drawn given them), all (NUTS on every "
                 "weight), readout (value weights fixed at a prior draw), or gibbs (every weight "
                 "by blocked Gibbs sweeps, each layer's block and the readout drawn exactly "
                 "from their Gaussian conditionals; no NUTS: the metric and integrator settings "
                 "do not apply, warm-up is burn-in)",
                 &o->sampled_weights),
      InRange(IntOption("gibbs_sweeps", "gibbs-sweeps",
                        "weights = gibbs: sweeps per iteration (thinning; warm-up and draws)",
                        &o->gibbs_sweeps),
              at_least(1), "at least 1"),
      InRange(
          DoubleOption("temperature_floor", "temperature-floor",
                       "T_min: the likelihood uses max(T, T_min) (theory.md §5)",
                       &o->temperature_floor),
          [](double x) { return std::isfinite(x) && x >= 0; }, "a finite value >= 0"),
      InRange(
          IntOption("max_tree_depth", "max-tree-depth",
                    "NUTS: at most 2^depth - 1 leapfrog steps per transition",
                    &o->chains.nuts.max_depth),
          [](double x) { return x >= 1 && x <= 30; }, "an integer in [1, 30]"),
      InRange(
          DoubleOption("target_accept", "target-accept",
                       "step-size adaptation target (mean acceptance statistic)",
                       &o->chains.adaptation.target_accept),
          [](double x) { return x > 0 && x < 1; }, "a value in (0, 1)"),
      InRange(
          DoubleOption("max_energy_error", "", "NUTS: an energy error above this diverges",
                       &o->chains.nuts.max_energy_error),
          [](double x) { return x > 0; }, "a value > 0"),
      InRange(
          DoubleOption("initial_step_size", "", "starting step size (refined before warm-up)",
                       &o->chains.initial_step_size),
          [](double x) { return std::isfinite(x) && x > 0; }, "a finite value > 0"),
      EnumOption("metric", "metric",
                 "NUTS metric adapted in warm-up: dense (a full covariance), diag, lowrank (a "
                 "diagonal plus the stiffest and widest directions, from draws and gradients; "
                 "leapfrog only), or auto (dense up to " +
                     std::to_string(kDenseMetricMaxDimension) + " sampled coordinates, else diag)",
                 &o->chains.metric),
      EnumOption("integrator", "integrator",
                 "trajectory integrator: leapfrog, or prior_split (the Gaussian prior "
                 "integrated exactly)",
                 &o->chains.nuts.integrator),
      BoolOption("adapt_metric", "", "adapt the mass matrix in windowed warm-up",
                 &o->chains.adapt_metric),
      InRange(IntOption("init_buffer", "", "warm-up: initial fast window",
                        &o->chains.adaptation.init_buffer),
              at_least(0), "a count >= 0"),
      InRange(IntOption("term_buffer", "", "warm-up: final fast window",
                        &o->chains.adaptation.term_buffer),
              at_least(0), "a count >= 0"),
      InRange(IntOption("base_window", "", "warm-up: first slow window",
                        &o->chains.adaptation.base_window),
              at_least(1), "at least 1"),
      BoolOption("order_parameter", "", "report U^sampled per draw (theory.md §5, §9)",
                 &o->report_order_parameter),
      InRange(DoubleOption("rhat_threshold", "", "warn when a quantity's R-hat exceeds this",
                           &o->rhat_threshold),
              at_least(1), "a value >= 1"),
      InRange(DoubleOption("ess_threshold", "", "warn when a bulk or tail ESS is below this",
                           &o->ess_threshold),
              at_least(0), "a value >= 0"),
  };
}

}  // namespace attnpaths
