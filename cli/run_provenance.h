// The provenance of a command's outputs (data/provenance.h): the process's
// command line, the config file, and the settings each command records —
// every seed and every option that changes its result. Each writer adds
// run.Json() under "provenance" to its JSON, run.CsvComment() before its CSV
// header and run.Hdf5Attributes() to its HDF5 files.
//
//   Provenance run = CommandProvenance(g, study.config_path);
//   RecordStudy(study, g, &run);
//   run.Set("solver", SolverSettings(options));
//   summary["provenance"] = run.Json();
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "cli/commands.h"
#include "cli/solution_source.h"
#include "data/config.h"
#include "data/provenance.h"
#include "kernels/path_kernel.h"
#include "sampler/sample.h"
#include "solver/solve.h"
#include "study/run_record.h"

namespace attnpaths::cli {

// The command line of this process (GlobalOptions::command_line) and, when
// `config_path` is not empty, the config file's path and SHA-256.
Provenance CommandProvenance(const GlobalOptions& g, const std::string& config_path);

// RecordStudy (study/run_record.h) with the command's --threads.
inline void RecordStudy(const Study& study, const GlobalOptions& g, Provenance* run) {
  RecordStudy(study, g.threads, run);
}

// RecordSolution (study/analysed_solution.h) with the command's --threads.
inline void RecordSolution(const AnalysedSolution& s, const GlobalOptions& g, Provenance* run) {
  RecordSolution(s, g.threads, run);
}

// {"path": spec, "sha256": …} of an input file ("x.npy", or "data.h5:/train/x"
// whose file part is hashed).
nlohmann::json InputFileRecord(const std::string& spec);
// {"path": dir, "sha256": …}: one SHA-256 over the names and SHA-256 of every
// regular file in `dir` (sorted by name), e.g. a trained network's weights.
nlohmann::json DirectoryRecord(const std::string& dir);

}  // namespace attnpaths::cli
