#include "cli/run_provenance.h"

#include <algorithm>
#include <filesystem>

#include "cli/settings_flags.h"
#include "cli/study_run.h"
#include "data/sha256.h"
#include "study/run_record.h"
#include "study/settings.h"

namespace attnpaths::cli {

Provenance CommandProvenance(const GlobalOptions& g, const std::string& config_path) {
  Provenance run(g.command_line);
  if (!config_path.empty()) run.SetConfig(config_path);
  return run;
}

void RecordSolution(const AnalysedSolution& s, const GlobalOptions& g, Provenance* run) {
  RecordStudy(s.study, g, run);
  if (s.source == "solved") {
    run->Set("solution", "solved from the config");
    run->Set("solver", SolverSettings(ReadStudySettings(s.study).solve));
    return;
  }
  namespace fs = std::filesystem;
  nlohmann::json files = nlohmann::json::object();
  if (fs::is_directory(s.source)) {
    for (const std::string name : {"summary.json", "U_1.npy"}) {
      const std::string file = (fs::path(s.source) / name).string();
      if (fs::exists(file)) files[name] = Sha256OfFile(file);
    }
  } else {
    files[fs::path(s.source).filename().string()] = Sha256OfFile(s.source);
  }
  run->Set("solution", {{"path", s.source}, {"sha256", files}});
}

nlohmann::json InputFileRecord(const std::string& spec) {
  namespace fs = std::filesystem;
  std::string file = spec;
  const size_t colon = spec.rfind(':');
  if (!fs::exists(spec) && colon != std::string::npos) file = spec.substr(0, colon);
  return {{"path", spec}, {"sha256", Sha256OfFile(file)}};
}

nlohmann::json DirectoryRecord(const std::string& dir) {
  namespace fs = std::filesystem;
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.is_regular_file()) names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  std::string listing;
  for (const std::string& name : names) {
    listing += Sha256OfFile((fs::path(dir) / name).string()) + "  " + name + "\n";
  }
  return {{"path", dir}, {"files", names.size()}, {"sha256", Sha256Hex(listing)}};
}

}  // namespace attnpaths::cli
