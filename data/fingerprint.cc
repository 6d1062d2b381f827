#include "data/fingerprint.h"

#include <cstdint>

namespace attnpaths {

Fingerprint& Fingerprint::Add(const void* bytes, size_t size) {
  unsigned char length[8];
  std::uint64_t n = size;
  for (int i = 0; i < 8; ++i, n >>= 8) length[i] = static_cast<unsigned char>(n & 0xff);
  sha_.Update(std::string_view(reinterpret_cast<const char*>(length), sizeof length));
  sha_.Update(std::string_view(static_cast<const char*>(bytes), size));
  return *this;
}

Fingerprint& Fingerprint::Add(const Eigen::Ref<const Eigen::MatrixXd>& m) {
  const std::int64_t shape[2] = {m.rows(), m.cols()};
  Add(shape, sizeof shape);
  if (m.innerStride() == 1 && m.outerStride() == m.rows()) {
    return Add(m.data(), sizeof(double) * static_cast<size_t>(m.size()));
  }
  const Eigen::MatrixXd copy = m;
  return Add(copy.data(), sizeof(double) * static_cast<size_t>(copy.size()));
}

std::string Fingerprint::Hex() const {
  Sha256 copy = sha_;  // the digest finishes a copy, so more may be added
  return copy.HexDigest();
}

}  // namespace attnpaths
