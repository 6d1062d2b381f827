// Sample() end to end. With only the readout sampled the posterior is
// Gaussian and the predictor and U^sampled have closed forms; with a huge
// temperature the posterior is the prior, whose U is σ_1²⋯σ_L²σ_a² I at any
// width. Tolerances are 4 Monte Carlo standard errors measured by Sample.
#include "sampler/sample.h"

#include <gtest/gtest.h>

#include <Eigen/Cholesky>
#include <cmath>

#include "kernels/error.h"
#include "kernels/path_inputs.h"
#include "sampler/tokenwise.h"
#include "tests/support/brute_force.h"
#include "tests/support/random_inputs.h"

namespace attnpaths {
namespace {

using test_util::Rng;

struct Problem {
  Architecture arch;
  Inputs x, x_test;
  Eigen::MatrixXd Y, Y_test;
  PathInputs train, test;
};

Problem MakeProblem(std::vector<double> widths, Eigen::Index P, Eigen::Index P_test,
                    std::uint32_t seed) {
  Rng rng(seed);
  Problem p;
  const Eigen::Index N0 = 5, n_tok = 4;
  p.arch.layers = {{test_util::RandomWHead(N0, rng, Normalization::kSoftmax, false, 2.0),
                    test_util::SimpleHead(HeadKind::kUniform)},
                   {test_util::RandomQKHead(N0, 3, rng)}};
  p.arch.readout = Readout::kMean;
  p.arch.widths = std::move(widths);
  p.arch.variances = {1.3, 0.8, 1.1, 0.9};
  p.x = test_util::RandomInputs(P, n_tok, N0, rng);
  p.x_test = test_util::RandomInputs(P_test, n_tok, N0, rng);
  p.Y = test_util::RandomLabels(P, 1, rng, true);
  p.Y_test = test_util::RandomLabels(P_test, 1, rng, true);
  p.train = ComputePathInputs(p.arch, p.x, Split::kTrain);
  p.test = ComputePathInputs(p.arch, p.x_test, Split::kTest);
  return p;
}

TEST(Sample, ReadoutOnlyPosteriorMatchesItsGaussianClosedForm) {
  const Problem p = MakeProblem({6, 5, 8}, 12, 6, 31);
  const double T = 0.2;
  Rng rng(4);
  const WeightLayout layout(p.arch, 5, 1);
  const NetworkWeights w = layout.ToWeights(test_util::RandomNormal(layout.dimension(), 1, rng));

  // Exact posterior of ã = a / σ_a: f(x) = φ(x)ᵀ ã with φ_j(x) the token-wise
  // output at ã = e_j; precision A = I + ΦᵀΦ/T, mean A⁻¹ Φᵀ y / T.
  const Eigen::Index n_a = 8;
  auto features = [&](const Inputs& x) {
    const TokenwisePotential net(p.arch, x, Eigen::MatrixXd::Zero(x.P(), 1), 1.0);
    Eigen::MatrixXd phi(x.P(), n_a);
    Eigen::VectorXd q = layout.FromWeights(w);
    for (Eigen::Index j = 0; j < n_a; ++j) {
      q.tail(n_a).setZero();
      q[layout.readout_offset() + j] = 1;
      phi.col(j) = net.Outputs(q);
    }
    return phi;
  };
  const Eigen::MatrixXd phi = features(p.x), phi_test = features(p.x_test);
  const Eigen::MatrixXd A = Eigen::MatrixXd::Identity(n_a, n_a) + phi.transpose() * phi / T;
  const Eigen::LLT<Eigen::MatrixXd> llt(A);
  const Eigen::MatrixXd cov = llt.solve(Eigen::MatrixXd::Identity(n_a, n_a));
  const Eigen::VectorXd mean = llt.solve(phi.transpose() * p.Y.col(0)) / T;
  const Eigen::VectorXd f_mean = phi_test * mean;
  const Eigen::VectorXd f_var = (phi_test * cov * phi_test.transpose()).diagonal();

  // U^sampled: e_π = σ_a V_{1,h_1}ᵀ/√n_2 V_{2,h_2}ᵀ/√n_3 ã = B_π ã, so
  // ⟨e_π · e_π'⟩ / n_1 = tr(B_πᵀ B_π' (cov + mean meanᵀ)) / n_1.
  const Eigen::Index Htot = p.arch.Htot();
  std::vector<Eigen::MatrixXd> B;
  for (Eigen::Index path = 0; path < Htot; ++path) {
    const auto heads = test_util::BrutePathHeads(p.arch, path);
    B.push_back(std::sqrt(p.arch.variances[3]) * w.V[0][heads[0]].transpose() / std::sqrt(5.0) *
                w.V[1][heads[1]].transpose() / std::sqrt(8.0));
  }
  const Eigen::MatrixXd second = cov + mean * mean.transpose();

  SampleOptions options;
  options.sampled_weights = SampledWeights::kReadout;
  options.fixed_weights = w;
  options.num_chains = 4;
  options.num_warmup = 300;
  options.num_samples = 1000;
  options.seed = 77;
  options.threads = 2;
  SampleSummary summary;
  const SampleResult r = Sample(p.arch, p.train, p.Y, T, p.test, options, &summary, &p.Y_test);
  ASSERT_TRUE(summary.completed()) << summary.FullReport();
  EXPECT_EQ(summary.dimension, n_a);
  EXPECT_EQ(summary.total_divergences, 0);
  EXPECT_LT(summary.max_rhat, 1.01) << summary.FullReport();
  EXPECT_GT(summary.min_ess_bulk, 400) << summary.FullReport();
  for (Eigen::Index mu = 0; mu < 6; ++mu) {
    EXPECT_NEAR(r.predictor.mean(mu, 0), f_mean[mu], 4 * r.predictor.mean_se(mu, 0)) << mu;
    EXPECT_NEAR(r.predictor.variance(mu, 0), f_var[mu], 4 * r.predictor.variance_se(mu, 0)) << mu;
    // The errors are small compared with the spread: the check has teeth.
    EXPECT_LT(r.predictor.mean_se(mu, 0), 0.1 * std::sqrt(f_var[mu]));
  }
  for (Eigen::Index a = 0; a < Htot; ++a) {
    for (Eigen::Index b = 0; b < Htot; ++b) {
      const double exact = (B[a].transpose() * B[b] * second).trace() / 6.0;
      EXPECT_NEAR(r.order_parameter.U(a, b), exact, 4 * r.order_parameter.U_se(a, b)) << a << b;
    }
  }
  // Accuracy and generalisation error follow from the sampled mean and variance.
  double right = 0, eps = 0;
  for (Eigen::Index mu = 0; mu < 6; ++mu) {
    right += r.predictor.mean(mu, 0) * p.Y_test(mu, 0) > 0;
    eps += std::pow(r.predictor.mean(mu, 0) - p.Y_test(mu, 0), 2) + r.predictor.variance(mu, 0);
  }
  EXPECT_DOUBLE_EQ(r.predictor.accuracy, right / 6);
  EXPECT_NEAR(r.predictor.generalization_error, eps / 6, 1e-12);
}

TEST(Sample, AtHugeTemperatureTheSampledOrderParameterIsThePriors) {
  // E_prior[e_π · e_π'] / n_1 = σ_1² σ_2² σ_a² δ_ππ' exactly, at any width.
  const Problem p = MakeProblem({4, 3, 5}, 5, 3, 8);
  SampleOptions options;
  options.num_chains = 2;
  options.num_warmup = 200;
  options.num_samples = 1000;
  options.threads = 2;
  options.seed = 3;
  SampleSummary summary;
  const SampleResult r = Sample(p.arch, p.train, p.Y, 1e8, p.test, options, &summary);
  ASSERT_TRUE(summary.completed());
  EXPECT_EQ(summary.dimension, 4 * 5 + 2 * 3 * 4 + 5 * 3 + 5);
  const double u_gp = 0.8 * 1.1 * 0.9;
  for (Eigen::Index a = 0; a < 2; ++a) {
    for (Eigen::Index b = 0; b < 2; ++b) {
      EXPECT_NEAR(r.order_parameter.U(a, b), a == b ? u_gp : 0.0, 4 * r.order_parameter.U_se(a, b));
    }
  }
  // The prior predictor has mean zero.
  for (Eigen::Index mu = 0; mu < 3; ++mu) {
    EXPECT_NEAR(r.predictor.mean(mu, 0), 0.0, 4 * r.predictor.mean_se(mu, 0));
  }
}

TEST(Sample, ReproducibleQuantitiesAndReports) {
  const Problem p = MakeProblem({3, 3, 3}, 6, 2, 9);
  SampleOptions options;
  options.num_chains = 2;
  options.num_warmup = 40;
  options.num_samples = 20;
  options.seed = 12;
  options.threads = 1;
  int calls = 0;
  options.progress = [&](const SampleProgress&) { ++calls; };
  SampleSummary s1, s2;
  const SampleResult a = Sample(p.arch, p.train, p.Y, 0.0, p.test, options, &s1);
  options.threads = 2;
  const SampleResult b = Sample(p.arch, p.train, p.Y, 0.0, p.test, options, &s2);
  EXPECT_EQ(calls, 2 * 2 * 60);
  ASSERT_EQ(a.draws.size(), 2u);
  for (size_t c = 0; c < 2; ++c) EXPECT_EQ(a.draws[c], b.draws[c]);
  // lp, f[0], f[1], U[0,0], U[0,1], U[1,1].
  EXPECT_EQ(a.quantity_names,
            (std::vector<std::string>{"lp", "f[0]", "f[1]", "U[0,0]", "U[0,1]", "U[1,1]"}));
  EXPECT_EQ(a.draws[0].cols(), 6);
  EXPECT_EQ(a.order_parameter_column, 3);
  EXPECT_DOUBLE_EQ(s1.temperature_used, 1e-3);  // T = 0 is floored at T_min
  EXPECT_EQ(a.last_weights.V0.rows(), 3);
  EXPECT_NE(s1.BriefReport().find("completed"), std::string::npos);
  EXPECT_NE(s1.FullReport().find("max R-hat"), std::string::npos);
  // 20 draws cannot reach ESS 100: the summary says so.
  bool ess_warning = false;
  for (const auto& w : s1.warnings) ess_warning |= w.find("ESS") != std::string::npos;
  EXPECT_TRUE(ess_warning) << s1.FullReport();
}

TEST(Sample, InvalidInputNamesTheField) {
  const Problem p = MakeProblem({3, 3, 3}, 6, 2, 10);
  SampleOptions options;
  std::string error;
  options.num_chains = 0;
  EXPECT_FALSE(options.IsValid(&error));
  EXPECT_NE(error.find("num_chains"), std::string::npos) << error;
  options = SampleOptions();
  options.temperature_floor = -1;
  EXPECT_FALSE(options.IsValid(&error));
  EXPECT_NE(error.find("temperature_floor"), std::string::npos) << error;
  options = SampleOptions();
  options.target_accept = 1.0;
  EXPECT_FALSE(options.IsValid(&error));
  EXPECT_NE(error.find("target_accept"), std::string::npos) << error;
  options = SampleOptions();
  options.max_tree_depth = 0;
  EXPECT_FALSE(options.IsValid(&error));
  EXPECT_NE(error.find("max_tree_depth"), std::string::npos) << error;
  options = SampleOptions();
  EXPECT_TRUE(options.IsValid(&error));

  SampleSummary summary;
  EXPECT_THROW(Sample(p.arch, p.train, p.Y.topRows(5), 0.1, p.test, options, &summary), Error);
  Eigen::MatrixXd wrong = Eigen::MatrixXd::Zero(3, 1);
  EXPECT_THROW(Sample(p.arch, p.train, p.Y, 0.1, p.test, options, &summary, &wrong), Error);
  Architecture fractional = p.arch;
  fractional.widths[0] = 2.5;
  try {
    Sample(fractional, p.train, p.Y, 0.1, p.test, options, &summary);
    FAIL() << "expected Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("architecture.widths[0]"), std::string::npos);
  }
  options.num_samples = 0;
  EXPECT_THROW(Sample(p.arch, p.train, p.Y, 0.1, p.test, options, &summary), Error);
}

}  // namespace
}  // namespace attnpaths
