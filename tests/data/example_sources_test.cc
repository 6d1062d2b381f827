// Block sources of data/ (kernels/example_source.h): NPY files of every
// dtype and order (memory-mapped), HDF5 datasets (hyperslabs) and the HMM
// generator give, block by block, exactly the examples of the whole set; the
// whole-array readers hand a float64 NPY file over without a copy; the Gram
// streamed from each source equals ΞᵀΞ of the whole set.
#include <gtest/gtest.h>
#include <hdf5.h>
#include <unistd.h>

#include <Eigen/Core>
#include <bit>
#include <boost/random/mersenne_twister.hpp>
#include <boost/random/normal_distribution.hpp>
#include <boost/random/uniform_01.hpp>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "data/array_reader.h"
#include "data/example_files.h"
#include "data/hdf5_file.h"
#include "data/hmm.h"
#include "data/npy.h"
#include "kernels/error.h"
#include "kernels/gram.h"
#include "kernels/path_inputs.h"

namespace attnpaths {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "attnpaths_sources_XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

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

constexpr int64_t kP = 23, kTokens = 3, kN0 = 4;

// The value stored at x[mu, t, i]: small integers and quarters (exact in
// float16 and up); integer dtypes store its integer part.
double Value(int64_t mu, int64_t t, int64_t i) {
  return static_cast<double>((7 * mu + 3 * t + i) % 50) + (i % 2 ? 0.25 : 0.0);
}
bool g_integer_dtype = false;  // the file being checked holds Value's integer parts
double Stored(int64_t mu, int64_t t, int64_t i) {
  return g_integer_dtype ? std::floor(Value(mu, t, i)) : Value(mu, t, i);
}

// Writes an NPY file by hand: `descr`, C or Fortran order, items converted
// by `store` (which appends one item's bytes).
void WriteRawNpy(const std::string& path, const std::string& descr, bool fortran,
                 const std::vector<int64_t>& shape,
                 const std::function<double(const std::vector<int64_t>&)>& value,
                 const std::function<void(double, std::string*)>& store) {
  std::string dict = "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") +
                     ", 'shape': " + ShapeText(shape) + ", }";
  const size_t unpadded = 10 + dict.size() + 1;
  dict.append((unpadded + 63) / 64 * 64 - unpadded, ' ');
  dict += '\n';
  std::string out("\x93NUMPY\x01\x00", 8);
  out += static_cast<char>(dict.size() & 0xff);
  out += static_cast<char>(dict.size() >> 8);
  out += dict;
  int64_t count = 1;
  for (int64_t d : shape) count *= d;
  std::vector<int64_t> index(shape.size(), 0);
  for (int64_t k = 0; k < count; ++k) {
    // The k-th item in storage order: last axis fastest (C) or first (Fortran).
    int64_t r = k;
    for (size_t a = 0; a < shape.size(); ++a) {
      const size_t axis = fortran ? a : shape.size() - 1 - a;
      index[axis] = r % shape[axis];
      r /= shape[axis];
    }
    store(value(index), &out);
  }
  std::ofstream(path, std::ios::binary) << out;
}

template <typename T>
std::function<void(double, std::string*)> Store(bool big_endian = false) {
  return [big_endian](double v, std::string* out) {
    const T t = static_cast<T>(v);
    char bytes[sizeof(T)];
    std::memcpy(bytes, &t, sizeof(T));
    if (big_endian) std::reverse(bytes, bytes + sizeof(T));
    out->append(bytes, sizeof(T));
  };
}

double XValue(const std::vector<int64_t>& k) { return Stored(k[0], k[1], k[2]); }

// Every example and label of `source` block by block, checked against the formulas.
void ExpectBlocksMatch(ExampleSource& source, Eigen::Index block_size,
                       const std::function<double(int64_t, int64_t)>& label) {
  ExampleBlock block;
  for (Eigen::Index b = 0; b < source.P(); b += block_size) {
    const Eigen::Index e = std::min(source.P(), b + block_size);
    source.Read(b, e, &block);
    ASSERT_EQ(block.begin, b);
    ASSERT_EQ(block.x.P(), e - b);
    for (Eigen::Index mu = b; mu < e; ++mu) {
      const auto x = block.x.example(mu - b);
      for (int64_t t = 0; t < kTokens; ++t) {
        for (int64_t i = 0; i < kN0; ++i) {
          ASSERT_EQ(x(i, t), Stored(mu, t, i))
              << "example " << mu << " token " << t << " feature " << i;
        }
      }
      for (Eigen::Index d = 0; d < source.D(); ++d) ASSERT_EQ(block.y(mu - b, d), label(mu, d));
    }
  }
}

