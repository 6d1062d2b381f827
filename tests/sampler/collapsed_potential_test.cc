// The collapsed potential (sampler/collapsed_potential.h): the readout
// integrated out exactly. Checked against independent computations:
//  * the features Φ from the token-by-token network (sampler/tokenwise.h) at
//    unit readouts;
//  * the Gaussian identity U_full(v, ã) − U(v) = ½ Σ_d (ã_d − m_d)ᵀ A' (ã_d − m_d)
//    − (D/2) ln det A', A' = I + ΦᵀΦ/T (completing the square in ã), at
//    random ã, with U_full the full potential;
//  * central finite differences of the marginal potential, in both forms;
//  * the example (P × P) and feature (n × n) forms against each other;
//  * draws of ã | V and the conditional statistics against the closed form.
#include "sampler/collapsed_potential.h"

#include <gtest/gtest.h>

#include <Eigen/Cholesky>
#include <Eigen/LU>
#include <cmath>
#include <vector>

#include "kernels/error.h"
#include "kernels/path_inputs.h"
#include "sampler/potential.h"
#include "sampler/tokenwise.h"
#include "sampler/weight_layout.h"
#include "tests/support/brute_force.h"
#include "tests/support/finite_difference.h"
#include "tests/support/random_inputs.h"

namespace attnpaths {
namespace {

using test_util::Rng;

struct Case {
  const char* name;
  std::vector<Eigen::Index> heads;
  std::vector<double> widths;
  Eigen::Index P, D;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

Architecture MakeArchitecture(const Case& c, Eigen::Index N0, Rng& rng) {
  Architecture arch;
  int k = 0;
  for (Eigen::Index H : c.heads) {
    std::vector<HeadSpec> layer;
    for (Eigen::Index h = 0; h < H; ++h, ++k) {
      if (k % 3 == 0) {
        layer.push_back(test_util::RandomWHead(N0, rng, Normalization::kSoftmax, false, 2.0));
      } else if (k % 3 == 1) {
        layer.push_back(test_util::RandomQKHead(N0, 3, rng));
      } else {
        layer.push_back(test_util::SimpleHead(HeadKind::kUniform));
      }
    }
    arch.layers.push_back(layer);
  }
  arch.readout = Readout::kMean;
  arch.widths = c.widths;
  for (size_t i = 0; i < c.widths.size() + 1; ++i) arch.variances.push_back(rng.Uniform(0.5, 2.0));
  return arch;
}

struct Problem {
  Architecture arch;
  Inputs X, X_test;
  Eigen::MatrixXd Y;
  PathInputs train, test;
};

Problem MakeProblem(const Case& c, std::uint32_t seed) {
  Rng rng(seed);
  Problem p;
  const Eigen::Index n_tok = 4, N0 = 3;
  p.X = test_util::RandomInputs(c.P, n_tok, N0, rng);
  p.X_test = test_util::RandomInputs(5, n_tok, N0, rng);
  p.arch = MakeArchitecture(c, N0, rng);
  p.Y = test_util::RandomLabels(c.P, c.D, rng);
  p.train = ComputePathInputs(p.arch, p.X, Split::kTrain);
  p.test = ComputePathInputs(p.arch, p.X_test, Split::kTest);
  return p;
}

// Φ (P × n) from the token-by-token network: column j is f at ã = e_j.
Eigen::MatrixXd TokenwiseFeatures(const Architecture& arch, const Inputs& X,
                                  const Eigen::VectorXd& v, Split split) {
  const TokenwisePotential net(arch, X, Eigen::MatrixXd::Zero(X.P(), 1), 1.0, split);
  const WeightLayout& layout = net.layout();
  const Eigen::Index n = layout.readout_size();
  Eigen::VectorXd q = Eigen::VectorXd::Zero(layout.dimension());
  q.head(v.size()) = v;
  Eigen::MatrixXd Phi(X.P(), n);
  for (Eigen::Index j = 0; j < n; ++j) {
    q.tail(n).setZero();
    q[layout.readout_offset() + j] = 1;
    Phi.col(j) = net.Outputs(q);
  }
  return Phi;
}

class CollapsedVsFull : public ::testing::TestWithParam<Case> {};

TEST_P(CollapsedVsFull, MarginalGradientAndForms) {
  const Case c = GetParam();
  const Problem p = MakeProblem(c, 23);
  const double T = 0.3;
  Rng rng(5);
  const CollapsedPotential examples(p.arch, p.train, p.Y, T, CollapsedForm::kExamples);
  const CollapsedPotential features(p.arch, p.train, p.Y, T, CollapsedForm::kFeatures);
  const NetworkPotential full(p.arch, p.train, p.Y, T);
  const WeightLayout& layout = full.layout();
  ASSERT_EQ(examples.dimension(), layout.readout_offset());
  const Eigen::VectorXd v = test_util::RandomNormal(examples.dimension(), 1, rng);

  // Features against the token-by-token network.
  const Eigen::MatrixXd Phi = TokenwiseFeatures(p.arch, p.X, v, Split::kTrain);
  EXPECT_LE(test_util::RelativeError(examples.Features(v, p.train), Phi), 1e-12);
  EXPECT_LE(test_util::RelativeError(examples.Features(v, p.test),
                                     TokenwiseFeatures(p.arch, p.X_test, v, Split::kTest)),
            1e-12);

  // Completing the square in ã: the full potential minus the marginal one.
  const Eigen::Index n = Phi.cols();
  const Eigen::MatrixXd A = Eigen::MatrixXd::Identity(n, n) + Phi.transpose() * Phi / T;
  const Eigen::LLT<Eigen::MatrixXd> llt(A);
  const Eigen::MatrixXd m = llt.solve(Phi.transpose() * p.Y) / T;
  const double log_det = 2 * llt.matrixLLT().diagonal().array().log().sum();
  const double U_examples = examples.Evaluate(v, nullptr);
  for (int trial = 0; trial < 3; ++trial) {
    const Eigen::MatrixXd a = test_util::RandomNormal(n * c.D, 1, rng).reshaped(n, c.D);
    const double U_full = full.Evaluate(examples.FullCoordinates(v, a), nullptr);
    double quadratic = 0;
    for (Eigen::Index d = 0; d < c.D; ++d) {
      quadratic += 0.5 * (a.col(d) - m.col(d)).dot(A * (a.col(d) - m.col(d)));
    }
    const double expected = quadratic - 0.5 * static_cast<double>(c.D) * log_det;
    EXPECT_NEAR(U_full - U_examples, expected, 1e-10 * (std::abs(U_full) + 1)) << trial;
  }

  // The two forms agree to rounding; the gradient matches finite differences.
  Eigen::VectorXd g_examples, g_features;
  EXPECT_NEAR(examples.Evaluate(v, &g_examples), U_examples, 1e-14 * std::abs(U_examples));
  EXPECT_NEAR(features.Evaluate(v, &g_features), U_examples, 1e-11 * std::abs(U_examples));
  EXPECT_LE(test_util::RelativeError(g_features, g_examples), 1e-10);
  const Eigen::VectorXd g_fd = test_util::FiniteDifferenceGradient(
      [&](const Eigen::VectorXd& w) { return examples.Evaluate(w, nullptr); }, v);
  EXPECT_LE(test_util::RelativeError(g_examples, g_fd), 1e-7);
}

INSTANTIATE_TEST_SUITE_P(Architectures, CollapsedVsFull,
                         ::testing::Values(
                             // P < n, P > n, several outputs, one to three layers.
                             Case{"one_layer_wide", {2}, {4, 9}, 6, 1},
                             Case{"two_layers_narrow_readout", {2, 2}, {3, 4, 2}, 7, 1},
                             Case{"two_layers_three_outputs", {1, 3}, {4, 3, 5}, 5, 3},
                             Case{"three_layers_two_outputs", {2, 1, 2}, {3, 2, 3, 4}, 6, 2},
                             Case{"one_path", {1, 1}, {3, 3, 3}, 8, 1}),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           return std::string(info.param.name);
                         });

// ã | V: mean and covariance, draws, predictive variance and sandwich traces
// against the explicit Gaussian, in both forms.
class ReadoutPosteriorForms : public ::testing::TestWithParam<CollapsedForm> {};

TEST_P(ReadoutPosteriorForms, MatchTheExplicitGaussian) {
  Rng rng(9);
  const Eigen::Index P = 7, n = 5, D = 2;
  const double T = 0.2;
  const Eigen::MatrixXd Phi = test_util::RandomNormal(P * n, 1, rng).reshaped(P, n);
  const Eigen::MatrixXd Y = test_util::RandomNormal(P * D, 1, rng).reshaped(P, D);
  const ReadoutPosterior r(Phi, Y, T, GetParam());
  EXPECT_EQ(r.example_form(), GetParam() == CollapsedForm::kExamples);
  const Eigen::MatrixXd precision = Eigen::MatrixXd::Identity(n, n) + Phi.transpose() * Phi / T;
  const Eigen::MatrixXd Sigma = precision.inverse();
  const Eigen::MatrixXd m = Sigma * Phi.transpose() * Y / T;
  EXPECT_LE(test_util::RelativeError(r.mean(), m), 1e-12);
  EXPECT_LE(test_util::RelativeError(r.Covariance(), Sigma), 1e-12);

  const Eigen::MatrixXd Phi_star = test_util::RandomNormal(3 * n, 1, rng).reshaped(3, n);
  const Eigen::VectorXd var = (Phi_star * Sigma * Phi_star.transpose()).diagonal();
  EXPECT_LE(test_util::RelativeError(r.Variance(Phi_star), var), 1e-11);
  const Eigen::MatrixXd B = test_util::RandomNormal(4 * 3 * n, 1, rng).reshaped(4, 3 * n);
  const Eigen::MatrixXd traces = r.SandwichTraces(B);
  for (Eigen::Index i = 0; i < 3; ++i) {
    for (Eigen::Index j = 0; j < 3; ++j) {
      const double exact =
          (B.middleCols(i * n, n) * Sigma * B.middleCols(j * n, n).transpose()).trace();
      EXPECT_NEAR(traces(i, j), exact, 1e-11 * (1 + std::abs(exact)));
    }
  }

  // Draws: the sample mean and covariance of N = 20000 draws of ã_0 within
  // 5 standard errors (mean: √(Σ_ii/N); covariance: √((Σ_ii Σ_jj + Σ_ij²)/N)).
  RandomEngine engine = ChainEngine(3, 0);
  const int N = 20000;
  Eigen::VectorXd sum = Eigen::VectorXd::Zero(n);
  Eigen::MatrixXd sum2 = Eigen::MatrixXd::Zero(n, n);
  for (int k = 0; k < N; ++k) {
    const Eigen::MatrixXd a = r.Draw(engine);
    ASSERT_EQ(a.rows(), n);
    ASSERT_EQ(a.cols(), D);
    sum += a.col(0);
    const Eigen::VectorXd z = a.col(0) - m.col(0);
    sum2 += z * z.transpose();
  }
  for (Eigen::Index i = 0; i < n; ++i) {
    EXPECT_NEAR(sum[i] / N, m(i, 0), 5 * std::sqrt(Sigma(i, i) / N)) << i;
    for (Eigen::Index j = 0; j < n; ++j) {
      const double se = std::sqrt((Sigma(i, i) * Sigma(j, j) + Sigma(i, j) * Sigma(i, j)) / N);
      EXPECT_NEAR(sum2(i, j) / N, Sigma(i, j), 5 * se) << i << "," << j;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Forms, ReadoutPosteriorForms,
                         ::testing::Values(CollapsedForm::kExamples, CollapsedForm::kFeatures));

TEST(CollapsedPotential, ConditionalStatisticsAreTheExpectationsOverTheReadout) {
  // Given V: E[f(x*) | V] = Φ* m, Var = φ*ᵀ Σ φ*, and E[U^sampled | V] equals
  // the average of the full potential's U^sampled over exact draws of ã
  // (within Monte Carlo error), in both forms.
  const Case c{"", {2, 2}, {3, 4, 3}, 6, 2};
  const Problem p = MakeProblem(c, 41);
  const double T = 0.25;
  Rng rng(12);
  for (CollapsedForm form : {CollapsedForm::kExamples, CollapsedForm::kFeatures}) {
    const CollapsedPotential potential(p.arch, p.train, p.Y, T, form);
    const NetworkPotential full(p.arch, p.train, p.Y, T);
    const Eigen::VectorXd v = test_util::RandomNormal(potential.dimension(), 1, rng);
    RandomEngine engine = ChainEngine(8, 1);
    const ConditionalStatistics s = potential.Conditionals(v, p.test, engine);

    const Eigen::MatrixXd Phi = TokenwiseFeatures(p.arch, p.X, v, Split::kTrain);
    const Eigen::MatrixXd Phi_star = TokenwiseFeatures(p.arch, p.X_test, v, Split::kTest);
    const Eigen::Index n = Phi.cols();
    const Eigen::MatrixXd Sigma =
        (Eigen::MatrixXd::Identity(n, n) + Phi.transpose() * Phi / T).inverse();
    const Eigen::MatrixXd m = Sigma * Phi.transpose() * p.Y / T;
    EXPECT_LE(test_util::RelativeError(s.f_mean, Phi_star * m), 1e-11);
    EXPECT_LE(test_util::RelativeError(s.f_variance,
                                       (Phi_star * Sigma * Phi_star.transpose()).diagonal()),
              1e-11);
    EXPECT_LE(test_util::RelativeError(s.f_draw, Phi_star * s.a), 1e-11);
    EXPECT_LE(
        test_util::RelativeError(full.Outputs(potential.FullCoordinates(v, s.a), p.test), s.f_draw),
        1e-11);

    // Exactly: U^sampled is quadratic in ã, so E[U | V] = U(m) + the D = 1
    // order parameter summed over the columns c_k of a factor of Σ, on every
    // output-diagonal block (brute-force checked NetworkPotential::OrderParameter).
    const Eigen::Index K = s.U.rows(), Htot = p.arch.Htot();
    Eigen::MatrixXd exact = full.OrderParameter(potential.FullCoordinates(v, m));
    const Eigen::MatrixXd factor = Sigma.llt().matrixL();
    const NetworkPotential single(p.arch, p.train, p.Y.col(0), T);
    for (Eigen::Index k = 0; k < n; ++k) {
      Eigen::VectorXd q(single.dimension());
      q.head(potential.dimension()) = v;
      q.tail(n) = factor.col(k);
      const Eigen::MatrixXd part = single.OrderParameter(q);
      for (Eigen::Index a = 0; a < Htot; ++a) {
        for (Eigen::Index b = 0; b < Htot; ++b) {
          for (Eigen::Index d = 0; d < c.D; ++d) exact(a * c.D + d, b * c.D + d) += part(a, b);
        }
      }
    }
    EXPECT_LE(test_util::RelativeError(s.U, exact), 1e-11);

    const int N = 4000;
    Eigen::MatrixXd mean = Eigen::MatrixXd::Zero(K, K), mean2 = Eigen::MatrixXd::Zero(K, K);
    const ReadoutPosterior readout = potential.Readout(v);
    for (int k = 0; k < N; ++k) {
      const Eigen::MatrixXd U =
          full.OrderParameter(potential.FullCoordinates(v, readout.Draw(engine)));
      mean += U / N;
      mean2 += U.cwiseProduct(U) / N;
    }
    for (Eigen::Index i = 0; i < K; ++i) {
      for (Eigen::Index j = 0; j < K; ++j) {
        const double se = std::sqrt((mean2(i, j) - mean(i, j) * mean(i, j)) / N);
        EXPECT_NEAR(s.U(i, j), mean(i, j), 5 * se + 1e-12) << i << "," << j;
      }
    }
  }
}

TEST(CollapsedPotential, RejectsBadInput) {
  const Case c{"", {1}, {3, 3}, 4, 1};
  const Problem p = MakeProblem(c, 2);
  EXPECT_THROW(CollapsedPotential(p.arch, p.train, p.Y, 0.0), Error);
  EXPECT_THROW(CollapsedPotential(p.arch, p.train, p.Y.topRows(3), 0.1), Error);
  Architecture fractional = p.arch;
  fractional.widths[1] = 2.5;
  EXPECT_THROW(CollapsedPotential(fractional, p.train, p.Y, 0.1), Error);
  const CollapsedPotential potential(p.arch, p.train, p.Y, 0.1);
  Eigen::VectorXd v = Eigen::VectorXd::Zero(potential.dimension());
  v[0] = std::numeric_limits<double>::infinity();
  Eigen::VectorXd g;
  EXPECT_FALSE(std::isfinite(potential.Evaluate(v, &g)));
}

}  // namespace
}  // namespace attnpaths
