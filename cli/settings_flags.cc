#include "cli/settings_flags.h"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

#include "kernels/error.h"

namespace attnpaths::cli {
namespace {

std::string DefaultText(const OptionValue& v) {
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  if (const auto* l = std::get_if<std::vector<std::string>>(&v)) {
    std::string out;
    for (const auto& t : *l) out += (out.empty() ? "" : " ") + t;
    return out;
  }
  return OptionText(v);
}

}  // namespace

void SettingsFlags::Add(CLI::App* cmd, const std::vector<std::string>& tables) {
  StudySettings defaults;
  for (const SettingsTable& t : SettingsTables(&defaults)) {
    if (std::find(tables.begin(), tables.end(), t.name) == tables.end()) continue;
    for (const OptionField& f : t.fields) {
      if (f.flag.empty()) continue;
      Bound b{t.name,
              f.key,
              f.flag,
              nullptr,
              std::make_shared<std::string>(),
              std::make_shared<std::vector<std::string>>()};
      std::string help = f.help;
      help[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(help[0])));
      help += " ([" + t.name + "] " + f.key + "; default " + DefaultText(f.get()) + ")";
      b.option = f.kind == OptionKind::kEnumList ? cmd->add_option("--" + f.flag, *b.list, help)
                                                 : cmd->add_option("--" + f.flag, *b.text, help);
      bound_.push_back(std::move(b));
    }
  }
}

bool SettingsFlags::Given(const std::string& flag) const {
  for (const Bound& b : bound_) {
    if (b.flag == flag) return b.option->count() > 0;
  }
  return false;
}

StudySettings SettingsFlags::Read(const Study& study) const {
  StudySettings s;
  ApplyStudyTables(study, &s);
  std::vector<SettingsTable> tables = SettingsTables(&s);
  for (const Bound& b : bound_) {
    if (b.option->count() == 0) continue;
    for (const SettingsTable& t : tables) {
      if (t.name != b.table) continue;
      const OptionField& f = FindOption(t.fields, b.key, "--");
      if (f.kind == OptionKind::kEnumList) {
        f.Set(*b.list, "--" + b.flag);
      } else {
        f.SetText(*b.text, "--" + b.flag);
      }
    }
  }
  s.pruning.solve = s.solve;
  s.pruning.kernel = study.kernel;
  ValidateStudySettings(s, "");
  return s;
}

}  // namespace attnpaths::cli
