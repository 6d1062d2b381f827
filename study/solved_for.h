// What a solution was solved for, recorded beside it and checked by every
// reader (predict, heads, prune, align, LoadSolution): the architecture (heads with their
// kind, β, normalisation, mask and a fingerprint of their parameters; readout;
// widths; prior variances), the number of outputs D, and the training data
// (P and a fingerprint of x and y).
//
//   summary["solved_for"] = SolvedForJson(study);           // when writing
//   if (!CheckSolvedFor(summary, study, "out/summary.json"))  // when reading
//     warn(UncheckedWarning("out/summary.json"));
//
// The widths are recorded but only their count is compared: a solution fixes
// its own widths (a sweep point at N = 10 of a study whose width is 100).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "data/config.h"

namespace attnpaths {

// The "solved_for" object of summary.json and sweep point files.
nlohmann::json SolvedForJson(const Study& study);

// Throws Error naming `file`, the entry that differs, the solution's value
// and the config's when summary["solved_for"] does not describe `study`;
// returns false when the summary has no such record (older or hand-written
// files), true when it matches.
bool CheckSolvedFor(const nlohmann::json& summary, const Study& study, const std::string& file);

// The warning a reader gives when a loaded file lacks solved_for or files
// (the caller prints or raises it; libraries print nothing).
std::string UncheckedWarning(const std::string& file);

}  // namespace attnpaths
