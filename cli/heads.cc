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
#include "study/head_report.h"

namespace attnpaths::cli {

namespace {

struct HeadsCliOptions {
  SolutionSourceOptions source;
};

int RunHeads(const HeadsCliOptions& o, const GlobalOptions& g) {
  AnalysedSolution s = ObtainSolution(o.source, "heads", g);
  const std::string out = o.source.output.empty() ? s.study.output_directory : o.source.output;
  ResultFolder folder(out, HeadsFiles());  // locked; removed if this run fails
  const HeadReport r = ReportHeads(s.study.architecture, s.order_parameters.U[0]);
  Provenance run = CommandProvenance(g, s.study.config_path);
  RecordSolution(s, g, &run);
  const nlohmann::json j =
      CommitAnalysis(folder, HeadsDocument(s, r, run), "heads.json", "heads.csv", 2);
  ProgressLine("", g.quiet);
  const std::vector<HeadScore>& ranking = r.ranking;
  const std::vector<PathPair>& pairs = r.pairs;
  const Eigen::Index D = r.outputs;

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
