// Tests of data/npy.h: NumPy-written fixtures, hand-built byte strings (big
// endian, Fortran order, every dtype, format versions 2 and 3), round trips,
// conversions, and one test per kind of malformed file. Expected values are
// computed here from the bytes' definitions, never by the code under test.
#include "data/npy.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "data/atomic_file.h"
#include "kernels/error.h"

#ifndef ATTNPATHS_NPY_FIXTURES
#error "ATTNPATHS_NPY_FIXTURES must name tests/data/fixtures"
#endif

namespace attnpaths {
namespace {

namespace fs = std::filesystem;

// ---------------------------------------------------------------------------
// Helpers that build .npy bytes by the format's definition.

// magic | version | little-endian header length | dict [+ spaces + '\n' to a multiple of 64].
std::string Npy(int major, std::string dict, std::string_view data, bool pad = true) {
  const size_t preamble = major == 1 ? 10 : 12;
  if (pad) {
    const size_t total = preamble + dict.size() + 1;
    dict.append((64 - total % 64) % 64, ' ');
    dict += '\n';
  }
  std::string out("\x93NUMPY", 6);
  out += static_cast<char>(major);
  out += '\0';
  for (size_t i = 0; i < preamble - 8; ++i)
    out += static_cast<char>((dict.size() >> (8 * i)) & 0xff);
  return out + dict + std::string(data);
}

std::string Dict(const std::string& descr, bool fortran, const std::string& shape) {
  return "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") +
         ", 'shape': " + shape + ", }";
}

// Bytes of an unsigned value, most significant first when `big`.
std::string Bytes(uint64_t bits, int width, bool big) {
  std::string out(static_cast<size_t>(width), '\0');
  for (int i = 0; i < width; ++i) {
    const char byte = static_cast<char>((bits >> (8 * i)) & 0xff);
    out[static_cast<size_t>(big ? width - 1 - i : i)] = byte;
  }
  return out;
}
std::string F8(double v, bool big = false) { return Bytes(std::bit_cast<uint64_t>(v), 8, big); }
std::string F4(float v, bool big = false) { return Bytes(std::bit_cast<uint32_t>(v), 4, big); }

std::string Hex(std::initializer_list<int> bytes) {
  std::string out;
  for (int b : bytes) out += static_cast<char>(b);
  return out;
}

void ExpectError(std::string_view bytes, const std::string& substring) {
  try {
    ParseNpy(bytes, "X.npy");
    ADD_FAILURE() << "no Error; expected one containing \"" << substring << "\"";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("X.npy: found "), std::string::npos) << message;
    EXPECT_NE(message.find(substring), std::string::npos)
        << "message: " << message << "\nexpected substring: " << substring;
  }
}

std::string Fixture(const std::string& name) {
  return std::string(ATTNPATHS_NPY_FIXTURES) + "/" + name;
}

// Reads a fixture both ways and checks they agree.
NpyArray ReadFixture(const std::string& name) {
  const NpyArray a = ReadNpy(Fixture(name));
  const NpyArray b = ParseNpy(ReadFile(Fixture(name)), name);
  EXPECT_EQ(a.shape, b.shape);
  EXPECT_EQ(a.dtype, b.dtype);
  EXPECT_EQ(a.data, b.data);
  return a;
}

std::vector<double> Pattern(int n, double scale, double offset) {
  std::vector<double> v(static_cast<size_t>(n));
  for (int k = 0; k < n; ++k) v[static_cast<size_t>(k)] = k * scale + offset;
  return v;
}

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "attnpaths_npy_XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// ---------------------------------------------------------------------------
// NumPy-written fixtures (tests/data/make_npy_fixtures.py).

