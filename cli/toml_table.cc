#include "cli/toml_table.h"

#include <toml++/toml.h>

#include <algorithm>
#include <filesystem>

#include "data/atomic_file.h"
#include "data/config.h"
#include "kernels/error.h"

namespace attnpaths::cli {

namespace {

const toml::table* AsTable(const void* t) { return static_cast<const toml::table*>(t); }

std::string What(const toml::node& n) {
  if (auto s = n.value_exact<std::string>()) return "the string \"" + *s + "\"";
  if (auto i = n.value_exact<int64_t>()) return "the integer " + std::to_string(*i);
  if (auto d = n.value_exact<double>()) return "the number " + ToText(*d);
  if (auto b = n.value_exact<bool>()) return *b ? "true" : "false";
  if (n.is_array()) return "an array";
  if (n.is_table()) return "a table";
  return "a date/time";
}

}  // namespace

std::string TomlTable::Field(std::string_view key) const {
  return file_ + ": " + (name_.empty() ? "" : name_ + ".") + std::string(key);
}

bool TomlTable::Has(std::string_view key) const { return t_ && AsTable(t_)->get(key); }

bool TomlTable::IsTable(std::string_view key) const {
  const toml::node* n = t_ ? AsTable(t_)->get(key) : nullptr;
  return n && n->is_table();
}

void TomlTable::Allow(const std::vector<std::string>& keys) const {
  if (!t_) return;
  for (const auto& [k, v] : *AsTable(t_)) {
    const std::string key(k.str());
    if (std::find(keys.begin(), keys.end(), key) != keys.end()) continue;
    const std::string near = NearestName(key, keys);
    throw Error(ErrorMessage(Field(key), "an unknown key",
                             near.empty() ? "one of the keys in docs/cli.md (" + command_ + ")"
                                          : "a known key (did you mean \"" + near + "\"?)"));
  }
}

TomlTable TomlTable::Sub(std::string_view key) const {
  const toml::node* n = t_ ? AsTable(t_)->get(key) : nullptr;
  if (n && !n->is_table()) throw Error(ErrorMessage(Field(key), What(*n), "a table"));
  return TomlTable(n ? n->as_table() : nullptr,
                   name_.empty() ? std::string(key) : name_ + "." + std::string(key), file_,
                   command_);
}

void TomlTable::Read(std::string_view key, double* v) const {
  if (const toml::node* n = t_ ? AsTable(t_)->get(key) : nullptr) {
    if (auto i = n->value_exact<int64_t>()) {
      *v = static_cast<double>(*i);
    } else if (auto d = n->value_exact<double>()) {
      *v = *d;
    } else {
      throw Error(ErrorMessage(Field(key), What(*n), "a number"));
    }
  }
}

bool TomlTable::ReadInt64(std::string_view key, std::int64_t* v) const {
  const toml::node* n = t_ ? AsTable(t_)->get(key) : nullptr;
  if (!n) return false;
  auto i = n->value_exact<int64_t>();
  if (!i) throw Error(ErrorMessage(Field(key), What(*n), "an integer"));
  *v = *i;
  return true;
}

void TomlTable::ReadSeed(std::string_view key, std::uint64_t* v) const {
  std::int64_t seed = 0;
  if (!ReadInt64(key, &seed)) return;
  Require(seed >= 0, Field(key), seed, "a value >= 0");
  *v = static_cast<std::uint64_t>(seed);
}

void TomlTable::Read(std::string_view key, std::string* v) const {
  if (const toml::node* n = t_ ? AsTable(t_)->get(key) : nullptr) {
    auto s = n->value_exact<std::string>();
    if (!s) throw Error(ErrorMessage(Field(key), What(*n), "a string"));
    *v = *s;
  }
}

void TomlTable::Read(std::string_view key, bool* v) const {
  if (const toml::node* n = t_ ? AsTable(t_)->get(key) : nullptr) {
    auto b = n->value_exact<bool>();
    if (!b) throw Error(ErrorMessage(Field(key), What(*n), "true or false"));
    *v = *b;
  }
}

void TomlTable::Read(std::string_view key, std::vector<Eigen::Index>* v) const {
  const toml::node* n = t_ ? AsTable(t_)->get(key) : nullptr;
  if (!n) return;
  const toml::array* a = n->as_array();
  if (!a) throw Error(ErrorMessage(Field(key), What(*n), "an array of integers"));
  v->clear();
  for (size_t i = 0; i < a->size(); ++i) {
    auto e = a->get(i)->value_exact<int64_t>();
    if (!e) {
      throw Error(
          ErrorMessage(Field(key) + "[" + std::to_string(i) + "]", What(*a->get(i)), "an integer"));
    }
    v->push_back(static_cast<Eigen::Index>(*e));
  }
}

void TomlTable::Read(std::string_view key, std::vector<double>* v) const {
  const toml::node* n = t_ ? AsTable(t_)->get(key) : nullptr;
  if (!n) return;
  const toml::array* a = n->as_array();
  if (!a) throw Error(ErrorMessage(Field(key), What(*n), "an array of numbers"));
  v->clear();
  for (size_t i = 0; i < a->size(); ++i) {
    const toml::node* e = a->get(i);
    if (auto x = e->value_exact<int64_t>()) {
      v->push_back(static_cast<double>(*x));
    } else if (auto d = e->value_exact<double>()) {
      v->push_back(*d);
    } else {
      throw Error(ErrorMessage(Field(key) + "[" + std::to_string(i) + "]", What(*e), "a number"));
    }
  }
}

void TomlTable::Read(std::string_view key, Eigen::MatrixXd* v) const {
  const toml::node* n = t_ ? AsTable(t_)->get(key) : nullptr;
  if (!n) return;
  const toml::array* a = n->as_array();
  if (!a) throw Error(ErrorMessage(Field(key), What(*n), "an array of rows (arrays of numbers)"));
  Eigen::MatrixXd m;
  for (size_t i = 0; i < a->size(); ++i) {
    const std::string f = Field(key) + "[" + std::to_string(i) + "]";
    const toml::array* row = a->get(i)->as_array();
    if (!row) throw Error(ErrorMessage(f, What(*a->get(i)), "a row (an array of numbers)"));
    if (i == 0) {
      m.resize(static_cast<Eigen::Index>(a->size()), static_cast<Eigen::Index>(row->size()));
    }
    Require(static_cast<Eigen::Index>(row->size()) == m.cols(), f + " length", row->size(),
            std::to_string(m.cols()) + " (the length of row 0)");
    for (size_t j = 0; j < row->size(); ++j) {
      const toml::node* e = row->get(j);
      double x = 0;
      if (auto k = e->value_exact<int64_t>()) {
        x = static_cast<double>(*k);
      } else if (auto d = e->value_exact<double>()) {
        x = *d;
      } else {
        throw Error(ErrorMessage(f + "[" + std::to_string(j) + "]", What(*e), "a number"));
      }
      m(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) = x;
    }
  }
  *v = m;
}

void TomlTable::Read(std::string_view key, std::vector<std::vector<Eigen::Index>>* v) const {
  const toml::node* n = t_ ? AsTable(t_)->get(key) : nullptr;
  if (!n) return;
  const toml::array* a = n->as_array();
  if (!a) throw Error(ErrorMessage(Field(key), What(*n), "an array of arrays of integers"));
  v->clear();
  for (size_t i = 0; i < a->size(); ++i) {
    const std::string f = Field(key) + "[" + std::to_string(i) + "]";
    const toml::array* row = a->get(i)->as_array();
    if (!row) throw Error(ErrorMessage(f, What(*a->get(i)), "an array of integers"));
    std::vector<Eigen::Index> r;
    for (size_t j = 0; j < row->size(); ++j) {
      auto e = row->get(j)->value_exact<int64_t>();
      if (!e) {
        throw Error(
            ErrorMessage(f + "[" + std::to_string(j) + "]", What(*row->get(j)), "an integer"));
      }
      r.push_back(static_cast<Eigen::Index>(*e));
    }
    v->push_back(std::move(r));
  }
}

bool TomlTable::HasString(std::string_view key) const {
  const toml::node* n = t_ ? AsTable(t_)->get(key) : nullptr;
  return n && n->is_string();
}

void TomlTable::Read(std::string_view key, std::vector<std::string>* v) const {
  const toml::node* n = t_ ? AsTable(t_)->get(key) : nullptr;
  if (!n) return;
  const toml::array* a = n->as_array();
  if (!a) throw Error(ErrorMessage(Field(key), What(*n), "an array of strings"));
  v->clear();
  for (size_t i = 0; i < a->size(); ++i) {
    const toml::node* e = a->get(i);
    if (auto x = e->value_exact<std::string>()) {
      v->push_back(*x);
    } else {
      throw Error(ErrorMessage(Field(key) + "[" + std::to_string(i) + "]", What(*e), "a string"));
    }
  }
}

TomlDocument::TomlDocument(const std::string& path, std::string command)
    : path_(path), command_(std::move(command)) {
  const std::string text = ReadFile(path);
  try {
    root_ = std::make_shared<const toml::table>(toml::parse(text, path));
  } catch (const toml::parse_error& e) {
    throw Error(path + ": invalid TOML: " + std::string(e.description()) + " (line " +
                std::to_string(e.source().begin.line) + ")");
  }
  base_dir_ = std::filesystem::path(path).parent_path().string();
}

TomlDocument::~TomlDocument() = default;

TomlTable TomlDocument::Root() const { return TomlTable(root_.get(), "", path_, command_); }

void TomlDocument::Resolve(std::string* p) const {
  if (p->empty() || base_dir_.empty() || std::filesystem::path(*p).is_absolute()) return;
  *p = (std::filesystem::path(base_dir_) / *p).string();
}

}  // namespace attnpaths::cli