TEST(NpyExamplesTest, BlocksOfEveryDtypeAndOrderEqualTheWholeArray) {
  TempDir dir;
  struct Format {
    std::string descr;
    bool fortran;
    std::function<void(double, std::string*)> store;
  };
  const std::vector<Format> formats = {
      {"<f8", false, Store<double>()},     {"<f8", true, Store<double>()},
      {">f8", false, Store<double>(true)}, {"<f4", false, Store<float>()},
      {">f4", true, Store<float>(true)},   {"|u1", false, Store<uint8_t>()},
      {"<i2", true, Store<int16_t>()},     {"<i8", false, Store<int64_t>()},
  };
  // Labels: 1-D int8 ±1, and a 2-D float64 (P, 2) in Fortran order.
  const std::string y1 = dir / "y1.npy", y2 = dir / "y2.npy";
  auto label1 = [](int64_t mu, int64_t) { return mu % 3 == 0 ? 1.0 : -1.0; };
  auto label2 = [](int64_t mu, int64_t d) { return 0.5 * static_cast<double>(mu) - d; };
  WriteRawNpy(
      y1, "|i1", false, {kP}, [&](const auto& k) { return label1(k[0], 0); }, Store<int8_t>());
  WriteRawNpy(
      y2, "<f8", true, {kP, 2}, [&](const auto& k) { return label2(k[0], k[1]); }, Store<double>());
  for (const Format& f : formats) {
    SCOPED_TRACE(f.descr + (f.fortran ? " Fortran" : " C"));
    g_integer_dtype = f.descr[1] != 'f';
    const std::string x = dir / "x.npy";
    WriteRawNpy(x, f.descr, f.fortran, {kP, kTokens, kN0}, XValue, f.store);
    for (Eigen::Index block : {1, 5, 22, 23}) {
      FileExamples one(x, y1);
      ASSERT_EQ(one.P(), kP);
      ASSERT_EQ(one.n_tok(), kTokens);
      ASSERT_EQ(one.N0(), kN0);
      ASSERT_EQ(one.D(), 1);
      ExpectBlocksMatch(one, block, label1);
      FileExamples two(x, y2);
      ASSERT_EQ(two.D(), 2);
      ExpectBlocksMatch(two, block, label2);
    }
    // Backwards and overlapping reads work too.
    FileExamples src(x, "");
    ExampleBlock b;
    src.Read(20, 23, &b);
    src.Read(0, 4, &b);
    EXPECT_EQ(b.x.example(3)(2, 1), Stored(3, 1, 2));
    EXPECT_EQ(src.D(), 0);
    // The whole array: float64 native C order is mapped, not copied.
    const Inputs all = LoadInputs(x, "", "train_x");
    EXPECT_EQ(all.values().external(), f.descr == "<f8" && !f.fortran);
    ASSERT_EQ(all.P(), kP);
    for (int64_t mu = 0; mu < kP; ++mu)
      for (int64_t t = 0; t < kTokens; ++t)
        for (int64_t i = 0; i < kN0; ++i) ASSERT_EQ(all.example(mu)(i, t), Stored(mu, t, i));
    // The same values as the whole-file reader.
    const Inputs ref = NpyToInputs(ReadNpy(x), "x");
    EXPECT_EQ(std::vector<double>(all.values().begin(), all.values().end()),
              std::vector<double>(ref.values().begin(), ref.values().end()));
  }
  g_integer_dtype = false;
}

// A mapped NPY file behaves as memory of its own: writable, copied deeply,
// and the file is never changed.
TEST(NpyExamplesTest, MappedInputsAreWritableCopiesOfTheFile) {
  TempDir dir;
  const std::string x = dir / "x.npy";
  WriteRawNpy(x, "<f8", false, {kP, kTokens, kN0}, XValue, Store<double>());
  Inputs a = LoadInputs(x, "", "x");
  ASSERT_TRUE(a.values().external());
  Inputs copy = a;
  EXPECT_FALSE(copy.values().external());
  a.example(2)(1, 1) = -99;
  EXPECT_EQ(copy.example(2)(1, 1), Value(2, 1, 1));
  EXPECT_EQ(LoadInputs(x, "", "x").example(2)(1, 1), Value(2, 1, 1));  // the file is unchanged
  EXPECT_EQ(NpyToInputs(ReadNpy(x), "x").example(2)(1, 1), Value(2, 1, 1));
}

