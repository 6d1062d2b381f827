// The attnpaths command line: one file per subcommand, each registering itself.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <map>
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

// The flags every command that runs takes: --json (what it prints), --quiet,
// and --threads bound to GlobalOptions::threads (0, its default: every core),
// `threads_use` saying what the threads run.
inline void AddRunFlags(CLI::App* cmd, GlobalOptions& global, const std::string& json_help,
                        const std::string& threads_use) {
  cmd->add_flag("--json", global.json, json_help);
  cmd->add_flag("--quiet", global.quiet, "No progress on stderr");
  cmd->add_option("--threads", global.threads, threads_use + " (0: every core)");
}

// Flags bound to the fields of a command's config, which hold their defaults
// (CLI11 shows them in --help), remembered by name: a TOML value is replaced
// only where its flag was given.
class GivenFlags {
 public:
  template <class T>
  CLI::Option* Add(CLI::App* cmd, const std::string& name, T& field, const std::string& help) {
    return Remember(name, cmd->add_option("--" + name, field, help)->capture_default_str());
  }
  CLI::Option* Remember(const std::string& name, CLI::Option* option) {
    options_[name] = option;
    return option;
  }
  bool Given(const std::string& name) const {
    const auto it = options_.find(name);
    return it != options_.end() && it->second->count() > 0;
  }

 private:
  std::map<std::string, CLI::Option*> options_;
};

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
