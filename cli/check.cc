// attnpaths check --config run.toml — validate a study and print what it will
// compute (paths, kernel memory, expected work, the solver/sampler/pruning
// settings it resolves) without computing it.
// attnpaths check --list-settings — every [solver]/[sampler]/[pruning] key with
// its default, flag and meaning (docs/config.md is checked against it).
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/settings_flags.h"
#include "data/config.h"
#include "kernels/error.h"
#include "kernels/paths.h"
#include "study/settings.h"
#include "study/study_kernels.h"

namespace attnpaths::cli {

namespace {

struct CheckOptions {
  std::string positional;  // `check run.toml` (the form before --config)
  std::string config;
  bool list_settings = false;
};

std::string DefaultCell(const OptionValue& v) { return OptionText(v); }

int ListSettings(const GlobalOptions& g) {
  StudySettings defaults;
  nlohmann::json j = nlohmann::json::object();
  for (const SettingsTable& t : SettingsTables(&defaults)) {
    if (!g.json) {
      std::cout << "## [" << t.name
                << "]\n\n| key | default | flag | meaning |\n|---|---|---|---|\n";
    }
    for (const OptionField& f : t.fields) {
      j[t.name][f.key] = {{"default", DefaultCell(f.get())},
                          {"flag", f.flag.empty() ? "" : "--" + f.flag},
                          {"help", f.help}};
      if (!g.json) {
        std::cout << "| `" << f.key << "` | `" << DefaultCell(f.get()) << "` | "
                  << (f.flag.empty() ? "" : "`--" + f.flag + "`") << " | " << f.help << " |\n";
      }
    }
    if (!g.json) std::cout << "\n";
  }
  if (g.json) std::cout << j.dump(2) << std::endl;
  return 0;
}

int RunCheck(const CheckOptions& o, const GlobalOptions& g) {
  if (o.list_settings) return ListSettings(g);
  Require(o.positional.empty() || o.config.empty(), "check", "a file and --config",
          "one study file (--config run.toml)");
  const std::string config = o.config.empty() ? o.positional : o.config;
  Require(!config.empty(), "check", "no study file", "--config run.toml (or --list-settings)");
  const Study st = LoadStudy(config);
  StudySettings settings = ReadStudySettings(st);
  const Architecture& a = st.architecture;
  const Paths paths(a.heads_per_layer());
  std::vector<std::vector<std::string>> names;
  for (const auto& layer : a.layers) {
    names.emplace_back();
    for (const auto& h : layer) names.back().push_back(h.name);
  }
  const auto P = st.train.x.P(), N0 = st.train.x.N0();
  const KernelOptions kernel_options = StudyKernelOptions(st, settings.solve.storage);
  const KernelStrategy strategy = ChooseKernelStrategy(kernel_options, P, paths.Htot(), N0);
  const double bytes = KernelMemoryBytes(strategy, P, paths.Htot(), N0, kernel_options.outputs);
  const double flops = KernelFlopsPerEvaluation(strategy, P, paths.Htot(), N0) +
                       static_cast<double>(P) * P * P;  // + Cholesky and inverse of G
  const size_t points = std::max<size_t>(1, st.sweep_widths.size()) * st.temperatures.size();
  nlohmann::json j;
  j["name"] = st.name;
  j["train_examples"] = P;
  j["test_examples"] = st.test.x.P();
  j["tokens"] = st.train.x.n_tok();
  j["N0"] = N0;
  j["outputs"] = st.train.y.cols();
  j["task"] = TaskName(st.task);
  j["layers"] = a.L();
  j["heads_per_layer"] = a.heads_per_layer();
  j["paths"] = paths.Htot();
  for (Eigen::Index p = 0; p < paths.Htot(); ++p) j["path_labels"].push_back(paths.Label(p, names));
  j["readout"] = ReadoutName(a.readout);
  j["widths"] = a.widths;
  j["variances"] = a.variances;
  j["temperatures"] = st.temperatures;
  j["sweep_widths"] = st.sweep_widths;
  j["points"] = points;
  j["kernel_strategy"] = KernelStrategyName(strategy);
  j["storage"] = StorageName(strategy);
  j["kernel_memory_bytes"] = bytes;
  j["flops_per_evaluation"] = flops;
  int params = 0;
  for (int l = 1; l <= a.L(); ++l) params += static_cast<int>(paths.m(l) * (paths.m(l) + 1) / 2);
  j["order_parameter_entries"] = params;
  // L-BFGS needed 20-60 evaluations a point on the Markov task; state a range.
  j["expected_evaluations_per_point"] = {20, 100};
  j["output_directory"] = st.output_directory;
  for (SettingsTable& t : SettingsTables(&settings)) j["settings"][t.name] = OptionsJson(t.fields);
  if (g.json) {
    std::cout << j.dump(2) << std::endl;
    return 0;
  }
  std::cout << "study " << st.name << ": ok\n"
            << "  data          " << P << " train, " << st.test.x.P() << " test, "
            << st.train.x.n_tok() << " tokens x " << N0 << " features, " << st.train.y.cols()
            << " output(s), " << TaskName(st.task) << "\n"
            << "  architecture  L = " << a.L() << ", heads " << j["heads_per_layer"].dump()
            << ", readout " << ReadoutName(a.readout) << "\n"
            << "  paths         " << paths.Htot() << ": " << j["path_labels"].dump() << "\n"
            << "  widths        " << j["widths"].dump() << ", variances " << j["variances"].dump()
            << "\n"
            << "  points        " << points << " (temperatures " << j["temperatures"].dump()
            << (st.sweep_widths.empty() ? "" : ", sweep widths " + j["sweep_widths"].dump())
            << ")\n"
            << "  kernel        " << KernelStrategyName(strategy) << ", " << bytes / (1 << 20)
            << " MiB (limit " << st.kernel.memory_limit_bytes / (1 << 20) << " MiB)\n"
            << "  work          ~" << flops / 1e9 << " GFLOP per action evaluation, " << params
            << " order-parameter entries, typically 20-100 evaluations a point\n"
            << "  output        " << st.output_directory << "\n";
  return 0;
}

}  // namespace

void RegisterCheck(CLI::App& app, GlobalOptions& global, Command* run) {
  auto* cmd = app.add_subcommand("check", "Validate a TOML study and print what it will compute");
  auto o = std::make_shared<CheckOptions>();
  cmd->add_option("--config,-c", o->config, "The TOML study file");
  cmd->add_option("config", o->positional, "The TOML study file (the same as --config)");
  cmd->add_flag("--list-settings", o->list_settings,
                "List every [solver], [sampler] and [pruning] key: default, flag, meaning");
  cmd->add_flag("--json", global.json, "Print JSON on stdout");
  cmd->callback([o, &global, run] { *run = [o, &global] { return RunCheck(*o, global); }; });
}

}  // namespace attnpaths::cli
