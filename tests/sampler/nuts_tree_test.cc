// The tree builder and the NUTS transition driven by mock potentials whose
// trajectories the test computes itself: step counts, end points, summed
// momenta, weights, acceptance, the no-U-turn depth, divergences and the
// multinomial choice of the proposal.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <vector>

#include "sampler/leapfrog.h"
#include "sampler/metric.h"
#include "sampler/nuts.h"
#include "sampler/random.h"

namespace attnpaths {
namespace {

// U(q) = ½ Σ_i k_i q_i² (a Gaussian target; harmonic oscillators).
class Quadratic : public Potential {
 public:
  explicit Quadratic(Eigen::VectorXd k) : k_(std::move(k)) {}
  Eigen::Index dimension() const override { return k_.size(); }
  double Evaluate(const Eigen::Ref<const Eigen::VectorXd>& q,
                  Eigen::VectorXd* gradient) const override {
    if (gradient) *gradient = k_.cwiseProduct(q);
    return 0.5 * (k_.array() * q.array().square()).sum();
  }

 private:
  Eigen::VectorXd k_;
};

// U = 0: free motion, never turns.
class Flat : public Potential {
 public:
  explicit Flat(Eigen::Index d) : d_(d) {}
  Eigen::Index dimension() const override { return d_; }
  double Evaluate(const Eigen::Ref<const Eigen::VectorXd>&, Eigen::VectorXd* g) const override {
    if (g) *g = Eigen::VectorXd::Zero(d_);
    return 0;
  }

