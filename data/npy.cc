// The .npy format (NumPy's numpy/lib/format.py documents it):
//
//   "\x93NUMPY" | major | minor | header length (uint16 LE for 1.0, uint32 LE
//   for 2.0 and 3.0) | header: a Python dict literal
//   {'descr': '<f8', 'fortran_order': False, 'shape': (10, 20), } padded with
//   spaces and ended by '\n' | the data, product(shape) items of the dtype.
//
// Reading is defensive: each field is checked before it is used, the header
// parser never reads past its string_view, and the data size implied by the
// header is checked (with overflow guards) against the bytes present before
// any buffer is allocated.
#include "data/npy.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <system_error>

#include "data/array_reader.h"
#include "data/atomic_file.h"
#include "kernels/error.h"

namespace attnpaths {
namespace {

constexpr std::string_view kMagic("\x93NUMPY", 6);
// NumPy's own reader refuses headers above 10000 bytes by default; we allow
// more but still bound what a corrupt length field can make us read.
constexpr uint64_t kMaxHeaderBytes = 1 << 20;
// NumPy 2 allows 64 dimensions (NumPy 1: 32).
constexpr size_t kMaxDims = 64;

enum class Kind { kFloat, kSigned, kUnsigned, kBool };

struct Dtype {
  std::string descr;
  Kind kind = Kind::kFloat;
  int size = 8;
  bool swap = false;  // the file's byte order differs from this machine's
};

struct Header {
  Dtype dtype;
  bool fortran_order = false;
  std::vector<int64_t> shape;
  uint64_t data_offset = 0;  // bytes before the data
  uint64_t count = 0;        // number of items
  uint64_t data_bytes = 0;   // count × item size
};

std::string ErrnoText(int error) {
  return std::error_code(error, std::generic_category()).message();
}

// Up to `max` bytes, printable ASCII as is, everything else as \xHH.
std::string Escape(std::string_view bytes, size_t max = 24) {
  std::string out;
  const size_t n = std::min(bytes.size(), max);
  for (size_t i = 0; i < n; ++i) {
    const unsigned char c = static_cast<unsigned char>(bytes[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else {
      static const char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  if (bytes.size() > max) out += "...";
  return out;
}

[[noreturn]] void Fail(const std::string& name, const std::string& found,
                       const std::string& expected) {
  throw Error(ErrorMessage(name, found, expected));
}

// Exactly `size` bytes at `offset` of the open file `fd` (`name` in errors; the
// file may shrink under us).
void ReadExactly(int fd, uint64_t offset, uint64_t size, char* dst, const std::string& name) {
  while (size > 0) {
    const ssize_t n =
        ::pread(fd, dst, std::min<uint64_t>(size, 1 << 30), static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int error = errno;
      Fail(name, "a read error (" + ErrnoText(error) + ")", "a readable file");
    }
    if (n == 0)
      Fail(name, "the end of the file at byte " + std::to_string(offset),
           "more bytes (the file changed while read?)");
    dst += n;
    offset += static_cast<uint64_t>(n);
    size -= static_cast<uint64_t>(n);
  }
}

uint64_t LoadLittleEndian(std::string_view bytes, size_t offset, size_t width) {
  uint64_t v = 0;
  for (size_t i = 0; i < width; ++i) {
    v |= static_cast<uint64_t>(static_cast<unsigned char>(bytes[offset + i])) << (8 * i);
  }
  return v;
}

// ---------------------------------------------------------------------------
// Preamble: magic, version, header length.

struct Preamble {
  int major = 1, minor = 0;
  uint64_t size = 10;         // bytes of magic + version + length field
  uint64_t header_bytes = 0;  // the header dict's length
};

// `first` holds the file's first bytes (at least 12 if the file has them);
// `total_size` is the whole file's size.
Preamble ParsePreamble(std::string_view first, uint64_t total_size, const std::string& name) {
  const std::string expected_magic = "the NPY magic string \\x93NUMPY";
  if (total_size < kMagic.size() || first.substr(0, kMagic.size()) != kMagic) {
    if (total_size == 0) Fail(name, "an empty file", expected_magic);
    std::string found = "first bytes '" + Escape(first.substr(0, 8)) + "'";
    if (first.substr(0, 4) == std::string_view("PK\x03\x04", 4)) {
      found += " (a zip archive: an .npz file?)";
    }
    Fail(name, found, expected_magic);
  }
  if (total_size < 8) {
    Fail(name, "a truncated preamble of " + std::to_string(total_size) + " bytes",
         "at least 10 bytes (magic, version, header length)");
  }
  Preamble p;
  p.major = static_cast<unsigned char>(first[6]);
  p.minor = static_cast<unsigned char>(first[7]);
  if (p.major < 1 || p.major > 3 || p.minor != 0) {
    Fail(name, "format version " + std::to_string(p.major) + "." + std::to_string(p.minor),
         "version 1.0, 2.0 or 3.0");
  }
  const size_t width = p.major == 1 ? 2 : 4;
  p.size = 8 + width;
  if (total_size < p.size) {
    Fail(name, "a truncated preamble of " + std::to_string(total_size) + " bytes",
         "at least " + std::to_string(p.size) + " bytes for a version " + std::to_string(p.major) +
             ".0 file");
  }
  p.header_bytes = LoadLittleEndian(first, 8, width);
  if (p.header_bytes > kMaxHeaderBytes) {
    Fail(name, "a header length of " + std::to_string(p.header_bytes) + " bytes",
         "at most " + std::to_string(kMaxHeaderBytes) + " bytes");
  }
  if (p.header_bytes > total_size - p.size) {
    Fail(name,
         "a header length of " + std::to_string(p.header_bytes) + " bytes but only " +
             std::to_string(total_size - p.size) + " bytes after the preamble",
         "a complete header (truncated file?)");
  }
  return p;
}

// ---------------------------------------------------------------------------
// Header: a Python dict literal with the keys descr, fortran_order and shape.

class HeaderParser {
 public:
  HeaderParser(std::string_view text, const std::string& name) : text_(text), name_(name) {}

  Header Parse() {
    Header h;
    bool have_descr = false, have_order = false, have_shape = false;
    SkipSpace();
    Expect('{', "'{' opening the header dictionary");
    for (;;) {
      SkipSpace();
      if (Peek() == '}') {
        ++pos_;
        break;
      }
      const std::string key = ParseString("a quoted key");
      SkipSpace();
      Expect(':', "':' after key '" + key + "'");
      SkipSpace();
      if (key == "descr") {
        if (have_descr) Duplicate(key);
        have_descr = true;
        if (Peek() == '[') {
          FailHere("a list for 'descr' (a structured dtype)",
                   "a simple numeric dtype such as '<f8' (structured dtypes are not supported)");
        }
        h.dtype.descr = ParseString("a quoted dtype string for 'descr'");
      } else if (key == "fortran_order") {
        if (have_order) Duplicate(key);
        have_order = true;
        h.fortran_order = ParseBool();
      } else if (key == "shape") {
        if (have_shape) Duplicate(key);
        have_shape = true;
        h.shape = ParseShape();
      } else {
        Fail(name_, "header key '" + Escape(key) + "'",
             "only the keys 'descr', 'fortran_order' and 'shape'");
      }
      SkipSpace();
      if (Peek() == ',') {
        ++pos_;
      } else if (Peek() != '}') {
        FailHere("", "',' or '}' after the value of '" + key + "'");
      }
    }
    SkipSpace();
    if (pos_ != text_.size()) FailHere("", "only padding after the header dictionary");
    if (!have_descr || !have_order || !have_shape) {
      std::string missing;
      for (auto [have, key] :
           {std::pair{have_descr, "descr"}, std::pair{have_order, "fortran_order"},
            std::pair{have_shape, "shape"}}) {
        if (!have) missing += std::string(missing.empty() ? "" : ", ") + "'" + key + "'";
      }
      Fail(name_, "a header without " + missing, "the keys 'descr', 'fortran_order' and 'shape'");
    }
    return h;
  }

 private:
  char Peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }

  void SkipSpace() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\n' || text_[pos_] == '\r')) {
      ++pos_;
    }
  }

  [[noreturn]] void FailHere(const std::string& what, const std::string& expected) const {
    std::string found = what.empty() ? std::string() : what + ": ";
    if (pos_ >= text_.size()) {
      found += "the end of the header at offset " + std::to_string(pos_);
    } else {
      found += "'" + Escape(text_.substr(pos_), 16) + "' at header offset " + std::to_string(pos_);
    }
    Fail(name_, found, expected);
  }

  [[noreturn]] void Duplicate(const std::string& key) const {
    Fail(name_, "the header key '" + key + "' twice", "each key once");
  }

  void Expect(char c, const std::string& expected) {
    if (Peek() != c || pos_ >= text_.size()) FailHere("", expected);
    ++pos_;
  }

  std::string ParseString(const std::string& expected) {
    const char quote = Peek();
    if (pos_ >= text_.size() || (quote != '\'' && quote != '"')) FailHere("", expected);
    const size_t start = pos_;
    ++pos_;
    std::string s;
    while (pos_ < text_.size() && text_[pos_] != quote) {
      if (text_[pos_] == '\\' && pos_ + 1 < text_.size()) ++pos_;
      s += text_[pos_++];
      if (s.size() > 256) {
        pos_ = start;
        FailHere("a string longer than 256 characters", expected);
      }
    }
    if (pos_ >= text_.size()) {
      pos_ = start;
      FailHere("an unterminated string", expected);
    }
    ++pos_;  // closing quote
    return s;
  }

  bool ParseBool() {
    const std::string_view rest = text_.substr(pos_);
    if (rest.substr(0, 4) == "True") {
      pos_ += 4;
      return true;
    }
    if (rest.substr(0, 5) == "False") {
      pos_ += 5;
      return false;
    }
    FailHere("'fortran_order'", "True or False");
  }

  int64_t ParseDimension() {
    if (Peek() == '-') FailHere("a negative dimension", "a dimension >= 0");
    if (Peek() < '0' || Peek() > '9') FailHere("", "a dimension (a non-negative integer)");
    const size_t start = pos_;
    int64_t v = 0;
    while (Peek() >= '0' && Peek() <= '9' && pos_ < text_.size()) {
      if (__builtin_mul_overflow(v, int64_t{10}, &v) ||
          __builtin_add_overflow(v, int64_t{Peek() - '0'}, &v)) {
        pos_ = start;
        FailHere("a dimension too large for int64", "a dimension below 2^63");
      }
      ++pos_;
    }
    if (Peek() == 'L' && pos_ < text_.size()) ++pos_;  // Python 2's long suffix, as in (3L, 4L)
    return v;
  }

  std::vector<int64_t> ParseShape() {
    std::vector<int64_t> shape;
    if (Peek() == '[') FailHere("a list for 'shape'", "a tuple such as (10, 20)");
    Expect('(', "a tuple such as (10, 20) for 'shape'");
    SkipSpace();
    while (Peek() != ')' || pos_ >= text_.size()) {
      if (shape.size() >= kMaxDims) {
        FailHere("more than " + std::to_string(kMaxDims) + " dimensions",
                 "at most " + std::to_string(kMaxDims) + " dimensions");
      }
      shape.push_back(ParseDimension());
      SkipSpace();
      if (Peek() == ',' && pos_ < text_.size()) {
        ++pos_;
        SkipSpace();
      } else if (Peek() != ')' || pos_ >= text_.size()) {
        FailHere("", "',' or ')' in the shape tuple");
      }
    }
    ++pos_;  // ')'
    return shape;
  }

  std::string_view text_;
  const std::string& name_;
  size_t pos_ = 0;
};

// ---------------------------------------------------------------------------
// dtype: byte order, kind, item size.

Dtype ParseDtype(const std::string& descr, const std::string& name) {
  const std::string supported =
      "a numeric dtype: float16/32/64 (f2, f4, f8), int8..int64 (i1..i8), uint8..uint64 "
      "(u1..u8) or bool (b1)";
  Dtype d;
  d.descr = descr;
  size_t pos = 0;
  char order = '=';
  if (!descr.empty() && std::string_view("<>|=").find(descr[0]) != std::string_view::npos) {
    order = descr[0];
    pos = 1;
  }
  if (pos >= descr.size()) Fail(name, "dtype '" + Escape(descr) + "'", supported);
  const char kind = descr[pos++];
  int size = 0;
  const size_t digits_start = pos;
  while (pos < descr.size() && descr[pos] >= '0' && descr[pos] <= '9' && size < 1000) {
    size = size * 10 + (descr[pos++] - '0');
  }
  const bool well_formed = pos == descr.size() && pos > digits_start;
  std::string what;
  switch (kind) {
    case 'f':
      d.kind = Kind::kFloat;
      if (size != 2 && size != 4 && size != 8) what = "extended-precision float";
      break;
    case 'i':
      d.kind = Kind::kSigned;
      if (size != 1 && size != 2 && size != 4 && size != 8) what = "integer of that size";
      break;
    case 'u':
      d.kind = Kind::kUnsigned;
      if (size != 1 && size != 2 && size != 4 && size != 8) what = "integer of that size";
      break;
    case 'b':
      d.kind = Kind::kBool;
      if (size != 1) what = "bool of that size";
      break;
    case 'c':
      what = "complex";
      break;
    case 'O':
      what = "Python objects";
      break;
    case 'S':
    case 'a':
      what = "byte strings";
      break;
    case 'U':
      what = "unicode strings";
      break;
    case 'V':
      what = "void/structured";
      break;
    case 'M':
      what = "datetime";
      break;
    case 'm':
      what = "timedelta";
      break;
    default:
      what = "unknown kind";
      break;
  }
  const bool numeric_kind = kind == 'f' || kind == 'i' || kind == 'u' || kind == 'b';
  if (!numeric_kind && what != "unknown kind") {
    // Name the kind even without a size ('|O' is how NumPy writes object arrays).
    Fail(name, "unsupported dtype '" + Escape(descr) + "' (" + what + ")", supported);
  }
  if (!well_formed || !numeric_kind) Fail(name, "dtype '" + Escape(descr) + "'", supported);
  if (!what.empty())
    Fail(name, "unsupported dtype '" + Escape(descr) + "' (" + what + ")", supported);
  d.size = size;
  if (order == '|' && size != 1) {
    Fail(name, "dtype '" + Escape(descr) + "' ('|' byte order on a multi-byte type)",
         "'<' or '>' for multi-byte types");
  }
  const bool big = order == '>' || (order == '=' && std::endian::native == std::endian::big);
  d.swap = size > 1 && (big != (std::endian::native == std::endian::big));
  return d;
}

// Number of items and data bytes with overflow checks; 0 if any dimension is 0.
bool CountItems(const std::vector<int64_t>& shape, uint64_t item_size, uint64_t* count,
                uint64_t* bytes) {
  uint64_t n = 1;
  bool overflow = false;
  for (int64_t d : shape) {
    if (d < 0) return false;
    if (d == 0) {
      *count = 0;
      *bytes = 0;
      return true;
    }
    if (__builtin_mul_overflow(n, static_cast<uint64_t>(d), &n)) overflow = true;
  }
  if (overflow || n > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return false;
  if (__builtin_mul_overflow(n, item_size, bytes)) return false;
  *count = n;
  return true;
}

// Parses the header dict `text` (the bytes after the preamble) and checks the
// data size against the `data_available` bytes after the header.
Header ParseHeader(std::string_view text, uint64_t data_offset, uint64_t data_available,
                   const std::string& name) {
  Header h = HeaderParser(text, name).Parse();
  h.dtype = ParseDtype(h.dtype.descr, name);
  h.data_offset = data_offset;
  if (!CountItems(h.shape, static_cast<uint64_t>(h.dtype.size), &h.count, &h.data_bytes)) {
    Fail(name,
         "shape " + ShapeText(h.shape) + " " + h.dtype.descr + " whose size overflows 64 bits",
         "a shape that fits the file (" + std::to_string(data_available) + " data bytes)");
  }
  if (h.data_bytes != data_available) {
    Fail(name, std::to_string(data_available) + " data bytes",
         std::to_string(h.data_bytes) + " for shape " + ShapeText(h.shape) + " " + h.dtype.descr);
  }
  return h;
}

// ---------------------------------------------------------------------------
// Conversion of items to double.

template <typename U>
U LoadBits(const char* p, bool swap) {
  U u;
  std::memcpy(&u, p, sizeof u);
  if (swap) {
    if constexpr (sizeof(U) == 2) u = __builtin_bswap16(u);
    if constexpr (sizeof(U) == 4) u = __builtin_bswap32(u);
    if constexpr (sizeof(U) == 8) u = __builtin_bswap64(u);
  }
  return u;
}

double HalfToDouble(uint16_t h) {
  const int sign = h >> 15, exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff;
  double v;
  if (exponent == 0) {
    v = std::ldexp(static_cast<double>(mantissa), -24);  // zero and subnormals
  } else if (exponent == 31) {
    v = mantissa == 0 ? std::numeric_limits<double>::infinity()
                      : std::numeric_limits<double>::quiet_NaN();
  } else {
    v = std::ldexp(static_cast<double>(mantissa + 1024), exponent - 25);
  }
  return sign ? -v : v;
}

double ItemToDouble(const char* p, const Dtype& d) {
  const bool s = d.swap;
  switch (d.kind) {
    case Kind::kFloat:
      if (d.size == 2) return HalfToDouble(LoadBits<uint16_t>(p, s));
      if (d.size == 4) return std::bit_cast<float>(LoadBits<uint32_t>(p, s));
      return std::bit_cast<double>(LoadBits<uint64_t>(p, s));
    case Kind::kSigned:
      if (d.size == 1) return static_cast<int8_t>(*p);
      if (d.size == 2) return static_cast<int16_t>(LoadBits<uint16_t>(p, s));
      if (d.size == 4) return static_cast<int32_t>(LoadBits<uint32_t>(p, s));
      return static_cast<double>(static_cast<int64_t>(LoadBits<uint64_t>(p, s)));
    case Kind::kUnsigned:
      if (d.size == 1) return static_cast<uint8_t>(*p);
      if (d.size == 2) return LoadBits<uint16_t>(p, s);
      if (d.size == 4) return LoadBits<uint32_t>(p, s);
      return static_cast<double>(LoadBits<uint64_t>(p, s));
    case Kind::kBool:
      return *p != 0 ? 1.0 : 0.0;
  }
  return 0.0;
}

// Converts `count` consecutive items at `src` into `dst`.
void ConvertRun(const char* src, uint64_t count, const Dtype& d, double* dst) {
  if (d.kind == Kind::kFloat && d.size == 8 && !d.swap) {
    if (count > 0) std::memcpy(dst, src, count * sizeof(double));
    return;
  }
  for (uint64_t k = 0; k < count; ++k) dst[k] = ItemToDouble(src + k * d.size, d);
}

// Converts all items of a Fortran-order array at `src` into C order at `dst`.
void ConvertFortran(const char* src, const Header& h, double* dst) {
  const size_t nd = h.shape.size();
  if (nd < 2 || h.count == 0) {
    ConvertRun(src, h.count, h.dtype, dst);
    return;
  }
  // Fortran strides (in items): axis 0 is contiguous. Walk the C-order
  // multi-index (last axis fastest) and keep the Fortran offset in step.
  std::vector<uint64_t> stride(nd), index(nd, 0);
  stride[0] = 1;
  for (size_t j = 1; j < nd; ++j) stride[j] = stride[j - 1] * static_cast<uint64_t>(h.shape[j - 1]);
  uint64_t offset = 0;
  const uint64_t item = static_cast<uint64_t>(h.dtype.size);
  for (uint64_t k = 0; k < h.count; ++k) {
    dst[k] = ItemToDouble(src + offset * item, h.dtype);
    for (size_t j = nd; j-- > 0;) {
      offset += stride[j];
      if (++index[j] < static_cast<uint64_t>(h.shape[j])) break;
      offset -= stride[j] * index[j];
      index[j] = 0;
    }
  }
}

// Converts rows [begin, end) (first axis) of a Fortran-order array at `src`
// into C order at `dst`.
void ConvertFortranRows(const char* src, const Header& h, uint64_t begin, uint64_t end,
                        double* dst) {
  const size_t nd = h.shape.size();
  const uint64_t rows = static_cast<uint64_t>(h.shape[0]);
  uint64_t row_size = 1;
  for (size_t j = 1; j < nd; ++j) row_size *= static_cast<uint64_t>(h.shape[j]);
  if (row_size == 0 || end <= begin) return;
  // Fortran offset (in items) of each trailing C-order index, axis 1 fastest
  // in memory after axis 0.
  std::vector<uint64_t> offset(row_size), index(nd, 0);
  for (uint64_t t = 0; t < row_size; ++t) {
    uint64_t o = 0, stride = rows;
    for (size_t j = 1; j < nd; ++j) {
      o += index[j] * stride;
      stride *= static_cast<uint64_t>(h.shape[j]);
    }
    offset[t] = o;
    for (size_t j = nd; j-- > 1;) {
      if (++index[j] < static_cast<uint64_t>(h.shape[j])) break;
      index[j] = 0;
    }
  }
  const uint64_t item = static_cast<uint64_t>(h.dtype.size);
  for (uint64_t r = begin; r < end; ++r) {
    double* out = dst + (r - begin) * row_size;
    for (uint64_t t = 0; t < row_size; ++t)
      out[t] = ItemToDouble(src + (r + offset[t]) * item, h.dtype);
  }
}

NpyArray MakeArray(const Header& h) {
  NpyArray a;
  a.shape = h.shape;
  a.dtype = h.dtype.descr;
  a.data.resize(h.count);
  return a;
}

// ---------------------------------------------------------------------------
// Writing.

std::string SerializeHeader(const std::vector<int64_t>& shape, uint64_t* count) {
  uint64_t bytes = 0;
  const std::string name = "npy shape";
  Require(shape.size() <= kMaxDims, name, shape.size(),
          "at most " + std::to_string(kMaxDims) + " dimensions");
  if (!CountItems(shape, sizeof(double), count, &bytes)) {
    Fail(name, ShapeText(shape), "non-negative dimensions whose product fits in 64 bits");
  }
  std::string dict =
      "{'descr': '<f8', 'fortran_order': False, 'shape': " + ShapeText(shape) + ", }";
  // Pad with spaces and a final '\n' so the data starts at a multiple of 64 bytes (as NumPy does).
  uint64_t preamble = 10;
  uint64_t total = preamble + dict.size() + 1;
  if ((total + 63) / 64 * 64 - preamble > 0xffff) preamble = 12;  // version 2.0: 4-byte length
  total = preamble + dict.size() + 1;
  const uint64_t padded = (total + 63) / 64 * 64;
  dict.append(padded - total, ' ');
  dict += '\n';
  const uint64_t header_len = dict.size();
  std::string out(kMagic);
  out += static_cast<char>(preamble == 10 ? 1 : 2);
  out += '\0';
  for (uint64_t i = 0; i < preamble - 8; ++i)
    out += static_cast<char>((header_len >> (8 * i)) & 0xff);
  return out + dict;
}

void AppendLittleEndianDoubles(const double* data, uint64_t count, std::string* out) {
  if constexpr (std::endian::native == std::endian::little) {
    if (count > 0) out->append(reinterpret_cast<const char*>(data), count * sizeof(double));
  } else {
    for (uint64_t k = 0; k < count; ++k) {
      const uint64_t u = __builtin_bswap64(std::bit_cast<uint64_t>(data[k]));
      out->append(reinterpret_cast<const char*>(&u), sizeof u);
    }
  }
}

// The C-order multi-index of flat index k, e.g. "[2, 0, 5]".
std::string IndexText(const std::vector<int64_t>& shape, int64_t k) {
  std::vector<int64_t> index(shape.size());
  for (size_t j = shape.size(); j-- > 0;) {
    index[j] = shape[j] > 0 ? k % shape[j] : 0;
    k = shape[j] > 0 ? k / shape[j] : 0;
  }
  std::string s = "[";
  for (size_t j = 0; j < index.size(); ++j) s += (j ? ", " : "") + std::to_string(index[j]);
  return s + "]";
}

// Checks the array's consistency, its number of dimensions and its values.
void CheckArray(const NpyArray& a, const std::string& field, size_t ndim,
                const std::string& expected) {
  const int64_t n = a.size();
  if (n < 0 || static_cast<uint64_t>(n) != a.data.size()) {
    Fail(field, std::to_string(a.data.size()) + " values for shape " + ShapeText(a.shape),
         "as many values as the shape holds");
  }
  if (a.shape.size() != ndim && !(ndim == 2 && a.shape.size() == 1)) {
    Fail(field, "a " + std::to_string(a.shape.size()) + "-D array of shape " + ShapeText(a.shape),
         expected);
  }
  for (size_t k = 0; k < a.data.size(); ++k) {
    if (!std::isfinite(a.data[k])) {
      Fail(field + IndexText(a.shape, static_cast<int64_t>(k)), ToText(a.data[k]),
           "a finite number");
    }
  }
}

// An .npy file opened for reading, closed with this object. What cannot be
// read is refused with one message before any byte is read: a missing or
// unreadable path, a directory, and special files (a pipe or device has no
// size to check the header against, and /dev/zero never ends; docs/errors.md).
class RegularFile {
 public:
  explicit RegularFile(const std::string& path) {
    // O_NONBLOCK: opening a FIFO nobody writes must not hang.
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd_ < 0) {
      const int error = errno;
      Fail(path, "no readable file (" + ErrnoText(error) + ")", "an existing .npy file");
    }
    struct stat st;
    if (::fstat(fd_, &st) != 0) {
      const int error = errno;
      ::close(fd_);
      Fail(path, "no readable file (" + ErrnoText(error) + ")", "an existing .npy file");
    }
    if (!S_ISREG(st.st_mode)) {
      ::close(fd_);
      if (S_ISDIR(st.st_mode)) Fail(path, "a directory", "a .npy file");
      Fail(path, FileKind(st.st_mode), "a regular .npy file (save the array to a file first)");
    }
    ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) & ~O_NONBLOCK);
    size_ = static_cast<uint64_t>(st.st_size);
  }
  ~RegularFile() { ::close(fd_); }
  RegularFile(const RegularFile&) = delete;
  RegularFile& operator=(const RegularFile&) = delete;

