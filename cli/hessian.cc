// attnpaths hessian [--config h.toml] [flags] — the loss Hessian of one
// self-attention layer (model = "single_layer") or of a network trained by
// `attnpaths train` (model = "trained_network"): the norms of every block
// (outer, functional, full) over a grid of input scales σ and repeats, the
// fitted growth exponents with their spread, the dense Hessian at one σ
// (small sizes), Lanczos extremes and spectral densities
// (docs/attention-hessian.md, docs/cli.md). Every file is written atomically
// after the computation; progress goes to stderr.
#include <boost/random/mersenne_twister.hpp>
#include <boost/random/uniform_int_distribution.hpp>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>

#include "cli/commands.h"
#include "cli/report.h"
#include "cli/run_provenance.h"
#include "cli/study_run.h"
#include "cli/toml_table.h"
#include "cli/train_config.h"
#include "curvature/attention_hessian.h"
#include "curvature/growth_study.h"
#include "curvature/lanczos.h"
#include "curvature/network_hessian.h"
#include "data/atomic_file.h"
#include "data/attention_tasks.h"
#include "data/config.h"
#include "data/npy.h"
#include "data/result_folder.h"
#include "kernels/error.h"
#include "trainer/network_files.h"

namespace attnpaths::cli {

namespace {

// Dense matrices are written (and their blocks' spectra computed from them)
// up to this many parameters: 5000² doubles are 200 MB.
constexpr Eigen::Index kMaxDenseSingleLayer = 5000;
// The network's dense H costs 4 gradients per parameter.
constexpr Eigen::Index kMaxDenseNetwork = 3000;

struct HessianConfig {
  std::string model = "single_layer";
  AttentionTaskOptions task;  // tokens 18, features 16, batch 64 (spec)
  Eigen::Index key_dim = 16;
  std::string data = "addition";
  std::string x, y;        // data = "npy" / the trained network's inputs and labels
  std::string wq, wk, wv;  // fixed single-layer weights (optional)
  double weight_std = 0;   // 0: 1/√D
  std::string network;     // trained_network: the folder `attnpaths train` wrote
  std::string loss = "squared";
  double weight_decay = 0;
  std::string attention = "softmax";
  bool causal = false;
  double sigma_from = 0.01, sigma_to = 10;
  int sigma_points = 20;
  std::string sigma_scale = "log";
  std::vector<double> sigmas;  // an explicit grid (overrides from/to/points)
  GrowthStudyOptions growth;
  std::string probe = "rademacher";
  int spectrum = 10;
  double spectrum_sigma = 1.0;
  int density_probes = 10, density_steps = 80;
  std::uint64_t seed = 1234;
  std::string output = "attnpaths-hessian";
};

void ReadHessianConfig(const std::string& path, HessianConfig* c) {
  const TomlDocument doc(path, "attnpaths hessian");
  const TomlTable top = doc.Root();
  top.Allow({"hessian", "output"});
  const TomlTable h = top.Sub("hessian");
  h.Allow({"model",
           "tokens",
           "features",
           "key_dim",
           "batch",
           "data",
           "x",
           "y",
           "wq",
           "wk",
           "wv",
           "weight_std",
           "network",
           "loss",
           "weight_decay",
           "attention",
           "causal",
           "sigma",
           "fit_points",
           "fit_range",
           "repeats",
           "norms",
           "probes",
           "probe",
           "spectrum",
           "spectrum_sigma",
           "density_probes",
           "density_steps",
           "seed"});
  h.Read("model", &c->model);
  h.ReadInteger("tokens", &c->task.tokens);
  h.ReadInteger("features", &c->task.features);
  h.ReadInteger("key_dim", &c->key_dim);
  h.ReadInteger("batch", &c->task.sequences);
  h.Read("data", &c->data);
  for (auto [key, target] :
       {std::pair{"x", &c->x}, std::pair{"y", &c->y}, std::pair{"wq", &c->wq},
        std::pair{"wk", &c->wk}, std::pair{"wv", &c->wv}, std::pair{"network", &c->network}}) {
    h.Read(key, target);
    doc.Resolve(target);
  }
  h.Read("weight_std", &c->weight_std);
  h.Read("loss", &c->loss);
  h.Read("weight_decay", &c->weight_decay);
  h.Read("attention", &c->attention);
  h.Read("causal", &c->causal);
  if (h.IsTable("sigma")) {
    const TomlTable s = h.Sub("sigma");
    s.Allow({"from", "to", "points", "scale"});
    s.Read("from", &c->sigma_from);
    s.Read("to", &c->sigma_to);
    s.ReadInteger("points", &c->sigma_points);
    s.Read("scale", &c->sigma_scale);
  } else {
    h.Read("sigma", &c->sigmas);
  }
  h.ReadInteger("fit_points", &c->growth.fit_points);
  if (h.Has("fit_range")) {
    std::vector<double> r;
    h.Read("fit_range", &r);
    Require(r.size() == 2, h.Field("fit_range"), ToText(r.size()) + " values", "[lo, hi]");
    c->growth.fit_lo = r[0];
    c->growth.fit_hi = r[1];
  }
  h.ReadInteger("repeats", &c->growth.repeats);
  if (h.Has("norms")) {
    std::string v;
    h.Read("norms", &v);
    c->growth.norms = ParseNormMethod(v, h.Field("norms"));
  }
  h.ReadInteger("probes", &c->growth.hutchinson.probes);
  h.Read("probe", &c->probe);
  h.ReadInteger("spectrum", &c->spectrum);
  h.Read("spectrum_sigma", &c->spectrum_sigma);
  h.ReadInteger("density_probes", &c->density_probes);
  h.ReadInteger("density_steps", &c->density_steps);
  h.ReadSeed("seed", &c->seed);
  const TomlTable out = top.Sub("output");
  out.Allow({"directory"});
  if (out.Has("directory")) {
    out.Read("directory", &c->output);
    doc.Resolve(&c->output);
  }
}

std::vector<double> SigmaGrid(const HessianConfig& c) {
  if (!c.sigmas.empty()) return c.sigmas;
  Require(c.sigma_points >= 2, "hessian.sigma.points", c.sigma_points, "a value >= 2");
  Require(c.sigma_from > 0 && std::isfinite(c.sigma_from), "hessian.sigma.from", c.sigma_from,
          "a finite value > 0");
  Require(c.sigma_to > c.sigma_from && std::isfinite(c.sigma_to), "hessian.sigma.to", c.sigma_to,
          "a finite value above sigma.from (" + ToText(c.sigma_from) + ")");
  Require(c.sigma_scale == "log" || c.sigma_scale == "linear", "hessian.sigma.scale",
          "\"" + c.sigma_scale + "\"", "one of log, linear");
  std::vector<double> s;
  for (int i = 0; i < c.sigma_points; ++i) {
    const double t = static_cast<double>(i) / (c.sigma_points - 1);
    s.push_back(c.sigma_scale == "log" ? c.sigma_from * std::pow(c.sigma_to / c.sigma_from, t)
                                       : c.sigma_from + (c.sigma_to - c.sigma_from) * t);
  }
  return s;
}

std::string CsvNumber(double v) {
  if (!std::isfinite(v)) return "";
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

nlohmann::json NumberOrNull(double v) {
  return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json();
}

nlohmann::json VectorJson(const Eigen::VectorXd& v) {
  return std::vector<double>(v.data(), v.data() + v.size());
}

// The single layer's data and weights of one repeat.
struct SingleLayerSource {
  const HessianConfig& c;
  AttentionKind attention;
  std::vector<Eigen::MatrixXd> X, Y;  // data = "npy"
  std::optional<AttentionLayerWeights> fixed;

  GrowthSample operator()(int r) const {
    GrowthSample s;
    if (c.data == "npy") {
      s.data.X = X;
      s.data.Y = Y;
    } else {
      AttentionTaskOptions task = c.task;
      task.kind = ParseAttentionTaskKind(c.data, "hessian.data");
      task.seed = c.seed + 7919ULL * static_cast<std::uint64_t>(r);
      const AttentionTask t = GenerateAttentionTask(task);
      s.data.X = t.X;
      s.data.Y = t.Y;
    }
    s.data.attention = attention;
    s.data.causal = c.causal;
    const Eigen::Index D = s.data.D();
    s.weights = fixed ? *fixed
                      : RandomAttentionWeights(D, c.key_dim,
                                               c.seed + 7919ULL * static_cast<std::uint64_t>(r) + 1,
                                               c.weight_std);
    return s;
  }
};

// Lanczos extremes of one operator as spectrum.csv rows.
void AddSpectrumRows(const std::string& matrix, HessianPart part, const SymmetricOperator& op,
                     int k, std::uint64_t seed, bool singular, std::string* csv,
                     nlohmann::json* summary) {
  LanczosOptions options;
  options.eigenvalues = k;
  options.max_iterations = 400;
  options.seed = seed;
  LanczosSummary s;
  const ExtremeEigenvalues e = LanczosExtremes(op, options, &s);
  auto row = [&](const char* which, Eigen::Index i, double value, double residual) {
    *csv += matrix + "," + HessianPartName(part) + "," + which + "," + std::to_string(i) + "," +
            CsvNumber(value) + "," + CsvNumber(residual) + "\n";
  };
  for (Eigen::Index i = 0; i < e.largest.size(); ++i) {
    if (singular) {
      row("singular", i, std::sqrt(std::max(e.largest(i), 0.0)), e.largest_residuals(i));
    } else {
      row("largest", i, e.largest(i), e.largest_residuals(i));
    }
  }
  if (!singular) {
    for (Eigen::Index i = 0; i < e.smallest.size(); ++i) {
      row("smallest", i, e.smallest(i), e.smallest_residuals(i));
    }
  }
  (*summary)[matrix + "." + HessianPartName(part)] = {
      {"converged", s.converged}, {"products", s.iterations}, {"max_residual", s.max_residual}};
}

void AddDensityRows(const std::string& matrix, HessianPart part, const SymmetricOperator& op,
                    const HessianConfig& c, std::string* csv) {
  SpectralDensityOptions options;
  options.probes = c.density_probes;
  options.steps = c.density_steps;
  options.seed = c.seed + 17;
  const SpectralDensity rho = LanczosSpectralDensity(op, options);
  for (Eigen::Index i = 0; i < rho.grid.size(); ++i) {
    *csv += matrix + "," + HessianPartName(part) + "," + CsvNumber(rho.grid(i)) + "," +
            CsvNumber(rho.density(i)) + "\n";
  }
}

// Restriction of a product to block (a, b): v on group b, rows of group a.
Eigen::VectorXd BlockApply(const std::function<Eigen::VectorXd(const Eigen::VectorXd&)>& apply,
                           Eigen::Index n, Eigen::Index row_offset, Eigen::Index rows,
                           Eigen::Index col_offset, const Eigen::VectorXd& v) {
  Eigen::VectorXd full = Eigen::VectorXd::Zero(n);
  full.segment(col_offset, v.size()) = v;
  return apply(full).segment(row_offset, rows);
}

struct CliOptions {
  std::string config, norms;
  HessianConfig flags;
  GivenFlags given;
  bool Given(const std::string& name) const { return given.Given(name); }
};

int RunHessian(const CliOptions& o, const GlobalOptions& g) {
  HessianConfig c;
  if (!o.config.empty()) ReadHessianConfig(o.config, &c);
  const HessianConfig& f = o.flags;
  if (o.Given("model")) c.model = f.model;
  if (o.Given("data")) c.data = f.data;
  if (o.Given("x")) c.x = f.x;
  if (o.Given("y")) c.y = f.y;
  if (o.Given("network")) c.network = f.network;
  if (o.Given("tokens")) c.task.tokens = f.task.tokens;
  if (o.Given("features")) c.task.features = f.task.features;
  if (o.Given("batch")) c.task.sequences = f.task.sequences;
  if (o.Given("key-dim")) c.key_dim = f.key_dim;
  if (o.Given("attention")) c.attention = f.attention;
  if (o.Given("causal")) c.causal = f.causal;
  if (o.Given("sigma-from")) c.sigma_from = f.sigma_from;
  if (o.Given("sigma-to")) c.sigma_to = f.sigma_to;
  if (o.Given("sigma-points")) c.sigma_points = f.sigma_points;
  if (o.Given("sigma-from") || o.Given("sigma-to") || o.Given("sigma-points")) c.sigmas.clear();
  if (o.Given("fit-points")) c.growth.fit_points = f.growth.fit_points;
  if (o.Given("repeats")) c.growth.repeats = f.growth.repeats;
  if (o.Given("norms")) c.growth.norms = ParseNormMethod(o.norms, "--norms");
  if (o.Given("probes")) c.growth.hutchinson.probes = f.growth.hutchinson.probes;
  if (o.Given("spectrum")) c.spectrum = f.spectrum;
  if (o.Given("loss")) c.loss = f.loss;
  if (o.Given("weight-decay")) c.weight_decay = f.weight_decay;
  if (o.Given("seed")) c.seed = f.seed;
  if (o.Given("output")) c.output = f.output;

  // Checks first, so that bad input leaves no output folder.
  Require(c.model == "single_layer" || c.model == "trained_network", "hessian.model",
          "\"" + c.model + "\"", "one of single_layer, trained_network");
  const AttentionKind attention = ParseAttentionKind(c.attention, "hessian.attention");
  const LossKind loss = ParseLossKind(c.loss, "hessian.loss");
  c.growth.sigmas = SigmaGrid(c);
  c.growth.hutchinson.distribution = ParseProbeDistribution(c.probe, "hessian.probe");
  c.growth.hutchinson.seed = c.seed + 101;
  std::string error;
  if (!c.growth.IsValid(&error)) throw Error(error);
  Require(c.spectrum >= 0, "hessian.spectrum", c.spectrum, "a value >= 0 (0: no spectrum)");
  Require(c.spectrum_sigma > 0 && std::isfinite(c.spectrum_sigma), "hessian.spectrum_sigma",
          c.spectrum_sigma, "a finite value > 0");
  Require(c.density_probes >= 1, "hessian.density_probes", c.density_probes, "a value >= 1");
  Require(c.density_steps >= 1, "hessian.density_steps", c.density_steps, "a value >= 1");
  Require(c.key_dim >= 1, "hessian.key_dim", c.key_dim, "a value >= 1");
  Require(std::isfinite(c.weight_decay) && c.weight_decay >= 0, "hessian.weight_decay",
          c.weight_decay, "a finite value >= 0");
  CheckOutputDirectory(c.output, "output directory");

  Provenance run = CommandProvenance(g, o.config);
  run.Set("seed", c.seed);
  nlohmann::json summary;
  summary["model"] = c.model;
  std::string spectrum_csv = "matrix,part,which,index,value,residual\n";
  std::string density_csv = "matrix,part,lambda,density\n";
  nlohmann::json spectrum_summary = nlohmann::json::object();
  std::vector<std::pair<std::string, Eigen::MatrixXd>> dense;  // files to write
  GrowthStudy study;
  c.growth.progress = [&](const GrowthProgress& p) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "hessian: repeat %d/%d done, %.1f s", p.repeat + 1, p.repeats,
                  p.seconds);
    ProgressLine(buf, g.quiet);
  };

