#include "cli/study_run.h"

#include <unistd.h>

#include <filesystem>
#include <system_error>

#include "kernels/error.h"

namespace attnpaths::cli {

void CheckOutputDirectory(const std::string& dir, const std::string& field) {
  std::filesystem::path p = std::filesystem::absolute(dir);
  std::error_code ec;
  while (!std::filesystem::exists(p, ec) && p.has_parent_path() && p != p.parent_path()) {
    p = p.parent_path();
  }
  if (!std::filesystem::is_directory(p, ec) || access(p.c_str(), W_OK | X_OK) != 0) {
    throw Error(ErrorMessage(field,
                             "\"" + dir + "\" (" + p.string() + " is not a writable directory)",
                             "a directory that exists or can be created"));
  }
}

}  // namespace attnpaths::cli
