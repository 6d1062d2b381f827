#include "solver/predictor.h"

#include "kernels/error.h"
#include "solver/action.h"
#include "solver/spd.h"

namespace attnpaths {

double Accuracy(const Eigen::Ref<const Eigen::MatrixXd>& mean,
                const Eigen::Ref<const Eigen::MatrixXd>& Y) {
  Require(mean.rows() == Y.rows() && mean.cols() == Y.cols(), "y_test shape",
          std::to_string(Y.rows()) + " x " + std::to_string(Y.cols()),
          std::to_string(mean.rows()) + " x " + std::to_string(mean.cols()));
  if (Y.rows() == 0) return std::numeric_limits<double>::quiet_NaN();
  Eigen::Index right = 0;
  for (Eigen::Index mu = 0; mu < Y.rows(); ++mu) {
    if (Y.cols() == 1) {
      const double f = mean(mu, 0);
      right += (f > 0 && Y(mu, 0) > 0) || (f < 0 && Y(mu, 0) < 0);
    } else {
      Eigen::Index a, b;
      mean.row(mu).maxCoeff(&a);
      Y.row(mu).maxCoeff(&b);
      right += a == b;
    }
  }
  return static_cast<double>(right) / static_cast<double>(Y.rows());
}

double GeneralizationError(const Eigen::Ref<const Eigen::MatrixXd>& mean,
                           const Eigen::Ref<const Eigen::VectorXd>& variance,
                           const Eigen::Ref<const Eigen::MatrixXd>& Y) {
  Require(mean.rows() == Y.rows() && mean.cols() == Y.cols(), "y_test shape",
          std::to_string(Y.rows()) + " x " + std::to_string(Y.cols()),
          std::to_string(mean.rows()) + " x " + std::to_string(mean.cols()));
  if (Y.rows() == 0) return std::numeric_limits<double>::quiet_NaN();
  const double bias2 = (mean - Y).squaredNorm() / static_cast<double>(Y.size());
  return bias2 + variance.mean();
}

PredictorStatistics Predict(const PathKernel& train, const Eigen::Ref<const Eigen::MatrixXd>& Y,
                            double temperature, const Eigen::Ref<const Eigen::MatrixXd>& U1,
                            const PathInputs& test, const Eigen::MatrixXd* Y_test) {
  CheckLabels(Y, train.P(), "y");
  Require(temperature >= 0, "temperature", temperature, "a value >= 0");
  Eigen::MatrixXd G = train.Total(U1);
  G.diagonal().array() += temperature;
  SpdFactor g;
  Require(g.Factorize(std::move(G)), "G = K_U + T I", "a matrix that is not positive definite",
          "a positive definite kernel on the training set (at T = 0, P must not exceed the "
          "kernel's rank; raise the temperature)");
  const Eigen::MatrixXd k = CrossKernel(test, train.inputs(), U1);  // P* × P
  PredictorStatistics st;
  const Eigen::MatrixXd alpha = g.Solve(Y);
  st.mean = k * alpha;
  const Eigen::MatrixXd Gk = g.Solve(k.transpose());  // P × P*
  st.variance = KernelDiagonal(test, U1) - k.cwiseProduct(Gk.transpose()).rowwise().sum();
  if (Y_test) {
    CheckLabels(*Y_test, test.P(), "y_test");
    Require(Y_test->cols() == Y.cols(), "y_test columns", Y_test->cols(),
            std::to_string(Y.cols()) + " (as many outputs as y)");
    st.accuracy = Accuracy(st.mean, *Y_test);
    st.generalization_error = GeneralizationError(st.mean, st.variance, *Y_test);
  }
  return st;
}

OrderParameters GpLimit(const Architecture& arch) {
  arch.ValidateHyperparameters();
  return GpOrderParameters(arch);
}

}  // namespace attnpaths
