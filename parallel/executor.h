// Executor — the one place attnpaths runs work on several threads.
//
//   attnpaths::ParallelRanges(threads, count, [&](int part, int64_t begin, int64_t end) {...});
//   attnpaths::ParallelForEach(threads, count, [&](int64_t i) {...});
//
// Both run on the process-wide Executor: threads kept alive between calls
// (a training step or a path-input batch does not pay for creating them),
// the calling thread taking part 0. One call uses the pool at a time; a call
// that finds it busy (another thread of the program, or a nested region, is
// inside it) gets threads of its own, so results never depend on who else is
// running. While a region runs on more than one thread, OpenBLAS is kept
// single-threaded (parallel/blas_threads.h). The first exception thrown by
// `work` (lowest part or index) is rethrown on the calling thread after every
// part has finished.
//
// Thread counts: pass ResolveThreads(options.threads, items)
// (parallel/cpu_budget.h), which respects the affinity mask and cgroup quota.
#pragma once

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "parallel/blas_threads.h"

namespace attnpaths {

class Executor {
 public:
  Executor() = default;
  ~Executor();
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  // The process-wide executor (created on first use, joined at exit).
  static Executor& Shared();

  // Calls task(0) on the calling thread and task(1) … task(parts − 1) on pool
  // threads; returns when every call has returned. `task` must not throw.
  void Run(int parts, const std::function<void(int)>& task);

 private:
  void Loop(int index);

  std::mutex run_mutex_;  // held for the duration of one Run on the pool
  std::mutex mutex_;      // guards the fields below
  std::condition_variable wake_, done_;
  std::vector<std::thread> threads_;  // thread i runs part i + 1
  const std::function<void(int)>* task_ = nullptr;
  int parts_ = 0;
  int pending_ = 0;
  long generation_ = 0;
  bool stop_ = false;
};

namespace parallel_detail {
// Runs task(p) for p in [0, parts) and rethrows the first error by part.
void RunCollecting(int parts, const std::function<void(int)>& task,
                   std::vector<std::exception_ptr>* errors);
}  // namespace parallel_detail

// work(part, begin, end) on `parts` contiguous ranges of [0, count) of equal
// size (the last may be shorter or, rarely, empty; every part is called, so
// per-part buffers indexed by `part` are all written).
template <typename Work>
void ParallelRanges(int parts, std::int64_t count, const Work& work) {
  if (count <= 0) return;
  parts = static_cast<int>(std::clamp<std::int64_t>(parts, 1, count));
  if (parts == 1) {
    work(0, std::int64_t{0}, count);
    return;
  }
  const std::int64_t per = (count + parts - 1) / parts;
  std::vector<std::exception_ptr> errors(static_cast<size_t>(parts));
  parallel_detail::RunCollecting(
      parts, [&](int p) { work(p, std::min(count, p * per), std::min(count, (p + 1) * per)); },
      &errors);
}

// work(i) for every i in [0, count), items handed out one at a time to
// `threads` threads (for items of unequal cost: chains, sweep columns).
template <typename Work>
void ParallelForEach(int threads, std::int64_t count, const Work& work) {
  if (count <= 0) return;
  threads = static_cast<int>(std::clamp<std::int64_t>(threads, 1, count));
  if (threads == 1) {
    for (std::int64_t i = 0; i < count; ++i) work(i);
    return;
  }
  std::atomic<std::int64_t> next{0};
  std::vector<std::exception_ptr> item_errors(static_cast<size_t>(count));
  std::vector<std::exception_ptr> errors(static_cast<size_t>(threads));
  parallel_detail::RunCollecting(
      threads,
      [&](int) {
        for (std::int64_t i = next++; i < count; i = next++) {
          try {
            work(i);
          } catch (...) {
            item_errors[static_cast<size_t>(i)] = std::current_exception();
          }
        }
      },
      &errors);
  for (auto& e : item_errors) {
    if (e) std::rethrow_exception(e);
  }
}

}  // namespace attnpaths
