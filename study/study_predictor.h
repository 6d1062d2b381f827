// StudyPredictor — a solution of a study applied to any test inputs
// (theory.md §4, §9): the finite-width theory's `predict_fn`, as
// neural-tangents gives one for the NTK/NNGP.
//
//   const Study study = LoadStudy("run.toml");
//   const LoadedSolution s = LoadSolution(study, "runs/a");       // or SolveStudy
//   const StudyPredictor predict(s.study, s.temperature, s.order_parameters.U[0]);
//   PredictorStatistics st = predict(x_new, &y_new);   // mean, variance, covariance, accuracy
//   PredictorStatistics t = predict.Test();             // the study's own test set
//
// The training path inputs are computed once (or shared with the solve that
// made the solution); each call computes the path inputs of its inputs and the
// predictor mean k*ᵀ G⁻¹ y, variance and covariance with G = K_U + T I. New
// inputs must have the training set's n_tok and N0; labels follow the study's
// task (data/labels.h). Errors name the argument.
#pragma once

#include <memory>
#include <string>

#include "data/config.h"
#include "kernels/inputs.h"
#include "kernels/path_kernel.h"
#include "solver/predictor.h"

namespace attnpaths {

class StudyPredictor {
 public:
  // `study` at the solution's widths, its temperature and U_1
  // ((Htot D) × (Htot D)). `threads` for path inputs (0: all cores). `train`:
  // the training path kernel when the caller has it (SolveStudy), else
  // computed here. `U1_field` names U_1 in errors (its file, for a loaded one).
  StudyPredictor(Study study, double temperature, Eigen::MatrixXd U1, int threads = 0,
                 std::shared_ptr<const PathKernel> train = nullptr,
                 const std::string& U1_field = "U1");

  // The predictor on inputs `x` (P* ≥ 1 examples) and, when `y` is given, its
  // labels (P* × D) for accuracy and generalisation error; `x_field` and
  // `y_field` name them in errors.
  PredictorStatistics operator()(const Inputs& x, const Eigen::MatrixXd* y,
                                 const std::string& x_field = "x",
                                 const std::string& y_field = "y") const;
  // The predictor on the study's test set (its labels when it has them).
  PredictorStatistics Test() const;

  const Study& study() const { return study_; }
  double temperature() const { return temperature_; }
  const Eigen::MatrixXd& U1() const { return U1_; }
  const PathKernel& train() const { return *train_; }

 private:
  PredictorStatistics Run(const Inputs& x, const Eigen::MatrixXd* y, Split split,
                          const std::string& x_field) const;

  Study study_;
  double temperature_ = 0;
  Eigen::MatrixXd U1_;
  int threads_ = 0;
  std::shared_ptr<const PathKernel> train_;
};

}  // namespace attnpaths
