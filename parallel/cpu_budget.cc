#include "parallel/cpu_budget.h"

#include <sched.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <thread>

namespace attnpaths {
namespace {

std::optional<std::string> ReadSmallFile(const char* path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

int AffinityCount() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    const int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

std::optional<int> CgroupLimit() {
  if (const auto v2 = ReadSmallFile("/sys/fs/cgroup/cpu.max")) return CoresFromCpuMax(*v2);
  const auto quota = ReadSmallFile("/sys/fs/cgroup/cpu/cpu.cfs_quota_us");
  const auto period = ReadSmallFile("/sys/fs/cgroup/cpu/cpu.cfs_period_us");
  if (!quota || !period) return std::nullopt;
  try {
    return CoresFromCfsQuota(std::stoll(*quota), std::stoll(*period));
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

}  // namespace

std::optional<int> CoresFromCpuMax(const std::string& cpu_max) {
  std::istringstream in(cpu_max);
  std::string quota;
  std::int64_t period = 0;
  if (!(in >> quota >> period) || quota == "max") return std::nullopt;
  try {
    return CoresFromCfsQuota(std::stoll(quota), period);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::optional<int> CoresFromCfsQuota(std::int64_t quota_us, std::int64_t period_us) {
  if (quota_us <= 0 || period_us <= 0) return std::nullopt;
  return static_cast<int>(std::max<std::int64_t>(1, (quota_us + period_us - 1) / period_us));
}

int AvailableCores() {
  static const int cores = [] {
    int n = AffinityCount();
    if (const auto limit = CgroupLimit()) n = std::min(n, *limit);
    return std::max(1, n);
  }();
  return cores;
}

int ResolveThreads(int requested, std::int64_t items) {
  const std::int64_t want = requested > 0 ? requested : AvailableCores();
  return static_cast<int>(std::max<std::int64_t>(1, std::min(want, items)));
}

}  // namespace attnpaths
