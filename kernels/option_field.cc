#include "kernels/option_field.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

namespace attnpaths {
namespace {

std::string Quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

OptionField Make(std::string key, std::string flag, std::string help, OptionKind kind) {
  OptionField f;
  f.key = std::move(key);
  f.flag = std::move(flag);
  f.help = std::move(help);
  f.kind = kind;
  return f;
}

// An integer value (a double with an integral value is accepted: TOML 1e3).
bool IntegerOf(const OptionValue& v, std::int64_t* out) {
  if (const auto* i = std::get_if<std::int64_t>(&v)) {
    *out = *i;
    return true;
  }
  if (const auto* d = std::get_if<double>(&v)) {
    if (std::isfinite(*d) && std::floor(*d) == *d && std::abs(*d) < 9.0e15) {
      *out = static_cast<std::int64_t>(*d);
      return true;
    }
  }
  return false;
}

}  // namespace

std::string OptionText(const OptionValue& value) {
  if (const auto* b = std::get_if<bool>(&value)) return *b ? "true" : "false";
  if (const auto* i = std::get_if<std::int64_t>(&value)) return std::to_string(*i);
  if (const auto* u = std::get_if<std::uint64_t>(&value)) return std::to_string(*u);
  if (const auto* d = std::get_if<double>(&value)) {
    char buf[64];  // the shortest text that reads back to the same double
    const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, *d);
    return ec == std::errc() ? std::string(buf, end) : std::to_string(*d);
  }
  if (const auto* t = std::get_if<std::string>(&value)) return Quoted(*t);
  std::string out = "[";
  for (const auto& t : std::get<std::vector<std::string>>(value)) {
    out += (out.size() > 1 ? ", " : "") + Quoted(t);
  }
  return out + "]";
}

void OptionField::Set(const OptionValue& value, const std::string& where) const {
  set(value, where);
  if (!in_range) return;
  const OptionValue now = get();
  double x = 0;
  if (const auto* d = std::get_if<double>(&now)) x = *d;
  if (const auto* i = std::get_if<std::int64_t>(&now)) x = static_cast<double>(*i);
  if (const auto* u = std::get_if<std::uint64_t>(&now)) x = static_cast<double>(*u);
  if (!in_range(x)) throw Error(ErrorMessage(where, OptionText(value), expected));
}

OptionField InRange(OptionField field, std::function<bool(double)> ok, std::string expected) {
  field.in_range = std::move(ok);
  field.expected = std::move(expected);
  return field;
}

void ApplyOptionTable(const OptionTable& table, const std::vector<OptionField>& fields) {
  for (const auto& e : table.entries) {
    FindOption(fields, e.key, table.where).Set(e.value, e.field);
  }
}

void OptionField::SetText(std::string_view text, const std::string& where) const {
  const std::string t(text);
  const std::string& field = where;
  switch (kind) {
    case OptionKind::kBool:
      if (t == "true" || t == "1" || t == "on") return Set(true, where);
      if (t == "false" || t == "0" || t == "off") return Set(false, where);
      throw Error(ErrorMessage(field, Quoted(t), "true or false"));
    case OptionKind::kUInt64: {
      std::uint64_t u = 0;
      const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), u);
      if (ec != std::errc() || end != t.data() + t.size()) {
        throw Error(ErrorMessage(field, Quoted(t), "an integer >= 0"));
      }
      return Set(u, where);
    }
    case OptionKind::kInt: {
      std::int64_t i = 0;
      const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), i);
      if (ec != std::errc() || end != t.data() + t.size()) {
        throw Error(ErrorMessage(field, Quoted(t), "an integer"));
      }
      return Set(i, where);
    }
    case OptionKind::kDouble: {
      double d = 0;
      const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), d);
      if (ec != std::errc() || end != t.data() + t.size()) {
        throw Error(ErrorMessage(field, Quoted(t), "a number"));
      }
      return Set(d, where);
    }
    case OptionKind::kEnum:
    case OptionKind::kString:
      return Set(t, where);
    case OptionKind::kEnumList: {
      std::vector<std::string> names;
      std::string cur;
      for (char c : t + ",") {
        if (c == ',' || c == ' ') {
          if (!cur.empty()) names.push_back(cur);
          cur.clear();
        } else {
          cur += c;
        }
      }
      return Set(names, where);
    }
  }
}

const OptionField& FindOption(const std::vector<OptionField>& fields, std::string_view key,
                              const std::string& where) {
  std::vector<std::string> keys;
  for (const auto& f : fields) {
    if (f.key == key) return f;
    keys.push_back(f.key);
  }
  const std::string near = NearestName(key, keys);
  throw Error(ErrorMessage(where + std::string(key), "an unknown key",
                           near.empty() ? "one of the documented keys (docs/config.md)"
                                        : "a known key (did you mean \"" + near + "\"?)"));
}