  if (c.model == "single_layer") {
    SingleLayerSource source{c, attention, {}, {}, std::nullopt};
    if (c.data == "npy") {
      Require(!c.x.empty() && !c.y.empty(), "hessian.x / hessian.y", "nothing",
              "NPY files of inputs and targets (B × m × D each) for data = \"npy\"");
      source.X = NpyToMatrices(LoadArray(c.x, "", "hessian.x"), "hessian.x");
      source.Y = NpyToMatrices(LoadArray(c.y, "", "hessian.y"), "hessian.y");
      run.Set("x", InputFileRecord(c.x));
      run.Set("y", InputFileRecord(c.y));
    } else {
      AttentionTaskOptions task = c.task;
      task.kind = ParseAttentionTaskKind(c.data, "hessian.data");
      task.Validate();
    }
    if (!c.wq.empty() || !c.wk.empty() || !c.wv.empty()) {
      Require(!c.wq.empty() && !c.wk.empty() && !c.wv.empty(), "hessian.wq / wk / wv",
              "only some of them", "all three weight files or none");
      AttentionLayerWeights w;
      w.WQ = NpyToMatrix(LoadArray(c.wq, "", "hessian.wq"), "hessian.wq");
      w.WK = NpyToMatrix(LoadArray(c.wk, "", "hessian.wk"), "hessian.wk");
      w.WV = NpyToMatrix(LoadArray(c.wv, "", "hessian.wv"), "hessian.wv");
      source.fixed = w;
      run.Set("wq", InputFileRecord(c.wq));
      run.Set("wk", InputFileRecord(c.wk));
      run.Set("wv", InputFileRecord(c.wv));
    }
    // Validates everything on repeat 0 before the long part.
    {
      const GrowthSample s0 = source(0);
      s0.data.Validate();
      s0.weights.Validate(s0.data.D());
    }
    ProgressLine("hessian: growth study (single layer)", g.quiet);
    study = RunGrowthStudy(source, c.growth);

    // The Hessian at σ = spectrum_sigma (repeat 0): dense matrices, spectra.
    GrowthSample s0 = source(0);
    for (auto& X : s0.data.X) X *= c.spectrum_sigma;
    const AttentionHessian hessian(s0.data, s0.weights);
    const Eigen::Index n = hessian.num_parameters();
    summary["num_parameters"] = n;
    summary["D"] = hessian.D();
    summary["k"] = hessian.k();
    summary["m"] = s0.data.m();
    summary["B"] = s0.data.B();
    summary["loss_at_spectrum_sigma"] = hessian.loss();
    if (n <= kMaxDenseSingleLayer) {
      dense.emplace_back("hessian.npy", hessian.Dense(HessianPart::kFull));
      dense.emplace_back("hessian_outer.npy", hessian.Dense(HessianPart::kOuter));
      dense.emplace_back("hessian_functional.npy", hessian.Dense(HessianPart::kFunctional));
    }
    if (c.spectrum > 0) {
      ProgressLine("hessian: Lanczos spectra", g.quiet);
      for (HessianPart part : {HessianPart::kFull, HessianPart::kOuter, HessianPart::kFunctional}) {
        auto apply = [&hessian, part](const Eigen::VectorXd& v) { return hessian.Apply(v, part); };
        const SymmetricOperator whole{n, apply};
        AddSpectrumRows("H", part, whole, c.spectrum, c.seed + 3, false, &spectrum_csv,
                        &spectrum_summary);
        AddDensityRows("H", part, whole, c, &density_csv);
        for (const BlockName& b : SpecBlocks()) {
          const Eigen::Index ro = hessian.offset(b.rows), rn = hessian.size(b.rows);
          const Eigen::Index co = hessian.offset(b.cols), cn = hessian.size(b.cols);
          if (b.rows == b.cols) {
            const SymmetricOperator blk{cn, [&, apply, ro, rn, co](const Eigen::VectorXd& v) {
                                          return BlockApply(apply, n, ro, rn, co, v);
                                        }};
            AddSpectrumRows(b.name(), part, blk, c.spectrum, c.seed + 5, false, &spectrum_csv,
                            &spectrum_summary);
            if (part == HessianPart::kFull) AddDensityRows(b.name(), part, blk, c, &density_csv);
          } else {
            // Singular values of M: Lanczos on MᵀM (M v, then Mᵀ by the block (b, a)).
            const SymmetricOperator gram{cn, [&, apply, ro, rn, co, cn](const Eigen::VectorXd& v) {
                                           const Eigen::VectorXd Mv =
                                               BlockApply(apply, n, ro, rn, co, v);
                                           return BlockApply(apply, n, co, cn, ro, Mv);
                                         }};
            AddSpectrumRows(b.name(), part, gram, c.spectrum, c.seed + 7, true, &spectrum_csv,
                            &spectrum_summary);
          }
        }
      }
    }
    summary["conventions"] = {
        {"loss", "(1/(B m D)) sum_s ||F_s - Y_s||_F^2, F = A X W_V"},
        {"vec_order", "row-major, [vec W_Q, vec W_K, vec W_V]; W_Q = Q^T, W_K = K^T, W_V = V^T"},
        {"attention", AttentionKindName(attention)},
        {"mask", c.causal ? "causal (query i reads keys j <= i)" : "none"},
        {"weights", source.fixed ? "from wq, wk, wv" : "N(0, std^2) per repeat"},
        {"weight_std", c.weight_std > 0 ? c.weight_std : 1.0 / std::sqrt(double(s0.data.D()))}};
    run.Set("model", {{"model", c.model},
                      {"data", c.data},
                      {"tokens", s0.data.m()},
                      {"features", s0.data.D()},
                      {"key_dim", hessian.k()},
                      {"batch", s0.data.B()},
                      {"attention", c.attention},
                      {"causal", c.causal},
                      {"weight_std", c.weight_std}});
  } else {
    Require(!c.network.empty(), "hessian.network", "nothing",
            "the folder of a network written by attnpaths train (model = \"trained_network\")");
    const Network net = ReadTrainedNetwork(c.network);
    const Inputs x = LoadTrainInputs(c.x, "hessian.x");
    const Eigen::VectorXd y = LoadTrainLabels(c.y, "hessian.y", x.P());
    Require(x.N0() == net.shape().N0 && x.n_tok() == net.shape().n_tok, "hessian.x shape",
            "n_tok " + ToText(x.n_tok()) + ", N0 " + ToText(x.N0()),
            "n_tok " + ToText(net.shape().n_tok) + ", N0 " + ToText(net.shape().N0) +
                " (the network's)");
    run.Set("network", DirectoryRecord(c.network));
    run.Set("x", InputFileRecord(c.x));
    run.Set("y", InputFileRecord(c.y));
    const Eigen::Index B = std::min<Eigen::Index>(c.task.sequences, x.P());
    // Repeat r: B examples drawn without replacement (Boost.Random, seed + r).
    auto sample = [&](int r) {
      std::vector<Eigen::Index> ids(static_cast<size_t>(x.P()));
      for (Eigen::Index i = 0; i < x.P(); ++i) ids[static_cast<size_t>(i)] = i;
      boost::random::mt19937 engine(static_cast<std::uint32_t>(c.seed + 7919ULL * r));
      for (Eigen::Index i = 0; i < B; ++i) {
        boost::random::uniform_int_distribution<Eigen::Index> pick(i, x.P() - 1);
        std::swap(ids[static_cast<size_t>(i)], ids[static_cast<size_t>(pick(engine))]);
      }
      ids.resize(static_cast<size_t>(B));
      NetworkGrowthSample s{x.Select(ids), Eigen::VectorXd(B)};
      for (Eigen::Index i = 0; i < B; ++i) s.y(i) = y(ids[static_cast<size_t>(i)]);
      return s;
    };
    ProgressLine("hessian: growth study (trained network)", g.quiet);
    study = RunNetworkGrowthStudy(net, sample, loss, c.weight_decay, c.growth, g.threads);
    NetworkGrowthSample s0 = sample(0);
    for (double& v : s0.x.values()) v *= c.spectrum_sigma;
    const NetworkHessian hessian(net, s0.x, s0.y, loss, c.weight_decay, g.threads);
    const Eigen::Index n = hessian.num_parameters();
    summary["num_parameters"] = n;
    summary["B"] = B;
    summary["loss_at_spectrum_sigma"] = hessian.loss();
    if (n <= kMaxDenseNetwork) {
      dense.emplace_back("hessian.npy", hessian.Dense(HessianPart::kFull));
      dense.emplace_back("hessian_outer.npy", hessian.Dense(HessianPart::kOuter));
      dense.emplace_back("hessian_functional.npy", hessian.Dense(HessianPart::kFunctional));
      summary["finite_difference_asymmetry"] = hessian.Asymmetry();
    }
    if (c.spectrum > 0) {
      ProgressLine("hessian: Lanczos spectra", g.quiet);
      for (HessianPart part : {HessianPart::kFull, HessianPart::kOuter}) {
        const SymmetricOperator whole{
            n, [&hessian, part](const Eigen::VectorXd& v) { return hessian.Apply(v, part); }};
        AddSpectrumRows("H", part, whole, c.spectrum, c.seed + 3, false, &spectrum_csv,
                        &spectrum_summary);
        AddDensityRows("H", part, whole, c, &density_csv);
      }
    }
    nlohmann::json groups = nlohmann::json::array();
    for (const ParameterGroup& pg : hessian.groups()) {
      groups.push_back({{"name", pg.name}, {"offset", pg.offset}, {"size", pg.size}});
    }
    summary["parameter_groups"] = groups;
    summary["conventions"] = {
        {"loss",
         std::string("(1/B) sum_mu ") + LossKindName(loss) + "(f(x^mu), y^mu) + (wd/2)|theta|^2"},
        {"vec_order",
         "the network's flat layout (network/network.h): V_0; per layer and head "
         "V, Q, K; a (column-major blocks)"},
        {"hessian_vector_products", "Richardson central differences of the analytic gradient"},
        {"outer", "(1/B) sum_mu l''(f_mu, y_mu) grad f_mu grad f_mu^T + wd I"}};
    run.Set("model",
            {{"model", c.model}, {"batch", B}, {"loss", c.loss}, {"weight_decay", c.weight_decay}});
  }
  ProgressLine("", g.quiet);
  run.Set("growth", {{"sigmas", c.growth.sigmas},
                     {"fit_points", c.growth.fit_points},
                     {"fit_range", {c.growth.fit_lo, c.growth.fit_hi}},
                     {"repeats", c.growth.repeats},
                     {"norms", NormMethodName(c.growth.norms)},
                     {"probes", c.growth.hutchinson.probes},
                     {"probe", c.probe},
                     {"hutchinson_seed", c.growth.hutchinson.seed}});
  run.Set("spectrum", {{"eigenvalues", c.spectrum},
                       {"sigma", c.spectrum_sigma},
                       {"density_probes", c.density_probes},
                       {"density_steps", c.density_steps}});

