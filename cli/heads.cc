// attnpaths heads --config run.toml [--solution DIR|FILE] — head relevance
// scores from U_1 (theory.md §6) and the path-pair view of U_1; prints the
// ranking and writes heads.json and heads.csv.
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "cli/commands.h"
#include "cli/report.h"
#include "cli/run_provenance.h"
#include "cli/solution_source.h"
#include "data/atomic_file.h"
#include "data/result_index.h"
#include "kernels/paths.h"
#include "solver/head_relevance.h"

namespace attnpaths::cli {

namespace {

struct HeadsCliOptions {
  SolutionSourceOptions source;
};

std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

int RunHeads(const HeadsCliOptions& o, const GlobalOptions& g) {
  AnalysedSolution s = ObtainSolution(o.source, "heads", g);
  const std::string out = o.source.output.empty() ? s.study.output_directory : o.source.output;
  ResultFolder folder(out, {"heads.json", "heads.csv"});  // locked; removed if this run fails
  const Architecture& arch = s.study.architecture;
  const Eigen::MatrixXd& U1 = s.order_parameters.U[0];
  const HeadRelevance r = ScoreHeads(arch, U1);
  const std::vector<HeadScore> ranking = r.Ranking();
  const Paths paths(arch.heads_per_layer());
  const std::vector<std::string> labels = PathLabels(paths, r.names);
  const std::vector<PathPair> pairs = PathPairView(arch, U1);

  const Eigen::Index D = s.order_parameters.outputs();
  nlohmann::json j = SolutionJson(s);
  j["outputs"] = D;
  j["definition"] =
      "score of head h in layer l: sum of |U_1| over entries whose row or column "
      "path passes through h (each entry once; with several outputs every output "
      "pair (d, d') of such entries counts), divided by the largest such sum "
      "over all heads (theory.md sections 6, 9)";
  j["heads"] = nlohmann::json::array();
  Provenance run = CommandProvenance(g, s.study.config_path);
  RecordSolution(s, g, &run);
  j["provenance"] = run.Json();
  std::string csv = run.CsvComment() + "rank,layer,head,name,score,raw\n";
  for (size_t i = 0; i < ranking.size(); ++i) {
    const HeadScore& h = ranking[i];
    j["heads"].push_back({{"rank", i + 1},
                          {"layer", h.id.layer},
                          {"head", h.id.head + 1},
                          {"name", h.name},
                          {"score", h.score},
                          {"raw", h.raw}});
    csv += std::to_string(i + 1) + "," + std::to_string(h.id.layer) + "," +
           std::to_string(h.id.head + 1) + "," + CsvField(h.name) + "," + ExactNumber(h.score) +
           "," + ExactNumber(h.raw) + "\n";
  }
  j["scores"] = r.score;  // scores[l-1][h-1]
  j["head_names"] = r.names;
  j["path_labels"] = labels;
  nlohmann::json U = nlohmann::json::array();
  for (Eigen::Index i = 0; i < U1.rows(); ++i) {
    nlohmann::json row = nlohmann::json::array();
    for (Eigen::Index k = 0; k < U1.cols(); ++k) row.push_back(U1(i, k));
    U.push_back(std::move(row));
  }
  j["U_1"] = std::move(U);
  j["path_pairs"] = nlohmann::json::array();
  for (const PathPair& p : pairs) {
    nlohmann::json e = {{"row", p.row_label},
                        {"col", p.col_label},
                        {"value", p.value},
                        {"weight_share", p.weight_share}};
    if (D > 1) {
      e["row_output"] = p.row_output;
      e["col_output"] = p.col_output;
    }
    j["path_pairs"].push_back(std::move(e));
  }
  WriteFileAtomically(folder.Path("heads.csv"), csv);
  j["files"] = FilesJson(folder.Staged({"heads.csv"}));
  WriteFileAtomically(folder.Path("heads.json"), j.dump(2) + "\n");
  folder.Commit({"heads.json"});
  ProgressLine("", g.quiet);

  if (g.json) {
    std::cout << j.dump(2) << std::endl;
    return s.converged ? 0 : 1;
  }
  std::cout << "head relevance (theory.md section 6), " << SolutionLine(s) << "\n";
  char buf[256];
  std::snprintf(buf, sizeof buf, "%5s %6s %5s  %-16s %8s %12s\n", "rank", "layer", "head", "name",
                "score", "raw");
  std::cout << buf;
  for (size_t i = 0; i < ranking.size(); ++i) {
    const HeadScore& h = ranking[i];
    std::snprintf(buf, sizeof buf, "%5zu %6d %5lld  %-16s %8.4f %12.6g\n", i + 1, h.id.layer,
                  static_cast<long long>(h.id.head + 1), h.name.c_str(), h.score, h.raw);
    std::cout << buf;
  }
  std::cout << "\npath pairs of U_1" << (D > 1 ? " (path:output)" : "")
            << ", largest |U| first (share of sum |U|):\n";
  const size_t shown = std::min<size_t>(pairs.size(), 12);
  for (size_t i = 0; i < shown; ++i) {
    const PathPair& p = pairs[i];
    const auto label = [&](const std::string& path, Eigen::Index d) {
      return D > 1 ? path + ":" + std::to_string(d) : path;
    };
    std::snprintf(buf, sizeof buf, "  %-24s | %-24s  U = %10.5f  (%5.1f%%)\n",
                  label(p.row_label, p.row_output).c_str(),
                  label(p.col_label, p.col_output).c_str(), p.value, 100.0 * p.weight_share);
    std::cout << buf;
  }
  if (shown < pairs.size()) std::cout << "  … " << pairs.size() - shown << " more in heads.json\n";
  std::cout << "wrote " << out << "/heads.json and heads.csv\n";
  return s.converged ? 0 : 1;
}

}  // namespace

void RegisterHeads(CLI::App& app, GlobalOptions& global, Command* run) {
  auto* cmd = app.add_subcommand("heads", "Head relevance scores and the path-pair view of U_1");
  auto o = std::make_shared<HeadsCliOptions>();
  AddSolutionSourceFlags(cmd, &o->source);
  AddAnalysisOutputFlags(cmd, &o->source, global);
  cmd->callback([o, &global, run] { *run = [o, &global] { return RunHeads(*o, global); }; });
}

}  // namespace attnpaths::cli
