// Sample() end to end. With only the readout sampled the posterior is
// Gaussian and the predictor and U^sampled have closed forms; with a huge
// temperature the posterior is the prior, whose U is σ_1²⋯σ_L²σ_a² I at any
// width. Tolerances are 4 Monte Carlo standard errors measured by Sample.
#include "sampler/sample.h"

#include <gtest/gtest.h>

#include <Eigen/Cholesky>
#include <cmath>
#include <cstdio>

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

// With the value weights fixed, each readout ã_d = a_d / σ_a has the Gaussian
// posterior N(m_d, Σ), independent over outputs d (theory.md §9), with
// f_d(x) = φ(x)ᵀ ã_d: precision A = I + ΦᵀΦ/T, Σ = A⁻¹, m_d = Σ Φᵀ y_d / T.
void CheckReadoutOnlyPosterior(Eigen::Index D) {
  Problem p = MakeProblem({6, 5, 8}, 12, 6, 31);
  Rng label_rng(40 + static_cast<std::uint32_t>(D));
  p.Y = test_util::RandomLabels(12, D, label_rng, true);
  p.Y_test = test_util::RandomLabels(6, D, label_rng, true);
  const double T = 0.2;
  Rng rng(4);
  const WeightLayout layout(p.arch, 5, D);
  const NetworkWeights w = layout.ToWeights(test_util::RandomNormal(layout.dimension(), 1, rng));

  // φ_j(x): the token-wise output of one readout column at ã = e_j.
  const Eigen::Index n_a = 8;
  const WeightLayout one(p.arch, 5, 1);
  NetworkWeights w1 = w;
  w1.a = Eigen::MatrixXd::Zero(n_a, 1);
  auto features = [&](const Inputs& x) {
    const TokenwisePotential net(p.arch, x, Eigen::MatrixXd::Zero(x.P(), 1), 1.0);
    Eigen::MatrixXd phi(x.P(), n_a);
    Eigen::VectorXd q = one.FromWeights(w1);
    for (Eigen::Index j = 0; j < n_a; ++j) {
      q.tail(n_a).setZero();
      q[one.readout_offset() + j] = 1;
      phi.col(j) = net.Outputs(q);
    }
    return phi;
  };
  const Eigen::MatrixXd phi = features(p.x), phi_test = features(p.x_test);
  const Eigen::MatrixXd A = Eigen::MatrixXd::Identity(n_a, n_a) + phi.transpose() * phi / T;
  const Eigen::LLT<Eigen::MatrixXd> llt(A);
  const Eigen::MatrixXd cov = llt.solve(Eigen::MatrixXd::Identity(n_a, n_a));
  const Eigen::MatrixXd mean = llt.solve(phi.transpose() * p.Y) / T;  // n_a × D
  const Eigen::MatrixXd f_mean = phi_test * mean;
  const Eigen::VectorXd f_var = (phi_test * cov * phi_test.transpose()).diagonal();

  // U^sampled: e_{π,d} = σ_a V_{1,h_1}ᵀ/√n_2 V_{2,h_2}ᵀ/√n_3 ã_d = B_π ã_d, so
  // ⟨e_{π,d} · e_{π',d'}⟩ / n_1 = tr(B_πᵀ B_π' (δ_dd' Σ + m_d' m_dᵀ)) / n_1.
  const Eigen::Index Htot = p.arch.Htot();
  std::vector<Eigen::MatrixXd> B;
  for (Eigen::Index path = 0; path < Htot; ++path) {
    const auto heads = test_util::BrutePathHeads(p.arch, path);
    B.push_back(std::sqrt(p.arch.variances[3]) * w.V[0][heads[0]].transpose() / std::sqrt(5.0) *
                w.V[1][heads[1]].transpose() / std::sqrt(8.0));
  }

  SampleOptions options;
  options.sampled_weights = SampledWeights::kReadout;
  options.fixed_weights = w;
  options.chains.num_chains = 4;
  options.chains.num_warmup = 300;
  options.chains.num_samples = 1000;
  options.chains.seed = 77;
  options.chains.threads = 2;
  SampleSummary summary;
  const SampleResult r = Sample(p.arch, p.train, p.Y, T, p.test, options, &summary, &p.Y_test);
  ASSERT_TRUE(summary.completed()) << summary.FullReport();
  EXPECT_EQ(summary.dimension, n_a * D);
  EXPECT_EQ(summary.total_divergences, 0);
  EXPECT_LT(summary.max_rhat, 1.01) << summary.FullReport();
  EXPECT_GT(summary.min_ess_bulk, 400) << summary.FullReport();
  for (Eigen::Index mu = 0; mu < 6; ++mu) {
    const Eigen::MatrixXd C = r.predictor.Covariance(mu);
    for (Eigen::Index d = 0; d < D; ++d) {
      EXPECT_NEAR(r.predictor.mean(mu, d), f_mean(mu, d), 4 * r.predictor.mean_se(mu, d)) << mu;
      EXPECT_NEAR(r.predictor.variance(mu, d), f_var[mu], 4 * r.predictor.variance_se(mu, d)) << mu;
      // The errors are small compared with the spread: the check has teeth.
      EXPECT_LT(r.predictor.mean_se(mu, d), 0.1 * std::sqrt(f_var[mu]));
      for (Eigen::Index e = 0; e < D; ++e) {
        // Outputs are independent given the value weights: Cov(f_d, f_e) = 0
        // for d ≠ e, within the s.e. of a sample covariance, ≈ var/√ESS.
        const double se = f_var[mu] / std::sqrt(summary.min_ess_bulk);
        EXPECT_NEAR(C(d, e), d == e ? r.predictor.variance(mu, d) : 0.0, d == e ? 0 : 4 * se);
      }
    }
  }
  ASSERT_EQ(r.order_parameter.U.rows(), Htot * D);
  for (Eigen::Index a = 0; a < Htot; ++a) {
    for (Eigen::Index b = 0; b < Htot; ++b) {
      for (Eigen::Index d = 0; d < D; ++d) {
        for (Eigen::Index e = 0; e < D; ++e) {
          const Eigen::MatrixXd second = (d == e ? cov : Eigen::MatrixXd::Zero(n_a, n_a)) +
                                         mean.col(e) * mean.col(d).transpose();
          const double exact = (B[a].transpose() * B[b] * second).trace() / 6.0;
          const Eigen::Index i = a * D + d, j = b * D + e;
          EXPECT_NEAR(r.order_parameter.U(i, j), exact, 4 * r.order_parameter.U_se(i, j))
              << a << "," << d << " " << b << "," << e;
        }
      }
    }
  }
  // Accuracy (sign for D = 1, argmax for D > 1) and generalisation error
  // (averaged over points and outputs) follow from the sampled mean and variance.
  double right = 0, eps = 0;
  for (Eigen::Index mu = 0; mu < 6; ++mu) {
    if (D == 1) {
      right += r.predictor.mean(mu, 0) * p.Y_test(mu, 0) > 0;
    } else {
      Eigen::Index predicted, truth;
      r.predictor.mean.row(mu).maxCoeff(&predicted);
      p.Y_test.row(mu).maxCoeff(&truth);
      right += predicted == truth;
    }
    for (Eigen::Index d = 0; d < D; ++d) {
      eps += std::pow(r.predictor.mean(mu, d) - p.Y_test(mu, d), 2) + r.predictor.variance(mu, d);
    }
  }
  EXPECT_DOUBLE_EQ(r.predictor.accuracy, right / 6);
  EXPECT_NEAR(r.predictor.generalization_error, eps / (6.0 * D), 1e-12);
}

