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
