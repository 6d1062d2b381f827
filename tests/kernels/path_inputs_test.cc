// The batched path inputs (kernels/path_inputs.h) against the token-by-token
// loops of tests/support/brute_force.h (theory.md §1, §2): every head kind (fixed included) and
// both scoring routes of QK heads, softmax and hardmax (with exact ties),
// causal masks that shrink the query ranges, every readout, one to three
// layers, chunk sizes and threads, blocks of a larger set (given heads read
// the right example) and the errors.
#include "kernels/path_inputs.h"

#include <gtest/gtest.h>

#include <Eigen/Core>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "kernels/architecture.h"
#include "kernels/error.h"
#include "tests/support/brute_force.h"
#include "tests/support/finite_difference.h"
#include "tests/support/random_inputs.h"

namespace attnpaths {
namespace {

using test_util::RandomGivenHead;
using test_util::RandomInputs;
using test_util::RandomQKHead;
using test_util::RandomWHead;
using test_util::RelativeError;
using test_util::Rng;
using test_util::SimpleHead;

constexpr Eigen::Index kN0 = 7, kTokens = 6, kP = 11;
const auto kSoft = Normalization::kSoftmax;
const auto kHard = Normalization::kHardmax;

// The brute-force ξ of every example as rows of Ξ (P × Htot·N0).
Eigen::MatrixXd BruteXi(const Architecture& arch, const Inputs& X, Split split) {
  const auto per_example = test_util::BrutePathInputs(arch, X, split);
  Eigen::MatrixXd xi(X.P(), arch.Htot() * X.N0());
  for (Eigen::Index mu = 0; mu < X.P(); ++mu) {
    const Eigen::MatrixXd& m = per_example[static_cast<size_t>(mu)];  // N0 × Htot
    xi.row(mu) = Eigen::Map<const Eigen::RowVectorXd>(m.data(), m.size());
  }
  return xi;
}

// QK heads of d = 1 are scored through K x and Q x, those of d = 3·N0 through
// W = Kᵀ Q / √d (the cheaper route in either case, whatever the query count).
struct Case {
  std::string name;
  std::vector<std::vector<HeadSpec>> layers;
};

std::vector<Case> Cases(Rng& rng) {
  const Eigen::Index big_d = 3 * kN0;
  std::vector<Case> cases;
  cases.push_back(
      {"one layer, every kind",
       {{RandomWHead(kN0, rng, kSoft, false, 1.2), RandomWHead(kN0, rng, kHard),
         RandomQKHead(kN0, 1, rng, kSoft, false, 1.5),
         RandomQKHead(kN0, big_d, rng, kSoft, true, 0.7), RandomQKHead(kN0, 1, rng, kHard, true),
         SimpleHead(HeadKind::kUniform), SimpleHead(HeadKind::kUniform, kSoft, true),
         SimpleHead(HeadKind::kBlank, kHard), SimpleHead(HeadKind::kBlank, kSoft, true),
         RandomGivenHead(kTokens, kP, 5, rng)}}});
  cases.push_back({"two layers, mixed",
                   {{RandomWHead(kN0, rng, kSoft, true, 1.5), RandomQKHead(kN0, 1, rng, kSoft),
                     SimpleHead(HeadKind::kBlank, kHard), RandomGivenHead(kTokens, kP, 5, rng)},
                    {SimpleHead(HeadKind::kUniform), RandomQKHead(kN0, big_d, rng, kHard, true),
                     RandomWHead(kN0, rng, kSoft, false, 2.0)}}});
  // Every head of layers 2 and 3 causal: layer 2 and 1 need only the queries
  // up to the one read above (one query under the first-token readout).
  cases.push_back(
      {"three layers, causal above",
       {{RandomWHead(kN0, rng, kSoft, false, 1.1), RandomQKHead(kN0, 1, rng, kHard),
         RandomGivenHead(kTokens, kP, 5, rng)},
        {RandomWHead(kN0, rng, kSoft, true), RandomQKHead(kN0, 2, rng, kSoft, true)},
        {RandomWHead(kN0, rng, kHard, true), SimpleHead(HeadKind::kUniform, kSoft, true),
         RandomQKHead(kN0, big_d, rng, kSoft, true, 1.3)}}});
  // A fixed head is used as it is (entries of any sign, every key), even
  // when flagged causal: the layer below must give every query.
  HeadSpec fixed = SimpleHead(HeadKind::kFixed, kSoft, true, "fixed");
  fixed.fixed = Eigen::MatrixXd::NullaryExpr(kTokens, kTokens, [&] { return rng.Normal(); });
  cases.push_back({"fixed head above a causal layer",
                   {{RandomWHead(kN0, rng, kSoft, true), RandomQKHead(kN0, 1, rng, kSoft, true)},
                    {fixed, RandomWHead(kN0, rng, kHard, true)}}});
  cases.push_back({"given head above a causal layer",
                   {{RandomWHead(kN0, rng, kSoft, true)},
                    {RandomGivenHead(kTokens, kP, 5, rng), RandomWHead(kN0, rng, kSoft, true)}}});
  return cases;
}

Architecture MakeArchitecture(const Case& c, Readout readout) {
  Architecture arch;
  arch.layers = c.layers;
  arch.readout = readout;
  arch.widths.assign(c.layers.size() + 1, 10.0);
  arch.variances.assign(c.layers.size() + 2, 1.0);
  arch.variances[0] = 1.7;  // σ_0² enters ξ_π as σ_0
  return arch;
}

// The options of one chunk size and thread count, and the trace naming them.
PathInputOptions Chunking(Eigen::Index chunk, int threads) {
  PathInputOptions o;
  o.chunk_examples = chunk;
  o.threads = threads;
  return o;
}
std::string ChunkingName(Eigen::Index chunk, int threads) {
  return "chunk " + std::to_string(chunk) + ", threads " + std::to_string(threads);
}

TEST(PathInputsTest, MatchTokenByTokenLoopsForEveryHeadKindReadoutAndChunking) {
  Rng rng(31);
  const Inputs X = RandomInputs(kP, kTokens, kN0, rng);
  const Inputs Xt = RandomInputs(5, kTokens, kN0, rng);
  for (const Case& c : Cases(rng)) {
    for (Readout readout : {Readout::kMean, Readout::kFirst, Readout::kLast}) {
      SCOPED_TRACE(c.name + ", readout " + ReadoutName(readout));
      const Architecture arch = MakeArchitecture(c, readout);
      const Eigen::MatrixXd ref = BruteXi(arch, X, Split::kTrain);
      const Eigen::MatrixXd ref_test = BruteXi(arch, Xt, Split::kTest);
      const PathInputCalculator calc(arch, kN0, kTokens);
      ASSERT_EQ(calc.M(), arch.Htot() * kN0);
      for (Eigen::Index chunk : {0, 1, 3, 64}) {
        for (int threads : {1, 2, 3}) {
          SCOPED_TRACE(ChunkingName(chunk, threads));
          const PathInputOptions o = Chunking(chunk, threads);
          Eigen::MatrixXd xi(kP, calc.M());
          calc.Compute(X, Split::kTrain, 0, xi, o);
          EXPECT_LE(RelativeError(xi, ref), 1e-13);
          Eigen::MatrixXd xi_t(calc.M(), kP);
          calc.ComputeTransposed(X, Split::kTrain, 0, xi_t, o);
          EXPECT_EQ(xi_t, xi.transpose());
          Eigen::MatrixXd xt(Xt.P(), calc.M());
          calc.Compute(Xt, Split::kTest, 0, xt, o);
          EXPECT_LE(RelativeError(xt, ref_test), 1e-13);
        }
      }
      // ComputePathInputs is the same computation.
      const PathInputs whole = ComputePathInputs(arch, X, Split::kTrain);
      EXPECT_LE(RelativeError(whole.xi, ref), 1e-13);
    }
  }
}

// A layer whose every token is a query scores each example through products
// of n rounded up to a multiple of 8 tokens (the rows and columns beyond n
// read the next example's tokens, or zeros after the chunk's last): n on,
// just below and just above that size, with W, factored W, QK and causal
// heads, softmax and hardmax, every chunking.
TEST(PathInputsTest, TokenCountsAroundThePaddedProductSize) {
  Rng rng(41);
  constexpr Eigen::Index N0 = 12, P = 7;
  for (Eigen::Index n : {1, 7, 8, 9, 16, 17}) {
    SCOPED_TRACE("n_tok " + std::to_string(n));
    HeadSpec low = RandomWHead(N0, rng, kSoft, false, 1.1, "low");
    low.W = test_util::RandomNormal(N0, 2, rng, 1.0) * test_util::RandomNormal(2, N0, rng, 0.3);
    Architecture arch;
    arch.layers = {{RandomWHead(N0, rng, kSoft, false, 1.3), RandomWHead(N0, rng, kHard),
                    RandomQKHead(N0, 1, rng, kSoft, true, 1.2), low},
                   {RandomWHead(N0, rng, kSoft, false, 0.8), SimpleHead(HeadKind::kUniform)}};
    arch.SetUniform(10);
    const Inputs X = RandomInputs(P, n, N0, rng);
    const Eigen::MatrixXd ref = BruteXi(arch, X, Split::kTrain);
    const PathInputCalculator calc(arch, N0, n);
    for (Eigen::Index chunk : {0, 1, 2, 5}) {
      for (int threads : {1, 2}) {
        SCOPED_TRACE(ChunkingName(chunk, threads));
        const PathInputOptions o = Chunking(chunk, threads);
        Eigen::MatrixXd xi(P, calc.M());
        calc.Compute(X, Split::kTrain, 0, xi, o);
        EXPECT_LE(RelativeError(xi, ref), 1e-13);
      }
    }
  }
}

// Inputs are checked chunk by chunk as they are computed; with NaN in several
// chunks and several threads the error still names the first bad value.
TEST(PathInputsTest, NonFiniteInputsAreNamedFirstInIndexOrderWhateverTheThreads) {
  Rng rng(43);
  Architecture arch;
  arch.layers = {{RandomWHead(kN0, rng), RandomQKHead(kN0, 1, rng)}};
  arch.SetUniform(10);
  const PathInputCalculator calc(arch, kN0, kTokens);
  Inputs X = RandomInputs(40, kTokens, kN0, rng);
  X.example(37)(1, 2) = std::numeric_limits<double>::infinity();
  X.example(9)(4, 0) = std::nan("");
  Eigen::MatrixXd xi(X.P(), calc.M());
  for (Eigen::Index chunk : {0, 1, 4}) {
    for (int threads : {1, 2, 3}) {
      SCOPED_TRACE(ChunkingName(chunk, threads));
      const PathInputOptions o = Chunking(chunk, threads);
      try {
        calc.Compute(X, Split::kTest, 100, xi, o);
        ADD_FAILURE() << "no error";
      } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("X_test[109,0,4]: found nan"), std::string::npos)
            << e.what();
      }
    }
  }
}

