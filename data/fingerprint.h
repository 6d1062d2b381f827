// Content fingerprints of structured data: the SHA-256 (data/sha256.h) of a
// sequence of byte strings, each framed by its length, for telling whether
// the data a result was computed from changed.
//
//   attnpaths::Fingerprint f;
//   f.Add(x.values().data(), x.values().size() * sizeof(double));
//   f.Add("readout=last");
//   std::string text = f.Hex();          // "9f3a…" (64 hex digits)
//
// The value is the same on every platform for the same sequence of Add calls
// (lengths are framed as 8 little-endian bytes; doubles are hashed as their
// in-memory bytes, IEEE-754 little-endian on every supported machine). Files
// are fingerprinted with Sha256OfFile, the plain hash `sha256sum` prints.
#pragma once

#include <Eigen/Core>
#include <cstddef>
#include <string>
#include <string_view>

#include "data/sha256.h"

namespace attnpaths {

class Fingerprint {
 public:
  Fingerprint& Add(const void* bytes, size_t size);
  Fingerprint& Add(std::string_view text) { return Add(text.data(), text.size()); }
  Fingerprint& Add(double v) { return Add(&v, sizeof v); }
  // The shape and the values of a matrix (column-major).
  Fingerprint& Add(const Eigen::Ref<const Eigen::MatrixXd>& m);

  // 64 lower-case hex digits; Add may be called again afterwards.
  std::string Hex() const;

 private:
  Sha256 sha_;
};

}  // namespace attnpaths