std::string NearestName(std::string_view word, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_d = std::string::npos;
  for (const auto& c : candidates) {
    std::vector<size_t> prev(c.size() + 1), cur(c.size() + 1);
    for (size_t j = 0; j <= c.size(); ++j) prev[j] = j;
    for (size_t i = 1; i <= word.size(); ++i) {
      cur[0] = i;
      for (size_t j = 1; j <= c.size(); ++j) {
        const size_t sub = prev[j - 1] + (word[i - 1] == c[j - 1] ? 0 : 1);
        cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
      }
      std::swap(prev, cur);
    }
    if (prev[c.size()] < best_d) {
      best_d = prev[c.size()];
      best = c;
    }
  }
  if (best_d <= std::max<size_t>(2, word.size() / 3)) return best;
  for (const auto& c : candidates) {  // an abbreviation: "gradient_tol" for "gradient_tolerance"
    if (word.size() >= 3 && c.rfind(word, 0) == 0) return c;
  }
  return "";
}

OptionField BoolOption(std::string key, std::string flag, std::string help, bool* field) {
  OptionField f = Make(std::move(key), std::move(flag), std::move(help), OptionKind::kBool);
  f.set = [field](const OptionValue& v, const std::string& where) {
    const auto* b = std::get_if<bool>(&v);
    if (b == nullptr) throw Error(ErrorMessage(where, OptionText(v), "true or false"));
    *field = *b;
  };
  f.get = [field]() -> OptionValue { return *field; };
  return f;
}

OptionField IntOption(std::string key, std::string flag, std::string help, int* field) {
  OptionField f = Make(std::move(key), std::move(flag), std::move(help), OptionKind::kInt);
  f.set = [field](const OptionValue& v, const std::string& where) {
    std::int64_t i = 0;
    if (!IntegerOf(v, &i) || i < std::numeric_limits<int>::min() ||
        i > std::numeric_limits<int>::max()) {
      throw Error(ErrorMessage(where, OptionText(v), "an integer"));
    }
    *field = static_cast<int>(i);
  };
  f.get = [field]() -> OptionValue { return static_cast<std::int64_t>(*field); };
  return f;
}

OptionField UInt64Option(std::string key, std::string flag, std::string help,
                         std::uint64_t* field) {
  OptionField f = Make(std::move(key), std::move(flag), std::move(help), OptionKind::kUInt64);
  f.set = [field](const OptionValue& v, const std::string& where) {
    if (const auto* u = std::get_if<std::uint64_t>(&v)) {
      *field = *u;
      return;
    }
    std::int64_t i = 0;
    if (!IntegerOf(v, &i) || i < 0) {
      throw Error(ErrorMessage(where, OptionText(v), "an integer >= 0"));
    }
    *field = static_cast<std::uint64_t>(i);
  };
  f.get = [field]() -> OptionValue { return *field; };
  return f;
}

OptionField DoubleOption(std::string key, std::string flag, std::string help, double* field) {
  OptionField f = Make(std::move(key), std::move(flag), std::move(help), OptionKind::kDouble);
  f.set = [field](const OptionValue& v, const std::string& where) {
    if (const auto* d = std::get_if<double>(&v)) {
      *field = *d;
    } else if (const auto* i = std::get_if<std::int64_t>(&v)) {
      *field = static_cast<double>(*i);
    } else {
      throw Error(ErrorMessage(where, OptionText(v), "a number"));
    }
    if (std::isnan(*field)) throw Error(ErrorMessage(where, "nan", "a number"));
  };
  f.get = [field]() -> OptionValue { return *field; };
  return f;
}

OptionField StringOption(std::string key, std::string flag, std::string help, std::string* field) {
  OptionField f = Make(std::move(key), std::move(flag), std::move(help), OptionKind::kString);
  f.set = [field](const OptionValue& v, const std::string& where) {
    const auto* s = std::get_if<std::string>(&v);
    if (s == nullptr) throw Error(ErrorMessage(where, OptionText(v), "a string"));
    *field = *s;
  };
  f.get = [field]() -> OptionValue { return *field; };
  return f;
}

OptionField ChoiceOption(std::string key, std::string flag, std::string help, std::string* field,
                         std::vector<std::string> choices) {
  OptionField f = Make(std::move(key), std::move(flag), std::move(help), OptionKind::kEnum);
  f.choices = std::move(choices);
  f.set = [field, choices = f.choices](const OptionValue& v, const std::string& where) {
    std::string list;
    for (size_t i = 0; i < choices.size(); ++i) list += (i > 0 ? ", " : "") + choices[i];
    const auto* s = std::get_if<std::string>(&v);
    if (s == nullptr) throw Error(ErrorMessage(where, OptionText(v), "one of " + list));
    if (std::find(choices.begin(), choices.end(), *s) == choices.end()) {
      throw Error(ErrorMessage(where, "\"" + *s + "\"", "one of " + list));
    }
    *field = *s;
  };
  f.get = [field]() -> OptionValue { return *field; };
  return f;
}

}  // namespace attnpaths
