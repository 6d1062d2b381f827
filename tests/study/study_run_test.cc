// The study/ layer on a small Markov-task study written to a temporary folder:
// every sweep point is the saddle point a cold solve at that width finds (the
// continuation in N only changes the start), a resumed sweep solves nothing
// and writes the same table, a changed grid is refused, LoadSolution reads
// back exactly what WriteStudySolution and Sweep wrote, and StudyPredictor on
// new inputs equals Predict on path inputs computed here.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "data/atomic_file.h"
#include "data/result_folder.h"
#include "kernels/error.h"
#include "kernels/path_inputs.h"
#include "solver/predictor.h"
#include "study/result_row.h"
#include "study/settings.h"
#include "study/solution_files.h"
#include "study/solution_reader.h"
#include "study/solve_study.h"
#include "study/study_predictor.h"
#include "study/sweep.h"

namespace attnpaths {
namespace {

namespace fs = std::filesystem;

const char* kStudy = R"(name = "study-run-test"
temperature = 0.05
[data]
generator = "hmm"
[data.hmm]
P = 24
P_test = 16
chain_tokens = 6
N_f = 12
[architecture]
width = 40
[[architecture.layers]]
heads = [ { kind = "hmm_same_token", name = "good" }, { kind = "hmm_blank", name = "blank", perturbation = 1, seed = 11 } ]
[[architecture.layers]]
heads = [ { kind = "hmm_uniform", name = "uniform" } ]
[solver]
gradient_tolerance = 1e-11
)";

class StudyRun : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("attnpaths_study_run_" +
            std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    config_ = (dir_ / "study.toml").string();
    std::ofstream(config_) << kStudy;
    study_ = LoadStudy(config_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path dir_;
  std::string config_;
  Study study_;
};

double MaxDiff(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b) {
  return (a - b).cwiseAbs().maxCoeff();
}

TEST_F(StudyRun, SweepPointsAreColdSolvesAndResumeSolvesNothing) {
  SweepOptions options;
  options.widths = {40, 10};
  options.temperatures = {0.05, 0.2};
  options.output = (dir_ / "sweep").string();
  int reports = 0;
  options.progress = [&](const SweepProgress&) { ++reports; };
  SweepSummary summary;
  const SweepResult first = Sweep(study_, options, &summary);
  EXPECT_EQ(summary.points, 4u);
  EXPECT_EQ(summary.solved, 4u);
  EXPECT_TRUE(summary.all_converged);
  EXPECT_EQ(reports, 5);  // path inputs, then one per point
  ASSERT_EQ(first.points.size(), 4u);

  // Independent: each point solved from U_GP at its own width.
  for (const nlohmann::json& row : first.points) {
    Study at = study_;
    const double N = row["N"].get<double>(), T = row["temperature"].get<double>();
    at.architecture.widths.assign(at.architecture.widths.size(), N);
    const StudySolution cold = SolveStudy(at, T, ReadStudySettings(at).solve, 1);
    ASSERT_TRUE(cold.summary.converged());
    const LoadedSolution point =
        LoadSolution(study_, (fs::path(options.output) / "points" /
                              ("N" + ExactNumber(N) + "_T" + ExactNumber(T) + ".json"))
                                 .string());
    EXPECT_LT(MaxDiff(point.order_parameters.U[0], cold.solution.order_parameters.U[0]), 1e-6)
        << "N = " << N << ", T = " << T;
    EXPECT_EQ(point.temperature, T);
    EXPECT_EQ(*point.N, N);
    EXPECT_NEAR(row["action"].get<double>(), cold.solution.action,
                1e-9 * std::abs(cold.solution.action));
  }

  // Resumed: nothing solved, the same table.
  SweepSummary again;
  const SweepResult second = Sweep(study_, options, &again);
  EXPECT_EQ(again.solved, 0u);
  EXPECT_EQ(again.loaded, 4u);
  EXPECT_EQ(second.points, first.points);
  EXPECT_EQ(second.csv.substr(second.csv.find('\n')), first.csv.substr(first.csv.find('\n')));

  // Another grid in the same folder is refused, naming the manifest.
  options.widths = {40, 20};
  try {
    Sweep(study_, options, &again);
    FAIL() << "a different sweep was resumed";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("sweep_manifest.json"), std::string::npos) << e.what();
  }
}

TEST_F(StudyRun, WrittenSolutionReadsBackAndPredictsNewInputs) {
  const double T = study_.temperatures[0];
  const StudySolution s = SolveStudy(study_, T, ReadStudySettings(study_).solve, 1);
  ASSERT_TRUE(s.summary.converged());
  const std::string out = (dir_ / "solve").string();
  {
    ResultFolder folder(out, SolutionFiles());
    WriteStudySolution(folder, study_, s, nlohmann::json::object());
  }
  const LoadedSolution loaded = LoadSolution(study_, out);
  EXPECT_TRUE(loaded.unchecked.empty());
  EXPECT_EQ(loaded.temperature, T);
  ASSERT_EQ(loaded.order_parameters.U.size(), 2u);
  for (size_t l = 0; l < 2; ++l) {
    EXPECT_EQ(loaded.order_parameters.U[l], s.solution.order_parameters.U[l]);  // NPY is exact
  }
  EXPECT_EQ(loaded.order_parameters.U_a, s.solution.order_parameters.U_a);

  // Predictions on the first 5 test examples, against path inputs computed here.
  const StudyPredictor predict(loaded.study, loaded.temperature, loaded.order_parameters.U[0], 1);
  const Inputs x = study_.test.x.Select({0, 1, 2, 3, 4});
  const Eigen::MatrixXd y = study_.test.y.topRows(5);
  const PredictorStatistics got = predict(x, &y);
  const PathInputs xi_train =
      ComputePathInputs(study_.architecture, study_.train.x, Split::kTrain, 1);
  const PathKernel train(xi_train, study_.kernel);
  const PathInputs xi_test = ComputePathInputs(study_.architecture, x, Split::kTest, 1);
  const PredictorStatistics want =
      Predict(train, study_.train.y, T, s.solution.order_parameters.U[0], xi_test, &y);
  EXPECT_LT(MaxDiff(got.mean, want.mean), 1e-12);
  EXPECT_LT(MaxDiff(got.variance, want.variance), 1e-12);
  EXPECT_EQ(got.accuracy, want.accuracy);
  // The study's own test set is what SolveStudy predicted.
  EXPECT_LT(MaxDiff(predict.Test().mean, s.test.mean), 1e-12);

  // Errors name the argument.
  const Inputs wrong(3, study_.train.x.n_tok(), study_.train.x.N0() + 1);
  EXPECT_THROW(
      {
        try {
          predict(wrong, nullptr, "x_new");
        } catch (const Error& e) {
          EXPECT_EQ(std::string(e.what()).rfind("x_new shape: found (3, ", 0), 0u) << e.what();
          throw;
        }
      },
      Error);
  const Eigen::MatrixXd y_bad = Eigen::MatrixXd::Constant(4, 1, 1.0);
  EXPECT_THROW(predict(x, &y_bad), Error);
  EXPECT_THROW(StudyPredictor(loaded.study, T, Eigen::MatrixXd::Identity(3, 3)), Error);
}

}  // namespace
}  // namespace attnpaths