  int fd() const { return fd_; }
  uint64_t size() const { return size_; }

 private:
  int fd_ = -1;
  uint64_t size_ = 0;
};

// An NPY file mapped into memory (private pages: the file is never written),
// read in slices of its first axis.
class NpyReader : public ArrayReader {
 public:
  explicit NpyReader(const std::string& path) : path_(path) {
    const RegularFile file(path);
    const int fd = file.fd();
    const uint64_t total = file.size();
    std::string head(static_cast<size_t>(std::min<uint64_t>(total, 12)), '\0');
    ReadAt(fd, 0, head.size(), head.data());
    const Preamble p = ParsePreamble(head, total, path);
    std::string header_text(static_cast<size_t>(p.header_bytes), '\0');
    ReadAt(fd, p.size, p.header_bytes, header_text.data());
    h_ = ParseHeader(header_text, p.size + p.header_bytes, total - p.size - p.header_bytes, path);
    dtype_ = h_.dtype.descr;
    if (h_.data_bytes == 0) return;
    void* map =
        ::mmap(nullptr, static_cast<size_t>(total), PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED) {  // a file system without mmap: the bytes in memory instead
      bytes_.assign(static_cast<size_t>(total), '\0');
      ReadAt(fd, 0, total, bytes_.data());
      base_ = bytes_.data();
      return;
    }
    const size_t length = static_cast<size_t>(total);
    map_ = std::shared_ptr<const void>(
        map, [length](const void* m) { ::munmap(const_cast<void*>(m), length); });
    base_ = static_cast<const char*>(map);
  }

