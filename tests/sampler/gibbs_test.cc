// Blocked Gibbs (sampler/gibbs.h, linear_gaussian.h, gibbs_chains.h). Each
// block's draws against its Gaussian conditional computed densely (J from
// the network's outputs at unit vectors of the block, since f is linear in
// the block), and whole runs of Sample() against the collapsed NUTS sampler
// on the same posterior, within the two runs' combined Monte-Carlo errors.
#include "sampler/gibbs.h"

#include <gtest/gtest.h>

#include <Eigen/Cholesky>
#include <Eigen/LU>
#include <cmath>
#include <cstdio>

#include "kernels/error.h"
#include "kernels/path_inputs.h"
#include "sampler/linear_gaussian.h"
#include "sampler/potential.h"
#include "sampler/sample.h"
#include "tests/support/random_inputs.h"

namespace attnpaths {
namespace {

using test_util::Rng;

struct Problem {
  Architecture arch;
  Eigen::MatrixXd Y, Y_test;
  PathInputs train, test;
};

// Two layers of two heads each (four paths; layer 1 has two nodes above it).
Problem MakeProblem(std::vector<double> widths, Eigen::Index P, Eigen::Index D,
                    std::uint32_t seed) {
  Rng rng(seed);
  Problem p;
  const Eigen::Index N0 = 5, n_tok = 4;
  p.arch.layers = {{test_util::RandomWHead(N0, rng, Normalization::kSoftmax, false, 2.0),
                    test_util::SimpleHead(HeadKind::kUniform)},
                   {test_util::RandomQKHead(N0, 3, rng),
                    test_util::RandomWHead(N0, rng, Normalization::kSoftmax, false, 1.0)}};
  p.arch.readout = Readout::kMean;
  p.arch.widths = std::move(widths);
  p.arch.variances = {1.3, 0.8, 1.1, 0.9};
  const Inputs x = test_util::RandomInputs(P, n_tok, N0, rng);
  const Inputs x_test = test_util::RandomInputs(6, n_tok, N0, rng);
  p.Y = test_util::RandomLabels(P, D, rng, true);
  p.Y_test = test_util::RandomLabels(6, D, rng, true);
  p.train = ComputePathInputs(p.arch, x, Split::kTrain);
  p.test = ComputePathInputs(p.arch, x_test, Split::kTest);
  return p;
}

TEST(LinearGaussian, DrawsMatchTheClosedFormInBothForms) {
  Rng rng(5);
  const Eigen::Index n = 4, d = 3;
  const Eigen::MatrixXd J = test_util::RandomNormal(n, d, rng);
  const Eigen::VectorXd y = test_util::RandomNormal(n, 1, rng);
  const double T = 0.3;
  Eigen::MatrixXd A = J.transpose() * J / T;
  A.diagonal().array() += 1;
  const Eigen::MatrixXd cov = A.inverse();
  const Eigen::VectorXd mean = cov * J.transpose() * y / T;
  LinearGaussianModel model;
  model.apply = [&](const Eigen::Ref<const Eigen::VectorXd>& u) { return Eigen::VectorXd(J * u); };
  model.add_transpose = [&](const Eigen::VectorXd& w, Eigen::Ref<Eigen::VectorXd> out) {
    out += J.transpose() * w;
  };
  model.gram = J * J.transpose();
  RandomEngine engine = ChainEngine(9, 0);
  const int K = 40000;
  for (int form = 0; form < 2; ++form) {
    Eigen::VectorXd sum = Eigen::VectorXd::Zero(d);
    Eigen::MatrixXd sum2 = Eigen::MatrixXd::Zero(d, d);
    for (int k = 0; k < K; ++k) {
      Eigen::VectorXd t(d);
      if (form == 0) {
        DrawLinearGaussian(model, y, T, engine, t);
      } else {
        t = DrawGaussianByPrecision(J.transpose() * J, J.transpose() * y, T, engine);
      }
      sum += t;
      sum2 += t * t.transpose();
    }
    const Eigen::VectorXd m = sum / K;
    const Eigen::MatrixXd c = sum2 / K - m * m.transpose();
    for (Eigen::Index i = 0; i < d; ++i) {
      EXPECT_NEAR(m[i], mean[i], 4.5 * std::sqrt(cov(i, i) / K)) << form << " " << i;
      for (Eigen::Index j = 0; j < d; ++j) {
        const double se = std::sqrt((cov(i, i) * cov(j, j) + cov(i, j) * cov(i, j)) / K);
        EXPECT_NEAR(c(i, j), cov(i, j), 4.5 * se) << form << " " << i << "," << j;
      }
    }
  }
}

// For every block b: J (P D × dim b) from the outputs at the block's unit
// vectors (the rest of q fixed), the conditional N(m, Σ) in closed form, and
// 20 000 draws of DrawBlock: every mean within 4.5 s.e. and every covariance
// entry within 4.5 s.e. of a sample covariance. Also checks that f is linear
// (not affine) in the block: zero outputs at a zero block.
void CheckBlockConditionals(Eigen::Index D, Eigen::Index max_stored_gram_rows) {
  // D = 2: a readout wider than the data (n_3 = 6 > P = 5) takes the P × P form.
  const Problem p =
      MakeProblem({3, 2, D == 1 ? 3.0 : 6.0}, 5, D, 17 + static_cast<std::uint32_t>(D));
  const double T = 0.02;
  const GibbsSampler gibbs(p.arch, p.train, p.Y, T, max_stored_gram_rows);
  const NetworkPotential network(p.arch, p.train, p.Y, T);
  Rng rng(3);
  const Eigen::VectorXd q0 = test_util::RandomNormal(gibbs.dimension(), 1, rng);
  const Eigen::VectorXd y = p.Y.reshaped();
  for (int b = 0; b < gibbs.num_blocks(); ++b) {
    const Eigen::Index offset = gibbs.BlockOffset(b), d = gibbs.BlockSize(b);
    Eigen::VectorXd q = q0;
    q.segment(offset, d).setZero();
    EXPECT_LT(network.Outputs(q, p.train).cwiseAbs().maxCoeff(), 1e-14) << "block " << b;
    Eigen::MatrixXd J(y.size(), d);
    for (Eigen::Index i = 0; i < d; ++i) {
      q.segment(offset, d).setZero();
      q[offset + i] = 1;
      J.col(i) = network.Outputs(q, p.train).reshaped();
    }
    Eigen::MatrixXd A = J.transpose() * J / T;
    A.diagonal().array() += 1;
    const Eigen::MatrixXd cov = A.inverse();
    const Eigen::VectorXd mean = cov * J.transpose() * y / T;

    RandomEngine engine = ChainEngine(21, b);
    const int K = 20000;
    Eigen::VectorXd sum = Eigen::VectorXd::Zero(d);
    Eigen::MatrixXd sum2 = Eigen::MatrixXd::Zero(d, d);
    q = q0;
    for (int k = 0; k < K; ++k) {
      gibbs.DrawBlock(b, &q, engine);
      const Eigen::VectorXd t = q.segment(offset, d);
      sum += t;
      sum2 += t * t.transpose();
    }
    // The other blocks are untouched.
    EXPECT_EQ(q.head(offset), q0.head(offset));
    EXPECT_EQ(q.tail(q.size() - offset - d), q0.tail(q.size() - offset - d));
    const Eigen::VectorXd m = sum / K;
    const Eigen::MatrixXd c = sum2 / K - m * m.transpose();
    double worst = 0;
    for (Eigen::Index i = 0; i < d; ++i) {
      worst = std::max(worst, std::abs(m[i] - mean[i]) / std::sqrt(cov(i, i) / K));
      for (Eigen::Index j = 0; j < d; ++j) {
        const double se = std::sqrt((cov(i, i) * cov(j, j) + cov(i, j) * cov(i, j)) / K);
        worst = std::max(worst, std::abs(c(i, j) - cov(i, j)) / se);
      }
    }
    // The data move the conditional away from the prior: the check has teeth.
    const double shrink = cov.diagonal().minCoeff();
    std::printf("D = %td, block %d (%td coordinates): worst |z| %.2f, min var %.3f\n", D, b, d,
                worst, shrink);
    EXPECT_LT(worst, 4.5) << "block " << b;
    EXPECT_LT(shrink, 0.95) << "block " << b;
    EXPECT_GT((mean.array() / (cov.diagonal().array() / K).sqrt()).abs().maxCoeff(), 20)
        << "block " << b;
  }
}

// V_0's Gram from the stored X Xᵀ (the default) and from the factored form.
TEST(Gibbs, EveryBlockConditionalMatchesItsDenseGaussian) {
  CheckBlockConditionals(1, GibbsSampler::kMaxStoredGramRows);
  CheckBlockConditionals(1, 0);
}
TEST(Gibbs, EveryBlockConditionalMatchesItsDenseGaussianWithTwoOutputs) {
  CheckBlockConditionals(2, GibbsSampler::kMaxStoredGramRows);
  CheckBlockConditionals(2, 0);
}

// Gibbs and collapsed NUTS sample the same posterior: the predictor mean and
// variance at every test point and every U^sampled entry agree within 4.5
// combined standard errors (each run's own MCSE).
void CheckAgainstCollapsedNuts(Eigen::Index D) {
  const Problem p = MakeProblem({4, 3, 5}, 8, D, 29 + static_cast<std::uint32_t>(D));
  const double T = 0.1;
  auto run = [&](SampledWeights weights, int warmup, int samples) {
    SampleOptions options;
    options.sampled_weights = weights;
    options.chains.num_chains = 4;
    options.chains.num_warmup = warmup;
    options.chains.num_samples = samples;
    options.chains.seed = 11;
    options.chains.threads = 2;
    SampleSummary summary;
    SampleResult r = Sample(p.arch, p.train, p.Y, T, p.test, options, &summary, &p.Y_test);
    EXPECT_TRUE(summary.completed()) << summary.FullReport();
    std::printf("%s\n", summary.BriefReport().c_str());
    EXPECT_LT(summary.max_rhat, 1.02) << summary.FullReport();
    return std::make_pair(std::move(r), summary);
  };
  const auto [gibbs, gs] = run(SampledWeights::kGibbs, 500, 8000);
  const auto [nuts, ns] = run(SampledWeights::kCollapsed, 300, 1500);
  EXPECT_EQ(gs.sampled_weights, "gibbs");
  EXPECT_EQ(gs.dimension, 4 * 5 + 2 * 3 * 4 + 2 * 5 * 3 + 5 * D);
  EXPECT_EQ(gs.total_divergences, 0);
  EXPECT_GT(gs.min_ess_bulk, 400) << gs.FullReport();
  double worst = 0;
  auto check = [&](double a, double se_a, double b, double se_b, const std::string& what) {
    const double z = std::abs(a - b) / std::hypot(se_a, se_b);
    worst = std::max(worst, z);
    EXPECT_LT(z, 4.5) << what << ": gibbs " << a << " ± " << se_a << ", nuts " << b << " ± "
                      << se_b;
  };
  for (Eigen::Index mu = 0; mu < 6; ++mu) {
    for (Eigen::Index d = 0; d < D; ++d) {
      const std::string at = "[" + std::to_string(mu) + "," + std::to_string(d) + "]";
      check(gibbs.predictor.mean(mu, d), gibbs.predictor.mean_se(mu, d), nuts.predictor.mean(mu, d),
            nuts.predictor.mean_se(mu, d), "f" + at);
      check(gibbs.predictor.variance(mu, d), gibbs.predictor.variance_se(mu, d),
            nuts.predictor.variance(mu, d), nuts.predictor.variance_se(mu, d), "f_var" + at);
    }
  }
  const Eigen::Index K = gibbs.order_parameter.U.rows();
  ASSERT_EQ(K, 4 * D);
  for (Eigen::Index i = 0; i < K; ++i) {
    for (Eigen::Index j = i; j < K; ++j) {
      check(gibbs.order_parameter.U(i, j), gibbs.order_parameter.U_se(i, j),
            nuts.order_parameter.U(i, j), nuts.order_parameter.U_se(i, j),
            "U[" + std::to_string(i) + "," + std::to_string(j) + "]");
    }
  }
  std::printf("D = %td: worst |z| between Gibbs and collapsed NUTS %.2f\n", D, worst);
}

TEST(Gibbs, AgreesWithCollapsedNutsOnATwoLayerNetwork) { CheckAgainstCollapsedNuts(1); }
TEST(Gibbs, AgreesWithCollapsedNutsWithTwoOutputs) { CheckAgainstCollapsedNuts(2); }

TEST(Gibbs, IsReproducibleFromItsSeedWhateverTheThreads) {
  const Problem p = MakeProblem({4, 3, 5}, 8, 1, 2);
  SampleOptions options;
  options.sampled_weights = SampledWeights::kGibbs;
  options.chains.num_chains = 2;
  options.chains.num_warmup = 5;
  options.chains.num_samples = 20;
  options.chains.seed = 4;
  options.chains.threads = 1;
  const SampleResult one = Sample(p.arch, p.train, p.Y, 0.1, p.test, options, nullptr);
  options.chains.threads = 2;
  const SampleResult two = Sample(p.arch, p.train, p.Y, 0.1, p.test, options, nullptr);
  ASSERT_EQ(one.draws.size(), 2u);
  for (size_t c = 0; c < 2; ++c) EXPECT_EQ(one.draws[c], two.draws[c]);
  EXPECT_NE(one.draws[0], one.draws[1]);
}

TEST(Gibbs, SweepsPerDrawThinTheChain) {
  // gibbs_sweeps = 3: the draws are every third state of the one-sweep chain
  // (same engine stream), and the summary counts the sweeps.
  const Problem p = MakeProblem({4, 3, 5}, 8, 1, 2);
  SampleOptions options;
  options.sampled_weights = SampledWeights::kGibbs;
  options.chains.num_chains = 1;
  options.chains.num_warmup = 2;
  options.chains.num_samples = 16;
  options.chains.seed = 6;
  options.report_order_parameter = false;
  SampleSummary one_summary, three_summary;
  const SampleResult one = Sample(p.arch, p.train, p.Y, 0.1, p.test, options, &one_summary);
  options.gibbs_sweeps = 3;
  options.chains.num_samples = 4;
  const SampleResult three = Sample(p.arch, p.train, p.Y, 0.1, p.test, options, &three_summary);
  // Row i of the one-sweep chain is the state after sweep i + 3 (2 warm-up
  // sweeps); draw k of the thinned chain the state after sweep 6 + 3(k + 1).
  for (int k = 0; k < 4; ++k) {
    EXPECT_EQ(three.draws[0].row(k), one.draws[0].row(3 * k + 6)) << k;
  }
  EXPECT_EQ(three_summary.mean_leapfrog_steps[0], 3);
  EXPECT_EQ(three_summary.gradient_evaluations, 3 * (2 + 4));
  EXPECT_EQ(one_summary.gradient_evaluations, 2 + 16);
  options.gibbs_sweeps = 0;
  EXPECT_THROW(Sample(p.arch, p.train, p.Y, 0.1, p.test, options, nullptr), Error);
}

TEST(Gibbs, RejectsABlockOutOfRange) {
  const Problem p = MakeProblem({4, 3, 5}, 8, 1, 2);
  const GibbsSampler gibbs(p.arch, p.train, p.Y, 0.1);
  EXPECT_EQ(gibbs.num_blocks(), 4);
  EXPECT_THROW(gibbs.BlockSize(4), Error);
  EXPECT_THROW(gibbs.BlockOffset(-1), Error);
}

}  // namespace
}  // namespace attnpaths
