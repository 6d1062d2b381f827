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

}  // namespace attnpaths
