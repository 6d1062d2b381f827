// libFuzzer target for attnpaths::ParseNpy (data/npy.h).
//
// Any input must either parse or throw attnpaths::Error naming the file;
// anything else (a crash, a sanitizer report, another exception, an
// allocation beyond -rss_limit_mb) is a bug. A parsed array must also be
// self-consistent and survive SerializeNpy → ParseNpy bit for bit, and the
// conversions must likewise parse or throw Error.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "data/npy.h"
#include "kernels/error.h"

namespace {

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

void TryConversions(const attnpaths::NpyArray& a) {
  try {
    attnpaths::NpyToMatrix(a, "m");
  } catch (const attnpaths::Error&) {
  }
  try {
    attnpaths::NpyToInputs(a, "x");
  } catch (const attnpaths::Error&) {
  }
  try {
    attnpaths::NpyToMatrices(a, "ms");
  } catch (const attnpaths::Error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  attnpaths::NpyArray a;
  try {
    a = attnpaths::ParseNpy(bytes, "fuzz.npy");
  } catch (const attnpaths::Error& e) {
    Check(std::string_view(e.what()).substr(0, 16) == "fuzz.npy: found ");
    return 0;
  }
  // Each item takes at least one byte of the input, so the result is bounded by it.
  Check(a.size() >= 0 && static_cast<size_t>(a.size()) == a.data.size());
  Check(a.data.size() <= size);
  Check(!a.dtype.empty());

  const attnpaths::NpyArray b =
      attnpaths::ParseNpy(attnpaths::SerializeNpy(a.shape, a.data.data()), "again");
  Check(b.shape == a.shape && b.dtype == "<f8" && b.data.size() == a.data.size());
  Check(a.data.empty() ||
        std::memcmp(a.data.data(), b.data.data(), a.data.size() * sizeof(double)) == 0);

  TryConversions(a);
  return 0;
}
