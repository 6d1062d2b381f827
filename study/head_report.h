// HeadReport — `attnpaths heads` as library calls: the head relevance scores
// of a solution's U_1 (theory.md §6, §9), their ranking and the path-pair view
// of U_1, as the JSON and CSV the command writes (heads.json, heads.csv;
// docs/formats.md).
//
//   AnalysedSolution s = LoadForAnalysis(study, "runs/a");   // study/analysed_solution.h
//   const HeadReport r = ReportHeads(s.study.architecture, s.order_parameters.U[0]);
//   r.ranking[0].name;                                       // the most relevant head
//   ResultFolder out("runs/a", HeadsFiles());
//   CommitAnalysis(out, HeadsDocument(s, r, run), "heads.json", "heads.csv", 2);
#pragma once

#include <Eigen/Core>
#include <string>
#include <vector>

#include "data/provenance.h"
#include "kernels/architecture.h"
#include "solver/head_relevance.h"
#include "study/analysed_solution.h"
#include "study/analysis_document.h"

namespace attnpaths {

struct HeadReport {
  HeadRelevance relevance;               // scores[ℓ-1][h], names
  std::vector<HeadScore> ranking;        // most relevant first
  std::vector<std::string> path_labels;  // every path in packing order
  std::vector<PathPair> pairs;           // U_1's upper triangle, largest |U| first
  Eigen::Index outputs = 1;              // D
  Eigen::MatrixXd U1;                    // (Htot D) × (Htot D)
};

// Scores, ranking and path pairs of U_1 for `arch` (Error as ScoreHeads).
HeadReport ReportHeads(const Architecture& arch, const Eigen::Ref<const Eigen::MatrixXd>& U1);

// heads.json (SolutionJson of `s`, the definition, the ranking, scores, head
// names, path labels, U_1 and the path pairs, `run` as provenance) and
// heads.csv (rank, layer, head, name, score, raw).
AnalysisDocument HeadsDocument(const AnalysedSolution& s, const HeadReport& r,
                               const Provenance& run);

// The files of `attnpaths heads` as ResultFolder patterns.
std::vector<std::string> HeadsFiles();

}  // namespace attnpaths
