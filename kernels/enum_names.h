// EnumNames — the names of an enum's values, written once and shared by the
// parser, reports, JSON and the Python bindings.
//
//   template <> struct EnumNames<SolveMethod> {
//     static constexpr std::array<EnumName<SolveMethod>, 2> values{{
//         {SolveMethod::kLbfgs, "lbfgs"}, {SolveMethod::kBfgs, "bfgs"}}};
//   };
//   NameOf(SolveMethod::kBfgs);              // "bfgs"
//   ParseEnum<SolveMethod>("bfgs", "[solver] method");  // or Error naming the field
//
// The specialisation lives in the enum's own header.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "kernels/error.h"

namespace attnpaths {

template <typename E>
struct EnumName {
  E value;
  const char* name;
};

// Specialised for each enum with a static constexpr array `values`.
template <typename E>
struct EnumNames;

template <typename E>
const char* NameOf(E value) {
  for (const auto& v : EnumNames<E>::values) {
    if (v.value == value) return v.name;
  }
  return "?";
}

// "a, b or c": the valid names, for messages and help texts.
template <typename E>
std::string EnumNameList() {
  std::string out;
  const auto& values = EnumNames<E>::values;
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += i + 1 == values.size() ? " or " : ", ";
    out += values[i].name;
  }
  return out;
}

template <typename E>
std::vector<std::string> EnumNameVector() {
  std::vector<std::string> out;
  for (const auto& v : EnumNames<E>::values) out.emplace_back(v.name);
  return out;
}

// The value named `text`; throws Error naming `field` and the valid names.
template <typename E>
E ParseEnum(std::string_view text, std::string_view field) {
  for (const auto& v : EnumNames<E>::values) {
    if (text == v.name) return v.value;
  }
  throw Error(ErrorMessage(field, "\"" + std::string(text) + "\"", EnumNameList<E>()));
}

}  // namespace attnpaths
