// Warnings about loaded solutions (the records themselves: study/solved_for.h).
#pragma once

#include <string>

#include "study/solved_for.h"

namespace attnpaths::cli {

// Prints "warning: <file> records no solved_for ..." on stderr (not silenced by --quiet,
// which silences progress only).
void WarnUnchecked(const std::string& file);

}  // namespace attnpaths::cli
