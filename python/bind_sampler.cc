// sampler/: NUTS sampling of the finite network's posterior (theory.md §5).
#include <cmath>
#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>

#include "data/labels.h"
#include "python/bindings.h"
#include "sampler/sample.h"

namespace attnpaths::python {

namespace {

using namespace pybind11::literals;

std::string Number(double v) { return py::repr(py::float_(v)).cast<std::string>(); }

}  // namespace

void BindSampler(py::module_& m) {
  py::class_<NetworkWeights>(m, "NetworkWeights", R"doc(
The weights of one network of theory.md section 1, in their own units: V0 (n_1 x N0),
V[l-1][h] (n_{l+1} x n_l) and the readout a (n_{L+1} x D). Attributes return copies.)doc")
      .def(py::init([](py::object V0, py::object V, py::object a) {
             NetworkWeights w;
             w.V0 = MatrixArg(V0, "NetworkWeights.V0", Shape::kMatrix).matrix();
             const auto layers = V.cast<py::sequence>();
             for (size_t l = 0; l < layers.size(); ++l) {
               w.V.push_back(ToMatrices(layers[l], "NetworkWeights.V[" + std::to_string(l) + "]"));
             }
             w.a = MatrixArg(a, "NetworkWeights.a", Shape::kColumn).matrix();
             return w;
           }),
           "V0"_a, "V"_a, "a"_a,
           "Weights from V0, V (a list per layer of one matrix per head) and a.")
      .def_property_readonly(
          "V0", [](const NetworkWeights& w) { return Eigen::MatrixXd(w.V0); },
          "n_1 x N0 embedding.")
      .def_property_readonly(
          "V",
          [](const NetworkWeights& w) {
            py::list out;
            for (const auto& layer : w.V) out.append(MatrixList(layer));
            return out;
          },
          "V[l-1][h]: n_{l+1} x n_l value weights of head h in layer l.")
      .def_property_readonly(
          "a", [](const NetworkWeights& w) { return Eigen::MatrixXd(w.a); },
          "n_{L+1} x D readout.");

  py::class_<ChainProgress>(
      m, "SampleProgress",
      "One iteration (a NUTS transition or a Gibbs draw) of one chain, passed to "
      "progress callbacks.")
      .def_readonly("chain", &ChainProgress::chain, "Chain index.")
      .def_readonly("iteration", &ChainProgress::iteration, "0-based, warm-up first.")
      .def_readonly("num_warmup", &ChainProgress::num_warmup, "Warm-up iterations per chain.")
      .def_readonly("num_samples", &ChainProgress::num_samples, "Retained draws per chain.")
      .def_readonly("warmup", &ChainProgress::warmup, "In warm-up.")
      .def_readonly("step_size", &ChainProgress::step_size, "Current step size.")
      .def_readonly("depth", &ChainProgress::depth, "Tree depth of this transition.")
      .def_readonly("divergences", &ChainProgress::divergences, "Divergences so far in this chain.")
      .def_readonly("nuts", &ChainProgress::nuts,
                    "False for Gibbs chains (weights='gibbs'): step_size, depth and divergences "
                    "are 0 there.")
      .def(
          "__repr__",
          [](const ChainProgress& p) {
            return "SampleProgress(chain=" + std::to_string(p.chain) +
                   ", iteration=" + std::to_string(p.iteration) +
                   ", warmup=" + (p.warmup ? "True" : "False") +
                   ", step_size=" + Number(p.step_size) + ", depth=" + std::to_string(p.depth) +
                   ")";
          },
          "The fields.");

  // The Python names stay flat; the C++ fields are nested (chains.h), and the
  // defaults below are read from a default SampleOptions, never written here.
  static const std::string sample_options_doc = [] {
    const SampleOptions d;
    const ChainOptions& c = d.chains;
    auto n = [](double v) { return ToText(v); };
    return "Settings of NUTS sampling (sampler/sample.h). SampleOptions(**fields).\n\n  "
           "num_chains " +
           n(c.num_chains) + ", num_warmup " + n(c.num_warmup) + ", num_samples " +
           n(c.num_samples) + ", seed " + n(static_cast<double>(c.seed)) + ", threads " +
           n(c.threads) + " (<= 0: one per chain),\n  temperature_floor " + n(d.temperature_floor) +
           " (the likelihood uses max(T, T_min)), max_tree_depth " + n(c.nuts.max_depth) +
           ",\n  max_energy_error " + n(c.nuts.max_energy_error) + ", target_accept " +
           n(c.adaptation.target_accept) + ", initial_step_size " + n(c.initial_step_size) +
           ", adapt_metric " + (c.adapt_metric ? "True" : "False") + ",\n  metric '" +
           MetricKindName(c.metric) + "' (auto: dense up to " +
           n(static_cast<double>(kDenseMetricMaxDimension)) +
           " sampled coordinates, else 'diag'; or 'dense', 'diag', 'lowrank'),\n  integrator '" +
           IntegratorName(c.nuts.integrator) + "' (or 'prior_split'), init_buffer " +
           n(c.adaptation.init_buffer) + ", term_buffer " + n(c.adaptation.term_buffer) +
           ", base_window " + n(c.adaptation.base_window) + ",\n  sampled_weights '" +
           SampledWeightsName(d.sampled_weights) +
           "' (NUTS on the value weights, the readout integrated out exactly),\n"
           "  'all' (every weight), 'readout' (a only, value weights fixed)\n"
           "  or 'gibbs' (every weight by blocked Gibbs sweeps, no NUTS),\n"
           "  fixed_weights NetworkWeights or None ('readout': None draws them from the prior),\n"
           "  report_order_parameter " +
           (d.report_order_parameter ? "True" : "False") + ", rhat_threshold " +
           n(d.rhat_threshold) + ", ess_threshold " + n(d.ess_threshold) +
           ",\n  progress callable(SampleProgress) for every iteration of every chain, or None";
  }();
  py::class_<SampleOptions> sample_options(m, "SampleOptions", sample_options_doc.c_str());
  // A flat Python attribute bound to a nested C++ field.
  auto nested = [&sample_options](const char* name, auto field, const char* doc) {
    using T = std::remove_reference_t<decltype(field(std::declval<SampleOptions&>()))>;
    sample_options.def_property(
        name, [field](SampleOptions& o) -> T { return field(o); },
        [field](SampleOptions& o, const T& v) { field(o) = v; }, doc);
  };
  sample_options.def(
      py::init([](py::kwargs kw) { return FromKeywords<SampleOptions>(kw, "SampleOptions"); }),
      "SampleOptions(**fields): defaults, then the given fields.");
  nested(
      "num_chains", [](SampleOptions& o) -> int& { return o.chains.num_chains; },
      "Independent chains.");
  nested(
      "num_warmup", [](SampleOptions& o) -> int& { return o.chains.num_warmup; },
      "Warm-up iterations per chain.");
  nested(
      "num_samples", [](SampleOptions& o) -> int& { return o.chains.num_samples; },
      "Retained draws per chain.");
  nested(
      "seed", [](SampleOptions& o) -> std::uint64_t& { return o.chains.seed; },
      "Chain c draws from an engine seeded by (seed, c).");
  nested(
      "threads", [](SampleOptions& o) -> int& { return o.chains.threads; },
      "Threads running chains (<= 0: one per chain).");
  nested(
      "max_tree_depth", [](SampleOptions& o) -> int& { return o.chains.nuts.max_depth; },
      "At most 2^depth - 1 leapfrog steps per transition.");
  nested(
      "max_energy_error",
      [](SampleOptions& o) -> double& { return o.chains.nuts.max_energy_error; },
      "An energy error above this is a divergence.");
  nested(
      "target_accept",
      [](SampleOptions& o) -> double& { return o.chains.adaptation.target_accept; },
      "Target mean acceptance statistic of dual averaging.");
  nested(
      "initial_step_size", [](SampleOptions& o) -> double& { return o.chains.initial_step_size; },
      "Starting step size.");
  nested(
      "adapt_metric", [](SampleOptions& o) -> bool& { return o.chains.adapt_metric; },
      "Adapt the metric in windowed warm-up (else M = I).");
  nested(
      "init_buffer", [](SampleOptions& o) -> int& { return o.chains.adaptation.init_buffer; },
      "Warm-up: initial fast window.");
  nested(
      "term_buffer", [](SampleOptions& o) -> int& { return o.chains.adaptation.term_buffer; },
      "Warm-up: final fast window.");
  nested(
      "base_window", [](SampleOptions& o) -> int& { return o.chains.adaptation.base_window; },
      "Warm-up: first slow window.");
  sample_options
      .def_readwrite("temperature_floor", &SampleOptions::temperature_floor,
                     "T_min: the likelihood uses max(T, T_min).")
      .def_property(
          "metric", [](const SampleOptions& o) { return MetricKindName(o.chains.metric); },
          [](SampleOptions& o, const std::string& s) {
            o.chains.metric = ParseEnum<MetricKind>(s, "SampleOptions.metric");
          },
          "'dense', 'diag', 'lowrank', or 'auto' (dense for small sampled dimensions; see the "
          "class "
          "doc).")
      .def_property(
          "integrator",
          [](const SampleOptions& o) { return IntegratorName(o.chains.nuts.integrator); },
          [](SampleOptions& o, const std::string& s) {
            o.chains.nuts.integrator = ParseEnum<Integrator>(s, "SampleOptions.integrator");
          },
          "'leapfrog' or 'prior_split' (the N(0, I) prior integrated exactly).")
      .def_property(
          "sampled_weights",
          [](const SampleOptions& o) { return SampledWeightsName(o.sampled_weights); },
          [](SampleOptions& o, const std::string& s) {
            o.sampled_weights = ParseSampledWeights(s, "SampleOptions.sampled_weights");
          },
          "'reduced' (default), 'collapsed', 'all', 'readout' or 'gibbs' (sampler/sample.h).")
      .def_readwrite("gibbs_sweeps", &SampleOptions::gibbs_sweeps,
                     "'gibbs': sweeps per iteration (warm-up and draws alike; thinning).")
      .def_property(
          "fixed_weights",
          [](const SampleOptions& o) -> py::object {
            if (!o.fixed_weights) return py::none();
            return py::cast(*o.fixed_weights);
          },
          [](SampleOptions& o, py::object w) {
            if (w.is_none()) {
              o.fixed_weights.reset();
            } else {
              o.fixed_weights = w.cast<NetworkWeights>();
            }
          },
          "'readout' mode: the fixed value weights (a copy), or None.")
      .def_readwrite("report_order_parameter", &SampleOptions::report_order_parameter,
                     "Report U^sampled entries per draw (theory.md section 5).")
      .def_readwrite("rhat_threshold", &SampleOptions::rhat_threshold,
                     "Warn when a quantity's R-hat exceeds this.")
      .def_readwrite("ess_threshold", &SampleOptions::ess_threshold,
                     "Warn when a bulk or tail ESS is below this.")
      .def_property(
          "progress", [](const SampleOptions& o) { return GetCallback(o.chains.progress); },
          [](SampleOptions& o, py::object fn) {
            SetCallback(&o.chains.progress, std::move(fn), "SampleOptions.progress");
          },
          "callable(SampleProgress) for every iteration of every chain (serialised), or None.")
      .def(
          "is_valid", [](const SampleOptions& o) { return o.IsValid(nullptr); },
          "True when every field is in range.")
      .def(
          "validate",
          [](const SampleOptions& o) {
            std::string e;
            if (!o.IsValid(&e)) throw Error(e);
          },
          "Raises attnpaths.Error naming the first field out of range.");

  py::class_<SampleSummary>(m, "SampleSummary", R"doc(
What sampling did: termination ('completed' or 'failure'), per-chain step sizes, acceptance,
divergences, tree depths and E-BFMI, the worst R-hat and ESS with their quantities,
warnings and times. Read brief_report() first.)doc")
      .def_property_readonly(
          "termination",
          [](const SampleSummary& s) { return SampleTerminationName(s.termination); },
          "'completed' or 'failure'.")
      .def_readonly("message", &SampleSummary::message, "What happened.")
      .def_readonly("num_chains", &SampleSummary::num_chains, "Chains.")
      .def_readonly("num_warmup", &SampleSummary::num_warmup, "Warm-up iterations per chain.")
      .def_readonly("num_samples", &SampleSummary::num_samples, "Draws per chain.")
      .def_readonly("dimension", &SampleSummary::dimension, "Sampled coordinates.")
      .def_readonly(
          "sampled_weights", &SampleSummary::sampled_weights,
          "'reduced' (default), 'collapsed', 'all', 'readout' or 'gibbs' (sampler/sample.h).")
      .def_readonly("metric", &SampleSummary::metric,
                    "'diag' or 'dense', as resolved ('none' for gibbs).")
      .def_readonly("integrator", &SampleSummary::integrator,
                    "'leapfrog' or 'prior_split' ('none' for gibbs).")
      .def_readonly("seed", &SampleSummary::seed, "The sampler seed.")
      .def_readonly("temperature", &SampleSummary::temperature, "T as requested.")
      .def_readonly("temperature_used", &SampleSummary::temperature_used, "max(T, T_min).")
      .def_readonly("step_size", &SampleSummary::step_size, "Per chain, after warm-up.")
      .def_readonly("mean_accept_stat", &SampleSummary::mean_accept_stat, "Per chain.")
      .def_readonly("divergences", &SampleSummary::divergences, "Per chain, sampling phase.")
      .def_readonly("max_depth_hits", &SampleSummary::max_depth_hits,
                    "Per chain: transitions that reached max_tree_depth.")
      .def_readonly("mean_tree_depth", &SampleSummary::mean_tree_depth, "Per chain.")
      .def_readonly("mean_leapfrog_steps", &SampleSummary::mean_leapfrog_steps,
                    "Per chain: gradient evaluations per draw.")
      .def_readonly("warmup_cpu_seconds", &SampleSummary::warmup_cpu_seconds,
                    "Per chain: CPU seconds of its thread in warm-up.")
      .def_readonly("sampling_cpu_seconds", &SampleSummary::sampling_cpu_seconds,
                    "Per chain: CPU seconds of its thread in sampling.")
      .def_readonly("ebfmi", &SampleSummary::ebfmi, "Per chain energy BFMI (< 0.3 is suspect).")
      .def_readonly("warmup_divergences", &SampleSummary::warmup_divergences, "All chains.")
      .def_readonly("total_divergences", &SampleSummary::total_divergences, "All chains, sampling.")
      .def_readonly("total_max_depth_hits", &SampleSummary::total_max_depth_hits, "All chains.")
      .def_readonly("gradient_evaluations", &SampleSummary::gradient_evaluations, "All chains.")
      .def_readonly("max_rhat", &SampleSummary::max_rhat, "Largest R-hat over reported quantities.")
      .def_readonly("max_rhat_quantity", &SampleSummary::max_rhat_quantity, "Its quantity.")
      .def_readonly("min_ess_bulk", &SampleSummary::min_ess_bulk, "Smallest bulk ESS.")
      .def_readonly("min_ess_bulk_quantity", &SampleSummary::min_ess_bulk_quantity, "Its quantity.")
      .def_readonly("min_ess_tail", &SampleSummary::min_ess_tail, "Smallest tail ESS.")
      .def_readonly("min_ess_tail_quantity", &SampleSummary::min_ess_tail_quantity, "Its quantity.")
      .def_readonly("warnings", &SampleSummary::warnings, "Quality warnings.")
      .def_readonly("warmup_seconds", &SampleSummary::warmup_seconds, "Slowest chain's warm-up.")
      .def_readonly("sampling_seconds", &SampleSummary::sampling_seconds,
                    "Slowest chain's sampling.")
      .def_readonly("diagnostics_seconds", &SampleSummary::diagnostics_seconds, "Diagnostics.")
      .def_readonly("total_seconds", &SampleSummary::total_seconds, "Wall time.")
      .def_property_readonly("completed", &SampleSummary::completed, "Every chain ran.")
      .def("brief_report", &SampleSummary::BriefReport, "One line.")
      .def("full_report", &SampleSummary::FullReport, "Every figure.")
      .def("__repr__", &SampleSummary::BriefReport, "The brief report.");

  py::class_<SampledPredictor>(m, "SampledPredictor", R"doc(
Sampled predictor statistics on the test inputs (theory.md section 5): mean and variance of
f(x*) over all retained draws (P* x D) with their Monte Carlo standard errors, accuracy and
generalisation error (NaN without test labels). Read-only views.)doc")
      .def_readonly("mean", &SampledPredictor::mean, "Mean of f(x*), P* x D.")
      .def_readonly("mean_se", &SampledPredictor::mean_se, "Its MCSE.")
      .def_readonly("variance", &SampledPredictor::variance, "Unbiased variance of f(x*), P* x D.")
      .def_readonly("variance_se", &SampledPredictor::variance_se, "Its MCSE.")
      .def_property_readonly(
          "covariance",
          [](const SampledPredictor& f) {
            std::vector<Eigen::MatrixXd> c;
            for (Eigen::Index mu = 0; mu < f.covariance.rows(); ++mu) c.push_back(f.Covariance(mu));
            return FromMatrixStack(c);
          },
          "Covariance of f(x*) over outputs, P* x D x D (theory.md section 9); its diagonal is "
          "variance.")
      .def_readonly("accuracy", &SampledPredictor::accuracy,
                    "Fraction with sign mean = y* (D = 1; 0 counts as wrong) or argmax mean = "
                    "argmax y* (D > 1).")
      .def_readonly("generalization_error", &SampledPredictor::generalization_error,
                    "<(mean - y*)^2 + variance> over test points and outputs.")
      .def_readonly("accuracy_se", &SampledPredictor::accuracy_se,
                    "Monte Carlo standard error of accuracy (flip probabilities of the means).")
      .def_readonly("generalization_error_se", &SampledPredictor::generalization_error_se,
                    "Delta-method Monte Carlo standard error of generalization_error.");

  py::class_<SampledOrderParameter>(m, "SampledOrderParameter",
                                    "U^sampled[(pi,d),(pi',d')] = <e_{pi,d} . e_{pi',d'}> / n_1 "
                                    "((Htot D) x (Htot D), output index fastest) and its MCSE "
                                    "(theory.md sections 5, 9).")
      .def_readonly("U", &SampledOrderParameter::U, "U^sampled (empty unless reported).")
      .def_readonly("U_se", &SampledOrderParameter::U_se, "Its MCSE, entry by entry.");

  py::class_<QuantityDiagnostics>(m, "QuantityDiagnostics",
                                  "Diagnostics of one reported quantity over all chains.")
      .def_readonly("mean", &QuantityDiagnostics::mean, "Mean.")
      .def_readonly("sd", &QuantityDiagnostics::sd, "Standard deviation.")
      .def_readonly("mcse_mean", &QuantityDiagnostics::mcse_mean, "sd / sqrt(ESS).")
      .def_readonly("q05", &QuantityDiagnostics::q05, "5% quantile.")
      .def_readonly("median", &QuantityDiagnostics::median, "Median.")
      .def_readonly("q95", &QuantityDiagnostics::q95, "95% quantile.")
      .def_readonly("rhat", &QuantityDiagnostics::rhat, "Rank-normalised split R-hat.")
      .def_readonly("ess_bulk", &QuantityDiagnostics::ess_bulk, "Bulk ESS.")
      .def_readonly("ess_tail", &QuantityDiagnostics::ess_tail, "Tail ESS.")
      .def_readonly("ess_mean", &QuantityDiagnostics::ess_mean, "ESS of the mean.");

  py::class_<SampleResult>(m, "SampleResult", R"doc(
Sampling results: the sampled predictor and order parameter, the names of the reported
quantities ('lp', f[mu] or f[mu,d], U[i,j] with i = pi*D + d), the draws per chain (num_samples x quantities, read-only
views), per-quantity diagnostics and chain 0's final weights.)doc")
      .def_readonly("predictor", &SampleResult::predictor, "On the test inputs.")
      .def_readonly("order_parameter", &SampleResult::order_parameter, "U^sampled.")
      .def_readonly("quantity_names", &SampleResult::quantity_names, "Names of the draw columns.")
      .def_readonly("predictor_column", &SampleResult::predictor_column, "First f column.")
      .def_readonly("predictor_variance_column", &SampleResult::predictor_variance_column,
                    "First f_var column (collapsed, reduced: Var[f | V] per test point), or -1.")
      .def_readonly("order_parameter_column", &SampleResult::order_parameter_column,
                    "First U column.")
      .def_property_readonly(
          "draws",
          [](py::object self) { return MatrixViews(self.cast<const SampleResult&>().draws, self); },
          "Per chain: num_samples x quantities (read-only views).")
      .def_readonly("diagnostics", &SampleResult::diagnostics, "Per quantity.")
      .def_readonly("last_weights", &SampleResult::last_weights, "Chain 0's final draw.");

  m.def(
      "sample",
      [](const Architecture& arch, const PathInputs& train, py::object y, double temperature,
         const PathInputs& test, const std::optional<SampleOptions>& options, py::object y_test,
         py::object progress, const std::string& task) {
        const Task t = ParseTask(task, "task");
        const MatrixArg labels(y, "y", Shape::kColumn);
        Eigen::MatrixXd yt;
        if (!y_test.is_none()) yt = MatrixArg(y_test, "y_test", Shape::kColumn).matrix();
        const Eigen::MatrixXd* yt_ptr = y_test.is_none() ? nullptr : &yt;
        CheckLabelConvention(labels.ref(), t, "y", /*training=*/true);
        if (yt_ptr) {
          const Eigen::MatrixXd reference = labels.matrix();
          CheckLabelConvention(yt, t, "y_test", false, &reference);
        }
        SampleOptions o = options.value_or(SampleOptions{});
        const py::object callback = ProgressCallback(progress, o.chains.progress);
        CallGuard guard;
        o.chains.progress = guard.Wrap<ChainProgress>(callback);
        SampleSummary summary;
        SampleResult r = guard.Run([&] {
          return Sample(arch, train, labels.ref(), temperature, test, o, &summary, yt_ptr);
        });
        if (t == Task::kRegression) r.predictor.accuracy = r.predictor.accuracy_se = std::nan("");
        return py::make_tuple(std::move(r), std::move(summary));
      },
      "arch"_a, "train"_a, "y"_a, "temperature"_a, "test"_a, "options"_a = py::none(),
      "y_test"_a = py::none(), "progress"_a = py::none(), "task"_a = "classification",
      "Draws from the posterior of the finite network's weights (theory.md section 1) with\n"
      "NUTS and returns (SampleResult, SampleSummary): predictor mean and variance on the test\n"
      "path inputs, accuracy, generalisation error and U^sampled. Widths must be integers.\n"
      "task: 'classification' (labels +1/-1 or one-hot rows) or 'regression' (no accuracy).\n"
      "Sampling trouble is reported in the summary. Runs without the GIL; Ctrl-C or an\n"
      "exception raised by the progress callback stops every chain and is re-raised.");
}

}  // namespace attnpaths::python
