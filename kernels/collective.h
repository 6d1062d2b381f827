// RunCollectively — one failing process stops every process of a
// data-parallel run (parallel/communicator.h), with one message and no hang.
//
//   attnpaths::Gram g;
//   attnpaths::RunCollectively(world, [&] { g = AccumulateGram(arch, mine, Split::kTrain); });
//   attnpaths::SumOverRanks(world, &g);   // reached by every rank, or by none
//
// `work` runs on this rank. When it throws on any rank, every rank throws a
// CollectiveError carrying the message of the lowest failing rank, so a rank
// whose share of the examples overflows stops the others instead of leaving
// them waiting in the next collective. A run is a sequence of such phases
// and collectives: a phase must not itself contain a collective operation.
// With one process (no mpirun) `work`'s own exception is rethrown unchanged.
#pragma once

#include <functional>

#include "kernels/error.h"
#include "parallel/communicator.h"

namespace attnpaths {

// The error every rank of a run throws when one of them failed (the same
// message on each): a program prints it on rank 0 only.
class CollectiveError : public Error {
 public:
  using Error::Error;
};

void RunCollectively(const Communicator& world, const std::function<void()>& work);

}  // namespace attnpaths
