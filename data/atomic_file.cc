#include "data/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <system_error>
#include <vector>

#include "kernels/error.h"

namespace attnpaths {
namespace {

std::string ErrnoText(int error) {
  return std::error_code(error, std::generic_category()).message();
}

// The directory holding `path` ("." for a bare file name) and the file name.
void SplitPath(const std::string& path, std::string* directory, std::string* name) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) {
    *directory = ".";
    *name = path;
  } else {
    *directory = slash == 0 ? "/" : path.substr(0, slash);
    *name = path.substr(slash + 1);
  }
}

// A name no other writer uses: process id, a per-process counter and the clock.
std::string TemporaryName(const std::string& directory, const std::string& name) {
  static std::atomic<unsigned long> counter{0};
  const auto ticks = std::chrono::steady_clock::now().time_since_epoch().count();
  std::string temp = directory == "/" ? "/" : directory + "/";
  temp += "." + name + ".tmp-" + std::to_string(::getpid()) + "-" +
          std::to_string(counter.fetch_add(1)) + "-" +
          std::to_string(static_cast<unsigned long long>(ticks) % 1000000007ULL);
  return temp;
}

// The directories of the live ScopedDeferredSync objects (a few at most).
std::mutex deferred_mutex;
std::vector<std::string>& DeferredDirectories() {
  static std::vector<std::string> directories;
  return directories;
}

// Asks the kernel to start writing the file's data back without waiting for
// it, so that a later fsync finds it on its way and the journal commit that
// one fsync forces covers every file so started.
void StartWriteBack(int fd) {
#if defined(__linux__)
  ::sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
#else
  (void)fd;
#endif
}

}  // namespace

ScopedDeferredSync::ScopedDeferredSync(std::string directory) : directory_(std::move(directory)) {
  const std::lock_guard<std::mutex> lock(deferred_mutex);
  DeferredDirectories().push_back(directory_);
}

ScopedDeferredSync::~ScopedDeferredSync() {
  const std::lock_guard<std::mutex> lock(deferred_mutex);
  auto& directories = DeferredDirectories();
  const auto it = std::find(directories.begin(), directories.end(), directory_);
  if (it != directories.end()) directories.erase(it);
}

bool SyncIsDeferredIn(const std::string& directory) {
  const std::lock_guard<std::mutex> lock(deferred_mutex);
  const auto& directories = DeferredDirectories();
  return std::find(directories.begin(), directories.end(), directory) != directories.end();
}

AtomicFileWriter::AtomicFileWriter(const std::string& path) : path_(path) {
  std::string name;
  SplitPath(path, &directory_, &name);
  Require(!path.empty() && !name.empty() && name != "." && name != "..",
          path.empty() ? "output path" : path, "no file name", "a path ending in a file name");

  struct stat st;
  if (::stat(directory_.c_str(), &st) != 0) {
    const int error = errno;
    throw Error(ErrorMessage(path,
                             "directory '" + directory_ + "' unusable (" + ErrnoText(error) + ")",
                             "an existing writable directory"));
  }
  if (!S_ISDIR(st.st_mode)) {
    throw Error(ErrorMessage(path, "'" + directory_ + "' is not a directory",
                             "an existing writable directory"));
  }
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    throw Error(ErrorMessage(path, "a directory", "a file name to write"));
  }

  for (int attempt = 0; attempt < 100; ++attempt) {
    temp_path_ = TemporaryName(directory_, name);
    fd_ = ::open(temp_path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd_ >= 0) return;
    const int error = errno;
    if (error == EEXIST || error == EINTR) continue;
    if (error == ENAMETOOLONG) {
      // A long file name leaves no room for the temporary's suffix: fall back
      // to a short name in the same directory.
      temp_path_ = TemporaryName(directory_, "attnpaths");
      fd_ = ::open(temp_path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
      if (fd_ >= 0) return;
    }
    throw Error(
        ErrorMessage(path, "directory '" + directory_ + "' not writable (" + ErrnoText(error) + ")",
                     "an existing writable directory"));
  }
  throw Error(ErrorMessage(path, "no free temporary file name in '" + directory_ + "'",
                           "a writable directory"));
}

