// Provenance — how an output was made, recorded in every file attnpaths writes
// (issue 12): the attnpaths version, the git commit of the source it was built
// from, the compiler and BLAS, the command line, the config file (path and
// SHA-256 of its bytes) and every seed and setting that changes the result.
//
//   attnpaths::Provenance run({"attnpaths", "solve", "--config", "run.toml"});
//   run.SetConfig("run.toml");                     // path + SHA-256, read now
//   run.Set("solver", {{"method", "lbfgs"}, {"gradient_tolerance", 1e-9}});
//   run.Set("seed", 7);
//   summary["provenance"] = run.Json();            // JSON outputs: a "provenance" object
//   csv = run.CsvComment() + "N,T,...\n" + rows;   // CSV: "# provenance: {...}" first line
//   attnpaths::WriteHdf5(path, datasets, run.Hdf5Attributes());  // HDF5: root attributes
//
// The JSON object holds attnpaths_version, git_commit, git_dirty, build
// (compiler, build type, flags, library versions), blas (the BLAS library
// linked into the program and the core type it runs), command_line (array of
// arguments), working_directory, config ({path, sha256} or null), settings
// (what Set recorded) and created (UTC, ISO 8601). docs/formats.md describes it.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "data/hdf5_file.h"

namespace attnpaths {

// Fixed when the library is built.
struct BuildInfo {
  std::string version;     // "0.1.0" (CMake's project version)
  std::string git_commit;  // 40 hex digits, or "unknown" outside a git checkout
  bool git_dirty = false;  // the checkout had uncommitted changes to tracked files
  std::string compiler;    // "GNU 12.2.0"
  std::string build_type;  // "Release"
  std::string flags;       // "-O2 -DNDEBUG" plus "-march=native" when ATTNPATHS_NATIVE
  std::string libraries;   // "Eigen 3.4.0, Ceres 2.1.0, ..."
};
const BuildInfo& GetBuildInfo();

// The BLAS the running program links: "OpenBLAS 0.3.21 ... (core: SkylakeX)",
// or "not OpenBLAS (no openblas_get_config)" when another or none is linked.
std::string BlasDescription();

// `attnpaths --version`: version, commit, compiler, build, libraries and BLAS, one per line.
std::string VersionText();

class Provenance {
 public:
  // Records the working directory and the time (UTC) now.
  Provenance() : Provenance(std::vector<std::string>{}) {}
  explicit Provenance(std::vector<std::string> command_line);

  // Records `path` and the SHA-256 of its bytes (read now, so a file changed
  // later does not match). Throws Error naming the path when it cannot be read.
  void SetConfig(const std::string& path);
  // settings[key] = value; a seed, or an object of solver / sampler options.
  void Set(const std::string& key, nlohmann::json value);
  const nlohmann::json& settings() const { return settings_; }

  nlohmann::json Json() const;
  // One line, "# provenance: " followed by Json() on one line, and "\n".
  std::string CsvComment() const;
  // Root attributes: attnpaths_version, git_commit, command_line (shell-quoted),
  // config_path and config_sha256 (when set), every scalar setting by its key,
  // and "provenance" holding Json() as text.
  std::vector<Hdf5Attribute> Hdf5Attributes() const;

 private:
  std::vector<std::string> command_line_;
  std::string working_directory_;
  std::string created_;  // when the Provenance was made (UTC, ISO 8601)
  std::string config_path_, config_sha256_;
  nlohmann::json settings_ = nlohmann::json::object();
};

// Arguments joined with spaces, each quoted for a POSIX shell when needed.
std::string ShellQuote(const std::vector<std::string>& arguments);

}  // namespace attnpaths
