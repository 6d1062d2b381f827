// Streaming a study's generated data (study/study_examples.h,
// study/test_predictions.h; theory.md §10): LoadStudy with
// StudyLoading::kDeferGenerated holds only the labels; ResolveStudyData
// generates in memory exactly the examples LoadStudy generates unless the
// storage of G is features; the streamed source gives the same examples
// block by block; a study solved from the stream equals the study solved in
// memory (U and test predictions to 1e-12), with the test set predicted in
// blocks; fingerprints of a streamed and a held set agree.
#include "study/study_examples.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "data/study_fingerprint.h"
#include "kernels/error.h"
#include "kernels/example_source.h"
#include "study/settings.h"
#include "study/solve_study.h"
#include "study/study_kernels.h"
#include "study/test_predictions.h"

namespace attnpaths {
namespace {

// P = 200 > M = Htot N0 = 4 · 15 = 60: auto storage picks the feature form.
const char* kStudy = R"(temperature = 0.05
[data]
generator = "hmm"
[data.hmm]
P = 200
P_test = 70
chain_tokens = 4
N_f = 10
[architecture]
width = 20
[[architecture.layers]]
heads = [ { kind = "hmm_same_token" }, { kind = "hmm_blank", perturbation = 1, seed = 147 } ]
[[architecture.layers]]
heads = [ { kind = "hmm_uniform" }, { kind = "hmm_blank", perturbation = 1, seed = 247 } ]
[solver]
gradient_tolerance = 1e-12
block_examples = 16
)";

double Relative(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b) {
  return (a - b).cwiseAbs().maxCoeff() / b.cwiseAbs().maxCoeff();
}

TEST(StudyExamples, DeferredSetsAreGeneratedUnlessTheFeatureFormStreamsThem) {
  const Study held = ParseStudy(kStudy, ".", "s.toml");
  EXPECT_FALSE(Streamed(held, Split::kTrain));
  ASSERT_TRUE(held.train_generator.has_value());

  Study deferred = ParseStudy(kStudy, ".", "s.toml", StudyLoading::kDeferGenerated);
  EXPECT_TRUE(Streamed(deferred, Split::kTrain));
  EXPECT_EQ(deferred.train.x.P(), 0);
  EXPECT_EQ(StudyExamples(deferred, Split::kTrain), 200);
  EXPECT_EQ(StudyExamples(deferred, Split::kTest), 70);
  EXPECT_EQ(deferred.train.y, held.train.y);  // the labels, without the examples
  EXPECT_EQ(deferred.test.y, held.test.y);
  // The fingerprint is the generator's, whether the set is held or streamed.
  EXPECT_EQ(TrainingDataFingerprint(deferred), TrainingDataFingerprint(held));

  Study as_pairs = deferred;
  ResolveStudyData(&as_pairs, GramStorage::kPairs);
  EXPECT_FALSE(Streamed(as_pairs, Split::kTrain));
  EXPECT_FALSE(Streamed(as_pairs, Split::kTest));
  ASSERT_EQ(as_pairs.train.x.P(), 200);
  ASSERT_EQ(as_pairs.test.x.P(), 70);
  for (Eigen::Index mu = 0; mu < 200; ++mu)
    ASSERT_EQ(as_pairs.train.x.example(mu), held.train.x.example(mu));
  for (Eigen::Index mu = 0; mu < 70; ++mu)
    ASSERT_EQ(as_pairs.test.x.example(mu), held.test.x.example(mu));

  Study as_features = deferred;
  ResolveStudyData(&as_features, std::nullopt);  // auto: features at P > M
  EXPECT_TRUE(Streamed(as_features, Split::kTrain));
  EXPECT_TRUE(Streamed(as_features, Split::kTest));

  // The stream gives the held examples, block by block.
  const auto source = OpenStudyExamples(as_features, Split::kTest);
  ExampleBlock block;
  for (Eigen::Index b = 0; b < 70; b += 32) {
    const Eigen::Index e = std::min<Eigen::Index>(70, b + 32);
    source->Read(b, e, &block);
    for (Eigen::Index mu = b; mu < e; ++mu) {
      ASSERT_EQ(block.x.example(mu - b), held.test.x.example(mu)) << mu;
      ASSERT_EQ(block.y(mu - b, 0), held.test.y(mu, 0));
    }
  }
}

TEST(StudyExamples, StreamedSolveEqualsTheSolveInMemory) {
  Study streamed = ParseStudy(kStudy, ".", "s.toml", StudyLoading::kDeferGenerated);
  ResolveStudyData(&streamed, std::nullopt);
  ASSERT_TRUE(Streamed(streamed, Split::kTrain));
  const Study held = ParseStudy(kStudy, ".", "s.toml");
  SolveOptions options = ReadStudySettings(held).solve;
  options.storage = GramStorage::kPairs;  // the dense reference
  const StudySolution a = SolveStudy(held, 0.05, options, 1);
  const StudySolution b = SolveStudy(streamed, 0.05, ReadStudySettings(streamed).solve, 1);
  EXPECT_FALSE(b.kernels.train->has_inputs());  // A, b, YᵀY only
  EXPECT_EQ(b.kernels.test.P(), 0);             // the test set went through in blocks
  for (size_t l = 0; l < a.solution.order_parameters.U.size(); ++l) {
    EXPECT_LT(Relative(b.solution.order_parameters.U[l], a.solution.order_parameters.U[l]), 1e-10)
        << l;
  }
  ASSERT_EQ(b.test.mean.rows(), 70);
  EXPECT_LT(Relative(b.test.mean, a.test.mean), 1e-10);
  EXPECT_LT(Relative(b.test.variance, a.test.variance), 1e-10);
  EXPECT_LT(Relative(b.test.covariance, a.test.covariance), 1e-10);
  EXPECT_NEAR(b.test.accuracy, a.test.accuracy, 1e-15);
  EXPECT_NEAR(b.test.generalization_error, a.test.generalization_error,
              1e-10 * a.test.generalization_error);

  // Blocks of 7 test points against Predict on all of them, the same kernel.
  const PredictorStatistics whole = PredictStudyTest(held, *a.kernels.train, a.kernels.test, 0.05,
                                                     a.solution.order_parameters.U[0], 1);
  Study held_streamed_test = held;
  held_streamed_test.test_streamed = true;  // the held study's test set read from its generator
  const PredictorStatistics blocks =
      PredictStudyTest(held_streamed_test, *a.kernels.train, PathInputs{}, 0.05,
                       a.solution.order_parameters.U[0], 1, /*block_examples=*/7);
  EXPECT_LT(Relative(blocks.mean, whole.mean), 1e-12);
  EXPECT_LT(Relative(blocks.variance, whole.variance), 1e-12);
  EXPECT_EQ(blocks.accuracy, whole.accuracy);
}

TEST(StudyExamples, AStreamedSetNeedsTheFeatureForm) {
  Study deferred = ParseStudy(std::string(kStudy) + "storage = \"pairs\"\n", ".", "s.toml",
                              StudyLoading::kDeferGenerated);
  Study streamed = deferred;  // as if it did not fit in memory
  try {
    BuildTrainKernel(streamed, 1, GramStorage::kPairs);
    FAIL() << "a streamed set with pairs storage";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("s.toml: solver.storage: found \"pairs\" for a generated "
                                         "set of P = 200 examples"),
              std::string::npos)
        << e.what();
  }
  ResolveStudyData(&deferred, std::nullopt);  // [solver] storage = "pairs": generated in memory
  EXPECT_FALSE(Streamed(deferred, Split::kTrain));
  EXPECT_EQ(deferred.train.x.P(), 200);
}

}  // namespace
}  // namespace attnpaths
