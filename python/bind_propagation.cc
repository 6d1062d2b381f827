// propagation/: signal propagation at initialisation (docs/signal-propagation.md).
// Functions with keyword arguments named like the TOML keys of kernel-prop and
// shaped-sde (docs/config.md); results are dicts of NumPy arrays holding the
// same numbers the commands write.
#include <cmath>
#include <limits>

#include "propagation/attention_init.h"
#include "propagation/finite_width.h"
#include "propagation/kernel_metrics.h"
#include "propagation/kernel_recursion.h"
#include "propagation/shaped_model.h"
#include "propagation/shaped_network.h"
#include "propagation/shaped_sde.h"
#include "propagation/tat.h"
#include "propagation/token_kernel.h"
#include "python/bindings.h"

namespace attnpaths::python {

namespace {

using namespace pybind11::literals;

py::dict MetricsDict(const std::vector<KernelMetrics>& k) {
  auto column = [&](double KernelMetrics::*field) {
    Eigen::VectorXd v(static_cast<Eigen::Index>(k.size()));
    for (size_t i = 0; i < k.size(); ++i) v(static_cast<Eigen::Index>(i)) = k[i].*field;
    return v;
  };
  py::dict d;
  d["mean_correlation"] = column(&KernelMetrics::mean_correlation);
  d["min_correlation"] = column(&KernelMetrics::min_correlation);
  d["max_correlation"] = column(&KernelMetrics::max_correlation);
  d["effective_rank"] = column(&KernelMetrics::effective_rank);
  d["rank_one_distance"] = column(&KernelMetrics::rank_one_distance);
  d["min_eigenvalue"] = column(&KernelMetrics::min_eigenvalue);
  d["max_eigenvalue"] = column(&KernelMetrics::max_eigenvalue);
  d["condition_number"] = column(&KernelMetrics::condition_number);
  d["trace"] = column(&KernelMetrics::trace);
  return d;
}

std::vector<std::pair<Eigen::Index, Eigen::Index>> Entries(py::object entries) {
  std::vector<std::pair<Eigen::Index, Eigen::Index>> out;
  if (entries.is_none()) return out;
  for (py::handle e : entries.cast<py::sequence>()) {
    const auto pair = e.cast<std::vector<Eigen::Index>>();
    if (pair.size() != 2) {
      throw Error(ErrorMessage("entries", Describe(e), "pairs (a, b) of token indices"));
    }
    out.emplace_back(pair[0], pair[1]);
  }
  return out;
}

ShapedModel Model(double gamma, double tau0, bool mlp, double mlp_gamma, double c_plus,
                  double c_minus) {
  ShapedModel m;
  m.gamma = gamma;
  m.tau0 = tau0;
  m.mlp = mlp;
  m.mlp_gamma = mlp_gamma;
  m.c_plus = c_plus;
  m.c_minus = c_minus;
  std::string error;
  if (!m.IsValid(&error)) throw Error(error);
  return m;
}

py::dict PathsDict(const ShapedPaths& p) {
  const Eigen::Index T = static_cast<Eigen::Index>(p.times.size());
  const Eigen::Index Q = static_cast<Eigen::Index>(p.quantities.size());
  py::array_t<double> tracked({p.paths, T, Q});
  auto t = tracked.mutable_unchecked<3>();
  for (Eigen::Index k = 0; k < p.paths; ++k) {
    for (Eigen::Index i = 0; i < T; ++i) {
      for (Eigen::Index q = 0; q < Q; ++q) t(k, i, q) = p.tracked(k, i * Q + q);
    }
  }
  py::array_t<double> V({p.paths, p.m, p.m});
  auto v = V.mutable_unchecked<3>();
  for (Eigen::Index k = 0; k < p.paths; ++k) {
    for (Eigen::Index a = 0; a < p.m; ++a) {
      for (Eigen::Index b = 0; b < p.m; ++b) v(k, a, b) = p.final_V(k, a + p.m * b);
    }
  }
  py::list names;
  for (const TrackedQuantity& q : p.quantities) names.append(q.name());
  py::array_t<bool> exploded(static_cast<py::ssize_t>(p.exploded.size()));
  for (size_t k = 0; k < p.exploded.size(); ++k) exploded.mutable_at(k) = p.exploded[k] != 0;
  py::dict d;
  d["source"] = p.source;
  d["times"] = p.times;
  d["quantities"] = names;
  d["tracked"] = tracked;
  d["V_T"] = V;
  d["exploded"] = exploded;
  d["explosion_time"] = Eigen::VectorXd(Eigen::Map<const Eigen::VectorXd>(
      p.explosion_time.data(), static_cast<Eigen::Index>(p.explosion_time.size())));
  d["negative_eigenvalue_events"] = p.negative_eigenvalue_events;
  d["exploded_fraction"] = p.exploded_fraction();
  d["exploded_fraction_se"] = p.exploded_fraction_se();
  d["steps"] = p.steps;
  d["step_time"] = p.step_time;
  d["seconds"] = p.seconds;
  return d;
}

}  // namespace

void BindPropagation(py::module_& m) {
  m.def(
      "kernel_prop",
      [](Eigen::Index tokens, int depth, bool causal, const std::string& method, double gamma_final,
         double rho_final, const std::string& mlp, double tat_eta, int activations_per_block,
         bool closed_form, const std::string& negative_attention, double clamp_epsilon,
         py::object input_kernel, py::object finite_width) {
        KernelPropOptions o;
        o.tokens = tokens;
        o.depth = depth;
        o.causal = causal;
        o.method = ParseAttentionMethod(method, "method");
        o.gamma_final = gamma_final;
        o.rho_final = rho_final;
        o.mlp = ParseMlpKind(mlp, "mlp");
        o.tat_eta = tat_eta;
        o.activations_per_block = activations_per_block;
        o.closed_form = closed_form;
        o.negative_attention = ParseNegativeAttention(negative_attention, "negative_attention");
        o.clamp_epsilon = clamp_epsilon;
        if (!input_kernel.is_none()) {
          o.input_kernel = MatrixArg(input_kernel, "input_kernel", Shape::kMatrix).matrix();
        }
        std::string error;
        if (!o.IsValid(&error)) throw Error(error);
        FiniteWidthOptions fw;
        const bool simulate = !finite_width.is_none();
        if (simulate) {
          const py::dict f = finite_width.cast<py::dict>();
          for (auto item : f) {
            const std::string key = item.first.cast<std::string>();
            if (key == "widths") {
              fw.widths = item.second.cast<std::vector<Eigen::Index>>();
            } else if (key == "values") {
              fw.values = ParseValueWeights(item.second.cast<std::string>(), "finite_width.values");
            } else if (key == "draws") {
              fw.draws = item.second.cast<int>();
            } else if (key == "seed") {
              fw.seed = item.second.cast<std::uint64_t>();
            } else if (key == "threads") {
              fw.threads = item.second.cast<int>();
            } else {
              throw Error(ErrorMessage("finite_width." + key, "an unknown key",
                                       "one of widths, values, draws, seed, threads"));
            }
          }
          if (!fw.IsValid(o.tokens, &error)) throw Error(error);
        }
        KernelPropagation p;
        FiniteWidthStudy study;
        {
          py::gil_scoped_release release;
          p = PropagateKernel(o);
          if (simulate) study = SimulateFiniteWidth(o, p, fw);
        }
        std::vector<Eigen::MatrixXd> A, bias;
        std::vector<Eigen::MatrixXd> D;
        for (const AttentionDecomposition& a : p.attention) {
          A.push_back(a.A);
          bias.push_back(a.bias);
          D.push_back(a.D.transpose());
        }
        py::dict r;
        r["kernels"] = FromMatrixStack(p.kernels);
        r["targets"] = p.targets.empty() ? py::object(py::none()) : FromMatrixStack(p.targets);
        r["attention"] = FromMatrixStack(A);
        r["bias"] = FromMatrixStack(bias);
        r["D"] = FromMatrixStack(D).attr("reshape")(p.attention.size(), o.tokens);
        r["metrics"] = MetricsDict(p.metrics);
        r["construction_error"] = p.construction_error;
        r["target_error"] = p.target_error;
        r["tat_alpha"] = p.summary.tat_alpha;
        r["schedule"] = p.summary.schedule;
        r["clamped_entries"] = p.summary.clamped_entries;
        r["warnings"] = p.summary.warnings;
        py::list runs;
        for (const FiniteWidthRun& run : study.widths) {
          py::dict w;
          w["width"] = run.width;
          const auto layer_stat = [&](MeanSe FiniteWidthLayer::*field) {
            Eigen::MatrixXd v(static_cast<Eigen::Index>(run.layers.size()), 2);
            for (size_t l = 0; l < run.layers.size(); ++l) {
              v(static_cast<Eigen::Index>(l), 0) = (run.layers[l].*field).mean;
              v(static_cast<Eigen::Index>(l), 1) = (run.layers[l].*field).se;
            }
            return v;
          };
          w["mean_correlation"] = layer_stat(&FiniteWidthLayer::mean_correlation);
          w["min_correlation"] = layer_stat(&FiniteWidthLayer::min_correlation);
          w["effective_rank"] = layer_stat(&FiniteWidthLayer::effective_rank);
          w["rank_one_distance"] = layer_stat(&FiniteWidthLayer::rank_one_distance);
          w["min_eigenvalue"] = layer_stat(&FiniteWidthLayer::min_eigenvalue);
          w["max_correlation_deviation"] = layer_stat(&FiniteWidthLayer::max_correlation_deviation);
          w["trace_ratio_minus_one"] = layer_stat(&FiniteWidthLayer::trace_ratio_minus_one);
          w["mean_kernels"] = FromMatrixStack(run.mean_kernels);
          w["mean_correlations"] = FromMatrixStack(run.mean_correlations);
          runs.append(w);
        }
        r["finite_width"] = runs;
        r["seconds"] = p.summary.seconds;
        return r;
      },
      "tokens"_a = 24, "depth"_a = 10, "causal"_a = true, "method"_a = "espa",
      "gamma_final"_a = 0.005, "rho_final"_a = 0.9, "mlp"_a = "none", "tat_eta"_a = 0.9,
      "activations_per_block"_a = 2, "closed_form"_a = true, "negative_attention"_a = "clamp",
      "clamp_epsilon"_a = 2.220446049250313e-16, "input_kernel"_a = py::none(),
      "finite_width"_a = py::none(),
      R"doc(
The token kernel of a deep transformer without shortcuts at initialisation, layer by layer
at infinite width (docs/signal-propagation.md, Part II; the keywords are the [kernel_prop]
keys of docs/config.md). finite_width: None or a dict(widths=[...], values='orthogonal' |
'gaussian', draws=20, seed=1, threads=0) for networks of finite width beside it.
Returns a dict: kernels (L+1, m, m), targets (SPA) or None, attention (L, m, m; tokens as
rows, Omega = A^T), D (L, m), bias (L, m, m), metrics (dict of arrays over layers 0..L),
construction_error, target_error, tat_alpha, schedule, clamped_entries, warnings,
finite_width (list of dicts per width: statistics as (L+1, 2) arrays of mean and standard
error, mean_kernels and mean_correlations (L+1, m, m)), seconds.)doc");

  m.def(
      "espa_attention",
      [](Eigen::Index tokens, int depth, double gamma_final, bool causal) {
        KernelPropOptions o;
        o.tokens = tokens;
        o.depth = depth;
        o.gamma_final = gamma_final;
        o.causal = causal;
        o.method = AttentionMethod::kESpa;
        std::string error;
        if (!o.IsValid(&error)) throw Error(error);
        std::vector<Eigen::MatrixXd> A;
        for (const AttentionDecomposition& a : BuildAttention(o)) A.push_back(a.A);
        return FromMatrixStack(A);
      },
      "tokens"_a, "depth"_a, "gamma_final"_a = 0.005, "causal"_a = true,
      "E-SPA attention matrices A_1..A_L as a (L, m, m) array (tokens as rows; the attnpaths\n"
      "head is Omega = A^T): A_l Sigma_{l-1} A_l^T = Sigma_l with Sigma_l(i, j) = exp(-gamma_l "
      "|i-j|).");

  m.def(
      "tat_alpha", [](double eta, int n_act) { return TatAlpha(eta, n_act); }, "eta"_a, "n_act"_a,
      "TAT's negative slope alpha in [0, 1] with C_alpha applied n_act times to 0 equal to eta;\n"
      "raises attnpaths.Error when a ReLU network of n_act activations cannot reach eta.");
  m.def(
      "tat_cmap",
      [](double c, double alpha, int times) { return TatCMapComposite(c, alpha, times); }, "c"_a,
      "alpha"_a, "times"_a = 1,
      "C_alpha(c) = c + (1-alpha)^2/(pi (1+alpha^2)) (sqrt(1-c^2) - c arccos c), applied `times` "
      "times.");

  m.def(
      "kernel_metrics",
      [](py::object sigma) {
        const KernelMetrics k = ComputeKernelMetrics(SquareMatrixArg(sigma, "sigma"));
        py::dict d;
        d["mean_correlation"] = k.mean_correlation;
        d["min_correlation"] = k.min_correlation;
        d["max_correlation"] = k.max_correlation;
        d["effective_rank"] = k.effective_rank;
        d["rank_one_distance"] = k.rank_one_distance;
        d["min_eigenvalue"] = k.min_eigenvalue;
        d["max_eigenvalue"] = k.max_eigenvalue;
        d["condition_number"] = k.condition_number;
        d["trace"] = k.trace;
        return d;
      },
      "sigma"_a,
      "Rank diagnostics of a token kernel: mean/min/max off-diagonal correlation, effective rank\n"
      "(tr S)^2/tr(S^2), distance to rank one, extreme eigenvalues, condition number, trace.");

  m.def(
      "token_kernels",
      [](const Architecture& arch, py::object x, py::object x2, Eigen::Index example,
         Eigen::Index example2) {
        const Eigen::MatrixXd a = MatrixArg(x, "x", Shape::kMatrix).matrix();
        const Eigen::MatrixXd b = x2.is_none() ? a : MatrixArg(x2, "x2", Shape::kMatrix).matrix();
        const TokenKernels t =
            ComputeTokenKernels(arch, a, example, Split::kTrain, b, example2, Split::kTrain);
        py::dict d;
        d["sigma"] = FromMatrixStack(t.sigma);
        d["gp"] = t.gp;
        return d;
      },
      "architecture"_a, "x"_a, "x2"_a = py::none(), "example"_a = 0, "example2"_a = 0,
      "Token kernels Sigma_0..Sigma_L(x, x') of a theory.md network at infinite width (x, x' are\n"
      "N0 x n_tok; `example` selects per-example attention of kind 'given') and the readout K_GP,\n"
      "which equals K_{U_GP} of the path kernel. Returns dict(sigma=(L+1, n_tok, n_tok), "
      "gp=float).");

  m.def(
      "shaped_drift",
      [](py::object V, double gamma, double tau0, bool mlp, double mlp_gamma, double c_plus,
         double c_minus) {
        return ShapedDrift(Model(gamma, tau0, mlp, mlp_gamma, c_plus, c_minus),
                           SquareMatrixArg(V, "V"));
      },
      "V"_a, "gamma"_a = 0.4, "tau0"_a = 0.6, "mlp"_a = false, "mlp_gamma"_a = 0.5,
      "c_plus"_a = 0.0, "c_minus"_a = -1.0,
      "The SDE drift b(V) of eq. (I.6) (m x m); tau0 = inf switches attention off.");
  m.def(
      "shaped_diffusion",
      [](py::object V, double gamma, double tau0, bool mlp, double mlp_gamma, double c_plus,
         double c_minus) {
        return ShapedDiffusion(Model(gamma, tau0, mlp, mlp_gamma, c_plus, c_minus),
                               SquareMatrixArg(V, "V"));
      },
      "V"_a, "gamma"_a = 0.4, "tau0"_a = 0.6, "mlp"_a = false, "mlp_gamma"_a = 0.5,
      "c_plus"_a = 0.0, "c_minus"_a = -1.0,
      "The SDE diffusion Sigma(V) of eq. (I.7) as an m^2 x m^2 matrix: entry (a + m b, c + m d)\n"
      "is Cov(dM_ab, dM_cd) per unit time.");

  m.def(
      "shaped_sde",
      [](py::object V0, double gamma, double tau0, double depth_to_width, double dt,
         Eigen::Index paths, double cap, std::uint64_t seed, bool mlp, double mlp_gamma,
         double c_plus, double c_minus, py::object entries, int grid_points, int threads,
         std::uint64_t stream) {
        ShapedSdeOptions o;
        o.model = Model(gamma, tau0, mlp, mlp_gamma, c_plus, c_minus);
        o.V0 = SquareMatrixArg(V0, "V0");
        o.depth_to_width = depth_to_width;
        o.dt = dt;
        o.paths = paths;
        o.cap = cap;
        o.seed = seed;
        o.stream = stream;
        o.entries = Entries(entries);
        o.grid_points = grid_points;
        o.threads = threads;
        o.source = std::isfinite(tau0) ? "sde" : "sde_no_attention";
        std::string error;
        if (!o.IsValid(&error)) throw Error(error);
        CallGuard guard;
        const ShapedPaths p = guard.Run([&] { return IntegrateShapedSde(o); });
        return PathsDict(p);
      },
      "V0"_a, "gamma"_a = 0.4, "tau0"_a = 0.6, "depth_to_width"_a = 1.0, "dt"_a = 1.0 / 1024,
      "paths"_a = 20000, "cap"_a = 1e4, "seed"_a = 1, "mlp"_a = false, "mlp_gamma"_a = 0.5,
      "c_plus"_a = 0.0, "c_minus"_a = -1.0, "entries"_a = py::none(), "grid_points"_a = 64,
      "threads"_a = 0, "stream"_a = 0,
      R"doc(
The shaped-attention covariance SDE integrated by Euler-Maruyama from V0 on `paths` seeded
paths (docs/signal-propagation.md, Part I; the keywords are the [shaped_sde] keys). Path p
draws from the engine keyed (seed, stream, p); the command uses stream 0 for 'sde' and 1 for
'sde_no_attention'. Returns a dict: source, times (T,), quantities (names of the tracked
V_ab / rho_ab), tracked (paths, T, Q), V_T (paths, m, m), exploded (paths,) bool,
explosion_time, negative_eigenvalue_events, exploded_fraction(_se), steps, step_time,
seconds.)doc");

  m.def(
      "shaped_networks",
      [](py::object V0, Eigen::Index width, Eigen::Index samples, double gamma, double tau0,
         double depth_to_width, Eigen::Index key_dim, const std::string& sampler,
         const std::string& attention, double cap, std::uint64_t seed, bool mlp, double mlp_gamma,
         double c_plus, double c_minus, py::object entries, int grid_points, int threads,
         std::uint64_t stream) {
        ShapedNetworkOptions o;
        o.model = Model(gamma, tau0, mlp, mlp_gamma, c_plus, c_minus);
        o.V0 = SquareMatrixArg(V0, "V0");
        o.width = width;
        o.samples = samples;
        o.depth_to_width = depth_to_width;
        o.key_dim = key_dim;
        o.sampler = ParseShapedSampler(sampler, "sampler");
        o.attention = ParseShapedAttention(attention, "attention");
        o.cap = cap;
        o.seed = seed;
        o.stream = stream;
        o.entries = Entries(entries);
        o.grid_points = grid_points;
        o.threads = threads;
        std::string error;
        if (!o.IsValid(&error)) throw Error(error);
        CallGuard guard;
        const ShapedPaths p = guard.Run([&] { return SimulateShapedNetworks(o); });
        return PathsDict(p);
      },
      "V0"_a, "width"_a, "samples"_a = 1000, "gamma"_a = 0.4, "tau0"_a = 0.6,
      "depth_to_width"_a = 1.0, "key_dim"_a = 8, "sampler"_a = "chain", "attention"_a = "shaped",
      "cap"_a = 1e4, "seed"_a = 1, "mlp"_a = false, "mlp_gamma"_a = 0.5, "c_plus"_a = 0.0,
      "c_minus"_a = -1.0, "entries"_a = py::none(), "grid_points"_a = 64, "threads"_a = 0,
      "stream"_a = 100,
      R"doc(
Finite shaped-attention networks of width n (d = round(n t_f) layers) at initialisation:
sampler 'chain' (the covariance chain), 'x' (exact in law keeping X) or 'full' (every
weight); attention 'shaped' or 'standard' (the rank-collapse baseline). Network p draws
from the engine keyed (seed, stream, p); the command uses stream 100 + w for shaped and
200 + w for standard networks of width index w. Returns the dict of shaped_sde.)doc");
}

}  // namespace attnpaths::python
