#include "data/result_folder.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <functional>
#include <system_error>
#include <thread>

#include "data/atomic_file.h"
#include "data/sha256.h"
#include "kernels/error.h"

namespace attnpaths {

namespace {

constexpr char kLockName[] = ".attnpaths.lock";

std::string ErrnoText(int error) {
  return std::error_code(error, std::generic_category()).message();
}

std::string Join(const std::string& dir, const std::string& name) {
  return dir.empty() || dir.back() == '/' ? dir + name : dir + "/" + name;
}

// The process id written in a lock file, or "unknown".
std::string LockHolder(int fd) {
  char buf[32] = {0};
  const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  std::string pid = n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
  while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
  return pid.empty() ? std::string("unknown") : pid;
}

void FsyncDirectory(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

}  // namespace

bool MatchesPattern(const std::string& name, const std::string& pattern) {
  // Recursive glob over short names: '*' any run, '#' a run of one or more digits.
  const auto match = [&](auto&& self, size_t n, size_t p) -> bool {
    if (p == pattern.size()) return n == name.size();
    if (pattern[p] == '*') {
      for (size_t k = n; k <= name.size(); ++k) {
        if (self(self, k, p + 1)) return true;
      }
      return false;
    }
    if (pattern[p] == '#') {
      size_t k = n;
      while (k < name.size() && name[k] >= '0' && name[k] <= '9') {
        ++k;
        if (self(self, k, p + 1)) return true;
      }
      return false;
    }
    return n < name.size() && name[n] == pattern[p] && self(self, n + 1, p + 1);
  };
  return match(match, 0, 0);
}

ResultFile FingerprintFile(const std::string& dir, const std::string& name) {
  const std::string path = Join(dir, name);
  struct stat st;
  const int fd = OpenForReading(path, &st);
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    throw Error(ErrorMessage(path, "not a regular file", "a file written by attnpaths"));
  }
  // The plain SHA-256 of the bytes: what `sha256sum` prints for the file.
  Sha256 f;
  std::vector<char> buffer(1 << 20);
  long long bytes = 0;
  for (;;) {
    const ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n == 0) break;
    if (n < 0) {
      const int error = errno;
      if (error == EINTR) continue;
      ::close(fd);
      throw Error(ErrorMessage(path, "a read error (" + ErrnoText(error) + ")", "a readable file"));
    }
    f.Update(std::string_view(buffer.data(), static_cast<size_t>(n)));
    bytes += n;
  }
  ::close(fd);
  return {name, bytes, f.HexDigest()};
}

void VerifyResultFiles(const std::string& dir, const std::vector<ResultFile>& expected,
                       const std::string& index_file) {
  for (const ResultFile& e : expected) {
    const std::string path = Join(dir, e.name);
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) {
      throw Error(ErrorMessage(path, "no such file",
                               "the file " + index_file +
                                   " lists (the folder holds an incomplete result: run the "
                                   "command that wrote it again)"));
    }
    const ResultFile found = FingerprintFile(dir, e.name);
    if (found.bytes != e.bytes || found.fingerprint != e.fingerprint) {
      throw Error(ErrorMessage(
          path,
          "a file of " + std::to_string(found.bytes) + " bytes, fingerprint " + found.fingerprint,
          std::to_string(e.bytes) + " bytes, fingerprint " + e.fingerprint + " as " + index_file +
              " lists (the folder mixes files of different runs, or a run was interrupted: "
              "run the command that wrote it again)"));
    }
  }
}

