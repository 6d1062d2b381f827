// kernels/metrics.h — accuracy, mean squared error and generalisation error
// (theory.md §4, §9) against brute-force loops written independently here, on
// random predictions drawn from a coarse grid so that zeros and ties are common.
#include "kernels/metrics.h"

#include <gtest/gtest.h>

#include <Eigen/Core>
#include <boost/random/mersenne_twister.hpp>
#include <boost/random/uniform_int_distribution.hpp>
#include <boost/random/uniform_real_distribution.hpp>
#include <cmath>
#include <string>

#include "kernels/error.h"

namespace attnpaths {
namespace {

using Engine = boost::random::mt19937_64;

// Values in {-1, -0.5, 0, 0.5, 1}: a fifth are zeros, and with D = 3 most rows tie.
Eigen::MatrixXd GridMatrix(Eigen::Index rows, Eigen::Index cols, Engine& engine) {
  boost::random::uniform_int_distribution<int> pick(-2, 2);
  Eigen::MatrixXd m(rows, cols);
  for (Eigen::Index i = 0; i < rows; ++i) {
    for (Eigen::Index j = 0; j < cols; ++j) m(i, j) = 0.5 * pick(engine);
  }
  return m;
}

// One-hot rows (D > 1) or ±1 labels (D = 1), as data/labels.h requires.
Eigen::MatrixXd RandomLabels(Eigen::Index P, Eigen::Index D, Engine& engine) {
  boost::random::uniform_int_distribution<Eigen::Index> pick(0, D == 1 ? 1 : D - 1);
  Eigen::MatrixXd Y = Eigen::MatrixXd::Zero(P, D);
  for (Eigen::Index mu = 0; mu < P; ++mu) {
    if (D == 1) {
      Y(mu, 0) = pick(engine) == 0 ? -1.0 : 1.0;
    } else {
      Y(mu, pick(engine)) = 1.0;
    }
  }
  return Y;
}

// The first index of the largest entry, by a plain scan.
Eigen::Index FirstLargest(const Eigen::MatrixXd& m, Eigen::Index row) {
  Eigen::Index best = 0;
  for (Eigen::Index d = 1; d < m.cols(); ++d) {
    if (m(row, d) > m(row, best)) best = d;
  }
  return best;
}

double BruteAccuracy(const Eigen::MatrixXd& f, const Eigen::MatrixXd& Y) {
  int right = 0;
  for (Eigen::Index mu = 0; mu < f.rows(); ++mu) {
    if (f.cols() == 1) {
      // sign f = y with f = 0 wrong: the signs agree and neither is zero.
      right += f(mu, 0) != 0 && Y(mu, 0) != 0 && std::signbit(f(mu, 0)) == std::signbit(Y(mu, 0));
    } else {
      right += FirstLargest(f, mu) == FirstLargest(Y, mu);
    }
  }
  return right / static_cast<double>(f.rows());
}

double BruteError(const Eigen::MatrixXd& f, const Eigen::MatrixXd& var, const Eigen::MatrixXd& Y) {
  double sum = 0;
  for (Eigen::Index mu = 0; mu < f.rows(); ++mu) {
    for (Eigen::Index d = 0; d < f.cols(); ++d) {
      const double r = f(mu, d) - Y(mu, d);
      sum += r * r + var(mu, var.cols() == 1 ? 0 : d);
    }
  }
  return sum / static_cast<double>(f.size());
}

TEST(Metrics, MatchBruteForceLoopsWithZerosAndTies) {
  Engine engine(12);
  boost::random::uniform_real_distribution<double> unit(0.0, 1.0);
  for (Eigen::Index D : {1, 3}) {
    SCOPED_TRACE(D);
    int zeros = 0, ties = 0;
    for (int trial = 0; trial < 50; ++trial) {
      const Eigen::Index P = 1 + trial;
      const Eigen::MatrixXd f = GridMatrix(P, D, engine);
      Eigen::MatrixXd Y = RandomLabels(P, D, engine);
      if (D > 1 && trial % 5 == 0) Y = GridMatrix(P, D, engine);  // ties on the label side too
      for (Eigen::Index mu = 0; mu < P; ++mu) {
        zeros += D == 1 && f(mu, 0) == 0;
        ties += D > 1 && (f.row(mu).array() == f.row(mu).maxCoeff()).count() > 1;
      }
      Eigen::MatrixXd var(P, D), shared(P, 1);
      for (Eigen::Index i = 0; i < var.size(); ++i) var(i) = unit(engine);
      for (Eigen::Index i = 0; i < P; ++i) shared(i) = unit(engine);
      EXPECT_EQ(Accuracy(f, Y), BruteAccuracy(f, Y));
      EXPECT_NEAR(GeneralizationError(f, var, Y), BruteError(f, var, Y), 1e-14);
      EXPECT_NEAR(GeneralizationError(f, shared, Y), BruteError(f, shared, Y), 1e-14);
      EXPECT_NEAR(MeanSquaredError(f, Y), BruteError(f, Eigen::MatrixXd::Zero(P, 1), Y), 1e-14);
    }
    // The draws did exercise the conventions.
    EXPECT_GT(D == 1 ? zeros : ties, 100);
  }
}

TEST(Metrics, ZeroIsWrongAndTiesGoToTheLowestOutput) {
  Eigen::MatrixXd f(4, 1), y(4, 1);
  f << 0.5, -0.2, 0.0, 0.3;
  y << 1, -1, 1, -1;
  EXPECT_DOUBLE_EQ(Accuracy(f, y), 0.5);  // 0 is wrong for either label
  Eigen::MatrixXd g(3, 3), Y(3, 3);
  g << 0.1, 0.5, 0.2,  //
      0.4, 0.4, 0.0,   // tie between outputs 0 and 1: output 0, right
      0.0, 0.0, 0.0;   // all tied: output 0, wrong
  Y << 0, 1, 0,        //
      1, 0, 0,         //
      0, 0, 1;
  EXPECT_DOUBLE_EQ(Accuracy(g, Y), 2.0 / 3.0);
  Eigen::VectorXd var(4);
  var << 0.1, 0.2, 0.3, 0.4;
  EXPECT_DOUBLE_EQ(GeneralizationError(f, var, y), (0.25 + 0.64 + 1.0 + 1.69) / 4 + 0.25);
  EXPECT_DOUBLE_EQ(MeanSquaredError(f, y), (0.25 + 0.64 + 1.0 + 1.69) / 4);
}

TEST(Metrics, NoTestPointsGiveNaN) {
  const Eigen::MatrixXd none(0, 3), column(0, 1);
  EXPECT_TRUE(std::isnan(Accuracy(none, none)));
  EXPECT_TRUE(std::isnan(MeanSquaredError(none, none)));
  EXPECT_TRUE(std::isnan(GeneralizationError(none, column, none)));
}

TEST(Metrics, ShapesThatDisagreeThrowNamingTheField) {
  const Eigen::MatrixXd f = Eigen::MatrixXd::Zero(4, 3);
  try {
    Accuracy(f, Eigen::MatrixXd::Zero(4, 2));
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("y_test shape: found 4 x 2"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(MeanSquaredError(f, Eigen::MatrixXd::Zero(3, 3)), Error);
  try {
    GeneralizationError(f, Eigen::MatrixXd::Zero(4, 2), f);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("variance shape: found 4 x 2"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace attnpaths
