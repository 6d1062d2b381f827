// What every output of a study records in its provenance (data/provenance.h)
// beyond the command line: the study's seed, widths, temperatures, kernel
// settings and threads, and every solver / sampler setting that changes the
// result (issue 12 §2).
//
//   Provenance run(command_line);
//   run.SetConfig(study.config_path);
//   RecordStudy(study, threads, &run);
//   run.Set("solver", SolverSettings(options));
//   summary["provenance"] = run.Json();
#pragma once

#include <nlohmann/json.hpp>

#include "data/config.h"
#include "data/provenance.h"
#include "sampler/sample.h"
#include "solver/solve.h"

namespace attnpaths {

// The study's seed (generators and perturbed heads), its widths, temperatures
// and kernel options, and the threads.
void RecordStudy(const Study& study, int threads, Provenance* run);

// Every field of the options that changes a solution (not the callbacks).
nlohmann::json SolverSettings(const SolveOptions& o);
// Every field of the options that changes a sample (not the callbacks).
nlohmann::json SamplerSettings(const SampleOptions& o);

}  // namespace attnpaths
