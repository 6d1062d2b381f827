// attnpaths prune --config run.toml — remove heads in increasing, random and
// decreasing order of relevance and follow test accuracy and generalisation
// error (theory.md §6). Two modes, written side by side and labelled:
// "silence" (the paper's: zero the pruned paths in U_1, no re-solve) and
// "resolve" (the theory re-solved for each reduced architecture).
#include <cmath>
#include <cstdio>
#include <iostream>

#include "cli/commands.h"
#include "cli/report.h"
#include "cli/run_provenance.h"
#include "cli/settings_flags.h"
#include "cli/solution_source.h"
#include "study/prune_study.h"
#include "study/settings.h"

namespace attnpaths::cli {

namespace {

struct PruneCliOptions {
  SolutionSourceOptions source;
  std::string mode = kDefaultPruningModes;
  SettingsFlags settings;  // --orders, --random-repeats, --seed ([pruning])
};

// `text` padded with spaces to `width` characters (UTF-8 aware, for "±").
std::string Pad(const std::string& text, size_t width) {
  size_t chars = 0;
  for (unsigned char c : text) chars += (c & 0xC0) != 0x80;
  return text + std::string(chars < width ? width - chars : 0, ' ');
}

// Accuracy after each removal: one line per order (random: mean ± std).
void PrintTable(const PruningResult& r, const PruningSummary& summary) {
  std::cout << "\n" << PruningModeName(r.mode) << ": " << PruningModeLabel(r.mode) << "\n";
  const size_t n = r.curves.empty() ? 0 : r.curves.front().steps.size();
  char buf[128];
  std::snprintf(buf, sizeof buf, "  %-22s", "test accuracy after");
  std::string header = buf;
  for (size_t k = 0; k < n; ++k) {
    std::snprintf(buf, sizeof buf, "  %-18s", (std::to_string(k) + " removed").c_str());
    header += buf;
  }
  std::cout << header << "\n";
  for (PruningOrder order :
       {PruningOrder::kIncreasing, PruningOrder::kRandom, PruningOrder::kDecreasing}) {
    std::vector<const PruningCurve*> cs;
    for (const PruningCurve& c : r.curves) {
      if (c.order == order) cs.push_back(&c);
    }
    if (cs.empty()) continue;
    std::string name = PruningOrderName(order);
    if (order == PruningOrder::kRandom) name += " (mean of " + std::to_string(cs.size()) + ")";
    std::snprintf(buf, sizeof buf, "  %-22s", name.c_str());
    std::string line = buf;
    for (size_t k = 0; k < n; ++k) {
      double sum = 0, sum2 = 0;
      for (const PruningCurve* c : cs) {
        sum += c->steps[k].accuracy;
        sum2 += c->steps[k].accuracy * c->steps[k].accuracy;
      }
      const double mean = sum / static_cast<double>(cs.size());
      std::string cell;
      if (cs.size() > 1) {
        const double var = std::max(0.0, sum2 / static_cast<double>(cs.size()) - mean * mean);
        std::snprintf(buf, sizeof buf, "%.4f ± %.4f", mean, std::sqrt(var));
        cell = buf;
      } else {
        std::snprintf(buf, sizeof buf, "%.4f", mean);
        cell = buf;
        if (k > 0) cell += " (-" + cs.front()->steps[k].name + ")";
      }
      line += "  " + Pad(cell, 18);
    }
    std::cout << line << "\n";
  }
  std::cout << "  " << summary.BriefReport() << "\n";
}

int RunPrune(const PruneCliOptions& o, const GlobalOptions& g) {
  const std::vector<PruningMode> modes = ParsePruningModes(o.mode, "--mode");
  AnalysedSolution s = ObtainSolution(o.source, "prune", g);
  PruningOptions options = o.settings.Read(s.study).pruning;
  Require(s.study.has_test_labels, s.study.config_path + ": data.test_y", "nothing",
          "test labels (pruning reports test accuracy and generalisation error)");
  const std::string out = o.source.output.empty() ? s.study.output_directory : o.source.output;
  ResultFolder folder(out, PruningFiles());  // locked; removed if this run fails
  Kernels(s, "prune", g);                    // the full network's, once, with a progress line
  options.progress = [&](const PruningProgress& p) {
    ProgressLine(std::string("prune (") +
                     (p.mode == PruningMode::kSilence ? "silence" : "re-solve") + "): curve " +
                     std::to_string(p.curve + 1) + "/" + std::to_string(p.curves) + ", step " +
                     std::to_string(p.step) + "/" + std::to_string(p.steps),
                 g.quiet);
  };
  const PruneStudyResult r = PruneStudy(s, modes, options, g.threads);
  ProgressLine("", g.quiet);
  Provenance run = CommandProvenance(g, s.study.config_path);
  RecordSolution(s, g, &run);
  const nlohmann::json j =
      CommitAnalysis(folder, PruningDocument(s, r, run), "pruning.json", "pruning.csv", 1);
  if (g.json) {
    std::cout << j.dump(2) << std::endl;
  } else {
    std::cout << "pruning, " << SolutionLine(s) << "\n";
    for (const auto& m : r.runs) PrintTable(m.result, m.summary);
    std::cout << "wrote " << out << "/pruning.json and pruning.csv\n";
  }
  return r.all_converged ? 0 : 1;
}

}  // namespace

void RegisterPrune(CLI::App& app, GlobalOptions& global, Command* run) {
  auto* cmd = app.add_subcommand(
      "prune", "Prune heads by relevance (silencing and re-solve) and report accuracy");
  auto o = std::make_shared<PruneCliOptions>();
  AddSolutionSourceFlags(cmd, &o->source);
  cmd->add_option("--mode", o->mode, "silence, resolve or both")->capture_default_str();
  o->settings.Add(cmd, {"pruning"});
  AddAnalysisOutputFlags(cmd, &o->source, global);
  cmd->callback([o, &global, run] { *run = [o, &global] { return RunPrune(*o, global); }; });
}

}  // namespace attnpaths::cli
