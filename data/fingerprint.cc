#include "data/fingerprint.h"

#include <cstdio>
#include <cstring>

namespace attnpaths {

namespace {

constexpr std::uint64_t kMul1 = 0x9e3779b97f4a7c15ull;
constexpr std::uint64_t kMul2 = 0xc2b2ae3d27d4eb4full;

std::uint64_t Rotl(std::uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

// The finaliser of a 64-bit mixing hash: every input bit affects every output bit.
std::uint64_t Mix(std::uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ull;
  x ^= x >> 33;
  return x;
}

std::uint64_t Word(const unsigned char* p) {
  std::uint64_t w = 0;
  for (int i = 7; i >= 0; --i) w = (w << 8) | p[i];  // little-endian on every platform
  return w;
}

}  // namespace

Fingerprint& Fingerprint::Add(const void* bytes, size_t size) {
  const auto* p = static_cast<const unsigned char*>(bytes);
  std::uint64_t h = h_ ^ Mix(size + kMul1);
  size_t i = 0;
  for (; i + 8 <= size; i += 8) {
    h ^= Rotl(Word(p + i) * kMul2, 31) * kMul1;
    h = Rotl(h, 27) * 5 + 0x52dce729;
  }
  unsigned char tail[8] = {0};
  std::memcpy(tail, p + i, size - i);
  h ^= Rotl(Word(tail) * kMul2, 31) * kMul1;
  h_ = Mix(h);
  n_ += size;
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

std::uint64_t Fingerprint::value() const { return Mix(h_ ^ n_); }

std::string Fingerprint::Hex() const {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(value()));
  return buf;
}

}  // namespace attnpaths
