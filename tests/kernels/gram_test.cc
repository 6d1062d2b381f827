// Streamed path inputs and the Gram of theory.md §10 against the whole set:
// ξ blocks concatenated equal Ξ, and A = ΞᵀΞ, b = ΞᵀY, YᵀY from blocks equal
// the same products of Ξ built by the token-by-token loops of
// tests/support/brute_force.h, for any block size, threads and prefetching.
#include "kernels/gram.h"

#include <gtest/gtest.h>

#include <Eigen/Core>
#include <string>
#include <vector>

#include "kernels/error.h"
#include "kernels/example_range.h"
#include "kernels/example_source.h"
#include "kernels/path_input_stream.h"
#include "kernels/path_inputs.h"
#include "parallel/communicator.h"
#include "tests/support/brute_force.h"
#include "tests/support/finite_difference.h"
#include "tests/support/random_inputs.h"

namespace attnpaths {
namespace {

using test_util::RandomInputs;
using test_util::RelativeError;
using test_util::Rng;

constexpr Eigen::Index kN0 = 5, kTokens = 4, kP = 37;

Architecture TwoLayers(Rng& rng) {
  Architecture arch;
  arch.layers = {{test_util::RandomWHead(kN0, rng, Normalization::kSoftmax, false, 1.3),
                  test_util::RandomQKHead(kN0, 2, rng), test_util::SimpleHead(HeadKind::kBlank),
                  test_util::RandomGivenHead(kTokens, kP, 3, rng)},
                 {test_util::SimpleHead(HeadKind::kUniform),
                  test_util::RandomWHead(kN0, rng, Normalization::kHardmax, true)}};
  arch.readout = Readout::kLast;
  arch.SetUniform(10.0);
  arch.variances[0] = 1.4;
  return arch;
}

// Ξ (P × Htot·N0) from the loops.
Eigen::MatrixXd BruteXi(const Architecture& arch, const Inputs& X) {
  const auto per = test_util::BrutePathInputs(arch, X, Split::kTrain);
  Eigen::MatrixXd xi(X.P(), arch.Htot() * X.N0());
  for (Eigen::Index mu = 0; mu < X.P(); ++mu) {
    const Eigen::MatrixXd& m = per[static_cast<size_t>(mu)];
    xi.row(mu) = Eigen::Map<const Eigen::RowVectorXd>(m.data(), m.size());
  }
  return xi;
}

TEST(StreamTest, BlocksOfPathInputsConcatenateToTheWholeSet) {
  Rng rng(41);
  const Architecture arch = TwoLayers(rng);
  const Inputs X = RandomInputs(kP, kTokens, kN0, rng);
  const Eigen::MatrixXd Y = test_util::RandomLabels(kP, 2, rng);
  const Eigen::MatrixXd ref = BruteXi(arch, X);
  for (Eigen::Index block : {0, 1, 5, 36, 37, 100}) {
    for (bool prefetch : {false, true}) {
      SCOPED_TRACE("block " + std::to_string(block) + (prefetch ? ", prefetch" : ""));
      InMemoryExamples source(X, Y);
      StreamOptions o;
      o.block_examples = block;
      o.prefetch = prefetch;
      o.threads = 2;
      std::vector<Eigen::Index> progress;
      o.progress = [&](Eigen::Index done, Eigen::Index P) {
        EXPECT_EQ(P, kP);
        progress.push_back(done);
      };
      Eigen::MatrixXd xi = Eigen::MatrixXd::Constant(kP, ref.cols(), -1);
      Eigen::MatrixXd y = Eigen::MatrixXd::Constant(kP, 2, -1);
      Eigen::Index expected_begin = 0;
      StreamSummary summary;
      StreamPathInputs(
          arch, source, Split::kTrain, o,
          [&](const PathInputBlock& b) {
            EXPECT_EQ(b.begin, expected_begin);  // in order, no gaps
            expected_begin = b.end();
            xi.middleRows(b.begin, b.xi_t.cols()) = b.xi_t.transpose();
            y.middleRows(b.begin, b.y.rows()) = b.y;
          },
          &summary);
      EXPECT_EQ(expected_begin, kP);
      EXPECT_LE(RelativeError(xi, ref), 1e-13);
      EXPECT_EQ(y, Y);
      const Eigen::Index B = o.BlockExamples(kP, kTokens, kN0);
      EXPECT_EQ(summary.blocks, (kP + B - 1) / B);
      EXPECT_EQ(summary.examples, kP);
      ASSERT_FALSE(progress.empty());
      EXPECT_EQ(progress.back(), kP);
    }
  }
}

TEST(GramTest, FromBlocksEqualsXiTransposeXiOfTheWholeSet) {
  Rng rng(42);
  const Architecture arch = TwoLayers(rng);
  const Inputs X = RandomInputs(kP, kTokens, kN0, rng);
  for (Eigen::Index D : {1, 3}) {
    const Eigen::MatrixXd Y = test_util::RandomLabels(kP, D, rng);
    const Eigen::MatrixXd xi = BruteXi(arch, X);
    const Eigen::MatrixXd A = xi.transpose() * xi;
    const Eigen::MatrixXd b = xi.transpose() * Y;
    for (Eigen::Index block : {Eigen::Index{1}, Eigen::Index{8}, kP}) {
      for (int threads : {1, 2, 3}) {
        SCOPED_TRACE("D " + std::to_string(D) + ", block " + std::to_string(block) + ", threads " +
                     std::to_string(threads));
        InMemoryExamples source(X, Y);
        StreamOptions o;
        o.block_examples = block;
        o.threads = threads;
        GramSummary summary;
        const Gram g = AccumulateGram(arch, source, Split::kTrain, o, &summary);
        EXPECT_EQ(g.P, kP);
        EXPECT_EQ(g.Htot, arch.Htot());
        EXPECT_EQ(g.N0, kN0);
        EXPECT_EQ(g.M(), xi.cols());
        EXPECT_LE(RelativeError(g.A, A), 1e-13);
        EXPECT_EQ(g.A, g.A.transpose());  // both triangles, exactly symmetric
        EXPECT_LE(RelativeError(g.b, b), 1e-13);
        EXPECT_LE(RelativeError(g.YtY, Y.transpose() * Y), 1e-14);
        EXPECT_NEAR(g.yty, Y.squaredNorm(), 1e-12 * Y.squaredNorm());
        EXPECT_EQ(summary.stream.examples, kP);
        EXPECT_NE(summary.BriefReport().find("37 examples"), std::string::npos);
      }
    }
  }
}

// The sums split over any partition (theory.md §10): Grams of slices add up.
TEST(GramTest, GramsOfSlicesAddUpToTheWhole) {
  Rng rng(43);
  const Architecture arch = TwoLayers(rng);
  const Inputs X = RandomInputs(kP, kTokens, kN0, rng);
  const Eigen::MatrixXd Y = test_util::RandomLabels(kP, 1, rng, /*binary=*/true);
  InMemoryExamples whole_source(X, Y);
  const Gram whole = AccumulateGram(arch, whole_source, Split::kTrain);
  // Three slices of Ξ added block by block, each into its own Gram.
  const Eigen::MatrixXd xi = ComputePathInputs(arch, X, Split::kTrain).xi;
  Gram sum = Gram::Zero(arch.Htot(), kN0, 1);
  for (Eigen::Index b : {0, 10, 30}) {
    const Eigen::Index e = b == 30 ? kP : b + (b == 0 ? 10 : 20);
    Gram part = Gram::Zero(arch.Htot(), kN0, 1);
    part.AddBlock(xi.middleRows(b, e - b).transpose(), Y.middleRows(b, e - b), 1);
    part.Finish();
    EXPECT_EQ(part.P, e - b);
    sum.Add(part);
  }
  EXPECT_EQ(sum.P, kP);
  EXPECT_LE(RelativeError(sum.A, whole.A), 1e-13);
  EXPECT_LE(RelativeError(sum.b, whole.b), 1e-13);
  EXPECT_NEAR(sum.yty, static_cast<double>(kP), 1e-12);  // ±1 labels
  EXPECT_THROW(sum.Add(Gram::Zero(arch.Htot(), kN0, 2)), Error);
}

// What each process of a data-parallel run does (theory.md §10): the Gram of
// its ExampleRange (Communicator::ShareOf), the ranges' Grams added, equals
// ΞᵀΞ of the whole set from the token-by-token loops — with a head of given
// attention, which must read each example's own table through the range.
TEST(GramTest, GramsOfTheProcessesSharesAddUpToTheWhole) {
  Rng rng(45);
  const Architecture arch = TwoLayers(rng);
  const Inputs X = RandomInputs(kP, kTokens, kN0, rng);
  const Eigen::MatrixXd Y = test_util::RandomLabels(kP, 2, rng);
  const Eigen::MatrixXd xi = BruteXi(arch, X);
  InMemoryExamples source(X, Y, "train set");
  StreamOptions o;
  o.block_examples = 4;
  for (int R : {1, 2, 3, 5}) {
    SCOPED_TRACE(std::to_string(R) + " processes");
    Gram sum = Gram::Zero(arch.Htot(), kN0, 2);
    for (int r = 0; r < R; ++r) {
      const auto [begin, end] = Communicator::ShareOf(kP, r, R);
      ExampleRange range(source, begin, end);
      EXPECT_EQ(range.P(), end - begin);
      sum.Add(AccumulateGram(arch, range, Split::kTrain, o));
    }
    EXPECT_EQ(sum.P, kP);
    EXPECT_LE(RelativeError(sum.A, xi.transpose() * xi), 1e-13);
    EXPECT_LE(RelativeError(sum.b, xi.transpose() * Y), 1e-13);
    EXPECT_LE(RelativeError(sum.YtY, Y.transpose() * Y), 1e-14);
  }
  // One process (no mpirun): summing over the ranks changes nothing.
  Gram whole = AccumulateGram(arch, source, Split::kTrain, o);
  const Gram copy = whole;
  SumOverRanks(Communicator::World(), &whole);
  EXPECT_EQ(whole.A, copy.A);
  EXPECT_EQ(whole.b, copy.b);
  EXPECT_EQ(whole.P, copy.P);
}

TEST(ExampleRangeTest, ReadsItsExamplesAndNamesItselfInErrors) {
  Rng rng(46);
  const Inputs X = RandomInputs(kP, kTokens, kN0, rng);
  const Eigen::MatrixXd Y = test_util::RandomLabels(kP, 1, rng);
  InMemoryExamples source(X, Y, "train set");
  ExampleRange range(source, 10, 20);
  EXPECT_EQ(range.P(), 10);
  EXPECT_EQ(range.n_tok(), kTokens);
  EXPECT_EQ(range.N0(), kN0);
  EXPECT_EQ(range.D(), 1);
  EXPECT_EQ(range.name(), "train set examples [10, 20)");
  ExampleBlock block;
  range.Read(2, 5, &block);
  EXPECT_EQ(block.begin, 12);  // the source's numbering
  ASSERT_EQ(block.x.P(), 3);
  for (Eigen::Index mu = 0; mu < 3; ++mu) {
    EXPECT_EQ(block.y(mu, 0), Y(12 + mu, 0));
    EXPECT_EQ(block.x.example(mu), X.example(12 + mu));
  }
  try {
    range.Read(5, 11, &block);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("train set examples [10, 20) block"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(ExampleRange(source, 20, 10), Error);
  EXPECT_THROW(ExampleRange(source, 0, kP + 1), Error);
  ExampleRange empty(source, kP, kP);
  EXPECT_EQ(empty.P(), 0);
}

TEST(GramTest, ErrorsNameTheSource) {
  Rng rng(44);
  const Architecture arch = TwoLayers(rng);
  const Inputs X = RandomInputs(kP, kTokens, kN0, rng);
  InMemoryExamples no_labels(X, "unlabelled set");
  try {
    AccumulateGram(arch, no_labels, Split::kTrain);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("unlabelled set labels"), std::string::npos) << e.what();
  }
  const Eigen::MatrixXd Y = test_util::RandomLabels(kP - 1, 1, rng);
  EXPECT_THROW(InMemoryExamples(X, Y), Error);
  const Eigen::MatrixXd Y2 = test_util::RandomLabels(kP, 1, rng);
  InMemoryExamples source(X, Y2);
  ExampleBlock block;
  EXPECT_THROW(source.Read(5, kP + 1, &block), Error);
  EXPECT_THROW(source.Read(6, 5, &block), Error);
  // A visitor's exception reaches the caller after the reader thread is joined.
  StreamOptions o;
  o.block_examples = 4;
  EXPECT_THROW(StreamPathInputs(arch, source, Split::kTrain, o,
                                [](const PathInputBlock& b) {
                                  if (b.begin >= 8) throw Error("stop");
                                }),
               Error);
  o.block_examples = -1;
  EXPECT_THROW(AccumulateGram(arch, source, Split::kTrain, o), Error);
}

}  // namespace
}  // namespace attnpaths
