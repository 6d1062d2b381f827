#include "kernels/error.h"

namespace attnpaths {

std::string ErrorMessage(std::string_view field, std::string_view found,
                         std::string_view expected) {
  std::string m(field);
  m += ": found ";
  m += found;
  m += ", expected ";
  m += expected;
  return m;
}

}  // namespace attnpaths
