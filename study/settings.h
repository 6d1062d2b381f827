// StudySettings — the solver, sampler and pruning settings of a study, read
// from its [solver], [sampler] and [pruning] tables into the library's own
// Options (whose initialisers are the only defaults), then command-line flags
// on top.
//
//   Study study = LoadStudy("run.toml");
//   StudySettings s = ReadStudySettings(study);   // every key checked here
//   Solve(action, s.solve, &summary);
//
// Unknown keys name the nearest valid one; values of the wrong type or out of
// range name the field; the result passes each Options::IsValid.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "data/config.h"
#include "kernels/option_field.h"
#include "sampler/sample.h"
#include "solver/pruning.h"
#include "solver/solve.h"

namespace attnpaths {

struct StudySettings {
  SolveOptions solve;
  SampleOptions sample;
  // orders, random_repeats and seed; solve and kernel are the study's.
  PruningOptions pruning;
};

StudySettings ReadStudySettings(const Study& study);

// The study's tables set on *settings, unvalidated (command-line flags go on
// top, then ValidateStudySettings).
void ApplyStudyTables(const Study& study, StudySettings* settings);

// One table of settings: its name in a study file, and its fields bound to
// the Options of `settings` (for the command line, docs and provenance).
struct SettingsTable {
  std::string name;  // "solver", "sampler", "pruning"
  std::vector<OptionField> fields;
};
std::vector<SettingsTable> SettingsTables(StudySettings* settings);

// Throws Error(prefix + message) unless every Options of `settings` is valid.
void ValidateStudySettings(const StudySettings& settings, const std::string& prefix);

// The fields of one settings table as JSON (numbers exact, enums by name), as
// provenance records them.
nlohmann::json OptionsJson(const std::vector<OptionField>& fields);

}  // namespace attnpaths
