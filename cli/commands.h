// The attnpaths command line: one file per subcommand, each registering itself.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

namespace attnpaths::cli {

// Options every subcommand shares.
struct GlobalOptions {
  bool quiet = false;                     // no progress on stderr
  bool json = false;                      // machine-readable stdout
  int threads = 0;                        // 0: every core
  std::vector<std::string> command_line;  // argv, recorded in every output's provenance
};

// Refuses an empty value (`--output ""`), which would otherwise mean "the default".
inline CLI::Validator NonEmptyPath() {
  return CLI::Validator(
      [](std::string& v) {
        return v.empty() ? std::string(
                               "found an empty path, expected a file or directory name "
                               "(leave the option out for the default)")
                         : std::string();
      },
      "PATH");
}

// Each returns the process exit status (0 success, 1 numerical failure reported).
using Command = std::function<int()>;

void RegisterDemo(CLI::App& app, GlobalOptions& global, Command* run);
void RegisterSolve(CLI::App& app, GlobalOptions& global, Command* run);
void RegisterSweep(CLI::App& app, GlobalOptions& global, Command* run);
void RegisterGp(CLI::App& app, GlobalOptions& global, Command* run);
void RegisterPredict(CLI::App& app, GlobalOptions& global, Command* run);
void RegisterCheck(CLI::App& app, GlobalOptions& global, Command* run);
void RegisterHeads(CLI::App& app, GlobalOptions& global, Command* run);
void RegisterPrune(CLI::App& app, GlobalOptions& global, Command* run);
void RegisterAlign(CLI::App& app, GlobalOptions& global, Command* run);
void RegisterSample(CLI::App& app, GlobalOptions& global, Command* run);
void RegisterCompare(CLI::App& app, GlobalOptions& global, Command* run);
void RegisterTrain(CLI::App& app, GlobalOptions& global, Command* run);
void RegisterTrainEval(CLI::App& app, GlobalOptions& global, Command* run);
void RegisterKernelProp(CLI::App& app, GlobalOptions& global, Command* run);
void RegisterShapedSde(CLI::App& app, GlobalOptions& global, Command* run);
void RegisterHessian(CLI::App& app, GlobalOptions& global, Command* run);
void RegisterTrainSweep(CLI::App& app, GlobalOptions& global, Command* run);

}  // namespace attnpaths::cli
