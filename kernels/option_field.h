// OptionField — one setting of a library Options struct, described once: its
// key (the TOML key and the JSON name), its command-line flag, a one-line help
// and typed access to the field itself. The TOML reader, the command line,
// the provenance record and the documentation check all read these lists, so
// a default is only ever the struct's own initialiser.
//
//   std::vector<OptionField> fields = SolveOptionFields(&options);
//   SetOption(fields, "gradient_tolerance", OptionValue(1e-10), "[solver]");
//   OptionJson-like text: fields[i].Text()
//
// Values come as OptionValue (a TOML scalar) or as command-line text; a value of
// the wrong type or out of range throws Error naming the field, the value and
// what was expected. Range checks beyond the type belong in Options::IsValid.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "kernels/enum_names.h"
#include "kernels/error.h"

namespace attnpaths {

using OptionValue =
    std::variant<bool, std::int64_t, std::uint64_t, double, std::string, std::vector<std::string>>;

enum class OptionKind { kBool, kInt, kUInt64, kDouble, kEnum, kString, kEnumList };

struct OptionField {
  std::string key;   // TOML key / JSON name ("gradient_tolerance")
  std::string flag;  // command-line flag without dashes ("chains"); "" if none
  std::string help;  // one line, for --help and docs
  OptionKind kind = OptionKind::kDouble;
  std::vector<std::string> choices;  // kEnum: the valid names
  // Sets the field from a value; `where` is the field's name in messages
  // ("run.toml: solver.method", "--chains").
  std::function<void(const OptionValue&, const std::string& where)> set;
  // The field's current value (numbers exactly, enums by name).
  std::function<OptionValue()> get;

  // Numeric fields: the range a value must be in, checked by Set/SetText so the
  // message names what the user wrote (the flag or the TOML key).
  std::function<bool(double)> in_range;
  std::string expected;  // "an integer in [1, 30]"

  // Sets a value (type, then range), naming `where` in errors.
  void Set(const OptionValue& value, const std::string& where) const;
  // Parses command-line text by kind, then Set.
  void SetText(std::string_view text, const std::string& where) const;
};

// `field` with a range check (OptionField::in_range / expected).
OptionField InRange(OptionField field, std::function<bool(double)> ok, std::string expected);

// Settings as read from one TOML table, applied to an Options struct's fields
// later (the reader of the file does not know every module's Options).
struct OptionEntry {
  std::string key;
  std::string field;  // the name in messages ("run.toml: solver.method")
  OptionValue value;
};
struct OptionTable {
  std::string where;  // prefix of a key in messages ("run.toml: sampler.")
  std::vector<OptionEntry> entries;
};
// Sets every entry of `table` on `fields`; unknown keys and bad values throw
// Error naming the field.
void ApplyOptionTable(const OptionTable& table, const std::vector<OptionField>& fields);

// The field named `key`; throws Error naming `where` + key and the nearest valid key.
const OptionField& FindOption(const std::vector<OptionField>& fields, std::string_view key,
                              const std::string& where);

// Text of a value as a user would write it (TOML-like: true, 3, 1e-09, lbfgs).
std::string OptionText(const OptionValue& value);

// The closest of `candidates` to `word` by edit distance ("" if none is close).
std::string NearestName(std::string_view word, const std::vector<std::string>& candidates);

// Field builders.
OptionField BoolOption(std::string key, std::string flag, std::string help, bool* field);
OptionField IntOption(std::string key, std::string flag, std::string help, int* field);
OptionField UInt64Option(std::string key, std::string flag, std::string help, std::uint64_t* field);
OptionField DoubleOption(std::string key, std::string flag, std::string help, double* field);
OptionField StringOption(std::string key, std::string flag, std::string help, std::string* field);
// A string that must be one of `choices` (listed like an enum's names).
OptionField ChoiceOption(std::string key, std::string flag, std::string help, std::string* field,
                         std::vector<std::string> choices);

template <typename E>
OptionField EnumOption(std::string key, std::string flag, std::string help, E* field) {
  OptionField f;
  f.key = std::move(key);
  f.flag = std::move(flag);
  f.help = std::move(help);
  f.kind = OptionKind::kEnum;
  f.choices = EnumNameVector<E>();
  f.set = [field](const OptionValue& v, const std::string& where) {
    const auto* text = std::get_if<std::string>(&v);
    if (text == nullptr) {
      throw Error(ErrorMessage(where, OptionText(v), "one of " + EnumNameList<E>()));
    }
    *field = ParseEnum<E>(*text, where);
  };
  f.get = [field]() -> OptionValue { return std::string(NameOf(*field)); };
  return f;
}

// A list of enum names (TOML array; comma- or space-separated on the command line).
template <typename E>
OptionField EnumListOption(std::string key, std::string flag, std::string help,
                           std::vector<E>* field) {
  OptionField f;
  f.key = std::move(key);
  f.flag = std::move(flag);
  f.help = std::move(help);
  f.kind = OptionKind::kEnumList;
  f.choices = EnumNameVector<E>();
  f.set = [field](const OptionValue& v, const std::string& where) {
    const auto* names = std::get_if<std::vector<std::string>>(&v);
    if (names == nullptr) {
      throw Error(ErrorMessage(where, OptionText(v), "an array of " + EnumNameList<E>()));
    }
    std::vector<E> out;
    for (const auto& n : *names) out.push_back(ParseEnum<E>(n, where));
    *field = std::move(out);
  };
  f.get = [field]() -> OptionValue {
    std::vector<std::string> out;
    for (E e : *field) out.emplace_back(NameOf(e));
    return out;
  };
  return f;
}

}  // namespace attnpaths
