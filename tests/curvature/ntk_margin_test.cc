// The NTK margin (curvature/hard_margin_svm.h, curvature/ntk_margin.h;
// docs/attention-hessian.md §7, spec §F.7): the dual optimum against
// closed forms (two vectors at angle θ: cos(θ/2); mutually orthogonal
// vectors: (Σ‖φ_μ‖⁻²)^{-1/2}) and against a brute-force search over
// directions in 2-D; the KKT conditions and the primal margin of
// w = Σ α_μ y_μ φ_μ recomputed from the features; non-separable sets give
// the not-separable status; the gradient features against central
// differences of f; the study reports the margin of every run.
#include "curvature/ntk_margin.h"

#include <gtest/gtest.h>

#include <Eigen/QR>
#include <cmath>
#include <numbers>
#include <string>

#include "curvature/hard_margin_svm.h"
#include "curvature/head_count_study.h"
#include "kernels/error.h"
#include "tests/support/random_inputs.h"

namespace attnpaths {
namespace {

using test_util::Rng;

// Checks the optimality conditions from the features themselves: α ≥ 0;
// y_μ w·φ_μ ≥ 1 (to tol), = 1 where α_μ > 0; and that the primal margin
// min_μ y_μ w·φ_μ / ‖w‖ equals 1/√Σα. Returns the primal margin.
double CheckOptimality(const Eigen::MatrixXd& phi, const Eigen::VectorXd& y,
                       const HardMarginSummary& s, double tol) {
  EXPECT_TRUE(s.converged()) << s.FullReport();
  EXPECT_GE(s.alpha.minCoeff(), 0.0);
  const Eigen::VectorXd w = phi.transpose() * (s.alpha.array() * y.array()).matrix();
  const Eigen::VectorXd functional = (y.array() * (phi * w).array()).matrix();
  for (Eigen::Index i = 0; i < y.size(); ++i) {
    EXPECT_GE(functional(i), 1 - tol) << "example " << i;
    if (s.alpha(i) > 0) {
      EXPECT_NEAR(functional(i), 1.0, tol) << "support vector " << i;
    }
  }
  const double primal = functional.minCoeff() / w.norm();
  EXPECT_NEAR(primal, 1 / std::sqrt(s.alpha.sum()), tol * primal);
  EXPECT_NEAR(s.margin, 1 / std::sqrt(s.alpha.sum()), 1e-14 * s.margin);
  EXPECT_LE(s.margin_lower, s.margin * (1 + tol));
  EXPECT_GE(s.margin_upper, s.margin * (1 - tol));
  return primal;
}

HardMarginSummary Solve(const Eigen::MatrixXd& phi, const Eigen::VectorXd& y,
                        int face_solve_every) {
  HardMarginOptions o;
  o.face_solve_every = face_solve_every;
  return SolveHardMarginDual(phi * phi.transpose(), y, o);
}

TEST(HardMarginSvm, TwoVectorsAtAnAngleHaveMarginCosHalfAngle) {
  // y = +1 at (1, 0), y = −1 at −(cos θ, sin θ), and a longer +1 point on the
  // bisector that is no support vector: margin cos(θ/2), direction the bisector.
  for (double theta : {0.3, 1.0, std::numbers::pi / 2, 2.5}) {
    Eigen::MatrixXd phi(3, 2);
    phi << 1, 0, -std::cos(theta), -std::sin(theta), 3 * std::cos(theta / 2),
        3 * std::sin(theta / 2);
    const Eigen::VectorXd y = (Eigen::VectorXd(3) << 1, -1, 1).finished();
    for (int face : {0, 10}) {
      const HardMarginSummary s = Solve(phi, y, face);
      CheckOptimality(phi, y, s, 1e-8);
      EXPECT_NEAR(s.margin, std::cos(theta / 2), 1e-9) << "theta " << theta << " face " << face;
      EXPECT_EQ(s.alpha(2), 0.0);
      EXPECT_EQ(s.support_vectors, 2);
      EXPECT_NEAR(s.normalized_margin, std::cos(theta / 2) / 3, 1e-9);
    }
  }
}

TEST(HardMarginSvm, OrthogonalFeaturesHaveTheClosedFormMargin) {
  // Spec §F.7: mutually orthogonal φ_μ (any labels) — every one is a support
  // vector and γ = (Σ_μ ‖φ_μ‖⁻²)^{-1/2}.
  Rng rng(3);
  const Eigen::Index P = 6, n = 9;
  Eigen::MatrixXd basis = test_util::RandomNormal(n, n, rng);
  const Eigen::MatrixXd Qr = Eigen::HouseholderQR<Eigen::MatrixXd>(basis).householderQ();
  Eigen::MatrixXd phi(P, n);
  Eigen::VectorXd y(P);
  double inverse_sum = 0;
  for (Eigen::Index mu = 0; mu < P; ++mu) {
    const double norm = 0.2 + 3 * rng.Uniform(0, 1);
    phi.row(mu) = norm * Qr.col(mu).transpose();
    y(mu) = mu % 3 == 0 ? -1 : 1;
    inverse_sum += 1 / (norm * norm);
  }
  for (int face : {0, 10}) {
    const HardMarginSummary s = Solve(phi, y, face);
    CheckOptimality(phi, y, s, 1e-8);
    EXPECT_NEAR(s.margin, 1 / std::sqrt(inverse_sum), 1e-10);
    EXPECT_EQ(s.support_vectors, P);
  }
}

// max over unit w of min_μ y_μ w·φ_μ in 2-D by a grid of directions and a
// golden-section refinement around the best (the objective is a minimum of
// cosines: unimodal near the maximiser).
double BruteForceMargin2D(const Eigen::MatrixXd& phi, const Eigen::VectorXd& y) {
  auto value = [&](double psi) {
    const Eigen::Vector2d w(std::cos(psi), std::sin(psi));
    return (y.array() * (phi * w).array()).minCoeff();
  };
  const int grid = 20000;
  double best = -1e300, best_psi = 0;
  for (int k = 0; k < grid; ++k) {
    const double psi = 2 * std::numbers::pi * k / grid;
    if (value(psi) > best) best = value(psi), best_psi = psi;
  }
  double a = best_psi - 2 * std::numbers::pi / grid, b = best_psi + 2 * std::numbers::pi / grid;
  const double r = (std::sqrt(5.0) - 1) / 2;
  for (int it = 0; it < 200; ++it) {
    const double c = b - r * (b - a), d = a + r * (b - a);
    if (value(c) > value(d))
      b = d;
    else
      a = c;
  }
  return value(0.5 * (a + b));
}

TEST(HardMarginSvm, RandomSeparableSetsMatchABruteForceSearch) {
  Rng rng(11);
  int separable = 0;
  for (int trial = 0; trial < 40; ++trial) {
    const Eigen::Index P = 3 + trial % 10;
    Eigen::MatrixXd phi = test_util::RandomNormal(P, 2, rng);
    // Labels from a random direction through the origin: separable.
    const Eigen::Vector2d u(rng.Normal(), rng.Normal());
    Eigen::VectorXd y(P);
    for (Eigen::Index i = 0; i < P; ++i) y(i) = phi.row(i).dot(u) > 0 ? 1 : -1;
    const double brute = BruteForceMargin2D(phi, y);
    ASSERT_GT(brute, 0);
    ++separable;
    for (int face : {0, 10}) {
      const HardMarginSummary s = Solve(phi, y, face);
      const double primal = CheckOptimality(phi, y, s, 1e-8);
      EXPECT_NEAR(s.margin, brute, 1e-9 * (1 + brute)) << "trial " << trial << " face " << face;
      EXPECT_NEAR(primal, brute, 1e-9 * (1 + brute));
    }
  }
  EXPECT_EQ(separable, 40);
}

TEST(HardMarginSvm, NonSeparableSetsAreReportedAsSuch) {
  const HardMarginOptions o;
  // Two opposite points with the same label: the hull holds the origin.
  {
    Eigen::MatrixXd phi(2, 2);
    phi << 1, 0.2, -1, -0.2;
    const Eigen::VectorXd y = Eigen::VectorXd::Ones(2);
    const HardMarginSummary s = SolveHardMarginDual(phi * phi.transpose(), y, o);
    EXPECT_EQ(s.status, HardMarginStatus::kNotSeparable) << s.FullReport();
    EXPECT_EQ(s.margin, 0.0);
    EXPECT_LT(s.margin_upper, o.resolution * s.max_feature_norm);
  }
  // Three directions around the origin, one label; and random labels on
  // random 2-D points whose brute-force margin is negative.
  {
    Eigen::MatrixXd phi(3, 2);
    phi << 1, 0, -0.5, 0.8, -0.5, -0.8;
    const HardMarginSummary s =
        SolveHardMarginDual(phi * phi.transpose(), Eigen::VectorXd::Ones(3), o);
    EXPECT_EQ(s.status, HardMarginStatus::kNotSeparable) << s.FullReport();
  }
  Rng rng(5);
  int tried = 0;
  for (int trial = 0; trial < 40 && tried < 10; ++trial) {
    const Eigen::MatrixXd phi = test_util::RandomNormal(12, 2, rng);
    Eigen::VectorXd y(12);
    for (Eigen::Index i = 0; i < 12; ++i) y(i) = rng.Normal() > 0 ? 1 : -1;
    if (BruteForceMargin2D(phi, y) >= -1e-3) continue;  // keep clearly non-separable sets
    ++tried;
    for (int face : {0, 10}) {
      HardMarginOptions of = o;
      of.face_solve_every = face;
      const HardMarginSummary s = SolveHardMarginDual(phi * phi.transpose(), y, of);
      EXPECT_EQ(s.status, HardMarginStatus::kNotSeparable) << "trial " << trial << s.FullReport();
    }
  }
  EXPECT_EQ(tried, 10);
  // A zero feature vector.
  {
    Eigen::MatrixXd phi(2, 2);
    phi << 1, 0, 0, 0;
    const HardMarginSummary s =
        SolveHardMarginDual(phi * phi.transpose(), Eigen::VectorXd::Ones(2), o);
    EXPECT_EQ(s.status, HardMarginStatus::kNotSeparable);
    EXPECT_NE(s.message.find("example 1 has a zero feature vector"), std::string::npos);
  }
}

TEST(HardMarginSvm, TheSweepCapIsAStatusNotACrash) {
  Rng rng(7);
  const Eigen::MatrixXd phi = test_util::RandomNormal(30, 40, rng);
  Eigen::VectorXd y(30);
  for (Eigen::Index i = 0; i < 30; ++i) y(i) = i % 2 ? 1 : -1;
  HardMarginOptions o;
  o.max_sweeps = 2;
  o.face_solve_every = 0;
  const HardMarginSummary s = SolveHardMarginDual(phi * phi.transpose(), y, o);
  EXPECT_EQ(s.status, HardMarginStatus::kIterationLimit) << s.FullReport();
  EXPECT_TRUE(std::isnan(s.margin));
  EXPECT_LE(s.margin_lower, s.margin_upper);
  // Without the cap: separable (30 generic points in 40 dimensions).
  o.max_sweeps = 20000;
  o.face_solve_every = 10;
  CheckOptimality(phi, y, SolveHardMarginDual(phi * phi.transpose(), y, o), 1e-8);
}

TEST(HardMarginSvm, RankDeficientFeaturesAreDecidedByTheActiveSetFinish) {
  // P = 60 feature vectors in a 6-dimensional subspace of R^30 (gradient
  // features of attention are rank-deficient like this): the supports of
  // coordinate ascent exceed the rank and their faces are singular.
  Rng rng(21);
  const Eigen::Index P = 60, n = 30, r = 6;
  const Eigen::MatrixXd basis = test_util::RandomNormal(r, n, rng);
  int separable = 0, not_separable = 0;
  for (int trial = 0; trial < 12; ++trial) {
    const Eigen::MatrixXd phi = test_util::RandomNormal(P, r, rng) * basis;
    Eigen::VectorXd y(P);
    const Eigen::VectorXd u = test_util::RandomNormal(n, 1, rng);
    for (Eigen::Index i = 0; i < P; ++i) {
      // Half the trials: labels of a direction (separable); half: random labels.
      y(i) = trial % 2 == 0 ? (phi.row(i).dot(u) > 0 ? 1 : -1) : (rng.Normal() > 0 ? 1 : -1);
    }
    const Eigen::MatrixXd K = phi * phi.transpose();
    HardMarginOptions with;  // active set after 50 sweeps
    with.face_solve_every = 0;
    const HardMarginSummary a = SolveHardMarginDual(K, y, with);
    HardMarginOptions without = with;  // pure coordinate ascent, many sweeps
    without.active_set_after = 0;
    without.max_sweeps = 200000;
    const HardMarginSummary b = SolveHardMarginDual(K, y, without);
    if (trial % 2 == 0) {
      ++separable;
      CheckOptimality(phi, y, a, 1e-8);
      EXPECT_EQ(a.active_set, 1);
      ASSERT_TRUE(b.converged()) << b.FullReport();
      EXPECT_NEAR(a.margin, b.margin, 1e-7 * b.margin) << "trial " << trial;
      EXPECT_LE(a.support_vectors, r);  // a linearly independent support
    } else {
      ++not_separable;
      EXPECT_EQ(a.status, HardMarginStatus::kNotSeparable) << a.FullReport();
      EXPECT_EQ(b.status, HardMarginStatus::kNotSeparable) << b.FullReport();
    }
  }
  EXPECT_EQ(separable + not_separable, 12);
}

TEST(HardMarginSvm, BadInputIsAnError) {
  HardMarginOptions o;
  std::string error;
  o.tolerance = 0;
  EXPECT_FALSE(o.IsValid(&error));
  EXPECT_NE(error.find("margin.tolerance: found 0, expected a value in (0, 1)"), std::string::npos)
      << error;
  o = {};
  o.max_sweeps = 0;
  EXPECT_FALSE(o.IsValid(&error));
  EXPECT_NE(error.find("margin.max_sweeps: found 0"), std::string::npos) << error;
  o = {};
  o.resolution = 2;
  EXPECT_FALSE(o.IsValid(&error));
  EXPECT_NE(error.find("margin.resolution: found 2"), std::string::npos) << error;
  const Eigen::MatrixXd K = Eigen::MatrixXd::Identity(2, 2);
  EXPECT_THROW(SolveHardMarginDual(K, Eigen::Vector2d(1, 0.5)), Error);
  EXPECT_THROW(SolveHardMarginDual(K, Eigen::Vector3d(1, 1, 1)), Error);
  EXPECT_THROW(SolveHardMarginDual(Eigen::MatrixXd::Identity(2, 3), Eigen::Vector2d(1, 1)), Error);
}

NetworkShape SmallShape(Eigen::Index heads) {
  NetworkShape s;
  s.N0 = 5;
  s.n_tok = 4;
  s.heads = {heads};
  s.widths = {3, 2};
  s.key_dim = 2;
  s.readout = Readout::kFirst;
  s.head_scaling = HeadScaling::kMean;
  return s;
}

TEST(NtkMargin, FeaturesAreCentralDifferencesOfTheOutput) {
  Rng rng(2);
  const Inputs x = test_util::RandomInputs(6, 4, 5, rng);
  TrainOptions t;
  t.attention_init_std = 0.7;  // far from uniform attention: every block of φ matters
  t.seed = 9;
  const Network net = InitialNetwork(SmallShape(2), t);
  const Eigen::MatrixXd phi = NtkFeatures(net, x, TrainedWeights::kAll);
  ASSERT_EQ(phi.rows(), 6);
  ASSERT_EQ(phi.cols(), net.num_parameters());
  Eigen::MatrixXd fd(6, net.num_parameters());
  const double h = 1e-5;
  for (Eigen::Index j = 0; j < net.num_parameters(); ++j) {
    Network plus = net, minus = net;
    plus.parameters()(j) += h;
    minus.parameters()(j) -= h;
    fd.col(j) = (Predict(plus, x) - Predict(minus, x)) / (2 * h);
  }
  const double scale = fd.cwiseAbs().maxCoeff();
  EXPECT_LE((phi - fd).cwiseAbs().maxCoeff(), 1e-8 * scale);
  // Q and K only: those columns, in layout order.
  const Eigen::MatrixXd qk = NtkFeatures(net, x, TrainedWeights::kAttention);
  const ParameterLayout& lay = net.layout();
  ASSERT_EQ(qk.cols(), 2 * 2 * (2 * 5));
  Eigen::Index c = 0;
  for (Eigen::Index h2 = 0; h2 < 2; ++h2) {
    for (ParameterLayout::Block b : {lay.Q(1, h2), lay.K(1, h2)}) {
      for (Eigen::Index i = 0; i < b.rows * b.cols; ++i, ++c) {
        EXPECT_LE((qk.col(c) - fd.col(b.offset + i)).cwiseAbs().maxCoeff(), 1e-8 * scale);
      }
    }
  }
}

TEST(NtkMargin, IsTakenAtTheTrainersInitialWeights) {
  // One GD step from InitialNetwork reproduces Train's first step: θ_1 = θ_0 − η ∇E(θ_0).
  Rng rng(4);
  const Inputs x = test_util::RandomInputs(8, 4, 5, rng);
  Eigen::VectorXd y(8);
  for (Eigen::Index i = 0; i < 8; ++i) y(i) = i % 2 ? 1 : -1;
  TrainOptions t = HeadCountStudyOptions::DefaultTraining();
  t.epochs = 1;
  t.learning_rate = 0.3;
  t.seed = 12;
  TrainSummary summary;
  const Network trained = Train(SmallShape(2), x, y, nullptr, nullptr, t, &summary);
  const Network start = InitialNetwork(SmallShape(2), t);
  std::vector<Eigen::Index> all(8);
  for (Eigen::Index i = 0; i < 8; ++i) all[static_cast<size_t>(i)] = i;
  Eigen::VectorXd gradient;
  LossAndGradient(start, x, y, all, 0.0, &gradient, {}, 1, LossKind::kLogistic);
  EXPECT_LE((trained.parameters() - (start.parameters() - 0.3 * gradient)).cwiseAbs().maxCoeff(),
            1e-13);
}

TEST(NtkMargin, TheNetworkMarginIsThePrimalMarginOfItsFeatures) {
  Rng rng(6);
  const Inputs x = test_util::RandomInputs(20, 4, 5, rng);
  Eigen::VectorXd y(20);
  for (Eigen::Index i = 0; i < 20; ++i) y(i) = rng.Normal() > 0 ? 1 : -1;
  TrainOptions t;
  t.seed = 3;
  for (TrainedWeights trained : {TrainedWeights::kAll, TrainedWeights::kAttention}) {
    t.trained = trained;
    const NtkMargin m = NtkMarginAtInitialization(SmallShape(2), x, y, t);
    const Eigen::MatrixXd phi = NtkFeatures(InitialNetwork(SmallShape(2), t), x, trained);
    EXPECT_EQ(m.features, phi.cols());
    EXPECT_NEAR(m.gram_trace, phi.squaredNorm(), 1e-12 * phi.squaredNorm());
    CheckOptimality(phi, y, m.svm, 1e-8);
  }
}

TEST(NtkMargin, TheHeadCountStudyReportsItPerRunAndGroup) {
  HeadCountStudyOptions o;
  o.data.examples = 16;
  o.data.tokens = 4;
  o.data.features = 7;
  o.data.irrelevant_means = 3;
  o.test_examples = 10;
  o.heads = {1, 2};
  o.modes = {WidthMode::kEqualTotal};
  o.total_key_dim = 4;
  o.total_width = 4;
  o.input_width = 5;
  o.training.epochs = 2;
  o.repeats = 3;
  const HeadCountStudy s = RunHeadCountStudy(o);
  ASSERT_EQ(s.groups.size(), 2u);
  for (const HeadCountGroup& g : s.groups) {
    double sum = 0;
    int n = 0;
    for (const HeadCountRun& r : s.runs) {
      if (r.heads != g.heads) continue;
      EXPECT_TRUE(r.ntk.svm.converged()) << r.ntk.svm.FullReport();
      EXPECT_EQ(r.ntk.features, r.num_parameters);
      sum += r.ntk.svm.margin;
      ++n;
    }
    EXPECT_EQ(g.ntk_separable, 3);
    EXPECT_EQ(g.ntk_decided, 3);
    EXPECT_NEAR(g.ntk_margin_mean, sum / n, 1e-15 * sum);
  }
  EXPECT_NE(s.BriefReport().find("NTK margin at init"), std::string::npos);
  o.ntk_margin = false;
  const HeadCountStudy off = RunHeadCountStudy(o);
  EXPECT_TRUE(std::isnan(off.groups[0].ntk_margin_mean));
  EXPECT_EQ(off.runs[0].ntk.svm.status, HardMarginStatus::kNotRun);
}

}  // namespace
}  // namespace attnpaths
