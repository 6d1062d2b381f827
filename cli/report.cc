#include "cli/report.h"

#include <unistd.h>

#include <iostream>

namespace attnpaths::cli {

void ProgressLine(const std::string& text, bool quiet) {
  if (quiet) return;
  static const bool tty = isatty(STDERR_FILENO);
  if (tty) {
    std::cerr << "\r\033[K" << text << std::flush;
  } else {
    std::cerr << text << "\n";
  }
}

void PrintWritten(bool json, const nlohmann::json& summary, const std::string& report,
                  const std::string& dir, const std::vector<std::string>& files) {
  if (json) {
    std::cout << summary.dump(2) << std::endl;
    return;
  }
  std::cout << report << "wrote " << dir << "/";
  for (size_t i = 0; i < files.size(); ++i) std::cout << (i ? ", " : "") << files[i];
  std::cout << "\n";
}

}  // namespace attnpaths::cli