ResultFolder::ResultFolder(std::string dir, std::vector<std::string> owned,
                           const std::string& field)
    : dir_(std::move(dir)), field_(field), owned_(std::move(owned)) {
  Require(!dir_.empty(), field_, "an empty path", "a directory name");
  namespace fs = std::filesystem;
  // Create the missing part of the path, remembering what was made here.
  std::vector<fs::path> missing;
  std::error_code ec;
  for (fs::path p = fs::path(dir_).lexically_normal(); !p.empty() && !fs::exists(p, ec);
       p = p.parent_path()) {
    if (p.has_filename()) missing.push_back(p);
    if (p == p.parent_path()) break;
  }
  for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
    if (::mkdir(it->c_str(), 0777) == 0) {
      created_.push_back(it->string());
    } else if (errno != EEXIST) {
      const int error = errno;
      Discard();
      throw Error(ErrorMessage(field_,
                               "\"" + dir_ + "\" (" + it->string() + ": " + ErrnoText(error) + ")",
                               "a directory that exists or can be created"));
    }
  }
  struct stat st;
  if (::stat(dir_.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) ||
      ::access(dir_.c_str(), W_OK | X_OK) != 0) {
    Discard();
    throw Error(ErrorMessage(field_, "\"" + dir_ + "\" (not a writable directory)",
                             "a directory that exists or can be created"));
  }
  // The lock: flock on a file in the folder. A holder removes the file when it
  // is done, so after locking check that the name still refers to our file.
  lock_path_ = Join(dir_, kLockName);
  for (int attempt = 0; attempt < 100; ++attempt) {
    const int fd = ::open(lock_path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0) {
      const int error = errno;
      Discard();
      throw Error(ErrorMessage(
          field_, "\"" + dir_ + "\" (cannot create " + lock_path_ + ": " + ErrnoText(error) + ")",
          "a writable directory"));
    }
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const int error = errno;
      const std::string holder = LockHolder(fd);
      ::close(fd);
      Discard();
      if (error == EWOULDBLOCK) {
        throw Error(ErrorMessage(
            field_,
            "\"" + dir_ + "\" being written by another attnpaths process (pid " + holder + ")",
            "a folder no other run is writing (wait for it to finish, or choose another "
            "--output)"));
      }
      throw Error(ErrorMessage(field_, "\"" + dir_ + "\" (flock: " + ErrnoText(error) + ")",
                               "a folder that can be locked"));
    }
    struct stat held, named;
    if (::fstat(fd, &held) == 0 && ::stat(lock_path_.c_str(), &named) == 0 &&
        held.st_ino == named.st_ino && held.st_dev == named.st_dev) {
      lock_fd_ = fd;
      const std::string pid = std::to_string(::getpid()) + "\n";
      if (::ftruncate(fd, 0) == 0) {
        [[maybe_unused]] const ssize_t n = ::pwrite(fd, pid.data(), pid.size(), 0);
      }
      RemoveStaleStaging();
      return;
    }
    ::close(fd);  // the previous holder removed the file meanwhile: lock the new one
  }
  Discard();
  throw Error(ErrorMessage(field_, "\"" + dir_ + "\" (its lock file keeps changing)",
                           "a folder that can be locked"));
}

ResultFolder::~ResultFolder() {
  if (!committed_) Discard();
}

std::string ResultFolder::Path(const std::string& name) {
  Require(!name.empty() && name.find('/') == std::string::npos && name != "." && name != "..",
          "result file name", "\"" + name + "\"", "a plain file name");
  for (const auto& [n, path] : staged_) {
    if (n == name) return path;
  }
  if (staging_.empty()) {
    // A hidden folder inside the result folder (same file system: renames are atomic); files
    // keep their names there, so a write error names the file ("…/.staging-12/draws.h5").
    static std::atomic<unsigned long> counter{0};
    const std::string staging = Join(dir_, ".staging-" + std::to_string(::getpid()) + "-" +
                                               std::to_string(counter.fetch_add(1)));
    if (::mkdir(staging.c_str(), 0777) != 0) {
      const int error = errno;
      throw Error(ErrorMessage(staging, "no staging folder (" + ErrnoText(error) + ")",
                               "a writable output directory"));
    }
    staging_ = staging;
    deferred_ = std::make_unique<ScopedDeferredSync>(staging_);
  }
  const std::string path = Join(staging_, name);
  staged_.emplace_back(name, path);
  return path;
}

std::string ResultFolder::LivePath(const std::string& name) const { return Join(dir_, name); }

void ResultFolder::Sync(const std::string& name, const std::string& path) const {
  const int fd = path.empty() ? -1 : ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int error = path.empty() ? ENOENT : errno;
    throw Error(ErrorMessage(Join(dir_, name), "no staged file (" + ErrnoText(error) + ")",
                             "the file written before it is listed"));
  }
  const int synced = ::fsync(fd);
  const int error = errno;
  ::close(fd);
  if (synced != 0) {
    throw Error(ErrorMessage(Join(dir_, name), "fsync failed (" + ErrnoText(error) + ")",
                             "the file on disk"));
  }
}

void ResultFolder::ForEachConcurrently(size_t count,
                                       const std::function<void(size_t)>& task) const {
  // fsync waits for the device, not the CPU: one thread per file (in rounds
  // of at most 16) lets the block layer merge the device-cache flushes that
  // each fsync ends with (~4 ms each on this machine's virtual disk), where
  // one after the other they add up. The first error, in file order, is thrown.
  constexpr size_t kRound = 16;
  std::vector<std::exception_ptr> errors(count);
  for (size_t first = 0; first < count; first += kRound) {
    const size_t last = std::min(count, first + kRound);
    std::vector<std::thread> threads;
    for (size_t k = first + 1; k < last; ++k) {
      threads.emplace_back([&, k] {
        try {
          task(k);
        } catch (...) {
          errors[k] = std::current_exception();
        }
      });
    }
    try {
      task(first);
    } catch (...) {
      errors[first] = std::current_exception();
    }
    for (auto& t : threads) t.join();
  }
  for (const auto& e : errors) {
    if (e) std::rethrow_exception(e);
  }
}

std::vector<ResultFile> ResultFolder::Staged(const std::vector<std::string>& names) const {
  std::vector<std::string> paths(names.size());
  for (size_t k = 0; k < names.size(); ++k) {
    for (const auto& [n, p] : staged_) {
      if (n == names[k]) paths[k] = p;
    }
  }
  // Staged files are not fsynced by their writers (ScopedDeferredSync): each
  // is synced here, all at once, and fingerprinted.
  std::vector<ResultFile> files(names.size());
  ForEachConcurrently(names.size(), [&](size_t k) {
    Sync(names[k], paths[k]);
    files[k] = FingerprintFile(staging_, names[k]);
  });
  synced_.insert(synced_.end(), names.begin(), names.end());
  return files;
}

