#include "data/labels.h"

#include <cmath>

#include "kernels/error.h"

namespace attnpaths {

namespace {

const char kRegressionHint[] =
    "; for real-valued targets set task = \"regression\" (accuracy is then not reported)";

std::string Entry(const std::string& field, Eigen::Index row, Eigen::Index col, Eigen::Index D) {
  return field + "[" + std::to_string(row) + (D > 1 ? ", " + std::to_string(col) : "") + "]";
}

// The "cold" value of a one-hot row (0 or -1), or NaN when the row is not one-hot.
double ColdValue(const Eigen::Ref<const Eigen::MatrixXd>& y, Eigen::Index row, Eigen::Index* hot) {
  double cold = std::nan("");
  Eigen::Index hots = 0;
  for (Eigen::Index d = 0; d < y.cols(); ++d) {
    const double v = y(row, d);
    if (v == 1.0) {
      ++hots;
      *hot = d;
    } else if (v == 0.0 || v == -1.0) {
      if (!std::isnan(cold) && cold != v) return std::nan("");
      cold = v;
    } else {
      return std::nan("");
    }
  }
  return hots == 1 ? cold : std::nan("");
}

std::string RowText(const Eigen::Ref<const Eigen::MatrixXd>& y, Eigen::Index row) {
  std::string s = "[";
  for (Eigen::Index d = 0; d < y.cols(); ++d) s += (d ? ", " : "") + ToText(y(row, d));
  return s + "]";
}

}  // namespace

const char* TaskName(Task task) {
  return task == Task::kClassification ? "classification" : "regression";
}

Task ParseTask(const std::string& text, const std::string& field) {
  if (text == "classification") return Task::kClassification;
  if (text == "regression") return Task::kRegression;
  throw Error(ErrorMessage(field, "\"" + text + "\"", "\"classification\" or \"regression\""));
}

void CheckLabelConvention(const Eigen::Ref<const Eigen::MatrixXd>& y, Task task,
                          const std::string& field, bool training,
                          const Eigen::MatrixXd* reference) {
  if (task == Task::kRegression || y.rows() == 0) return;
  const Eigen::Index P = y.rows(), D = y.cols();
  if (D == 1) {
    bool zero_one = true;
    for (Eigen::Index i = 0; i < P; ++i) zero_one = zero_one && (y(i, 0) == 0.0 || y(i, 0) == 1.0);
    if (zero_one && (y.array() == 0.0).any()) {
      throw Error(ErrorMessage(
          field, "labels in {0, 1}",
          "class labels +1 and -1 (convert with y = 2*y - 1)" + std::string(kRegressionHint)));
    }
    for (Eigen::Index i = 0; i < P; ++i) {
      Require(y(i, 0) == 1.0 || y(i, 0) == -1.0, Entry(field, i, 0, 1), y(i, 0),
              "a class label +1 or -1" + std::string(kRegressionHint));
    }
    if (training) {
      const double first = y(0, 0);
      Require((y.array() != first).any(), field,
              "only one class (every label is " + ToText(first) + ")",
              "both classes +1 and -1 in the training labels");
    }
    return;
  }
  // D > 1: one-hot rows with one coding throughout.
  Eigen::Index hot = 0, first_hot = 0;
  double coding = std::nan("");
  if (reference != nullptr && reference->rows() > 0 && reference->cols() == D) {
    coding = ColdValue(*reference, 0, &hot);
  }
  bool two_classes = false;
  for (Eigen::Index i = 0; i < P; ++i) {
    const double cold = ColdValue(y, i, &hot);
    if (std::isnan(cold)) {
      throw Error(ErrorMessage(field + " row " + std::to_string(i), RowText(y, i),
                               "a one-hot row for " + std::to_string(D) +
                                   " classes: one entry +1, the others all 0 (or all -1)" +
                                   kRegressionHint));
    }
    if (std::isnan(coding)) coding = cold;
    if (cold != coding) {
      throw Error(
          ErrorMessage(field + " row " + std::to_string(i), RowText(y, i),
                       std::string("the same one-hot coding as the ") +
                           (reference != nullptr && i == 0 ? "training labels" : "earlier rows") +
                           " (other entries " + ToText(coding) + ")"));
    }
    if (i == 0) first_hot = hot;
    two_classes = two_classes || hot != first_hot;
  }
  if (training) {
    Require(two_classes, field,
            "only one class (every row is hot in column " + std::to_string(first_hot) + ")",
            "at least two classes in the training labels");
  }
}

}  // namespace attnpaths
