// Tests of data/sha256.h, data/provenance.h and the HDF5 attributes they write.
// SHA-256 against the published FIPS 180-4 example vectors and against
// Python's hashlib (lengths around the padding boundary); provenance JSON,
// CSV comment and HDF5 attributes against each other and against what was set.
#include "data/provenance.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <string>
#include <variant>

#include "data/atomic_file.h"
#include "data/hdf5_file.h"
#include "data/sha256.h"
#include "kernels/error.h"

namespace attnpaths {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "attnpaths_provenance_XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

TEST(Sha256, PublishedExampleVectors) {
  // FIPS 180-4 / NIST CSRC example values.
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(Sha256Hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, PaddingBoundariesAgreeWithHashlib) {
  // hashlib.sha256(b"a" * n).hexdigest() (Python 3.11): one or two final blocks.
  const std::pair<int, const char*> cases[] = {
      {55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"},
      {56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"},
      {63, "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34"},
      {64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"},
      {119, "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb"}};
  for (const auto& [n, hex] : cases) EXPECT_EQ(Sha256Hex(std::string(n, 'a')), hex) << n;
}

TEST(Sha256, StreamingEqualsOneShotForEverySplit) {
  std::string text;
  for (int i = 0; i < 300; ++i) text += static_cast<char>((i * 37 + 11) % 256);
  const std::string whole = Sha256Hex(text);
  for (size_t a = 0; a <= text.size(); a += 7) {
    for (size_t b = a; b <= text.size(); b += 29) {
      Sha256 s;
      s.Update(std::string_view(text).substr(0, a));
      s.Update(std::string_view(text).substr(a, b - a));
      s.Update(std::string_view(text).substr(b));
      ASSERT_EQ(s.HexDigest(), whole) << a << " " << b;
    }
  }
}

TEST(Sha256, EmptyViewsWithoutStorage) {
  // An empty matrix's data() is null: fingerprinting it passes (nullptr, 0),
  // which must add nothing (UBSan flagged the memcpy of a null pointer).
  Sha256 s;
  s.Update(std::string_view(nullptr, 0));
  s.Update("ab");
  s.Update(std::string_view(nullptr, 0));
  s.Update("c");
  EXPECT_EQ(s.HexDigest(), Sha256Hex("abc"));
  Sha256 empty;
  empty.Update(std::string_view(nullptr, 0));
  EXPECT_EQ(empty.HexDigest(), Sha256Hex(""));
}

TEST(Sha256, FileAndMissingFile) {
  TempDir dir;
  std::string text(200000, 'x');
  for (size_t i = 0; i < text.size(); i += 97) text[i] = 'y';
  WriteFileAtomically(dir / "f.bin", text);
  EXPECT_EQ(Sha256OfFile(dir / "f.bin"), Sha256Hex(text));
  try {
    Sha256OfFile(dir / "missing.toml");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("missing.toml"), std::string::npos) << e.what();
  }
}

TEST(Hdf5Attributes, RoundTripOfEveryKind) {
  TempDir dir;
  NpyArray a;
  a.shape = {2};
  a.data = {1.5, -2};
  a.dtype = "<f8";
  WriteHdf5(dir / "a.h5", {{"x", a}},
            {{"text", std::string("héllo \"quoted\"")}, {"seed", std::int64_t{-7}}, {"t", 0.25}});
  const std::vector<Hdf5Attribute> back = ReadHdf5Attributes(dir / "a.h5");
  ASSERT_EQ(back.size(), 3u);
  // Name order.
  EXPECT_EQ(back[0].name, "seed");
  EXPECT_EQ(std::get<std::int64_t>(back[0].value), -7);
  EXPECT_EQ(back[1].name, "t");
  EXPECT_EQ(std::get<double>(back[1].value), 0.25);
  EXPECT_EQ(back[2].name, "text");
  EXPECT_EQ(std::get<std::string>(back[2].value), "héllo \"quoted\"");
  EXPECT_EQ(ReadHdf5Dataset(dir / "a.h5", "x").data, a.data);
}

TEST(Hdf5Attributes, BadNamesAreRefusedBeforeAnyFileExists) {
  TempDir dir;
  NpyArray a;
  a.shape = {1};
  a.data = {1};
  a.dtype = "<f8";
  EXPECT_THROW(WriteHdf5(dir / "b.h5", {{"x", a}}, {{"", std::int64_t{1}}}), Error);
  EXPECT_THROW(WriteHdf5(dir / "b.h5", {{"x", a}}, {{"k", std::int64_t{1}}, {"k", 2.0}}), Error);
  EXPECT_FALSE(fs::exists(dir / "b.h5"));
}

TEST(Provenance, JsonCsvAndAttributesAgree) {
  TempDir dir;
  WriteFileAtomically(dir / "run.toml", "temperature = 0.01\n");
  Provenance run({"attnpaths", "solve", "--config", dir / "run.toml", "--note", "it's here"});
  run.SetConfig(dir / "run.toml");
  run.Set("seed", 7);
  run.Set("solver", {{"method", "lbfgs"}, {"gradient_tolerance", 1e-9}});
  run.Set("weights", "all");
  run.Set("command_line", "a setting that may not replace the fixed attribute");

  const nlohmann::json j = run.Json();
  const BuildInfo& b = GetBuildInfo();
  EXPECT_EQ(j["attnpaths_version"], b.version);
  EXPECT_EQ(j["git_commit"], b.git_commit);
  EXPECT_TRUE(b.git_commit == "unknown" || b.git_commit.size() == 40) << b.git_commit;
  EXPECT_EQ(j["command_line"][4], "--note");
  EXPECT_EQ(j["config"]["path"], dir / "run.toml");
  EXPECT_EQ(j["config"]["sha256"], Sha256Hex("temperature = 0.01\n"));
  EXPECT_EQ(j["settings"]["seed"], 7);
  EXPECT_EQ(j["settings"]["solver"]["method"], "lbfgs");
  EXPECT_TRUE(j.contains("blas") && j.contains("build") && j.contains("created") &&
              j.contains("working_directory"));

  const std::string csv = run.CsvComment();
  ASSERT_EQ(csv.rfind("# provenance: ", 0), 0u);
  ASSERT_EQ(csv.find('\n'), csv.size() - 1) << "one line";
  EXPECT_EQ(nlohmann::json::parse(csv.substr(14)), j);

  NpyArray a;
  a.shape = {1};
  a.data = {3};
  a.dtype = "<f8";
  WriteHdf5(dir / "d.h5", {{"x", a}}, run.Hdf5Attributes());
  std::map<std::string, Hdf5Attribute::Value> attrs;
  for (const Hdf5Attribute& at : ReadHdf5Attributes(dir / "d.h5")) attrs[at.name] = at.value;
  EXPECT_EQ(std::get<std::string>(attrs.at("attnpaths_version")), b.version);
  EXPECT_EQ(std::get<std::string>(attrs.at("config_sha256")), Sha256Hex("temperature = 0.01\n"));
  EXPECT_EQ(std::get<std::int64_t>(attrs.at("seed")), 7);
  EXPECT_EQ(std::get<std::string>(attrs.at("weights")), "all");
  EXPECT_EQ(nlohmann::json::parse(std::get<std::string>(attrs.at("solver"))),
            j["settings"]["solver"]);
  EXPECT_EQ(std::get<std::string>(attrs.at("command_line")),
            "attnpaths solve --config " + dir / "run.toml" + " --note 'it'\\''s here'");
  EXPECT_EQ(nlohmann::json::parse(std::get<std::string>(attrs.at("provenance"))), j);
}

TEST(Provenance, ShellQuoting) {
  EXPECT_EQ(ShellQuote({"a", "b=c", "-x", "./d/e.toml"}), "a b=c -x ./d/e.toml");
  EXPECT_EQ(ShellQuote({"two words", "", "$HOME"}), "'two words' '' '$HOME'");
}

TEST(Provenance, MissingConfigNamesTheFile) {
  Provenance run;
  try {
    run.SetConfig("/no/such/dir/run.toml");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/no/such/dir/run.toml"), std::string::npos);
  }
}

TEST(Provenance, VersionTextNamesEveryPart) {
  const std::string v = VersionText();
  EXPECT_EQ(v.rfind("attnpaths " + GetBuildInfo().version + "\n", 0), 0u) << v;
  for (const char* part : {"\ncommit ", "\ncompiler ", "\nlibraries ", "\nBLAS ", "\nMPI "}) {
    EXPECT_NE(v.find(part), std::string::npos) << part << " in\n" << v;
  }
}

}  // namespace
}  // namespace attnpaths
