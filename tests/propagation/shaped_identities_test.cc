// Identities of the shaped-attention SDE (signal-propagation.md §I.6 f, e):
// the matrix-form noise has covariance Σ(V) exactly, the drift's symmetries,
// the finite-width MLP drift identity, and the closed-form special cases
// (martingale without attention, geometric Brownian motion for one token).
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "kernels/error.h"
#include "propagation/quantiles.h"
#include "propagation/random.h"
#include "propagation/shaped_model.h"
#include "propagation/shaped_sde.h"

namespace attnpaths {
namespace {

Eigen::MatrixXd RandomSpd(Eigen::Index m, std::uint64_t seed) {
  PropagationRng rng = PropagationEngine(seed, 99, 0);
  Eigen::MatrixXd G(m, m);
  for (Eigen::Index k = 0; k < G.size(); ++k) G.data()[k] = PropagationNormal(rng);
  Eigen::MatrixXd V = G * G.transpose() / static_cast<double>(m);
  V.diagonal().array() += 0.3;
  return 0.5 * (V + V.transpose());
}

// Equal entry by entry, NaN equal to NaN (a correlation is NaN where a path
// left the cone with a negative diagonal).
bool SameBits(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b) {
  if (a.rows() != b.rows() || a.cols() != b.cols()) return false;
  for (Eigen::Index k = 0; k < a.size(); ++k) {
    const double x = a.data()[k], y = b.data()[k];
    if (!(x == y || (std::isnan(x) && std::isnan(y)))) return false;
  }
  return true;
}

std::vector<ShapedModel> Models() {
  std::vector<ShapedModel> models;
  ShapedModel a;  // attention only
  a.gamma = 0.6;
  a.tau0 = 0.7;
  models.push_back(a);
  ShapedModel b = a;  // with the shaped-ReLU MLP
  b.mlp = true;
  b.mlp_gamma = 0.45;
  b.c_plus = 0.3;
  b.c_minus = -1.2;
  models.push_back(b);
  ShapedModel c = a;  // no attention
  c.tau0 = std::numeric_limits<double>::infinity();
  models.push_back(c);
  ShapedModel d = b;  // γ = 1 (λ = 0)
  d.gamma = 1.0;
  models.push_back(d);
  return models;
}

TEST(ShapedNoise, CovarianceIsTheDiffusionExactly) {
  for (Eigen::Index m : {1, 2, 3, 5}) {
    const Eigen::MatrixXd V = RandomSpd(m, static_cast<std::uint64_t>(m));
    bool clipped = true;
    const Eigen::MatrixXd R = CovarianceRoot(V, &clipped);
    EXPECT_FALSE(clipped);
    for (const ShapedModel& model : Models()) {
      // noise is linear in (Z₁, Z₂): its covariance is Σ_k noise(e_k) noise(e_k)ᵀ over the
      // 2m² basis matrices.
      Eigen::MatrixXd C = Eigen::MatrixXd::Zero(m * m, m * m);
      for (Eigen::Index k = 0; k < 2 * m * m; ++k) {
        Eigen::MatrixXd Z1 = Eigen::MatrixXd::Zero(m, m), Z2 = Z1;
        (k < m * m ? Z1 : Z2).data()[k % (m * m)] = 1.0;
        const Eigen::MatrixXd e = ShapedNoise(model, V, R, Z1, Z2);
        const Eigen::Map<const Eigen::VectorXd> v(e.data(), m * m);
        C += v * v.transpose();
      }
      const Eigen::MatrixXd S = ShapedDiffusion(model, V);
      EXPECT_LE((C - S).cwiseAbs().maxCoeff(), 1e-13 * S.cwiseAbs().maxCoeff()) << m;
      // The root does not matter: the symmetric root gives the same covariance.
      EXPECT_LE((S - S.transpose()).cwiseAbs().maxCoeff(), 1e-14 * S.cwiseAbs().maxCoeff());
    }
  }
}

TEST(ShapedDrift, SymmetriesAndSpecialCases) {
  const Eigen::MatrixXd V = RandomSpd(4, 7);
  for (const ShapedModel& model : Models()) {
    const Eigen::MatrixXd b = ShapedDrift(model, V);
    EXPECT_LE((b - b.transpose()).cwiseAbs().maxCoeff(), 1e-15);
  }
  const Eigen::MatrixXd N = ShapedMlpDrift(0.3, -1.2, V);
  EXPECT_EQ(N.diagonal().cwiseAbs().maxCoeff(), 0.0);  // ν(1) = 0
  ShapedModel linear;
  linear.tau0 = std::numeric_limits<double>::infinity();
  EXPECT_EQ(ShapedDrift(linear, V).cwiseAbs().maxCoeff(), 0.0);
  // One token: P = 0, no attention drift whatever τ0.
  ShapedModel a;
  EXPECT_EQ(ShapedDrift(a, Eigen::MatrixXd::Constant(1, 1, 2.0)).cwiseAbs().maxCoeff(), 0.0);
  // A brute-force evaluation of the drift (I.6) term by term with index sums.
  const Eigen::Index m = 4;
  const double md = m;
  Eigen::MatrixXd P = Eigen::MatrixXd::Identity(m, m) - Eigen::MatrixXd::Constant(m, m, 1 / md);
  const Eigen::MatrixXd Vc = P * V * P;
  double trVcV = 0;
  for (Eigen::Index i = 0; i < m; ++i)
    for (Eigen::Index j = 0; j < m; ++j) trVcV += Vc(i, j) * V(j, i);
  Eigen::VectorXd u(m), w(m);
  for (Eigen::Index i = 0; i < m; ++i) u(i) = Vc(i, i) - Vc.trace() / md;
  for (Eigen::Index i = 0; i < m; ++i) {
    w(i) = 0;
    for (Eigen::Index j = 0; j < m; ++j) w(i) += V(i, j) * u(j);
  }
  const double g2t2 = a.gamma * a.gamma / (a.tau0 * a.tau0);
  Eigen::MatrixXd brute(m, m);
  for (Eigen::Index i = 0; i < m; ++i)
    for (Eigen::Index j = 0; j < m; ++j)
      brute(i, j) =
          g2t2 * (trVcV / (md * md) * V(i, j) + (V(i, i) * w(j) + w(i) * V(j, j)) / (2 * md));
  EXPECT_LE((ShapedDrift(a, V) - brute).cwiseAbs().maxCoeff(), 1e-14);
}

TEST(ShapedMlp, FiniteWidthDriftIsTheLimitTimesKappaSquared) {
  // E over W² is exact: n E[ΔV] = γ'² n (κ_n² E[φ_s(z) φ_s(z)ᵀ] − V), z ~ N(0, V). Check the
  // Gaussian integral E[φ_s(z_a) φ_s(z_b)] by Monte Carlo at n = 4, where s₋ = 1 − 1.2/2 = 0.4
  // is far from one: κ_n² E[φφᵀ] − V = κ_n² N(V)/n exactly (N of the limit, c± unscaled).
  const Eigen::MatrixXd V = RandomSpd(3, 11);
  const double n = 4, cp = 0.3, cm = -1.2;
  const double sp = 1 + cp / std::sqrt(n), sm = 1 + cm / std::sqrt(n);
  const double k2 = 2 / (sp * sp + sm * sm);
  bool clipped = false;
  const Eigen::MatrixXd R = CovarianceRoot(V, &clipped);
  PropagationRng rng = PropagationEngine(3, 0, 0);
  const int N = 400000;
  Eigen::MatrixXd sum = Eigen::MatrixXd::Zero(3, 3), sum2 = sum;
  for (int s = 0; s < N; ++s) {
    Eigen::Vector3d z(PropagationNormal(rng), PropagationNormal(rng), PropagationNormal(rng));
    Eigen::Vector3d h = R * z;
    for (int i = 0; i < 3; ++i) h(i) = ShapedRelu(h(i), sp, sm);
    const Eigen::Matrix3d hh = h * h.transpose();
    sum += hh;
    sum2 += hh.cwiseProduct(hh);
  }
  const Eigen::MatrixXd mean = sum / N;
  const Eigen::MatrixXd se = ((sum2 / N - mean.cwiseProduct(mean)) / N).cwiseSqrt();
  const Eigen::MatrixXd expected = V + k2 * ShapedMlpDrift(cp, cm, V) / n;
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) {
      EXPECT_NEAR(k2 * mean(i, j), expected(i, j), 3.5 * k2 * se(i, j)) << i << j;
    }
  }
  // Controls: the identity map (no shaping) and the limit drift without κ_n² are resolved.
  EXPECT_GT(std::abs(k2 * mean(0, 1) - V(0, 1)), 10 * k2 * se(0, 1));
  const Eigen::MatrixXd limit = V + ShapedMlpDrift(cp, cm, V) / n;
  EXPECT_GT(std::abs(k2 * mean(0, 2) - limit(0, 2)), 10 * k2 * se(0, 2));
}