TEST(NpyFixtures, Float64COrder) {
  const NpyArray a = ReadFixture("f8_c_2x3.npy");
  EXPECT_EQ(a.shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(a.dtype, "<f8");
  EXPECT_EQ(a.data, Pattern(6, 0.5, -1.0));
}

TEST(NpyFixtures, BigEndianFortranFloat64) {
  const NpyArray a = ReadFixture("f8_be_fortran_3x4.npy");
  EXPECT_EQ(a.shape, (std::vector<int64_t>{3, 4}));
  EXPECT_EQ(a.dtype, ">f8");
  EXPECT_EQ(a.data, Pattern(12, 1.25, -3.0));
}

TEST(NpyFixtures, FortranFloat32ThreeDimensional) {
  const NpyArray a = ReadFixture("f4_fortran_2x3x4.npy");
  EXPECT_EQ(a.shape, (std::vector<int64_t>{2, 3, 4}));
  EXPECT_EQ(a.dtype, "<f4");
  EXPECT_EQ(a.data, Pattern(24, 0.5, -6.0));
}

TEST(NpyFixtures, SmallFloats) {
  NpyArray a = ReadFixture("f4_be_5.npy");
  EXPECT_EQ(a.dtype, ">f4");
  EXPECT_EQ(a.data, Pattern(5, 0.25, -0.5));
  a = ReadFixture("f2_6.npy");
  EXPECT_EQ(a.dtype, "<f2");
  EXPECT_EQ(a.data, Pattern(6, 0.5, -1.5));
}

TEST(NpyFixtures, SignedIntegers) {
  NpyArray a = ReadFixture("i1_2x3.npy");
  EXPECT_EQ(a.dtype, "|i1");
  EXPECT_EQ(a.data, Pattern(6, 40, -128));
  a = ReadFixture("i2_be_2x3x4.npy");
  EXPECT_EQ(a.dtype, ">i2");
  EXPECT_EQ(a.shape, (std::vector<int64_t>{2, 3, 4}));
  EXPECT_EQ(a.data, Pattern(24, 1000, -12000));
  a = ReadFixture("i4_fortran_3x2.npy");
  EXPECT_EQ(a.dtype, "<i4");
  EXPECT_EQ(a.data, Pattern(6, 700000000, -2100000000));
  a = ReadFixture("i8_be_4.npy");
  EXPECT_EQ(a.dtype, ">i8");
  EXPECT_EQ(a.data, (std::vector<double>{-std::ldexp(1, 53), -1, 0, std::ldexp(1, 53)}));
}

TEST(NpyFixtures, UnsignedIntegersAndBool) {
  NpyArray a = ReadFixture("u1_4.npy");
  EXPECT_EQ(a.dtype, "|u1");
  EXPECT_EQ(a.data, (std::vector<double>{0, 1, 128, 255}));
  a = ReadFixture("u2_be_3.npy");
  EXPECT_EQ(a.dtype, ">u2");
  EXPECT_EQ(a.data, (std::vector<double>{0, 258, 65535}));
  a = ReadFixture("u4_4.npy");
  EXPECT_EQ(a.data, (std::vector<double>{0, 1, 4294967295.0, 123456789}));
  a = ReadFixture("u8_3.npy");
  EXPECT_EQ(a.dtype, "<u8");
  EXPECT_EQ(a.data, (std::vector<double>{0, std::ldexp(1, 53), std::ldexp(1, 63) + 4096}));
  a = ReadFixture("b1_2x3.npy");
  EXPECT_EQ(a.dtype, "|b1");
  EXPECT_EQ(a.data, (std::vector<double>{1, 0, 1, 1, 0, 0}));
}

TEST(NpyFixtures, Versions2And3ScalarAndEmpty) {
  NpyArray a = ReadFixture("f8_v2_3.npy");
  EXPECT_EQ(a.data, (std::vector<double>{1, 2, 3}));
  a = ReadFixture("f8_v3_2x2.npy");
  EXPECT_EQ(a.shape, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(a.data, Pattern(4, -1.5, 2.0));
  a = ReadFixture("f8_scalar.npy");
  EXPECT_TRUE(a.shape.empty());
  EXPECT_EQ(a.size(), 1);
  EXPECT_EQ(a.data, (std::vector<double>{3.5}));
  a = ReadFixture("f8_empty_0x3.npy");
  EXPECT_EQ(a.shape, (std::vector<int64_t>{0, 3}));
  EXPECT_TRUE(a.data.empty());
}

// ---------------------------------------------------------------------------
// Hand-built byte strings.

TEST(NpyParse, LittleEndianFloat64) {
  const NpyArray a = ParseNpy(Npy(1, Dict("<f8", false, "(3,)"), F8(1.5) + F8(-2) + F8(0.1)), "a");
  EXPECT_EQ(a.shape, (std::vector<int64_t>{3}));
  EXPECT_EQ(a.data, (std::vector<double>{1.5, -2, 0.1}));
}

TEST(NpyParse, BigEndianLiteralBytes) {
  // 1.5 = 0x3FF8000000000000, -2 = 0xC000000000000000 (IEEE 754 binary64).
  NpyArray a = ParseNpy(Npy(1, Dict(">f8", false, "(2,)"),
                            Hex({0x3f, 0xf8, 0, 0, 0, 0, 0, 0, 0xc0, 0, 0, 0, 0, 0, 0, 0})),
                        "a");
  EXPECT_EQ(a.data, (std::vector<double>{1.5, -2}));
  // binary32: 1.5 = 0x3FC00000, -2 = 0xC0000000.
  a = ParseNpy(Npy(1, Dict(">f4", false, "(2,)"), Hex({0x3f, 0xc0, 0, 0, 0xc0, 0, 0, 0})), "a");
  EXPECT_EQ(a.data, (std::vector<double>{1.5, -2}));
  // int16 -2 = 0xFFFE, 258 = 0x0102.
  a = ParseNpy(Npy(1, Dict(">i2", false, "(2,)"), Hex({0xff, 0xfe, 0x01, 0x02})), "a");
  EXPECT_EQ(a.data, (std::vector<double>{-2, 258}));
  // int64 2^40 + 3 big-endian; int32 -1 little-endian.
  a = ParseNpy(Npy(1, Dict(">i8", false, "(1,)"), Hex({0, 0, 1, 0, 0, 0, 0, 3})), "a");
  EXPECT_EQ(a.data, (std::vector<double>{std::ldexp(1, 40) + 3}));
  a = ParseNpy(Npy(1, Dict("<i4", false, "(1,)"), Hex({0xff, 0xff, 0xff, 0xff})), "a");
  EXPECT_EQ(a.data, (std::vector<double>{-1}));
  // uint32 0x01020304 big-endian, uint64 max little-endian (rounds to 2^64).
  a = ParseNpy(Npy(1, Dict(">u4", false, "(1,)"), Hex({1, 2, 3, 4})), "a");
  EXPECT_EQ(a.data, (std::vector<double>{16909060}));
  a = ParseNpy(Npy(1, Dict("<u8", false, "(1,)"), std::string(8, '\xff')), "a");
  EXPECT_EQ(a.data, (std::vector<double>{std::ldexp(1, 64)}));
}

TEST(NpyParse, EveryIntegerWidthBothOrders) {
  for (bool big : {false, true}) {
    for (int width : {1, 2, 4, 8}) {
      // Values -3, 0, 5 and the extremes of the type.
      const int64_t min =
          width == 8 ? std::numeric_limits<int64_t>::min() : -(int64_t{1} << (8 * width - 1));
      const int64_t max =
          width == 8 ? std::numeric_limits<int64_t>::max() : (int64_t{1} << (8 * width - 1)) - 1;
      std::string data;
      for (int64_t v : {int64_t{-3}, int64_t{0}, int64_t{5}, min, max}) {
        data += Bytes(static_cast<uint64_t>(v), width, big);
      }
      const std::string order = width == 1 ? "|" : big ? ">" : "<";
      const std::string descr = order + "i" + std::to_string(width);
      const NpyArray a = ParseNpy(Npy(1, Dict(descr, false, "(5,)"), data), "a");
      EXPECT_EQ(a.dtype, descr);
      EXPECT_EQ(a.data,
                (std::vector<double>{-3, 0, 5, static_cast<double>(min), static_cast<double>(max)}))
          << descr;
      // The same bytes read as unsigned.
      std::string udescr = order + "u" + std::to_string(width);
      const NpyArray u = ParseNpy(Npy(1, Dict(udescr, false, "(5,)"), data), "a");
      const double span = std::ldexp(1, 8 * width);
      EXPECT_EQ(u.data, (std::vector<double>{span - 3, 0, 5, span / 2, span / 2 - 1})) << udescr;
    }
  }
}

TEST(NpyParse, Float16Values) {
  // binary16: 0x3C00 = 1, 0xC000 = -2, 0x0001 = 2^-24, 0x7BFF = 65504, 0x7C00 = inf, 0x7E00 = NaN.
  const NpyArray a = ParseNpy(Npy(1, Dict(">f2", false, "(6,)"),
                                  Hex({0x3c, 0, 0xc0, 0, 0, 1, 0x7b, 0xff, 0x7c, 0, 0x7e, 0})),
                              "a");
  EXPECT_EQ(a.data[0], 1);
  EXPECT_EQ(a.data[1], -2);
  EXPECT_EQ(a.data[2], std::ldexp(1, -24));
  EXPECT_EQ(a.data[3], 65504);
  EXPECT_EQ(a.data[4], std::numeric_limits<double>::infinity());
  EXPECT_TRUE(std::isnan(a.data[5]));
}

TEST(NpyParse, BoolAndNativeOrder) {
  NpyArray a = ParseNpy(Npy(1, Dict("|b1", false, "(4,)"), Hex({0, 1, 0, 2})), "a");
  EXPECT_EQ(a.data, (std::vector<double>{0, 1, 0, 1}));
  static_assert(std::endian::native == std::endian::little,
                "these tests assume a little-endian host");
  a = ParseNpy(Npy(1, Dict("=f8", false, "(1,)"), F8(7.25)), "a");
  EXPECT_EQ(a.data, (std::vector<double>{7.25}));
}

TEST(NpyParse, FortranOrderTwoAndThreeDimensions) {
  // A 2 × 3 array a[i][j] = 10 i + j stored column by column.
  std::string data;
  for (int j = 0; j < 3; ++j) {
    for (int i = 0; i < 2; ++i) data += F8(10 * i + j);
  }
  NpyArray a = ParseNpy(Npy(1, Dict("<f8", true, "(2, 3)"), data), "a");
  EXPECT_EQ(a.data, (std::vector<double>{0, 1, 2, 10, 11, 12}));

  // 2 × 3 × 4, big-endian float32: Fortran offset i + 2j + 6k holds the C index 12i + 4j + k.
  std::vector<float> fortran(24);
  for (int i = 0; i < 2; ++i) {
    for (int j = 0; j < 3; ++j) {
      for (int k = 0; k < 4; ++k)
        fortran[static_cast<size_t>(i + 2 * j + 6 * k)] = 12 * i + 4 * j + k;
    }
  }
  data.clear();
  for (float v : fortran) data += F4(v, /*big=*/true);
  a = ParseNpy(Npy(1, Dict(">f4", true, "(2, 3, 4)"), data), "a");
  EXPECT_EQ(a.data, Pattern(24, 1, 0));

  // Fortran order is irrelevant for 0-D and 1-D arrays.
  a = ParseNpy(Npy(1, Dict("<f8", true, "(2,)"), F8(1) + F8(2)), "a");
  EXPECT_EQ(a.data, (std::vector<double>{1, 2}));
  a = ParseNpy(Npy(1, Dict("<f8", true, "()"), F8(4)), "a");
  EXPECT_EQ(a.data, (std::vector<double>{4}));
  // Zero-size Fortran arrays.
  a = ParseNpy(Npy(1, Dict("<f8", true, "(3, 0, 2)"), ""), "a");
  EXPECT_TRUE(a.data.empty());
}

TEST(NpyParse, Versions2And3) {
  for (int major : {2, 3}) {
    const NpyArray a =
        ParseNpy(Npy(major, Dict("<i2", false, "(2, 1)"), Hex({1, 0, 0xff, 0xff})), "a");
    EXPECT_EQ(a.shape, (std::vector<int64_t>{2, 1}));
    EXPECT_EQ(a.data, (std::vector<double>{1, -1}));
  }
  // A long header needs version 2's 4-byte length.
  const std::string dict = Dict("<f8", false, "(1,)") + std::string(70000, ' ');
  const NpyArray a = ParseNpy(Npy(2, dict, F8(9)), "a");
  EXPECT_EQ(a.data, (std::vector<double>{9}));
}

TEST(NpyParse, HeaderSyntaxVariants) {
  const std::string data = F8(1) + F8(2) + F8(3) + F8(4) + F8(5) + F8(6);
  const std::vector<std::string> dicts = {
      "{\"descr\": \"<f8\", \"fortran_order\": False, \"shape\": (2, 3)}",
      "{'shape': (2,3), 'fortran_order': False, 'descr': '<f8'}",
      "{ 'descr' : '<f8' , 'fortran_order' : False , 'shape' : ( 2 , 3 , ) , }",
      "{'descr': '<f8', 'fortran_order': False, 'shape': (2L, 3L), }",
      "\t{'descr':'<f8','fortran_order':False,'shape':(2,3)}\r\n",
  };
  for (const std::string& dict : dicts) {
    for (bool pad : {true, false}) {
      const NpyArray a = ParseNpy(Npy(1, dict, data, pad), "a");
      EXPECT_EQ(a.shape, (std::vector<int64_t>{2, 3})) << dict << " pad " << pad;
      EXPECT_EQ(a.data, Pattern(6, 1, 1));
    }
  }
}

// ---------------------------------------------------------------------------
// Malformed input: each throws Error naming the file, what was found and what was expected.

TEST(NpyErrors, ExactDataSizeMessage) {
  const std::string bytes = Npy(1, Dict("<f8", false, "(10, 20)"), std::string(800, '\0'));
  try {
    ParseNpy(bytes, "X.npy");
    FAIL() << "no Error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "X.npy: found 800 data bytes, expected 1600 for shape (10, 20) <f8");
  }
}

TEST(NpyErrors, Preamble) {
  ExpectError("", "an empty file");
  ExpectError("\x93NUM", "magic");
  ExpectError("NOTNUMPYAT ALL", "first bytes 'NOTNUMPY'");
  ExpectError(std::string("PK\x03\x04", 4) + std::string(40, '\0'), ".npz");
  ExpectError(std::string("\x93NUMPY", 6), "truncated preamble of 6 bytes");
  ExpectError(std::string("\x93NUMPY\x01\x00\x10", 9), "truncated preamble of 9 bytes");
  ExpectError(std::string("\x93NUMPY\x02\x00\x10\x00", 10), "at least 12 bytes");
  ExpectError(std::string("\x93NUMPY\x04\x00\x10\x00", 10) + std::string(16, ' '), "version 4.0");
  ExpectError(std::string("\x93NUMPY\x01\x01\x10\x00", 10) + std::string(16, ' '), "version 1.1");
  ExpectError(std::string("\x93NUMPY\x00\x00\x10\x00", 10) + std::string(16, ' '), "version 0.0");
}

TEST(NpyErrors, HeaderLength) {
  // Length 0x0100 with only 10 header bytes present.
  ExpectError(std::string("\x93NUMPY\x01\x00\x00\x01", 10) + "{}        ",
              "header length of 256 bytes but only 10 bytes");
  // Version 2 with a 4 GiB length: refused before anything is read or allocated.
  ExpectError(std::string("\x93NUMPY\x02\x00\xff\xff\xff\xff", 12) + "{}",
              "header length of 4294967295 bytes");
  const std::string whole = Npy(1, Dict("<f8", false, "(1,)"), F8(1));
  for (size_t cut = 0; cut < whole.size(); ++cut) {
    EXPECT_THROW(ParseNpy(std::string_view(whole).substr(0, cut), "X.npy"), Error) << cut;
  }
}

TEST(NpyErrors, HeaderDictionary) {
  ExpectError(Npy(1, "'descr': '<f8'", ""), "'{' opening the header");
  ExpectError(Npy(1, "", ""), "'{' opening the header");
  ExpectError(Npy(1, "{'descr': '<f8', 'fortran_order': False}", ""), "without 'shape'");
  ExpectError(Npy(1, "{}", ""), "without 'descr', 'fortran_order', 'shape'");
  ExpectError(Npy(1, Dict("<f8", false, "(1,)").substr(0, 40), ""), "end of the header");
  ExpectError(Npy(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), 'x': 1}", F8(1)),
              "header key 'x'");
  ExpectError(
      Npy(1, "{'descr': '<f8', 'descr': '<f8', 'fortran_order': False, 'shape': (1,)}", F8(1)),
      "'descr' twice");
  ExpectError(Npy(1, "{descr: '<f8'}", ""), "a quoted key");
  ExpectError(Npy(1, "{'descr' '<f8'}", ""), "':' after key 'descr'");
  ExpectError(Npy(1, "{'descr': '<f8' 'fortran_order': False}", ""), "',' or '}'");
  ExpectError(Npy(1, "{'descr': '<f8, 'fortran_order': False, 'shape': (1,)}", ""),
              "',' or '}' after the value of 'descr'");
  ExpectError(Npy(1, "{'descr': '<f8", ""), "unterminated string");
  ExpectError(Npy(1, Dict("<f8", false, "(1,)") + " x", F8(1), false), "only padding");
  ExpectError(Npy(1, Dict("<f8", false, "(1,)") + std::string("\0", 1), F8(1), false),
              "only padding");
  ExpectError(Npy(1, "{'descr': '" + std::string(300, 'f') + "'}", ""), "longer than 256");
}

TEST(NpyErrors, FortranOrderAndShapeValues) {
  ExpectError(Npy(1, "{'descr': '<f8', 'fortran_order': Maybe, 'shape': (1,)}", F8(1)),
              "True or False");
  ExpectError(Npy(1, "{'descr': '<f8', 'fortran_order': false, 'shape': (1,)}", F8(1)),
              "True or False");
  ExpectError(Npy(1, Dict("<f8", false, "(-1,)"), ""), "negative dimension");
  ExpectError(Npy(1, Dict("<f8", false, "(2, -3)"), ""), "negative dimension");
  ExpectError(Npy(1, Dict("<f8", false, "[1]"), F8(1)), "a list for 'shape'");
  ExpectError(Npy(1, Dict("<f8", false, "1"), F8(1)), "a tuple such as (10, 20)");
  ExpectError(Npy(1, Dict("<f8", false, "(1.5,)"), F8(1)), "',' or ')'");
  ExpectError(Npy(1, Dict("<f8", false, "(a,)"), F8(1)), "a dimension (a non-negative integer)");
  ExpectError(Npy(1, Dict("<f8", false, "(99999999999999999999,)"), ""), "too large for int64");
  ExpectError(Npy(1, Dict("<f8", false, "(1099511627776, 1099511627776)"), ""),
              "overflows 64 bits");
  // 2^61 items of 8 bytes overflow the byte count even though the item count fits.
  ExpectError(Npy(1, Dict("<f8", false, "(2305843009213693952,)"), ""), "overflows 64 bits");
  ExpectError(Npy(1, Dict("<f8", false, "(4611686018427387904,)"), F8(1)), "overflows 64 bits");
  std::string many = "(";
  for (int i = 0; i < 65; ++i) many += "1,";
  ExpectError(Npy(1, Dict("<f8", false, many + ")"), F8(1)), "more than 64 dimensions");
}

TEST(NpyErrors, DataSize) {
  ExpectError(Npy(1, Dict("<f8", false, "(3,)"), F8(1) + F8(2)),
              "found 16 data bytes, expected 24 for shape (3,) <f8");
  ExpectError(Npy(1, Dict("<f8", false, "(1,)"), F8(1) + "x"), "found 9 data bytes, expected 8");
  ExpectError(Npy(1, Dict("<i2", false, "()"), ""),
              "found 0 data bytes, expected 2 for shape () <i2");
  ExpectError(Npy(1, Dict("|u1", false, "(0, 5)"), "z"), "found 1 data bytes, expected 0");
  // A huge shape that would need terabytes is rejected by the size check, not by an allocation.
  ExpectError(Npy(1, Dict("<f8", false, "(1000000, 1000000)"), F8(1)),
              "found 8 data bytes, expected 8000000000000 for shape (1000000, 1000000) <f8");
}

TEST(NpyErrors, UnsupportedDtypes) {
  ExpectError(Npy(1, Dict("<c16", false, "(1,)"), std::string(16, '\0')),
              "unsupported dtype '<c16' (complex)");
  ExpectError(Npy(1, Dict("|O", false, "(1,)"), ""), "unsupported dtype '|O' (Python objects)");
  ExpectError(Npy(1, Dict("|O8", false, "(1,)"), std::string(8, '\0')), "(Python objects)");
  ExpectError(Npy(1, Dict("<U5", false, "(1,)"), std::string(20, '\0')), "(unicode strings)");
  ExpectError(Npy(1, Dict("|S3", false, "(1,)"), "abc"), "(byte strings)");
  ExpectError(Npy(1, Dict("|V8", false, "(1,)"), std::string(8, '\0')), "(void/structured)");
  ExpectError(Npy(1, Dict("<M8", false, "(1,)"), std::string(8, '\0')), "(datetime)");
  ExpectError(Npy(1, Dict("<m8", false, "(1,)"), std::string(8, '\0')), "(timedelta)");
  ExpectError(Npy(1, Dict("<f16", false, "(1,)"), std::string(16, '\0')),
              "(extended-precision float)");
  ExpectError(Npy(1, Dict("<i3", false, "(1,)"), std::string(3, '\0')), "(integer of that size)");
  ExpectError(Npy(1, Dict("|b2", false, "(1,)"), std::string(2, '\0')), "(bool of that size)");
  ExpectError(Npy(1, Dict("|f8", false, "(1,)"), F8(1)), "'|' byte order on a multi-byte type");
  ExpectError(Npy(1, Dict("zz", false, "(1,)"), ""), "dtype 'zz'");
  ExpectError(Npy(1, Dict("<", false, "(1,)"), ""), "dtype '<'");
  ExpectError(Npy(1, Dict("<f8x", false, "(1,)"), ""), "dtype '<f8x'");
  ExpectError(Npy(1, Dict("<f99999999999", false, "(1,)"), ""), "dtype '<f99999999999'");
  ExpectError(Npy(1, "{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (1,)}", F8(1)),
              "structured dtypes are not supported");
}

TEST(NpyErrors, BinaryGarbageNeverCrashes) {
  // Random mutations of a valid file either parse consistently or throw Error.
  const std::string valid = Npy(1, Dict("<i2", true, "(3, 4)"), std::string(24, '\x01'));
  std::mt19937 rng(5);
  for (int trial = 0; trial < 20000; ++trial) {
    std::string bytes = valid;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) bytes[rng() % bytes.size()] = static_cast<char>(rng());
    if (rng() % 4 == 0) bytes.resize(rng() % bytes.size());
    try {
      const NpyArray a = ParseNpy(bytes, "X.npy");
      EXPECT_EQ(static_cast<size_t>(a.size()), a.data.size());
    } catch (const Error&) {
    }
  }
}

