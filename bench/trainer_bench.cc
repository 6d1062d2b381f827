// trainer_bench — training throughput of the attention network of
// trainer/ (issue 7, "Benchmark"), printed as Markdown.
//
//   OPENBLAS_CORETYPE=SkylakeX ./trainer_bench            # every configuration (~1 minute)
//   OPENBLAS_CORETYPE=SkylakeX ./trainer_bench --quick    # fewer epochs per configuration
//
// The network of examples/digits (N0 = 20 features: 4 pixels + 16 positions,
// n_tok = 16 tokens, L = 2 layers of 4 QK heads, d = 8, mean readout) on
// P = 600 random inputs of that shape. Every configuration runs in a fork()ed
// child, so that VmHWM is its own peak resident set. Per configuration:
// examples per second of a training step (forward + backward + Adam, one
// epoch of shuffled mini-batches, best of the timed epochs), the time of one
// step, and examples per second of the forward pass alone (Predict on 1000
// examples). Wall-clock figures depend on the machine's load: the table
// header prints the load average.
#include <sys/wait.h>
#include <unistd.h>

#include <Eigen/Core>
#include <algorithm>
#include <boost/random/mersenne_twister.hpp>
#include <boost/random/normal_distribution.hpp>
#include <boost/random/uniform_int_distribution.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "kernels/inputs.h"
#include "network/network.h"
#include "trainer/adam.h"
#include "trainer/forward_backward.h"

namespace {

using attnpaths::Inputs;
using Clock = std::chrono::steady_clock;

struct Config {
  Eigen::Index width;
  int batch;
  int threads;
};

struct Result {
  double train_examples_per_second = 0;
  double step_microseconds = 0;
  double forward_examples_per_second = 0;
  double peak_rss_mib = 0;
  long parameters = 0;
};

// VmHWM (peak resident set) of this process in MiB.
double PeakRssMiB() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::atof(line.c_str() + 6) / 1024.0;
  }
  return -1;
}

Inputs DigitsShapedInputs(Eigen::Index P, boost::random::mt19937& rng) {
  boost::random::normal_distribution<double> normal;
  Inputs x(P, 16, 20);
  for (Eigen::Index mu = 0; mu < P; ++mu) {
    auto e = x.example(mu);
    for (Eigen::Index t = 0; t < 16; ++t) {
      for (Eigen::Index i = 0; i < 4; ++i) e(i, t) = normal(rng);
      e(4 + t, t) = 1.0;
    }
  }
  return x;
}

Result Run(const Config& c, int epochs) {
  boost::random::mt19937 rng(7);
  const Eigen::Index P = 600;
  const Inputs x = DigitsShapedInputs(P, rng);
  const Inputs x_test = DigitsShapedInputs(1000, rng);
  Eigen::VectorXd y(P);
  for (Eigen::Index mu = 0; mu < P; ++mu) y(mu) = x.example(mu)(0, 5) > 0 ? 1.0 : -1.0;
  attnpaths::NetworkShape shape;
  shape.N0 = 20;
  shape.n_tok = 16;
  shape.heads = {4, 4};
  shape.widths = {c.width, c.width, c.width};
  shape.key_dim = 8;
  attnpaths::Network net(shape);
  attnpaths::InitializeNetwork(1.0, 0.1, 1, &net);
  attnpaths::Adam adam(net.num_parameters(), attnpaths::AdamOptions{});
  std::vector<Eigen::Index> order(P);
  for (Eigen::Index i = 0; i < P; ++i) order[i] = i;
  Eigen::VectorXd grad;
  std::vector<Eigen::Index> batch;
  double best = 1e300;
  long steps_per_epoch = 0;
  for (int e = 0; e <= epochs; ++e) {  // epoch 0 is a warm-up
    for (Eigen::Index i = P - 1; i > 0; --i) {
      boost::random::uniform_int_distribution<Eigen::Index> pick(0, i);
      std::swap(order[i], order[pick(rng)]);
    }
    const auto t0 = Clock::now();
    steps_per_epoch = 0;
    for (Eigen::Index s = 0; s < P; s += c.batch) {
      batch.assign(order.begin() + s, order.begin() + std::min<Eigen::Index>(P, s + c.batch));
      attnpaths::LossAndGradient(net, x, y, batch, 0.0, &grad, {}, c.threads);
      adam.Step(1e-3, grad, &net.parameters());
      ++steps_per_epoch;
    }
    const double sec = std::chrono::duration<double>(Clock::now() - t0).count();
    if (e > 0) best = std::min(best, sec);
  }
  Result r;
  r.train_examples_per_second = static_cast<double>(P) / best;
  r.step_microseconds = 1e6 * best / static_cast<double>(steps_per_epoch);
  double best_fwd = 1e300;
  for (int k = 0; k < 3; ++k) {
    const auto t0 = Clock::now();
    const Eigen::VectorXd f = attnpaths::Predict(net, x_test, {}, c.threads);
    best_fwd = std::min(best_fwd, std::chrono::duration<double>(Clock::now() - t0).count());
    if (!f.allFinite()) std::fprintf(stderr, "trainer_bench: non-finite output\n");
  }
  r.forward_examples_per_second = 1000.0 / best_fwd;
  r.parameters = static_cast<long>(net.num_parameters());
  r.peak_rss_mib = PeakRssMiB();
  return r;
}

// Runs one configuration in a child process; the result comes back through a pipe.
Result RunInChild(const Config& c, int epochs) {
  int fds[2];
  if (pipe(fds) != 0) {
    std::perror("pipe");
    std::exit(1);
  }
  const pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    const Result r = Run(c, epochs);
    if (write(fds[1], &r, sizeof r) != static_cast<ssize_t>(sizeof r)) _exit(1);
    close(fds[1]);
    _exit(0);
  }
  close(fds[1]);
  Result r;
  if (read(fds[0], &r, sizeof r) != static_cast<ssize_t>(sizeof r)) {
    std::fprintf(stderr, "trainer_bench: configuration failed\n");
  }
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0) {
      quick = true;
    } else {
      std::fprintf(stderr, "usage: trainer_bench [--quick]\n");
      return 2;
    }
  }
  const int epochs = quick ? 1 : 3;
  const std::vector<Config> configs = {
      {32, 32, 1}, {32, 32, 2}, {32, 8, 1},   {32, 128, 1}, {32, 128, 2},
      {64, 32, 1}, {64, 32, 2}, {128, 32, 1}, {128, 32, 2},
  };
  double load[3] = {0, 0, 0};
  if (getloadavg(load, 3) < 0) load[0] = -1;
  std::printf(
      "## trainer_bench: digits network (N0 = 20, n_tok = 16, H = 4x4, d = 8), P = 600\n\n");
  std::printf("load average at start: %.2f; best of %d timed epoch(s) per configuration\n\n",
              load[0], epochs);
  std::printf(
      "| width n | batch | threads | parameters | train examples/s | us per step | "
      "forward examples/s | peak RSS (MiB) |\n");
  std::printf("|---|---|---|---|---|---|---|---|\n");
  for (const Config& c : configs) {
    std::fprintf(stderr, "trainer_bench: width %ld, batch %d, threads %d\n",
                 static_cast<long>(c.width), c.batch, c.threads);
    const Result r = RunInChild(c, epochs);
    std::printf("| %ld | %d | %d | %ld | %.0f | %.0f | %.0f | %.1f |\n", static_cast<long>(c.width),
                c.batch, c.threads, r.parameters, r.train_examples_per_second, r.step_microseconds,
                r.forward_examples_per_second, r.peak_rss_mib);
    std::fflush(stdout);
  }
  return 0;
}
