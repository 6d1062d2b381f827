// The CPU budget against the kernel's own view (sched_getaffinity) and the
// cgroup quota arithmetic against hand-computed limits.
#include "parallel/cpu_budget.h"

#include <gtest/gtest.h>
#include <sched.h>

#include <thread>

namespace attnpaths {
namespace {

TEST(CpuBudget, NeverMoreThanTheAffinityMask) {
  cpu_set_t set;
  CPU_ZERO(&set);
  ASSERT_EQ(sched_getaffinity(0, sizeof(set), &set), 0);
  const int allowed = CPU_COUNT(&set);
  EXPECT_GE(AvailableCores(), 1);
  EXPECT_LE(AvailableCores(), allowed);
  EXPECT_LE(AvailableCores(), static_cast<int>(std::thread::hardware_concurrency()));
}

TEST(CpuBudget, ResolveThreads) {
  EXPECT_EQ(ResolveThreads(3, 100), 3);
  EXPECT_EQ(ResolveThreads(8, 5), 5);  // never more threads than items
  EXPECT_EQ(ResolveThreads(4, 0), 1);  // and at least one
  EXPECT_EQ(ResolveThreads(0, 1000000), AvailableCores());
  EXPECT_EQ(ResolveThreads(-2, 1000000), AvailableCores());
}

TEST(CpuBudget, CgroupV2CpuMax) {
  EXPECT_FALSE(CoresFromCpuMax("max 100000\n").has_value());
  EXPECT_EQ(CoresFromCpuMax("200000 100000\n"), 2);
  EXPECT_EQ(CoresFromCpuMax("150000 100000"), 2);  // 1.5 CPUs: two threads
  EXPECT_EQ(CoresFromCpuMax("50000 100000"), 1);
  EXPECT_FALSE(CoresFromCpuMax("").has_value());
  EXPECT_FALSE(CoresFromCpuMax("garbage").has_value());
}

TEST(CpuBudget, CgroupV1Quota) {
  EXPECT_FALSE(CoresFromCfsQuota(-1, 100000).has_value());
  EXPECT_EQ(CoresFromCfsQuota(400000, 100000), 4);
  EXPECT_EQ(CoresFromCfsQuota(250000, 100000), 3);
  EXPECT_FALSE(CoresFromCfsQuota(100000, 0).has_value());
}

}  // namespace
}  // namespace attnpaths
