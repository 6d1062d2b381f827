// ParallelFor — independent work items on a few threads, each item once.
//
//   attnpaths::ParallelFor(paths, threads, [&](Eigen::Index path) { ... });
//
// Items are handed out one at a time (an atomic counter), so the order in
// which they run depends on timing: every item must write only its own slot
// and draw from its own random engine (random.h) for a result that does not
// depend on the thread count. The first exception thrown by an item stops
// the hand-out and is re-thrown in the caller after every thread has joined.
// `after_item`, when set, runs under a lock after each finished item (for
// progress reports); an exception it throws stops the work the same way.
#pragma once

#include <Eigen/Core>
#include <algorithm>
#include <atomic>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace attnpaths {

inline int ResolveThreads(int threads, Eigen::Index items) {
  const int hw = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int want = threads > 0 ? threads : hw;
  return static_cast<int>(std::max<Eigen::Index>(1, std::min<Eigen::Index>(want, items)));
}

template <typename Work>
void ParallelFor(Eigen::Index items, int threads, Work&& work,
                 const std::function<void(Eigen::Index done)>& after_item = nullptr) {
  const int n = ResolveThreads(threads, items);
  std::atomic<Eigen::Index> next{0};
  std::atomic<bool> stop{false};
  std::mutex mutex;
  Eigen::Index done = 0;
  std::exception_ptr error;
  auto run = [&] {
    for (;;) {
      if (stop.load()) return;
      const Eigen::Index i = next.fetch_add(1);
      if (i >= items) return;
      try {
        work(i);
        if (after_item) {
          std::lock_guard<std::mutex> lock(mutex);
          after_item(++done);
        }
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex);
        if (!error) error = std::current_exception();
        stop = true;
        return;
      }
    }
  };
  if (n <= 1) {
    run();
  } else {
    std::vector<std::thread> pool;
    for (int k = 0; k < n; ++k) pool.emplace_back(run);
    for (auto& t : pool) t.join();
  }
  if (error) std::rethrow_exception(error);
}

}  // namespace attnpaths
