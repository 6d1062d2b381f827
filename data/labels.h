// Label conventions: what the numbers in y mean (docs/config.md, "Labels").
//
//   attnpaths::Task task = attnpaths::ParseTask("classification", "data.task");
//   attnpaths::CheckLabelConvention(y_train, task, "data.train_y", /*training=*/true);
//   attnpaths::CheckLabelConvention(y_test, task, "data.test_y", false, &y_train);
//
// Classification (the default) — accuracy is reported:
//   D = 1  every label is +1 or -1 (sign f = y counts as correct). Labels in
//          {0, 1} are refused with the conversion y -> 2y - 1.
//   D > 1  one-hot rows: exactly one entry per row is "hot" (+1), every other
//          entry is 0 ({0, 1} coding) or -1 (+-1 coding); every row uses the
//          same coding, and accuracy compares argmax f with the hot column.
//   Training labels hold at least two classes.
// Regression — any finite targets; accuracy is not reported (NaN / null), the
// generalisation error is.
#pragma once

#include <Eigen/Core>
#include <string>

namespace attnpaths {

enum class Task { kClassification, kRegression };

const char* TaskName(Task task);
// Parses "classification" or "regression"; throws Error naming `field`.
Task ParseTask(const std::string& text, const std::string& field);

// Throws Error naming `field`, the offending row and value, and the
// convention when `y` does not follow the task's label convention. For
// training labels (`training`), classification also needs two classes. When
// `reference` is given (the training labels), the coding of `y` must match it.
void CheckLabelConvention(const Eigen::Ref<const Eigen::MatrixXd>& y, Task task,
                          const std::string& field, bool training,
                          const Eigen::MatrixXd* reference = nullptr);

}  // namespace attnpaths