TEST(Sample, ReadoutOnlyPosteriorMatchesItsGaussianClosedForm) { CheckReadoutOnlyPosterior(1); }
TEST(Sample, ReadoutOnlyPosteriorWithThreeOutputs) { CheckReadoutOnlyPosterior(3); }

void CheckPriorAtHugeTemperature(SampledWeights weights, Eigen::Index dimension) {
  // E_prior[e_π · e_π'] / n_1 = σ_1² σ_2² σ_a² δ_ππ' exactly, at any width.
  const Problem p = MakeProblem({4, 3, 5}, 5, 3, 8);
  SampleOptions options;
  options.sampled_weights = weights;
  options.chains.num_chains = 2;
  options.chains.num_warmup = 200;
  options.chains.num_samples = 1000;
  options.chains.threads = 2;
  options.chains.seed = 3;
  SampleSummary summary;
  const SampleResult r = Sample(p.arch, p.train, p.Y, 1e8, p.test, options, &summary);
  ASSERT_TRUE(summary.completed());
  std::printf("%s\n", summary.FullReport().c_str());
  EXPECT_EQ(summary.dimension, dimension);
  const double u_gp = 0.8 * 1.1 * 0.9;
  for (Eigen::Index a = 0; a < 2; ++a) {
    for (Eigen::Index b = 0; b < 2; ++b) {
      EXPECT_NEAR(r.order_parameter.U(a, b), a == b ? u_gp : 0.0, 4 * r.order_parameter.U_se(a, b));
    }
  }
  // The predictor is the prior's: mean zero up to O(|K y| / T) ≈ 1e-8 (which
  // the Rao–Blackwellised mean resolves), variance E[K_V(x*, x*)] = the GP
  // kernel C_U_GP(x*, x*) = u_gp Σ_π |ξ_π(x*)|².
  for (Eigen::Index mu = 0; mu < 3; ++mu) {
    EXPECT_NEAR(r.predictor.mean(mu, 0), 0.0, 4 * r.predictor.mean_se(mu, 0) + 1e-6);
    double k = 0;
    for (Eigen::Index path = 0; path < 2; ++path)
      k += u_gp * p.test.path(path).row(mu).squaredNorm();
    EXPECT_NEAR(r.predictor.variance(mu, 0), k, 4 * r.predictor.variance_se(mu, 0)) << mu;
  }
}

