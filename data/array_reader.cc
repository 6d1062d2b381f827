#include "data/array_reader.h"

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <limits>

#include "data/npy.h"
#include "kernels/error.h"

namespace attnpaths {
namespace {

std::string Resolve(const std::string& path, const std::string& base_dir) {
  std::filesystem::path p(path);
  if (p.is_absolute() || base_dir.empty()) return path;
  return (std::filesystem::path(base_dir) / p).string();
}

uint64_t PhysicalMemoryBytes() {
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page <= 0) return std::numeric_limits<uint64_t>::max();
  return static_cast<uint64_t>(pages) * static_cast<uint64_t>(page);
}

}  // namespace

std::unique_ptr<ArrayReader> OpenArrayReader(const std::string& spec, const std::string& base_dir) {
  Require(!spec.empty(), "array", "an empty path", "a file name");
  for (const char* ext : {".h5:", ".hdf5:"}) {
    const size_t at = spec.find(ext);
    if (at != std::string::npos) {
      const size_t colon = at + std::string(ext).size() - 1;
      return OpenHdf5Reader(Resolve(spec.substr(0, colon), base_dir), spec.substr(colon + 1));
    }
  }
  return OpenNpyReader(Resolve(spec, base_dir));
}

Inputs ReadInputs(ArrayReader& reader, const std::string& field) {
  const std::string expected = "a 3-D array of shape (P, n_tok, N0) with n_tok >= 1 and N0 >= 1";
  const std::vector<int64_t>& shape = reader.shape();
  if (shape.size() != 3) {
    throw Error(ErrorMessage(
        field, "a " + std::to_string(shape.size()) + "-D array of shape " + ShapeText(shape),
        expected));
  }
  if (shape[1] < 1 || shape[2] < 1) {
    throw Error(ErrorMessage(field, "shape " + ShapeText(shape), expected));
  }
  const int64_t P = shape[0], n_tok = shape[1], N0 = shape[2];
  const uint64_t count = static_cast<uint64_t>(P) * static_cast<uint64_t>(n_tok * N0);
  double* mapped = nullptr;
  InputValues values;
  if (auto owner = reader.MapRows(0, P, &mapped)) {
    values = InputValues::External(std::move(owner), mapped, count);
  } else {
    if (count > PhysicalMemoryBytes() / sizeof(double)) {
      throw Error(ErrorMessage(field, "shape " + ShapeText(shape) + " " + reader.dtype(),
                               "an array that fits in this machine's memory"));
    }
    values = InputValues::Uninitialized(count);
    reader.ReadRows(0, P, values.data());
  }
  Inputs x(P, n_tok, N0, std::move(values));
  CheckFiniteArray(x, field);
  return x;
}

void CheckFiniteArray(const Inputs& x, const std::string& name, int64_t first_example) {
  try {
    x.CheckFinite("");
  } catch (const Error&) {  // there is one: find it and name it NumPy's way
    const InputValues& v = x.values();
    for (size_t k = 0; k < v.size(); ++k) {
      if (std::isfinite(v[k])) continue;
      const int64_t per = x.n_tok() * x.N0(), kk = static_cast<int64_t>(k);
      throw Error(ErrorMessage(name + "[" + std::to_string(first_example + kk / per) + ", " +
                                   std::to_string(kk % per / x.N0()) + ", " +
                                   std::to_string(kk % x.N0()) + "]",
                               ToText(v[k]), "a finite number"));
    }
  }
}

Inputs LoadInputs(const std::string& spec, const std::string& base_dir, const std::string& field) {
  Require(!spec.empty(), field, "an empty path", "a file name");
  std::unique_ptr<ArrayReader> reader;
  try {
    reader = OpenArrayReader(spec, base_dir);
  } catch (const Error& e) {
    throw Error(field + ": " + e.what());  // name the config field as well as the file
  }
  return ReadInputs(*reader, field);
}

}  // namespace attnpaths
