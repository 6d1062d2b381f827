#include "kernels/metrics.h"

#include <limits>
#include <string>

#include "kernels/error.h"

namespace attnpaths {
namespace {

std::string Shape(Eigen::Index rows, Eigen::Index cols) {
  return std::to_string(rows) + " x " + std::to_string(cols);
}

void CheckLabelShape(const Eigen::Ref<const Eigen::MatrixXd>& mean,
                     const Eigen::Ref<const Eigen::MatrixXd>& Y) {
  Require(mean.rows() == Y.rows() && mean.cols() == Y.cols(), "y_test shape",
          Shape(Y.rows(), Y.cols()),
          Shape(mean.rows(), mean.cols()) +
              " (as the predictions: one row per test point, one column per output)");
}

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

}  // namespace

double Accuracy(const Eigen::Ref<const Eigen::MatrixXd>& mean,
                const Eigen::Ref<const Eigen::MatrixXd>& Y) {
  CheckLabelShape(mean, Y);
  if (Y.rows() == 0) return kNaN;
  Eigen::Index right = 0;
  for (Eigen::Index mu = 0; mu < Y.rows(); ++mu) {
    if (Y.cols() == 1) {  // theory.md §4: sign f̄ = y*, f̄ = 0 wrong
      const double f = mean(mu, 0), y = Y(mu, 0);
      right += (f > 0 && y > 0) || (f < 0 && y < 0);
    } else {  // theory.md §9: argmax, ties to the lowest output
      Eigen::Index predicted = 0, truth = 0;
      mean.row(mu).maxCoeff(&predicted);
      Y.row(mu).maxCoeff(&truth);
      right += predicted == truth;
    }
  }
  return static_cast<double>(right) / static_cast<double>(Y.rows());
}

double MeanSquaredError(const Eigen::Ref<const Eigen::MatrixXd>& mean,
                        const Eigen::Ref<const Eigen::MatrixXd>& Y) {
  CheckLabelShape(mean, Y);
  if (Y.size() == 0) return kNaN;
  return (mean - Y).squaredNorm() / static_cast<double>(Y.size());
}

double GeneralizationError(const Eigen::Ref<const Eigen::MatrixXd>& mean,
                           const Eigen::Ref<const Eigen::MatrixXd>& variance,
                           const Eigen::Ref<const Eigen::MatrixXd>& Y) {
  CheckLabelShape(mean, Y);
  Require(
      variance.rows() == mean.rows() && (variance.cols() == mean.cols() || variance.cols() == 1),
      "variance shape", Shape(variance.rows(), variance.cols()),
      Shape(mean.rows(), mean.cols()) + " (or " + Shape(mean.rows(), 1) + ")");
  if (Y.size() == 0) return kNaN;
  // theory.md §4, §9: the bias term averaged over points and outputs, plus the
  // mean of Σ_dd (a shared P* × 1 variance has the same mean as its replicas).
  return MeanSquaredError(mean, Y) + variance.mean();
}

}  // namespace attnpaths