TEST(Sample, AtHugeTemperatureTheSampledOrderParameterIsThePriors) {
  CheckPriorAtHugeTemperature(SampledWeights::kAll, 4 * 5 + 2 * 3 * 4 + 5 * 3 + 5);
}

TEST(Sample, CollapsedAtHugeTemperatureSamplesThePrior) {
  CheckPriorAtHugeTemperature(SampledWeights::kCollapsed, 4 * 5 + 2 * 3 * 4 + 5 * 3);
}

TEST(Sample, GibbsAtHugeTemperatureSamplesThePrior) {
  // Blocked Gibbs over every weight (sampler/gibbs.h): each block's
  // conditional is its prior N(0, I) up to O(1/T).
  CheckPriorAtHugeTemperature(SampledWeights::kGibbs, 4 * 5 + 2 * 3 * 4 + 5 * 3 + 5);
}

TEST(Sample, ReducedAtHugeTemperatureSamplesThePrior) {
  // N0 = 5, H = (2, 1), widths (4, 3, 5): V_0 and layer 1 are wide (sampled as
  // they are, 20 + 24 coordinates), layer 2 with the readout is the scalar
  // s = |ã|² (D = 1, reduced_potential.h).
  CheckPriorAtHugeTemperature(SampledWeights::kReduced, 20 + 24 + 1);
}