  const std::vector<int64_t>& shape() const override { return h_.shape; }
  const std::string& dtype() const override { return dtype_; }
  const std::string& name() const override { return path_; }

  void ReadRows(int64_t begin, int64_t end, double* dst) override {
    CheckRange(begin, end);
    const uint64_t row = static_cast<uint64_t>(RowSize());
    const uint64_t b = static_cast<uint64_t>(begin), e = static_cast<uint64_t>(end);
    if (row == 0 || e == b) return;
    const char* data = base_ + h_.data_offset;
    if (h_.fortran_order && h_.shape.size() >= 2) {
      ConvertFortranRows(data, h_, b, e, dst);
      return;
    }
    const uint64_t item = static_cast<uint64_t>(h_.dtype.size);
    ConvertRun(data + b * row * item, (e - b) * row, h_.dtype, dst);
    // Streaming: drop the pages just read from this process (they stay in the
    // page cache), unless rows were handed out by MapRows.
    if (map_ && !mapped_out_) {
      const uintptr_t page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
      const uintptr_t from = reinterpret_cast<uintptr_t>(data + b * row * item);
      const uintptr_t to = reinterpret_cast<uintptr_t>(data + e * row * item);
      const uintptr_t first = (from + page - 1) / page * page, last = to / page * page;
      if (last > first) {
        ::madvise(reinterpret_cast<void*>(first), last - first, MADV_DONTNEED);
      }
    }
  }

