// CompareStudy — `attnpaths compare` as library calls: the theory solved for a
// study (study/solve_study.h) and its finite network sampled at the same
// width, P and temperature on the same path inputs (theory.md §5), put side by
// side (study/comparison.h); WriteComparison writes the command's folder.
//
//   const Study study = LoadStudy("run.toml");
//   const StudySettings s = ReadStudySettings(study);
//   CompareStudyResult r = CompareStudy(study, study.temperatures[0], s.solve, s.sample, 0);
//   std::cout << r.comparison.Table();
//   ResultFolder out("runs/c", ComparisonFiles());         // locked before the work, in practice
//   WriteComparison(out, study, r, run);                   // run: the caller's Provenance
//
// The solve's and the sampler's progress go through their options' callbacks;
// nothing is printed. A sampler run that did not complete gives no rows.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "data/config.h"
#include "data/provenance.h"
#include "data/result_folder.h"
#include "sampler/sample.h"
#include "solver/solve.h"
#include "study/comparison.h"
#include "study/solve_study.h"

namespace attnpaths {

struct CompareStudyResult {
  StudySolution theory;
  SampleResult samples;
  SampleSummary sample_summary;
  SampleOptions sample_options;  // as used
  Comparison comparison;
  // Solved to the gradient test and sampled to the end.
  bool ok() const { return theory.summary.converged() && sample_summary.completed(); }
};

// Solves `study` at `temperature` with `solve`, samples with `sample` on the
// same path inputs (`threads` for the path inputs; sample.threads for chains).
CompareStudyResult CompareStudy(const Study& study, double temperature, const SolveOptions& solve,
                                const SampleOptions& sample, int threads);

// The files of a comparison as ResultFolder patterns: the solution's, the
// sampler's, compare.json and compare.csv.
std::vector<std::string> ComparisonFiles();

// Writes the solution's files (summary.json, U_*.npy, test_*.npy), the
// sampler's (sample_summary.json, draws.h5, …) and compare.csv, compare.json
// into `out` (opened with ComparisonFiles()) and commits them; `run` is the
// caller's provenance, to which the solver and sampler settings and the seed
// are added. Returns compare.json's content.
nlohmann::json WriteComparison(ResultFolder& out, const Study& study, const CompareStudyResult& r,
                               Provenance run);

}  // namespace attnpaths
