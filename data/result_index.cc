#include "data/result_index.h"

#include "kernels/error.h"

namespace attnpaths {

nlohmann::json FilesJson(const std::vector<ResultFile>& files) {
  nlohmann::json j = nlohmann::json::object();
  for (const ResultFile& f : files) {
    j[f.name] = {{"bytes", f.bytes}, {"fingerprint", f.fingerprint}};
  }
  return j;
}

bool VerifyIndexFiles(const nlohmann::json& index, const std::string& dir,
                      const std::string& index_file) {
  if (!index.is_object() || !index.contains("files")) return false;
  const nlohmann::json& files = index["files"];
  Require(files.is_object(), index_file + ": files", files.dump(),
          "an object of file names, sizes and fingerprints written by attnpaths");
  std::vector<ResultFile> expected;
  for (auto it = files.begin(); it != files.end(); ++it) {
    const nlohmann::json& f = it.value();
    const bool ok = f.is_object() && f.contains("bytes") && f["bytes"].is_number_integer() &&
                    f.contains("fingerprint") && f["fingerprint"].is_string() &&
                    it.key().find('/') == std::string::npos;
    Require(ok, index_file + ": files[\"" + it.key() + "\"]", f.dump(),
            "{\"bytes\": <count>, \"fingerprint\": <hex>} for a file of the folder");
    expected.push_back(
        {it.key(), f["bytes"].get<long long>(), f["fingerprint"].get<std::string>()});
  }
  VerifyResultFiles(dir, expected, index_file);
  return true;
}

}  // namespace attnpaths
