// Small helpers shared by the benches: timings (wall and CPU), the machine's
// state for the header of a results table, peak memory, and running one
// measurement in a fork()ed child so that its peak RSS is its own.
#pragma once

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <functional>
#include <string>
#include <type_traits>
#include <vector>

namespace attnpaths::bench {

using Clock = std::chrono::steady_clock;

inline double Since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// CPU seconds of this process (all threads), user + system.
inline double ProcessCpuSeconds() {
  timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

// Wall and CPU time of one call.
struct Stopwatch {
  Clock::time_point wall0 = Clock::now();
  double cpu0 = ProcessCpuSeconds();
  double wall() const { return Since(wall0); }
  double cpu() const { return ProcessCpuSeconds() - cpu0; }
};

// Minimum (and median) over repetitions of wall and CPU time: at least
// `min_reps`, more while the total stays under `budget` seconds.
struct Timing {
  double wall_min = 0, wall_median = 0, cpu_min = 0, cpu_median = 0;
  int reps = 0;
};

// Median and minimum of a list of times (for repetitions interleaved by hand).
struct Stats {
  double median = 0, min = 0;
};
inline Stats MedianMin(std::vector<double> t) {
  std::sort(t.begin(), t.end());
  const size_t n = t.size();
  return {n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]), t.front()};
}

inline Timing Time(const std::function<void()>& run, int min_reps, int max_reps, double budget) {
  std::vector<double> wall, cpu;
  double total = 0;
  while (static_cast<int>(wall.size()) < max_reps &&
         (static_cast<int>(wall.size()) < min_reps || total < budget)) {
    const Stopwatch w;
    run();
    wall.push_back(w.wall());
    cpu.push_back(w.cpu());
    total += wall.back();
  }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
  };
  Timing t;
  t.wall_min = *std::min_element(wall.begin(), wall.end());
  t.cpu_min = *std::min_element(cpu.begin(), cpu.end());
  t.wall_median = median(wall);
  t.cpu_median = median(cpu);
  t.reps = static_cast<int>(wall.size());
  return t;
}

inline std::string Fmt(const char* format, double value) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, value);
  return buf;
}

// Seconds with a unit that keeps three significant digits readable.
inline std::string Sec(double s) {
  if (s < 1e-3) return Fmt("%.1f µs", s * 1e6);
  if (s < 1.0) return Fmt("%.2f ms", s * 1e3);
  if (s < 600.0) return Fmt("%.2f s", s);
  return Fmt("%.1f min", s / 60.0);
}

inline std::string Bytes(double bytes) {
  const double g = bytes / double(1ull << 30);
  return g < 0.1 ? Fmt("%.1f MiB", bytes / double(1ull << 20)) : Fmt("%.2f GiB", g);
}

// VmHWM (peak resident set) of this process in bytes.
inline double PeakRssBytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return 1024.0 * std::atof(line.c_str() + 6);
  }
  return -1;
}

inline double MemAvailableBytes() {
  std::ifstream meminfo("/proc/meminfo");
  std::string line;
  while (std::getline(meminfo, line)) {
    if (line.rfind("MemAvailable:", 0) == 0) return 1024.0 * std::atof(line.c_str() + 13);
  }
  return -1;
}

inline std::string LoadAverage() {
  std::ifstream f("/proc/loadavg");
  double a = 0, b = 0, c = 0;
  f >> a >> b >> c;
  return Fmt("%.2f", a) + " " + Fmt("%.2f", b) + " " + Fmt("%.2f", c);
}

inline std::string CpuModel() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  }
  return "unknown";
}

inline std::string UtcNow() {
  const std::time_t now = std::time(nullptr);
  char date[64];
  std::strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", std::gmtime(&now));
  return date;
}

// Runs `child` in a fork()ed process (fresh peak-RSS count, OOM killer's
// first choice) and returns what it wrote into its plain-data result; on a
// crash, `failed` gets a message and the result is value-initialised.
template <typename Result>
Result RunIsolated(const std::function<Result()>& child, std::string* failed) {
  static_assert(std::is_trivially_copyable_v<Result>, "results cross a pipe");
  Result r{};
  int fd[2];
  if (pipe(fd) != 0) {
    *failed = std::string("pipe failed: ") + std::strerror(errno);
    return r;
  }
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t pid = fork();
  if (pid < 0) {
    *failed = std::string("fork failed: ") + std::strerror(errno);
    return r;
  }
  if (pid == 0) {
    close(fd[0]);
    { std::ofstream("/proc/self/oom_score_adj") << 1000; }
    { std::ofstream("/proc/self/clear_refs") << 5; }  // Linux >= 4.0: reset VmHWM
    Result out{};
    try {
      out = child();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "bench child: %s\n", e.what());
      _exit(3);
    }
    const char* p = reinterpret_cast<const char*>(&out);
    size_t left = sizeof out;
    while (left > 0) {
      const ssize_t w = write(fd[1], p, left);
      if (w <= 0) break;
      p += w;
      left -= static_cast<size_t>(w);
    }
    close(fd[1]);
    _exit(0);
  }
  close(fd[1]);
  char* p = reinterpret_cast<char*>(&r);
  size_t got = 0;
  while (got < sizeof r) {
    const ssize_t n = read(fd[0], p + got, sizeof r - got);
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  close(fd[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (got != sizeof r) {
    r = Result{};
    if (WIFSIGNALED(status)) {
      *failed = "child killed by signal " + std::to_string(WTERMSIG(status)) +
                (WTERMSIG(status) == SIGKILL ? " (out of memory?)" : "");
    } else {
      *failed = "child exited with status " +
                std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    }
  }
  return r;
}

// Runs a command line (argv[0] a path) and returns its wall and CPU seconds
// (user + system of the child) and exit status.
struct CommandTiming {
  double wall = 0, cpu = 0;
  int status = -1;
  double peak_rss_bytes = 0;
};

inline CommandTiming RunCommand(const std::vector<std::string>& args, const std::string& dir) {
  CommandTiming t;
  std::fflush(stdout);
  std::fflush(stderr);
  const Stopwatch w;
  const pid_t pid = fork();
  if (pid == 0) {
    if (!dir.empty() && chdir(dir.c_str()) != 0) _exit(127);
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    // Quiet: the bench prints the table.
    std::freopen("/dev/null", "w", stdout);
    std::freopen("/dev/null", "w", stderr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  int status = 0;
  rusage usage{};
  wait4(pid, &status, 0, &usage);
  t.wall = w.wall();
  t.cpu = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
          1e-6 * static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
  t.peak_rss_bytes = 1024.0 * static_cast<double>(usage.ru_maxrss);
  t.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return t;
}

}  // namespace attnpaths::bench
