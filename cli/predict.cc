// attnpaths predict --config run.toml --solution DIR — a saved solution (a
// folder written by solve or gp, its summary.json, or a sweep point file, read
// by study/solution_reader.h) on new test inputs, no re-solve (theory.md §4).
#include <cmath>
#include <filesystem>
#include <iostream>
#include <optional>

#include "cli/commands.h"
#include "cli/run_provenance.h"
#include "cli/solution_record.h"
#include "cli/study_run.h"
#include "data/atomic_file.h"
#include "data/npy.h"
#include "data/result_index.h"
#include "data/sha256.h"
#include "kernels/collective.h"
#include "kernels/error.h"
#include "parallel/communicator.h"
#include "solver/predictor.h"
#include "study/solution_files.h"
#include "study/solution_reader.h"
#include "study/study_examples.h"
#include "study/study_predictor.h"

namespace attnpaths::cli {

namespace {

struct PredictCliOptions {
  std::string config, solution, test_x, test_y, output;
};

int RunPredict(const PredictCliOptions& o, const GlobalOptions& g) {
  Require(o.test_y.empty() || !o.test_x.empty(), "--test-y", "labels without --test-x",
          "--test-x as well (the inputs the labels belong to)");
  const Communicator& world = Communicator::World();
  Study study;
  std::optional<LoadedSolution> solution;
  Inputs test_x;
  Eigen::MatrixXd test_y;
  bool folder_given = false;
  std::string out;
  std::optional<ResultFolder> folder;  // rank 0's (docs/cli.md "Running over MPI")
  RunCollectively(world, [&] {
    study = LoadStudy(o.config, StudyLoading::kDeferGenerated);
    ResolveStudyData(&study, std::nullopt);  // a generated set streamed in the feature form
    // A folder written by solve or gp, its summary.json, or a sweep point file, with
    // every check of study/solution_reader.h.
    solution.emplace(LoadSolution(study, o.solution, "--solution"));
    folder_given = std::filesystem::is_directory(o.solution);
    Require(folder_given || !o.output.empty(), "--output", "nothing",
            "an output directory when --solution is a JSON file");
    if (!o.test_x.empty()) {
      test_x = NpyToInputs(ReadNpy(o.test_x), "--test-x " + o.test_x);
      if (!o.test_y.empty()) test_y = NpyToMatrix(ReadNpy(o.test_y), "--test-y " + o.test_y);
    }
    Require(!o.test_x.empty() || StudyExamples(study, Split::kTest) >= 1,
            study.config_path + ": data.test_x", "no test set",
            "test inputs to predict (give --test-x, or test_x in the config)");
    out = o.output.empty() ? o.solution : o.output;
    if (world.root()) {
      folder.emplace(
          out, std::vector<std::string>{"predict.json", "predict_mean.npy", "predict_variance.npy",
                                        "predict_covariance.npy"});
    }
  });
  const double T = solution->temperature;
  const Eigen::MatrixXd& U1 = solution->order_parameters.U[0];
  const Eigen::Index D = study.train.y.cols();
  const StudyPredictor predictor(study, T, U1, g.threads);
  PredictorStatistics st;
  if (o.test_x.empty()) {
    st = predictor.Test();  // split over the processes of an MPI run
  } else {
    RunCollectively(world, [&] {
      st = predictor(test_x, o.test_y.empty() ? nullptr : &test_y, "--test-x " + o.test_x,
                     "--test-y " + o.test_y);
    });
  }
  if (!world.root()) return 0;
  const Eigen::Index P_test = st.mean.rows();
  if (!solution->unchecked.empty()) WarnUnchecked(solution->unchecked);  // every other check passed
  const std::vector<std::string> arrays = StagePredictorArrays(*folder, "predict", st);
  nlohmann::json j;
  j["solution"] = o.solution;
  j["temperature"] = T;
  j["test_examples"] = P_test;
  j["outputs"] = D;
  j["test_accuracy"] = std::isfinite(st.accuracy) ? nlohmann::json(st.accuracy) : nlohmann::json();
  j["generalization_error"] = std::isfinite(st.generalization_error)
                                  ? nlohmann::json(st.generalization_error)
                                  : nlohmann::json();
  Provenance run = CommandProvenance(g, study.config_path);
  RecordStudy(study, g, &run);
  if (folder_given) {
    const std::string u1 = (std::filesystem::path(o.solution) / "U_1.npy").string();
    run.Set("solution", {{"path", o.solution}, {"sha256_U_1", Sha256OfFile(u1)}});
  } else {
    run.Set("solution", {{"path", o.solution}, {"sha256", Sha256OfFile(o.solution)}});
  }
  for (const auto& [flag, file] : {std::pair{"test_x", o.test_x}, std::pair{"test_y", o.test_y}}) {
    if (!file.empty()) run.Set(flag, {{"path", file}, {"sha256", Sha256OfFile(file)}});
  }
  j["provenance"] = run.Json();
  j["files"] = FilesJson(folder->Staged(arrays));
  WriteFileAtomically(folder->Path("predict.json"), j.dump(2) + "\n");
  folder->Commit({"predict.json"});
  if (g.json) {
    std::cout << j.dump(2) << std::endl;
  } else {
    std::cout << "predicted " << P_test << " test inputs; accuracy " << j["test_accuracy"]
              << ", generalization error " << j["generalization_error"] << "\nwrote " << out
              << "/predict_mean.npy, predict_variance.npy, predict_covariance.npy, predict.json\n";
  }
  return 0;
}

}  // namespace

void RegisterPredict(CLI::App& app, GlobalOptions& global, Command* run) {
  auto* cmd = app.add_subcommand("predict", "Predict new test inputs from a saved solution");
  auto o = std::make_shared<PredictCliOptions>();
  cmd->add_option("--config,-c", o->config, "The TOML study the solution was solved for")
      ->check(NonEmptyPath())
      ->required();
  cmd->add_option("--solution,-s", o->solution, "Directory written by solve")
      ->check(NonEmptyPath())
      ->required();
  cmd->add_option("--test-x", o->test_x, "New test inputs (NPY, P x n_tok x N0)")
      ->check(NonEmptyPath());
  cmd->add_option("--test-y", o->test_y, "Their labels (NPY), for accuracy")->check(NonEmptyPath());
  cmd->add_option("--output,-o", o->output, "Output directory (default: the solution's)")
      ->check(NonEmptyPath());
  AddRunFlags(cmd, global, "Print the JSON summary on stdout", "Threads for path inputs");
  cmd->callback([o, &global, run] { *run = [o, &global] { return RunPredict(*o, global); }; });
}

}  // namespace attnpaths::cli
