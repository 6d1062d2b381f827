#include "data/size_limit.h"

#include <cmath>
#include <cstdint>

#include "kernels/error.h"

namespace attnpaths {

namespace {

// A count held in a double: every digit up to 2^53, else 6 significant ones.
std::string CountText(double n) {
  return std::abs(n) < 9007199254740992.0 ? std::to_string(static_cast<int64_t>(n)) : ToText(n);
}

}  // namespace

void RequireGeneratedSize(const std::string& field, const std::string& what,
                          std::initializer_list<double> factors) {
  double values = 1;
  std::string product;
  bool negative = false;
  for (double f : factors) {
    values *= f;
    negative = negative || f < 0;
    product += (product.empty() ? "" : "*") + CountText(f);
  }
  Require(!negative, field, what + " = " + product, "sizes >= 0");
  Require(values <= kMaxGeneratedValues, field,
          what + " = " + product + " = " + CountText(values) + " values",
          "at most 2^28 = 268435456 values (2 GiB) from a built-in generator");
}

}  // namespace attnpaths
