// libFuzzer target for attnpaths::ParseStudy (data/config.h): TOML study text
// from memory.
//
// Any input must either parse into a study or throw attnpaths::Error whose
// message names the study once ("fuzz/study.toml…: … found …, expected …");
// anything else (a crash, a sanitizer report, another exception, a hang, an
// allocation beyond -rss_limit_mb) is a bug in data/config.cc or below.
//
// ParseStudy may read the NPY/HDF5 files a study names and runs the built-in
// HMM generator, so the harness keeps inputs away from two things that are
// not parser bugs (docs/fuzzing.md):
//  * the file system: relative names resolve against an empty directory made
//    for this process, and inputs holding '/' or a \u / \U escape (which could
//    spell '/') are skipped, so no input can name /dev/zero, /proc/… or any
//    existing file — every file reference fails with an Error;
//  * legitimate but slow studies: the generator's defaults alone (P = 100,
//    P_test = 1000, chain_tokens = 30, N_f = 200) take seconds under the
//    sanitizers. Inputs whose generated arrays ParseStudy would accept and
//    fill with more than kWorkBudget values in all are skipped. Sizes that
//    ParseStudy must refuse (beyond kMaxGeneratedValues) count nothing, so its
//    own size limit is fuzzed: were it broken, such an input would exceed
//    -rss_limit_mb or -timeout and be reported.
#include <toml++/toml.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

#include "data/config.h"
#include "data/hmm.h"
#include "kernels/error.h"

namespace {

// Values (doubles) the generator may fill per accepted input: about 8 MB and
// well under a second under ASan.
constexpr double kWorkBudget = 1 << 20;

// The study's name in messages. Inputs cannot hold '/', so the name occurs in
// a message exactly once (at the start) unless our code added it twice.
constexpr std::string_view kName = "fuzz/study.toml";

std::string* base_dir = nullptr;  // empty for the whole run
bool verbose = false;             // ATTNPATHS_FUZZ_VERBOSE=1: print each outcome

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

void RemoveBaseDir() {
  if (base_dir) ::rmdir(base_dir->c_str());
}

using View = toml::node_view<const toml::node>;

// An integer field as ParseStudy reads it; `def` when absent or not an integer.
double Integer(View v, double def) {
  const auto i = v.value_exact<int64_t>();
  return i ? static_cast<double>(*i) : def;
}

// The values ParseStudy would generate for `root` before it stops: the
// [data.hmm] train and test sets and the W of every hmm_* head (data/config.cc,
// defaults from docs/config.md). An array beyond kMaxGeneratedValues is
// refused, and nothing after it is built.
double GeneratedValues(const toml::table& root) {
  const View data = root["data"];
  if (data["generator"].value_exact<std::string>() != "hmm") return 0;
  const View hmm = data["hmm"];
  const attnpaths::HmmTaskOptions defaults;
  const double T = Integer(hmm["chain_tokens"], static_cast<double>(defaults.chain_tokens));
  const double N_f = Integer(hmm["N_f"], static_cast<double>(defaults.N_f));
  if (T < 1 || N_f < 2) return 0;  // refused before anything is generated
  const double P = Integer(hmm["P"], static_cast<double>(defaults.P));
  const double P_test = Integer(hmm["P_test"], 1000);
  const double per_example = (T + 1) * (N_f + T + 1);
  if (P < 1 || P * per_example > attnpaths::kMaxGeneratedValues) return 0;
  double total = P * per_example;
  if (P_test > 0) {
    if (P_test * per_example > attnpaths::kMaxGeneratedValues) return total;
    total += P_test * per_example;
  }
  const toml::array* layers = root["architecture"]["layers"].as_array();
  for (size_t l = 0; layers && l < layers->size(); ++l) {
    const toml::table* layer = layers->get(l)->as_table();
    const toml::array* heads = layer ? (*layer)["heads"].as_array() : nullptr;
    for (size_t h = 0; heads && h < heads->size(); ++h) {
      const toml::table* head = heads->get(h)->as_table();
      if (!head || (*head)["kind"].value_exact<std::string>().value_or("").rfind("hmm_", 0) != 0) {
        continue;
      }
      const double N0 = Integer((*head)["N_f"], N_f) + Integer((*head)["chain_tokens"], T) + 1;
      if (N0 * N0 > attnpaths::kMaxGeneratedValues) return total;
      total += N0 * N0;
    }
  }
  return total;
}

// Whether the harness passes `text` to ParseStudy (see the file comment).
bool Admissible(std::string_view text) {
  if (text.find('/') != std::string_view::npos) return false;
  if (text.find("\\u") != std::string_view::npos) return false;
  if (text.find("\\U") != std::string_view::npos) return false;
  try {
    const toml::table root = toml::parse(text, kName);
    return GeneratedValues(root) <= kWorkBudget;
  } catch (const toml::parse_error&) {
    return true;  // ParseStudy must turn this into an Error
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/attnpaths-toml-fuzz-XXXXXX";
  if (!::mkdtemp(pattern.data())) std::abort();
  base_dir = new std::string(pattern);
  std::atexit(RemoveBaseDir);
  const char* v = std::getenv("ATTNPATHS_FUZZ_VERBOSE");
  verbose = v && *v && *v != '0';
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (!Admissible(text)) {
    if (verbose) std::fprintf(stderr, "skipped: a '/', a \\u escape or too much to generate\n");
    return -1;  // not added to the corpus
  }
  try {
    const attnpaths::Study st = attnpaths::ParseStudy(text, *base_dir, std::string(kName));
    // What ParseStudy promises about a study it returns.
    Check(st.train.x.P() >= 1 && st.train.y.rows() == st.train.x.P());
    Check(st.test.x.N0() == st.train.x.N0() && st.test.x.n_tok() == st.train.x.n_tok());
    Check(st.architecture.L() >= 1);
    Check(st.architecture.widths.size() == static_cast<size_t>(st.architecture.L()) + 1);
    Check(st.architecture.variances.size() == static_cast<size_t>(st.architecture.L()) + 2);
    Check(st.kernel.memory_limit_bytes > 0);
    if (verbose) {
      std::fprintf(stderr, "parsed: P = %ld, n_tok = %ld, N0 = %ld, L = %d\n",
                   static_cast<long>(st.train.x.P()), static_cast<long>(st.train.x.n_tok()),
                   static_cast<long>(st.train.x.N0()), st.architecture.L());
    }
  } catch (const attnpaths::Error& e) {
    const std::string_view m = e.what();
    if (verbose) std::fprintf(stderr, "error: %s\n", e.what());
    Check(m.substr(0, kName.size()) == kName);
    Check(m.find(kName, 1) == std::string_view::npos);
    Check(m.find("found ") != std::string_view::npos);
    Check(m.find("expected ") != std::string_view::npos);
  }
  // The directory must stay empty: nothing in ParseStudy writes files.
  Check(std::filesystem::is_empty(*base_dir));
  return 0;
}
