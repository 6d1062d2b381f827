// Whole-file reads and crash-safe writes.
//
//   attnpaths::WriteFileAtomically("out/summary.json", text);  // temp file, fsync, rename
//   std::string text = attnpaths::ReadFile("config.toml");
//
//   attnpaths::AtomicFileWriter w("out/big.npy");              // streaming form
//   w.Write(header);
//   w.Write(payload);
//   w.Commit();              // without Commit() the destructor removes the temporary
//
// A write goes to a hidden temporary file in the target's directory
// (".<name>.tmp-<pid>-<n>-<random>"), is flushed to disk with fsync and then
// renamed over the target, so a reader sees either the old file or the
// complete new one, never a partial file. Every failure throws
// attnpaths::Error naming the path.
#pragma once

#include <string>
#include <string_view>

struct stat;

namespace attnpaths {

// Writes `contents` to `path` atomically: a temporary file in the same
// directory, fsync, rename. Throws Error naming the path when the directory
// does not exist or is not writable.
void WriteFileAtomically(const std::string& path, std::string_view contents);

// Reads a whole file; throws Error naming the path if missing/unreadable.
// A pipe or device (a config given as <(...)) is read up to kMaxStreamBytes,
// never waiting for a writer that does not exist: a FIFO nobody writes reads
// as empty, /dev/zero is refused at the limit.
std::string ReadFile(const std::string& path);
inline constexpr size_t kMaxStreamBytes = size_t{64} << 20;  // 64 MiB

// Opens `path` read-only without waiting for a FIFO's writer and fstat()s it
// into *st; throws Error naming the path ("no readable file (reason)") when it
// cannot. The caller closes the descriptor.
int OpenForReading(const std::string& path, struct stat* st);

// "a directory", "a FIFO (named pipe)", "a character device", ... for a file
// mode from stat(); "a regular file" for one.
std::string FileKind(unsigned mode);

// Directories whose files a caller makes durable itself. ResultFolder
// registers its staging folder: files written there are invisible until the
// folder's Commit(), which fsyncs each of them once before any is renamed into
// place. AtomicFileWriter::Commit() into such a directory therefore starts the
// file's write-back (sync_file_range on Linux) and renames it without waiting
// for the disk or syncing the directory: the staged files share the file
// system's journal commits instead of paying two each (a 7-file solve folder:
// 21 fsyncs, ~65 ms of wall time, before; 8 after).
class ScopedDeferredSync {
 public:
  explicit ScopedDeferredSync(std::string directory);
  ~ScopedDeferredSync();
  ScopedDeferredSync(const ScopedDeferredSync&) = delete;
  ScopedDeferredSync& operator=(const ScopedDeferredSync&) = delete;

 private:
  std::string directory_;
};
// Whether some ScopedDeferredSync holds `directory` (compared as written).
bool SyncIsDeferredIn(const std::string& directory);

// The streaming form of WriteFileAtomically. The temporary file is created in
// the constructor (which throws Error naming `path` if the directory is
// missing or not writable); Commit() fsyncs, closes and renames it over
// `path`. If Commit() is never reached (an exception, an early return) the
// destructor deletes the temporary and `path` is left untouched.
class AtomicFileWriter {
 public:
  explicit AtomicFileWriter(const std::string& path);
  ~AtomicFileWriter();
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

  // Appends bytes to the temporary file; throws Error naming `path` (e.g. disk full).
  void Write(std::string_view bytes);
  void Write(const void* bytes, size_t size);

  // fsync + close + rename over the target + fsync of the directory; in a
  // directory under ScopedDeferredSync: start write-back + close + rename.
  void Commit();

  // Where the bytes go until Commit(); other writers (HDF5) may write to this
  // name themselves while this object holds it. Commit() fsyncs the file
  // through this object's descriptor, which flushes their writes too.
  const std::string& temp_path() const { return temp_path_; }
  const std::string& path() const { return path_; }

 private:
  void Discard() noexcept;

  std::string path_;
  std::string directory_;
  std::string temp_path_;
  int fd_ = -1;
  bool committed_ = false;
};

}  // namespace attnpaths
