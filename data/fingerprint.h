// Content fingerprints: a 64-bit hash of bytes, for telling whether data changed.
//
//   attnpaths::Fingerprint f;
//   f.Add(x.values().data(), x.values().size() * sizeof(double));
//   f.Add("readout=last");
//   std::string text = f.Hex();          // "9f3a…" (16 hex digits)
//
// Not cryptographic: it detects accidental changes (a file replaced under the
// same name, another architecture), not deliberate collisions. The value is
// the same on every platform (bytes are read little-endian) and for every
// split of the same byte sequence into Add calls only when the splits are the
// same (each Add call is framed by its length).
#pragma once

#include <Eigen/Core>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace attnpaths {

class Fingerprint {
 public:
  Fingerprint& Add(const void* bytes, size_t size);
  Fingerprint& Add(std::string_view text) { return Add(text.data(), text.size()); }
  Fingerprint& Add(double v) { return Add(&v, sizeof v); }
  // The shape and the values of a matrix (column-major).
  Fingerprint& Add(const Eigen::Ref<const Eigen::MatrixXd>& m);

  std::uint64_t value() const;
  std::string Hex() const;  // 16 lower-case hex digits

 private:
  std::uint64_t h_ = 0x243f6a8885a308d3ull;
  std::uint64_t n_ = 0;
};

}  // namespace attnpaths
