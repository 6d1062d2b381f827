#include "sampler/sample.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "kernels/error.h"
#include "sampler/collapsed_potential.h"
#include "sampler/gibbs.h"
#include "sampler/gibbs_chains.h"
#include "sampler/random.h"
#include "sampler/reduced_potential.h"
#include "sampler/weight_tree.h"

namespace attnpaths {
namespace {

using Clock = std::chrono::steady_clock;

std::string Format(const char* format, double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), format, value);
  return buffer;
}

// Fills the summary's diagnostics figures and warnings.
void Assess(const SampleOptions& options, const SampleResult& r,
            const std::vector<ChainResult>& chains, SampleSummary* s) {
  for (const ChainResult& c : chains) {
    s->step_size.push_back(c.step_size);
    s->mean_accept_stat.push_back(c.accept_stat.mean());
    s->divergences.push_back(c.divergent.sum());
    s->max_depth_hits.push_back(
        static_cast<int>((c.depth.array() >= options.chains.nuts.max_depth).count()));
    s->mean_tree_depth.push_back(c.depth.cast<double>().mean());
    s->ebfmi.push_back(Ebfmi(c.energy));
    s->mean_leapfrog_steps.push_back(c.leapfrog_steps.cast<double>().mean());
    s->warmup_cpu_seconds.push_back(c.warmup_cpu_seconds);
    s->sampling_cpu_seconds.push_back(c.sampling_cpu_seconds);
    s->warmup_divergences += c.warmup_divergences;
    s->total_divergences += s->divergences.back();
    s->total_max_depth_hits += s->max_depth_hits.back();
    s->gradient_evaluations += c.gradient_evaluations;
    s->warmup_seconds = std::max(s->warmup_seconds, c.warmup_seconds);
    s->sampling_seconds = std::max(s->sampling_seconds, c.sampling_seconds);
  }
  int high_rhat = 0, low_bulk = 0, low_tail = 0;
  for (size_t j = 0; j < r.diagnostics.size(); ++j) {
    const QuantityDiagnostics& d = r.diagnostics[j];
    const std::string& name = r.quantity_names[j];
    if (std::isfinite(d.rhat)) {
      if (!(d.rhat <= s->max_rhat)) {
        s->max_rhat = d.rhat;
        s->max_rhat_quantity = name;
      }
      high_rhat += d.rhat > options.rhat_threshold;
    }
    if (std::isfinite(d.ess_bulk)) {
      if (!(d.ess_bulk >= s->min_ess_bulk)) {
        s->min_ess_bulk = d.ess_bulk;
        s->min_ess_bulk_quantity = name;
      }
      low_bulk += d.ess_bulk < options.ess_threshold;
    }
    if (std::isfinite(d.ess_tail)) {
      if (!(d.ess_tail >= s->min_ess_tail)) {
        s->min_ess_tail = d.ess_tail;
        s->min_ess_tail_quantity = name;
      }
      low_tail += d.ess_tail < options.ess_threshold;
    }
  }
  const std::string of = " of " + std::to_string(r.diagnostics.size()) + " quantities";
  if (high_rhat > 0) {
    s->warnings.push_back("R-hat > " + Format("%g", options.rhat_threshold) + " for " +
                          std::to_string(high_rhat) + of + " (worst " + s->max_rhat_quantity +
                          ": " + Format("%.4f", s->max_rhat) + "); run longer chains");
  }
  if (low_bulk > 0) {
    s->warnings.push_back("bulk ESS < " + Format("%g", options.ess_threshold) + " for " +
                          std::to_string(low_bulk) + of + " (lowest " + s->min_ess_bulk_quantity +
                          ": " + Format("%.1f", s->min_ess_bulk) +
                          "); means and variances are unreliable");
  }
  if (low_tail > 0) {
    s->warnings.push_back("tail ESS < " + Format("%g", options.ess_threshold) + " for " +
                          std::to_string(low_tail) + of + " (lowest " + s->min_ess_tail_quantity +
                          ": " + Format("%.1f", s->min_ess_tail) + "); quantiles are unreliable");
  }
  if (s->total_divergences > 0) {
    s->warnings.push_back(std::to_string(s->total_divergences) +
                          " divergent transitions after warm-up; the draws may be biased "
                          "(raise target_accept)");
  }
  if (s->total_max_depth_hits > 0) {
    s->warnings.push_back(
        std::to_string(s->total_max_depth_hits) + " transitions hit the maximum tree depth " +
        std::to_string(options.chains.nuts.max_depth) + " (efficiency, not bias)");
  }
  for (size_t c = 0; c < s->ebfmi.size(); ++c) {
    if (s->ebfmi[c] < 0.3) {
      s->warnings.push_back("chain " + std::to_string(c) + ": E-BFMI " +
                            Format("%.3f", s->ebfmi[c]) + " < 0.3; the energy is poorly explored");
    }
  }
}

}  // namespace

