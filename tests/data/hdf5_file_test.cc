// Tests of data/hdf5_file.h. Input files of every numeric type are built here
// with the HDF5 C API (no h5py at test time); expected values are the ones
// written.
#include "data/hdf5_file.h"

#include <gtest/gtest.h>
#include <hdf5.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "data/atomic_file.h"
#include "kernels/error.h"

namespace attnpaths {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "attnpaths_hdf5_XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }
  std::vector<std::string> Entries() const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(path_))
      names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }

 private:
  std::string path_;
};

std::string ErrorText(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "<no Error>";
}

NpyArray Array(std::vector<int64_t> shape, std::vector<double> data) {
  NpyArray a;
  a.shape = std::move(shape);
  a.data = std::move(data);
  a.dtype = "<f8";
  return a;
}

// A file written directly through the C API.
class RawFile {
 public:
  explicit RawFile(const std::string& path) {
    file_ = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    lcpl_ = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl_, 1);
  }
  ~RawFile() {
    H5Pclose(lcpl_);
    H5Fclose(file_);
  }

  // Writes `data` (in memory type `mem_type`) as a dataset stored as `file_type`.
  void Write(const std::string& name, hid_t file_type, hid_t mem_type, std::vector<hsize_t> dims,
             const void* data, hid_t dcpl = H5P_DEFAULT) {
    const hid_t space = dims.empty()
                            ? H5Screate(H5S_SCALAR)
                            : H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr);
    const hid_t set = H5Dcreate2(file_, name.c_str(), file_type, space, lcpl_, dcpl, H5P_DEFAULT);
    ASSERT_GE(set, 0) << name;
    ASSERT_GE(H5Dwrite(set, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), 0) << name;
    H5Dclose(set);
    H5Sclose(space);
  }
  void Group(const std::string& name) {
    H5Gclose(H5Gcreate2(file_, name.c_str(), lcpl_, H5P_DEFAULT, H5P_DEFAULT));
  }
  hid_t file() const { return file_; }

 private:
  hid_t file_, lcpl_;
};

TEST(Hdf5, RoundTripWithGroups) {
  TempDir dir;
  const std::vector<std::pair<std::string, NpyArray>> sets = {
      {"x", Array({2, 3}, {1, 2, 3, 4, 5, 6})},
      {"group/sub/y", Array({4}, {-1, 0.5, NAN, INFINITY})},
      {"/scalar", Array({}, {3.25})},
      {"empty", Array({0, 3}, {})},
      {"train/inputs", Array({2, 1, 2}, {1, 2, 3, 4})},
  };
  WriteHdf5(dir / "out.h5", sets);
  EXPECT_EQ(dir.Entries(), std::vector<std::string>{"out.h5"});
  for (const auto& [name, array] : sets) {
    const NpyArray a = ReadHdf5Dataset(dir / "out.h5", name);
    EXPECT_EQ(a.shape, array.shape) << name;
    EXPECT_EQ(a.dtype, "<f8");
    ASSERT_EQ(a.data.size(), array.data.size());
    for (size_t k = 0; k < a.data.size(); ++k) {
      EXPECT_TRUE(a.data[k] == array.data[k] ||
                  (std::isnan(a.data[k]) && std::isnan(array.data[k])));
    }
  }
  EXPECT_EQ(ListHdf5Datasets(dir / "out.h5"),
            (std::vector<std::string>{"empty", "group/sub/y", "scalar", "train/inputs", "x"}));
  // Leading and doubled slashes name the same dataset.
  EXPECT_EQ(ReadHdf5Dataset(dir / "out.h5", "//group//sub/y/").shape, std::vector<int64_t>{4});

  // Writing again replaces the file atomically.
  WriteHdf5(dir / "out.h5", {{"only", Array({1}, {7})}});
  EXPECT_EQ(ListHdf5Datasets(dir / "out.h5"), std::vector<std::string>{"only"});
  EXPECT_EQ(dir.Entries(), std::vector<std::string>{"out.h5"});
}