// Only the queries that reach the readout are scored (theory.md §1, §2).
TEST(PathInputsTest, QueryRangesFollowTheReadoutAndTheCausalMasks) {
  Rng rng(32);
  const std::vector<Case> cases = Cases(rng);
  using Range = std::pair<Eigen::Index, Eigen::Index>;
  const Eigen::Index n = kTokens;
  {
    const PathInputCalculator last(MakeArchitecture(cases[1], Readout::kLast), kN0, n);
    EXPECT_EQ(last.QueryRange(2), (Range{n - 1, 1}));
    EXPECT_EQ(last.QueryRange(1), (Range{0, n}));  // a non-causal head in layer 2
    const PathInputCalculator mean(MakeArchitecture(cases[1], Readout::kMean), kN0, n);
    EXPECT_EQ(mean.QueryRange(2), (Range{0, n}));
  }
  {
    const PathInputCalculator first(MakeArchitecture(cases[2], Readout::kFirst), kN0, n);
    EXPECT_EQ(first.QueryRange(3), (Range{0, 1}));
    EXPECT_EQ(first.QueryRange(2), (Range{0, 1}));  // causal layer 3 reads key 1 only
    EXPECT_EQ(first.QueryRange(1), (Range{0, 1}));
    const PathInputCalculator last(MakeArchitecture(cases[2], Readout::kLast), kN0, n);
    EXPECT_EQ(last.QueryRange(3), (Range{n - 1, 1}));
    EXPECT_EQ(last.QueryRange(2), (Range{0, n}));
    EXPECT_THROW(last.QueryRange(4), Error);
  }
  {  // a given head ignores the mask: every query below it is needed
    const PathInputCalculator first(MakeArchitecture(cases[3], Readout::kFirst), kN0, n);
    EXPECT_EQ(first.QueryRange(1), (Range{0, n}));
  }
  // Fewer queries, fewer operations: the last-token readout of one W-form
  // head costs 2(N0² + n N0) for the scores and 2 N0 n for ξ, per example.
  Architecture one;
  one.layers = {{RandomWHead(kN0, rng)}};
  one.SetUniform(10);
  one.readout = Readout::kLast;
  EXPECT_DOUBLE_EQ(PathInputCalculator(one, kN0, n).FlopsPerExample(),
                   2.0 * (kN0 * kN0 + n * kN0) + 2.0 * kN0 * n);
  one.readout = Readout::kMean;
  EXPECT_DOUBLE_EQ(PathInputCalculator(one, kN0, n).FlopsPerExample(),
                   2.0 * (kN0 * kN0 * n + n * kN0 * n) + 2.0 * kN0 * n);
}