  std::shared_ptr<const void> MapRows(int64_t begin, int64_t end, double** data) override {
    CheckRange(begin, end);
    const bool native_doubles = h_.dtype.kind == Kind::kFloat && h_.dtype.size == 8 &&
                                !h_.dtype.swap && (!h_.fortran_order || h_.shape.size() < 2);
    if (!map_ || !native_doubles || h_.data_offset % alignof(double) != 0) return nullptr;
    const uint64_t row = static_cast<uint64_t>(RowSize());
    *data = reinterpret_cast<double*>(const_cast<char*>(base_) + h_.data_offset) +
            static_cast<uint64_t>(begin) * row;
    mapped_out_ = true;
    return map_;
  }

 private:
  void Parse(std::string_view bytes, uint64_t total) {
    const Preamble p = ParsePreamble(bytes, total, path_);
    const uint64_t data_offset = p.size + p.header_bytes;
    h_ = ParseHeader(bytes.substr(p.size, p.header_bytes), data_offset, total - data_offset, path_);
    dtype_ = h_.dtype.descr;
  }

  void CheckRange(int64_t begin, int64_t end) const {
    if (begin < 0 || begin > end || end > Rows()) {
      Fail(path_, "rows [" + std::to_string(begin) + ", " + std::to_string(end) + ")",
           "rows within [0, " + std::to_string(Rows()) + ")");
    }
  }

