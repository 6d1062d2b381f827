// Tests of data/result_folder.h: a folder holds one whole result or the
// previous one; a second writer is refused; a failure leaves nothing behind;
// readers refuse a mixed set. Concurrency is tested with real processes
// (fork), as two attnpaths runs would be.
#include "data/result_folder.h"

#include <dlfcn.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "data/atomic_file.h"
#include "data/fingerprint.h"
#include "data/sha256.h"
#include "kernels/error.h"

// Every fsync of this process is counted: the test binary's own fsync takes
// precedence over libc's for the statically linked library code.
namespace {
std::atomic<int> fsync_calls{0};  // the folder fsyncs from several threads
}  // namespace
extern "C" int fsync(int fd) {
  using Fsync = int (*)(int);
  static const Fsync real = reinterpret_cast<Fsync>(::dlsym(RTLD_NEXT, "fsync"));
  ++fsync_calls;
  return real(fd);
}

namespace attnpaths {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "attnpaths_result_XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Every entry under `dir` (hidden ones too) with its contents.
std::map<std::string, std::string> Contents(const std::string& dir) {
  std::map<std::string, std::string> out;
  if (!fs::exists(dir)) return out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    const std::string rel = fs::relative(e.path(), dir).string();
    out[rel] = e.is_regular_file() ? ReadFile(e.path().string()) : std::string("<dir>");
  }
  return out;
}

// An index listing the files it was given, "name bytes fingerprint" per line.
std::string Index(const std::vector<ResultFile>& files) {
  std::string text;
  for (const auto& f : files)
    text += f.name + " " + std::to_string(f.bytes) + " " + f.fingerprint + "\n";
  return text;
}

std::vector<ResultFile> ParseIndex(const std::string& text) {
  std::vector<ResultFile> files;
  std::istringstream in(text);
  ResultFile f;
  while (in >> f.name >> f.bytes >> f.fingerprint) files.push_back(f);
  return files;
}

// Writes a result: files a.txt and b.txt holding `tag`, indexed by index.txt.
void WriteResult(const std::string& dir, const std::string& tag,
                 const std::vector<std::string>& extra = {}) {
  ResultFolder out(dir, {"index.txt", "*.txt"});
  std::vector<std::string> names = {"a.txt", "b.txt"};
  names.insert(names.end(), extra.begin(), extra.end());
  for (const auto& n : names) WriteFileAtomically(out.Path(n), tag + " " + n);
  WriteFileAtomically(out.Path("index.txt"), Index(out.Staged(names)));
  out.Commit({"index.txt"});
}

TEST(ResultFolder, CommitWritesTheWholeSetAndNothingElse) {
  TempDir t;
  WriteResult(t / "out/run", "one");
  const auto c = Contents(t / "out/run");
  ASSERT_EQ(c.size(), 3u) << "no lock file, no staging folder left";
  EXPECT_EQ(c.at("a.txt"), "one a.txt");
  const auto files = ParseIndex(c.at("index.txt"));
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[0].name, "a.txt");
  EXPECT_EQ(files[0].bytes, 9);
  EXPECT_EQ(files[0].fingerprint, FingerprintFile(t / "out/run", "a.txt").fingerprint);
  EXPECT_EQ(files[0].fingerprint, Sha256OfFile(t / "out/run/a.txt"));  // as sha256sum
  EXPECT_NO_THROW(VerifyResultFiles(t / "out/run", files, "index.txt"));
}

TEST(ResultFolder, EveryFileIsSyncedOnceAndTheFolderOnce) {
  TempDir t;
  // Outside a result folder an atomic write syncs its file and its directory.
  fsync_calls = 0;
  WriteFileAtomically(t / "alone.txt", "x");
  EXPECT_EQ(fsync_calls, 2);
  EXPECT_FALSE(SyncIsDeferredIn(t / ""));
  // In one, the staged files (a.txt, b.txt, c.txt, index.txt) are synced once
  // each by the folder, before the renames, and the folder once after them.
  fsync_calls = 0;
  WriteResult(t / "out", "one", {"c.txt"});
  EXPECT_EQ(fsync_calls, 4 + 1);
  EXPECT_EQ(Contents(t / "out").at("c.txt"), "one c.txt");
  // The staging folder is deferred exactly while the folder holds it.
  std::string staging;
  {
    ResultFolder out(t / "out2", {"*.txt"});
    const std::string path = out.Path("a.txt");
    staging = path.substr(0, path.rfind('/'));
    EXPECT_TRUE(SyncIsDeferredIn(staging));
    fsync_calls = 0;
    WriteFileAtomically(path, "a");
    EXPECT_EQ(fsync_calls, 0) << "a staged write waits for the folder's sync";
    // No Commit(): the destructor discards the staged file and the deferral.
  }
  EXPECT_FALSE(SyncIsDeferredIn(staging));
  EXPECT_TRUE(Contents(t / "out2").empty());
}

