#include "study/head_report.h"

#include "kernels/paths.h"
#include "study/result_row.h"

namespace attnpaths {

HeadReport ReportHeads(const Architecture& arch, const Eigen::Ref<const Eigen::MatrixXd>& U1) {
  HeadReport r;
  r.relevance = ScoreHeads(arch, U1);
  r.ranking = r.relevance.Ranking();
  r.path_labels = PathLabels(Paths(arch.heads_per_layer()), r.relevance.names);
  r.pairs = PathPairView(arch, U1);
  r.outputs = U1.rows() / arch.Htot();
  r.U1 = U1;
  return r;
}

AnalysisDocument HeadsDocument(const AnalysedSolution& s, const HeadReport& r,
                               const Provenance& run) {
  const Eigen::Index D = s.order_parameters.outputs();
  AnalysisDocument doc;
  nlohmann::json& j = doc.json;
  j = SolutionJson(s);
  j["outputs"] = D;
  j["definition"] =
      "score of head h in layer l: sum of |U_1| over entries whose row or column "
      "path passes through h (each entry once; with several outputs every output "
      "pair (d, d') of such entries counts), divided by the largest such sum "
      "over all heads (theory.md sections 6, 9)";
  j["heads"] = nlohmann::json::array();
  j["provenance"] = run.Json();
  doc.csv = run.CsvComment() + "rank,layer,head,name,score,raw\n";
  for (size_t i = 0; i < r.ranking.size(); ++i) {
    const HeadScore& h = r.ranking[i];
    j["heads"].push_back({{"rank", i + 1},
                          {"layer", h.id.layer},
                          {"head", h.id.head + 1},
                          {"name", h.name},
                          {"score", h.score},
                          {"raw", h.raw}});
    doc.csv += std::to_string(i + 1) + "," + std::to_string(h.id.layer) + "," +
               std::to_string(h.id.head + 1) + "," + CsvField(h.name) + "," + ExactNumber(h.score) +
               "," + ExactNumber(h.raw) + "\n";
  }
  j["scores"] = r.relevance.score;  // scores[l-1][h-1]
  j["head_names"] = r.relevance.names;
  j["path_labels"] = r.path_labels;
  nlohmann::json U = nlohmann::json::array();
  for (Eigen::Index i = 0; i < r.U1.rows(); ++i) {
    nlohmann::json row = nlohmann::json::array();
    for (Eigen::Index k = 0; k < r.U1.cols(); ++k) row.push_back(r.U1(i, k));
    U.push_back(std::move(row));
  }
  j["U_1"] = std::move(U);
  j["path_pairs"] = nlohmann::json::array();
  for (const PathPair& p : r.pairs) {
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
  return doc;
}

std::vector<std::string> HeadsFiles() { return {"heads.json", "heads.csv"}; }

}  // namespace attnpaths
