// Head relevance scores (theory.md §6) against hand computations and a
// relabelling symmetry.
#include "solver/head_relevance.h"

#include <gtest/gtest.h>

#include <Eigen/QR>
#include <algorithm>
#include <numeric>
#include <random>

#include "kernels/error.h"

namespace attnpaths {
namespace {

// H = (2, 2): paths 0 = (h1, h2) = (0, 0), 1 = (0, 1), 2 = (1, 0), 3 = (1, 1).
Eigen::MatrixXd KnownU() {
  Eigen::MatrixXd U(4, 4);
  U << 4.0, 0.3, 0.0, -0.2, 0.3, 1.0, 0.1, 0.0, 0.0, 0.1, 0.5, 0.0, -0.2, 0.0, 0.0, 0.25;
  return U;
}

TEST(HeadRelevance, HandComputationOnKnownU) {
  // Σ|U| = 4 + 1 + 0.5 + 0.25 + 2 (0.3 + 0.2 + 0.1) = 6.95. An entry escapes
  // head h of layer ℓ only when neither of its paths passes through h, so
  //  layer 1 head 1 (paths 0, 1): 6.95 − |U| on paths {2,3}² = 6.95 − 0.75 = 6.2
  //  layer 1 head 2 (paths 2, 3): 6.95 − |U| on paths {0,1}² = 6.95 − 5.6  = 1.35
  //  layer 2 head 1 (paths 0, 2): 6.95 − |U| on paths {1,3}² = 6.95 − 1.25 = 5.7
  //  layer 2 head 2 (paths 1, 3): 6.95 − |U| on paths {0,2}² = 6.95 − 4.5  = 2.45
  // and the largest, 6.2, normalises.
  const HeadRelevance r = ScoreHeads(Paths({2, 2}), KnownU());
  ASSERT_EQ(r.raw.size(), 2u);
  EXPECT_NEAR(r.raw[0][0], 6.2, 1e-14);
  EXPECT_NEAR(r.raw[0][1], 1.35, 1e-14);
  EXPECT_NEAR(r.raw[1][0], 5.7, 1e-14);
  EXPECT_NEAR(r.raw[1][1], 2.45, 1e-14);
  EXPECT_DOUBLE_EQ(r.score[0][0], 1.0);
  EXPECT_NEAR(r.score[0][1], 1.35 / 6.2, 1e-15);
  EXPECT_NEAR(r.score[1][0], 5.7 / 6.2, 1e-15);
  EXPECT_NEAR(r.score[1][1], 2.45 / 6.2, 1e-15);

  const std::vector<HeadScore> ranking = r.Ranking();
  ASSERT_EQ(ranking.size(), 4u);
  EXPECT_EQ(ranking[0].id, (HeadId{1, 0}));
  EXPECT_EQ(ranking[1].id, (HeadId{2, 0}));
  EXPECT_EQ(ranking[2].id, (HeadId{2, 1}));
  EXPECT_EQ(ranking[3].id, (HeadId{1, 1}));
  EXPECT_EQ(ranking[0].name, "h1");
}

// Several outputs (theory.md §6, §9): U_1 is (Htot D) × (Htot D) and every
// entry [(π,d),(π',d')] counts for head h when π or π' passes through it, over
// all output pairs: the raw scores equal those of the Htot × Htot matrix of
// Σ_dd' |U_1[(π,d),(π',d')]|, and a brute-force loop over all entries.
TEST(HeadRelevance, SeveralOutputsSumEveryOutputPair) {
  std::mt19937_64 g(3);
  std::normal_distribution<double> normal;
  const Paths paths({2, 3});
  const Eigen::Index H = 6, D = 3;
  const Eigen::MatrixXd A = Eigen::MatrixXd::NullaryExpr(H * D, H * D, [&] { return normal(g); });
  const Eigen::MatrixXd U = A + A.transpose();
  Eigen::MatrixXd summed = Eigen::MatrixXd::Zero(H, H);
  for (Eigen::Index i = 0; i < H * D; ++i) {
    for (Eigen::Index j = 0; j < H * D; ++j) summed(i / D, j / D) += std::abs(U(i, j));
  }
  const HeadRelevance r = ScoreHeads(paths, U);
  const HeadRelevance s = ScoreHeads(paths, summed);
  for (int l = 0; l < 2; ++l) {
    for (size_t h = 0; h < r.raw[static_cast<size_t>(l)].size(); ++h) {
      // Brute force: every entry whose row or column path has head h in layer l.
      double raw = 0;
      for (Eigen::Index i = 0; i < H * D; ++i) {
        for (Eigen::Index j = 0; j < H * D; ++j) {
          const auto hi = paths.Heads(i / D), hj = paths.Heads(j / D);
          if (hi[static_cast<size_t>(l)] == static_cast<Eigen::Index>(h) ||
              hj[static_cast<size_t>(l)] == static_cast<Eigen::Index>(h)) {
            raw += std::abs(U(i, j));
          }
        }
      }
      EXPECT_NEAR(r.raw[static_cast<size_t>(l)][h], raw, 1e-12 * raw);
      EXPECT_NEAR(r.raw[static_cast<size_t>(l)][h], s.raw[static_cast<size_t>(l)][h], 1e-12 * raw);
    }
  }
  // The path-pair view lists every upper-triangle entry with its outputs.
  const std::vector<PathPair> pairs = PathPairView(paths, U, {});
  ASSERT_EQ(pairs.size(), static_cast<size_t>(H * D * (H * D + 1) / 2));
  for (const PathPair& p : pairs) {
    EXPECT_EQ(p.value, U(p.row * D + p.row_output, p.col * D + p.col_output));
  }
  EXPECT_THROW(ScoreHeads(paths, Eigen::MatrixXd::Identity(7, 7)), Error);  // not a multiple of 6
}

TEST(HeadRelevance, DiagonalEntryThroughTheHeadCountsOnce) {
  // One nonzero entry, on the diagonal: counted once for the heads its path
  // uses, not twice (row and column both pass through them).
  Eigen::MatrixXd U = Eigen::MatrixXd::Zero(4, 4);
  U(1, 1) = 2.0;  // path (0, 1)
  const HeadRelevance r = ScoreHeads(Paths({2, 2}), U);
  EXPECT_DOUBLE_EQ(r.raw[0][0], 2.0);
  EXPECT_DOUBLE_EQ(r.raw[0][1], 0.0);
  EXPECT_DOUBLE_EQ(r.raw[1][0], 0.0);
  EXPECT_DOUBLE_EQ(r.raw[1][1], 2.0);
  // An off-diagonal pair (0,0)–(1,1): both entries touch every head once.
  U.setZero();
  U(0, 3) = U(3, 0) = -1.5;
  const HeadRelevance c = ScoreHeads(Paths({2, 2}), U);
  for (int l = 0; l < 2; ++l) {
    for (int h = 0; h < 2; ++h) EXPECT_DOUBLE_EQ(c.raw[l][h], 3.0);
  }
}

TEST(HeadRelevance, ThreeLayersAgainstTensorUnfolding) {
  // H = (2, 3, 2): the score from an explicit loop over the unfolded tensor
  // U[h1 h2 h3 ; h1' h2' h3'] built from the packing rule π = (h1·3 + h2)·2 + h3.
  std::mt19937_64 g(11);
  std::normal_distribution<double> normal;
  const Eigen::MatrixXd A = Eigen::MatrixXd::NullaryExpr(12, 12, [&] { return normal(g); });
  const Eigen::MatrixXd U = A * A.transpose() / 12.0;
  const HeadRelevance r = ScoreHeads(Paths({2, 3, 2}), U);
  const int H[3] = {2, 3, 2};
  std::vector<std::vector<double>> expect = {{0, 0}, {0, 0, 0}, {0, 0}};
  for (int a1 = 0; a1 < 2; ++a1)
    for (int a2 = 0; a2 < 3; ++a2)
      for (int a3 = 0; a3 < 2; ++a3)
        for (int b1 = 0; b1 < 2; ++b1)
          for (int b2 = 0; b2 < 3; ++b2)
            for (int b3 = 0; b3 < 2; ++b3) {
              const double v = std::abs(U((a1 * 3 + a2) * 2 + a3, (b1 * 3 + b2) * 2 + b3));
              const int a[3] = {a1, a2, a3}, b[3] = {b1, b2, b3};
              for (int l = 0; l < 3; ++l)
                for (int h = 0; h < H[l]; ++h)
                  if (a[l] == h || b[l] == h) expect[l][h] += v;
            }
  double largest = 0;
  for (const auto& layer : expect)
    largest = std::max(largest, *std::max_element(layer.begin(), layer.end()));
  for (int l = 0; l < 3; ++l) {
    for (int h = 0; h < H[l]; ++h) {
      EXPECT_NEAR(r.raw[l][h], expect[l][h], 1e-12 * largest);
      EXPECT_NEAR(r.score[l][h], expect[l][h] / largest, 1e-13);
    }
  }
}

TEST(HeadRelevance, RelabellingHeadsPermutesScores) {
  // Permute the heads of every layer (σ_ℓ) and move U's entries along:
  // the score of head σ_ℓ(h) after equals the score of head h before.
  const std::vector<Eigen::Index> H = {3, 2, 4};
  const Paths paths(H);
  std::mt19937_64 g(5);
  std::normal_distribution<double> normal;
  const Eigen::Index n = paths.Htot();
  const Eigen::MatrixXd A = Eigen::MatrixXd::NullaryExpr(n, n, [&] { return normal(g); });
  const Eigen::MatrixXd U = A * A.transpose() / static_cast<double>(n);
  std::vector<std::vector<Eigen::Index>> sigma;
  for (Eigen::Index h : H) {
    std::vector<Eigen::Index> s(static_cast<size_t>(h));
    std::iota(s.begin(), s.end(), 0);
    std::shuffle(s.begin(), s.end(), g);
    if (s[0] == 0 && h > 1) std::swap(s[0], s[1]);  // never the identity in layer order 0
    sigma.push_back(s);
  }
  auto move = [&](Eigen::Index p) {
    auto heads = paths.Heads(p);
    for (size_t l = 0; l < heads.size(); ++l) heads[l] = sigma[l][static_cast<size_t>(heads[l])];
    return paths.Pack(heads);
  };
  Eigen::MatrixXd V(n, n);
  for (Eigen::Index p = 0; p < n; ++p) {
    for (Eigen::Index q = 0; q < n; ++q) V(move(p), move(q)) = U(p, q);
  }
  const HeadRelevance before = ScoreHeads(paths, U), after = ScoreHeads(paths, V);
  for (size_t l = 0; l < H.size(); ++l) {
    for (size_t h = 0; h < static_cast<size_t>(H[l]); ++h) {
      EXPECT_NEAR(after.score[l][static_cast<size_t>(sigma[l][h])], before.score[l][h], 1e-14);
    }
  }
}

TEST(HeadRelevance, GpLimitScoresCountThePathsThroughEachHead) {
  // U_GP ∝ I: a head's raw score is 0.7 × the number of paths through it.
  // H = (2, 3): 3 paths through each layer-1 head, 2 through each layer-2 head.
  const HeadRelevance r = ScoreHeads(Paths({2, 3}), 0.7 * Eigen::MatrixXd::Identity(6, 6));
  for (double s : r.score[0]) EXPECT_DOUBLE_EQ(s, 1.0);
  for (double s : r.score[1]) EXPECT_NEAR(s, 2.0 / 3.0, 1e-15);
  for (double v : r.raw[1]) EXPECT_NEAR(v, 1.4, 1e-15);
}

TEST(HeadRelevance, NamesFromArchitecture) {
  Architecture arch;
  HeadSpec a, b, c;
  a.name = "good";
  b.name = "blank";
  c.name = "uniform";
  arch.layers = {{a, b}, {c}};
  arch.widths = {10, 10, 10};
  arch.variances = {1, 1, 1, 1};
  Eigen::MatrixXd U(2, 2);
  U << 3, 0.5, 0.5, 1;
  const HeadRelevance r = ScoreHeads(arch, U);
  EXPECT_EQ(r.names[0][0], "good");
  EXPECT_EQ(r.names[1][0], "uniform");
  EXPECT_EQ(r.Ranking().front().name, "uniform");  // every path passes through it: score 1
  EXPECT_DOUBLE_EQ(r.score[1][0], 1.0);
  EXPECT_DOUBLE_EQ(r.score[0][0], 4.0 / 5.0);  // (3 + 0.5 + 0.5) / 5
  EXPECT_DOUBLE_EQ(r.score[0][1], 2.0 / 5.0);  // (1 + 0.5 + 0.5) / 5

  const std::vector<PathPair> pairs = PathPairView(arch, U);
  ASSERT_EQ(pairs.size(), 3u);
  EXPECT_EQ(pairs[0].row_label, "good>uniform");
  EXPECT_EQ(pairs[0].col_label, "good>uniform");
  EXPECT_DOUBLE_EQ(pairs[0].value, 3.0);
  EXPECT_DOUBLE_EQ(pairs[0].weight_share, 3.0 / 5.0);
  EXPECT_EQ(pairs[2].row_label, "good>uniform");
  EXPECT_EQ(pairs[2].col_label, "blank>uniform");
  EXPECT_DOUBLE_EQ(pairs[2].weight_share, 1.0 / 5.0);
  double total = 0;
  for (const auto& p : pairs) total += p.weight_share;
  EXPECT_NEAR(total, 1.0, 1e-15);
}

TEST(HeadRelevance, BadInputNamesTheField) {
  try {
    ScoreHeads(Paths({2, 2}), Eigen::MatrixXd::Identity(3, 3));
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("U_1 shape: found 3 x 3, expected 4 x 4"),
              std::string::npos)
        << e.what();
  }
  try {
    ScoreHeads(Paths({2, 2}), Eigen::MatrixXd::Zero(4, 4));
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("U_1: found all entries zero"), std::string::npos)
        << e.what();
  }
  Eigen::MatrixXd U = Eigen::MatrixXd::Identity(4, 4);
  U(0, 2) = std::numeric_limits<double>::quiet_NaN();
  EXPECT_THROW(ScoreHeads(Paths({2, 2}), U), Error);
}

}  // namespace
}  // namespace attnpaths
