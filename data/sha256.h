// SHA-256 (FIPS 180-4) of bytes and files, as lowercase hex — the hash that
// provenance records for a config file and that `sha256sum` prints.
//
//   std::string h = attnpaths::Sha256Hex("abc");   // "ba7816bf…f20015ad"
//   attnpaths::Sha256 s;                           // streaming form
//   s.Update(part1); s.Update(part2);
//   std::string h2 = s.HexDigest();
//   std::string h3 = attnpaths::Sha256OfFile("run.toml");  // throws Error naming the file
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace attnpaths {

class Sha256 {
 public:
  Sha256();
  void Update(std::string_view bytes);
  // The digest of everything passed to Update; the object may not be updated afterwards.
  std::array<std::uint8_t, 32> Digest();
  std::string HexDigest();

 private:
  void Block(const std::uint8_t* block);

  std::array<std::uint32_t, 8> state_;
  std::array<std::uint8_t, 64> buffer_{};
  std::size_t buffered_ = 0;
  std::uint64_t length_ = 0;  // bytes
  bool finished_ = false;
};

std::string Sha256Hex(std::string_view bytes);

// The SHA-256 of a file's bytes, read in blocks; throws Error naming `path`
// when it cannot be read.
std::string Sha256OfFile(const std::string& path);

}  // namespace attnpaths