const char* SampleTerminationName(SampleTermination t) {
  switch (t) {
    case SampleTermination::kCompleted:
      return "completed";
    case SampleTermination::kFailure:
      return "failure";
  }
  return "?";
}

bool SampleOptions::IsValid(std::string* error) const {
  auto fail = [&](const std::string& field, const std::string& found, const std::string& expected) {
    if (error) *error = ErrorMessage(field, found, expected);
    return false;
  };
  if (!(temperature_floor >= 0 && std::isfinite(temperature_floor))) {
    return fail("temperature_floor", ToText(temperature_floor), "a finite value >= 0");
  }
  if (!(rhat_threshold >= 1)) return fail("rhat_threshold", ToText(rhat_threshold), "a value >= 1");
  if (!(ess_threshold >= 0)) return fail("ess_threshold", ToText(ess_threshold), "a value >= 0");
  if (gibbs_sweeps < 1) return fail("gibbs_sweeps", ToText(gibbs_sweeps), "at least 1");
  return chains.IsValid(error);
}

SampleResult Sample(const Architecture& arch, const PathInputs& train,
                    const Eigen::Ref<const Eigen::MatrixXd>& Y, double temperature,
                    const PathInputs& test, const SampleOptions& options, SampleSummary* summary,
                    const Eigen::MatrixXd* Y_test) {
  const auto start = Clock::now();
  std::string error;
  if (!options.IsValid(&error)) throw Error(error);
  Require(std::isfinite(temperature) && temperature >= 0, "temperature", temperature,
          "a finite value >= 0");
  const double T = std::max(temperature, options.temperature_floor);
  Require(T > 0, "temperature", temperature, "a value > 0, or a temperature_floor > 0");
  const WeightLayout layout(arch, train.N0, Y.cols());
  Require(test.Htot == train.Htot && test.N0 == train.N0, "test path inputs shape",
          std::to_string(test.Htot) + " paths x " + std::to_string(test.N0) + " features",
          std::to_string(train.Htot) + " paths x " + std::to_string(train.N0) +
              " features (as the training set)");
  const Eigen::Index P_test = test.P(), D = Y.cols();
  const Eigen::Index K = layout.Htot() * D;  // U^sampled is K × K (theory.md §9)
  if (Y_test != nullptr) {
    Require(Y_test->rows() == P_test && Y_test->cols() == D, "Y_test shape",
            std::to_string(Y_test->rows()) + " x " + std::to_string(Y_test->cols()),
            std::to_string(P_test) + " x " + std::to_string(D));
  }

  // The reduced sampler when some layer reduces; with no triangular layer
  // its coordinates are the collapsed sampler's value weights and the two
  // potentials are the same function, so the collapsed sampler runs (and
  // Rao–Blackwellises U^sampled too).
  std::optional<ReducedPotential> factors;
  if (options.sampled_weights == SampledWeights::kReduced) {
    factors.emplace(arch, train, Y, T);
    bool triangular = false;
    for (const ReducedLayer& layer : factors->layers()) triangular |= layer.triangular;
    if (!triangular) factors.reset();
  }
  const bool reduced = factors.has_value();
  const SampledWeights resolved = options.sampled_weights == SampledWeights::kReduced && !reduced
                                      ? SampledWeights::kCollapsed
                                      : options.sampled_weights;
  // Both integrate the readout out and report Rao–Blackwellised predictors.
  const bool collapsed = resolved == SampledWeights::kCollapsed || reduced;
  // The fixed value weights of a readout-only run: given, or one prior draw.
  std::optional<NetworkWeights> fixed = options.fixed_weights;
  if (options.sampled_weights == SampledWeights::kReadout && !fixed) {
    RandomEngine engine = ChainEngine(options.chains.seed, -1);
    Eigen::VectorXd q(layout.dimension());
    for (Eigen::Index i = 0; i < q.size(); ++i) q[i] = StandardNormal(engine);
    fixed = layout.ToWeights(q);
  }
  // Gibbs: sweeps over every weight (gibbs.h); the full potential gives lp
  // and the reports are the full sampler's.
  const bool gibbs = resolved == SampledWeights::kGibbs;
  std::optional<GibbsSampler> sweeps;
  std::optional<NetworkPotential> network;
  std::optional<CollapsedPotential> marginal;
  Eigen::MatrixXd X_test;  // reduced: the stacked test path inputs
  Initializer initializer;
  if (reduced) {
    X_test = StackPathInputs(test);
    initializer = [&](RandomEngine& engine) { return factors->DrawPrior(engine); };
  } else if (collapsed) {
    marginal.emplace(arch, train, Y, T);
  } else if (gibbs) {
    sweeps.emplace(arch, train, Y, T);
    network.emplace(arch, train, Y, T, SampledWeights::kAll);
  } else {
    network.emplace(arch, train, Y, T, resolved, fixed ? &*fixed : nullptr);
  }
  const Potential& potential = reduced     ? static_cast<const Potential&>(*factors)
                               : collapsed ? static_cast<const Potential&>(*marginal)
                                           : *network;

  SampleResult r;
  r.quantity_names.push_back("lp");
  r.predictor_column = 1;
  for (Eigen::Index mu = 0; mu < P_test; ++mu) {
    for (Eigen::Index d = 0; d < D; ++d) {
      r.quantity_names.push_back("f[" + std::to_string(mu) +
                                 (D > 1 ? "," + std::to_string(d) : std::string()) + "]");
    }
  }
  if (collapsed) {
    r.predictor_variance_column = static_cast<Eigen::Index>(r.quantity_names.size());
    for (Eigen::Index mu = 0; mu < P_test; ++mu) {
      r.quantity_names.push_back("f_var[" + std::to_string(mu) + "]");
    }
  }
  r.order_parameter_column = static_cast<Eigen::Index>(r.quantity_names.size());
  if (options.report_order_parameter) {
    for (Eigen::Index p = 0; p < K; ++p) {
      for (Eigen::Index q = p; q < K; ++q) {
        r.quantity_names.push_back("U[" + std::to_string(p) + "," + std::to_string(q) + "]");
      }
    }
  }
  const auto num_quantities = static_cast<Eigen::Index>(r.quantity_names.size());
  const Reporter reporter = [&](const Position& x, RandomEngine& engine, Eigen::RowVectorXd* out) {
    (*out)[0] = -x.potential;
    if (collapsed) {
      // Conditional expectations over the readout given V (Rao–Blackwellised).
      const ConditionalStatistics c =
          reduced ? factors->Conditionals(x.q, X_test, engine, options.report_order_parameter)
                  : marginal->Conditionals(x.q, test, engine, options.report_order_parameter);
      for (Eigen::Index mu = 0; mu < P_test; ++mu) out->segment(1 + mu * D, D) = c.f_mean.row(mu);
      out->segment(r.predictor_variance_column, P_test) = c.f_variance.transpose();
      if (options.report_order_parameter) {
        PackUpperTriangle(c.U, out->segment(r.order_parameter_column, PackedEntries(K)));
      }
      return;
    }
    if (P_test > 0) {
      const Eigen::MatrixXd f = network->Outputs(x.q, test);  // P* × D
      for (Eigen::Index mu = 0; mu < P_test; ++mu) out->segment(1 + mu * D, D) = f.row(mu);
    }
    if (options.report_order_parameter) {
      PackUpperTriangle(network->OrderParameter(x.q),
                        out->segment(r.order_parameter_column, PackedEntries(K)));
    }
  };

  SampleSummary local;
  SampleSummary& s = summary ? *summary : local;
  s = SampleSummary();
  s.num_chains = options.chains.num_chains;
  s.num_warmup = options.chains.num_warmup;
  s.num_samples = options.chains.num_samples;
  s.dimension = potential.dimension();
  s.sampled_weights = SampledWeightsName(resolved);
  const ChainOptions& chain_options = options.chains;
  s.metric = gibbs ? "none"
                   : MetricKindName(ResolveMetricKind(chain_options.metric, potential.dimension()));
  s.integrator = gibbs ? "none" : IntegratorName(chain_options.nuts.integrator);
  s.seed = options.chains.seed;
  s.temperature = temperature;
  s.temperature_used = T;

  std::vector<ChainResult> chains =
      gibbs ? RunGibbsChains(*sweeps, potential, chain_options, num_quantities, reporter,
                             options.gibbs_sweeps)
            : RunChains(potential, chain_options, num_quantities, reporter, initializer);
  for (size_t c = 0; c < chains.size(); ++c) {
    if (!chains[c].initialized) {
      s.termination = SampleTermination::kFailure;
      s.message = "chain " + std::to_string(c) +
                  " found no starting point with a finite "
                  "posterior and gradient in " +
                  std::to_string(options.chains.max_init_attempts) + " prior draws";
      s.total_seconds = std::chrono::duration<double>(Clock::now() - start).count();
      return r;
    }
  }
  const int C = options.chains.num_chains, S = options.chains.num_samples;
  r.accept_stat.resize(C, S);
  r.energy.resize(C, S);
  r.tree_depth.resize(C, S);
  r.leapfrog_steps.resize(C, S);
  r.divergent.resize(C, S);
  for (int c = 0; c < C; ++c) {
    const ChainResult& chain = chains[static_cast<size_t>(c)];
    r.draws.push_back(chain.draws);
    r.accept_stat.row(c) = chain.accept_stat.transpose();
    r.energy.row(c) = chain.energy.transpose();
    r.tree_depth.row(c) = chain.depth.transpose();
    r.leapfrog_steps.row(c) = chain.leapfrog_steps.transpose();
    r.divergent.row(c) = chain.divergent.transpose();
  }
  if (reduced) {
    // Chain 0's final θ lifted to an exact draw of every weight (Haar frames).
    RandomEngine engine = ChainEngine(options.chains.seed, 0, 2);
    r.last_weights = layout.ToWeights(factors->Lift(chains[0].last.q, engine));
  } else if (collapsed) {
    // Chain 0's final V with one exact draw of the readout given it.
    RandomEngine engine = ChainEngine(options.chains.seed, 0, 2);
    r.last_weights = layout.ToWeights(marginal->FullCoordinates(
        chains[0].last.q, marginal->Readout(chains[0].last.q).Draw(engine)));
  } else {
    r.last_weights = layout.ToWeights(network->FullCoordinates(chains[0].last.q));
  }

  const auto diagnostics_start = Clock::now();
  r.diagnostics = DiagnoseColumns(r.draws);
  r.predictor = collapsed
                    ? EstimateConditionalPredictor(r.draws, r.predictor_column,
                                                   r.predictor_variance_column, P_test, D, Y_test)
                    : EstimatePredictor(r.draws, r.predictor_column, P_test, D, Y_test);
  if (options.report_order_parameter) {
    r.order_parameter = EstimateOrderParameter(r.draws, r.order_parameter_column, K);
  }
  s.diagnostics_seconds = std::chrono::duration<double>(Clock::now() - diagnostics_start).count();
  Assess(options, r, chains, &s);
  s.termination = SampleTermination::kCompleted;
  s.message = s.warnings.empty() ? "sampling completed; no diagnostic warnings"
                                 : "sampling completed with " + std::to_string(s.warnings.size()) +
                                       " diagnostic warning(s)";
  s.total_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return r;
}

