// BlasThreads — keeps OpenBLAS single-threaded while a parallel region runs.
//
//   { ScopedSerialBlas serial;  // OpenBLAS uses one thread until it ends
//     ... run work on several threads, each calling BLAS/LAPACK ... }
//
// Threads of attnpaths that each call a multi-threaded BLAS would run
// cores × cores threads. OpenBLAS's thread count is process-wide, so the
// guards are counted: the first one entered sets it to 1, the last one left
// restores the value found. The OpenBLAS entry points are looked up at run
// time, so a program linked against another BLAS (reference, BLIS, MKL with
// its own controls) is unaffected.
#pragma once

namespace attnpaths {

class ScopedSerialBlas {
 public:
  ScopedSerialBlas();
  ~ScopedSerialBlas();
  ScopedSerialBlas(const ScopedSerialBlas&) = delete;
  ScopedSerialBlas& operator=(const ScopedSerialBlas&) = delete;
};

// OpenBLAS's current thread count, or 0 when the program's BLAS is not OpenBLAS.
int BlasThreadCount();

// Caps OpenBLAS's thread count at `threads` (>= 1) for the rest of the process:
// the command line's --threads N bounds every thread the run starts, BLAS's
// included. Inside a ScopedSerialBlas the cap applies to the count the last
// guard restores. No effect when the count is already at most `threads`, or
// when the program's BLAS is not OpenBLAS.
//
// Besides the cores it takes, a multi-threaded BLAS call leaves OpenBLAS's
// workers spinning for about 0.1 s (its THREAD_TIMEOUT, read when the library
// loads); one-thread work that follows, such as a solve right after the path
// inputs, shares the machine with them (bench/results/solver_bench.md).
void LimitBlasThreads(int threads);

}  // namespace attnpaths
