// Sweep — the theory solved on a grid of widths × temperatures, resumable,
// written as one result folder (docs/cli.md "sweep", docs/formats.md).
//
//   const Study study = LoadStudy("run.toml");
//   SweepOptions options;
//   options.widths = {100, 30, 10};          // default: the study's [sweep] widths
//   options.progress = [](const SweepProgress& p) { /* p.done of p.total */ };
//   SweepSummary summary;
//   const SweepResult r = Sweep(study, options, &summary);
//   std::cout << summary.BriefReport() << "\n" << r.csv;
//
// Points of one temperature form a chain in decreasing N: the largest width
// starts from U_GP (theory.md §8), every other point from the solution of the
// next larger width (continuation in N). Chains run in parallel. Each finished
// point is written atomically to <output>/points/ at once, beside a
// sweep_manifest.json holding a fingerprint of the study file's text and the
// grid and the fingerprints of every array the study read. A sweep started
// again with the same study, grid and data loads the finished points (their U
// is stored exactly) and solves only the missing ones, so it ends with exactly
// the result of an uninterrupted run; another study, grid or data is refused
// with an Error naming the manifest. sweep.csv and sweep.json are committed
// together at the end (data/result_folder.h). The library prints nothing.
#pragma once

#include <cstddef>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "data/config.h"
#include "data/provenance.h"

namespace attnpaths {

// Reported after the path inputs are computed and after every point; calls
// are serialised (never two at once), from the sweep's threads.
struct SweepProgress {
  bool computing_path_inputs = false;  // true once, before any point
  std::size_t done = 0;                // points finished (solved or loaded)
  std::size_t solved = 0;              // of those, solved in this run
  std::size_t total = 0;               // widths × temperatures
  bool point_solved = false;           // the point just finished was solved (not loaded)
  double elapsed_seconds = 0;          // since Sweep was called
};

struct SweepOptions {
  // Widths N (every n_l = N, theory.md §8); empty: the study's [sweep]
  // widths, or its one width when it has none. Values >= 1, no duplicates.
  std::vector<double> widths;
  // Temperatures; empty: the study's. Values >= 0, no duplicates.
  std::vector<double> temperatures;
  // The result folder; empty: the study's [output] directory.
  std::string output;
  // Parallel chains (one per temperature); 0: all cores (parallel/cpu_budget.h).
  int threads = 0;
  // The caller's record (command line, config file); the sweep adds the
  // study (study/run_record.h), the grid, the solver settings and the
  // continuation rule. Its Json() goes into every point and sweep.json,
  // its CsvComment() above sweep.csv.
  Provenance provenance;
  // Called as described at SweepProgress; may be empty.
  std::function<void(const SweepProgress&)> progress;

  bool IsValid(std::string* error) const;
};

struct SweepSummary {
  std::string output;         // the folder written
  std::size_t points = 0;     // widths × temperatures
  std::size_t solved = 0;     // solved in this run
  std::size_t loaded = 0;     // finished points loaded from an earlier run
  bool all_converged = true;  // every point passed the gradient test
  double total_seconds = 0;

  // "sweep: 6 points (4 solved, 2 loaded), all converged, 1.2 s"
  std::string BriefReport() const;
  // The brief report and the folder, one figure per line.
  std::string FullReport() const;
};

struct SweepResult {
  // The rows in the order widths × temperatures were given (temperature
  // outer), as sweep.json's "points": N, temperature, widths, action,
  // iterations, gradient_norm, test_accuracy, generalization_error, U, U_a,
  // outputs, converged, termination, hessian_min_eigenvalue.
  nlohmann::json points;
  nlohmann::json json;  // the whole sweep.json: {"provenance", "points"}
  std::string csv;      // the whole sweep.csv (provenance comment, header, rows)
};

// Solves (or loads) every point and writes <output>/points/*.json,
// sweep_manifest.json, sweep.csv and sweep.json. Throws Error on invalid
// options, a folder of another sweep or data, a point whose action cannot be
// evaluated; points finished before the error stay for a resume. A point
// that does not converge is kept with converged = false (summary.all_converged).
SweepResult Sweep(const Study& study, const SweepOptions& options, SweepSummary* summary);

}  // namespace attnpaths