// W-form softmax heads of low rank r are scored through r × N0 factors
// W = Kᵀ Q (LowRankFactors in kernels/path_inputs.cc) when that costs at
// most half the W route, 2·(r·N0·(n + q) + n·r·q) ≤ N0²·q + n·N0·q: the same ξ
// as the token-by-token loops, with fewer operations. A rank-2 matrix plus a 1e-6 perturbation
// (full rank), a hardmax head of rank 1 and a head of a rank whose factors
// would cost more keep the W route.
TEST(PathInputsTest, LowRankWHeadsAreScoredThroughTheirFactors) {
  Rng rng(35);
  constexpr Eigen::Index N0 = 24, n = 5, P = 9;
  const Inputs X = RandomInputs(P, n, N0, rng);
  const auto low_rank = [&](Eigen::Index r, Normalization nrm, double noise, const char* name) {
    HeadSpec h = RandomWHead(N0, rng, nrm, false, 1.3, name);
    h.W = test_util::RandomNormal(N0, r, rng, 1.0) * test_util::RandomNormal(r, N0, rng, 0.3) +
          test_util::RandomNormal(N0, N0, rng, noise);
    return h;
  };
  // Per example, n = 5 keys: the W route costs N0²·q + n·N0·q multiply–adds,
  // the factors r·N0·(n + q) + n·r·q; ξ = x w costs N0·n per path.
  const auto w_cost = [&](Eigen::Index q) { return 2.0 * (N0 * N0 * q + n * N0 * q); };
  const auto f_cost = [&](Eigen::Index r, Eigen::Index q) {
    return 2.0 * (r * N0 * (n + q) + n * r * q);
  };
  struct LowRankCase {
    const char* name;
    HeadSpec head;
    bool factored;
    Eigen::Index rank;
  };
  const std::vector<LowRankCase> cases = {
      {"rank 1", low_rank(1, kSoft, 0, "r1"), true, 1},
      {"rank 3", low_rank(3, kSoft, 0, "r3"), true, 3},
      {"zero", low_rank(1, kSoft, 0, "zero"), true, 1},
      {"rank 2 + 1e-6 noise", low_rank(2, kSoft, 1e-6, "noisy"), false, 0},
      {"rank 1 hardmax", low_rank(1, kHard, 0, "hard"), false, 0},
      {"rank 14", low_rank(14, kSoft, 0, "r14"), true, 14}};
  for (const LowRankCase& c : cases) {
    for (Readout readout : {Readout::kMean, Readout::kLast}) {
      SCOPED_TRACE(std::string(c.name) + ", readout " + ReadoutName(readout));
      HeadSpec head = c.head;
      if (std::string(c.name) == "zero") head.W.setZero();  // uniform attention
      Architecture arch;
      arch.layers = {{head, RandomWHead(N0, rng, kSoft, false, 0.8)}};
      arch.readout = readout;
      arch.SetUniform(10);
      const PathInputCalculator calc(arch, N0, n);
      const Eigen::MatrixXd ref = BruteXi(arch, X, Split::kTrain);
      Eigen::MatrixXd xi(P, calc.M());
      calc.Compute(X, Split::kTrain, 0, xi);
      EXPECT_LE(RelativeError(xi, ref), 1e-13);
      const Eigen::Index q = readout == Readout::kMean ? n : 1;
      // Factors cost at most half for rank ≤ 6 at q = n (2·6·265 ≤ 3480
      // multiply–adds) and rank ≤ 2 at q = 1 (2·2·149 ≤ 696): rank 14 never,
      // rank 3 only at q = n.
      const bool factored = c.factored && 2 * f_cost(c.rank, q) <= w_cost(q);
      EXPECT_EQ(factored, c.rank >= 1 && c.rank <= (q == n ? 6 : 2));
      const double head_cost = factored ? f_cost(c.rank, q) : w_cost(q);
      EXPECT_DOUBLE_EQ(calc.FlopsPerExample(), head_cost + w_cost(q) + 2.0 * N0 * n * 2);
    }
  }
}