// The reduced sampler (sampler/reduced_potential.h) against the collapsed one
// (itself checked against the full sampler above) on the same posterior: test
// predictor mean and variance and every U^sampled entry within 4 combined
// standard errors.
void CheckReducedAgainstCollapsed(std::vector<std::vector<HeadSpec>> layers,
                                  std::vector<double> widths, Eigen::Index expected_dimension,
                                  std::uint32_t seed, Eigen::Index N0 = 2, Eigen::Index P = 8,
                                  bool check_not_prior = true, Eigen::Index D = 1) {
  Rng rng(seed);
  Problem p;
  const Eigen::Index n_tok = 3;
  p.arch.layers = std::move(layers);
  p.arch.readout = Readout::kLast;
  p.arch.widths = std::move(widths);
  p.arch.variances = {1.0, 1.2, 0.9, 1.1};
  p.x = test_util::RandomInputs(P, n_tok, N0, rng);
  p.x_test = test_util::RandomInputs(4, n_tok, N0, rng);
  p.Y = test_util::RandomLabels(P, D, rng, true);
  p.train = ComputePathInputs(p.arch, p.x, Split::kTrain);
  p.test = ComputePathInputs(p.arch, p.x_test, Split::kTest);
  const double T = 0.5;
  SampleOptions options;
  options.chains.num_chains = 4;
  options.chains.num_warmup = 500;
  options.chains.num_samples = 2000;
  options.chains.threads = 2;
  options.chains.seed = seed;
  SampleSummary reduced_summary, collapsed_summary;
  options.sampled_weights = SampledWeights::kReduced;
  const SampleResult reduced = Sample(p.arch, p.train, p.Y, T, p.test, options, &reduced_summary);
  options.sampled_weights = SampledWeights::kCollapsed;
  const SampleResult collapsed =
      Sample(p.arch, p.train, p.Y, T, p.test, options, &collapsed_summary);
  EXPECT_EQ(reduced_summary.dimension, expected_dimension);
  EXPECT_EQ(reduced_summary.sampled_weights, "reduced");
  for (const SampleSummary* s : {&reduced_summary, &collapsed_summary}) {
    ASSERT_TRUE(s->completed()) << s->FullReport();
    EXPECT_LT(s->max_rhat, 1.02) << s->FullReport();
  }
  std::printf("%s\n%s\n", reduced_summary.FullReport().c_str(),
              collapsed_summary.FullReport().c_str());
  auto agree = [](double a, double a_se, double b, double b_se, const std::string& what) {
    EXPECT_NEAR(a, b, 4 * std::hypot(a_se, b_se)) << what;
  };
  ASSERT_EQ(reduced.predictor.mean.cols(), D);
  for (Eigen::Index mu = 0; mu < 4; ++mu) {
    for (Eigen::Index o = 0; o < D; ++o) {
      const std::string at = std::to_string(mu) + ", output " + std::to_string(o);
      agree(reduced.predictor.mean(mu, o), reduced.predictor.mean_se(mu, o),
            collapsed.predictor.mean(mu, o), collapsed.predictor.mean_se(mu, o), "mean " + at);
      agree(reduced.predictor.variance(mu, o), reduced.predictor.variance_se(mu, o),
            collapsed.predictor.variance(mu, o), collapsed.predictor.variance_se(mu, o),
            "variance " + at);
    }
  }
  const Eigen::Index K = reduced.order_parameter.U.rows();
  ASSERT_EQ(K, collapsed.order_parameter.U.rows());
  ASSERT_EQ(reduced.order_parameter.U.cols(), collapsed.order_parameter.U.cols());
  for (Eigen::Index a = 0; a < K; ++a) {
    for (Eigen::Index b = a; b < reduced.order_parameter.U.cols(); ++b) {
      agree(reduced.order_parameter.U(a, b), reduced.order_parameter.U_se(a, b),
            collapsed.order_parameter.U(a, b), collapsed.order_parameter.U_se(a, b),
            "U " + std::to_string(a) + "," + std::to_string(b));
      std::printf("U[%ld,%ld] reduced %.4f ± %.4f collapsed %.4f ± %.4f\n", static_cast<long>(a),
                  static_cast<long>(b), reduced.order_parameter.U(a, b),
                  reduced.order_parameter.U_se(a, b), collapsed.order_parameter.U(a, b),
                  collapsed.order_parameter.U_se(a, b));
    }
  }
  // The posterior is not the prior (σ_1² σ_2² σ_a² = 1.188 on the diagonal).
  if (check_not_prior) {
    EXPECT_GT(std::abs(reduced.order_parameter.U(0, 0) - 1.2 * 0.9 * 1.1),
              4 * reduced.order_parameter.U_se(0, 0));
  }
}