// Every file in tests/data/npy_regressions/ (fuzzer findings and limit probes)
// and the fuzz seed corpus: parse consistently or throw Error naming the file.
TEST(NpyRegressions, ReplayEveryFile) {
  int files = 0, parsed = 0;
  for (const char* dir : {ATTNPATHS_NPY_REGRESSIONS, ATTNPATHS_NPY_FIXTURES}) {
    std::vector<fs::path> paths;
    for (const auto& entry : fs::directory_iterator(dir)) {
      if (entry.path().extension() != ".md") paths.push_back(entry.path());
    }
    std::sort(paths.begin(), paths.end());
    for (const fs::path& path : paths) {
      ++files;
      const std::string name = path.string();
      for (bool from_file : {false, true}) {
        try {
          const NpyArray a = from_file ? ReadNpy(name) : ParseNpy(ReadFile(name), name);
          ASSERT_GE(a.size(), 0) << name;
          EXPECT_EQ(static_cast<size_t>(a.size()), a.data.size()) << name;
          parsed += from_file;
          // The conversions may refuse the array, but only with an Error.
          for (int k = 0; k < 3; ++k) {
            try {
              if (k == 0) NpyToMatrix(a, name);
              if (k == 1) NpyToInputs(a, name);
              if (k == 2) NpyToMatrices(a, name);
            } catch (const Error&) {
            }
          }
        } catch (const Error& e) {
          EXPECT_EQ(std::string(e.what()).rfind(name + ": found ", 0), 0u) << e.what();
        }
      }
    }
  }
  EXPECT_GE(files, 20);
  EXPECT_GE(parsed, 18);  // at least the fixtures
}

