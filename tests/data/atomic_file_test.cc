// Tests of data/atomic_file.h: contents, replacement, permissions, no
// leftovers after success or failure, and errors that name the path.
#include "data/atomic_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/error.h"

namespace attnpaths {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "attnpaths_atomic_XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() {
    fs::permissions(path_, fs::perms::owner_all, fs::perm_options::add);
    fs::remove_all(path_);
  }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }
  const std::string& path() const { return path_; }

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

TEST(AtomicFile, WritesAndReadsBack) {
  TempDir dir;
  std::string binary;
  for (int i = 0; i < 256; ++i) binary += static_cast<char>(i);
  binary += std::string(200000, 'x');  // more than one read buffer
  WriteFileAtomically(dir / "a.bin", binary);
  EXPECT_EQ(ReadFile(dir / "a.bin"), binary);
  EXPECT_EQ(dir.Entries(), std::vector<std::string>{"a.bin"});  // no temporary left behind
  WriteFileAtomically(dir / "empty", "");
  EXPECT_EQ(ReadFile(dir / "empty"), "");
}

TEST(AtomicFile, ReplacesAnExistingFile) {
  TempDir dir;
  WriteFileAtomically(dir / "a.txt", "a much longer first version\n");
  WriteFileAtomically(dir / "a.txt", "second\n");
  EXPECT_EQ(ReadFile(dir / "a.txt"), "second\n");
  EXPECT_EQ(dir.Entries(), std::vector<std::string>{"a.txt"});
}

TEST(AtomicFile, PermissionsFollowTheUmask) {
  TempDir dir;
  const mode_t old = ::umask(022);
  WriteFileAtomically(dir / "p", "x");
  ::umask(old);
  struct stat st;
  ASSERT_EQ(::stat((dir / "p").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
}

TEST(AtomicFile, RelativePathInTheCurrentDirectory) {
  TempDir dir;
  const fs::path old = fs::current_path();
  fs::current_path(dir.path());
  WriteFileAtomically("rel.txt", "r");
  fs::current_path(old);
  EXPECT_EQ(ReadFile(dir / "rel.txt"), "r");
}

TEST(AtomicFile, MissingDirectoryNamesThePath) {
  TempDir dir;
  const std::string path = dir / "no/such/dir/out.json";
  EXPECT_EQ(ErrorText([&] { WriteFileAtomically(path, "x"); }),
            path + ": found directory '" + dir / "no/such/dir" +
                "' unusable (No such file or directory), expected an existing writable directory");
  EXPECT_FALSE(fs::exists(dir / "no"));
}

TEST(AtomicFile, DirectoryThatIsAFile) {
  TempDir dir;
  WriteFileAtomically(dir / "f", "x");
  const std::string message = ErrorText([&] { WriteFileAtomically(dir / "f/out", "y"); });
  EXPECT_NE(message.find(dir / "f/out" + ": found "), std::string::npos) << message;
  EXPECT_NE(message.find("expected an existing writable directory"), std::string::npos) << message;
}

TEST(AtomicFile, TargetIsADirectoryOrHasNoName) {
  TempDir dir;
  fs::create_directory(dir / "sub");
  EXPECT_EQ(ErrorText([&] { WriteFileAtomically(dir / "sub", "x"); }),
            dir / "sub" + ": found a directory, expected a file name to write");
  EXPECT_NE(ErrorText([&] { WriteFileAtomically(dir / "", "x"); }).find("no file name"),
            std::string::npos);
  EXPECT_NE(
      ErrorText([&] { WriteFileAtomically("", "x"); }).find("output path: found no file name"),
      std::string::npos);
  EXPECT_EQ(dir.Entries(), std::vector<std::string>{"sub"});
}

TEST(AtomicFile, UnwritableDirectoryNamesThePath) {
  TempDir dir;
  fs::create_directory(dir / "ro");
  fs::permissions(dir / "ro", fs::perms::owner_read | fs::perms::owner_exec);
  if (::access((dir / "ro").c_str(), W_OK) == 0) {
    fs::permissions(dir / "ro", fs::perms::owner_all);
    GTEST_SKIP() << "running with privileges that ignore directory permissions";
  }
  const std::string message = ErrorText([&] { WriteFileAtomically(dir / "ro/out.npy", "x"); });
  fs::permissions(dir / "ro", fs::perms::owner_all);
  EXPECT_EQ(message,
            dir / "ro/out.npy" + ": found directory '" + dir / "ro" +
                "' not writable (Permission denied), expected an existing writable directory");
}

TEST(AtomicFile, ReadOnlyFileSystemNamesThePath) {
  // /proc refuses new files even for root, which the permission test cannot cover.
  const std::string message =
      ErrorText([] { WriteFileAtomically("/proc/attnpaths_test.npy", "x"); });
  EXPECT_NE(message.find("/proc/attnpaths_test.npy: found directory '/proc' not writable"),
            std::string::npos)
      << message;
}

TEST(AtomicFile, UncommittedWriterLeavesNothing) {
  TempDir dir;
  WriteFileAtomically(dir / "keep", "old");
  {
    AtomicFileWriter writer(dir / "keep");
    writer.Write("new partial contents");
    EXPECT_TRUE(fs::exists(writer.temp_path()));
    EXPECT_EQ(fs::path(writer.temp_path()).parent_path(), fs::path(dir.path()));
    // No Commit(): as if an exception had unwound the stack.
  }
  EXPECT_EQ(ReadFile(dir / "keep"), "old");
  EXPECT_EQ(dir.Entries(), std::vector<std::string>{"keep"});
  try {
    AtomicFileWriter writer(dir / "other");
    writer.Write("abc");
    throw std::runtime_error("interrupted");
  } catch (const std::runtime_error&) {
  }
  EXPECT_EQ(dir.Entries(), std::vector<std::string>{"keep"});
}

TEST(AtomicFile, StreamingWriterAndMisuse) {
  TempDir dir;
  AtomicFileWriter writer(dir / "s");
  writer.Write("ab");
  const char c[] = {'c', 'd'};
  writer.Write(c, 2);
  EXPECT_FALSE(fs::exists(dir / "s"));
  writer.Commit();
  EXPECT_EQ(ReadFile(dir / "s"), "abcd");
  EXPECT_THROW(writer.Write("e"), Error);
  EXPECT_THROW(writer.Commit(), Error);
  EXPECT_EQ(ReadFile(dir / "s"), "abcd");
}

TEST(AtomicFile, LongFileNameFallsBackToAShortTemporary) {
  TempDir dir;
  const std::string name(250, 'n');  // the temporary's suffix would exceed NAME_MAX
  WriteFileAtomically(dir / name, "long");
  EXPECT_EQ(ReadFile(dir / name), "long");
  EXPECT_EQ(dir.Entries(), std::vector<std::string>{name});
}

TEST(ReadFile, ErrorsNameThePath) {
  TempDir dir;
  EXPECT_EQ(ErrorText([&] { ReadFile(dir / "missing.toml"); }),
            dir / "missing.toml" +
                ": found no readable file (No such file or directory), expected an existing "
                "readable file");
  EXPECT_EQ(ErrorText([&] { ReadFile(dir.path()); }),
            dir.path() + ": found a directory, expected a readable file");
}

}  // namespace
}  // namespace attnpaths