TEST(Sample, ReducedIsTheCollapsedSamplerWhenNoLayerReduces) {
  // N0 = 5, H = (2, 1), widths (3, 3, 2), D = 2 outputs (no scalar top):
  // n_1 < N0, n_2 < 2·3, n_3 < 3 and n_3 < P, so every layer is wide, the
  // reduced coordinates are the value weights and the default (reduced) runs
  // the collapsed sampler: the same draws.
  Problem p = MakeProblem({3, 3, 2}, 6, 2, 8);
  Rng label_rng(9);
  p.Y = test_util::RandomLabels(6, 2, label_rng, true);
  SampleOptions options;
  EXPECT_EQ(options.sampled_weights, SampledWeights::kReduced);
  options.chains.num_chains = 2;
  options.chains.num_warmup = 30;
  options.chains.num_samples = 20;
  options.chains.seed = 4;
  SampleSummary s_reduced, s_collapsed;
  const SampleResult reduced = Sample(p.arch, p.train, p.Y, 0.1, p.test, options, &s_reduced);
  options.sampled_weights = SampledWeights::kCollapsed;
  const SampleResult collapsed = Sample(p.arch, p.train, p.Y, 0.1, p.test, options, &s_collapsed);
  EXPECT_EQ(s_reduced.sampled_weights, "collapsed");
  EXPECT_EQ(s_reduced.dimension, 3 * 5 + 2 * 3 * 3 + 2 * 3);  // 39
  for (size_t c = 0; c < 2; ++c) EXPECT_EQ(reduced.draws[c], collapsed.draws[c]);
}

TEST(Sample, ReducedAndCollapsedSamplersAgreeOnAOnePathNetwork) {
  // N0 = 2, widths (3, 3, 3): two 2 × 2 Bartlett factors and the scalar top
  // (3 + 3 + 1 coordinates, vs 6 + 9 + 9 value weights).
  Rng rng(67);
  CheckReducedAgainstCollapsed(
      {{test_util::RandomWHead(2, rng, Normalization::kSoftmax, false, 2.0)},
       {test_util::SimpleHead(HeadKind::kUniform)}},
      {3, 3, 3}, 7, 71);
}

TEST(Sample, ReducedAndCollapsedSamplersAgreeOnTwoLayersOfTwoHeads) {
  // N0 = 2, H = (2, 2), widths (3, 5, 9): factors of sizes 2 and 4 and the
  // scalar top (3 + 10 + 1 coordinates, vs 126 value weights).
  Rng rng(73);
  CheckReducedAgainstCollapsed(
      {{test_util::RandomWHead(2, rng, Normalization::kSoftmax, false, 2.0),
        test_util::SimpleHead(HeadKind::kUniform)},
       {test_util::RandomWHead(2, rng, Normalization::kSoftmax, false, 1.0),
        test_util::RandomQKHead(2, 3, rng)}},
      {3, 5, 9}, 14, 79);
}

// The two layers of two heads (N0 = 4) of the data-span tests below.
std::vector<std::vector<HeadSpec>> SpanTestLayers() {
  Rng rng(83);
  return {{test_util::RandomWHead(4, rng, Normalization::kSoftmax, false, 2.0),
           test_util::SimpleHead(HeadKind::kUniform)},
          {test_util::RandomWHead(4, rng, Normalization::kSoftmax, false, 1.0),
           test_util::RandomQKHead(4, 3, rng)}};
}

TEST(Sample, ReducedToTheDataSpanAgreesWithCollapsed) {
  // N0 = 4, P = 3, H = (2, 2), widths (4, 8, 6): V_0 a 4 × 4 Bartlett factor
  // (10), layer 1 reduced to the span of the training data (r_1 = 6: 21),
  // layer 2 and the readout the scalar s (1): 32 coordinates vs 176 value
  // weights; the test predictions draw the weights outside the span
  // (reduced_potential.h).
  CheckReducedAgainstCollapsed(SpanTestLayers(), {4, 8, 6}, 32, 89, 4, 3, false);
}

