// Invalid input throws attnpaths::Error whose message names the field, the
// value found and what was expected (docs/errors.md). Missing files are
// covered by the data/ and CLI tests.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <Eigen/Core>
#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "kernels/architecture.h"
#include "kernels/error.h"
#include "kernels/head.h"
#include "kernels/path_inputs.h"
#include "kernels/path_kernel.h"
#include "solver/action.h"
#include "solver/order_parameters.h"
#include "solver/predictor.h"
#include "solver/solve.h"
#include "tests/support/random_inputs.h"
#include "tests/support/random_problem.h"

namespace attnpaths {
namespace {

using test_util::Rng;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// The message of the attnpaths::Error thrown by f; fails the test when f
// throws nothing or something else.
std::string ErrorOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "threw a non-attnpaths exception: " << e.what();
    return "";
  }
  ADD_FAILURE() << "no attnpaths::Error thrown";
  return "";
}

class ValidationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Rng rng(90);
    pr_ = test_util::MakeRandomProblem({2, 2}, rng);
    kernel_ = std::make_unique<PathKernel>(ComputePathInputs(pr_.arch, pr_.X, Split::kTrain));
    test_ = ComputePathInputs(pr_.arch, pr_.X_test, Split::kTest);
  }
  test_util::RandomProblem pr_;
  std::unique_ptr<PathKernel> kernel_;
  PathInputs test_;
};

TEST_F(ValidationTest, NegativeOrNonFiniteTemperature) {
  EXPECT_THAT(ErrorOf([&] { Action(pr_.arch, *kernel_, pr_.Y, -0.5); }),
              AllOf(StartsWith("temperature: found -0.5"), HasSubstr(">= 0")));
  EXPECT_THAT(
      ErrorOf([&] { Action(pr_.arch, *kernel_, pr_.Y, std::numeric_limits<double>::quiet_NaN()); }),
      AllOf(HasSubstr("temperature"), HasSubstr("nan")));
  const Eigen::MatrixXd U = GpLimit(pr_.arch).U[0];
  EXPECT_THAT(ErrorOf([&] { Predict(*kernel_, pr_.Y, -1.0, U, test_); }),
              AllOf(HasSubstr("temperature"), HasSubstr("-1")));
}

TEST_F(ValidationTest, WidthsAndVariances) {
  Architecture arch = pr_.arch;
  arch.widths[1] = 0.5;
  EXPECT_THAT(ErrorOf([&] { Action(arch, *kernel_, pr_.Y, 0.1); }),
              AllOf(HasSubstr("architecture.widths[1]"), HasSubstr("0.5"), HasSubstr(">= 1")));
  EXPECT_THAT(ErrorOf([&] { ComputePathInputs(arch, pr_.X, Split::kTrain); }),
              HasSubstr("architecture.widths[1]"));
  EXPECT_THAT(ErrorOf([&] { GpLimit(arch); }), HasSubstr("architecture.widths[1]"));
  arch = pr_.arch;
  arch.widths.pop_back();
  EXPECT_THAT(
      ErrorOf([&] { Action(arch, *kernel_, pr_.Y, 0.1); }),
      AllOf(HasSubstr("architecture.widths count"), HasSubstr("found 2"), HasSubstr("expected 3")));
  arch = pr_.arch;
  arch.variances[2] = 0.0;
  EXPECT_THAT(ErrorOf([&] { Action(arch, *kernel_, pr_.Y, 0.1); }),
              AllOf(HasSubstr("architecture.variances[2]"), HasSubstr("> 0")));
  arch = pr_.arch;
  arch.variances.push_back(1.0);
  EXPECT_THAT(ErrorOf([&] { Action(arch, *kernel_, pr_.Y, 0.1); }),
              HasSubstr("architecture.variances count"));
  arch = pr_.arch;
  arch.layers.clear();
  EXPECT_THAT(ErrorOf([&] { arch.ValidateHyperparameters(); }), HasSubstr("architecture.layers"));
  arch = pr_.arch;
  arch.layers[1].clear();
  EXPECT_THAT(ErrorOf([&] { arch.ValidateHyperparameters(); }),
              HasSubstr("architecture.layers[2].heads"));
}