  void ReadAt(int fd, uint64_t offset, uint64_t size, char* dst) const {
    ReadExactly(fd, offset, size, dst, path_);
  }

  std::string path_, dtype_;
  Header h_;
  std::string bytes_;                // a pipe's bytes, or the file's without mmap
  std::shared_ptr<const void> map_;  // the mapping of the whole file
  const char* base_ = nullptr;       // the file's first byte
  bool mapped_out_ = false;          // MapRows handed out rows: keep every page
};

}  // namespace

int64_t NpyArray::size() const {
  uint64_t count = 0, bytes = 0;
  if (!CountItems(shape, 1, &count, &bytes)) return -1;
  return static_cast<int64_t>(count);
}

std::string ShapeText(const std::vector<int64_t>& shape) {
  std::string s = "(";
  for (size_t j = 0; j < shape.size(); ++j) s += (j ? ", " : "") + std::to_string(shape[j]);
  return s + (shape.size() == 1 ? ",)" : ")");
}

NpyArray ParseNpy(std::string_view bytes, const std::string& name) {
  const Preamble p = ParsePreamble(bytes, bytes.size(), name);
  const uint64_t data_offset = p.size + p.header_bytes;
  const Header h = ParseHeader(bytes.substr(p.size, p.header_bytes), data_offset,
                               bytes.size() - data_offset, name);
  NpyArray a = MakeArray(h);
  const char* src = bytes.data() + data_offset;
  if (h.fortran_order) {
    ConvertFortran(src, h, a.data.data());
  } else {
    ConvertRun(src, h.count, h.dtype, a.data.data());
  }
  return a;
}

