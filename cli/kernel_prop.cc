// attnpaths kernel-prop --config kp.toml — the token kernel of a deep
// transformer without shortcuts at initialisation, layer by layer at infinite
// width (uniform, Value-SkipInit, shaped, U-SPA, E-SPA attention; TAT MLPs),
// its rank diagnostics, and a finite-width Monte Carlo beside it
// (docs/signal-propagation.md, Part II).
// attnpaths kernel-prop --study run.toml — the same diagnostics for the
// path-resolved token kernels of an attnpaths study's heads.
// Every file is written atomically; --json prints summary.json.
#include <chrono>
#include <filesystem>
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "cli/propagation_config.h"
#include "cli/report.h"
#include "cli/run_provenance.h"
#include "cli/study_run.h"
#include "data/atomic_file.h"
#include "data/config.h"
#include "data/npy.h"
#include "data/result_folder.h"
#include "kernels/error.h"
#include "propagation/token_kernel.h"

namespace attnpaths::cli {

namespace {

struct KernelPropCliOptions {
  std::string config, study, output;
  Eigen::Index examples = 16;
};

double Seconds(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

nlohmann::json MetricsJson(const KernelMetrics& k) {
  return {{"mean_correlation", JsonNumber(k.mean_correlation)},
          {"min_correlation", JsonNumber(k.min_correlation)},
          {"max_correlation", JsonNumber(k.max_correlation)},
          {"effective_rank", JsonNumber(k.effective_rank)},
          {"rank_one_distance", JsonNumber(k.rank_one_distance)},
          {"min_eigenvalue", JsonNumber(k.min_eigenvalue)},
          {"condition_number", JsonNumber(k.condition_number)},
          {"trace", JsonNumber(k.trace)}};
}

const char* kMetricsHeader =
    "mean_correlation,min_correlation,max_correlation,effective_rank,rank_one_distance,"
    "min_eigenvalue,condition_number,trace";

std::string MetricsCsv(const KernelMetrics& k) {
  return CsvNumber(k.mean_correlation) + "," + CsvNumber(k.min_correlation) + "," +
         CsvNumber(k.max_correlation) + "," + CsvNumber(k.effective_rank) + "," +
         CsvNumber(k.rank_one_distance) + "," + CsvNumber(k.min_eigenvalue) + "," +
         CsvNumber(k.condition_number) + "," + CsvNumber(k.trace);
}

int RunRecursion(const KernelPropCliOptions& cli, const GlobalOptions& g) {
  const auto t0 = std::chrono::steady_clock::now();
  KernelPropConfig c;
  ReadKernelPropConfig(cli.config, &c);
  if (!cli.output.empty()) c.output_directory = cli.output;
  if (c.input_kernel != "identity") {
    c.options.input_kernel = LoadInputKernel(c.input_kernel, c.input_variance,
                                             cli.config + ": kernel_prop.input_kernel");
    if (!c.tokens_given) c.options.tokens = c.options.input_kernel.rows();
  }
  std::string error;
  if (!c.options.IsValid(&error)) throw Error(cli.config + ": kernel_prop." + error);
  c.fw.threads = g.threads;
  if (c.finite_width && !c.fw.IsValid(c.options.tokens, &error)) {
    throw Error(cli.config + ": kernel_prop." + error);
  }
  const std::string& out = c.output_directory;
  CheckOutputDirectory(out, "output directory");

  ProgressLine("kernel-prop: recursion", g.quiet);
  KernelPropagation p;
  try {
    p = PropagateKernel(c.options);
  } catch (const Error& e) {  // e.g. a TAT target out of reach: name the file
    throw Error(cli.config + ": kernel_prop." + e.what());
  }
  FiniteWidthStudy fw;
  if (c.finite_width) {
    ThrottledProgress progress(g.quiet);
    c.fw.progress = [&](const FiniteWidthProgress& r) {
      progress.Report("kernel-prop: finite width d = " + std::to_string(r.width) + ", network " +
                          std::to_string(r.draws_done) + "/" + std::to_string(r.draws_total),
                      r.seconds, r.draws_done == r.draws_total);
    };
    fw = SimulateFiniteWidth(c.options, p, c.fw);
  }
  ProgressLine("", g.quiet);

  const KernelPropOptions& o = c.options;
  const KernelPropSummary& s = p.summary;
  nlohmann::json options = {{"tokens", o.tokens},
                            {"depth", o.depth},
                            {"causal", o.causal},
                            {"method", AttentionMethodName(o.method)},
                            {"gamma_final", o.gamma_final},
                            {"rho_final", o.rho_final},
                            {"mlp", MlpKindName(o.mlp)},
                            {"tat_eta", o.tat_eta},
                            {"activations_per_block", o.activations_per_block},
                            {"closed_form", o.closed_form},
                            {"negative_attention", NegativeAttentionName(o.negative_attention)},
                            {"clamp_epsilon", o.clamp_epsilon},
                            {"input_kernel", c.input_kernel},
                            {"input_variance", c.input_variance}};
  if (c.finite_width) {
    options["finite_width"] = {{"widths", c.fw.widths},
                               {"values", ValueWeightsName(c.fw.values)},
                               {"draws", c.fw.draws},
                               {"seed", c.fw.seed}};
  }
  Provenance run = CommandProvenance(g, cli.config);
  run.Set("kernel_prop", options);
  if (c.finite_width) run.Set("seed", c.fw.seed);
  if (c.input_kernel != "identity") run.Set("input_kernel", InputFileRecord(c.input_kernel));
  run.Set("threads", g.threads);

  // Files: the whole folder or nothing (data/result_folder.h).
  ResultFolder folder(
      out, {"kernels.npy", "targets.npy", "attention.npy", "bias.npy", "D.npy", "metrics.csv",
            "finite_width.csv", "finite_width_kernels.npy", "finite_width_correlations.npy",
            "study_diagnostics.csv", "summary.json"});
  const auto path = [&](const std::string& f) { return folder.Path(f); };
  const int L = c.options.depth;
  const Eigen::Index m = c.options.tokens;
  std::vector<std::string> files;
  auto stack = [&](const std::string& name, const std::vector<Eigen::MatrixXd>& v) {
    WriteMatrixStack(path(name), v);
    files.push_back(name);
  };
  stack("kernels.npy", p.kernels);
  if (!p.targets.empty()) stack("targets.npy", p.targets);
  std::vector<Eigen::MatrixXd> A, bias;
  std::vector<Eigen::VectorXd> D;
  for (const AttentionDecomposition& a : p.attention) {
    A.push_back(a.A);
    bias.push_back(a.bias);
    D.push_back(a.D);
  }
  stack("attention.npy", A);
  stack("bias.npy", bias);
  WriteVectorStack(path("D.npy"), D);
  files.push_back("D.npy");

  std::string csv = run.CsvComment() + "layer," + kMetricsHeader +
                    ",target_error,construction_error,min_attention_entry,clamped\n";
  for (int l = 0; l <= L; ++l) {
    const size_t k = static_cast<size_t>(l);
    csv += std::to_string(l) + "," + MetricsCsv(p.metrics[k]) + "," + CsvNumber(p.target_error[k]);
    if (l == 0) {
      csv += ",,,\n";
    } else {
      const AttentionDecomposition& a = p.attention[k - 1];
      csv += "," + CsvNumber(p.construction_error[k - 1]) + "," + CsvNumber(a.min_entry) + "," +
             std::to_string(a.clamped) + "\n";
    }
  }
  WriteFileAtomically(path("metrics.csv"), csv);
  files.push_back("metrics.csv");

  nlohmann::json fwj = nullptr;
  if (c.finite_width) {
    std::string f =
        run.CsvComment() +
        "width,layer,mean_correlation,mean_correlation_se,min_correlation,min_correlation_se,"
        "effective_rank,effective_rank_se,rank_one_distance,rank_one_distance_se,min_eigenvalue,"
        "min_eigenvalue_se,max_correlation_deviation,max_correlation_deviation_se,"
        "trace_ratio_minus_one,trace_ratio_minus_one_se\n";
    std::vector<Eigen::MatrixXd> kernels, correlations;
    fwj = nlohmann::json::array();
    for (const FiniteWidthRun& run : fw.widths) {
      for (int l = 0; l <= L; ++l) {
        const FiniteWidthLayer& r = run.layers[static_cast<size_t>(l)];
        f += std::to_string(run.width) + "," + std::to_string(l);
        for (const MeanSe& v :
             {r.mean_correlation, r.min_correlation, r.effective_rank, r.rank_one_distance,
              r.min_eigenvalue, r.max_correlation_deviation, r.trace_ratio_minus_one}) {
          f += "," + CsvNumber(v.mean) + "," + CsvNumber(v.se);
        }
        f += "\n";
      }
      kernels.insert(kernels.end(), run.mean_kernels.begin(), run.mean_kernels.end());
      correlations.insert(correlations.end(), run.mean_correlations.begin(),
                          run.mean_correlations.end());
      const FiniteWidthLayer& last = run.layers.back();
      fwj.push_back({{"width", run.width},
                     {"seconds", run.seconds},
                     {"mean_correlation", JsonNumber(last.mean_correlation.mean)},
                     {"mean_correlation_se", JsonNumber(last.mean_correlation.se)},
                     {"max_correlation_deviation", JsonNumber(last.max_correlation_deviation.mean)},
                     {"trace_ratio_minus_one", JsonNumber(last.trace_ratio_minus_one.mean)},
                     {"trace_ratio_minus_one_se", JsonNumber(last.trace_ratio_minus_one.se)}});
    }
    WriteFileAtomically(path("finite_width.csv"), f);
    files.push_back("finite_width.csv");
    // (widths, L+1, m, m): the mean over draws of Σ_ℓ and of its correlation matrix.
    const std::vector<int64_t> shape{static_cast<int64_t>(fw.widths.size()), L + 1, m, m};
    auto write4 = [&](const std::string& name, const std::vector<Eigen::MatrixXd>& v) {
      std::vector<double> data;
      for (const Eigen::MatrixXd& x : v) {
        for (Eigen::Index i = 0; i < m; ++i) {
          for (Eigen::Index j = 0; j < m; ++j) data.push_back(x(i, j));
        }
      }
      WriteNpy(path(name), shape, data.data());
      files.push_back(name);
    };
    write4("finite_width_kernels.npy", kernels);
    write4("finite_width_correlations.npy", correlations);
  }

  nlohmann::json j;
  j["command"] = "kernel-prop";
  j["config"] = cli.config;
  j["options"] = options;
  j["open_choices"] = {
      {"espa_schedule", "1 - exp(-2 gamma_l) = (1 - exp(-2 gamma_L))^(l/L) (log det linear in l)"},
      {"uspa_schedule", "1 - rho_l = (1 - rho_L)^(l/L)"},
      {"tat_activations_per_block", o.activations_per_block},
      {"spa_targets", "attention-only schedule, not compensated for MLP blocks"},
      {"negative_attention", NegativeAttentionName(o.negative_attention)},
      {"orthogonal_values", "one Haar matrix per layer (the law of W^V W^P)"}};
  j["tat_alpha"] = JsonNumber(s.tat_alpha);
  j["activations"] = s.activations;
  nlohmann::json sched = nlohmann::json::array();
  for (double v : s.schedule) sched.push_back(JsonNumber(v));  // γ_0 = ∞ → null
  j[o.method == AttentionMethod::kESpa ? "gamma_schedule" : "rho_schedule"] = sched;
  j["clamped_entries"] = s.clamped_entries;
  j["max_construction_error"] = s.max_construction_error;
  j["warnings"] = s.warnings;
  j["final"] = MetricsJson(p.metrics.back());
  j["final"]["target_error"] = JsonNumber(p.target_error.back());
  j["finite_width"] = fwj;
  j["seconds"] = {{"recursion", s.seconds},
                  {"finite_width", c.finite_width ? fw.seconds : 0.0},
                  {"total", Seconds(t0)}};
  j["tokens_as"] = "rows: attention[l][i, j] is the weight of query i on key j (Omega = A^T)";
  files.push_back("summary.json");
  j["files"] = files;
  j["provenance"] = run.Json();
  folder.CommitWithIndex("summary.json", j.dump(2) + "\n");

  for (const std::string& w : s.warnings) {
    if (!g.quiet) std::cerr << "warning: " << w << "\n";
  }
  if (g.json) {
    std::cout << j.dump(2) << std::endl;
  } else {
    std::cout << s.FullReport();
    std::printf("%6s %10s %10s %10s %10s\n", "layer", "mean_rho", "min_rho", "eff_rank", "min_eig");
    for (int l = 0; l <= L; ++l) {
      const KernelMetrics& k = p.metrics[static_cast<size_t>(l)];
      std::printf("%6d %10.5f %10.5f %10.4f %10.3g\n", l, k.mean_correlation, k.min_correlation,
                  k.effective_rank, k.min_eigenvalue);
    }
    for (const FiniteWidthRun& run : fw.widths) {
      const MeanSe& mc = run.layers.back().mean_correlation;
      std::printf("finite width d = %ld: mean_rho at layer %d = %.5f +- %.5f (%d networks)\n",
                  static_cast<long>(run.width), L, mc.mean, mc.se, c.fw.draws);
    }
    std::cout << "wrote " << out << "/summary.json, metrics.csv, kernels.npy, attention.npy, ...\n";
  }
  return 0;
}

int RunStudy(const KernelPropCliOptions& cli, const GlobalOptions& g) {
  const auto t0 = std::chrono::steady_clock::now();
  const Study study = LoadStudy(cli.study);
  const std::string out = cli.output.empty() ? study.output_directory : cli.output;
  Require(cli.examples >= 1, "--examples", cli.examples, "at least 1 example");
  CheckOutputDirectory(out, "output directory");
  ProgressLine("kernel-prop: path token kernels of the study's heads", g.quiet);
  const std::vector<PathTokenDiagnostic> d =
      PathTokenDiagnostics(study.architecture, study.train.x, Split::kTrain, cli.examples);
  ProgressLine("", g.quiet);
  ResultFolder folder(
      out, {"kernels.npy", "targets.npy", "attention.npy", "bias.npy", "D.npy", "metrics.csv",
            "finite_width.csv", "finite_width_kernels.npy", "finite_width_correlations.npy",
            "study_diagnostics.csv", "summary.json"});
  const auto path = [&](const std::string& f) { return folder.Path(f); };
  Provenance run = CommandProvenance(g, cli.study);
  RecordStudy(study, g, &run);
  run.Set("examples", cli.examples);
  std::string csv = run.CsvComment() + "example,path,label,layer," + kMetricsHeader + "\n";
  for (const PathTokenDiagnostic& r : d) {
    csv += std::to_string(r.example) + "," + std::to_string(r.path) + "," + r.label + "," +
           std::to_string(r.layer) + "," + MetricsCsv(r.metrics) + "\n";
  }
  WriteFileAtomically(path("study_diagnostics.csv"), csv);
  // Means over the examples, per (path, layer).
  const int L = study.architecture.L();
  const Eigen::Index Htot = study.architecture.Htot();
  nlohmann::json rows = nlohmann::json::array();
  for (Eigen::Index p = 0; p < Htot; ++p) {
    for (int l = 0; l < L; ++l) {
      double mc = 0, er = 0, r1 = 0, n = 0;
      std::string label;
      for (const PathTokenDiagnostic& r : d) {
        if (r.path != p || r.layer != l) continue;
        mc += r.metrics.mean_correlation;
        er += r.metrics.effective_rank;
        r1 += r.metrics.rank_one_distance;
        n += 1;
        label = r.label;
      }
      rows.push_back({{"path", p},
                      {"label", label},
                      {"layer", l},
                      {"mean_correlation", JsonNumber(mc / n)},
                      {"effective_rank", JsonNumber(er / n)},
                      {"rank_one_distance", JsonNumber(r1 / n)}});
    }
  }
  nlohmann::json j;
  j["command"] = "kernel-prop --study";
  j["study"] = cli.study;
  j["examples"] = std::min<Eigen::Index>(cli.examples, study.train.x.P());
  j["kernel"] =
      "Sigma^pi_l(x) = sigma_0^2 sigma_1^2...sigma_l^2 / N0 * W_l^T x^T x W_l, "
      "W_l = Omega^{1,h_1}...Omega^{l,h_l} (docs/signal-propagation.md)";
  j["paths"] = rows;
  j["seconds"] = Seconds(t0);
  j["files"] = {"study_diagnostics.csv", "summary.json"};
  j["provenance"] = run.Json();
  folder.CommitWithIndex("summary.json", j.dump(2) + "\n");
  if (g.json) {
    std::cout << j.dump(2) << std::endl;
  } else {
    std::printf("%-28s %6s %10s %10s %10s\n", "path", "layer", "mean_rho", "eff_rank",
                "rank1_dist");
    for (const auto& r : rows) {
      std::printf("%-28s %6d %10.5f %10.4f %10.4f\n", r["label"].get<std::string>().c_str(),
                  r["layer"].get<int>(),
                  r["mean_correlation"].is_null() ? NAN : r["mean_correlation"].get<double>(),
                  r["effective_rank"].is_null() ? NAN : r["effective_rank"].get<double>(),
                  r["rank_one_distance"].is_null() ? NAN : r["rank_one_distance"].get<double>());
    }
    std::cout << "wrote " << out << "/summary.json, study_diagnostics.csv\n";
  }
  return 0;
}

}  // namespace

void RegisterKernelProp(CLI::App& app, GlobalOptions& global, Command* run) {
  auto* cmd = app.add_subcommand(
      "kernel-prop",
      "Token-kernel propagation at initialisation: uniform, Value-SkipInit, shaped, U-SPA and "
      "E-SPA attention with TAT MLPs, infinite width and finite-width Monte Carlo "
      "(docs/signal-propagation.md)");
  auto o = std::make_shared<KernelPropCliOptions>();
  auto* config = cmd->add_option("--config,-c", o->config,
                                 "TOML file ([kernel_prop], [kernel_prop.finite_width], [output])");
  auto* study = cmd->add_option("--study", o->study,
                                "An attnpaths study (TOML): rank diagnostics of its path token "
                                "kernels instead of the recursion");
  config->excludes(study);
  cmd->add_option("--output,-o", o->output, "Output directory (default: [output] directory)");
  cmd->add_option("--examples", o->examples, "--study: training examples to diagnose")
      ->capture_default_str();
  AddRunFlags(cmd, global, "Print summary.json on stdout", "Threads for the finite-width networks");
  cmd->callback([o, &global, run] {
    *run = [o, &global] {
      Require(!o->config.empty() || !o->study.empty(), "kernel-prop",
              "neither --config nor --study", "one of them");
      return o->study.empty() ? RunRecursion(*o, global) : RunStudy(*o, global);
    };
  });
}

}  // namespace attnpaths::cli
