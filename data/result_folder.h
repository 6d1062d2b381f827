// ResultFolder — one command's set of output files, written as a whole
// (docs/formats.md, "Output folders").
//
//   attnpaths::ResultFolder out("runs/a", {"summary.json", "U_*.npy", "test_*.npy"});
//   attnpaths::WriteNpy(out.Path("U_1.npy"), U1);    // staged under a hidden name
//   attnpaths::WriteNpy(out.Path("test_mean.npy"), mean);
//   summary["files"] = FilesJson(out.Staged({"U_1.npy", "test_mean.npy"}));  // fingerprints
//   attnpaths::WriteFileAtomically(out.Path("summary.json"), summary.dump());
//   out.Commit({"summary.json"});                    // the index is renamed in last
//
// The protocol, which every command that writes an output folder follows:
//  1. Lock. The constructor creates the folder if needed and takes an advisory
//     lock (flock) on <folder>/.attnpaths.lock; a second writer of the same
//     folder fails at once with an Error naming the folder and the holder's
//     process id. The lock is released (and its file removed) by Commit() or
//     the destructor. Staging folders of a killed run are removed here.
//  2. Stage. Path(name) hands out <folder>/.staging-<pid>-<n>/<name>, a
//     hidden folder inside the result folder; the caller writes the file
//     there (each write itself atomic, data/atomic_file.h). Nothing visible
//     changes.
//     Files written there with AtomicFileWriter are not fsynced one by one
//     (ScopedDeferredSync): this folder syncs each once, below.
//  3. Commit. Staged(names) fsyncs and fingerprints staged files
//     (data/fingerprint.h) so that the caller can list them in its index file
//     (summary.json, heads.json, …), itself staged. Commit(last) renames every
//     staged file to its name, the index files in `last` after all others, in
//     that order. Files matching the result's `owned` patterns that the new
//     set does not contain (a U_3.npy of an earlier three-layer solve) are
//     then removed.
//  4. Failure. Without Commit() (an exception: a full disk, a bad input found
//     late) the destructor deletes every staged file, the lock file and the
//     folder itself when this object created it and it is empty; the folder's
//     previous result is untouched.
// Readers (VerifyResultFiles) compare each listed file's fingerprint with the
// index, so a folder whose set is mixed — an interrupted commit, a file copied
// in by hand — is refused, never read.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace attnpaths {

class ScopedDeferredSync;  // data/atomic_file.h

// One committed file: its name in the folder, size and content fingerprint.
struct ResultFile {
  std::string name;
  long long bytes = 0;
  std::string fingerprint;  // SHA-256 of the file's bytes (64 hex digits, as sha256sum prints)
};

class ResultFolder {
 public:
  // Creates `dir` (and parents) if needed and locks it. `owned`: name
  // patterns of the files this result replaces ('*' matches any run of
  // characters, '#' a run of digits: "U_#.npy"). Throws Error naming `field`
  // ("output directory", "--output") when the folder cannot be created or
  // written, or another process holds its lock.
  ResultFolder(std::string dir, std::vector<std::string> owned,
               const std::string& field = "output directory");
  ~ResultFolder();
  ResultFolder(const ResultFolder&) = delete;
  ResultFolder& operator=(const ResultFolder&) = delete;

  const std::string& dir() const { return dir_; }

  // Where to write the file `name` (a plain file name, no '/') before
  // Commit(): <dir>/.staging-<pid>-<n>/<name>. Asking twice for the same
  // name returns the same path.
  std::string Path(const std::string& name);

  // A path in the folder written directly (not staged), for results that are
  // built up and resumed file by file (sweep points). The lock covers them.
  std::string LivePath(const std::string& name) const;

  // fsyncs and fingerprints the staged files `names` (each must have been
  // written); throws Error naming a file that is missing.
  std::vector<ResultFile> Staged(const std::vector<std::string>& names) const;

  // fsyncs every staged file not yet synced by Staged() (the index files),
  // then renames every staged file into place, the names in `last` after all the
  // others and in that order, removes owned files the new set lacks and
  // releases the lock. Throws Error naming the file on failure (staged files
  // not yet renamed are then removed by the destructor).
  void Commit(const std::vector<std::string>& last = {});
  // Stages the index file `name` with `text` (written atomically) and commits
  // with it last: the end of every command that writes one summary.json.
  void CommitWithIndex(const std::string& name, std::string_view text);

 private:
  void RemoveStaleStaging() noexcept;
  void Unlock() noexcept;
  void Discard() noexcept;
  // fsyncs the staged file `path` (listed as `name`); throws Error naming it.
  void Sync(const std::string& name, const std::string& path) const;
  // task(0) … task(count − 1), on threads of their own; rethrows the first error.
  void ForEachConcurrently(size_t count, const std::function<void(size_t)>& task) const;

  std::string dir_;
  std::string field_;
  std::vector<std::string> owned_;
  std::string staging_;                                      // hidden folder of staged files
  std::unique_ptr<ScopedDeferredSync> deferred_;             // its files' fsyncs are ours
  mutable std::vector<std::string> synced_;                  // staged names already fsynced
  std::vector<std::pair<std::string, std::string>> staged_;  // (name, staging path)
  std::vector<std::string> created_;                         // directories made, deepest last
  std::string lock_path_;
  int lock_fd_ = -1;
  bool committed_ = false;
};

// Whether `name` matches `pattern` ('*' matches any run of characters, '#' a
// run of one or more digits).
bool MatchesPattern(const std::string& name, const std::string& pattern);

// The fingerprint of a file's bytes (data/fingerprint.h); throws Error naming it.
ResultFile FingerprintFile(const std::string& dir, const std::string& name);

// Throws Error naming `index_file` and the first file whose size or
// fingerprint differs from `expected` (or that is missing): the folder holds
// a mixed or incomplete result set.
void VerifyResultFiles(const std::string& dir, const std::vector<ResultFile>& expected,
                       const std::string& index_file);

}  // namespace attnpaths
