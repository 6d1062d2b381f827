// TAT (signal-propagation.md §II.1): the C-map composite hits η, unreachable
// targets are errors, the C-map is the Gaussian integral of φ_α (Monte Carlo
// with a tolerance from its standard error), and skip-at-init networks with
// TAT MLPs end at correlation η exactly.
#include "propagation/tat.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "kernels/error.h"
#include "propagation/kernel_recursion.h"
#include "propagation/random.h"

namespace attnpaths {
namespace {

TEST(TatAlpha, CompositeEqualsEta) {
  for (double eta : {0.1, 0.5, 0.9, 0.99}) {
    for (int n : {2, 8, 24, 96}) {
      if (TatCMapComposite(0, 0, n) < eta) continue;
      const double alpha = TatAlpha(eta, n);
      EXPECT_GE(alpha, 0);
      EXPECT_LE(alpha, 1);
      EXPECT_NEAR(TatCMapComposite(0.0, alpha, n), eta, 1e-12) << eta << " " << n;
    }
  }
}

TEST(TatAlpha, UnreachableTargetIsAnErrorNamingEtaAndActivations) {
  // Two ReLUs give C_0(C_0(0)) ≈ 0.47 < 0.9.
  try {
    TatAlpha(0.9, 2);
    FAIL() << "no error";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("tat_eta: found 0.9"), std::string::npos) << m;
    EXPECT_NE(m.find("n_act = 2"), std::string::npos) << m;
  }
  EXPECT_THROW(TatAlpha(0.0, 10), Error);
  EXPECT_THROW(TatAlpha(1.0, 10), Error);
  EXPECT_THROW(TatAlpha(0.5, 0), Error);
}

TEST(TatCMap, FixedPointsAndLinearLimit) {
  for (double a : {0.0, 0.3, 1.0}) EXPECT_NEAR(TatCMap(1.0, a), 1.0, 1e-15);
  for (double c : {-0.7, 0.0, 0.4}) EXPECT_NEAR(TatCMap(c, 1.0), c, 1e-15);  // α = 1: linear
  EXPECT_NEAR(TatCMap(0.0, 0.0), 1 / M_PI, 1e-15);                           // ReLU: C(0) = 1/π
}

TEST(TatCMap, IsTheGaussianIntegralOfTheActivation) {
  // One activation at large width: with (x, y) standard bivariate normal of
  // correlation c, E[φ(x)φ(y)] = C_α(c) and E[φ(x)²] = 1 (q is kept).
  PropagationRng rng = PropagationEngine(7, 0, 0);
  const int n = 200000;
  for (double alpha : {0.0, 0.4}) {
    for (double c : {-0.5, 0.0, 0.6}) {
      double sxy = 0, sxy2 = 0, sxx = 0, sxx2 = 0;
      for (int k = 0; k < n; ++k) {
        const double z1 = PropagationNormal(rng), z2 = PropagationNormal(rng);
        const double x = z1, y = c * z1 + std::sqrt(1 - c * c) * z2;
        const double p = TatActivation(x, alpha) * TatActivation(y, alpha);
        const double q = TatActivation(x, alpha) * TatActivation(x, alpha);
        sxy += p;
        sxy2 += p * p;
        sxx += q;
        sxx2 += q * q;
      }
      const double mxy = sxy / n, se_xy = std::sqrt((sxy2 / n - mxy * mxy) / n);
      const double mxx = sxx / n, se_xx = std::sqrt((sxx2 / n - mxx * mxx) / n);
      EXPECT_NEAR(mxy, TatCMap(c, alpha), 3.5 * se_xy) << alpha << " " << c;
      EXPECT_NEAR(mxx, 1.0, 3.5 * se_xx) << alpha;
      // Control: the linear map (α = 1) would be off by many standard errors.
      if (alpha == 0.0) {
        EXPECT_GT(std::abs(mxy - c), 5 * se_xy);
      }
    }
  }
}

TEST(TatNetworks, SkipAtInitWithTatMlpsEndsAtEta) {
  for (AttentionMethod method : {AttentionMethod::kValueSkipInit, AttentionMethod::kShaped}) {
    for (int act : {1, 2}) {
      KernelPropOptions o;
      o.tokens = 8;
      o.depth = 12;
      o.method = method;
      o.mlp = MlpKind::kTat;
      o.activations_per_block = act;
      o.tat_eta = 0.8;
      const KernelPropagation p = PropagateKernel(o);
      const Eigen::MatrixXd& S = p.kernels.back();
      for (Eigen::Index i = 0; i < 8; ++i) {
        EXPECT_NEAR(S(i, i), 1.0, 1e-15);
        for (Eigen::Index j = 0; j < i; ++j) EXPECT_NEAR(S(i, j), 0.8, 1e-12);
      }
      EXPECT_NEAR(p.summary.tat_alpha, TatAlpha(0.8, act * 12), 0.0);
    }
  }
}

}  // namespace
}  // namespace attnpaths
