// The output directory of commands that check it before their work begins.
#pragma once

#include <string>

namespace attnpaths::cli {

// Throws Error naming `dir` unless it is, or can be created as, a writable
// directory; creates nothing (so a failed run leaves nothing behind).
void CheckOutputDirectory(const std::string& dir, const std::string& field);

}  // namespace attnpaths::cli
