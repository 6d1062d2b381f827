// The size limit of arrays that attnpaths builds itself (built-in generators,
// zero-filled inputs): refused with one message, before anything is allocated.
//
//   attnpaths::RequireGeneratedSize("hmm.P", "P*n_tok*N0", {P, n_tok, N0});
//   // hmm.P: found P*n_tok*N0 = 1000000000000*31*231 = 7.161e+15 values,
//   //        expected at most 2^28 = 268435456 values (2 GiB) from a built-in generator
#pragma once

#include <initializer_list>
#include <string>

namespace attnpaths {

// The largest array a built-in generator (or a zero-filled Inputs) may build:
// 2^28 doubles are 2 GiB. Arrays read from files are limited by the file.
inline constexpr double kMaxGeneratedValues = 268435456.0;  // 2^28

// Throws Error naming `field` when the product of `factors` (multiplied in
// double precision, so absurd sizes cannot overflow; negative factors are
// refused too) exceeds kMaxGeneratedValues. `what` names the product
// ("P*n_tok*N0").
void RequireGeneratedSize(const std::string& field, const std::string& what,
                          std::initializer_list<double> factors);

}  // namespace attnpaths