TEST(Hdf5, ReadsEveryNumericTypeAndByteOrder) {
  TempDir dir;
  const std::string path = dir / "types.h5";
  {
    RawFile f(path);
    const int32_t i32[] = {-5, 0, 7, std::numeric_limits<int32_t>::min()};
    f.Write("i4be", H5T_STD_I32BE, H5T_NATIVE_INT32, {2, 2}, i32);
    const uint8_t u8[] = {0, 255, 17};
    f.Write("ints/u1", H5T_STD_U8LE, H5T_NATIVE_UINT8, {3}, u8);
    const int8_t i8[] = {-128, 127};
    f.Write("ints/i1", H5T_STD_I8LE, H5T_NATIVE_INT8, {2}, i8);
    const int16_t i16[] = {-300, 300, 1};
    f.Write("ints/i2", H5T_STD_I16LE, H5T_NATIVE_INT16, {3, 1}, i16);
    const uint16_t u16[] = {65535};
    f.Write("ints/u2be", H5T_STD_U16BE, H5T_NATIVE_UINT16, {1}, u16);
    const uint32_t u32[] = {4294967295u, 3};
    f.Write("ints/u4", H5T_STD_U32LE, H5T_NATIVE_UINT32, {2}, u32);
    const int64_t i64[] = {int64_t{1} << 53, -(int64_t{1} << 53)};
    f.Write("ints/i8", H5T_STD_I64LE, H5T_NATIVE_INT64, {2}, i64);
    const uint64_t u64[] = {uint64_t{1} << 63};
    f.Write("ints/u8be", H5T_STD_U64BE, H5T_NATIVE_UINT64, {1}, u64);
    const float f32[] = {1.5f, -2.25f, 1e-3f};
    f.Write("floats/f4be", H5T_IEEE_F32BE, H5T_NATIVE_FLOAT, {3}, f32);
    const double f64[] = {0.1, -7};
    f.Write("floats/f8be", H5T_IEEE_F64BE, H5T_NATIVE_DOUBLE, {1, 2}, f64);
    const double scalar = 42;
    f.Write("scalar_i4", H5T_STD_I32LE, H5T_NATIVE_DOUBLE, {}, &scalar);
  }
  NpyArray a = ReadHdf5Dataset(path, "i4be");
  EXPECT_EQ(a.dtype, ">i4");
  EXPECT_EQ(a.shape, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(a.data, (std::vector<double>{-5, 0, 7, -2147483648.0}));
  a = ReadHdf5Dataset(path, "ints/u1");
  EXPECT_EQ(a.dtype, "|u1");
  EXPECT_EQ(a.data, (std::vector<double>{0, 255, 17}));
  a = ReadHdf5Dataset(path, "ints/i1");
  EXPECT_EQ(a.dtype, "|i1");
  EXPECT_EQ(a.data, (std::vector<double>{-128, 127}));
  a = ReadHdf5Dataset(path, "ints/i2");
  EXPECT_EQ(a.dtype, "<i2");
  EXPECT_EQ(a.shape, (std::vector<int64_t>{3, 1}));
  EXPECT_EQ(a.data, (std::vector<double>{-300, 300, 1}));
  a = ReadHdf5Dataset(path, "ints/u2be");
  EXPECT_EQ(a.dtype, ">u2");
  EXPECT_EQ(a.data, (std::vector<double>{65535}));
  a = ReadHdf5Dataset(path, "ints/u4");
  EXPECT_EQ(a.data, (std::vector<double>{4294967295.0, 3}));
  a = ReadHdf5Dataset(path, "ints/i8");
  EXPECT_EQ(a.dtype, "<i8");
  EXPECT_EQ(a.data, (std::vector<double>{std::ldexp(1, 53), -std::ldexp(1, 53)}));
  a = ReadHdf5Dataset(path, "ints/u8be");
  EXPECT_EQ(a.dtype, ">u8");
  EXPECT_EQ(a.data, (std::vector<double>{std::ldexp(1, 63)}));
  a = ReadHdf5Dataset(path, "floats/f4be");
  EXPECT_EQ(a.dtype, ">f4");
  EXPECT_EQ(a.data, (std::vector<double>{1.5, -2.25, static_cast<double>(1e-3f)}));
  a = ReadHdf5Dataset(path, "floats/f8be");
  EXPECT_EQ(a.dtype, ">f8");
  EXPECT_EQ(a.data, (std::vector<double>{0.1, -7}));
  a = ReadHdf5Dataset(path, "scalar_i4");
  EXPECT_TRUE(a.shape.empty());
  EXPECT_EQ(a.data, (std::vector<double>{42}));
}

TEST(Hdf5, EnumsAsH5pyWritesBool) {
  TempDir dir;
  const std::string path = dir / "enum.h5";
  {
    RawFile f(path);
    const hid_t boolean = H5Tenum_create(H5T_NATIVE_INT8);
    int8_t v = 0;
    H5Tenum_insert(boolean, "FALSE", &v);
    v = 1;
    H5Tenum_insert(boolean, "TRUE", &v);
    const int8_t flags[] = {1, 0, 1};
    f.Write("flags", boolean, boolean, {3}, flags);
    H5Tclose(boolean);

    const hid_t colors = H5Tenum_create(H5T_NATIVE_INT16);
    int16_t c = -1;
    H5Tenum_insert(colors, "RED", &c);
    c = 300;
    H5Tenum_insert(colors, "GREEN", &c);
    const int16_t values[] = {300, -1};
    f.Write("colors", colors, colors, {2}, values);
    H5Tclose(colors);
  }
  NpyArray a = ReadHdf5Dataset(path, "flags");
  EXPECT_EQ(a.dtype, "|b1");
  EXPECT_EQ(a.data, (std::vector<double>{1, 0, 1}));
  a = ReadHdf5Dataset(path, "colors");
  EXPECT_EQ(a.dtype, "<i2");
  EXPECT_EQ(a.data, (std::vector<double>{300, -1}));
}

TEST(Hdf5, ChunkedCompressedDataset) {
  if (H5Zfilter_avail(H5Z_FILTER_DEFLATE) <= 0) GTEST_SKIP() << "no deflate filter";
  TempDir dir;
  const std::string path = dir / "z.h5";
  std::vector<double> values(1000);
  for (size_t k = 0; k < values.size(); ++k) values[k] = static_cast<double>(k % 7) - 3;
  {
    RawFile f(path);
    const hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    const hsize_t chunk[] = {10, 10};
    H5Pset_chunk(dcpl, 2, chunk);
    H5Pset_deflate(dcpl, 6);
    f.Write("z", H5T_IEEE_F32LE, H5T_NATIVE_DOUBLE, {25, 40}, values.data(), dcpl);
    H5Pclose(dcpl);
  }
  const NpyArray a = ReadHdf5Dataset(path, "z");
  EXPECT_EQ(a.shape, (std::vector<int64_t>{25, 40}));
  EXPECT_EQ(a.data, values);
}

TEST(Hdf5, ReadErrorsNameFileAndDataset) {
  TempDir dir;
  const std::string path = dir / "e.h5";
  {
    RawFile f(path);
    const double x[] = {1, 2};
    f.Write("train/x", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, {2}, x);
    f.Write("train/y", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, {2}, x);
    f.Group("empty_group");
    const hid_t str = H5Tcopy(H5T_C_S1);
    H5Tset_size(str, 4);
    f.Write("names", str, str, {2}, "abcdefgh");
    H5Tclose(str);
    const hid_t compound = H5Tcreate(H5T_COMPOUND, 16);
    H5Tinsert(compound, "a", 0, H5T_NATIVE_DOUBLE);
    H5Tinsert(compound, "b", 8, H5T_NATIVE_DOUBLE);
    f.Write("pairs", compound, compound, {1}, x);
    H5Tclose(compound);
    const hid_t null_space = H5Screate(H5S_NULL);
    H5Dclose(H5Dcreate2(f.file(), "null", H5T_IEEE_F64LE, null_space, H5P_DEFAULT, H5P_DEFAULT,
                        H5P_DEFAULT));
    H5Sclose(null_space);
  }
  testing::internal::CaptureStderr();
  EXPECT_EQ(ErrorText([&] { ReadHdf5Dataset(path, "train/z"); }),
            path +
                ":train/z: found no object 'train/z' in the file, expected an existing dataset "
                "(the file holds names, null, pairs, train/x, train/y)");
  EXPECT_NE(ErrorText([&] {
              ReadHdf5Dataset(path, "test/x");
            }).find(path + ":test/x: found no object 'test'"),
            std::string::npos);
  EXPECT_NE(ErrorText([&] {
              ReadHdf5Dataset(path, "train/x/deeper");
            }).find("found 'train/x' is not a group"),
            std::string::npos);
  EXPECT_NE(ErrorText([&] { ReadHdf5Dataset(path, "train"); }).find(path + ":train: found a group"),
            std::string::npos);
  EXPECT_NE(ErrorText([&] { ReadHdf5Dataset(path, "empty_group"); }).find("found a group"),
            std::string::npos);
  EXPECT_EQ(
      ErrorText([&] { ReadHdf5Dataset(path, "names"); }),
      path + ":names: found HDF5 type class string, expected an integer or floating-point dataset");
  EXPECT_NE(
      ErrorText([&] { ReadHdf5Dataset(path, "pairs"); }).find("found HDF5 type class compound"),
      std::string::npos);
  EXPECT_NE(
      ErrorText([&] { ReadHdf5Dataset(path, "null"); }).find("found a null (empty) dataspace"),
      std::string::npos);
  EXPECT_NE(ErrorText([&] { ReadHdf5Dataset(path, "/"); }).find("found an empty dataset name"),
            std::string::npos);
  EXPECT_EQ(
      ErrorText([&] { ReadHdf5Dataset(dir / "missing.h5", "x"); }),
      dir / "missing.h5" +
          ": found no readable file (No such file or directory), expected an existing HDF5 file");
  WriteFileAtomically(dir / "text.h5", "not an HDF5 file at all\n");
  EXPECT_EQ(ErrorText([&] { ReadHdf5Dataset(dir / "text.h5", "x"); }),
            dir / "text.h5" + ": found a file without the HDF5 signature, expected an HDF5 file");
  // A truncated HDF5 file.
  const std::string whole = ReadFile(path);
  WriteFileAtomically(dir / "cut.h5", std::string_view(whole).substr(0, whole.size() / 2));
  EXPECT_NE(ErrorText([&] { ReadHdf5Dataset(dir / "cut.h5", "train/x"); }).find(dir / "cut.h5"),
            std::string::npos);
  EXPECT_NE(ErrorText([&] { ListHdf5Datasets(dir / "missing.h5"); }).find("missing.h5: found"),
            std::string::npos);
  // HDF5's automatic error printing is off.
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
}

TEST(Hdf5, WriteErrorsComeBeforeAnyFile) {
  TempDir dir;
  const std::string path = dir / "w.h5";
  EXPECT_EQ(ErrorText([&] {
              WriteHdf5(path, {{"a", Array({1}, {1})}, {"/a", Array({1}, {2})}});
            }),
            path + ":/a: found the dataset name twice, expected unique names");
  EXPECT_EQ(ErrorText([&] {
              WriteHdf5(path, {{"a", Array({1}, {1})}, {"a/b", Array({1}, {2})}});
            }),
            path + ":a: found a name used for a dataset and a group, expected distinct names");
  EXPECT_EQ(
      ErrorText([&] {
        WriteHdf5(path, {{"m", Array({2, 2}, {1, 2, 3})}});
      }),
      path + ":m: found 3 values for shape (2, 2), expected as many values as the shape holds");
  EXPECT_NE(ErrorText([&] {
              WriteHdf5(path, {{"", Array({1}, {1})}});
            }).find("an empty dataset name"),
            std::string::npos);
  EXPECT_NE(ErrorText([&] {
              WriteHdf5(path, {{"a/../b", Array({1}, {1})}});
            }).find("the component '..'"),
            std::string::npos);
  EXPECT_TRUE(dir.Entries().empty());
  const std::string missing = dir / "no/dir/w.h5";
  EXPECT_NE(ErrorText([&] {
              WriteHdf5(missing, {{"a", Array({1}, {1})}});
            }).find(missing + ": found directory '" + dir / "no/dir" + "' unusable"),
            std::string::npos);
  EXPECT_TRUE(dir.Entries().empty());
  // An empty list writes a valid, empty file.
  WriteHdf5(path, {});
  EXPECT_TRUE(ListHdf5Datasets(path).empty());
}

// Reads a 1-D variable-length string dataset or attribute through the C API.
std::vector<std::string> ReadStrings(hid_t object, bool attribute) {
  const hid_t space = attribute ? H5Aget_space(object) : H5Dget_space(object);
  const auto n = static_cast<size_t>(H5Sget_simple_extent_npoints(space));
  H5Sclose(space);
  const hid_t type = H5Tcopy(H5T_C_S1);
  H5Tset_size(type, H5T_VARIABLE);
  H5Tset_cset(type, H5T_CSET_UTF8);
  std::vector<char*> raw(n, nullptr);
  const herr_t status = attribute
                            ? H5Aread(object, type, raw.data())
                            : H5Dread(object, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, raw.data());
  std::vector<std::string> out;
  if (status >= 0) {
    for (char* c : raw) {
      out.emplace_back(c ? c : "");
      H5free_memory(c);
    }
  }
  H5Tclose(type);
  return out;
}

TEST(Hdf5, StringDatasetsDimensionLabelsAndDatasetAttributes) {
  TempDir dir;
  const std::string path = dir / "labelled.h5";
  WriteHdf5(path, {{"draws", Array({2, 1, 3}, {1, 2, 3, 4, 5, 6})}}, {{"seed", std::int64_t{7}}},
            {{"quantity", {"lp", "f[0]", "U[0,0]"}}, {"meta/empty", {}}},
            {{"draws", {"chain", "draw", "quantity"}, {{"units", "none"}, {"scale", 2.5}}},
             {"quantity", {"quantity"}, {}}});
  EXPECT_EQ(ListHdf5Datasets(path), (std::vector<std::string>{"draws", "meta/empty", "quantity"}));
  EXPECT_EQ(ReadHdf5Dataset(path, "draws").data, (std::vector<double>{1, 2, 3, 4, 5, 6}));
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  ASSERT_GE(file, 0);
  const hid_t names = H5Dopen2(file, "quantity", H5P_DEFAULT);
  EXPECT_EQ(ReadStrings(names, false), (std::vector<std::string>{"lp", "f[0]", "U[0,0]"}));
  const hid_t labels = H5Aopen_by_name(file, "draws", "DIMENSION_LABELS", H5P_DEFAULT, H5P_DEFAULT);
  EXPECT_EQ(ReadStrings(labels, true), (std::vector<std::string>{"chain", "draw", "quantity"}));
  H5Aclose(labels);
  H5Dclose(names);
  const hid_t draws = H5Dopen2(file, "draws", H5P_DEFAULT);
  double scale = 0;
  const hid_t a = H5Aopen(draws, "scale", H5P_DEFAULT);
  EXPECT_GE(H5Aread(a, H5T_NATIVE_DOUBLE, &scale), 0);
  EXPECT_EQ(scale, 2.5);
  H5Aclose(a);
  H5Dclose(draws);
  H5Fclose(file);
  std::vector<Hdf5Attribute> root = ReadHdf5Attributes(path);
  ASSERT_EQ(root.size(), 1u);
  EXPECT_EQ(std::get<std::int64_t>(root[0].value), 7);

  // Annotations are checked before any file is written.
  const std::string other = dir / "bad.h5";
  EXPECT_EQ(ErrorText([&] {
              WriteHdf5(other, {{"x", Array({2}, {1, 2})}}, {}, {}, {{"y", {"a"}, {}}});
            }),
            other + ":y: found an annotation of a dataset not written, expected a written dataset");
  EXPECT_EQ(ErrorText([&] {
              WriteHdf5(other, {{"x", Array({2}, {1, 2})}}, {}, {}, {{"x", {"a", "b"}, {}}});
            }),
            other + ":x: found 2 dimension labels, expected one per axis (1)");
  EXPECT_NE(ErrorText([&] {
              WriteHdf5(other, {{"x", Array({2}, {1, 2})}}, {}, {{"x", {"a"}}});
            }).find("the dataset name twice"),
            std::string::npos);
  EXPECT_FALSE(fs::exists(other));
}

}  // namespace
}  // namespace attnpaths