std::string SampleSummary::BriefReport() const {
  std::ostringstream o;
  const bool gibbs = sampled_weights == "gibbs";
  o << (gibbs ? "Gibbs " : "NUTS ") << SampleTerminationName(termination) << ": " << num_chains
    << " chains x (" << num_warmup << " warm-up + " << num_samples << " draws), " << sampled_weights
    << " dim " << dimension;
  if (!gibbs) o << " (" << metric << ", " << integrator << ")";
  if (!completed()) {
    o << "; " << message;
    return o.str();
  }
  if (gibbs) {
    o << ", " << Format("%.0f", mean_leapfrog_steps.empty() ? 1.0 : mean_leapfrog_steps[0])
      << " sweep(s) per draw, max R-hat " << Format("%.3f", max_rhat) << ", min ESS bulk "
      << Format("%.0f", min_ess_bulk) << " / tail " << Format("%.0f", min_ess_tail) << ", "
      << Format("%.2f", total_seconds) << " s";
    if (!warnings.empty()) o << " [" << warnings.size() << " warning(s)]";
    return o.str();
  }
  const auto [lo, hi] = std::minmax_element(step_size.begin(), step_size.end());
  double accept = 0;
  for (double a : mean_accept_stat) accept += a / static_cast<double>(mean_accept_stat.size());
  o << ", step " << Format("%.3g", *lo) << (*lo != *hi ? "-" + Format("%.3g", *hi) : "")
    << ", accept " << Format("%.2f", accept) << ", divergences " << total_divergences
    << ", depth hits " << total_max_depth_hits << ", max R-hat " << Format("%.3f", max_rhat)
    << ", min ESS bulk " << Format("%.0f", min_ess_bulk) << " / tail "
    << Format("%.0f", min_ess_tail) << ", " << Format("%.2f", total_seconds) << " s";
  if (!warnings.empty()) o << " [" << warnings.size() << " warning(s)]";
  return o.str();
}