// ---------------------------------------------------------------------------
// Files: ReadNpy, WriteNpy, round trips.

TEST(NpyFiles, ReadErrorsNameThePath) {
  TempDir dir;
  try {
    ReadNpy(dir / "missing.npy");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(
        std::string(e.what()).find(dir / "missing.npy" + ": found no readable file (No such file"),
        std::string::npos)
        << e.what();
  }
  try {
    ReadNpy(dir / "");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("found a directory"), std::string::npos) << e.what();
  }
  WriteFileAtomically(dir / "short.npy",
                      Npy(1, Dict("<f8", false, "(10, 20)"), std::string(800, '\0')));
  try {
    ReadNpy(dir / "short.npy");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              dir / "short.npy" + ": found 800 data bytes, expected 1600 for shape (10, 20) <f8");
  }
  WriteFileAtomically(dir / "empty.npy", "");
  EXPECT_THROW(ReadNpy(dir / "empty.npy"), Error);
}

TEST(NpyFiles, WriteErrorsNameThePath) {
  const std::vector<double> v = {1, 2};
  try {
    WriteNpy("/nonexistent_attnpaths_dir/x.npy", {2}, v.data());
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent_attnpaths_dir/x.npy: found directory"),
              std::string::npos)
        << e.what();
  }
  EXPECT_THROW(SerializeNpy({-1}, v.data()), Error);
  EXPECT_THROW(SerializeNpy({2}, nullptr), Error);
  EXPECT_THROW(SerializeNpy({int64_t{1} << 40, int64_t{1} << 40}, v.data()), Error);
}

