#include "cli/commands.h"

namespace attnpaths::cli {
void RegisterSolve(CLI::App&, GlobalOptions&, Command*) {}
}  // namespace attnpaths::cli
