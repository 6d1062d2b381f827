// attnpaths predict --config run.toml --solution DIR — a saved solution
// (U_1.npy and summary.json written by solve) on new test inputs, no re-solve
// (theory.md §4).
#include <cmath>
#include <filesystem>
#include <iostream>

#include "cli/commands.h"
#include "study/settings.h"
#include "cli/run_provenance.h"
#include "cli/solution_record.h"
#include "cli/study_run.h"
#include "data/atomic_file.h"
#include "data/npy.h"
#include "data/result_index.h"
#include "data/sha256.h"
#include "kernels/error.h"
#include "solver/predictor.h"

namespace attnpaths::cli {

namespace {

struct PredictCliOptions {
  std::string config, solution, test_x, test_y, output;
};

int RunPredict(const PredictCliOptions& o, const GlobalOptions& g) {
  Require(o.test_y.empty() || !o.test_x.empty(), "--test-y", "labels without --test-x",
          "--test-x as well (the inputs the labels belong to)");
  Study study = LoadStudy(o.config);
  const auto in = [&](const std::string& f) {
    return (std::filesystem::path(o.solution) / f).string();
  };
  nlohmann::json summary;
  try {
    summary = nlohmann::json::parse(ReadFile(in("summary.json")));
  } catch (const nlohmann::json::exception& e) {
    throw Error(ErrorMessage(in("summary.json"), "invalid JSON", "a summary written by solve"));
  }
  Require(
      summary.is_object() && summary.contains("temperature") && summary["temperature"].is_number(),
      in("summary.json") + ": temperature",
      summary.is_object() && summary.contains("temperature") ? summary["temperature"].dump()
                                                             : std::string("nothing"),
      "the temperature of the solution (a number)");
  const double T = summary["temperature"].get<double>();
  Require(std::isfinite(T) && T >= 0, in("summary.json") + ": temperature", T,
          "a finite value >= 0");
  const bool recorded = CheckSolvedFor(summary, study, in("summary.json"));
  const bool listed = VerifyIndexFiles(summary, o.solution, in("summary.json"));

  const Eigen::MatrixXd U1 = NpyToMatrix(ReadNpy(in("U_1.npy")), in("U_1.npy"));
  if (!o.test_x.empty()) {
    study.test.x = NpyToInputs(ReadNpy(o.test_x), "--test-x " + o.test_x);
    Require(
        study.test.x.n_tok() == study.train.x.n_tok() && study.test.x.N0() == study.train.x.N0(),
        "--test-x " + o.test_x + " shape",
        "(" + std::to_string(study.test.x.P()) + ", " + std::to_string(study.test.x.n_tok()) +
            ", " + std::to_string(study.test.x.N0()) + ")",
        "(P_test, " + std::to_string(study.train.x.n_tok()) + ", " +
            std::to_string(study.train.x.N0()) + ") like data.train_x of " + o.config +
            " (n_tok tokens of N0 features)");
    study.test.x.CheckFinite(("--test-x " + o.test_x).c_str());
    study.has_test_labels = false;
    study.test.y.resize(0, study.train.y.cols());
    if (!o.test_y.empty()) {
      study.test.y = NpyToMatrix(ReadNpy(o.test_y), "--test-y " + o.test_y);
      Require(study.test.y.rows() == study.test.x.P(), "--test-y " + o.test_y + " rows",
              study.test.y.rows(),
              std::to_string(study.test.x.P()) + " (one label row per example of --test-x)");
      Require(study.test.y.cols() == study.train.y.cols(), "--test-y " + o.test_y + " columns",
              study.test.y.cols(),
              std::to_string(study.train.y.cols()) + " (as many as data.train_y)");
      CheckLabelConvention(study.test.y, study.task, "--test-y " + o.test_y, false, &study.train.y);
      study.has_test_labels = true;
    }
  }
  Require(study.test.x.P() >= 1,
          o.test_x.empty() ? study.config_path + ": data.test_x" : "--test-x",
          o.test_x.empty() ? std::string("no test set") : std::string("0 examples"),
          "test inputs to predict (give --test-x, or test_x in the config)");
  const std::string out = o.output.empty() ? o.solution : o.output;
  ResultFolder folder(
      out, {"predict.json", "predict_mean.npy", "predict_variance.npy", "predict_covariance.npy"});
  const Eigen::Index D = study.train.y.cols(), m = study.architecture.Htot() * D;
  Require(U1.rows() == m && U1.cols() == m, in("U_1.npy") + " shape",
          std::to_string(U1.rows()) + " x " + std::to_string(U1.cols()),
          std::to_string(m) + " x " + std::to_string(m) + " (Htot" +
              (D > 1 ? " times the " + std::to_string(D) + " label columns" : std::string()) +
              " of the config)");
  const SolveOptions solve_settings = ReadStudySettings(study).solve;
  const StudyKernels k =
      BuildKernels(study, g.threads, solve_settings.storage, solve_settings.block_examples);
  PredictorStatistics st = Predict(*k.train, study.train.y, T, U1, k.test,
                                   study.has_test_labels ? &study.test.y : nullptr);
  if (!recorded || !listed) WarnUnchecked(in("summary.json"));  // every other check passed
  ApplyTask(study.task, &st);
  const std::vector<std::string> arrays = StagePredictorArrays(folder, "predict", st);
  nlohmann::json j;
  j["solution"] = o.solution;
  j["temperature"] = T;
  j["test_examples"] = study.test.x.P();
  j["outputs"] = D;
  j["test_accuracy"] = std::isfinite(st.accuracy) ? nlohmann::json(st.accuracy) : nlohmann::json();
  j["generalization_error"] = std::isfinite(st.generalization_error)
                                  ? nlohmann::json(st.generalization_error)
                                  : nlohmann::json();
  Provenance run = CommandProvenance(g, study.config_path);
  RecordStudy(study, g, &run);
  run.Set("solution", {{"path", o.solution}, {"sha256_U_1", Sha256OfFile(in("U_1.npy"))}});
  for (const auto& [flag, file] : {std::pair{"test_x", o.test_x}, std::pair{"test_y", o.test_y}}) {
    if (!file.empty()) run.Set(flag, {{"path", file}, {"sha256", Sha256OfFile(file)}});
  }
  j["provenance"] = run.Json();
  j["files"] = FilesJson(folder.Staged(arrays));
  WriteFileAtomically(folder.Path("predict.json"), j.dump(2) + "\n");
  folder.Commit({"predict.json"});
  if (g.json) {
    std::cout << j.dump(2) << std::endl;
  } else {
    std::cout << "predicted " << study.test.x.P() << " test inputs; accuracy " << j["test_accuracy"]
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
  cmd->add_flag("--json", global.json, "Print the JSON summary on stdout");
  cmd->add_flag("--quiet", global.quiet, "No progress on stderr");
  cmd->add_option("--threads", global.threads, "Threads for path inputs (0: all cores)");
  cmd->callback([o, &global, run] { *run = [o, &global] { return RunPredict(*o, global); }; });
}

}  // namespace attnpaths::cli