TEST(NpyFiles, SerializedHeaderMatchesTheFormat) {
  const std::vector<double> v = {1, 2, 3, 4, 5, 6};
  const std::string bytes = SerializeNpy({2, 3}, v.data());
  EXPECT_EQ(bytes.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
  const size_t header_len =
      static_cast<unsigned char>(bytes[8]) | static_cast<unsigned char>(bytes[9]) << 8;
  EXPECT_EQ((10 + header_len) % 64, 0u);
  EXPECT_EQ(bytes.size(), 10 + header_len + 48);
  const std::string header = bytes.substr(10, header_len);
  EXPECT_EQ(header.substr(0, 59), "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }");
  EXPECT_EQ(header.find_first_not_of(' ', 59), header.size() - 1);
  EXPECT_EQ(header.back(), '\n');
  EXPECT_EQ(bytes.substr(10 + header_len, 8), F8(1));
  EXPECT_EQ(bytes.substr(bytes.size() - 8), F8(6));
  EXPECT_NE(SerializeNpy({5}, v.data()).find("'shape': (5,), }"), std::string::npos);
  EXPECT_NE(SerializeNpy({}, v.data()).find("'shape': (), }"), std::string::npos);
}

TEST(NpyFiles, RoundTripsRandomShapes) {
  TempDir dir;
  std::mt19937 rng(11);
  std::normal_distribution<double> normal;
  const std::vector<std::vector<int64_t>> shapes = {
      {}, {0}, {1}, {7}, {3, 0}, {0, 4}, {2, 5}, {4, 3, 2}, {2, 1, 3, 2}, {1, 1, 1, 1, 1, 1}};
  for (const auto& shape : shapes) {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    std::vector<double> v(static_cast<size_t>(n));
    for (double& x : v) x = normal(rng);
    if (n > 2) {
      v[0] = std::numeric_limits<double>::quiet_NaN();
      v[1] = -std::numeric_limits<double>::infinity();
      v[2] = -0.0;
    }
    const NpyArray a = ParseNpy(SerializeNpy(shape, v.data()), "a");
    EXPECT_EQ(a.shape, shape);
    EXPECT_EQ(a.dtype, "<f8");
    ASSERT_EQ(a.data.size(), v.size());
    for (size_t k = 0; k < v.size(); ++k) {
      EXPECT_EQ(std::bit_cast<uint64_t>(a.data[k]), std::bit_cast<uint64_t>(v[k]));
    }
    WriteNpy(dir / "a.npy", shape, v.data());
    const NpyArray b = ReadNpy(dir / "a.npy");
    EXPECT_EQ(b.shape, shape);
    EXPECT_EQ(ReadFile(dir / "a.npy"), SerializeNpy(shape, v.data()));
  }
}

TEST(NpyFiles, MatrixAndVectorWriters) {
  TempDir dir;
  Eigen::MatrixXd m(2, 3);
  m << 1, 2, 3, 4, 5, 6;
  WriteNpy(dir / "m.npy", m);
  NpyArray a = ReadNpy(dir / "m.npy");
  EXPECT_EQ(a.shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(a.data, (std::vector<double>{1, 2, 3, 4, 5, 6}));  // row-major
  EXPECT_EQ(NpyToMatrix(a, "m"), m);

  // A block with an outer stride is written as its own values.
  Eigen::MatrixXd big = Eigen::MatrixXd::Random(5, 6);
  WriteNpy(dir / "block.npy", big.block(1, 2, 3, 2));
  EXPECT_EQ(NpyToMatrix(ReadNpy(dir / "block.npy"), "block"), big.block(1, 2, 3, 2));

  Eigen::VectorXd v(4);
  v << -1, 0.5, 2, 8;
  WriteNpy(dir / "v.npy", v);
  a = ReadNpy(dir / "v.npy");
  EXPECT_EQ(a.shape, (std::vector<int64_t>{4}));
  EXPECT_EQ(NpyToMatrix(a, "v"), Eigen::MatrixXd(v));
  WriteNpy(dir / "empty.npy", Eigen::MatrixXd(0, 3));
  EXPECT_EQ(ReadNpy(dir / "empty.npy").shape, (std::vector<int64_t>{0, 3}));

  // Which overload each argument type reaches: compile-time columns are 1-D.
  WriteNpy(dir / "col.npy", big.col(2));
  EXPECT_EQ(ReadNpy(dir / "col.npy").shape, (std::vector<int64_t>{5}));
  WriteNpy(dir / "row.npy", big.row(1));
  EXPECT_EQ(ReadNpy(dir / "row.npy").shape, (std::vector<int64_t>{1, 6}));
  WriteNpy(dir / "one_col.npy", Eigen::MatrixXd::Ones(3, 1));
  EXPECT_EQ(ReadNpy(dir / "one_col.npy").shape, (std::vector<int64_t>{3, 1}));
  const Eigen::Ref<const Eigen::MatrixXd> ref(m);
  WriteNpy(dir / "ref.npy", ref);
  EXPECT_EQ(NpyToMatrix(ReadNpy(dir / "ref.npy"), "ref"), m);
  const Eigen::Ref<const Eigen::VectorXd> vref(v);
  WriteNpy(dir / "vref.npy", vref);
  EXPECT_EQ(ReadNpy(dir / "vref.npy").shape, (std::vector<int64_t>{4}));
  WriteNpy(dir / "product.npy", m * m.transpose());
  EXPECT_EQ(NpyToMatrix(ReadNpy(dir / "product.npy"), "p"), m * m.transpose());
}

TEST(NpyFiles, LargeNonNativeFileIsReadInChunks) {
  // 1.5 million big-endian int16 values span several 1 MiB conversion chunks.
  TempDir dir;
  const int n = 1500000;
  std::string data;
  data.reserve(2 * n);
  for (int k = 0; k < n; ++k) data += Bytes(static_cast<uint64_t>(k % 65536 - 32768), 2, true);
  WriteFileAtomically(dir / "big.npy", Npy(1, Dict(">i2", false, "(1500000,)"), data));
  const NpyArray a = ReadNpy(dir / "big.npy");
  ASSERT_EQ(a.data.size(), static_cast<size_t>(n));
  for (int k = 0; k < n; k += 9973) EXPECT_EQ(a.data[static_cast<size_t>(k)], k % 65536 - 32768);
  EXPECT_EQ(a.data.back(), (n - 1) % 65536 - 32768);
}

// ---------------------------------------------------------------------------
// Conversions.

NpyArray Array(std::vector<int64_t> shape, std::vector<double> data) {
  NpyArray a;
  a.shape = std::move(shape);
  a.data = std::move(data);
  a.dtype = "<f8";
  return a;
}

void ExpectFieldError(const std::function<void()>& f, const std::string& substring) {
  try {
    f();
    ADD_FAILURE() << "no Error; expected \"" << substring << "\"";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(substring), std::string::npos) << e.what();
  }
}

TEST(NpyConvert, Matrix) {
  const Eigen::MatrixXd m = NpyToMatrix(Array({2, 2}, {1, 2, 3, 4}), "W");
  EXPECT_EQ(m(0, 1), 2);
  EXPECT_EQ(m(1, 0), 3);
  const Eigen::MatrixXd column = NpyToMatrix(Array({3}, {1, 2, 3}), "y");
  EXPECT_EQ(column.rows(), 3);
  EXPECT_EQ(column.cols(), 1);
  EXPECT_EQ(NpyToMatrix(Array({0, 4}, {}), "e").cols(), 4);
  // Found by replaying npy_regressions/zero_dim_with_huge_dim.npy: an empty
  // (0, 2^62) array once made Eigen's assignment loop over 2^62 columns.
  const Eigen::MatrixXd wide = NpyToMatrix(Array({0, int64_t{1} << 62}, {}), "e");
  EXPECT_EQ(wide.rows(), 0);
  EXPECT_EQ(wide.cols(), int64_t{1} << 62);
  ExpectFieldError([] { NpyToMatrix(Array({}, {1}), "W"); },
                   "W: found a 0-D array of shape (), expected a 1-D or 2-D array");
  ExpectFieldError(
      [] {
        NpyToMatrix(Array({1, 1, 1}, {1}), "W");
      },
      "W: found a 3-D array of shape (1, 1, 1)");
  ExpectFieldError(
      [] {
        NpyToMatrix(Array({2, 2}, {1, 2, NAN, 4}), "W");
      },
      "W[1, 0]: found nan, expected a finite number");
  ExpectFieldError(
      [] {
        NpyToMatrix(Array({2, 2}, {1, 2, 3}), "W");
      },
      "W: found 3 values for shape (2, 2)");
  ExpectFieldError([] { NpyToMatrix(Array({-2}, {}), "W"); }, "W: found 0 values for shape (-2,)");
}

TEST(NpyConvert, Inputs) {
  // a[mu, t, i] = 100 mu + 10 t + i; Inputs' example(mu)(i, t) is feature i of token t.
  std::vector<double> v;
  for (int mu = 0; mu < 2; ++mu) {
    for (int t = 0; t < 3; ++t) {
      for (int i = 0; i < 4; ++i) v.push_back(100 * mu + 10 * t + i);
    }
  }
  const Inputs x = NpyToInputs(Array({2, 3, 4}, v), "train_x");
  EXPECT_EQ(x.P(), 2);
  EXPECT_EQ(x.n_tok(), 3);
  EXPECT_EQ(x.N0(), 4);
  for (int mu = 0; mu < 2; ++mu) {
    for (int t = 0; t < 3; ++t) {
      for (int i = 0; i < 4; ++i) EXPECT_EQ(x.example(mu)(i, t), 100 * mu + 10 * t + i);
    }
  }
  EXPECT_EQ(NpyToInputs(Array({0, 3, 4}, {}), "x").P(), 0);
  ExpectFieldError(
      [] {
        NpyToInputs(Array({2, 2}, {1, 2, 3, 4}), "train_x");
      },
      "train_x: found a 2-D array of shape (2, 2), expected a 3-D array of shape (P, n_tok, N0)");
  ExpectFieldError(
      [] {
        NpyToInputs(Array({2, 0, 3}, {}), "train_x");
      },
      "train_x: found shape (2, 0, 3)");
  ExpectFieldError(
      [] {
        NpyToInputs(Array({1, 1, 2}, {0, INFINITY}), "train_x");
      },
      "train_x[0, 0, 1]: found inf");
}

TEST(NpyConvert, Matrices) {
  std::vector<double> v;
  for (int k = 0; k < 2; ++k) {
    for (int i = 0; i < 2; ++i) {
      for (int j = 0; j < 3; ++j) v.push_back(100 * k + 10 * i + j);
    }
  }
  const std::vector<Eigen::MatrixXd> ms = NpyToMatrices(Array({2, 2, 3}, v), "omega");
  ASSERT_EQ(ms.size(), 2u);
  for (int k = 0; k < 2; ++k) {
    ASSERT_EQ(ms[k].rows(), 2);
    ASSERT_EQ(ms[k].cols(), 3);
    for (int i = 0; i < 2; ++i) {
      for (int j = 0; j < 3; ++j) EXPECT_EQ(ms[k](i, j), 100 * k + 10 * i + j);
    }
  }
  EXPECT_TRUE(NpyToMatrices(Array({0, 2, 2}, {}), "omega").empty());
  // A zero-size matrix shape with an absurd count is refused, not allocated.
  ExpectFieldError(
      [] {
        NpyToMatrices(Array({int64_t{1} << 60, 0, 3}, {}), "omega");
      },
      "omega: found shape (1152921504606846976, 0, 3)");
  ExpectFieldError([] { NpyToMatrices(Array({4}, {1, 2, 3, 4}), "omega"); }, "found a 1-D array");
}

}  // namespace
}  // namespace attnpaths
