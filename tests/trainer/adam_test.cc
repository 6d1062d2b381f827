// Adam (trainer/adam.h) against closed forms: the first step, and the
// minimiser A⁻¹ b of a convex quadratic.
#include "trainer/adam.h"

#include <gtest/gtest.h>

#include <Eigen/Cholesky>
#include <Eigen/Core>
#include <cmath>

#include "kernels/error.h"
#include "tests/support/random_inputs.h"

namespace attnpaths {
namespace {

TEST(AdamTest, FirstStepIsLearningRateTimesSignOfGradient) {
  // After one step m̂ = g and v̂ = g², so θ moves by −η g/(|g| + ε).
  AdamOptions o;
  Adam adam(3, o);
  Eigen::VectorXd theta(3), g(3);
  theta << 1.0, -2.0, 0.5;
  g << 4.0, -0.25, 0.0;
  const Eigen::VectorXd start = theta;
  adam.Step(0.1, g, &theta);
  EXPECT_NEAR(theta(0), start(0) - 0.1 * 4.0 / (4.0 + o.epsilon), 1e-15);
  EXPECT_NEAR(theta(1), start(1) + 0.1 * 0.25 / (0.25 + o.epsilon), 1e-15);
  EXPECT_EQ(theta(2), start(2));
  EXPECT_EQ(adam.steps(), 1);
  EXPECT_NEAR(adam.first_moment()(0), 0.1 * 4.0, 1e-15);
  EXPECT_NEAR(adam.second_moment()(0), 0.001 * 16.0, 1e-15);
}

TEST(AdamTest, ReachesTheMinimiserOfAConvexQuadratic) {
  // E(θ) = ½ θᵀAθ − bᵀθ, minimiser θ* = A⁻¹ b, gradient Aθ − b.
  test_util::Rng rng(7);
  const Eigen::Index n = 6;
  const Eigen::MatrixXd A = test_util::RandomSpd(n, rng, 1.0, 0.2);
  const Eigen::VectorXd b = test_util::RandomNormal(n, 1, rng);
  const Eigen::VectorXd minimiser = A.llt().solve(b);
  Adam adam(n, AdamOptions{});
  Eigen::VectorXd theta = Eigen::VectorXd::Zero(n);
  // Adam's steps have size ~η whatever the gradient, so a constant η leaves
  // θ hovering ~η from θ*; a geometric decay from 0.05 to 5e-7 ends there.
  const int steps = 20000;
  for (int t = 0; t < steps; ++t) {
    const double eta = 0.05 * std::pow(1e-5, static_cast<double>(t) / (steps - 1));
    adam.Step(eta, A * theta - b, &theta);
  }
  EXPECT_LE((theta - minimiser).cwiseAbs().maxCoeff(), 1e-5 * minimiser.cwiseAbs().maxCoeff());
}

TEST(AdamTest, RejectsInvalidOptionsAndSizes) {
  AdamOptions o;
  o.beta1 = 1.0;
  std::string error;
  EXPECT_FALSE(o.IsValid(&error));
  EXPECT_EQ(error, "training.beta1: found 1, expected a value in [0, 1)");
  EXPECT_THROW(Adam(3, o), Error);
  o = AdamOptions{};
  o.epsilon = 0;
  EXPECT_FALSE(o.IsValid(&error));
  EXPECT_EQ(error, "training.epsilon: found 0, expected a finite value > 0");
  Adam adam(2, AdamOptions{});
  Eigen::VectorXd theta = Eigen::VectorXd::Zero(2);
  EXPECT_THROW(adam.Step(0.1, Eigen::VectorXd::Zero(3), &theta), Error);
  EXPECT_THROW(adam.Step(-0.1, Eigen::VectorXd::Zero(2), &theta), Error);
}

}  // namespace
}  // namespace attnpaths