TEST(ShapedEulerMaruyama, StepIsDriftPlusMatrixNoise) {
  for (Eigen::Index m : {1, 3, 6}) {
    const Eigen::MatrixXd V = RandomSpd(m, 20 + static_cast<std::uint64_t>(m));
    PropagationRng rng = PropagationEngine(5, 0, 0);
    Eigen::MatrixXd Z1(m, m), Z2(m, m);
    for (Eigen::Index k = 0; k < m * m; ++k) {
      Z1.data()[k] = PropagationNormal(rng);
      Z2.data()[k] = PropagationNormal(rng);
    }
    for (const ShapedModel& model : Models()) {
      const double dt = 0.01;
      ShapedEulerMaruyama em(model, m, dt);
      Eigen::MatrixXd W = V;
      bool clipped = true;
      ASSERT_TRUE(em.Step(W, Z1, Z2, 1e4, &clipped));
      EXPECT_FALSE(clipped);
      bool c2 = false;
      const Eigen::MatrixXd R = CovarianceRoot(V, &c2);
      Eigen::MatrixXd ref =
          V + ShapedDrift(model, V) * dt + std::sqrt(dt) * ShapedNoise(model, V, R, Z1, Z2);
      ref = 0.5 * (ref + ref.transpose());
      EXPECT_LE((W - ref).cwiseAbs().maxCoeff(), 1e-14) << m;
      // The cap: a step beyond it leaves V untouched and reports false.
      Eigen::MatrixXd U = V;
      EXPECT_FALSE(em.Step(U, Z1, Z2, 1e-3, &clipped));
      EXPECT_EQ(U, V);
    }
  }
}

