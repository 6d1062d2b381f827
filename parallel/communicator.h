// Communicator — the processes of a data-parallel run. theory.md §10: the
// feature-space sums A = ΞᵀΞ, b = ΞᵀY and YᵀY split over any partition of the
// examples, so each process sums its own share and one all-reduce gives every
// process the whole M × M problem.
//
//   int main(int argc, char** argv) {
//     attnpaths::MpiSession session(&argc, &argv);   // MPI_Init only under mpirun
//     const attnpaths::Communicator& world = attnpaths::Communicator::World();
//     const auto [begin, end] = world.Share(P);       // this process's examples
//     … partial sums over [begin, end) …
//     world.SumInPlace(A.data(), A.size());           // every process: the whole sum
//     if (!world.AllTrue(ok)) { … every process stops … }
//     if (world.root()) { … write the outputs … }
//   }
//
// Without MPI (a build where Open MPI was not found, ATTNPATHS_MPI=OFF, or a
// program not launched by mpirun) World() is one process: rank 0 of 1, and
// every collective operation is the identity. The module below every other
// one: it uses no other attnpaths module.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

namespace attnpaths {

// True when this binary was built with MPI (ATTNPATHS_MPI and Open MPI found).
bool MpiBuilt();
// True when the process was started by mpirun/mpiexec (or a scheduler's PMI),
// read from the launcher's environment before MPI is initialised.
bool LaunchedByMpirun();

// Initialises MPI for the lifetime of the object when the binary has MPI and
// was launched by mpirun; otherwise does nothing. One per process, in main.
class MpiSession {
 public:
  MpiSession(int* argc, char*** argv);
  ~MpiSession();
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;

  // True when MPI was initialised by this session.
  bool active() const { return active_; }

 private:
  bool active_ = false;
};

class Communicator {
 public:
  // MPI_COMM_WORLD once an MpiSession is active; one process otherwise.
  static const Communicator& World();
  // This process alone (rank 0 of 1, every collective the identity), for
  // work a process does on its own inside a run, e.g. the points of a sweep.
  static const Communicator& Self();

  int rank() const;
  int size() const;
  bool root() const { return rank() == 0; }

  // The contiguous share [begin, end) of `count` items that this rank owns:
  // rank r gets count / size items, the first count % size ranks one more.
  // The shares of ranks 0 … size−1 tile [0, count) in order.
  std::pair<std::int64_t, std::int64_t> Share(std::int64_t count) const;
  // The same for any rank of any size (0 <= rank < size).
  static std::pair<std::int64_t, std::int64_t> ShareOf(std::int64_t count, int rank, int size);

  // Element-wise sum over every rank, result on every rank (MPI_Allreduce).
  void SumInPlace(double* values, std::size_t count) const;
  void SumInPlace(std::int64_t* values, std::size_t count) const;
  // True on every rank when `ok` is true on every rank (a logical-and
  // all-reduce): how one rank's failure stops them all without a hang.
  bool AllTrue(bool ok) const;
  // The lowest rank whose `ok` is false, or −1 when every rank is ok.
  int FirstFailure(bool ok) const;
  // Replaces *text on every rank by the text of rank `from`.
  void Broadcast(std::string* text, int from = 0) const;
  // Replaces values[0 … count) on every rank by those of rank `from` (MPI_Bcast).
  void Broadcast(double* values, std::size_t count, int from = 0) const;
  void Barrier() const;

 private:
  explicit Communicator(bool self) : self_(self) {}
  bool self_ = false;
};

}  // namespace attnpaths
