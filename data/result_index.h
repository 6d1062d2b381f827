// The "files" record of an index file (summary.json, heads.json, …): every
// other file of the result with its size and fingerprint (data/result_folder.h),
// written by the command and verified by every reader.
//
//   summary["files"] = FilesJson(out.Staged({"U_1.npy", "U_a.npy"}));
//   ...
//   if (!VerifyIndexFiles(summary, dir, dir + "/summary.json")) WarnUnchecked(...);
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "data/result_folder.h"

namespace attnpaths {

// {"U_1.npy": {"bytes": 176, "fingerprint": "…"}, …}
nlohmann::json FilesJson(const std::vector<ResultFile>& files);

// Checks that every file `index["files"]` lists is in `dir` with that size and
// fingerprint; throws Error naming the file otherwise (a mixed or incomplete
// folder). Returns false when the index has no "files" record (written by an
// older attnpaths or by hand).
bool VerifyIndexFiles(const nlohmann::json& index, const std::string& dir,
                      const std::string& index_file);

}  // namespace attnpaths
