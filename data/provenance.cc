#include "data/provenance.h"

#include <unistd.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <system_error>

#include "data/sha256.h"
#include "parallel/communicator.h"

// OpenBLAS's self-description, when the program links OpenBLAS (the solver
// does); weak, so data/ itself does not depend on a BLAS.
extern "C" {
char* openblas_get_config(void) __attribute__((weak));
char* openblas_get_corename(void) __attribute__((weak));
}

namespace attnpaths {

std::string BlasDescription() {
  if (openblas_get_config == nullptr) return "not OpenBLAS (no openblas_get_config)";
  std::string text = openblas_get_config();
  while (!text.empty() && text.back() == ' ') text.pop_back();
  if (openblas_get_corename != nullptr)
    text += std::string(" (core: ") + openblas_get_corename() + ")";
  return text;
}

std::string VersionText() {
  const BuildInfo& b = GetBuildInfo();
  std::string text = "attnpaths " + b.version + "\n";
  text += "commit    " + b.git_commit + (b.git_dirty ? " (with uncommitted changes)" : "") + "\n";
  text += "compiler  " + b.compiler + ", " + b.build_type + " (" + b.flags + ")\n";
  text += "libraries " + b.libraries + "\n";
  text += "BLAS      " + BlasDescription() + "\n";
  text += std::string("MPI       ") +
          (MpiBuilt() ? "yes (mpirun -n R attnpaths solve|predict|sweep)" : "no") + "\n";
  return text;
}

std::string ShellQuote(const std::vector<std::string>& arguments) {
  std::string out;
  for (const std::string& a : arguments) {
    if (!out.empty()) out += ' ';
    const bool plain = !a.empty() && a.find_first_not_of(
                                         "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                         "0123456789@%_+=:,./-") == std::string::npos;
    if (plain) {
      out += a;
      continue;
    }
    out += '\'';
    for (char c : a) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    out += '\'';
  }
  return out;
}

Provenance::Provenance(std::vector<std::string> command_line)
    : command_line_(std::move(command_line)) {
  std::error_code ec;
  working_directory_ = std::filesystem::current_path(ec).string();
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm utc{};
  gmtime_r(&now, &utc);
  char created[32];
  std::strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", &utc);
  created_ = created;
}

void Provenance::SetConfig(const std::string& path) {
  config_path_ = path;
  config_sha256_ = path.empty() ? std::string() : Sha256OfFile(path);
}

void Provenance::Set(const std::string& key, nlohmann::json value) {
  settings_[key] = std::move(value);
}

nlohmann::json Provenance::Json() const {
  const BuildInfo& b = GetBuildInfo();
  nlohmann::json j;
  j["attnpaths_version"] = b.version;
  j["git_commit"] = b.git_commit;
  j["git_dirty"] = b.git_dirty;
  j["build"] = {{"compiler", b.compiler},
                {"build_type", b.build_type},
                {"flags", b.flags},
                {"libraries", b.libraries}};
  j["blas"] = BlasDescription();
  j["command_line"] = command_line_;
  j["working_directory"] = working_directory_;
  j["config"] = config_path_.empty()
                    ? nlohmann::json()
                    : nlohmann::json{{"path", config_path_}, {"sha256", config_sha256_}};
  j["settings"] = settings_;
  j["created"] = created_;
  return j;
}

std::string Provenance::CsvComment() const { return "# provenance: " + Json().dump() + "\n"; }

std::vector<Hdf5Attribute> Provenance::Hdf5Attributes() const {
  const BuildInfo& b = GetBuildInfo();
  std::vector<Hdf5Attribute> a;
  a.push_back({"attnpaths_version", b.version});
  a.push_back({"git_commit", b.git_commit});
  a.push_back({"command_line", ShellQuote(command_line_)});
  if (!config_path_.empty()) {
    a.push_back({"config_path", config_path_});
    a.push_back({"config_sha256", config_sha256_});
  }
  for (auto it = settings_.begin(); it != settings_.end(); ++it) {
    const nlohmann::json& v = it.value();
    bool taken = it.key() == "provenance";
    for (const Hdf5Attribute& existing : a) taken = taken || existing.name == it.key();
    if (taken) continue;  // the fixed attributes keep their meaning
    if (v.is_string()) {
      a.push_back({it.key(), v.get<std::string>()});
    } else if (v.is_number_unsigned() && v.get<std::uint64_t>() <= INT64_MAX) {
      a.push_back({it.key(), static_cast<std::int64_t>(v.get<std::uint64_t>())});
    } else if (v.is_number_integer()) {
      a.push_back({it.key(), v.get<std::int64_t>()});
    } else if (v.is_number_float()) {
      a.push_back({it.key(), v.get<double>()});
    } else if (v.is_boolean()) {
      a.push_back({it.key(), std::int64_t{v.get<bool>() ? 1 : 0}});
    } else {
      a.push_back({it.key(), v.dump()});
    }
  }
  a.push_back({"provenance", Json().dump()});
  return a;
}

}  // namespace attnpaths
