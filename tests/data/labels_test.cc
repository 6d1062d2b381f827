// Tests of data/labels.h and of the study reader's use of it: ±1 classes,
// {0, 1} refused with the conversion, one-hot rows for D > 1, regression
// accepting any finite target, and the inputs that mean something else.
#include "data/labels.h"

#include <gtest/gtest.h>

#include <string>

#include "data/config.h"
#include "kernels/error.h"

namespace attnpaths {
namespace {

std::string Message(const Eigen::MatrixXd& y, Task task, bool training,
                    const Eigen::MatrixXd* reference = nullptr) {
  try {
    CheckLabelConvention(y, task, "y", training, reference);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Labels, BinaryNeedsPlusMinusOne) {
  Eigen::MatrixXd y(4, 1);
  y << 1, -1, -1, 1;
  EXPECT_EQ(Message(y, Task::kClassification, true), "");
  Eigen::MatrixXd zero_one = (y.array() + 1) / 2;
  EXPECT_EQ(Message(zero_one, Task::kClassification, true),
            "y: found labels in {0, 1}, expected class labels +1 and -1 (convert with y = 2*y - 1)"
            "; for real-valued targets set task = \"regression\" (accuracy is then not reported)");
  Eigen::MatrixXd real = y * 0.5;
  EXPECT_NE(Message(real, Task::kClassification, true)
                .find("y[0]: found 0.5, expected a class "
                      "label +1 or -1"),
            std::string::npos);
  EXPECT_EQ(Message(real, Task::kRegression, true), "");
  Eigen::MatrixXd ones = Eigen::MatrixXd::Ones(4, 1);
  EXPECT_NE(Message(ones, Task::kClassification, true).find("only one class"), std::string::npos);
  EXPECT_EQ(Message(ones, Task::kClassification, false), "") << "test labels may hold one class";
}

TEST(Labels, OneHotRowsForSeveralOutputs) {
  Eigen::MatrixXd y(3, 3);
  y << 1, 0, 0, 0, 0, 1, 0, 1, 0;
  EXPECT_EQ(Message(y, Task::kClassification, true), "");
  const Eigen::MatrixXd pm = 2 * y.array() - 1;
  EXPECT_EQ(Message(pm, Task::kClassification, true), "");
  Eigen::MatrixXd two = y;
  two(1, 0) = 1;
  EXPECT_NE(Message(two, Task::kClassification, true)
                .find("y row 1: found [1, 0, 1], expected a "
                      "one-hot row for 3 classes"),
            std::string::npos);
  Eigen::MatrixXd mixed = y;
  mixed.row(2) = pm.row(2);
  EXPECT_NE(Message(mixed, Task::kClassification, true).find("the same one-hot coding"),
            std::string::npos);
  EXPECT_NE(Message(pm, Task::kClassification, false, &y).find("as the training labels"),
            std::string::npos);
  Eigen::MatrixXd one_class(2, 3);
  one_class << 0, 1, 0, 0, 1, 0;
  EXPECT_NE(Message(one_class, Task::kClassification, true).find("only one class"),
            std::string::npos);
  EXPECT_EQ(Message(Eigen::MatrixXd::Constant(2, 3, 0.3), Task::kRegression, true), "");
}

TEST(Labels, TaskNames) {
  EXPECT_EQ(ParseTask("regression", "data.task"), Task::kRegression);
  EXPECT_EQ(std::string(TaskName(Task::kClassification)), "classification");
  EXPECT_THROW(ParseTask("regresion", "data.task"), Error);
}

std::string StudyError(const std::string& text) {
  try {
    ParseStudy(text, "", "s.toml");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

const char kHeads[] = "[[architecture.layers]]\nheads = [ { kind = \"hmm_uniform\" } ]\n";

TEST(Labels, StudyInputsThatMeanSomethingElse) {
  const std::string hmm =
      "[data]\ngenerator = \"hmm\"\n[data.hmm]\nP = 6\nP_test = 4\n"
      "chain_tokens = 3\nN_f = 4\n";
  EXPECT_EQ(StudyError(hmm + "[architecture]\n" + kHeads), "");
  EXPECT_NE(StudyError(hmm + "[architecture]\nwidth = 5\nwidths = [5, 5]\n" + kHeads)
                .find("architecture.width and widths: found both"),
            std::string::npos);
  EXPECT_NE(StudyError("temperature = 1\ntemperatures = [1]\n" + hmm + "[architecture]\n" + kHeads)
                .find("temperature and temperatures: found both"),
            std::string::npos);
  EXPECT_NE(StudyError("[data]\ngenerator = \"hmm\"\n[data.hmm]\nP = 1\nchain_tokens = 3\nN_f = 4\n"
                       "[architecture]\n" +
                       std::string(kHeads))
                .find("found only one class"),
            std::string::npos);
  // Regression targets need no second class.
  EXPECT_EQ(StudyError("[data]\ngenerator = \"hmm\"\ntask = \"regression\"\n[data.hmm]\nP = 1\n"
                       "chain_tokens = 3\nN_f = 4\n[architecture]\n" +
                       std::string(kHeads)),
            "");
}

TEST(Labels, GeneratorSizesAreRefusedBeforeAllocating) {
  HmmTaskOptions o;
  o.P = 1000000000000;
  try {
    GenerateHmmTask(o);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("hmm.P: found P*n_tok*N0 = 1000000000000*31*231"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace attnpaths