TEST(ShapedSde, NoAttentionIsAMartingale) {
  // τ0 = ∞ without MLP: b = 0, and the Euler–Maruyama chain has mean V0 at every Δt.
  ShapedSdeOptions o;
  o.model.gamma = 0.5;
  o.model.tau0 = std::numeric_limits<double>::infinity();
  o.V0 = RandomSpd(3, 5);
  o.depth_to_width = 1.0;
  o.dt = 1.0 / 32;
  o.paths = 20000;
  o.seed = 4;
  const ShapedPaths p = IntegrateShapedSde(o);
  EXPECT_EQ(p.exploded_fraction(), 0.0);
  Eigen::MatrixXd mean = Eigen::MatrixXd::Zero(3, 3), m2 = mean;
  for (Eigen::Index k = 0; k < p.paths; ++k) {
    const Eigen::MatrixXd V = p.Final(k);
    mean += V;
    m2 += V.cwiseProduct(V);
  }
  mean /= p.paths;
  const Eigen::MatrixXd se = ((m2 / p.paths - mean.cwiseProduct(mean)) / p.paths).cwiseSqrt();
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) EXPECT_NEAR(mean(i, j), o.V0(i, j), 3.5 * se(i, j)) << i << j;
  // Control: with attention (τ0 = 0.5) the mean of the diagonal moves by many standard errors.
  o.model.tau0 = 0.5;
  o.paths = 4000;
  const ShapedPaths q = IntegrateShapedSde(o);
  double s = 0;
  for (Eigen::Index k = 0; k < q.paths; ++k) s += q.Final(k)(0, 0);
  EXPECT_GT(std::abs(s / q.paths - o.V0(0, 0)), 10 * se(0, 0));
}

