// attnpaths::Error — the one exception type for invalid input.
//
//   try { attnpaths::Require(T >= 0, "temperature", T, "a value >= 0"); }
//   catch (const attnpaths::Error& e) { std::cerr << "error: " << e.what(); }
//
// Every message names the field (or file), the value found and what was
// expected, so a user can fix the input without reading the code.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>

namespace attnpaths {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Builds "<field>: found <found>, expected <expected>".
std::string ErrorMessage(std::string_view field, std::string_view found, std::string_view expected);

template <typename T>
std::string ToText(const T& value) {
  std::ostringstream s;
  s << value;
  return s.str();
}

// Throws Error(ErrorMessage(field, value, expected)) when `ok` is false.
template <typename T>
void Require(bool ok, std::string_view field, const T& value, std::string_view expected) {
  if (!ok) throw Error(ErrorMessage(field, ToText(value), expected));
}

}  // namespace attnpaths
