// The executor: every index visited exactly once, ranges that tile [0, n),
// errors rethrown by lowest index after every part has finished, nested and
// concurrent regions, and OpenBLAS kept single-threaded inside a region.
#include "parallel/executor.h"

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <thread>
#include <vector>

#include "parallel/blas_threads.h"

// A BLAS routine, called so that the test binary really loads the project's BLAS.
extern "C" double ddot_(const int* n, const double* x, const int* incx, const double* y,
                        const int* incy);

namespace attnpaths {
namespace {

TEST(Executor, RangesTileTheIndexSet) {
  for (int parts : {1, 2, 3, 7, 16}) {
    for (std::int64_t n : {0, 1, 2, 5, 16, 17, 1000}) {
      std::vector<int> hits(static_cast<size_t>(n), 0);
      std::vector<int> called(static_cast<size_t>(parts), 0);
      ParallelRanges(parts, n, [&](int p, std::int64_t begin, std::int64_t end) {
        ++called[static_cast<size_t>(p)];
        ASSERT_LE(begin, end);
        for (std::int64_t i = begin; i < end; ++i) ++hits[static_cast<size_t>(i)];
      });
      for (std::int64_t i = 0; i < n; ++i) EXPECT_EQ(hits[static_cast<size_t>(i)], 1) << n;
      // Every part up to min(parts, n) is called exactly once (per-part buffers).
      const std::int64_t used = n == 0 ? 0 : std::min<std::int64_t>(parts, n);
      for (int p = 0; p < parts; ++p) EXPECT_EQ(called[static_cast<size_t>(p)], p < used ? 1 : 0);
    }
  }
}

TEST(Executor, ForEachVisitsEveryItemOnce) {
  for (int threads : {1, 2, 5}) {
    const std::int64_t n = 503;
    std::vector<std::atomic<int>> hits(n);
    ParallelForEach(threads, n, [&](std::int64_t i) { ++hits[static_cast<size_t>(i)]; });
    for (auto& h : hits) EXPECT_EQ(h.load(), 1);
  }
}

TEST(Executor, RethrowsTheLowestFailingItemAfterAllFinish) {
  std::atomic<int> finished{0};
  try {
    ParallelForEach(4, 40, [&](std::int64_t i) {
      if (i == 13 || i == 29) throw std::runtime_error("item " + std::to_string(i));
      ++finished;
    });
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "item 13");
  }
  EXPECT_EQ(finished.load(), 38);
  try {
    ParallelRanges(3, 30, [&](int p, std::int64_t, std::int64_t) {
      if (p >= 1) throw std::runtime_error("part " + std::to_string(p));
    });
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "part 1");
  }
}

TEST(Executor, NestedAndConcurrentRegions) {
  // A region inside a region finds the pool busy and gets its own threads.
  std::atomic<long> sum{0};
  ParallelForEach(3, 6, [&](std::int64_t i) {
    ParallelRanges(2, 10, [&](int, std::int64_t b, std::int64_t e) {
      for (std::int64_t k = b; k < e; ++k) sum += i * 10 + k;
    });
  });
  long expected = 0;
  for (long i = 0; i < 6; ++i)
    for (long k = 0; k < 10; ++k) expected += i * 10 + k;
  EXPECT_EQ(sum.load(), expected);
  // Two threads of the program using the executor at once.
  std::atomic<long> a{0}, b{0};
  std::thread other([&] {
    for (int r = 0; r < 50; ++r) ParallelForEach(2, 20, [&](std::int64_t i) { a += i; });
  });
  for (int r = 0; r < 50; ++r) ParallelForEach(2, 20, [&](std::int64_t i) { b += i; });
  other.join();
  EXPECT_EQ(a.load(), 50 * 190);
  EXPECT_EQ(b.load(), 50 * 190);
}

TEST(Executor, BlasIsSerialInsideARegion) {
  const int n = 3, one = 1;
  const double x[3] = {1, 2, 3};
  ASSERT_EQ(ddot_(&n, x, &one, x, &one), 14.0);
  const int outside = BlasThreadCount();
  if (outside == 0) GTEST_SKIP() << "the program's BLAS is not OpenBLAS";
  std::vector<int> inside(2, -1);
  ParallelRanges(2, 2, [&](int p, std::int64_t, std::int64_t) {
    inside[static_cast<size_t>(p)] = BlasThreadCount();
  });
  EXPECT_EQ(inside[0], 1);
  EXPECT_EQ(inside[1], 1);
  EXPECT_EQ(BlasThreadCount(), outside);  // restored
  {
    ScopedSerialBlas outer;
    {
      ScopedSerialBlas inner;
      EXPECT_EQ(BlasThreadCount(), 1);
    }
    EXPECT_EQ(BlasThreadCount(), 1);  // still inside the outer guard
  }
  EXPECT_EQ(BlasThreadCount(), outside);
}

// The command line's --threads cap: it never raises the count, and a cap set
// inside a guard is what the last guard restores.
TEST(Executor, BlasThreadLimitHoldsAfterTheGuards) {
  const int outside = BlasThreadCount();
  if (outside < 2) GTEST_SKIP() << "OpenBLAS with two threads or more needed, found " << outside;
  LimitBlasThreads(outside + 1);
  EXPECT_EQ(BlasThreadCount(), outside);  // a cap above the count changes nothing
  {
    ScopedSerialBlas guard;
    LimitBlasThreads(1);
    EXPECT_EQ(BlasThreadCount(), 1);
  }
  EXPECT_EQ(BlasThreadCount(), 1);  // the guard restored the capped count
  LimitBlasThreads(0);              // not a count: ignored
  EXPECT_EQ(BlasThreadCount(), 1);
}

}  // namespace
}  // namespace attnpaths