// Integer tokens make every score exact, so ties are exact ties in any
// summation order and must go to the lowest key, as in the loops.
TEST(PathInputsTest, HardmaxTiesGoToTheLowestKeyInTheBatchedScores) {
  Rng rng(33);
  Inputs X(9, 5, 3);
  for (double& v : X.values()) v = std::round(rng.Uniform(-1.5, 1.5));  // -1, 0, 1 (many ties)
  HeadSpec w;
  w.kind = HeadKind::kWForm;
  w.W = Eigen::MatrixXd::Identity(3, 3);
  w.W(0, 1) = 1;
  w.normalization = kHard;
  HeadSpec qk;
  qk.kind = HeadKind::kQKForm;
  qk.Q = Eigen::MatrixXd::Ones(1, 3);
  qk.K = Eigen::MatrixXd::Ones(1, 3);
  qk.normalization = kHard;
  HeadSpec wc = w;
  wc.causal = true;
  for (Readout readout : {Readout::kMean, Readout::kFirst, Readout::kLast}) {
    Architecture arch;
    arch.layers = {{w, qk}, {wc, qk, w}};
    arch.readout = readout;
    arch.SetUniform(3);
    const Eigen::MatrixXd ref = BruteXi(arch, X, Split::kTrain);
    const PathInputs xi = ComputePathInputs(arch, X, Split::kTrain, 1);
    EXPECT_LE(RelativeError(xi.xi, ref), 1e-15) << ReadoutName(readout);
  }
}

