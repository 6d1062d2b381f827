#include "solver/predictor.h"

#include "kernels/error.h"
#include "kernels/metrics.h"
#include "solver/path_problem.h"
#include "solver/training_gram.h"

namespace attnpaths {

Eigen::MatrixXd PredictorStatistics::Covariance(Eigen::Index mu) const {
  Require(mu >= 0 && mu < covariance.rows(), "test point", mu,
          "an index in [0, " + std::to_string(covariance.rows()) + ")");
  const Eigen::Index D = mean.cols();
  Eigen::MatrixXd S(D, D);
  for (Eigen::Index e = 0; e < D; ++e) {
    for (Eigen::Index d = 0; d < D; ++d) S(d, e) = covariance(mu, d + D * e);
  }
  return S;
}

PredictorStatistics Predict(const PathKernel& train, const Eigen::Ref<const Eigen::MatrixXd>& Y,
                            double temperature, const Eigen::Ref<const Eigen::MatrixXd>& U1,
                            const PathInputs& test, const Eigen::MatrixXd* Y_test) {
  CheckLabels(Y, train.P(), "y");
  Require(temperature >= 0, "temperature", temperature, "a value >= 0");
  const Eigen::Index D = Y.cols(), m = train.Htot() * D;
  Require(U1.rows() == m && U1.cols() == m, "U_1 shape",
          std::to_string(U1.rows()) + " x " + std::to_string(U1.cols()),
          std::to_string(m) + " x " + std::to_string(m) +
              " (Htot D x Htot D, D = " + std::to_string(D) + " outputs)");
  TrainingGram gram(train, Y);
  Require(gram.Factorize(U1, temperature), "G = K_U + T I",
          "a matrix that is not positive definite",
          "a positive definite kernel on the training set (at T = 0, P must not exceed the "
          "kernel's rank; raise the temperature)");
  PredictorMoments moments = gram.Predict(test);
  PredictorStatistics st;
  st.variance = moments.Variance();
  st.mean = std::move(moments.mean);
  st.covariance = std::move(moments.covariance);
  if (Y_test) {
    CheckLabels(*Y_test, test.P(), "y_test");
    Require(Y_test->cols() == Y.cols(), "y_test columns", Y_test->cols(),
            std::to_string(Y.cols()) + " (as many outputs as y)");
    st.accuracy = Accuracy(st.mean, *Y_test);
    st.generalization_error = GeneralizationError(st.mean, st.variance, *Y_test);
  }
  return st;
}

PredictorStatistics Predict(const PathProblem& problem, const Eigen::Ref<const Eigen::MatrixXd>& U1,
                            const PathInputs& test, const Eigen::MatrixXd* Y_test) {
  Require(problem.train != nullptr, "path kernel", "nothing", "the training set's path kernel");
  return Predict(*problem.train, problem.Y, problem.temperature, U1, test, Y_test);
}

OrderParameters GpLimit(const Architecture& arch, Eigen::Index outputs) {
  arch.ValidateHyperparameters();
  return GpOrderParameters(arch, outputs);
}

}  // namespace attnpaths
