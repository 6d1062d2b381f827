// The files of a sampler run (`attnpaths sample`, `attnpaths compare`;
// docs/formats.md): draws.h5, sampled_test_*.npy, U_sampled*.npy and a summary
// JSON, staged in a ResultFolder (data/result_folder.h) and committed by the
// caller.
//
//   ResultFolder out("runs/s", SampleFiles());
//   nlohmann::json j = SampleJson(study, result, summary, T);
//   j["provenance"] = run.Json();
//   StageSampleOutputs(out, result, summary, j, "sample_summary.json", run);
//   out.Commit({"sample_summary.json"});
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "data/config.h"
#include "data/provenance.h"
#include "data/result_folder.h"
#include "sampler/sample.h"

namespace attnpaths {

// The sampler's summary and estimates as JSON (no draws).
nlohmann::json SampleJson(const Study& study, const SampleResult& r, const SampleSummary& s,
                          double temperature);

// The files of a sample run as ResultFolder patterns.
std::vector<std::string> SampleFiles();

// Stages draws.h5 (draws [chain, draw, quantity], accept_stat, energy,
// tree_depth, leapfrog_steps, divergent [chain, draw], step_size [chain]),
// sampled_test_mean(_se).npy, sampled_test_variance(_se).npy,
// sampled_test_covariance.npy (P* × D × D), U_sampled(_se).npy and then
// `summary_name` (the JSON `summary` with "files": their fingerprints) in
// `out`; the caller commits. `run` becomes the root attributes of draws.h5
// (the summary carries its own).
void StageSampleOutputs(ResultFolder& out, const SampleResult& r, const SampleSummary& s,
                        nlohmann::json summary, const std::string& summary_name,
                        const Provenance& run);

}  // namespace attnpaths
