// attnpaths prune --config run.toml — remove heads in increasing, random and
// decreasing order of relevance and follow test accuracy and generalisation
// error (theory.md §6). Two modes, written side by side and labelled:
// "silence" (the paper's: zero the pruned paths in U_1, no re-solve) and
// "resolve" (the theory re-solved for each reduced architecture).
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "cli/commands.h"
#include "cli/report.h"
#include "cli/run_provenance.h"
#include "cli/settings_flags.h"
#include "cli/solution_source.h"
#include "data/atomic_file.h"
#include "data/result_index.h"
#include "kernels/error.h"
#include "solver/pruning.h"
#include "study/run_record.h"
#include "study/settings.h"
#include "study/study_kernels.h"

namespace attnpaths::cli {

namespace {

struct PruneCliOptions {
  SolutionSourceOptions source;
  std::string mode = "both";
  SettingsFlags settings;  // --orders, --random-repeats, --seed ([pruning])
};

const char* ModeLabel(PruningMode m) {
  return m == PruningMode::kSilence
             ? "silencing (theory.md section 6, the paper's): rows and columns of U_1 of pruned "
               "paths set to zero, predictor recomputed, no re-solve"
             : "re-solve (a different quantity): the theory solved again for the reduced "
               "architecture, warm-started from the previous solution restricted to the "
               "remaining paths";
}

nlohmann::json Num(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(); }
std::string CsvNum(double v) { return std::isfinite(v) ? ExactNumber(v) : std::string(); }

nlohmann::json ResultJson(const PruningResult& r, const PruningSummary& summary) {
  nlohmann::json m;
  m["label"] = ModeLabel(r.mode);
  m["summary"] = summary.BriefReport();
  m["curves"] = nlohmann::json::array();
  for (const PruningCurve& c : r.curves) {
    nlohmann::json cj;
    cj["order"] = PruningOrderName(c.order);
    cj["repeat"] = c.repeat;
    cj["sequence"] = nlohmann::json::array();
    for (const HeadId& id : c.sequence) {
      cj["sequence"].push_back(
          r.relevance.names[static_cast<size_t>(id.layer - 1)][static_cast<size_t>(id.head)]);
    }
    cj["steps"] = nlohmann::json::array();
    for (const PruningStep& s : c.steps) {
      nlohmann::json sj;
      sj["removed"] = s.removed;
      sj["layer"] = s.removed > 0 ? nlohmann::json(s.head.layer) : nlohmann::json();
      sj["head"] = s.removed > 0 ? nlohmann::json(s.head.head + 1) : nlohmann::json();
      sj["name"] = s.removed > 0 ? nlohmann::json(s.name) : nlohmann::json();
      sj["score"] = Num(s.score);
      sj["paths_remaining"] = s.paths_remaining;
      sj["test_accuracy"] = Num(s.accuracy);
      sj["generalization_error"] = Num(s.generalization_error);
      if (r.mode == PruningMode::kResolve) {
        sj["converged"] = s.converged;
        sj["termination"] = s.termination;
        sj["iterations"] = s.iterations;
        sj["action"] = Num(s.action);
        sj["gradient_norm"] = Num(s.gradient_norm);
      }
      cj["steps"].push_back(std::move(sj));
    }
    m["curves"].push_back(std::move(cj));
  }
  return m;
}

void AppendCsv(const PruningResult& r, std::string* csv) {
  for (const PruningCurve& c : r.curves) {
    for (const PruningStep& s : c.steps) {
      const bool resolve = r.mode == PruningMode::kResolve;
      *csv += std::string(PruningModeName(r.mode)) + "," + PruningOrderName(c.order) + "," +
              std::to_string(c.repeat) + "," + std::to_string(s.removed) + "," +
              (s.removed > 0 ? std::to_string(s.head.layer) : "") + "," +
              (s.removed > 0 ? std::to_string(s.head.head + 1) : "") + "," + s.name + "," +
              CsvNum(s.score) + "," + std::to_string(s.paths_remaining) + "," + CsvNum(s.accuracy) +
              "," + CsvNum(s.generalization_error) + "," +
              (resolve ? (s.converged ? "true" : "false") : "") + "," +
              (resolve ? std::to_string(s.iterations) : "") + "," +
              (resolve ? CsvNum(s.action) : "") + "\n";
    }
  }
}

// `text` padded with spaces to `width` characters (UTF-8 aware, for "±").
std::string Pad(const std::string& text, size_t width) {
  size_t chars = 0;
  for (unsigned char c : text) chars += (c & 0xC0) != 0x80;
  return text + std::string(chars < width ? width - chars : 0, ' ');
}

// Accuracy after each removal: one line per order (random: mean ± std).
void PrintTable(const PruningResult& r, const PruningSummary& summary) {
  std::cout << "\n" << PruningModeName(r.mode) << ": " << ModeLabel(r.mode) << "\n";
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
  Require(o.mode == "both" || o.mode == "silence" || o.mode == "resolve", "--mode",
          "\"" + o.mode + "\"", "\"silence\", \"resolve\" or \"both\"");
  AnalysedSolution s = ObtainSolution(o.source, "prune", g);
  PruningOptions options = o.settings.Read(s.study).pruning;
  options.threads = g.threads;
  Require(s.study.has_test_labels, s.study.config_path + ": data.test_y", "nothing",
          "test labels (pruning reports test accuracy and generalisation error)");
  const std::string out = o.source.output.empty() ? s.study.output_directory : o.source.output;
  ResultFolder folder(out, {"pruning.json", "pruning.csv"});  // locked; removed if this run fails
  const Architecture& arch = s.study.architecture;

  std::vector<std::pair<PruningResult, PruningSummary>> results;
  // The full network's path inputs, computed once: silencing predicts with
  // them, re-solving selects each reduced network's paths from them.
  const StudyKernels& k = Kernels(s, "prune", g);
  if (o.mode != "resolve") {
    options.progress = [&](const PruningProgress& p) {
      ProgressLine("prune (silence): curve " + std::to_string(p.curve + 1) + "/" +
                       std::to_string(p.curves) + ", step " + std::to_string(p.step) + "/" +
                       std::to_string(p.steps),
                   g.quiet);
    };
    PruningSummary summary;
    PruningResult r =
        PruneBySilencing(arch, *k.train, s.study.train.y, s.temperature, s.order_parameters.U[0],
                         k.test, s.study.test.y, options, &summary);
    results.emplace_back(std::move(r), summary);
  }
  if (o.mode != "silence") {
    options.progress = [&](const PruningProgress& p) {
      ProgressLine("prune (re-solve): curve " + std::to_string(p.curve + 1) + "/" +
                       std::to_string(p.curves) + ", step " + std::to_string(p.step) + "/" +
                       std::to_string(p.steps),
                   g.quiet);
    };
    PruningSummary summary;
    PruningResult r = PruneByResolving(arch, *k.train, s.study.train.y, k.test, s.study.test.y,
                                       s.temperature, s.order_parameters, options, &summary);
    results.emplace_back(std::move(r), summary);
  }
  ProgressLine("", g.quiet);

  nlohmann::json j = SolutionJson(s);
  std::vector<std::string> order_names;
  for (PruningOrder order : options.orders) order_names.emplace_back(PruningOrderName(order));
  j["orders"] = order_names;
  j["random_repeats"] = options.random_repeats;
  j["seed"] = options.seed;
  j["rule"] =
      "heads ranked once by the full network's scores; the last head of a layer is never "
      "removed (skipped, the next head in the order is taken)";
  const HeadRelevance& rel = results.front().first.relevance;
  j["scores"] = rel.score;
  j["head_names"] = rel.names;
  j["modes"] = nlohmann::json::object();
  Provenance run = CommandProvenance(g, s.study.config_path);
  RecordSolution(s, g, &run);
  run.Set("mode", o.mode);
  run.Set("orders", order_names);
  run.Set("random_repeats", options.random_repeats);
  run.Set("seed", options.seed);
  if (o.mode != "silence") run.Set("resolve_solver", SolverSettings(options.solve));
  j["provenance"] = run.Json();
  std::string csv = run.CsvComment() +
                    "mode,order,repeat,removed,layer,head,name,score,paths_remaining,test_accuracy,"
                    "generalization_error,converged,iterations,action\n";
  bool all_converged = s.converged;
  for (const auto& [r, summary] : results) {
    j["modes"][PruningModeName(r.mode)] = ResultJson(r, summary);
    AppendCsv(r, &csv);
    all_converged = all_converged && summary.not_converged == 0;
  }
  WriteFileAtomically(folder.Path("pruning.csv"), csv);
  j["files"] = FilesJson(folder.Staged({"pruning.csv"}));
  WriteFileAtomically(folder.Path("pruning.json"), j.dump(1) + "\n");
  folder.Commit({"pruning.json"});
  if (g.json) {
    std::cout << j.dump(2) << std::endl;
  } else {
    std::cout << "pruning, " << SolutionLine(s) << "\n";
    for (const auto& [r, summary] : results) PrintTable(r, summary);
    std::cout << "wrote " << out << "/pruning.json and pruning.csv\n";
  }
  return all_converged ? 0 : 1;
}

}  // namespace

void RegisterPrune(CLI::App& app, GlobalOptions& global, Command* run) {
  auto* cmd = app.add_subcommand(
      "prune", "Prune heads by relevance (silencing and re-solve) and report accuracy");
  auto o = std::make_shared<PruneCliOptions>();
  AddSolutionSourceFlags(cmd, &o->source);
  cmd->add_option("--mode", o->mode, "silence, resolve or both (default both)");
  o->settings.Add(cmd, {"pruning"});
  AddAnalysisOutputFlags(cmd, &o->source, global);
  cmd->callback([o, &global, run] { *run = [o, &global] { return RunPrune(*o, global); }; });
}

}  // namespace attnpaths::cli
