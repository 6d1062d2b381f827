// WorkerPool — threads kept alive between the mini-batches of training, so
// that a step does not pay for creating and tearing down threads.
//
//   attnpaths::WorkerPool::Shared().Run(parts, [&](int part) { ... });
//
// Run(parts, task) calls task(0) on the calling thread and task(1) …
// task(parts−1) on pool threads, and returns when every call has returned.
// One Run executes at a time on the shared pool; a caller that finds it busy
// (another thread of the program is inside Run) gets threads of its own for
// that call, so results never depend on who else is running. `task` must not
// throw (callers catch inside it).
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace attnpaths {

class WorkerPool {
 public:
  WorkerPool() = default;
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // The process-wide pool (created on first use, joined at exit).
  static WorkerPool& Shared();

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

}  // namespace attnpaths