TEST(ShapedSde, OneTokenIsGeometricBrownianMotion) {
  // m = 1: dV = √(2c) V dB, c = γ²(2 − γ²): log(V_t/V_0) ~ N(−c t, 2c t).
  ShapedSdeOptions o;
  o.model.gamma = 0.5;
  o.V0 = Eigen::MatrixXd::Constant(1, 1, 1.7);
  o.depth_to_width = 0.5;
  o.dt = 1.0 / 256;  // Euler–Maruyama bias of the mean ≈ −3c²Δt t = −1e-3, a sixth of its SE
  o.paths = 10000;
  o.seed = 9;
  const ShapedPaths p = IntegrateShapedSde(o);
  const double c = 0.25 * (2 - 0.25), t = 0.5;
  std::vector<double> z;
  double mean = 0;
  for (Eigen::Index k = 0; k < p.paths; ++k) {
    const double l = std::log(p.final_V(k, 0) / 1.7);
    mean += l;
    z.push_back((l + c * t) / std::sqrt(2 * c * t));
  }
  mean /= p.paths;
  EXPECT_NEAR(mean, -c * t, 3 * std::sqrt(2 * c * t / p.paths));
  // KS against N(0, 1): a large reference sample of the exact law.
  PropagationRng rng = PropagationEngine(1, 0, 0);
  std::vector<double> ref(20000);
  for (double& r : ref) r = PropagationNormal(rng);
  EXPECT_GT(KolmogorovSmirnov(z, ref).p_value, 1e-3);
}

TEST(ShapedSde, ReproducibleWhateverTheThreadsAndCapsExplodingPaths) {
  ShapedSdeOptions o;
  o.model.gamma = 0.9;
  o.model.tau0 = 0.2;  // strong attention: many paths explode
  o.V0 = RandomSpd(3, 2);
  o.depth_to_width = 1.0;
  o.dt = 1.0 / 64;
  o.paths = 300;
  o.cap = 50;
  o.threads = 1;
  const ShapedPaths a = IntegrateShapedSde(o);
  o.threads = 2;
  const ShapedPaths b = IntegrateShapedSde(o);
  EXPECT_TRUE(SameBits(a.final_V, b.final_V));
  EXPECT_TRUE(SameBits(a.tracked, b.tracked));
  EXPECT_GT(a.exploded_fraction(), 0.05);
  for (Eigen::Index k = 0; k < a.paths; ++k) {
    const Eigen::MatrixXd V = a.Final(k);
    EXPECT_TRUE(V.allFinite());
    EXPECT_LE(V.cwiseAbs().maxCoeff(), o.cap);  // frozen at the last value under the cap
    if (a.exploded[static_cast<size_t>(k)]) {
      EXPECT_LE(a.explosion_time[static_cast<size_t>(k)], 1.0);
    } else {
      EXPECT_TRUE(std::isinf(a.explosion_time[static_cast<size_t>(k)]));
    }
  }
}

TEST(ShapedSde, RejectsBadInput) {
  auto message = [](const ShapedSdeOptions& o) {
    std::string e;
    EXPECT_FALSE(o.IsValid(&e));
    EXPECT_THROW(IntegrateShapedSde(o), Error);
    return e;
  };
  ShapedSdeOptions o;
  o.V0 = Eigen::MatrixXd::Identity(2, 2);
  o.model.gamma = 1.5;
  EXPECT_NE(message(o).find("gamma: found 1.5"), std::string::npos);
  o.model.gamma = 0;
  EXPECT_NE(message(o).find("gamma: found 0"), std::string::npos);
  o.model.gamma = 0.4;
  o.model.tau0 = -1;
  EXPECT_NE(message(o).find("tau0: found -1"), std::string::npos);
  o.model.tau0 = 0.6;
  o.V0 << 1, 2, 2, 1;
  EXPECT_NE(message(o).find("V0: found smallest eigenvalue -1"), std::string::npos);
  o.V0 << 1, 0, 0.1, 1;
  EXPECT_NE(message(o).find("symmetric"), std::string::npos);
  o.V0 = Eigen::MatrixXd::Identity(2, 2);
  o.depth_to_width = 0;
  EXPECT_NE(message(o).find("depth_to_width: found 0"), std::string::npos);
  o.depth_to_width = 1;
  o.dt = 2;
  EXPECT_NE(message(o).find("dt: found 2"), std::string::npos);
  o.dt = 0.01;
  o.paths = 0;
  EXPECT_NE(message(o).find("paths: found 0"), std::string::npos);
  o.paths = 10;
  o.entries = {{0, 2}};
  EXPECT_NE(message(o).find("entries[0]: found [0, 2]"), std::string::npos);
  o.entries.clear();
  o.model.mlp = true;
  o.model.mlp_gamma = 2;
  EXPECT_NE(message(o).find("mlp.gamma: found 2"), std::string::npos);
}

}  // namespace
}  // namespace attnpaths
