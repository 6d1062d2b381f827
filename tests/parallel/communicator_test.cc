// The communicator of a data-parallel run, in one process: the shares tile
// the items in order and differ by at most one, and without mpirun every
// collective operation is the identity (the MPI side runs under mpirun in
// tests/parallel/mpi_check.cc).
#include "parallel/communicator.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace attnpaths {
namespace {

TEST(Communicator, SharesTileTheItemsInOrder) {
  for (std::int64_t count : {0, 1, 2, 7, 100, 1000003}) {
    for (int size : {1, 2, 3, 8, 13}) {
      SCOPED_TRACE(std::to_string(count) + " items, " + std::to_string(size) + " ranks");
      std::int64_t next = 0, smallest = count, largest = 0;
      for (int r = 0; r < size; ++r) {
        const auto [begin, end] = Communicator::ShareOf(count, r, size);
        EXPECT_EQ(begin, next);
        EXPECT_LE(begin, end);
        smallest = std::min(smallest, end - begin);
        largest = std::max(largest, end - begin);
        next = end;
      }
      EXPECT_EQ(next, count);
      EXPECT_LE(largest - smallest, 1);
    }
  }
}

TEST(Communicator, OneProcessWithoutMpirun) {
  ASSERT_FALSE(LaunchedByMpirun()) << "run this test without mpirun";
  const Communicator& world = Communicator::World();
  EXPECT_EQ(world.rank(), 0);
  EXPECT_EQ(world.size(), 1);
  EXPECT_TRUE(world.root());
  EXPECT_EQ(world.Share(10), (std::pair<std::int64_t, std::int64_t>{0, 10}));
  std::vector<double> x = {1.5, -2, 3};
  world.SumInPlace(x.data(), x.size());
  EXPECT_EQ(x, (std::vector<double>{1.5, -2, 3}));
  std::int64_t n = 7;
  world.SumInPlace(&n, 1);
  EXPECT_EQ(n, 7);
  EXPECT_TRUE(world.AllTrue(true));
  EXPECT_FALSE(world.AllTrue(false));
  EXPECT_EQ(world.FirstFailure(true), -1);
  EXPECT_EQ(world.FirstFailure(false), 0);
  std::string text = "unchanged";
  world.Broadcast(&text);
  EXPECT_EQ(text, "unchanged");
  world.Barrier();
}

}  // namespace
}  // namespace attnpaths
