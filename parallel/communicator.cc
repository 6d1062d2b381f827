#include "parallel/communicator.h"

#include <algorithm>
#include <cstdlib>
#include <limits>

#ifdef ATTNPATHS_HAVE_MPI
#include <mpi.h>
#endif

namespace attnpaths {
namespace {

#ifdef ATTNPATHS_HAVE_MPI
bool MpiRunning() {
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  return initialized != 0 && finalized == 0;
}

// MPI counts are int: large buffers go in chunks.
constexpr std::size_t kChunk = std::size_t{1} << 28;
#endif

}  // namespace

bool MpiBuilt() {
#ifdef ATTNPATHS_HAVE_MPI
  return true;
#else
  return false;
#endif
}

bool LaunchedByMpirun() {
  // Open MPI's mpirun, PMIx (Open MPI 4/5, Slurm's srun --mpi=pmix) and PMI-1/2
  // launchers (MPICH's hydra, srun --mpi=pmi2) all set one of these.
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"}) {
    if (std::getenv(name) != nullptr) return true;
  }
  return false;
}

MpiSession::MpiSession(int* argc, char*** argv) {
#ifdef ATTNPATHS_HAVE_MPI
  if (LaunchedByMpirun() && !MpiRunning()) {
    int provided = 0;
    // Only the main thread calls MPI (threads work inside a rank, between collectives).
    MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
    active_ = true;
  }
#else
  (void)argc;
  (void)argv;
#endif
}

MpiSession::~MpiSession() {
#ifdef ATTNPATHS_HAVE_MPI
  if (active_ && MpiRunning()) MPI_Finalize();
#endif
}

const Communicator& Communicator::World() {
  static const Communicator world(false);
  return world;
}

const Communicator& Communicator::Self() {
  static const Communicator self(true);
  return self;
}

int Communicator::rank() const {
#ifdef ATTNPATHS_HAVE_MPI
  if (!self_ && MpiRunning()) {
    int r = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &r);
    return r;
  }
#endif
  return 0;
}

int Communicator::size() const {
#ifdef ATTNPATHS_HAVE_MPI
  if (!self_ && MpiRunning()) {
    int s = 1;
    MPI_Comm_size(MPI_COMM_WORLD, &s);
    return s;
  }
#endif
  return 1;
}

std::pair<std::int64_t, std::int64_t> Communicator::Share(std::int64_t count) const {
  return ShareOf(count, rank(), size());
}

std::pair<std::int64_t, std::int64_t> Communicator::ShareOf(std::int64_t count, int rank,
                                                            int size) {
  const std::int64_t n = std::max<std::int64_t>(count, 0), R = std::max(size, 1), r = rank;
  const std::int64_t base = n / R, extra = n % R;
  const std::int64_t begin = r * base + std::min(r, extra);
  return {begin, begin + base + (r < extra ? 1 : 0)};
}

void Communicator::SumInPlace(double* values, std::size_t count) const {
#ifdef ATTNPATHS_HAVE_MPI
  if (size() > 1) {
    for (std::size_t done = 0; done < count; done += kChunk) {
      const int n = static_cast<int>(std::min(kChunk, count - done));
      MPI_Allreduce(MPI_IN_PLACE, values + done, n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    }
  }
#else
  (void)values;
  (void)count;
#endif
}

void Communicator::SumInPlace(std::int64_t* values, std::size_t count) const {
#ifdef ATTNPATHS_HAVE_MPI
  if (size() > 1) {
    for (std::size_t done = 0; done < count; done += kChunk) {
      const int n = static_cast<int>(std::min(kChunk, count - done));
      MPI_Allreduce(MPI_IN_PLACE, values + done, n, MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD);
    }
  }
#else
  (void)values;
  (void)count;
#endif
}

bool Communicator::AllTrue(bool ok) const { return FirstFailure(ok) < 0; }

int Communicator::FirstFailure(bool ok) const {
  int mine = ok ? std::numeric_limits<int>::max() : rank();
#ifdef ATTNPATHS_HAVE_MPI
  if (size() > 1) MPI_Allreduce(MPI_IN_PLACE, &mine, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
#endif
  return mine == std::numeric_limits<int>::max() ? -1 : mine;
}

void Communicator::Broadcast(std::string* text, int from) const {
#ifdef ATTNPATHS_HAVE_MPI
  if (size() > 1) {
    std::int64_t length = static_cast<std::int64_t>(text->size());
    MPI_Bcast(&length, 1, MPI_INT64_T, from, MPI_COMM_WORLD);
    text->resize(static_cast<std::size_t>(length));
    for (std::size_t done = 0; done < text->size(); done += kChunk) {
      const int n = static_cast<int>(std::min(kChunk, text->size() - done));
      MPI_Bcast(text->data() + done, n, MPI_CHAR, from, MPI_COMM_WORLD);
    }
  }
#else
  (void)text;
  (void)from;
#endif
}

void Communicator::Broadcast(double* values, std::size_t count, int from) const {
#ifdef ATTNPATHS_HAVE_MPI
  if (size() > 1) {
    for (std::size_t done = 0; done < count; done += kChunk) {
      const int n = static_cast<int>(std::min(kChunk, count - done));
      MPI_Bcast(values + done, n, MPI_DOUBLE, from, MPI_COMM_WORLD);
    }
  }
#else
  (void)values;
  (void)count;
  (void)from;
#endif
}

void Communicator::Barrier() const {
#ifdef ATTNPATHS_HAVE_MPI
  if (size() > 1) MPI_Barrier(MPI_COMM_WORLD);
#endif
}

}  // namespace attnpaths
