#include "study/prune_study.h"

#include <cmath>

#include "kernels/error.h"
#include "study/result_row.h"
#include "study/run_record.h"

namespace attnpaths {

namespace {

nlohmann::json Num(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(); }
std::string CsvNum(double v) { return std::isfinite(v) ? ExactNumber(v) : std::string(); }

nlohmann::json ModeJson(const PruningResult& r, const PruningSummary& summary) {
  nlohmann::json m;
  m["label"] = PruningModeLabel(r.mode);
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

std::vector<std::string> OrderNames(const PruningOptions& options) {
  std::vector<std::string> names;
  for (PruningOrder order : options.orders) names.emplace_back(PruningOrderName(order));
  return names;
}

}  // namespace

std::vector<PruningMode> ParsePruningModes(const std::string& text, const std::string& field) {
  Require(text == "both" || text == "silence" || text == "resolve", field, "\"" + text + "\"",
          "\"silence\", \"resolve\" or \"both\"");
  if (text == "both") return {PruningMode::kSilence, PruningMode::kResolve};
  return {ParsePruningMode(text, field)};
}

const char* PruningModeLabel(PruningMode mode) {
  return mode == PruningMode::kSilence
             ? "silencing (theory.md section 6, the paper's): rows and columns of U_1 of pruned "
               "paths set to zero, predictor recomputed, no re-solve"
             : "re-solve (a different quantity): the theory solved again for the reduced "
               "architecture, warm-started from the previous solution restricted to the "
               "remaining paths";
}

std::string PruneStudyResult::ModeName() const {
  if (runs.size() == 2) return "both";
  return runs.empty() ? "" : PruningModeName(runs.front().result.mode);
}

PruneStudyResult PruneStudy(AnalysedSolution& s, const std::vector<PruningMode>& modes,
                            PruningOptions options, int threads) {
  Require(!modes.empty(), "pruning modes", "nothing", "silence, resolve or both");
  options.threads = threads;
  Require(s.study.has_test_labels, s.study.config_path + ": data.test_y", "nothing",
          "test labels (pruning reports test accuracy and generalisation error)");
  PruneStudyResult r;
  // The full network's path inputs, computed once: silencing predicts with
  // them, re-solving selects each reduced network's paths from them.
  const StudyKernels& k = AnalysisKernels(s, threads);
  const PathProblem problem = StudyProblem(s.study, k, s.temperature);
  r.all_converged = s.converged;
  for (PruningMode mode : modes) {
    PruneStudyResult::Run run;
    if (mode == PruningMode::kSilence) {
      run.result =
          PruneBySilencing(s.study.architecture, *k.train, s.study.train.y, s.temperature,
                           s.order_parameters.U[0], k.test, s.study.test.y, options, &run.summary);
    } else {
      run.result = PruneByResolving(problem, k.test, s.study.test.y, s.order_parameters, options,
                                    &run.summary);
    }
    r.all_converged = r.all_converged && run.summary.not_converged == 0;
    r.runs.push_back(std::move(run));
  }
  r.options = std::move(options);
  return r;
}

AnalysisDocument PruningDocument(const AnalysedSolution& s, const PruneStudyResult& r,
                                 const Provenance& run_in) {
  AnalysisDocument doc;
  nlohmann::json& j = doc.json;
  j = SolutionJson(s);
  const std::vector<std::string> order_names = OrderNames(r.options);
  j["orders"] = order_names;
  j["random_repeats"] = r.options.random_repeats;
  j["seed"] = r.options.seed;
  j["rule"] =
      "heads ranked once by the full network's scores; the last head of a layer is never "
      "removed (skipped, the next head in the order is taken)";
  const HeadRelevance& rel = r.runs.front().result.relevance;
  j["scores"] = rel.score;
  j["head_names"] = rel.names;
  j["modes"] = nlohmann::json::object();
  Provenance run = run_in;
  run.Set("mode", r.ModeName());
  run.Set("orders", order_names);
  run.Set("random_repeats", r.options.random_repeats);
  run.Set("seed", r.options.seed);
  bool resolved = false;
  for (const auto& m : r.runs) resolved = resolved || m.result.mode == PruningMode::kResolve;
  if (resolved) run.Set("resolve_solver", SolverSettings(r.options.solve));
  j["provenance"] = run.Json();
  doc.csv = run.CsvComment() +
            "mode,order,repeat,removed,layer,head,name,score,paths_remaining,test_accuracy,"
            "generalization_error,converged,iterations,action\n";
  for (const auto& m : r.runs) {
    j["modes"][PruningModeName(m.result.mode)] = ModeJson(m.result, m.summary);
    AppendCsv(m.result, &doc.csv);
  }
  return doc;
}

std::vector<std::string> PruningFiles() { return {"pruning.json", "pruning.csv"}; }

}  // namespace attnpaths