TEST(Sample, ReducedToTheDataSpanAgreesWithCollapsedWithTwoOutputs) {
  // The same network as above with D = 2 outputs (theory.md §9), where the
  // top layer is no longer the scalar s: V_0 a 4 × 4 Bartlett factor (10),
  // layer 1 on the span of its r_1 = m_2 P = 2 · 3 = 6 training rows (21;
  // 6 ≤ n_2 = 8 and ≤ ¾ · H_1 c_0 = 6), layer 2 on the span of its r_2 = P = 3
  // rows (6; 3 ≤ n_3 = 6 and ≤ ¾ · H_2 r_1 = 9): 37 coordinates vs 176 value
  // weights and 12 readout weights. Both outputs' predictor means and
  // variances and every U^sampled entry must agree with the collapsed sampler.
  CheckReducedAgainstCollapsed(SpanTestLayers(), {4, 8, 6}, 10 + 21 + 6, 97, 4, 3, false, 2);
}

TEST(Sample, CollapsedAndFullSamplersAgreeOnAOnePathNetwork) {
  // A deep linear network (one head per layer) has no closed-form posterior
  // at finite width; the two samplers of the same posterior must agree within
  // their combined Monte Carlo errors (4 s.e.) on the test predictor mean and
  // variance and on U^sampled.
  Rng rng(61);
  Problem p;
  const Eigen::Index N0 = 4, n_tok = 3;
  p.arch.layers = {{test_util::RandomWHead(N0, rng, Normalization::kSoftmax, false, 2.0)},
                   {test_util::SimpleHead(HeadKind::kUniform)}};
  p.arch.readout = Readout::kLast;
  p.arch.widths = {3, 2, 3};
  p.arch.variances = {1.0, 1.2, 0.9, 1.1};
  p.x = test_util::RandomInputs(8, n_tok, N0, rng);
  p.x_test = test_util::RandomInputs(4, n_tok, N0, rng);
  p.Y = test_util::RandomLabels(8, 1, rng, true);
  p.train = ComputePathInputs(p.arch, p.x, Split::kTrain);
  p.test = ComputePathInputs(p.arch, p.x_test, Split::kTest);
  const double T = 0.5;
  SampleOptions options;
  options.chains.num_chains = 4;
  options.chains.num_warmup = 500;
  options.chains.num_samples = 2000;
  options.chains.threads = 2;
  options.chains.seed = 19;
  SampleSummary full_summary, collapsed_summary;
  options.sampled_weights = SampledWeights::kAll;
  const SampleResult full = Sample(p.arch, p.train, p.Y, T, p.test, options, &full_summary);
  options.sampled_weights = SampledWeights::kCollapsed;
  const SampleResult collapsed =
      Sample(p.arch, p.train, p.Y, T, p.test, options, &collapsed_summary);
  for (const SampleSummary* s : {&full_summary, &collapsed_summary}) {
    ASSERT_TRUE(s->completed()) << s->FullReport();
    EXPECT_LT(s->max_rhat, 1.02) << s->FullReport();
  }
  auto agree = [](double a, double a_se, double b, double b_se, const std::string& what) {
    EXPECT_NEAR(a, b, 4 * std::hypot(a_se, b_se)) << what;
  };
  for (Eigen::Index mu = 0; mu < 4; ++mu) {
    agree(full.predictor.mean(mu, 0), full.predictor.mean_se(mu, 0),
          collapsed.predictor.mean(mu, 0), collapsed.predictor.mean_se(mu, 0),
          "mean " + std::to_string(mu));
    agree(full.predictor.variance(mu, 0), full.predictor.variance_se(mu, 0),
          collapsed.predictor.variance(mu, 0), collapsed.predictor.variance_se(mu, 0),
          "variance " + std::to_string(mu));
  }
  agree(full.order_parameter.U(0, 0), full.order_parameter.U_se(0, 0),
        collapsed.order_parameter.U(0, 0), collapsed.order_parameter.U_se(0, 0), "U");
  std::printf(
      "U full %.4f ± %.4f, collapsed %.4f ± %.4f; mean se full %.4g collapsed %.4g; f0 %.4f %.4f "
      "var %.4f±%.4f %.4f±%.4f\n",
      full.order_parameter.U(0, 0), full.order_parameter.U_se(0, 0),
      collapsed.order_parameter.U(0, 0), collapsed.order_parameter.U_se(0, 0),
      full.predictor.mean_se.mean(), collapsed.predictor.mean_se.mean(), full.predictor.mean(0, 0),
      collapsed.predictor.mean(0, 0), full.predictor.variance(0, 0),
      full.predictor.variance_se(0, 0), collapsed.predictor.variance(0, 0),
      collapsed.predictor.variance_se(0, 0));
  // The posterior differs from the prior (σ_1² σ_2² σ_a² = 1.188): the check has teeth.
  EXPECT_GT(std::abs(collapsed.order_parameter.U(0, 0) - 1.2 * 0.9 * 1.1),
            6 * collapsed.order_parameter.U_se(0, 0));
  // Rao–Blackwellisation: the collapsed means are more precise per draw.
  EXPECT_LT(collapsed.predictor.mean_se.mean(), full.predictor.mean_se.mean());
}

