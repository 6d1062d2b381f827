#include "study/study_predictor.h"

#include <cmath>

#include "data/labels.h"
#include "kernels/error.h"
#include "kernels/finite_path_inputs.h"
#include "kernels/path_inputs.h"
#include "parallel/communicator.h"
#include "study/settings.h"
#include "study/study_kernels.h"
#include "study/test_predictions.h"

namespace attnpaths {

StudyPredictor::StudyPredictor(Study study, double temperature, Eigen::MatrixXd U1, int threads,
                               std::shared_ptr<const PathKernel> train, const std::string& U1_field)
    : study_(std::move(study)), temperature_(temperature), U1_(std::move(U1)), threads_(threads) {
  Require(std::isfinite(temperature_) && temperature_ >= 0, "temperature", temperature_,
          "a finite value >= 0");
  const Eigen::Index D = study_.train.y.cols(), m = study_.architecture.Htot() * D;
  Require(U1_.rows() == m && U1_.cols() == m, U1_field + " shape",
          std::to_string(U1_.rows()) + " x " + std::to_string(U1_.cols()),
          std::to_string(m) + " x " + std::to_string(m) + " (Htot" +
              (D > 1 ? " times the " + std::to_string(D) + " label columns" : std::string()) +
              " of the config)");
  Require(U1_.allFinite(), U1_field, "a non-finite entry", "finite entries");
  if (train) {
    Require(train->P() == StudyExamples(study_, Split::kTrain) &&
                train->Htot() == study_.architecture.Htot(),
            "train", "a path kernel of another training set or architecture",
            "the path kernel of the study's training set");
    train_ = std::move(train);
    return;
  }
  const SolveOptions settings = ReadStudySettings(study_).solve;
  train_ = BuildTrainKernel(study_, threads_, settings.storage, settings.block_examples);
}

PredictorStatistics StudyPredictor::operator()(const Inputs& x, const Eigen::MatrixXd* y,
                                               const std::string& x_field,
                                               const std::string& y_field) const {
  const Inputs& train = study_.train.x;
  Require(x.n_tok() == train.n_tok() && x.N0() == train.N0(), x_field + " shape",
          "(" + std::to_string(x.P()) + ", " + std::to_string(x.n_tok()) + ", " +
              std::to_string(x.N0()) + ")",
          "(P_test, " + std::to_string(train.n_tok()) + ", " + std::to_string(train.N0()) +
              ") like data.train_x of " + study_.config_path + " (n_tok tokens of N0 features)");
  Require(x.P() >= 1, x_field, "0 examples", "test inputs to predict");
  x.CheckFinite(x_field.c_str());
  if (y) {
    const Eigen::Index D = study_.train.y.cols();
    Require(y->rows() == x.P(), y_field + " rows", y->rows(),
            std::to_string(x.P()) + " (one label row per example of the inputs)");
    Require(y->cols() == D, y_field + " columns", y->cols(),
            std::to_string(D) + " (as many as data.train_y)");
    CheckLabelConvention(*y, study_.task, y_field, false, &study_.train.y);
  }
  return Run(x, y, Split::kTest, x_field);
}

PredictorStatistics StudyPredictor::Test() const {
  Require(StudyExamples(study_, Split::kTest) >= 1, study_.config_path + ": data.test_x",
          "no test set", "test inputs to predict (give them to the call, or test_x in the study)");
  if (TestSetInBlocks(study_) || Communicator::World().size() > 1) {
    // Streamed, or split over the processes of an MPI run (study/test_predictions.h).
    return PredictStudyTest(study_, *train_, PathInputs{}, temperature_, U1_, threads_,
                            ReadStudySettings(study_).solve.block_examples);
  }
  return Run(study_.test.x, study_.has_test_labels ? &study_.test.y : nullptr, Split::kTest,
             study_.config_path + ": data.test_x");
}

PredictorStatistics StudyPredictor::Run(const Inputs& x, const Eigen::MatrixXd* y, Split split,
                                        const std::string& x_field) const {
  const PathInputs test = ComputePathInputs(study_.architecture, x, split, threads_);
  CheckFinitePathInputs(study_.architecture, x, test, split, x_field);
  PredictorStatistics st = Predict(*train_, study_.train.y, temperature_, U1_, test, y);
  ApplyTask(study_.task, &st);
  return st;
}

}  // namespace attnpaths