 private:
  Eigen::Index d_;
};

// ½ q² plus a wall of height 1e5 beyond q = 0.5 (flat, so the gradient does
// not see it): crossing it is a divergence.
class Wall : public Potential {
 public:
  Eigen::Index dimension() const override { return 1; }
  double Evaluate(const Eigen::Ref<const Eigen::VectorXd>& q, Eigen::VectorXd* g) const override {
    if (g) *g = q;
    return 0.5 * q.squaredNorm() + (q[0] > 0.5 ? 1e5 : 0.0);
  }
};

struct Point {
  Eigen::VectorXd q, p;
  double H;
};

// The test's own leapfrog for U = ½ Σ k q² with metric M⁻¹ = m: n points
// after the start (which is not included).
std::vector<Point> Trajectory(const Eigen::VectorXd& k, const Eigen::VectorXd& m, Eigen::VectorXd q,
                              Eigen::VectorXd p, double eps, int n) {
  std::vector<Point> out;
  for (int i = 0; i < n; ++i) {
    for (Eigen::Index j = 0; j < q.size(); ++j) {
      const double half = p[j] - 0.5 * eps * k[j] * q[j];
      q[j] += eps * m[j] * half;
      p[j] = half - 0.5 * eps * k[j] * q[j];
    }
    const double H =
        0.5 * (k.array() * q.array().square()).sum() + 0.5 * (m.array() * p.array().square()).sum();
    out.push_back({q, p, H});
  }
  return out;
}

bool Criterion(const Eigen::VectorXd& m, const std::vector<Point>& pts, size_t lo, size_t hi) {
  // Span pts[lo..hi] inclusive.
  Eigen::VectorXd rho = Eigen::VectorXd::Zero(m.size());
  for (size_t i = lo; i <= hi; ++i) rho += pts[i].p;
  return m.cwiseProduct(pts[lo].p).dot(rho) > 0 && m.cwiseProduct(pts[hi].p).dot(rho) > 0;
}

// Every criterion of a perfect binary tree over pts[lo, hi): each subtree
// spans, and the two spans joining sibling subtrees.
bool TreeValid(const Eigen::VectorXd& m, const std::vector<Point>& pts, size_t lo, size_t hi) {
  if (hi - lo < 2) return true;
  const size_t mid = (lo + hi) / 2;
  return TreeValid(m, pts, lo, mid) && TreeValid(m, pts, mid, hi) &&
         Criterion(m, pts, lo, hi - 1) && Criterion(m, pts, lo, mid) &&
         Criterion(m, pts, mid - 1, hi - 1);
}

TEST(TreeBuilder, ExactArithmeticOfADepthThreeSubtree) {
  const Eigen::Vector2d k(1.0, 4.0), m(0.7, 1.3);
  const Eigen::Vector2d q0(0.3, -0.2), p0(1.1, 0.4);
  const double eps = 0.15;
  const Quadratic potential(k);
  DiagonalMetric metric(2);
  metric.set_inverse(m);
  PhasePoint edge{EvaluatePosition(potential, q0), p0};
  const double H0 = edge.Hamiltonian(metric);
  for (int direction : {1, -1}) {
    PhasePoint z = edge;
    const std::function<double()> uniform = [] { return 0.0; };  // always the newer half
    TreeBuilder builder(potential, metric, eps, H0, 1000, uniform);
    Subtree tree;
    const bool valid = builder.Build(3, direction, &z, &tree);
    const std::vector<Point> pts = Trajectory(k, m, q0, p0, direction * eps, 8);
    EXPECT_EQ(valid, TreeValid(m, pts, 0, 8));
    EXPECT_TRUE(valid);
    EXPECT_EQ(builder.leapfrog_steps(), 8);
    EXPECT_FALSE(builder.divergent());
    EXPECT_LE((z.x.q - pts[7].q).cwiseAbs().maxCoeff(), 1e-14);
    EXPECT_LE((z.p - pts[7].p).cwiseAbs().maxCoeff(), 1e-14);
    EXPECT_LE((tree.p_inner - pts[0].p).cwiseAbs().maxCoeff(), 1e-14);
    EXPECT_LE((tree.p_outer - pts[7].p).cwiseAbs().maxCoeff(), 1e-14);
    Eigen::VectorXd rho = Eigen::VectorXd::Zero(2);
    double weight = 0, accept = 0;
    for (const Point& pt : pts) {
      rho += pt.p;
      weight += std::exp(H0 - pt.H);
      accept += std::min(1.0, std::exp(H0 - pt.H));
    }
    EXPECT_LE((tree.rho - rho).cwiseAbs().maxCoeff(), 1e-13);
    EXPECT_NEAR(tree.log_weight, std::log(weight), 1e-13);
    EXPECT_NEAR(builder.sum_accept(), accept, 1e-13);
    // u = 0 takes the second half at every merge: the outermost point.
    EXPECT_LE((tree.proposal.q - pts[7].q).cwiseAbs().maxCoeff(), 1e-14);
    EXPECT_NEAR(tree.proposal.potential, 0.5 * (k.array() * pts[7].q.array().square()).sum(),
                1e-14);
    EXPECT_NEAR(tree.proposal_energy, pts[7].H, 1e-13);
  }
  // u → 1 keeps the first half at every merge: the innermost point.
  PhasePoint z = edge;
  const std::function<double()> one = [] { return 1.0 - 1e-12; };
  TreeBuilder builder(potential, metric, eps, H0, 1000, one);
  Subtree tree;
  ASSERT_TRUE(builder.Build(3, 1, &z, &tree));
  EXPECT_LE((tree.proposal.q - Trajectory(k, m, q0, p0, eps, 1)[0].q).cwiseAbs().maxCoeff(), 1e-14);
}

TEST(TreeBuilder, ValidityMatchesEveryCriterionOnManyCoordinates) {
  // 700 coordinates (several of DiagonalMetric::VelocityDots' blocks and a
  // tail), stiffnesses over two decades, steps from short to turning within
  // a few points: the builder's answer (its fused dot products, the single
  // test of two-point subtrees) against the test's own criteria at every
  // depth, with both answers occurring.
  const Eigen::Index d = 700;
  Eigen::VectorXd k(d), m(d), q0(d), p0(d);
  RandomEngine engine = ChainEngine(11, 0);
  for (Eigen::Index i = 0; i < d; ++i) {
    k[i] = std::pow(10.0, 2.0 * Uniform01(engine) - 1.0);
    m[i] = 0.5 + Uniform01(engine);
    q0[i] = StandardNormal(engine);
    p0[i] = StandardNormal(engine);
  }
  const Quadratic potential(k);
  DiagonalMetric metric(d);
  metric.set_inverse(m);
  int valid_count = 0, invalid_count = 0;
  for (double eps : {0.02, 0.1, 0.3, 0.6}) {
    for (int depth = 1; depth <= 5; ++depth) {
      for (int direction : {1, -1}) {
        PhasePoint z{EvaluatePosition(potential, q0), p0};
        const double H0 = z.Hamiltonian(metric);
        const std::function<double()> uniform = [] { return 0.5; };
        TreeBuilder builder(potential, metric, eps, H0, 1e300, uniform);
        Subtree tree;
        const bool valid = builder.Build(depth, direction, &z, &tree);
        const size_t n = size_t{1} << depth;
        const std::vector<Point> pts =
            Trajectory(k, m, q0, p0, direction * eps, static_cast<int>(n));
        EXPECT_EQ(valid, TreeValid(m, pts, 0, n)) << eps << " " << depth << " " << direction;
        (valid ? valid_count : invalid_count)++;
      }
    }
  }
  EXPECT_GT(valid_count, 5);
  EXPECT_GT(invalid_count, 5);
}

TEST(TreeBuilder, ProposalIsDrawnWithMultinomialWeights) {
  // Large steps so the weights exp(H0 − H) of the four points differ.
  const Eigen::Vector2d k(1.0, 9.0), m(1.0, 1.0), q0(0.8, 0.3), p0(0.2, 0.9);
  const double eps = 0.28;
  const Quadratic potential(k);
  const DiagonalMetric metric(2);
  const PhasePoint start{EvaluatePosition(potential, q0), p0};
  const double H0 = start.Hamiltonian(metric);
  const std::vector<Point> pts = Trajectory(k, m, q0, p0, eps, 4);
  ASSERT_TRUE(TreeValid(m, pts, 0, 4));
  std::vector<double> w;
  double total = 0;
  for (const Point& pt : pts) total += w.emplace_back(std::exp(H0 - pt.H));
  RandomEngine engine = ChainEngine(11, 0);
  const std::function<double()> uniform = [&] { return Uniform01(engine); };
  const int n = 40000;
  std::vector<int> counts(4, 0);
  for (int r = 0; r < n; ++r) {
    PhasePoint z = start;
    TreeBuilder builder(potential, metric, eps, H0, 1000, uniform);
    Subtree tree;
    ASSERT_TRUE(builder.Build(2, 1, &z, &tree));
    for (int i = 0; i < 4; ++i) {
      if ((tree.proposal.q - pts[static_cast<size_t>(i)].q).norm() < 1e-12)
        ++counts[static_cast<size_t>(i)];
    }
  }
  int seen = 0;
  for (int i = 0; i < 4; ++i) {
    const double p = w[static_cast<size_t>(i)] / total;
    const double freq = counts[static_cast<size_t>(i)] / double(n);
    EXPECT_NEAR(freq, p, 4 * std::sqrt(p * (1 - p) / n)) << "point " << i;
    seen += counts[static_cast<size_t>(i)];
  }
  EXPECT_EQ(seen, n);
  EXPECT_GT(*std::max_element(w.begin(), w.end()) / *std::min_element(w.begin(), w.end()), 1.05);
}

TEST(NutsStep, FreeMotionRunsToTheMaximumDepth) {
  const Flat potential(3);
  const DiagonalMetric metric(3);
  const Eigen::Vector3d q0(0.1, 0.2, 0.3), p0(1.0, -0.5, 0.25);
  NutsOptions options;
  options.max_depth = 6;
  RandomEngine engine = ChainEngine(3, 0);
  const std::function<double()> uniform = [&] { return Uniform01(engine); };
  Position next;
  const NutsTransition t = NutsStep(potential, metric, 0.1, options,
                                    EvaluatePosition(potential, q0), p0, uniform, &next);
  EXPECT_EQ(t.depth, 6);
  EXPECT_EQ(t.leapfrog_steps, 63);
  EXPECT_DOUBLE_EQ(t.accept_stat, 1.0);
  EXPECT_FALSE(t.divergent);
  // The draw lies on the line q0 + j ε p0 with |j| <= 63.
  const double j = (next.q[0] - q0[0]) / (0.1 * p0[0]);
  EXPECT_NEAR(j, std::round(j), 1e-9);
  EXPECT_LE(std::abs(j), 63);
  EXPECT_LE((next.q - (q0 + 0.1 * std::round(j) * p0)).cwiseAbs().maxCoeff(), 1e-12);
}

TEST(NutsStep, StopsAtTheFirstUTurnOfAHarmonicOscillator) {
  const Eigen::VectorXd k = Eigen::VectorXd::Constant(1, 1.0), m = Eigen::VectorXd::Ones(1);
  const Eigen::VectorXd q0 = Eigen::VectorXd::Zero(1), p0 = Eigen::VectorXd::Ones(1);
  const Quadratic potential(k);
  const DiagonalMetric metric(1);
  const double eps = 0.1;
  // The test's own prediction for an all-forward trajectory: the first depth
  // D whose 2^D points (start included) fail a criterion.
  std::vector<Point> pts{{q0, p0, 0.5}};
  for (const Point& pt : Trajectory(k, m, q0, p0, eps, 1023)) pts.push_back(pt);
  int expected = 0;
  for (int D = 1; D <= 10; ++D) {
    const size_t n = size_t{1} << D;
    // The newest subtree is valid on its own; the whole trajectory is not.
    ASSERT_TRUE(TreeValid(m, pts, n / 2, n));
    if (!TreeValid(m, pts, 0, n)) {
      expected = D;
      break;
    }
  }
  ASSERT_EQ(expected, 5);        // 31 steps of 0.1: past a quarter period
  for (double u : {0.9, 0.1}) {  // all forward, then all backward
    const std::function<double()> uniform = [u] { return u; };
    Position next;
    const NutsTransition t = NutsStep(potential, metric, eps, NutsOptions{},
                                      EvaluatePosition(potential, q0), p0, uniform, &next);
    EXPECT_EQ(t.depth, expected);
    EXPECT_EQ(t.leapfrog_steps, (1 << expected) - 1);
    EXPECT_FALSE(t.divergent);
    double accept = 0;
    for (int i = 1; i < (1 << expected); ++i)
      accept += std::min(1.0, std::exp(0.5 - pts[static_cast<size_t>(i)].H));
    EXPECT_NEAR(t.accept_stat, accept / ((1 << expected) - 1), 1e-13);
  }
}

TEST(NutsStep, ADivergenceEndsTheTransitionBeforeTheWall) {
  const Wall potential;
  const DiagonalMetric metric(1);
  const Eigen::VectorXd q0 = Eigen::VectorXd::Zero(1), p0 = Eigen::VectorXd::Ones(1);
  const double eps = 0.1;
  // The first leapfrog point beyond q = 0.5.
  const std::vector<Point> pts =
      Trajectory(Eigen::VectorXd::Ones(1), Eigen::VectorXd::Ones(1), q0, p0, eps, 20);
  int crossing = 0;
  while (pts[static_cast<size_t>(crossing)].q[0] <= 0.5) ++crossing;
  const std::function<double()> forward = [] { return 0.9; };
  Position next;
  const NutsTransition t = NutsStep(potential, metric, eps, NutsOptions{},
                                    EvaluatePosition(potential, q0), p0, forward, &next);
  EXPECT_TRUE(t.divergent);
  EXPECT_EQ(t.leapfrog_steps, crossing + 1);
  EXPECT_LE(next.q[0], 0.5);
  EXPECT_LT(t.depth, 10);
  // The divergent point contributes acceptance 0.
  double accept = 0;
  for (int i = 0; i < crossing; ++i)
    accept += std::min(1.0, std::exp(0.5 - pts[static_cast<size_t>(i)].H));
  EXPECT_NEAR(t.accept_stat, accept / (crossing + 1), 1e-12);
}

TEST(Leapfrog, IsReversible) {
  const Quadratic potential(Eigen::Vector3d(1.0, 2.0, 5.0));
  DiagonalMetric metric(3);
  metric.set_inverse(Eigen::Vector3d(0.5, 1.0, 2.0));
  PhasePoint z{EvaluatePosition(potential, Eigen::Vector3d(0.3, -1.0, 0.2)),
               Eigen::Vector3d(1.0, 0.1, -0.4)};
  const PhasePoint start = z;
  for (int i = 0; i < 10; ++i) Leapfrog(potential, metric, 0.07, &z);
  for (int i = 0; i < 10; ++i) Leapfrog(potential, metric, -0.07, &z);
  EXPECT_LE((z.x.q - start.x.q).cwiseAbs().maxCoeff(), 1e-14);
  EXPECT_LE((z.p - start.p).cwiseAbs().maxCoeff(), 1e-14);
}

}  // namespace
}  // namespace attnpaths