// Blocks of a larger set: rows of examples [b, e) computed alone equal those
// rows of the whole, and given heads read their matrices b, b+1, ….
TEST(PathInputsTest, BlocksEqualTheRowsOfTheWholeSet) {
  Rng rng(34);
  const Inputs X = RandomInputs(kP, kTokens, kN0, rng);
  for (const Case& c : Cases(rng)) {
    SCOPED_TRACE(c.name);
    const Architecture arch = MakeArchitecture(c, Readout::kLast);
    const PathInputCalculator calc(arch, kN0, kTokens);
    const Eigen::MatrixXd ref = BruteXi(arch, X, Split::kTrain);
    for (Eigen::Index block : {Eigen::Index{1}, Eigen::Index{4}, kP}) {
      for (Eigen::Index b = 0; b < kP; b += block) {
        const Eigen::Index e = std::min(kP, b + block);
        std::vector<Eigen::Index> rows;
        for (Eigen::Index mu = b; mu < e; ++mu) rows.push_back(mu);
        const Inputs part = X.Select(rows);
        Eigen::MatrixXd xi(e - b, calc.M());
        calc.Compute(part, Split::kTrain, b, xi);
        EXPECT_LE(RelativeError(xi, ref.middleRows(b, e - b)), 1e-13) << "block " << b;
      }
    }
  }
}

TEST(PathInputsTest, EmptySetAndErrors) {
  Rng rng(35);
  Architecture arch;
  arch.layers = {{RandomWHead(kN0, rng), RandomGivenHead(kTokens, 4, 2, rng, "g")}};
  arch.SetUniform(10);
  const PathInputCalculator calc(arch, kN0, kTokens);
  // No examples: a 0 × M matrix.
  Architecture plain = arch;
  plain.layers[0].pop_back();
  EXPECT_EQ(ComputePathInputs(plain, Inputs(0, kTokens, kN0), Split::kTest).xi.rows(), 0);
  Inputs X = RandomInputs(3, kTokens, kN0, rng);
  Eigen::MatrixXd xi(3, calc.M());
  // The given head has 4 training matrices: examples 1..3 fit, 2..4 do not.
  EXPECT_NO_THROW(calc.Compute(X, Split::kTrain, 1, xi));
  try {
    calc.Compute(X, Split::kTrain, 2, xi);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("g.attention examples: found 4, expected at least 5"),
              std::string::npos)
        << e.what();
  }
  // The whole set needs exactly one matrix per example.
  EXPECT_THROW(ComputePathInputs(arch, X, Split::kTrain), Error);
  // NaN in a block is named by its index in the whole set.
  X.example(1)(2, 3) = std::nan("");
  try {
    calc.Compute(X, Split::kTrain, 1, xi);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("X[2,3,2]: found nan"), std::string::npos) << e.what();
  }
  // Shapes.
  Eigen::MatrixXd wrong(2, calc.M());
  EXPECT_THROW(calc.Compute(RandomInputs(3, kTokens, kN0, rng), Split::kTrain, 1, wrong), Error);
  EXPECT_THROW(calc.Compute(RandomInputs(3, kTokens + 1, kN0, rng), Split::kTrain, 1, xi), Error);
  PathInputOptions bad;
  bad.chunk_examples = -1;
  std::string why;
  EXPECT_FALSE(bad.IsValid(&why));
  EXPECT_NE(why.find("chunk_examples"), std::string::npos);
  EXPECT_THROW(PathInputCalculator(arch, kN0 + 1, kTokens), Error);  // W does not fit
}

}  // namespace
}  // namespace attnpaths
