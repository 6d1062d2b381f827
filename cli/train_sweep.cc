// attnpaths train-sweep [--config s.toml] [flags] — the head-count study of
// gradient descent on multi-head attention (curvature/head_count_study.h,
// docs/attention-hessian.md Part E): one-layer networks trained by full-batch
// GD on the logistic loss over a tokenised mixture, for every head count at
// equal total width and at growing width, over repeats, with the Hessian's
// extreme eigenvalues along training and the NTK margin at initialisation
// (curvature/ntk_margin.h). Writes curves.csv, hessian.csv,
// runs.csv, groups.csv, summary.json and the mixture of repeat 0 as NPY,
// atomically, after the computation; progress goes to stderr.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "cli/report.h"
#include "cli/run_provenance.h"
#include "cli/study_run.h"
#include "cli/toml_table.h"
#include "curvature/head_count_study.h"
#include "data/atomic_file.h"
#include "data/npy.h"
#include "data/result_folder.h"
#include "kernels/error.h"
#include "parallel/cpu_budget.h"

namespace attnpaths::cli {

namespace {

std::string CsvNumber(double v) {
  if (!std::isfinite(v)) return "";
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

nlohmann::json NumberOrNull(double v) {
  return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json();
}

struct SweepConfig {
  HeadCountStudyOptions study;
  std::vector<std::string> modes{"equal_total", "growing"};
  std::string loss = "logistic", optimizer = "gd", trained = "all";
  std::string output = "attnpaths-train-sweep";
};

void ReadSweepConfig(const std::string& path, SweepConfig* c) {
  const TomlDocument doc(path, "attnpaths train-sweep");
  const TomlTable top = doc.Root();
  top.Allow({"mixture", "network", "training", "hessian", "margin", "output"});
  HeadCountStudyOptions& s = c->study;
  const TomlTable m = top.Sub("mixture");
  m.Allow({"examples", "test_examples", "tokens", "features", "relevant_fraction",
           "irrelevant_means", "signal", "noise", "seed"});
  m.ReadInteger("examples", &s.data.examples);
  m.ReadInteger("test_examples", &s.test_examples);
  m.ReadInteger("tokens", &s.data.tokens);
  m.ReadInteger("features", &s.data.features);
  m.Read("relevant_fraction", &s.data.relevant_fraction);
  m.ReadInteger("irrelevant_means", &s.data.irrelevant_means);
  m.Read("signal", &s.data.signal);
  m.Read("noise", &s.data.noise);
  m.ReadSeed("seed", &s.data.seed);
  const TomlTable n = top.Sub("network");
  n.Allow({"heads", "modes", "total_key_dim", "total_width", "key_dim", "width", "input_width"});
  n.Read("heads", &s.heads);
  n.Read("modes", &c->modes);
  n.ReadInteger("total_key_dim", &s.total_key_dim);
  n.ReadInteger("total_width", &s.total_width);
  n.ReadInteger("key_dim", &s.key_dim);
  n.ReadInteger("width", &s.width);
  n.ReadInteger("input_width", &s.input_width);
  const TomlTable t = top.Sub("training");
  t.Allow({"steps", "learning_rate", "loss", "optimizer", "trained", "repeats", "weight_decay",
           "value_init_std", "attention_init_std", "seed", "eval_every"});
  t.ReadInteger("steps", &s.training.epochs);
  t.Read("learning_rate", &s.training.learning_rate);
  t.Read("loss", &c->loss);
  t.Read("optimizer", &c->optimizer);
  t.Read("trained", &c->trained);
  t.ReadInteger("repeats", &s.repeats);
  t.Read("weight_decay", &s.training.weight_decay);
  t.Read("value_init_std", &s.training.value_init_std);
  t.Read("attention_init_std", &s.training.attention_init_std);
  t.ReadSeed("seed", &s.training.seed);
  t.ReadInteger("eval_every", &s.training.eval_every);
  const TomlTable h = top.Sub("hessian");
  h.Allow({"every", "examples", "lanczos_iterations"});
  h.ReadInteger("every", &s.hessian_every);
  h.ReadInteger("examples", &s.hessian_examples);
  h.ReadInteger("lanczos_iterations", &s.lanczos_iterations);
  const TomlTable mg = top.Sub("margin");
  mg.Allow(
      {"compute", "tolerance", "max_sweeps", "resolution", "face_solve_every", "active_set_after"});
  mg.Read("compute", &s.ntk_margin);
  mg.Read("tolerance", &s.margin.tolerance);
  mg.ReadInteger("max_sweeps", &s.margin.max_sweeps);
  mg.Read("resolution", &s.margin.resolution);
  mg.ReadInteger("face_solve_every", &s.margin.face_solve_every);
  mg.ReadInteger("active_set_after", &s.margin.active_set_after);
  const TomlTable out = top.Sub("output");
  out.Allow({"directory"});
  if (out.Has("directory")) {
    out.Read("directory", &c->output);
    doc.Resolve(&c->output);
  }
}

struct CliOptions {
  std::string config;
  SweepConfig flags;
  GivenFlags given;
  bool no_margin = false;
  bool Given(const std::string& name) const { return given.Given(name); }
};

int RunTrainSweep(const CliOptions& o, const GlobalOptions& g) {
  SweepConfig c;
  if (!o.config.empty()) ReadSweepConfig(o.config, &c);
  const SweepConfig& f = o.flags;
  HeadCountStudyOptions& s = c.study;
  if (o.Given("heads")) s.heads = f.study.heads;
  if (o.Given("modes")) c.modes = f.modes;
  if (o.Given("examples")) s.data.examples = f.study.data.examples;
  if (o.Given("test-examples")) s.test_examples = f.study.test_examples;
  if (o.Given("tokens")) s.data.tokens = f.study.data.tokens;
  if (o.Given("features")) s.data.features = f.study.data.features;
  if (o.Given("signal")) s.data.signal = f.study.data.signal;
  if (o.Given("noise")) s.data.noise = f.study.data.noise;
  if (o.Given("relevant-fraction")) s.data.relevant_fraction = f.study.data.relevant_fraction;
  if (o.Given("total-key-dim")) s.total_key_dim = f.study.total_key_dim;
  if (o.Given("total-width")) s.total_width = f.study.total_width;
  if (o.Given("key-dim")) s.key_dim = f.study.key_dim;
  if (o.Given("width")) s.width = f.study.width;
  if (o.Given("steps")) s.training.epochs = f.study.training.epochs;
  if (o.Given("learning-rate")) s.training.learning_rate = f.study.training.learning_rate;
  if (o.Given("loss")) c.loss = f.loss;
  if (o.Given("optimizer")) c.optimizer = f.optimizer;
  if (o.Given("repeats")) s.repeats = f.study.repeats;
  if (o.Given("hessian-every")) s.hessian_every = f.study.hessian_every;
  if (o.Given("hessian-examples")) s.hessian_examples = f.study.hessian_examples;
  if (o.Given("margin-tolerance")) s.margin.tolerance = f.study.margin.tolerance;
  if (o.Given("margin-sweeps")) s.margin.max_sweeps = f.study.margin.max_sweeps;
  if (o.no_margin) s.ntk_margin = false;
  if (o.Given("seed")) {
    s.training.seed = f.study.training.seed;
    s.data.seed = f.study.training.seed;
  }
  if (o.Given("output")) c.output = f.output;

  s.modes.clear();
  for (size_t i = 0; i < c.modes.size(); ++i) {
    s.modes.push_back(ParseWidthMode(c.modes[i], "network.modes[" + std::to_string(i) + "]"));
  }
  s.training.loss = ParseLossKind(c.loss, "training.loss");
  s.training.optimizer = ParseOptimizer(c.optimizer, "training.optimizer");
  s.training.trained = ParseTrainedWeights(c.trained, "training.trained");
  s.training.threads = g.threads;
  std::string error;
  if (!s.IsValid(&error)) throw Error(error);
  CheckOutputDirectory(c.output, "output directory");

  s.progress = [&](const HeadCountProgress& p) {
    char buf[200];
    std::snprintf(buf, sizeof buf,
                  "train-sweep: run %d/%d (%s, H = %ld, repeat %d) loss %.4f, %.1f s", p.run,
                  p.runs, WidthModeName(p.mode), static_cast<long>(p.heads), p.repeat,
                  p.final_train_loss, p.seconds);
    ProgressLine(buf, g.quiet);
  };
  const HeadCountStudy study = RunHeadCountStudy(s);
  ProgressLine("", g.quiet);

  Provenance run = CommandProvenance(g, o.config);
  run.Set("seed", s.training.seed);
  run.Set("mixture", {{"examples", s.data.examples},
                      {"test_examples", s.test_examples},
                      {"tokens", s.data.tokens},
                      {"features", s.data.features},
                      {"relevant_fraction", s.data.relevant_fraction},
                      {"irrelevant_means", s.data.irrelevant_means},
                      {"signal", s.data.signal},
                      {"noise", s.data.noise},
                      {"seed", s.data.seed}});
  run.Set("network", {{"heads", s.heads},
                      {"modes", c.modes},
                      {"total_key_dim", s.total_key_dim},
                      {"total_width", s.total_width},
                      {"key_dim", s.key_dim},
                      {"width", s.width},
                      {"input_width", s.input_width},
                      {"readout", "first"},
                      {"head_scaling", "mean"}});
  run.Set("training",
          {{"steps", s.training.epochs},
           {"learning_rate", s.training.learning_rate},
           {"loss", c.loss},
           {"optimizer", c.optimizer},
           {"trained", c.trained},
           {"repeats", s.repeats},
           {"weight_decay", s.training.weight_decay},
           {"value_init_std", s.training.value_init_std},
           {"attention_init_std", s.training.attention_init_std},
           {"eval_every", s.training.eval_every},
           {"threads", s.training.threads > 0 ? s.training.threads : AvailableCores()}});
  run.Set("hessian", {{"every", s.hessian_every},
                      {"examples", s.hessian_examples},
                      {"lanczos_iterations", s.lanczos_iterations}});
  run.Set("margin", {{"compute", s.ntk_margin},
                     {"tolerance", s.margin.tolerance},
                     {"max_sweeps", s.margin.max_sweeps},
                     {"resolution", s.margin.resolution},
                     {"face_solve_every", s.margin.face_solve_every},
                     {"active_set_after", s.margin.active_set_after}});

  std::string curves = run.CsvComment() +
                       "mode,heads,key_dim,width,repeat,step,train_loss,test_loss,test_accuracy,"
                       "parameter_distance\n";
  std::string hessian = run.CsvComment() +
                        "mode,heads,repeat,step,lambda_max,lambda_min,lambda_max_residual,"
                        "lambda_min_residual\n";
  std::string runs = run.CsvComment() +
                     "mode,heads,key_dim,width,repeat,num_parameters,initial_train_loss,"
                     "final_train_loss,final_train_accuracy,final_test_loss,final_test_accuracy,"
                     "termination,ntk_features,ntk_margin,ntk_normalized_margin,ntk_status,"
                     "ntk_support_vectors,ntk_kkt_violation\n";
  for (const HeadCountRun& r : study.runs) {
    const std::string head = std::string(WidthModeName(r.mode)) + "," + std::to_string(r.heads);
    for (const EpochRecord& e : r.summary.loss_curve) {
      curves += head + "," + std::to_string(r.key_dim) + "," + std::to_string(r.width) + "," +
                std::to_string(r.repeat) + "," + std::to_string(e.steps) + "," +
                CsvNumber(e.train_loss) + "," + CsvNumber(e.test_loss) + "," +
                CsvNumber(e.test_accuracy) + "," + CsvNumber(e.parameter_distance) + "\n";
    }
    for (const HessianTrackPoint& p : r.hessian) {
      hessian += head + "," + std::to_string(r.repeat) + "," + std::to_string(p.step) + "," +
                 CsvNumber(p.largest) + "," + CsvNumber(p.smallest) + "," +
                 CsvNumber(p.largest_residual) + "," + CsvNumber(p.smallest_residual) + "\n";
    }
    const TrainSummary& t = r.summary;
    runs += head + "," + std::to_string(r.key_dim) + "," + std::to_string(r.width) + "," +
            std::to_string(r.repeat) + "," + std::to_string(r.num_parameters) + "," +
            CsvNumber(t.initial_train_loss) + "," + CsvNumber(t.final_train_loss) + "," +
            CsvNumber(t.final_train_accuracy) + "," + CsvNumber(t.final_test_loss) + "," +
            CsvNumber(t.final_test_accuracy) + "," + TrainTerminationName(t.termination) + "," +
            std::to_string(r.ntk.features) + "," + CsvNumber(r.ntk.svm.margin) + "," +
            CsvNumber(r.ntk.svm.normalized_margin) + "," + HardMarginStatusName(r.ntk.svm.status) +
            "," + std::to_string(r.ntk.svm.support_vectors) + "," +
            CsvNumber(r.ntk.svm.kkt_violation) + "\n";
  }
  std::string groups_csv = run.CsvComment() +
                           "mode,heads,key_dim,width,num_parameters,final_train_loss,"
                           "final_train_loss_se,paired_difference,paired_difference_se,"
                           "final_test_accuracy,final_test_accuracy_se,final_test_loss,"
                           "final_test_loss_se,ntk_margin,ntk_margin_se,ntk_normalized_margin,"
                           "ntk_normalized_margin_se,ntk_separable,ntk_decided\n";
  nlohmann::json groups = nlohmann::json::array();
  for (const HeadCountGroup& gr : study.groups) {
    groups_csv +=
        std::string(WidthModeName(gr.mode)) + "," + std::to_string(gr.heads) + "," +
        std::to_string(gr.key_dim) + "," + std::to_string(gr.width) + "," +
        std::to_string(gr.num_parameters) + "," + CsvNumber(gr.final_train_loss_mean) + "," +
        CsvNumber(gr.final_train_loss_se) + "," + CsvNumber(gr.paired_difference_mean) + "," +
        CsvNumber(gr.paired_difference_se) + "," + CsvNumber(gr.final_test_accuracy_mean) + "," +
        CsvNumber(gr.final_test_accuracy_se) + "," + CsvNumber(gr.final_test_loss_mean) + "," +
        CsvNumber(gr.final_test_loss_se) + "," + CsvNumber(gr.ntk_margin_mean) + "," +
        CsvNumber(gr.ntk_margin_se) + "," + CsvNumber(gr.ntk_normalized_margin_mean) + "," +
        CsvNumber(gr.ntk_normalized_margin_se) + "," + std::to_string(gr.ntk_separable) + "," +
        std::to_string(gr.ntk_decided) + "\n";
    // Hessian track means per step over the repeats.
    nlohmann::json track = nlohmann::json::array();
    std::map<long, std::vector<std::pair<double, double>>> by_step;
    for (const HeadCountRun& r : study.runs) {
      if (r.mode != gr.mode || r.heads != gr.heads) continue;
      for (const HessianTrackPoint& p : r.hessian)
        by_step[p.step].push_back({p.largest, p.smallest});
    }
    for (const auto& [step, v] : by_step) {
      double mx = 0, mn = 0;
      for (const auto& [a, b] : v) {
        mx += a;
        mn += b;
      }
      track.push_back({{"step", step},
                       {"lambda_max", mx / static_cast<double>(v.size())},
                       {"lambda_min", mn / static_cast<double>(v.size())}});
    }
    groups.push_back({{"mode", WidthModeName(gr.mode)},
                      {"heads", gr.heads},
                      {"key_dim", gr.key_dim},
                      {"width", gr.width},
                      {"num_parameters", gr.num_parameters},
                      {"final_train_loss",
                       {{"mean", NumberOrNull(gr.final_train_loss_mean)},
                        {"standard_error", NumberOrNull(gr.final_train_loss_se)}}},
                      {"paired_difference_to_first_heads",
                       {{"mean", NumberOrNull(gr.paired_difference_mean)},
                        {"standard_error", NumberOrNull(gr.paired_difference_se)}}},
                      {"final_test_accuracy",
                       {{"mean", NumberOrNull(gr.final_test_accuracy_mean)},
                        {"standard_error", NumberOrNull(gr.final_test_accuracy_se)}}},
                      {"final_test_loss",
                       {{"mean", NumberOrNull(gr.final_test_loss_mean)},
                        {"standard_error", NumberOrNull(gr.final_test_loss_se)}}},
                      {"ntk_margin",
                       {{"mean", NumberOrNull(gr.ntk_margin_mean)},
                        {"standard_error", NumberOrNull(gr.ntk_margin_se)},
                        {"normalized_mean", NumberOrNull(gr.ntk_normalized_margin_mean)},
                        {"normalized_standard_error", NumberOrNull(gr.ntk_normalized_margin_se)},
                        {"separable_repeats", gr.ntk_separable},
                        {"decided_repeats", gr.ntk_decided}}},
                      {"hessian_track_mean", track}});
  }
  const std::vector<std::string> files = {"curves.csv",  "hessian.csv",   "runs.csv",
                                          "groups.csv",  "mixture_x.npy", "mixture_y.npy",
                                          "summary.json"};
  nlohmann::json summary = {{"groups", groups},
                            {"runs", study.runs.size()},
                            {"seconds", study.seconds},
                            {"files", files},
                            {"provenance", run.Json()}};

  // The training mixture of repeat 0 (P × n_tok × N0, P labels).
  TokenizedMixtureOptions d0 = s.data;
  const TokenizedMixture mix = GenerateTokenizedMixture(d0);

  // The whole folder or nothing (data/result_folder.h).
  ResultFolder folder(c.output, files);
  const auto path = [&](const std::string& file) { return folder.Path(file); };
  WriteFileAtomically(path("curves.csv"), curves);
  WriteFileAtomically(path("hessian.csv"), hessian);
  WriteFileAtomically(path("runs.csv"), runs);
  WriteFileAtomically(path("groups.csv"), groups_csv);
  WriteNpy(path("mixture_x.npy"), {mix.x.P(), mix.x.n_tok(), mix.x.N0()}, mix.x.values().data());
  WriteNpy(path("mixture_y.npy"), {mix.x.P()}, mix.y.data());
  folder.CommitWithIndex("summary.json", summary.dump(2) + "\n");
  PrintWritten(g.json, summary, study.BriefReport(), c.output, files);
  return 0;
}

}  // namespace

void RegisterTrainSweep(CLI::App& app, GlobalOptions& global, Command* run) {
  auto* cmd = app.add_subcommand(
      "train-sweep",
      "Head-count study: GD on multi-head attention over a tokenised mixture, at equal total "
      "width and at growing width, with the Hessian's extreme eigenvalues along training and "
      "the NTK margin at initialisation");
  auto o = std::make_shared<CliOptions>();
  cmd->add_option("--config,-c", o->config,
                  "TOML file ([mixture], [network], [training], [hessian], [margin], [output]; "
                  "docs/cli.md)");
  auto add = [&](const std::string& name, auto& field, const std::string& help) {
    o->given.Add(cmd, name, field, help);
  };
  SweepConfig& f = o->flags;
  add("heads", f.study.heads, "Head counts");
  add("modes", f.modes, "equal_total and/or growing");
  add("examples", f.study.data.examples, "Training sequences P");
  add("test-examples", f.study.test_examples, "Test sequences");
  add("tokens", f.study.data.tokens, "Tokens per sequence, the query token included");
  add("features", f.study.data.features, "N0");
  add("signal", f.study.data.signal, "Length of the means");
  add("noise", f.study.data.noise, "Noise std per coordinate");
  add("relevant-fraction", f.study.data.relevant_fraction, "Probability that a token is relevant");
  add("total-key-dim", f.study.total_key_dim, "equal_total: d x H");
  add("total-width", f.study.total_width, "equal_total: n_2 x H");
  add("key-dim", f.study.key_dim, "growing: d per head");
  add("width", f.study.width, "growing: n_2");
  add("steps", f.study.training.epochs, "GD steps");
  add("learning-rate", f.study.training.learning_rate, "GD step size");
  add("loss", f.loss, "logistic or squared");
  add("optimizer", f.optimizer, "gd or adam");
  add("repeats", f.study.repeats, "Repeats (data and initialisation)");
  add("hessian-every", f.study.hessian_every, "Steps between Hessian eigenvalues (0: none)");
  add("hessian-examples", f.study.hessian_examples, "Training examples in the Hessian (0: all)");
  add("margin-tolerance", f.study.margin.tolerance,
      "NTK margin: largest KKT violation of the dual");
  add("margin-sweeps", f.study.margin.max_sweeps,
      "NTK margin: coordinate-ascent sweeps before giving up");
  cmd->add_flag("--no-margin", o->no_margin, "Do not compute the NTK margin at initialisation");
  add("seed", f.study.training.seed, "Seed of data and initialisation");
  o->given.Remember("output", cmd->add_option("--output,-o", f.output,
                                              "Output directory (default attnpaths-train-sweep)"));
  AddRunFlags(cmd, global, "Print summary.json on stdout", "Threads per gradient");
  cmd->callback([o, &global, run] { *run = [o, &global] { return RunTrainSweep(*o, global); }; });
}

}  // namespace attnpaths::cli