TEST(Sample, ReproducibleQuantitiesAndReports) {
  const Problem p = MakeProblem({3, 3, 3}, 6, 2, 9);
  SampleOptions options;
  options.sampled_weights = SampledWeights::kAll;
  options.chains.num_chains = 2;
  options.chains.num_warmup = 40;
  options.chains.num_samples = 20;
  options.chains.seed = 12;
  options.chains.threads = 1;
  int calls = 0;
  options.chains.progress = [&](const SampleProgress&) { ++calls; };
  SampleSummary s1, s2;
  const SampleResult a = Sample(p.arch, p.train, p.Y, 0.0, p.test, options, &s1);
  options.chains.threads = 2;
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

  // The collapsed sampler (the default) also reports Var[f | V] per test point.
  options.sampled_weights = SampledWeights::kCollapsed;
  const SampleResult c1 = Sample(p.arch, p.train, p.Y, 0.0, p.test, options, &s1);
  options.chains.threads = 1;
  const SampleResult c2 = Sample(p.arch, p.train, p.Y, 0.0, p.test, options, &s2);
  for (size_t c = 0; c < 2; ++c) EXPECT_EQ(c1.draws[c], c2.draws[c]);
  EXPECT_EQ(c1.last_weights.a, c2.last_weights.a);
  EXPECT_EQ(c1.quantity_names,
            (std::vector<std::string>{"lp", "f[0]", "f[1]", "f_var[0]", "f_var[1]", "U[0,0]",
                                      "U[0,1]", "U[1,1]"}));
  EXPECT_EQ(c1.predictor_variance_column, 3);
  EXPECT_EQ(c1.order_parameter_column, 5);
  EXPECT_EQ(s1.sampled_weights, "collapsed");
  EXPECT_EQ(s1.dimension, 3 * 5 + 2 * 3 * 3 + 3 * 3);
}

TEST(Sample, InvalidInputNamesTheField) {
  const Problem p = MakeProblem({3, 3, 3}, 6, 2, 10);
  SampleOptions options;
  std::string error;
  options.chains.num_chains = 0;
  EXPECT_FALSE(options.IsValid(&error));
  EXPECT_NE(error.find("num_chains"), std::string::npos) << error;
  options = SampleOptions();
  options.temperature_floor = -1;
  EXPECT_FALSE(options.IsValid(&error));
  EXPECT_NE(error.find("temperature_floor"), std::string::npos) << error;
  options = SampleOptions();
  options.chains.adaptation.target_accept = 1.0;
  EXPECT_FALSE(options.IsValid(&error));
  EXPECT_NE(error.find("target_accept"), std::string::npos) << error;
  options = SampleOptions();
  options.chains.nuts.max_depth = 0;
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
  options.chains.num_samples = 0;
  EXPECT_THROW(Sample(p.arch, p.train, p.Y, 0.1, p.test, options, &summary), Error);
}

}  // namespace
}  // namespace attnpaths
