// The files of a solution (solve, gp, compare; docs/formats.md): U_<l>.npy,
// U_a.npy, test_mean/variance/covariance.npy and summary.json, staged in a
// ResultFolder (data/result_folder.h) and committed by the caller.
//
//   ResultFolder out("runs/a", SolutionFiles());
//   StageSolution(out, row, stats, {{"temperature", T}, {"provenance", run.Json()}});
//   out.Commit({"summary.json"});
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "data/config.h"
#include "data/result_folder.h"
#include "solver/predictor.h"
#include "study/result_row.h"

namespace attnpaths {

// The files of a solution (solve, gp, compare) as ResultFolder patterns.
std::vector<std::string> SolutionFiles();

// Stages U_<l>.npy, U_a.npy, test_mean.npy, test_variance.npy,
// test_covariance.npy (docs/formats.md: with one output U_a.npy is a scalar and
// test_variance.npy has shape (P*,); with D outputs (D, D) and (P*, D)) and then
// summary.json (the row, `extra` and "files": their fingerprints) in `out`;
// the caller commits with out.Commit({..., "summary.json"}).
// Returns the JSON written (what --json prints).
nlohmann::json StageSolution(ResultFolder& out, const ResultRow& row,
                             const PredictorStatistics& stats, const nlohmann::json& extra);

// StageSolution with the records every solution of a study carries in
// summary.json: its temperature, `provenance` and what it was solved for
// (study/solved_for.h), besides the fields of `extra`.
nlohmann::json StageStudySolution(ResultFolder& out, const Study& study, const ResultRow& row,
                                  const PredictorStatistics& stats, double temperature,
                                  const nlohmann::json& provenance, nlohmann::json extra = {});

// Stages <prefix>_mean.npy (P* × D), <prefix>_variance.npy ((P*,) for one
// output, else P* × D) and <prefix>_covariance.npy (P* × D × D, theory.md §9)
// in `out`; returns the file names staged.
std::vector<std::string> StagePredictorArrays(ResultFolder& out, const std::string& prefix,
                                              const PredictorStatistics& stats);

// U_a as written to NPY and JSON: a scalar for one output, else D × D.
void WriteReadoutNpy(const std::string& path, const Eigen::MatrixXd& U_a);

}  // namespace attnpaths