void ResultFolder::CommitWithIndex(const std::string& name, std::string_view text) {
  WriteFileAtomically(Path(name), text);
  Commit({name});
}

void ResultFolder::Commit(const std::vector<std::string>& last) {
  Require(!committed_ && lock_fd_ >= 0, dir_, "a second Commit()", "one Commit()");
  auto is_last = [&](const std::string& name) {
    for (const auto& l : last) {
      if (l == name) return true;
    }
    return false;
  };
  std::vector<std::pair<std::string, std::string>> order;
  for (const auto& f : staged_) {
    if (!is_last(f.first)) order.push_back(f);
  }
  for (const auto& l : last) {
    bool found = false;
    for (const auto& f : staged_) {
      if (f.first == l) {
        order.push_back(f);
        found = true;
      }
    }
    Require(found, Join(dir_, l), "no staged file", "an index file written before Commit()");
  }
  std::vector<std::string> names;
  for (const auto& [name, path] : order) {
    struct stat st;
    Require(::stat(path.c_str(), &st) == 0, Join(dir_, name), "no staged file",
            "the file written before Commit()");
    names.push_back(name);
  }
  // Every file on disk before any becomes visible (the index files, written
  // after Staged(), and any file it was not asked about).
  std::vector<std::pair<std::string, std::string>> unsynced;
  for (const auto& f : order) {
    if (std::find(synced_.begin(), synced_.end(), f.first) == synced_.end()) unsynced.push_back(f);
  }
  ForEachConcurrently(unsynced.size(),
                      [&](size_t k) { Sync(unsynced[k].first, unsynced[k].second); });
  for (const auto& [name, path] : order) {
    if (std::rename(path.c_str(), Join(dir_, name).c_str()) != 0) {
      const int error = errno;
      throw Error(ErrorMessage(Join(dir_, name), "rename failed (" + ErrnoText(error) + ")",
                               "a replaceable file"));
    }
    for (size_t k = 0; k < staged_.size(); ++k) {
      if (staged_[k].first == name) staged_.erase(staged_.begin() + static_cast<long>(k));
    }
  }
  // Owned files that the new set lacks belong to an earlier result.
  if (DIR* d = ::opendir(dir_.c_str())) {
    std::vector<std::string> stale;
    while (const dirent* e = ::readdir(d)) {
      const std::string name = e->d_name;
      if (name.empty() || name[0] == '.') continue;
      bool owned = false, kept = false;
      for (const auto& p : owned_) owned = owned || MatchesPattern(name, p);
      for (const auto& n : names) kept = kept || n == name;
      if (owned && !kept) stale.push_back(name);
    }
    ::closedir(d);
    for (const auto& name : stale) ::unlink(Join(dir_, name).c_str());
  }
  ::rmdir(staging_.c_str());
  staging_.clear();
  deferred_.reset();
  FsyncDirectory(dir_);
  committed_ = true;
  Unlock();
}

void ResultFolder::RemoveStaleStaging() noexcept {
  // Holding the lock, no other writer is staging here: a staging folder left
  // behind belongs to a run that was killed (SIGKILL, power loss).
  DIR* d = ::opendir(dir_.c_str());
  if (d == nullptr) return;
  std::vector<std::string> stale;
  while (const dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name.rfind(".staging-", 0) == 0) stale.push_back(Join(dir_, name));
  }
  ::closedir(d);
  for (const std::string& s : stale) {
    std::error_code ec;
    std::filesystem::remove_all(s, ec);
  }
}

void ResultFolder::Unlock() noexcept {
  if (lock_fd_ < 0) return;
  ::unlink(lock_path_.c_str());  // while holding the lock: see the constructor's check
  ::close(lock_fd_);
  lock_fd_ = -1;
}

void ResultFolder::Discard() noexcept {
  for (const auto& [name, path] : staged_) ::unlink(path.c_str());
  staged_.clear();
  if (!staging_.empty()) {
    // Temporaries of writes that failed midway (data/atomic_file.h) are removed by their
    // writers; anything else left in the staging folder is ours too.
    if (DIR* d = ::opendir(staging_.c_str())) {
      std::vector<std::string> left;
      while (const dirent* e = ::readdir(d)) {
        const std::string n = e->d_name;
        if (n != "." && n != "..") left.push_back(n);
      }
      ::closedir(d);
      for (const auto& n : left) ::unlink(Join(staging_, n).c_str());
    }
    ::rmdir(staging_.c_str());
    staging_.clear();
  }
  deferred_.reset();
  Unlock();
  for (auto it = created_.rbegin(); it != created_.rend(); ++it) ::rmdir(it->c_str());
  created_.clear();
}

}  // namespace attnpaths
