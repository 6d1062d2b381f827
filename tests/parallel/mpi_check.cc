// Run under `mpirun -n 2` (tests/parallel/CMakeLists.txt): the collectives of
// parallel/communicator.h across real processes, and the Gram of theory.md §10
// summed over the processes' shares of the examples against ΞᵀΞ of the whole
// set from the token-by-token loops (every rank builds the same data from the
// same seed). Prints one line per failed check; exit 1 on every rank when any
// rank failed, 0 otherwise.
#include <Eigen/Core>
#include <cstdint>
#include <cstdio>
#include <string>

#include "kernels/example_range.h"
#include "kernels/example_source.h"
#include "kernels/gram.h"
#include "parallel/communicator.h"
#include "tests/support/brute_force.h"
#include "tests/support/finite_difference.h"
#include "tests/support/random_inputs.h"

namespace attnpaths {
namespace {

int failures = 0;

void Check(bool ok, const std::string& what, int rank) {
  if (!ok) {
    std::fprintf(stderr, "rank %d: FAILED %s\n", rank, what.c_str());
    ++failures;
  }
}

int Run() {
  const Communicator& world = Communicator::World();
  const int rank = world.rank(), size = world.size();
  Check(size == 2, "size " + std::to_string(size) + " (expected 2: mpirun -n 2)", rank);

  // Collectives.
  std::int64_t r64 = rank + 1;
  world.SumInPlace(&r64, 1);
  Check(r64 == std::int64_t{size} * (size + 1) / 2, "integer sum", rank);
  Check(world.FirstFailure(rank != 1) == (size > 1 ? 1 : -1), "first failure is rank 1", rank);
  Check(!world.AllTrue(rank == 0) || size == 1, "one failing rank fails all", rank);
  Check(world.AllTrue(true), "all ok", rank);
  std::string text = rank == 0 ? "from rank 0: a config of 31 bytes" : "stale";
  world.Broadcast(&text);
  Check(text == "from rank 0: a config of 31 bytes", "broadcast", rank);

  // The Gram of the whole set from each rank's share.
  test_util::Rng rng(2024);
  const Eigen::Index N0 = 6, n_tok = 5, P = 41;
  Architecture arch;
  arch.layers = {{test_util::RandomWHead(N0, rng, Normalization::kSoftmax, false, 1.1),
                  test_util::RandomGivenHead(n_tok, P, 2, rng)},
                 {test_util::RandomQKHead(N0, 2, rng)}};
  arch.readout = Readout::kLast;
  arch.SetUniform(5.0);
  const Inputs X = test_util::RandomInputs(P, n_tok, N0, rng);
  const Eigen::MatrixXd Y = test_util::RandomLabels(P, 2, rng);
  InMemoryExamples source(X, Y, "train set");
  const auto [begin, end] = world.Share(P);
  ExampleRange mine(source, begin, end);
  StreamOptions options;
  options.block_examples = 3;
  options.threads = 1;
  Gram g = AccumulateGram(arch, mine, Split::kTrain, options);
  Check(g.P == end - begin, "share size", rank);
  SumOverRanks(world, &g);
  const auto per = test_util::BrutePathInputs(arch, X, Split::kTrain);
  Eigen::MatrixXd xi(P, arch.Htot() * N0);
  for (Eigen::Index mu = 0; mu < P; ++mu) {
    const Eigen::MatrixXd& m = per[static_cast<size_t>(mu)];
    xi.row(mu) = Eigen::Map<const Eigen::RowVectorXd>(m.data(), m.size());
  }
  Check(g.P == P, "summed P", rank);
  const double eA = test_util::RelativeError(g.A, xi.transpose() * xi);
  const double eb = test_util::RelativeError(g.b, xi.transpose() * Y);
  const double eY = test_util::RelativeError(g.YtY, Y.transpose() * Y);
  Check(eA <= 1e-12, "A = Xi^T Xi (relative error " + std::to_string(eA) + ")", rank);
  Check(eb <= 1e-12, "b = Xi^T Y (relative error " + std::to_string(eb) + ")", rank);
  Check(eY <= 1e-12, "Y^T Y (relative error " + std::to_string(eY) + ")", rank);

  const bool all_ok = world.AllTrue(failures == 0);
  if (world.root()) {
    std::printf("%s: %d ranks, A/b/YtY errors %.1e %.1e %.1e\n", all_ok ? "ok" : "FAILED", size, eA,
                eb, eY);
  }
  return all_ok ? 0 : 1;
}

}  // namespace
}  // namespace attnpaths

int main(int argc, char** argv) {
  attnpaths::MpiSession session(&argc, &argv);
  if (!session.active()) {
    std::fprintf(stderr, "mpi_check: run me under mpirun -n 2\n");
    return 1;
  }
  return attnpaths::Run();
}
