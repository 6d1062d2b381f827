// attnpaths shaped-sde --config shaped.toml — the shaped-attention covariance
// SDE (Euler–Maruyama, many seeded paths, exploding paths capped and counted)
// beside finite networks at several widths at the same depth/width ratio, and
// the standard-softmax baseline (docs/signal-propagation.md, Part I).
// --stability-map adds the exploded fraction over a (γ, τ0) grid at Δt and
// 2Δt; --one-layer n adds the one-layer moments of the block at width n
// against the SDE's drift and diffusion. Every file is written atomically;
// --json prints summary.json.
#include <chrono>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "cli/propagation_config.h"
#include "cli/report.h"
#include "cli/run_provenance.h"
#include "cli/study_run.h"
#include "data/atomic_file.h"
#include "data/npy.h"
#include "data/result_folder.h"
#include "kernels/error.h"
#include "propagation/shaped_moments.h"

namespace attnpaths::cli {

namespace {

struct ShapedSdeCliOptions {
  std::string config, output;
  std::vector<double> stability_gammas, stability_taus;
  Eigen::Index stability_paths = 1000;
  Eigen::Index one_layer = 0;
  int one_layer_samples = 40000;
};

double Seconds(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

nlohmann::json MatrixJson(const Eigen::MatrixXd& m) {
  nlohmann::json rows = nlohmann::json::array();
  for (Eigen::Index i = 0; i < m.rows(); ++i) {
    nlohmann::json r = nlohmann::json::array();
    for (Eigen::Index j = 0; j < m.cols(); ++j) r.push_back(JsonNumber(m(i, j)));
    rows.push_back(r);
  }
  return rows;
}

nlohmann::json SourceJson(const ShapedPaths& p) {
  return {{"paths", p.paths},
          {"steps", p.steps},
          {"step_time", p.step_time},
          {"exploded_fraction", p.exploded_fraction()},
          {"exploded_fraction_se", p.exploded_fraction_se()},
          {"median_explosion_time", JsonNumber(p.median_explosion_time())},
          {"negative_eigenvalue_events", p.total_negative_eigenvalue_events()},
          {"seconds", p.seconds}};
}

int RunShapedSde(const ShapedSdeCliOptions& cli, const GlobalOptions& g) {
  const auto t0 = std::chrono::steady_clock::now();
  ShapedSdeConfig c;
  ReadShapedSdeConfig(cli.config, &c);
  if (!cli.output.empty()) c.output_directory = cli.output;
  const std::string file = cli.config + ": shaped_sde.";
  // Validate everything before the first path.
  ShapedSdeOptions sde;
  sde.model = c.model;
  sde.V0 = c.V0;
  sde.depth_to_width = c.depth_to_width;
  sde.dt = c.dt;
  sde.paths = c.paths;
  sde.cap = c.cap;
  sde.seed = c.seed;
  sde.grid_points = c.grid_points;
  sde.entries = c.entries;
  sde.threads = g.threads;
  std::string error;
  if (!sde.IsValid(&error)) throw Error(file + error);
  std::vector<ShapedNetworkOptions> nets;
  for (size_t w = 0; w < c.widths.size(); ++w) {
    for (size_t a = 0; a < c.attention.size(); ++a) {
      ShapedNetworkOptions o;
      o.model = c.model;
      o.attention = c.attention[a];
      o.V0 = c.V0;
      o.depth_to_width = c.depth_to_width;
      o.width = c.widths[w];
      o.key_dim = c.key_dim;
      o.sampler = c.sampler;
      o.samples = c.samples.size() == 1 ? c.samples[0] : c.samples[w];
      o.cap = c.cap;
      o.seed = c.seed;
      o.stream = (a == 0 ? 100 : 200) + w;
      o.grid_points = c.grid_points;
      o.entries = c.entries;
      o.threads = g.threads;
      if (!o.IsValid(&error)) throw Error(file + error);
      nets.push_back(o);
    }
  }
  Require(cli.stability_gammas.empty() == cli.stability_taus.empty(), "--stability-map", "one list",
          "two lists: gammas and tau0s");
  Require(cli.stability_paths >= 1, "--stability-paths", cli.stability_paths, "at least 1 path");
  OneLayerMomentsOptions mo;
  if (cli.one_layer > 0) {
    mo.model = c.model;
    mo.V0 = c.V0;
    mo.width = cli.one_layer;
    mo.key_dim = c.key_dim;
    mo.drift_samples = cli.one_layer_samples;
    mo.diffusion_samples = cli.one_layer_samples;
    mo.seed = c.seed;
    mo.threads = g.threads;
    if (!mo.IsValid(&error)) throw Error("--one-layer: " + error);
  }
  const std::string& out = c.output_directory;
  CheckOutputDirectory(out, "output directory");

  ThrottledProgress progress(g.quiet);
  auto report = [&](const ShapedPathsProgress& r) {
    progress.Report("shaped-sde: " + r.source + " " + std::to_string(r.paths_done) + "/" +
                        std::to_string(r.paths_total) + " paths",
                    Seconds(t0), false);
  };
  sde.progress = report;
  std::vector<ShapedPaths> sources;
  sources.push_back(IntegrateShapedSde(sde));
  if (c.sde_no_attention) {
    ShapedSdeOptions lin = sde;
    lin.model.tau0 = std::numeric_limits<double>::infinity();
    lin.source = "sde_no_attention";
    lin.stream = 1;
    sources.push_back(IntegrateShapedSde(lin));
  }
  nlohmann::json weak = nullptr;
  if (c.check_dt) {
    ShapedSdeOptions half = sde;
    half.dt = c.dt / 2;
    half.source = "sde_half_dt";
    half.stream = 2;
    sources.push_back(IntegrateShapedSde(half));
  }
  for (ShapedNetworkOptions& o : nets) {
    o.progress = report;
    sources.push_back(SimulateShapedNetworks(o));
  }
  // The stability map: exploded fraction at t_f over (γ, τ0), at Δt and 2Δt.
  std::string stability;
  if (!cli.stability_gammas.empty()) {
    stability =
        "gamma,tau0,dt,paths,exploded_fraction,exploded_fraction_se,median_explosion_time\n";
    for (double gamma : cli.stability_gammas) {
      for (double tau0 : cli.stability_taus) {
        for (double dt : {c.dt, 2 * c.dt}) {
          ShapedSdeOptions s = sde;
          s.model.gamma = gamma;
          s.model.tau0 = tau0;
          s.dt = dt;
          s.paths = cli.stability_paths;
          s.stream = 3;
          s.source = "stability";
          s.grid_points = 2;
          if (!s.IsValid(&error)) throw Error("--stability-map: " + error);
          const ShapedPaths p = IntegrateShapedSde(s);
          stability +=
              CsvNumber(gamma) + "," + (std::isinf(tau0) ? std::string("inf") : CsvNumber(tau0)) +
              "," + CsvNumber(dt) + "," + std::to_string(p.paths) + "," +
              CsvNumber(p.exploded_fraction()) + "," + CsvNumber(p.exploded_fraction_se()) + "," +
              CsvNumber(p.median_explosion_time()) + "\n";
          progress.Report(
              "shaped-sde: stability map gamma " + CsvNumber(gamma) + " tau0 " + CsvNumber(tau0),
              Seconds(t0), false);
        }
      }
    }
  }
  OneLayerMoments moments;
  if (cli.one_layer > 0) {
    ProgressLine("shaped-sde: one-layer moments at n = " + std::to_string(cli.one_layer), g.quiet);
    moments = MeasureOneLayerMoments(mo);
  }
  ProgressLine("", g.quiet);

  nlohmann::json options = {{"tokens", c.V0.rows()},
                            {"V0", MatrixJson(c.V0)},
                            {"gamma", c.model.gamma},
                            {"tau0", JsonNumber(c.model.tau0)},
                            {"depth_to_width", c.depth_to_width},
                            {"dt", c.dt},
                            {"paths", c.paths},
                            {"cap", c.cap},
                            {"seed", c.seed},
                            {"grid_points", c.grid_points},
                            {"mlp", c.model.mlp},
                            {"mlp_gamma", c.model.mlp_gamma},
                            {"c_plus", c.model.c_plus},
                            {"c_minus", c.model.c_minus},
                            {"widths", c.widths},
                            {"samples", c.samples},
                            {"key_dim", c.key_dim},
                            {"sampler", ShapedSamplerName(c.sampler)}};
  nlohmann::json att = nlohmann::json::array();
  for (ShapedAttention a : c.attention) att.push_back(ShapedAttentionName(a));
  options["attention"] = att;
  options["exploded_in_quantiles"] = ExplodedInQuantilesName(c.exploded_in_quantiles);
  options["sde_no_attention"] = c.sde_no_attention;
  options["check_dt"] = c.check_dt;
  options["entries"] = c.entries;
  if (!cli.stability_gammas.empty()) {
    options["stability_map"] = {{"gamma", cli.stability_gammas},
                                {"tau0", cli.stability_taus},
                                {"paths", cli.stability_paths}};
  }
  if (cli.one_layer > 0) {
    options["one_layer"] = {{"width", cli.one_layer}, {"samples", cli.one_layer_samples}};
  }
  Provenance run = CommandProvenance(g, cli.config);
  run.Set("shaped_sde", options);
  run.Set("seed", c.seed);
  run.Set("threads", g.threads);

  // Files: the whole folder or nothing (data/result_folder.h).
  ResultFolder folder(out, {"V_T_*.npy", "exploded_*.npy", "explosion_time_*.npy", "quantiles.csv",
                            "stability.csv", "moments.json", "summary.json"});
  const auto path = [&](const std::string& f) { return folder.Path(f); };
  std::vector<std::string> files;
  const Eigen::Index m = c.V0.rows();
  std::string q =
      run.CsvComment() +
      "source,t,quantity,n_used,exploded_fraction,q05,q25,q50,q75,q95,se05,se25,se50,se75,se95\n";
  nlohmann::json js = nlohmann::json::object();
  for (const ShapedPaths& p : sources) {
    for (const QuantileRow& r : QuantileTable(p, c.exploded_in_quantiles)) {
      q += r.source + "," + CsvNumber(r.t) + "," + r.quantity + "," + std::to_string(r.n_used) +
           "," + CsvNumber(r.exploded_fraction);
      for (const QuantileEstimate& e : r.q)
        q += "," + (std::isinf(e.value) ? "inf" : CsvNumber(e.value));
      for (const QuantileEstimate& e : r.q) q += "," + (std::isinf(e.se) ? "inf" : CsvNumber(e.se));
      q += "\n";
    }
    // V_T_<source>.npy (paths, m, m), exploded_<source>.npy, explosion_time_<source>.npy.
    std::vector<double> v(static_cast<size_t>(p.paths * m * m));
    for (Eigen::Index k = 0; k < p.paths; ++k) {
      for (Eigen::Index i = 0; i < m; ++i) {
        for (Eigen::Index j = 0; j < m; ++j) {
          v[static_cast<size_t>((k * m + i) * m + j)] = p.final_V(k, i + m * j);
        }
      }
    }
    WriteNpy(path("V_T_" + p.source + ".npy"), {p.paths, m, m}, v.data());
    std::vector<double> e(p.exploded.begin(), p.exploded.end());
    WriteNpy(path("exploded_" + p.source + ".npy"), {p.paths}, e.data());
    WriteNpy(path("explosion_time_" + p.source + ".npy"), {p.paths}, p.explosion_time.data());
    files.push_back("V_T_" + p.source + ".npy");
    files.push_back("exploded_" + p.source + ".npy");
    files.push_back("explosion_time_" + p.source + ".npy");
    nlohmann::json sj = SourceJson(p);
    if (p.source != "sde") {
      nlohmann::json ks = nlohmann::json::object();
      for (const KsRow& r : CompareFinal(p, sources[0])) {
        ks[r.quantity] = {{"distance", JsonNumber(r.ks.distance)},
                          {"p_value", JsonNumber(r.ks.p_value)}};
      }
      sj["ks_vs_sde"] = ks;
    }
    js[p.source] = sj;
  }
  WriteFileAtomically(path("quantiles.csv"), q);
  files.push_back("quantiles.csv");
  if (!stability.empty()) {
    WriteFileAtomically(path("stability.csv"), run.CsvComment() + stability);
    files.push_back("stability.csv");
  }
  if (cli.one_layer > 0) {
    nlohmann::json mj = {{"width", cli.one_layer},
                         {"key_dim", c.key_dim},
                         {"samples", cli.one_layer_samples},
                         {"drift_sde", MatrixJson(moments.drift)},
                         {"drift_network", MatrixJson(moments.drift_mc)},
                         {"drift_network_se", MatrixJson(moments.drift_se)},
                         {"diffusion_sde", MatrixJson(moments.diffusion)},
                         {"diffusion_network", MatrixJson(moments.diffusion_mc)},
                         {"diffusion_network_se", MatrixJson(moments.diffusion_se)},
                         {"diffusion_index", "row/column a + m*b for the entry V_ab"},
                         {"seconds", moments.seconds},
                         {"provenance", run.Json()}};
    WriteFileAtomically(path("moments.json"), mj.dump(2) + "\n");
    files.push_back("moments.json");
  }

  nlohmann::json j;
  j["command"] = "shaped-sde";
  j["config"] = cli.config;
  j["options"] = options;
  j["conventions"] = {
      {"tau0", "Cov(S_ab, S_cd) = V_ac V_bd / (tau0^2 n), unit weight variances (eq. I.4)"},
      {"exploded_in_quantiles", ExplodedInQuantilesName(c.exploded_in_quantiles)},
      {"quantile_se", "half the order-statistic interval x_(Nq +- sqrt(Nq(1-q)))"},
      {"mlp_normalisation", "kappa = sqrt(2 / (s_+^2 + s_-^2))"},
      {"network_layers", "d = round(n t_f)"},
      {"ks", "exploded paths excluded from both samples; asymptotic p-value"}};
  j["sources"] = js;
  j["seconds"] = Seconds(t0);
  files.push_back("summary.json");
  j["files"] = files;
  j["provenance"] = run.Json();
  folder.CommitWithIndex("summary.json", j.dump(2) + "\n");

  if (g.json) {
    std::cout << j.dump(2) << std::endl;
  } else {
    std::printf("%-20s %7s %8s %10s %10s %10s %10s\n", "source", "paths", "steps", "exploded",
                "median V00", "median rho01", "KS p V00");
    for (const ShapedPaths& p : sources) {
      const double v00 =
          SampleQuantile(FinalValues(p, {0, 0, false}, c.exploded_in_quantiles), 0.5).value;
      const double rho =
          m > 1 ? SampleQuantile(FinalValues(p, {0, 1, true}, ExplodedInQuantiles::kExclude), 0.5)
                      .value
                : NAN;
      double ks = NAN;
      if (p.source != "sde") ks = CompareFinal(p, sources[0])[0].ks.p_value;
      std::printf("%-20s %7ld %8ld %10.4f %10.4f %10.4f %10.3g\n", p.source.c_str(),
                  static_cast<long>(p.paths), static_cast<long>(p.steps), p.exploded_fraction(),
                  v00, rho, ks);
    }
    std::cout << "wrote " << out << "/summary.json, quantiles.csv, V_T_<source>.npy, ...\n";
  }
  return 0;
}

}  // namespace

void RegisterShapedSde(CLI::App& app, GlobalOptions& global, Command* run) {
  auto* cmd = app.add_subcommand(
      "shaped-sde",
      "The shaped-attention covariance SDE beside finite networks at several widths "
      "(docs/signal-propagation.md)");
  auto o = std::make_shared<ShapedSdeCliOptions>();
  cmd->add_option("--config,-c", o->config,
                  "TOML file ([shaped_sde], [shaped_sde.mlp], [shaped_sde.networks], [output])")
      ->required();
  cmd->add_option("--output,-o", o->output, "Output directory (default: [output] directory)");
  auto* g = cmd->add_option("--stability-map", o->stability_gammas,
                            "gamma values of the stability map (with --stability-tau0)");
  auto* t = cmd->add_option("--stability-tau0", o->stability_taus,
                            "tau0 values of the stability map (with --stability-map)");
  g->needs(t);
  t->needs(g);
  cmd->add_option("--stability-paths", o->stability_paths,
                  "SDE paths per point of the stability map")
      ->capture_default_str();
  cmd->add_option("--one-layer", o->one_layer,
                  "Also measure the one-layer moments n E[dV], n Cov(dV) at this width");
  cmd->add_option("--one-layer-samples", o->one_layer_samples, "Samples of the one-layer moments")
      ->capture_default_str();
  AddRunFlags(cmd, global, "Print summary.json on stdout", "Threads over paths");
  cmd->callback([o, &global, run] { *run = [o, &global] { return RunShapedSde(*o, global); }; });
}

}  // namespace attnpaths::cli
