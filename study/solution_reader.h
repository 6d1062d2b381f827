// LoadSolution — a solution read back for a study: a folder written by
// `attnpaths solve` or `gp` (summary.json, U_<l>.npy, U_a.npy), its
// summary.json alone, or a sweep point file (<out>/points/N10_T0.01.json).
//
//   const Study study = LoadStudy("run.toml");
//   const LoadedSolution s = LoadSolution(study, "runs/a");
//   if (!s.unchecked.empty()) warn(UncheckedWarning(s.unchecked));
//   const StudyKernels k = BuildKernels(s.study, 0);   // at the solution's widths
//   Predict(*k.train, s.study.train.y, s.temperature, s.order_parameters.U[0], k.test, ...);
//
// Every reader checks what the solution was solved for (study/solved_for.h:
// heads, readout, variances, outputs, training data), the files its
// summary.json lists (data/result_index.h), the shapes of U_l and U_a
// against the study's architecture and D outputs, U_l symmetric and U_a
// positive; each failure is an Error naming the file and the field.
#pragma once

#include <optional>
#include <string>

#include "data/config.h"
#include "solver/order_parameters.h"

namespace attnpaths {

struct LoadedSolution {
  Study study;  // the study, widths set to the solution's
  double temperature = 0;
  std::optional<double> N;  // empty for a GP-limit solution (or unequal widths)
  OrderParameters order_parameters;
  bool converged = true;
  // A file lacking the records readers check (solved_for, files), once the
  // solution passed every other check; empty otherwise.
  std::string unchecked;
};

// Reads `path` (a directory, or a JSON file) for `study`; `field` names the
// path in errors ("--solution", "solution").
LoadedSolution LoadSolution(const Study& study, const std::string& path,
                            const std::string& field = "solution");

}  // namespace attnpaths