std::unique_ptr<ArrayReader> OpenNpyReader(const std::string& path) {
  return std::make_unique<NpyReader>(path);
}

NpyArray ReadNpy(const std::string& path) {
  const RegularFile file(path);
  const int fd = file.fd();
  const uint64_t total = file.size();

  auto read_at = [&](uint64_t offset, uint64_t size, char* dst) {
    ReadExactly(fd, offset, size, dst, path);
  };

  std::string head(static_cast<size_t>(std::min<uint64_t>(total, 12)), '\0');
  read_at(0, head.size(), head.data());
  const Preamble p = ParsePreamble(head, total, path);
  std::string header_text(static_cast<size_t>(p.header_bytes), '\0');
  read_at(p.size, p.header_bytes, header_text.data());
  const uint64_t data_offset = p.size + p.header_bytes;
  const Header h = ParseHeader(header_text, data_offset, total - data_offset, path);

  NpyArray a = MakeArray(h);
  if (h.fortran_order && h.shape.size() >= 2) {
    std::string raw(static_cast<size_t>(h.data_bytes), '\0');
    read_at(data_offset, h.data_bytes, raw.data());
    ConvertFortran(raw.data(), h, a.data.data());
  } else if (h.dtype.kind == Kind::kFloat && h.dtype.size == 8 && !h.dtype.swap) {
    read_at(data_offset, h.data_bytes, reinterpret_cast<char*>(a.data.data()));
  } else {
    // Convert in chunks so the raw bytes never need a second full-size buffer.
    const uint64_t item = static_cast<uint64_t>(h.dtype.size);
    const uint64_t chunk_items = (uint64_t{1} << 20) / item;
    std::string raw(static_cast<size_t>(std::min(h.data_bytes, chunk_items * item)), '\0');
    for (uint64_t done = 0; done < h.count;) {
      const uint64_t n = std::min(chunk_items, h.count - done);
      read_at(data_offset + done * item, n * item, raw.data());
      ConvertRun(raw.data(), n, h.dtype, a.data.data() + done);
      done += n;
    }
  }
  return a;
}

