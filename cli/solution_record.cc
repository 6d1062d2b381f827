#include "cli/solution_record.h"

#include <iostream>

namespace attnpaths::cli {

void WarnUnchecked(const std::string& file) {
  std::cerr << "warning: " << UncheckedWarning(file) << "\n";
}

}  // namespace attnpaths::cli
