#include "study/settings.h"

#include <variant>

#include "kernels/error.h"

namespace attnpaths {

std::vector<SettingsTable> SettingsTables(StudySettings* s) {
  return {{"solver", SolveOptionFields(&s->solve)},
          {"sampler", SampleOptionFields(&s->sample)},
          {"pruning", PruningOptionFields(&s->pruning)}};
}

void ValidateStudySettings(const StudySettings& s, const std::string& prefix) {
  std::string error;
  if (!s.solve.IsValid(&error)) throw Error(prefix + error);
  if (!s.sample.IsValid(&error)) throw Error(prefix + error);
  if (!s.pruning.IsValid(&error)) throw Error(prefix + error);
}

void ApplyStudyTables(const Study& study, StudySettings* s) {
  for (const SettingsTable& t : SettingsTables(s)) {
    const OptionTable& table = t.name == "solver"    ? study.solver_table
                               : t.name == "sampler" ? study.sampler_table
                                                     : study.pruning_table;
    ApplyOptionTable(table, t.fields);
  }
}

StudySettings ReadStudySettings(const Study& study) {
  StudySettings s;
  ApplyStudyTables(study, &s);
  s.pruning.solve = s.solve;
  s.pruning.kernel = study.kernel;
  ValidateStudySettings(s, study.config_path.empty() ? "" : study.config_path + ": ");
  return s;
}

nlohmann::json OptionsJson(const std::vector<OptionField>& fields) {
  nlohmann::json j = nlohmann::json::object();
  for (const OptionField& f : fields) {
    j[f.key] = std::visit([](const auto& x) { return nlohmann::json(x); }, f.get());
  }
  return j;
}

}  // namespace attnpaths