std::string SerializeNpy(const std::vector<int64_t>& shape, const double* data_c_order) {
  uint64_t count = 0;
  std::string out = SerializeHeader(shape, &count);
  Require(count == 0 || data_c_order != nullptr, "npy data", "a null pointer",
          "data for shape " + ShapeText(shape));
  out.reserve(out.size() + count * sizeof(double));
  AppendLittleEndianDoubles(data_c_order, count, &out);
  return out;
}

void WriteNpy(const std::string& path, const std::vector<int64_t>& shape,
              const double* data_c_order) {
  uint64_t count = 0;
  const std::string header = SerializeHeader(shape, &count);
  Require(count == 0 || data_c_order != nullptr, path, "a null data pointer",
          "data for shape " + ShapeText(shape));
  AtomicFileWriter writer(path);
  writer.Write(header);
  if constexpr (std::endian::native == std::endian::little) {
    writer.Write(data_c_order, count * sizeof(double));
  } else {
    std::string bytes;
    AppendLittleEndianDoubles(data_c_order, count, &bytes);
    writer.Write(bytes);
  }
  writer.Commit();
}

void WriteNpy(const std::string& path, const Eigen::Ref<const Eigen::MatrixXd>& m) {
  const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> row_major = m;
  WriteNpy(path, {static_cast<int64_t>(m.rows()), static_cast<int64_t>(m.cols())},
           row_major.data());
}