TEST(HdfExamplesTest, HyperslabBlocksEqualTheWholeDataset) {
  TempDir dir;
  const std::string file = dir / "data.h5";
  NpyArray xa;
  xa.shape = {kP, kTokens, kN0};
  xa.dtype = "<f8";
  for (int64_t mu = 0; mu < kP; ++mu)
    for (int64_t t = 0; t < kTokens; ++t)
      for (int64_t i = 0; i < kN0; ++i) xa.data.push_back(Value(mu, t, i));
  NpyArray ya;
  ya.shape = {kP, 2};
  ya.dtype = "<f8";
  auto label = [](int64_t mu, int64_t d) { return static_cast<double>(mu * 2 + d) - 3.5; };
  for (int64_t mu = 0; mu < kP; ++mu)
    for (int64_t d = 0; d < 2; ++d) ya.data.push_back(label(mu, d));
  WriteHdf5(file, {{"train/x", xa}, {"train/y", ya}});
  // An int32 copy of the inputs through the C API (converted on reading).
  {
    std::vector<int32_t> ints;
    for (double v : xa.data) ints.push_back(static_cast<int32_t>(std::floor(v)));
    const hid_t f = H5Fcreate((dir / "ints.h5").c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    const hsize_t dims[3] = {kP, kTokens, kN0};
    const hid_t space = H5Screate_simple(3, dims, nullptr);
    const hid_t ds =
        H5Dcreate2(f, "x", H5T_STD_I32BE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(ds, H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, ints.data());
    H5Dclose(ds);
    H5Sclose(space);
    H5Fclose(f);
  }
  for (Eigen::Index block : {1, 4, 23}) {
    FileExamples source(file + ":/train/x", file + ":train/y");
    EXPECT_EQ(source.name(), file + ":train/x");
    ExpectBlocksMatch(source, block, label);
    FileExamples ints(dir / "ints.h5:x", "");
    ExampleBlock b;
    ints.Read(3, std::min<Eigen::Index>(kP, 3 + block), &b);
    EXPECT_EQ(b.x.example(0)(1, 2), std::floor(Value(3, 2, 1)));
  }
  // Relative specs resolve against the base folder; the whole dataset as Inputs.
  const Inputs all = LoadInputs("data.h5:/train/x", (dir / ""), "train_x");
  EXPECT_FALSE(all.values().external());
  EXPECT_EQ(all.example(kP - 1)(kN0 - 1, kTokens - 1), Value(kP - 1, kTokens - 1, kN0 - 1));
  EXPECT_EQ(ReadHdf5Dataset(file, "train/y").data, ya.data);  // the whole-dataset reader
}

TEST(FileExamplesTest, ErrorsNameTheFileTheFieldAndTheIndex) {
  TempDir dir;
  const std::string x = dir / "x.npy", bad = dir / "bad.npy", y = dir / "y.npy";
  WriteRawNpy(x, "<f8", false, {kP, kTokens, kN0}, XValue, Store<double>());
  WriteRawNpy(
      bad, "<f8", false, {kP, kTokens, kN0},
      [](const auto& k) { return k[0] == 17 && k[1] == 2 && k[2] == 1 ? NAN : XValue(k); },
      Store<double>());
  WriteRawNpy(
      y, "<f8", false, {kP - 1}, [](const auto&) { return 1.0; }, Store<double>());
  // NaN: the block that holds it names the file and the index in the whole set.
  FileExamples with_nan(bad, "");
  ExampleBlock b;
  EXPECT_NO_THROW(with_nan.Read(0, 10, &b));
  EXPECT_NE(ErrorText([&] { with_nan.Read(10, 20, &b); }).find(bad + "[17, 2, 1]: found nan"),
            std::string::npos);
  EXPECT_NE(ErrorText([&] {
              LoadInputs(bad, "", "data.train_x");
            }).find("data.train_x[17, 2, 1]: found nan, expected a finite number"),
            std::string::npos);
  EXPECT_NE(ErrorText([&] { FileExamples(x, y); }).find(y + " rows: found 22, expected 23"),
            std::string::npos);
  EXPECT_NE(ErrorText([&] { FileExamples(y, ""); }).find("found a 1-D array of shape (22,)"),
            std::string::npos);
  EXPECT_NE(ErrorText([&] {
              LoadInputs(y, "", "data.test_x");
            }).find("data.test_x: found a 1-D array of shape (22,), expected a 3-D array"),
            std::string::npos);
  EXPECT_NE(ErrorText([&] {
              LoadInputs("missing.npy", dir / "", "data.train_x");
            }).find("data.train_x: " + (dir / "missing.npy") + ": found no readable file"),
            std::string::npos);
  EXPECT_NE(ErrorText([&] { FileExamples(x + ".h5:/x", ""); }).find("found no readable file"),
            std::string::npos);
  FileExamples ok(x, "");
  EXPECT_NE(ErrorText([&] { ok.Read(20, 24, &b); }).find("examples [20, 24)"), std::string::npos);
  auto reader = OpenArrayReader(x);
  std::vector<double> rows(kTokens * kN0);
  EXPECT_NE(ErrorText([&] { reader->ReadRows(23, 24, rows.data()); }).find("rows [23, 24)"),
            std::string::npos);
}

// The generator as it was before it produced blocks (main at 4b8d850): one
// random stream over all examples. The block generator must keep every bit.
Dataset FrozenHmmGenerator(const HmmTaskOptions& o) {
  const Eigen::Index T = o.chain_tokens, n_tok = T + 1, N0 = o.N_f + n_tok;
  boost::random::mt19937_64 rng(o.seed);
  boost::random::uniform_01<double> uniform;
  boost::random::normal_distribution<double> normal(0.0, 1.0);
  const Eigen::VectorXd v_plus = HmmStateVector(o.N_f, +1), v_minus = HmmStateVector(o.N_f, -1);
  const Eigen::VectorXd e_sum = (v_plus + v_minus).normalized();
  const Eigen::VectorXd e_diff = (v_plus - v_minus).normalized();
  Dataset d;
  d.x = Inputs(o.P, n_tok, N0);
  d.y.resize(o.P, 1);
  const Eigen::Index n_plus = (o.P + 1) / 2;
  Eigen::VectorXd g(o.N_f);
  for (Eigen::Index mu = 0; mu < o.P; ++mu) {
    const int label = mu < n_plus ? +1 : -1;
    const double stay = label > 0 ? o.stay_plus : o.stay_minus;
    d.y(mu, 0) = label;
    auto x = d.x.example(mu);
    x(o.N_f, 0) = 1.0;
    int state = uniform(rng) >= 0.5 ? +1 : -1;
    for (Eigen::Index t = 1; t <= T; ++t) {
      if (t > 1 && uniform(rng) >= stay) state = -state;
      for (Eigen::Index i = 0; i < o.N_f; ++i) g(i) = normal(rng);
      const double a = e_sum.dot(g), b = e_diff.dot(g);
      const Eigen::VectorXd orth = g - a * e_sum - b * e_diff;
      x.col(t).head(o.N_f) = (state > 0 ? v_plus : v_minus) + o.noise_sum * a * e_sum +
                             o.noise_difference * b * e_diff + o.noise_orthogonal * orth;
      x(o.N_f + t, t) = 1.0;
    }
  }
  return d;
}

bool SameBits(const Inputs& a, const Inputs& b) {
  return a.P() == b.P() && a.n_tok() == b.n_tok() && a.N0() == b.N0() &&
         std::memcmp(a.values().data(), b.values().data(), a.values().size() * sizeof(double)) == 0;
}

TEST(HmmExamplesTest, BlocksReproduceTheGeneratorBitForBit) {
  HmmTaskOptions task;
  task.P = 41;
  task.chain_tokens = 6;
  task.N_f = 10;
  task.seed = 59;
  task.noise_orthogonal = 0.7;
  const Dataset frozen = FrozenHmmGenerator(task);
  const Dataset whole = GenerateHmmTask(task);
  EXPECT_TRUE(SameBits(whole.x, frozen.x));
  EXPECT_EQ(whole.y, frozen.y);
  for (Eigen::Index block : {1, 6, 40, 41}) {
    HmmExamples source(task);
    EXPECT_EQ(source.N0(), frozen.x.N0());
    EXPECT_EQ(source.n_tok(), frozen.x.n_tok());
    ExampleBlock b;
    for (Eigen::Index begin = 0; begin < task.P; begin += block) {
      const Eigen::Index end = std::min(task.P, begin + block);
      source.Read(begin, end, &b);
      std::vector<Eigen::Index> rows;
      for (Eigen::Index mu = begin; mu < end; ++mu) rows.push_back(mu);
      EXPECT_TRUE(SameBits(b.x, frozen.x.Select(rows))) << "block at " << begin;
      EXPECT_EQ(b.y, frozen.y.middleRows(begin, end - begin));
    }
  }
  // Out of order: a later block first (examples before it generated and
  // dropped), then an earlier one (the stream replays from the seed).
  HmmExamples source(task);
  ExampleBlock b;
  source.Read(30, 35, &b);
  EXPECT_TRUE(SameBits(b.x, frozen.x.Select({30, 31, 32, 33, 34})));
  source.Read(2, 4, &b);
  EXPECT_TRUE(SameBits(b.x, frozen.x.Select({2, 3})));
  EXPECT_EQ(b.y(0, 0), 1.0);
  source.Read(40, 41, &b);
  EXPECT_EQ(b.y(0, 0), -1.0);  // the first ⌈P/2⌉ = 21 are class +1
  EXPECT_NE(source.name().find("seed 59"), std::string::npos);
}

// theory.md §10: the Gram streamed from each source equals ΞᵀΞ, ΞᵀY of the
// whole set computed at once.
TEST(GramFromSourcesTest, EveryBlockSourceGivesTheGramOfTheWholeSet) {
  TempDir dir;
  HmmTaskOptions task;
  task.P = 57;
  task.chain_tokens = 5;
  task.N_f = 8;
  const Dataset data = GenerateHmmTask(task);
  Architecture arch = HmmArchitecture(HmmVariant::kFourPaths, task);
  arch.SetUniform(10);
  const Eigen::MatrixXd xi = ComputePathInputs(arch, data.x, Split::kTrain, 1).xi;
  const Eigen::MatrixXd A = xi.transpose() * xi, b = xi.transpose() * data.y;
  // The same data as NPY files and as HDF5 datasets.
  WriteNpy(dir / "x.npy", {data.x.P(), data.x.n_tok(), data.x.N0()}, data.x.values().data());
  WriteNpy(dir / "y.npy", data.y.col(0));
  NpyArray xa;
  xa.shape = {data.x.P(), data.x.n_tok(), data.x.N0()};
  xa.data.assign(data.x.values().begin(), data.x.values().end());
  NpyArray ya;
  ya.shape = {data.x.P()};
  ya.data.assign(data.y.data(), data.y.data() + data.y.size());
  WriteHdf5(dir / "d.h5", {{"x", xa}, {"y", ya}});

  std::vector<std::pair<std::string, std::function<std::unique_ptr<ExampleSource>()>>> sources;
  sources.emplace_back("memory",
                       [&] { return std::make_unique<InMemoryExamples>(data.x, data.y); });
  sources.emplace_back(
      "npy", [&] { return std::make_unique<FileExamples>(dir / "x.npy", "y.npy", dir / ""); });
  sources.emplace_back(
      "hdf5", [&] { return std::make_unique<FileExamples>(dir / "d.h5:x", dir / "d.h5:y"); });
  sources.emplace_back("hmm", [&] { return std::make_unique<HmmExamples>(task); });
  for (const auto& [name, make] : sources) {
    for (Eigen::Index block : {7, 57}) {
      SCOPED_TRACE(name + ", block " + std::to_string(block));
      auto source = make();
      StreamOptions o;
      o.block_examples = block;
      const Gram g = AccumulateGram(arch, *source, Split::kTrain, o);
      EXPECT_EQ(g.P, task.P);
      EXPECT_LE((g.A - A).cwiseAbs().maxCoeff(), 1e-13 * A.cwiseAbs().maxCoeff());
      EXPECT_LE((g.b - b).cwiseAbs().maxCoeff(), 1e-13 * b.cwiseAbs().maxCoeff());
      EXPECT_DOUBLE_EQ(g.yty, static_cast<double>(task.P));  // ±1 labels
    }
  }
}

}  // namespace
}  // namespace attnpaths