TEST(ResultFolder, OwnedFilesOfAnEarlierResultAreRemovedOthersKept) {
  TempDir t;
  WriteResult(t / "out", "one", {"c.txt"});
  WriteFileAtomically(t / "out/other.json", "another command's result");
  WriteResult(t / "out", "two");
  const auto c = Contents(t / "out");
  EXPECT_EQ(c.count("c.txt"), 0u) << "c.txt belonged to the earlier result";
  EXPECT_EQ(c.at("other.json"), "another command's result");
  EXPECT_EQ(c.at("b.txt"), "two b.txt");
}

TEST(ResultFolder, AFailureLeavesTheOldResultAndNothingElse) {
  TempDir t;
  WriteResult(t / "out", "old");
  const auto before = Contents(t / "out");
  try {
    ResultFolder out(t / "out", {"index.txt", "*.txt"});
    WriteFileAtomically(out.Path("a.txt"), "new a");
    throw Error("bad input found late");
  } catch (const Error&) {
  }
  EXPECT_EQ(Contents(t / "out"), before);
}

TEST(ResultFolder, AFailedFreshRunRemovesTheFoldersItCreated) {
  TempDir t;
  try {
    ResultFolder out(t / "new/a/b", {"*.txt"});
    WriteFileAtomically(out.Path("a.txt"), "x");
    throw Error("late failure");
  } catch (const Error&) {
  }
  EXPECT_FALSE(fs::exists(t / "new"));
}

// A real full disk: RLIMIT_FSIZE makes writes beyond the limit fail with EFBIG
// (SIGXFSZ ignored), in a child process so the limit does not reach the test.
TEST(ResultFolder, AFullDiskKeepsTheOldResult) {
  TempDir t;
  WriteResult(t / "out", "old");
  const auto before = Contents(t / "out");
  const pid_t pid = ::fork();
  if (pid == 0) {
    std::signal(SIGXFSZ, SIG_IGN);
    const rlimit limit{4, 4};
    ::setrlimit(RLIMIT_FSIZE, &limit);
    try {
      WriteResult(t / "out", "new and longer than four bytes");
    } catch (const Error& e) {
      const bool named = std::string(e.what()).find("File too large") != std::string::npos;
      ::_exit(named ? 3 : 4);
    }
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 3) << "the write error names the cause";
  EXPECT_EQ(Contents(t / "out"), before);
}

TEST(ResultFolder, ASecondWriterIsRefusedWithTheHoldersPid) {
  TempDir t;
  ResultFolder first(t / "out", {"*.txt"});
  try {
    ResultFolder second(t / "out", {"*.txt"}, "--output");
    FAIL() << "the second writer was not refused";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("--output: found \"" + (t / "out") +
                     "\" being written by another attnpaths "
                     "process (pid " +
                     std::to_string(::getpid()) + ")"),
              std::string::npos)
        << m;
  }
  WriteFileAtomically(first.Path("a.txt"), "a");
  first.Commit();
  EXPECT_NO_THROW(ResultFolder(t / "out", {"*.txt"})) << "the lock is released by Commit()";
}

