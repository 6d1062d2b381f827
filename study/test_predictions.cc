#include "study/test_predictions.h"

#include <algorithm>

#include "kernels/collective.h"
#include "kernels/error.h"
#include "kernels/example_range.h"
#include "kernels/metrics.h"
#include "kernels/path_input_stream.h"
#include "parallel/communicator.h"
#include "solver/training_gram.h"
#include "study/study_examples.h"

namespace attnpaths {

PredictorStatistics PredictStudyTest(const Study& study, const PathKernel& train,
                                     const PathInputs& test, double temperature,
                                     const Eigen::MatrixXd& U1, int threads, int block_examples,
                                     const Communicator& world) {
  const Eigen::MatrixXd* y_test = study.has_test_labels ? &study.test.y : nullptr;
  if (!Streamed(study, Split::kTest) && world.size() == 1) {
    PredictorStatistics st = Predict(train, study.train.y, temperature, U1, test, y_test);
    ApplyTask(study.task, &st);
    return st;
  }
  const Eigen::Index P = StudyExamples(study, Split::kTest), D = study.train.y.cols();
  PredictorStatistics st;
  st.mean = Eigen::MatrixXd::Zero(P, D);
  st.variance = Eigen::MatrixXd::Zero(P, D);
  st.covariance = Eigen::MatrixXd::Zero(P, D * D);
  RunCollectively(world, [&] {
    if (P == 0) return;
    TrainingGram gram(train, study.train.y);
    Require(gram.Factorize(U1, temperature), "G = K_U + T I",
            "a matrix that is not positive definite",
            "a positive definite kernel on the training set (at T = 0, P must not exceed the "
            "kernel's rank; raise the temperature)");
    const std::unique_ptr<ExampleSource> source = OpenStudyExamples(study, Split::kTest);
    const auto [begin, end] = world.Share(P);
    ExampleRange mine(*source, begin, end);
    StreamOptions so;
    so.block_examples = std::max(block_examples, 0);
    so.threads = threads;
    const Eigen::Index Htot = study.architecture.Htot(), N0 = study.test.x.N0();
    StreamPathInputs(study.architecture, mine, Split::kTest, so, [&](const PathInputBlock& b) {
      PathInputs xi;
      xi.Htot = Htot;
      xi.N0 = N0;
      xi.xi = b.xi_t.transpose();
      if (!xi.xi.allFinite()) {
        throw Error(ErrorMessage(StudyExamplesField(study, Split::kTest) + " examples [" +
                                     std::to_string(b.begin) + ", " + std::to_string(b.end()) + ")",
                                 "path inputs that are not finite (overflow)",
                                 "inputs whose attention and path inputs stay finite"));
      }
      const PredictorMoments m = gram.Predict(xi);
      const Eigen::Index n = xi.P();
      st.mean.middleRows(b.begin, n) = m.mean;
      st.variance.middleRows(b.begin, n) = m.Variance();
      st.covariance.middleRows(b.begin, n) = m.covariance;
    });
  });
  // Every other process's rows are zero here: the sums are the whole arrays.
  world.SumInPlace(st.mean.data(), static_cast<std::size_t>(st.mean.size()));
  world.SumInPlace(st.variance.data(), static_cast<std::size_t>(st.variance.size()));
  world.SumInPlace(st.covariance.data(), static_cast<std::size_t>(st.covariance.size()));
  if (y_test && P > 0) {
    st.accuracy = Accuracy(st.mean, *y_test);
    st.generalization_error = GeneralizationError(st.mean, st.variance, *y_test);
  }
  ApplyTask(study.task, &st);
  return st;
}

}  // namespace attnpaths
