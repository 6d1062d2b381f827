// Reading a command's TOML file table by table, with every error naming the
// file and key ("h.toml: hessian.tokens: found the string \"x\", expected an
// integer") and unknown keys rejected with the nearest valid one.
//
//   const TomlDocument doc(path, "attnpaths hessian");   // parses, or throws Error
//   const TomlTable top = doc.Root();
//   top.Allow({"hessian", "output"});
//   const TomlTable h = top.Sub("hessian");
//   h.Allow({"tokens", "seed"});
//   h.ReadInteger("tokens", &tokens);                    // absent keys keep their value
//   std::string out;  h.Read("directory", &out);  doc.Resolve(&out);
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace attnpaths::cli {

class TomlTable {
 public:
  // `table` is a toml::table* (opaque here, so that this header stays light).
  TomlTable(const void* table, std::string name, std::string file, std::string command)
      : t_(table), name_(std::move(name)), file_(std::move(file)), command_(std::move(command)) {}

  // "file: table.key", the name errors use.
  std::string Field(std::string_view key) const;
  bool Has(std::string_view key) const;
  bool IsTable(std::string_view key) const;  // the key holds a (possibly inline) table
  // Throws Error for a key not in `keys` (suggesting the nearest one).
  void Allow(const std::vector<std::string>& keys) const;
  // The sub-table `key` (empty when absent); throws Error when it is not a table.
  TomlTable Sub(std::string_view key) const;

  // Each reads the key when present (else leaves *v) and throws Error naming
  // the field when the value has another type.
  void Read(std::string_view key, double* v) const;  // integers are accepted
  void Read(std::string_view key, std::string* v) const;
  void Read(std::string_view key, bool* v) const;
  void Read(std::string_view key, std::vector<Eigen::Index>* v) const;
  void Read(std::string_view key, std::vector<double>* v) const;
  // A matrix written as an array of equal-length rows of numbers.
  void Read(std::string_view key, Eigen::MatrixXd* v) const;
  // An array of integer arrays (e.g. token pairs [[0, 1], [1, 1]]).
  void Read(std::string_view key, std::vector<std::vector<Eigen::Index>>* v) const;
  // True when the key holds a string (for keys that take a string or a number).
  bool HasString(std::string_view key) const;
  void Read(std::string_view key, std::vector<std::string>* v) const;
  template <typename Int>
  void ReadInteger(std::string_view key, Int* v) const {
    std::int64_t i = 0;
    if (ReadInt64(key, &i)) *v = static_cast<Int>(i);
  }
  // A seed: an integer >= 0.
  void ReadSeed(std::string_view key, std::uint64_t* v) const;

 private:
  bool ReadInt64(std::string_view key, std::int64_t* v) const;

  const void* t_;
  std::string name_, file_, command_;
};

// A parsed TOML file.
class TomlDocument {
 public:
  // Reads and parses `path`; throws Error "<path>: invalid TOML: … (line n)".
  // `command` names the command in unknown-key messages.
  TomlDocument(const std::string& path, std::string command);
  ~TomlDocument();
  TomlTable Root() const;
  // Makes a relative path in the file relative to the file's folder.
  void Resolve(std::string* path) const;

 private:
  std::string path_, command_, base_dir_;
  std::shared_ptr<const void> root_;  // the toml::table
};

}  // namespace attnpaths::cli
