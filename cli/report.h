// Printing a command's results: progress lines on stderr and the last lines on
// stdout (rows of results: study/result_row.h).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "study/result_row.h"

namespace attnpaths::cli {

// Progress line on stderr ("\r"-updated on a terminal).
void ProgressLine(const std::string& text, bool quiet);

// The last output of a command that wrote a folder: the summary JSON when
// `json` (--json), else `report` and "wrote <dir>/<file>, <file>, …".
void PrintWritten(bool json, const nlohmann::json& summary, const std::string& report,
                  const std::string& dir, const std::vector<std::string>& files);

}  // namespace attnpaths::cli