  // Tables.
  const auto S = static_cast<Eigen::Index>(study.sigmas.size());
  const Eigen::Index R = c.growth.repeats;
  const auto nb = static_cast<Eigen::Index>(study.slopes.size() / 3);
  std::vector<double> norms(static_cast<size_t>(S * R * nb * 3)),
      errors(static_cast<size_t>(S * R * nb * 3));
  std::string blocks_csv =
      run.CsvComment() + "sigma,repeat,block,kind,layer,part,norm,standard_error\n";
  for (size_t k = 0; k < study.norms_table.size(); ++k) {
    const BlockNorm& b = study.norms_table[k];
    blocks_csv += CsvNumber(b.sigma) + "," + std::to_string(b.repeat) + "," + b.block + "," +
                  b.kind + "," + std::to_string(b.layer) + "," + HessianPartName(b.part) + "," +
                  CsvNumber(b.norm) + "," + CsvNumber(b.standard_error) + "\n";
  }
  // norms.npy (σ, repeat, block, part): the table's order is repeat, σ, block × part.
  for (size_t k = 0; k < study.norms_table.size(); ++k) {
    const auto within = static_cast<Eigen::Index>(k) % (nb * 3);
    const auto point = static_cast<Eigen::Index>(k) / (nb * 3);  // r * S + i
    const Eigen::Index r = point / S, i = point % S;
    const size_t at = static_cast<size_t>(((i * R + r) * nb) * 3 + within);
    norms[at] = study.norms_table[k].norm;
    errors[at] = study.norms_table[k].standard_error;
  }
  nlohmann::json slopes = nlohmann::json::array();
  for (const SlopeFit& s : study.slopes) {
    slopes.push_back({{"block", s.block},
                      {"kind", s.kind},
                      {"layer", s.layer},
                      {"part", HessianPartName(s.part)},
                      {"zero", s.zero},
                      {"mean", s.zero ? nlohmann::json() : nlohmann::json(s.mean)},
                      {"spread", s.spread},
                      {"standard_error", s.standard_error},
                      {"predicted", NumberOrNull(s.predicted)},
                      {"slopes", VectorJson(s.slopes)},
                      {"slope_errors", VectorJson(s.slope_errors)},
                      {"fit_residuals", VectorJson(s.fit_residuals)},
                      {"local_sigmas", VectorJson(s.local_sigmas)},
                      {"local_slopes", VectorJson(s.local_slopes)}});
  }
  nlohmann::json slopes_json = {{"model", c.model},
                                {"fit_range", {study.fit_lo, study.fit_hi}},
                                {"fit_points", study.fit_count},
                                {"repeats", R},
                                {"norms", NormMethodName(study.norms)},
                                {"blocks", slopes},
                                {"provenance", run.Json()}};
  std::vector<std::string> block_names;
  for (Eigen::Index b = 0; b < nb; ++b)
    block_names.push_back(study.slopes[static_cast<size_t>(3 * b)].block);
  summary["norms_axes"] = {{"shape", {S, R, nb, 3}},
                           {"axes", {"sigma", "repeat", "block", "part"}},
                           {"blocks", block_names},
                           {"parts", {"outer", "functional", "full"}}};
  summary["fit_range"] = {study.fit_lo, study.fit_hi};
  summary["growth_seconds"] = study.seconds;
  summary["lanczos"] = spectrum_summary;
  nlohmann::json brief = nlohmann::json::object();
  for (const SlopeFit& s : study.slopes) {
    brief[s.block + "." + HessianPartName(s.part)] = {
        {"mean", s.zero ? nlohmann::json() : nlohmann::json(s.mean)},
        {"standard_error", s.standard_error},
        {"predicted", NumberOrNull(s.predicted)}};
  }
  summary["slopes"] = brief;
  std::vector<std::string> files = {"blocks.csv", "norms.npy",   "norm_errors.npy",
                                    "sigmas.npy", "slopes.json", "summary.json"};
  for (const auto& [name, m] : dense) files.push_back(name);
  if (c.spectrum > 0) {
    files.push_back("spectrum.csv");
    files.push_back("density.csv");
  }
  summary["files"] = files;
  summary["provenance"] = run.Json();