AtomicFileWriter::~AtomicFileWriter() {
  if (!committed_) Discard();
}

void AtomicFileWriter::Discard() noexcept {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  if (!temp_path_.empty()) {
    ::unlink(temp_path_.c_str());
    temp_path_.clear();
  }
}

void AtomicFileWriter::Write(std::string_view bytes) { Write(bytes.data(), bytes.size()); }

void AtomicFileWriter::Write(const void* bytes, size_t size) {
  Require(fd_ >= 0 && !committed_, path_, "a write after Commit() or a failure",
          "writes before Commit()");
  const char* p = static_cast<const char*>(bytes);
  while (size > 0) {
    const ssize_t n = ::write(fd_, p, size);
    if (n < 0) {
      const int error = errno;
      if (error == EINTR) continue;
      Discard();
      throw Error(ErrorMessage(path_, "a write error (" + ErrnoText(error) + ")",
                               "the whole file written"));
    }
    p += n;
    size -= static_cast<size_t>(n);
  }
}

void AtomicFileWriter::Commit() {
  Require(fd_ >= 0 && !committed_, path_, "a second Commit() or one after a failure",
          "one Commit()");
  const bool deferred = SyncIsDeferredIn(directory_);
  if (deferred) {
    StartWriteBack(fd_);
  } else if (::fsync(fd_) != 0) {
    const int error = errno;
    Discard();
    throw Error(ErrorMessage(path_, "fsync failed (" + ErrnoText(error) + ")", "the file on disk"));
  }
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) {
    const int error = errno;
    Discard();
    throw Error(ErrorMessage(path_, "close failed (" + ErrnoText(error) + ")", "the file on disk"));
  }
  if (std::rename(temp_path_.c_str(), path_.c_str()) != 0) {
    const int error = errno;
    Discard();
    throw Error(ErrorMessage(path_,
                             "rename from '" + temp_path_ + "' failed (" + ErrnoText(error) + ")",
                             "a replaceable file"));
  }
  committed_ = true;
  temp_path_.clear();
  if (deferred) return;  // the registrant syncs the file and the directory that shows it
  // Make the rename itself durable; a failure here leaves a complete file, so it is not an error.
  const int dir = ::open(directory_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
}

void WriteFileAtomically(const std::string& path, std::string_view contents) {
  AtomicFileWriter writer(path);
  writer.Write(contents);
  writer.Commit();
}

std::string FileKind(unsigned mode) {
  if (S_ISREG(mode)) return "a regular file";
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "a special file";
}

int OpenForReading(const std::string& path, struct stat* st) {
  // O_NONBLOCK: opening a FIFO without a writer must not wait for one.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  int error = errno;
  if (fd >= 0 && ::fstat(fd, st) != 0) {
    error = errno;
    ::close(fd);
  } else if (fd >= 0) {
    return fd;
  }
  throw Error(ErrorMessage(path, "no readable file (" + ErrnoText(error) + ")",
                           "an existing readable file"));
}

std::string ReadFile(const std::string& path) {
  struct stat st;
  const int fd = OpenForReading(path, &st);
  if (S_ISDIR(st.st_mode)) {
    ::close(fd);
    throw Error(ErrorMessage(path, "a directory", "a readable file"));
  }
  const bool regular = S_ISREG(st.st_mode);
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);  // blocking reads from here on
  std::string contents;
  if (regular && st.st_size > 0) contents.reserve(static_cast<size_t>(st.st_size));
  char buffer[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n == 0) break;
    if (n < 0) {
      const int error = errno;
      if (error == EINTR) continue;
      ::close(fd);
      throw Error(ErrorMessage(path, "a read error (" + ErrnoText(error) + ")", "a readable file"));
    }
    contents.append(buffer, static_cast<size_t>(n));
    if (!regular && contents.size() > kMaxStreamBytes) {
      ::close(fd);
      throw Error(ErrorMessage(path, FileKind(st.st_mode) + " that gives more than 64 MiB",
                               "a regular file (a pipe or device is read up to 64 MiB)"));
    }
  }
  ::close(fd);
  return contents;
}

}  // namespace attnpaths