TEST_F(ValidationTest, LabelShapeAndValues) {
  const Eigen::MatrixXd too_many = Eigen::MatrixXd::Ones(pr_.X.P() + 1, 1);
  EXPECT_THAT(ErrorOf([&] { Action(pr_.arch, *kernel_, too_many, 0.1); }),
              AllOf(StartsWith("y rows: found 13"), HasSubstr("expected 12")));
  EXPECT_THAT(ErrorOf([&] { Action(pr_.arch, *kernel_, Eigen::MatrixXd(12, 0), 0.1); }),
              HasSubstr("y columns"));
  Eigen::MatrixXd y = pr_.Y;
  y(3, 0) = std::numeric_limits<double>::infinity();
  EXPECT_THAT(ErrorOf([&] { Action(pr_.arch, *kernel_, y, 0.1); }),
              AllOf(HasSubstr("y[3,0]"), HasSubstr("inf"), HasSubstr("finite")));
  const Eigen::MatrixXd U = GpLimit(pr_.arch).U[0];
  EXPECT_THAT(ErrorOf([&] { Predict(*kernel_, too_many, 0.1, U, test_); }), HasSubstr("y rows"));
  const Eigen::MatrixXd y_test = Eigen::MatrixXd::Ones(test_.P() - 1, 1);
  EXPECT_THAT(ErrorOf([&] { Predict(*kernel_, pr_.Y, 0.1, U, test_, &y_test); }),
              HasSubstr("y_test rows"));
  const Eigen::MatrixXd y_test2 = Eigen::MatrixXd::Ones(test_.P(), 2);
  EXPECT_THAT(ErrorOf([&] { Predict(*kernel_, pr_.Y, 0.1, U, test_, &y_test2); }),
              HasSubstr("y_test columns"));
}

TEST_F(ValidationTest, HeadShapes) {
  Architecture arch = pr_.arch;
  arch.layers[0][1].W = Eigen::MatrixXd::Zero(5, 6);
  arch.layers[0][1].name = "second";
  EXPECT_THAT(ErrorOf([&] { ComputePathInputs(arch, pr_.X, Split::kTrain); }),
              AllOf(HasSubstr("layer 1 head 2 (second).W shape"), HasSubstr("found 5 x 6"),
                    HasSubstr("6 x 6")));
  arch = pr_.arch;
  arch.layers[1][0].W(2, 3) = std::numeric_limits<double>::quiet_NaN();
  EXPECT_THAT(ErrorOf([&] { ComputePathInputs(arch, pr_.X, Split::kTrain); }),
              HasSubstr("layer 2 head 1"));
  arch = pr_.arch;
  Rng rng(91);
  arch.layers[1][1] = test_util::RandomQKHead(6, 3, rng);
  arch.layers[1][1].K = Eigen::MatrixXd::Zero(2, 6);
  EXPECT_THAT(ErrorOf([&] { ComputePathInputs(arch, pr_.X, Split::kTrain); }),
              AllOf(HasSubstr("K shape"), HasSubstr("found 2 x 6"), HasSubstr("3 x 6")));
  arch.layers[1][1].K = Eigen::MatrixXd::Zero(3, 6);
  arch.layers[1][1].Q = Eigen::MatrixXd::Zero(3, 4);
  EXPECT_THAT(ErrorOf([&] { ComputePathInputs(arch, pr_.X, Split::kTrain); }),
              HasSubstr("Q shape"));
  arch = pr_.arch;
  arch.layers[0][0].beta = std::numeric_limits<double>::infinity();
  EXPECT_THAT(ErrorOf([&] { ComputePathInputs(arch, pr_.X, Split::kTrain); }), HasSubstr(".beta"));
}

TEST_F(ValidationTest, GivenAttention) {
  Rng rng(92);
  Architecture arch = pr_.arch;
  arch.layers[0][0] = test_util::RandomGivenHead(5, pr_.X.P(), pr_.X_test.P(), rng, "g");
  auto bad = std::make_shared<std::vector<Eigen::MatrixXd>>(*arch.layers[0][0].given_train);
  (*bad)[4](0, 2) += 0.25;  // column 2 of example 4 sums to 1.25
  arch.layers[0][0].given_train = bad;
  EXPECT_THAT(ErrorOf([&] { ComputePathInputs(arch, pr_.X, Split::kTrain); }),
              AllOf(HasSubstr("[4] query 2 weights sum"), HasSubstr("1.25")));
  bad->pop_back();
  (*bad)[4](0, 2) -= 0.25;
  EXPECT_THAT(ErrorOf([&] { ComputePathInputs(arch, pr_.X, Split::kTrain); }),
              AllOf(HasSubstr("g.attention examples"), HasSubstr("found 11"), HasSubstr("12")));
}

