// SettingsFlags — command-line flags bound to the study settings' own fields
// (study/settings.h): one flag per field that names one (--chains, --seed,
// --gradient-tolerance, …), its help and default taken from the field, its
// value applied over the study file's table. So a setting has one default
// (its Options initialiser), one description and one parser.
//
//   SettingsFlags flags;
//   flags.Add(cmd, {"sampler"});          // at registration
//   StudySettings s = flags.Read(study);  // after the study is loaded
#pragma once

#include <CLI/CLI.hpp>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "data/config.h"
#include "study/settings.h"

namespace attnpaths::cli {

class SettingsFlags {
 public:
  // Registers the flags of the named tables ("solver", "sampler", "pruning").
  void Add(CLI::App* cmd, const std::vector<std::string>& tables);
  // The study's [solver]/[sampler]/[pruning] tables, then the flags given
  // (messages name the flag), validated.
  StudySettings Read(const Study& study) const;
  // Whether --<flag> was given.
  bool Given(const std::string& flag) const;

 private:
  struct Bound {
    std::string table, key, flag;
    CLI::Option* option = nullptr;
    std::shared_ptr<std::string> text;               // one value
    std::shared_ptr<std::vector<std::string>> list;  // a list (kEnumList)
  };
  std::vector<Bound> bound_;
};

}  // namespace attnpaths::cli