// Concurrent processes writing the same folder: each either commits a whole
// result or is refused; the folder always verifies against its index.
TEST(ResultFolder, ConcurrentWritersNeverMixTheFolder) {
  TempDir t;
  WriteResult(t / "out", "initial");
  constexpr int kWriters = 6, kRounds = 15;
  std::vector<pid_t> pids;
  for (int w = 0; w < kWriters; ++w) {
    const pid_t pid = ::fork();
    if (pid == 0) {
      int committed = 0;
      for (int r = 0; r < kRounds; ++r) {
        try {
          WriteResult(t / "out", "writer " + std::to_string(w) + " round " + std::to_string(r));
          ++committed;
        } catch (const Error& e) {
          if (std::string(e.what()).find("being written by another") == std::string::npos) {
            ::_exit(100);
          }
        }
      }
      ::_exit(committed);
    }
    pids.push_back(pid);
  }
  // Meanwhile: every read of the folder sees one complete result.
  int reads = 0, refused = 0;
  for (int k = 0; k < 200; ++k) {
    try {
      const std::string index = ReadFile(t / "out/index.txt");
      VerifyResultFiles(t / "out", ParseIndex(index), "index.txt");
      const std::string a = ReadFile(t / "out/a.txt"), b = ReadFile(t / "out/b.txt");
      if (a.substr(0, a.size() - 5) == b.substr(0, b.size() - 5)) ++reads;
    } catch (const Error&) {
      ++refused;  // a commit was renaming files: refused, never mixed
    }
  }
  int total_committed = 0;
  for (pid_t pid : pids) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFEXITED(status));
    ASSERT_NE(WEXITSTATUS(status), 100) << "a writer failed for another reason than the lock";
    total_committed += WEXITSTATUS(status);
  }
  EXPECT_GT(total_committed, 0);
  EXPECT_GT(reads, 0);
  const auto files = ParseIndex(ReadFile(t / "out/index.txt"));
  EXPECT_NO_THROW(VerifyResultFiles(t / "out", files, "index.txt"));
  const auto c = Contents(t / "out");
  EXPECT_EQ(c.size(), 3u) << "no staging folder or lock file left";
  const std::string a = c.at("a.txt"), b = c.at("b.txt");
  EXPECT_EQ(a.substr(0, a.size() - 5), b.substr(0, b.size() - 5)) << "one writer's set";
  std::printf("%d commits, %d consistent reads, %d reads refused during a commit\n",
              total_committed, reads, refused);
}

TEST(ResultFolder, ReadersRefuseAMixedOrIncompleteSet) {
  TempDir t;
  WriteResult(t / "one", "one");
  WriteResult(t / "two", "two");
  const auto files = ParseIndex(ReadFile(t / "one/index.txt"));
  fs::copy_file(t / "two/a.txt", t / "one/a.txt", fs::copy_options::overwrite_existing);
  try {
    VerifyResultFiles(t / "one", files, "index.txt");
    FAIL() << "a mixed set was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("mixes files of different runs"), std::string::npos);
  }
  fs::remove(t / "one/a.txt");
  try {
    VerifyResultFiles(t / "one", files, "index.txt");
    FAIL() << "an incomplete set was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("a.txt: found no such file"), std::string::npos);
  }
}

TEST(ResultFolder, ErrorsNameTheFolder) {
  TempDir t;
  WriteFileAtomically(t / "file", "x");
  try {
    ResultFolder out(t / "file/sub", {});
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("output directory: found \"" + (t / "file/sub")),
              std::string::npos)
        << e.what();
  }
  EXPECT_THROW(ResultFolder("", {}), Error);
}

TEST(ResultFolder, Patterns) {
  EXPECT_TRUE(MatchesPattern("U_12.npy", "U_#.npy"));
  EXPECT_FALSE(MatchesPattern("U_a.npy", "U_#.npy"));
  EXPECT_FALSE(MatchesPattern("U_sampled.npy", "U_#.npy"));
  EXPECT_FALSE(MatchesPattern("U_.npy", "U_#.npy"));
  EXPECT_TRUE(MatchesPattern("Q_1_23.npy", "Q_#_#.npy"));
  EXPECT_TRUE(MatchesPattern("sampled_test_mean_se.npy", "sampled_test_*.npy"));
  EXPECT_TRUE(MatchesPattern("x", "*"));
  EXPECT_FALSE(MatchesPattern("summary.json", "*.npy"));
}

TEST(Fingerprint, ChangesWithEveryByteAndIsStable) {
  const std::string a(1000, 'a');
  std::string b = a;
  b[517] = 'b';
  EXPECT_NE(Fingerprint().Add(a).Hex(), Fingerprint().Add(b).Hex());
  EXPECT_EQ(Fingerprint().Add(a).Hex(), Fingerprint().Add(a).Hex());
  EXPECT_EQ(Fingerprint().Add(a).Hex().size(), 64u);
  // Framed SHA-256: the hash of (length as 8 little-endian bytes, bytes), computed independently.
  std::string framed(8, '\0');
  framed[0] = static_cast<char>(1000 & 0xff);
  framed[1] = static_cast<char>(1000 >> 8);
  EXPECT_EQ(Fingerprint().Add(a).Hex(), Sha256Hex(framed + a));
  // Hex() leaves the fingerprint open: adding more changes it.
  Fingerprint open;
  open.Add(a);
  const std::string first = open.Hex();
  EXPECT_NE(open.Add(b).Hex(), first);
  // Shape is part of a matrix's fingerprint: a 2x3 and a 3x2 of the same values differ.
  Eigen::MatrixXd m(2, 3), n(3, 2);
  m.setZero();
  n.setZero();
  EXPECT_NE(Fingerprint().Add(m).Hex(), Fingerprint().Add(n).Hex());
}

}  // namespace
}  // namespace attnpaths
