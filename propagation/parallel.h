// ParallelFor — independent work items of propagation/ (paths, networks,
// draws) on the shared executor (parallel/executor.h), each item once.
//
//   attnpaths::ParallelFor(paths, threads, [&](Eigen::Index path) { ... });
//
// Items are handed out one at a time, so the order in which they run depends
// on timing: every item must write only its own slot and draw from its own
// random engine (random.h) for a result that does not depend on the thread
// count. The first exception by item index is re-thrown in the caller after
// every thread has finished. `after_item`, when set, runs under a lock after
// each finished item (progress reports).
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <functional>
#include <mutex>

#include "parallel/cpu_budget.h"
#include "parallel/executor.h"

namespace attnpaths {

template <typename Work>
void ParallelFor(Eigen::Index items, int threads, Work&& work,
                 const std::function<void(Eigen::Index done)>& after_item = nullptr) {
  std::mutex mutex;
  Eigen::Index done = 0;
  ParallelForEach(ResolveThreads(threads, items), items, [&](std::int64_t i) {
    work(static_cast<Eigen::Index>(i));
    if (after_item) {
      std::lock_guard<std::mutex> lock(mutex);
      after_item(++done);
    }
  });
}

}  // namespace attnpaths