  // The whole folder or nothing (data/result_folder.h): files are staged and
  // renamed into place together; a previous run's other files are removed.
  ResultFolder folder(c.output,
                      {"blocks.csv", "norms.npy", "norm_errors.npy", "sigmas.npy", "slopes.json",
                       "summary.json", "hessian*.npy", "spectrum.csv", "density.csv"});
  const auto path = [&](const std::string& file) { return folder.Path(file); };
  WriteFileAtomically(path("blocks.csv"), blocks_csv);
  WriteNpy(path("norms.npy"), {S, R, nb, 3}, norms.data());
  WriteNpy(path("norm_errors.npy"), {S, R, nb, 3}, errors.data());
  WriteNpy(path("sigmas.npy"), {S}, study.sigmas.data());
  WriteFileAtomically(path("slopes.json"), slopes_json.dump(2) + "\n");
  for (const auto& [name, m] : dense) WriteNpy(path(name), m);
  if (c.spectrum > 0) {
    WriteFileAtomically(path("spectrum.csv"), run.CsvComment() + spectrum_csv);
    WriteFileAtomically(path("density.csv"), run.CsvComment() + density_csv);
  }
  folder.CommitWithIndex("summary.json", summary.dump(2) + "\n");

  PrintWritten(g.json, summary, study.BriefReport(), c.output, files);
  return 0;
}

}  // namespace

