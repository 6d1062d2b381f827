// PruneStudy — `attnpaths prune` as library calls: heads removed in
// increasing, random and decreasing order of relevance from a study's
// solution, by silencing (the paper's, theory.md §6) and/or by re-solving
// each reduced network on the full network's path inputs (solver/pruning.h),
// and the JSON and CSV the command writes (pruning.json, pruning.csv;
// docs/formats.md).
//
//   AnalysedSolution s = SolveForAnalysis(study, std::nullopt, settings.solve, 0);
//   PruneStudyResult r = PruneStudy(s, ParsePruningModes("both", "mode"),
//                                   ReadStudySettings(study).pruning, /*threads=*/0);
//   r.runs[0].result.curves[0].steps[1].accuracy;   // silencing, after one removal
//   ResultFolder out("runs/p", PruningFiles());
//   CommitAnalysis(out, PruningDocument(s, r, run), "pruning.json", "pruning.csv", 1);
//
// Progress goes through options.progress (PruningProgress says which mode).
#pragma once

#include <string>
#include <vector>

#include "data/provenance.h"
#include "solver/pruning.h"
#include "study/analysed_solution.h"
#include "study/analysis_document.h"

namespace attnpaths {

// The modes run when none is named (the command's --mode, Python's mode=).
inline constexpr const char* kDefaultPruningModes = "both";

// The modes of "silence", "resolve" or "both" (silence first); Error naming
// `field` otherwise.
std::vector<PruningMode> ParsePruningModes(const std::string& text, const std::string& field);

// What each mode computes, as reports label it.
const char* PruningModeLabel(PruningMode mode);

struct PruneStudyResult {
  struct Run {
    PruningResult result;
    PruningSummary summary;
  };
  std::vector<Run> runs;   // one per mode, in the order asked
  PruningOptions options;  // as used (threads included)
  // The solution was converged and every reduced network converged.
  bool all_converged = true;
  // "silence", "resolve" or "both".
  std::string ModeName() const;
};

// Prunes the solution `s` (its kernels built once, AnalysisKernels) in each of
// `modes` with `options` (orders, repeats, seed; re-solve: solver and kernel
// settings); `threads` for the path inputs. The study must have test labels
// (Error naming data.test_y otherwise).
PruneStudyResult PruneStudy(AnalysedSolution& s, const std::vector<PruningMode>& modes,
                            PruningOptions options, int threads);

// pruning.json (SolutionJson, orders, repeats, seed, the rule, the full
// network's scores, each mode's curves with its label and brief report, `run`
// as provenance) and pruning.csv (one row per mode, curve and step).
AnalysisDocument PruningDocument(const AnalysedSolution& s, const PruneStudyResult& r,
                                 const Provenance& run);

// The files of `attnpaths prune` as ResultFolder patterns.
std::vector<std::string> PruningFiles();

}  // namespace attnpaths
