// Tests of data/config.h that the TOML fuzzer (fuzz/toml_fuzzer.cc) relies on:
// the size limit on built-in generators, and a replay of every fuzzer finding
// in tests/data/toml_regressions/ and of the seed corpus fuzz/corpus/toml/.
#include "data/config.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "data/atomic_file.h"
#include "kernels/error.h"

#ifndef ATTNPATHS_TOML_REGRESSIONS
#error "ATTNPATHS_TOML_REGRESSIONS must name tests/data/toml_regressions"
#endif
#ifndef ATTNPATHS_TOML_CORPUS
#error "ATTNPATHS_TOML_CORPUS must name fuzz/corpus/toml"
#endif

namespace attnpaths {
namespace {

namespace fs = std::filesystem;

// An empty directory for the test's lifetime: file names in a study resolve
// against it, so every file reference fails (as in the fuzzer).
class EmptyDir {
 public:
  EmptyDir() {
    std::string pattern = (fs::temp_directory_path() / "attnpaths-config-test-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~EmptyDir() { fs::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A study with the generator and one head, around the given [data.hmm] lines.
std::string HmmStudy(const std::string& hmm, const std::string& head = "kind = \"hmm_uniform\"") {
  return "[data]\ngenerator = \"hmm\"\n[data.hmm]\n" + hmm +
         "\n[architecture]\n[[architecture.layers]]\nheads = [ { " + head + " } ]\n";
}

// The Error message ParseStudy throws for `text` ("" when it parses).
std::string ParseError(const std::string& text) {
  const EmptyDir dir;
  try {
    ParseStudy(text, dir.path(), "study.toml");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(ConfigLimits, SmallGeneratedStudyParses) {
  const EmptyDir dir;
  const Study st = ParseStudy(HmmStudy("P = 4\nP_test = 2\nchain_tokens = 2\nN_f = 2"), dir.path(),
                              "study.toml");
  EXPECT_EQ(st.train.x.P(), 4);
  EXPECT_EQ(st.train.x.n_tok(), 3);
  EXPECT_EQ(st.train.x.N0(), 5);
  EXPECT_EQ(st.test.x.P(), 2);
  EXPECT_EQ(st.architecture.layers[0][0].W.rows(), 5);
}

TEST(ConfigLimits, GeneratedDataAboveTheLimitIsRefused) {
  static_assert(kMaxGeneratedValues == 268435456.0);
  // 8 values per example (n_tok = 2, N0 = 4): 2^25 + 1 examples are 8 values too many.
  EXPECT_EQ(ParseError(HmmStudy("P = 33554433\nP_test = 0\nchain_tokens = 1\nN_f = 2")),
            "study.toml: data.hmm.P: found P*n_tok*N0 = 33554433*2*4 = 268435464 values, "
            "expected at most 2^28 = 268435456 values (2 GiB) from a built-in generator");
  EXPECT_EQ(ParseError(HmmStudy("P = 4\nP_test = 33554433\nchain_tokens = 1\nN_f = 2")),
            "study.toml: data.hmm.P_test: found P_test*n_tok*N0 = 33554433*2*4 = 268435464 "
            "values, expected at most 2^28 = 268435456 values (2 GiB) from a built-in generator");
  // The default P_test (1000) counts too.
  EXPECT_EQ(ParseError(HmmStudy("P = 4\nchain_tokens = 100\nN_f = 4000")),
            "study.toml: data.hmm.P_test: found P_test*n_tok*N0 = 1000*101*4101 = 414201000 "
            "values, expected at most 2^28 = 268435456 values (2 GiB) from a built-in generator");
}

TEST(ConfigLimits, SizesThatOverflowAreRefused) {
  // chain_tokens + 1 and P·n_tok·N0 overflow 64 bits: refused, never computed in integers.
  const std::string m =
      ParseError(HmmStudy("P = 9223372036854775807\nchain_tokens = 9223372036854775807\nN_f = 2"));
  EXPECT_EQ(m.rfind("study.toml: data.hmm.P: found P*n_tok*N0 = 9.22337e+18*9.22337e+18*", 0), 0u)
      << m;
  const std::string h =
      ParseError(HmmStudy("P = 4\nP_test = 0\nchain_tokens = 2\nN_f = 2",
                          "kind = \"hmm_blank\", N_f = 4611686018427387904, chain_tokens = "
                          "9223372036854775807"));
  EXPECT_EQ(h.rfind("study.toml: architecture.layers[0].heads[0]: found W of N0*N0", 0), 0u) << h;
}

TEST(ConfigLimits, HmmHeadAboveTheLimitIsRefused) {
  // N0 = 16384 + 1 + 1 = 16386 and 16386² > 2^28.
  EXPECT_EQ(ParseError(HmmStudy("P = 4\nP_test = 0\nchain_tokens = 1\nN_f = 2",
                                "kind = \"hmm_same_token\", N_f = 16384")),
            "study.toml: architecture.layers[0].heads[0]: found W of N0*N0 (N0 = N_f + "
            "chain_tokens + 1) = 16386*16386 = 268500996 values, expected at most 2^28 = "
            "268435456 values (2 GiB) from a built-in generator");
}

TEST(ConfigMessages, OddHmmHeadFeatureSizeNamesTheField) {
  // Found by fuzz/toml_fuzzer.cc: the message named neither the file nor the head.
  EXPECT_EQ(ParseError(HmmStudy("P = 4\nP_test = 0\nchain_tokens = 2\nN_f = 2",
                                "kind = \"hmm_uniform\", N_f = 3")),
            "study.toml: architecture.layers[0].heads[0].N_f: found 3, expected an even number "
            ">= 2");
}

TEST(ConfigMessages, TestSetFieldsNameTheFileOnce) {
  // Found by fuzz/toml_fuzzer.cc: "study.toml: data.study.toml: data.hmm.test_seed: …".
  EXPECT_EQ(ParseError(HmmStudy("P = 4\nchain_tokens = 2\nN_f = 2\ntest_seed = 0.9")),
            "study.toml: data.hmm.test_seed: found the number 0.9, expected an integer");
  EXPECT_EQ(ParseError(HmmStudy("P = 4\nchain_tokens = 2\nN_f = 2\nP_test = \"all\"")),
            "study.toml: data.hmm.P_test: found the string \"all\", expected an integer");
}

// toml++ 3.3 reaches TOML_UNREACHABLE in its source for these (upstream
// marzer/tomlplusplus#190); the compiled library attnpaths links must keep
// answering them correctly.
TEST(TomlRegressions, NonAsciiWhereTomlppTestsForWhitespace) {
  const std::string m = ParseError("name = \xc3\xa9\n");
  EXPECT_EQ(m.rfind("study.toml:1:8: found invalid TOML", 0), 0u) << m;
  const EmptyDir dir;
  const Study st = ParseStudy("name = \"\"\"\\\n\xc2\xa7 study\"\"\"\n" +
                                  HmmStudy("P = 4\nP_test = 0\nchain_tokens = 2\nN_f = 2"),
                              dir.path(), "study.toml");
  EXPECT_EQ(st.name, "\xc2\xa7 study");
}

// Every file in tests/data/toml_regressions/ (fuzzer findings) and the seed
// corpus: ParseStudy parses it or throws Error naming the study, reads no
// file outside its base directory and writes none.
TEST(TomlRegressions, ReplayEveryFile) {
  int files = 0, parsed = 0;
  for (const char* dir : {ATTNPATHS_TOML_REGRESSIONS, ATTNPATHS_TOML_CORPUS}) {
    std::vector<fs::path> paths;
    for (const auto& entry : fs::directory_iterator(dir)) {
      if (entry.path().extension() != ".md") paths.push_back(entry.path());
    }
    std::sort(paths.begin(), paths.end());
    for (const fs::path& path : paths) {
      ++files;
      const EmptyDir base;
      const std::string name = path.filename().string();
      try {
        const Study st = ParseStudy(ReadFile(path.string()), base.path(), name);
        EXPECT_GE(st.train.x.P(), 1) << name;
        EXPECT_EQ(st.train.y.rows(), st.train.x.P()) << name;
        ++parsed;
      } catch (const Error& e) {
        const std::string m = e.what();
        EXPECT_EQ(m.rfind(name, 0), 0u) << m;
        EXPECT_NE(m.find("found "), std::string::npos) << m;
      }
      EXPECT_TRUE(fs::is_empty(base.path())) << name;
    }
  }
  EXPECT_GE(files, 10);
  EXPECT_GE(parsed, 3);
}

}  // namespace
}  // namespace attnpaths
