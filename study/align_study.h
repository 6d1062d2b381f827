// AlignStudy — `attnpaths align` as library calls: the kernel–task alignment
// (theory.md §7, §9) of a solution's training kernel K_U and of the GP kernel
// (no T added), and the JSON and CSV the command writes (alignment.json,
// alignment.csv; docs/formats.md).
//
//   AnalysedSolution s = LoadForAnalysis(study, "runs/a");   // study/analysed_solution.h
//   AlignmentOptions options;                                // 30 leading components
//   const AlignStudyResult r = AlignStudy(s, options, /*threads=*/0);
//   r.theory.cumulative(4);                                  // |y|² share in 5 components
//   ResultFolder out("runs/a", AlignmentFiles());
//   CommitAnalysis(out, AlignmentDocument(s, r, run), "alignment.json", "alignment.csv", 1);
#pragma once

#include <string>
#include <vector>

#include "data/provenance.h"
#include "solver/alignment.h"
#include "study/analysed_solution.h"
#include "study/analysis_document.h"

namespace attnpaths {

struct AlignStudyResult {
  KernelAlignment theory;  // K_U of the solution's U_1
  KernelAlignment gp;      // K_U of U_GP (every width infinite)
  AlignmentOptions options;
};

// Both alignments on the study's training set (its kernels built once,
// AnalysisKernels; `threads` for the path inputs). Error as AlignKernel.
AlignStudyResult AlignStudy(AnalysedSolution& s, const AlignmentOptions& options, int threads);

// alignment.json (SolutionJson, components, outputs, the definition, theory
// and GP eigenvalues, overlaps, cumulative shares, trace and kernel–target
// alignment; `run` with the components as provenance) and alignment.csv (one
// row per component).
AnalysisDocument AlignmentDocument(const AnalysedSolution& s, const AlignStudyResult& r,
                                   const Provenance& run);

// The files of `attnpaths align` as ResultFolder patterns.
std::vector<std::string> AlignmentFiles();

}  // namespace attnpaths