std::string SampleSummary::FullReport() const {
  std::ostringstream o;
  o << "Sampler summary\n"
    << "  termination          " << SampleTerminationName(termination) << ": " << message << "\n"
    << "  chains               " << num_chains << " x (" << num_warmup << " warm-up + "
    << num_samples << " draws)\n"
    << "  sampled weights      " << sampled_weights << " (" << dimension << " coordinates)\n"
    << "  metric, integrator   " << metric << ", " << integrator << " (seed " << seed << ")\n"
    << "  temperature          " << Format("%g", temperature) << " (likelihood uses "
    << Format("%g", temperature_used) << ")\n";
  if (completed()) {
    o << "  per chain            step size   accept   mean depth   steps/draw   depth hits   "
         "divergences   E-BFMI   CPU s (warm-up + sampling)\n";
    for (size_t c = 0; c < step_size.size(); ++c) {
      char line[200];
      std::snprintf(
          line, sizeof(line),
          "    chain %-3zu          %9.4g   %6.3f   %10.2f   %10.1f   %10d   %11d   %6.3f   "
          "%.2f + %.2f\n",
          c, step_size[c], mean_accept_stat[c], mean_tree_depth[c], mean_leapfrog_steps[c],
          max_depth_hits[c], divergences[c], ebfmi[c], warmup_cpu_seconds[c],
          sampling_cpu_seconds[c]);
      o << line;
    }
    o << "  divergences          " << total_divergences << " after warm-up, " << warmup_divergences
      << " during warm-up\n"
      << "  gradient evaluations " << gradient_evaluations << "\n"
      << "  max R-hat            " << Format("%.4f", max_rhat) << " (" << max_rhat_quantity << ")\n"
      << "  min bulk ESS         " << Format("%.1f", min_ess_bulk) << " (" << min_ess_bulk_quantity
      << ")\n"
      << "  min tail ESS         " << Format("%.1f", min_ess_tail) << " (" << min_ess_tail_quantity
      << ")\n";
  }
  o << "  time (s)             warm-up " << Format("%.3f", warmup_seconds) << ", sampling "
    << Format("%.3f", sampling_seconds) << ", diagnostics " << Format("%.3f", diagnostics_seconds)
    << ", total " << Format("%.3f", total_seconds) << "\n";
  for (const std::string& w : warnings) o << "  warning: " << w << "\n";
  return o.str();
}

}  // namespace attnpaths
