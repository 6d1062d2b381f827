// CpuBudget — how many threads this process may usefully run.
//
//   const int cores = attnpaths::AvailableCores();
//   const int threads = attnpaths::ResolveThreads(options.threads, items);
//
// AvailableCores() is the number of CPUs in the process's affinity mask
// (taskset, numactl, a batch scheduler's cpuset), further capped by a cgroup
// CPU quota (Docker's --cpus, Kubernetes limits; cgroup v2 cpu.max or v1
// cpu.cfs_quota_us / cpu.cfs_period_us, rounded up). It is read once and
// cached. std::thread::hardware_concurrency() counts the machine's CPUs and
// over-subscribes a restricted process; nothing in attnpaths calls it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace attnpaths {

// CPUs this process may run on (>= 1).
int AvailableCores();

// The number of threads a parallel region uses: `requested` when > 0, else
// AvailableCores(); never more than `items` and never less than 1.
int ResolveThreads(int requested, std::int64_t items);

// The CPU limit a cgroup quota implies, rounded up, or nullopt for no limit.
// `cpu_max` is the text of cgroup v2's cpu.max ("max 100000", "150000 100000").
std::optional<int> CoresFromCpuMax(const std::string& cpu_max);
// cgroup v1: cpu.cfs_quota_us (-1: no limit) and cpu.cfs_period_us.
std::optional<int> CoresFromCfsQuota(std::int64_t quota_us, std::int64_t period_us);

}  // namespace attnpaths