void WriteNpy(const std::string& path, const Eigen::Ref<const Eigen::VectorXd>& v) {
  WriteNpy(path, {static_cast<int64_t>(v.size())}, v.data());
}

Eigen::MatrixXd NpyToMatrix(const NpyArray& a, const std::string& field) {
  CheckArray(a, field, 2, "a 1-D or 2-D array");
  const Eigen::Index rows = a.shape[0];
  const Eigen::Index cols = a.shape.size() == 2 ? a.shape[1] : 1;
  // An empty array may have a huge other dimension, e.g. (0, 2^62): build it
  // directly, since Eigen's assignment would loop over that dimension.
  if (a.data.empty()) return Eigen::MatrixXd(rows, cols);
  return Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
      a.data.data(), rows, cols);
}

Inputs NpyToInputs(const NpyArray& a, const std::string& field) {
  const std::string expected = "a 3-D array of shape (P, n_tok, N0) with n_tok >= 1 and N0 >= 1";
  CheckArray(a, field, 3, expected);
  if (a.shape[1] < 1 || a.shape[2] < 1) Fail(field, "shape " + ShapeText(a.shape), expected);
  InputValues values = InputValues::Uninitialized(a.data.size());
  if (!a.data.empty()) std::memcpy(values.data(), a.data.data(), a.data.size() * sizeof(double));
  return Inputs(a.shape[0], a.shape[1], a.shape[2], std::move(values));
}

std::vector<Eigen::MatrixXd> NpyToMatrices(const NpyArray& a, const std::string& field) {
  const std::string expected = "a 3-D array of shape (count, rows, cols) with rows, cols >= 1";
  CheckArray(a, field, 3, expected);
  // Empty matrices are refused: with rows × cols = 0 the data size would not
  // bound the count, and a corrupt count could ask for absurd memory.
  if (a.shape[1] < 1 || a.shape[2] < 1) Fail(field, "shape " + ShapeText(a.shape), expected);
  const Eigen::Index rows = a.shape[1], cols = a.shape[2];
  std::vector<Eigen::MatrixXd> out;
  out.reserve(static_cast<size_t>(a.shape[0]));
  using RowMajor = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  for (int64_t k = 0; k < a.shape[0]; ++k) {
    out.emplace_back(Eigen::Map<const RowMajor>(a.data.data() + k * rows * cols, rows, cols));
  }
  return out;
}

}  // namespace attnpaths
