// Timing of one chain: wall seconds since a point and CPU seconds of the
// calling thread (a chain runs on one thread, so its CPU time is what the
// chain cost, whatever else runs on a shared machine). Used by the NUTS and
// the Gibbs chains (chains.cc, gibbs_chains.cc) for ChainResult's
// *_seconds and *_cpu_seconds, and by bench/sampler_bench.
#pragma once

#include <chrono>
#include <ctime>

namespace attnpaths {

using ChainClock = std::chrono::steady_clock;

inline double SecondsSince(ChainClock::time_point since) {
  return std::chrono::duration<double>(ChainClock::now() - since).count();
}

inline double ThreadCpuSeconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

}  // namespace attnpaths