void RegisterHessian(CLI::App& app, GlobalOptions& global, Command* run) {
  auto* cmd = app.add_subcommand(
      "hessian",
      "Loss Hessian of self-attention (single layer or a trained network): blocks, growth "
      "exponents in the input scale, spectra");
  auto o = std::make_shared<CliOptions>();
  cmd->add_option("--config,-c", o->config, "TOML file ([hessian], [output]; docs/config.md)");
  auto add = [&](const std::string& name, auto& field, const std::string& help) {
    o->given.Add(cmd, name, field, help);
  };
  HessianConfig& f = o->flags;
  add("model", f.model, "single_layer or trained_network");
  add("data", f.data, "addition, gaussian or npy (single layer)");
  add("x", f.x, "Inputs: B x m x D (npy data) or P x n_tok x N0 (trained network)");
  add("y", f.y, "Targets: B x m x D (npy data) or P labels (trained network)");
  add("network", f.network, "Folder written by attnpaths train (trained_network)");
  add("tokens", f.task.tokens, "m, tokens per sequence");
  add("features", f.task.features, "D, features per token");
  add("key-dim", f.key_dim, "k, key/query width");
  add("batch", f.task.sequences, "B, sequences per Hessian");
  add("attention", f.attention, "softmax or linear");
  o->given.Remember("causal",
                    cmd->add_flag("--causal", f.causal, "Causal mask (query i reads keys <= i)"));
  add("sigma-from", f.sigma_from, "Smallest input scale");
  add("sigma-to", f.sigma_to, "Largest input scale");
  add("sigma-points", f.sigma_points, "Log-spaced scales");
  add("fit-points", f.growth.fit_points, "Slopes over the lowest points");
  add("repeats", f.growth.repeats, "Independent repeats");
  o->norms = NormMethodName(f.growth.norms);
  add("norms", o->norms, "exact or hutchinson");
  add("probes", f.growth.hutchinson.probes, "Hutchinson probes");
  add("spectrum", f.spectrum, "Top and bottom eigenvalues by Lanczos (0: none)");
  add("loss", f.loss, "Trained network: squared or logistic");
  add("weight-decay", f.weight_decay, "Trained network: wd of (wd/2)|theta|^2");
  add("seed", f.seed, "Seed of data, weights and probes");
  o->given.Remember("output", cmd->add_option("--output,-o", f.output,
                                              "Output directory (default attnpaths-hessian)"));
  AddRunFlags(cmd, global, "Print summary.json on stdout",
              "Threads for the trained network's gradients");
  cmd->callback([o, &global, run] { *run = [o, &global] { return RunHessian(*o, global); }; });
}

}  // namespace attnpaths::cli