TEST_F(ValidationTest, NonFiniteInputsNameTheEntry) {
  Inputs X = pr_.X;
  X.example(7)(4, 2) = std::numeric_limits<double>::quiet_NaN();  // feature 4 of token 2
  EXPECT_THAT(ErrorOf([&] { ComputePathInputs(pr_.arch, X, Split::kTrain); }),
              AllOf(StartsWith("X[7,2,4]: found nan"), HasSubstr("finite")));
  Inputs Xt = pr_.X_test;
  Xt.values().back() = -std::numeric_limits<double>::infinity();
  EXPECT_THAT(ErrorOf([&] { ComputePathInputs(pr_.arch, Xt, Split::kTest); }),
              HasSubstr("X_test[4,4,5]"));
  EXPECT_THAT(ErrorOf([&] { Inputs(2, 0, 3); }), HasSubstr("inputs shape"));
}

TEST(ParseTest, UnknownNamesListTheChoices) {
  EXPECT_EQ(ParseHeadKind("qk", "heads[0].kind"), HeadKind::kQKForm);
  EXPECT_THAT(ErrorOf([] { ParseHeadKind("softmax", "layers[1].heads[0].kind"); }),
              AllOf(StartsWith("layers[1].heads[0].kind: found \"softmax\""),
                    HasSubstr("one of w, qk, uniform, blank, given")));
  EXPECT_EQ(ParseReadout("first", "readout"), Readout::kFirst);
  EXPECT_THAT(ErrorOf([] { ParseReadout("middle", "architecture.readout"); }),
              AllOf(HasSubstr("architecture.readout"), HasSubstr("\"middle\""),
                    HasSubstr("mean, first, last")));
  EXPECT_EQ(ParseKernelStrategy("factored", "kernel"), KernelStrategy::kFactored);
  EXPECT_THAT(ErrorOf([] { ParseKernelStrategy("lazy", "kernel.strategy"); }),
              AllOf(HasSubstr("kernel.strategy"), HasSubstr("\"lazy\"")));
}

TEST_F(ValidationTest, OrderParametersAndSolverOptions) {
  const Action action(pr_.arch, *kernel_, pr_.Y, 0.1);
  std::vector<Eigen::MatrixXd> U = GpLimit(pr_.arch).U;
  U[1] = Eigen::MatrixXd::Identity(3, 3);
  EXPECT_THAT(ErrorOf([&] { action.Evaluate(U); }),
              AllOf(HasSubstr("U_2 shape"), HasSubstr("found 3 x 3"), HasSubstr("2 x 2")));
  U.pop_back();
  EXPECT_THAT(ErrorOf([&] { action.Evaluate(U); }), HasSubstr("number of U_l"));

  SolveOptions options;
  options.gradient_tolerance = 0;
  std::string why;
  EXPECT_FALSE(options.IsValid(&why));
  EXPECT_THAT(why, HasSubstr("solver.gradient_tolerance"));
  EXPECT_THAT(ErrorOf([&] { Solve(action, options, nullptr); }),
              HasSubstr("solver.gradient_tolerance"));
  options = SolveOptions();
  options.max_iterations = -1;
  EXPECT_THAT(ErrorOf([&] { Solve(action, options, nullptr); }),
              HasSubstr("solver.max_iterations"));
  options = SolveOptions();
  options.lbfgs_rank = 0;
  EXPECT_THAT(ErrorOf([&] { Solve(action, options, nullptr); }), HasSubstr("solver.lbfgs_rank"));
  // A start that is not positive definite, and one of the wrong shape.
  options = SolveOptions();
  options.initial_U = GpLimit(pr_.arch).U;
  options.initial_U[0](1, 1) = -1;
  EXPECT_THAT(ErrorOf([&] { Solve(action, options, nullptr); }),
              AllOf(HasSubstr("solver.initial_U[0]"), HasSubstr("positive definite")));
  options.initial_U[0] = Eigen::MatrixXd::Identity(2, 2);
  EXPECT_THAT(ErrorOf([&] { Solve(action, options, nullptr); }), HasSubstr("U_1 shape"));

  // A kernel built for another architecture.
  Architecture other = pr_.arch;
  other.layers[0].pop_back();
  EXPECT_THAT(ErrorOf([&] { Action(other, *kernel_, pr_.Y, 0.1); }),
              AllOf(HasSubstr("path kernel paths"), HasSubstr("found 4"), HasSubstr("2")));
}

}  // namespace
}  // namespace attnpaths
