#include "cli/study_run.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <limits>
#include <system_error>

#include "data/atomic_file.h"
#include "data/npy.h"
#include "data/result_index.h"
#include "kernels/error.h"
#include "kernels/example_source.h"
#include "kernels/finite_path_inputs.h"
#include "kernels/gram.h"
#include "study/settings.h"

namespace attnpaths::cli {

KernelOptions StudyKernelOptions(const Study& study, std::optional<GramStorage> storage) {
  KernelOptions o = study.kernel;
  const GramStorage s = storage ? *storage : ReadStudySettings(study).solve.storage;
  if (s != GramStorage::kAuto) o.strategy = ToKernelStrategy(s);
  o.outputs = std::max<Eigen::Index>(study.train.y.cols(), 1);
  o.zero_temperature = false;
  for (double T : study.temperatures) o.zero_temperature = o.zero_temperature || T == 0;
  return o;
}

StudyKernels BuildKernels(const Study& study, int threads, std::optional<GramStorage> storage,
                          int stream_block) {
  const KernelOptions options = StudyKernelOptions(study, storage);
  // Refuse before allocating anything large (the error names the size).
  const KernelStrategy strategy = ChooseKernelStrategy(
      options, study.train.x.P(), study.architecture.Htot(), study.train.x.N0());
  StudyKernels k;
  if (stream_block >= 0 && strategy == KernelStrategy::kFeatures) {
    // A, b, YᵀY in one streamed pass (kernels/gram.h); no P × M matrix.
    InMemoryExamples source(study.train.x, study.train.y, study.config_path + ": data.train_x");
    StreamOptions so;
    so.block_examples = stream_block;
    so.threads = threads;
    Gram g = AccumulateGram(study.architecture, source, Split::kTrain, so);
    if (!(g.A.allFinite() && g.b.allFinite())) {
      // Name the head or the example (this error path only holds Ξ once).
      const PathInputs xi =
          ComputePathInputs(study.architecture, study.train.x, Split::kTrain, threads);
      CheckFinitePathInputs(study.architecture, study.train.x, xi, Split::kTrain,
                            study.config_path + ": data.train_x");
      throw Error(ErrorMessage(study.config_path + ": data.train_x",
                               "path inputs whose Gram A = Xi^T Xi is not finite (overflow)",
                               "inputs whose attention and path inputs stay finite"));
    }
    k.train = std::make_unique<PathKernel>(std::move(g));
    k.test = ComputePathInputs(study.architecture, study.test.x, Split::kTest, threads);
    CheckFinitePathInputs(study.architecture, study.test.x, k.test, Split::kTest,
                          study.config_path + ": data.test_x");
    return k;
  }
  PathInputs train = ComputePathInputs(study.architecture, study.train.x, Split::kTrain, threads);
  // Overflow names the head or the data, not "not positive definite" later on.
  CheckFinitePathInputs(study.architecture, study.train.x, train, Split::kTrain,
                        study.config_path + ": data.train_x");
  k.train = std::make_unique<PathKernel>(std::move(train), options);
  k.test = ComputePathInputs(study.architecture, study.test.x, Split::kTest, threads);
  CheckFinitePathInputs(study.architecture, study.test.x, k.test, Split::kTest,
                        study.config_path + ": data.test_x");
  return k;
}

void ApplyTask(Task task, PredictorStatistics* stats) {
  if (task == Task::kRegression) stats->accuracy = std::numeric_limits<double>::quiet_NaN();
}

void EnsureDirectory(const std::string& dir, const std::string& field) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec || !std::filesystem::is_directory(dir)) {
    throw Error(ErrorMessage(field, "\"" + dir + "\" (" + ec.message() + ")",
                             "a directory that exists or can be created"));
  }
}

void CheckOutputDirectory(const std::string& dir, const std::string& field) {
  std::filesystem::path p = std::filesystem::absolute(dir);
  std::error_code ec;
  while (!std::filesystem::exists(p, ec) && p.has_parent_path() && p != p.parent_path()) {
    p = p.parent_path();
  }
  if (!std::filesystem::is_directory(p, ec) || access(p.c_str(), W_OK | X_OK) != 0) {
    throw Error(ErrorMessage(field,
                             "\"" + dir + "\" (" + p.string() + " is not a writable directory)",
                             "a directory that exists or can be created"));
  }
}

std::vector<std::string> SolutionFiles() {
  return {"summary.json",  "U_#.npy",           "U_a.npy",
          "test_mean.npy", "test_variance.npy", "test_covariance.npy"};
}

nlohmann::json StageSolution(ResultFolder& out, const ResultRow& row,
                             const PredictorStatistics& stats, const nlohmann::json& extra) {
  std::vector<std::string> names;
  const auto path = [&](const std::string& f) {
    names.push_back(f);
    return out.Path(f);
  };
  for (size_t l = 0; l < row.order_parameters.U.size(); ++l) {
    WriteNpy(path("U_" + std::to_string(l + 1) + ".npy"),
             Eigen::Ref<const Eigen::MatrixXd>(row.order_parameters.U[l]));
  }
  WriteReadoutNpy(path("U_a.npy"), row.order_parameters.U_a);
  for (const std::string& f : StagePredictorArrays(out, "test", stats)) names.push_back(f);
  nlohmann::json j = RowJson(row);
  for (auto it = extra.begin(); it != extra.end(); ++it) j[it.key()] = it.value();
  j["files"] = FilesJson(out.Staged(names));
  WriteFileAtomically(out.Path("summary.json"), j.dump(2) + "\n");
  return j;
}

void WriteReadoutNpy(const std::string& path, const Eigen::MatrixXd& U_a) {
  if (U_a.size() == 1) {
    const double ua = U_a(0, 0);
    WriteNpy(path, std::vector<int64_t>{}, &ua);
  } else {
    WriteNpy(path, Eigen::Ref<const Eigen::MatrixXd>(U_a));
  }
}

std::vector<std::string> StagePredictorArrays(ResultFolder& out, const std::string& prefix,
                                              const PredictorStatistics& stats) {
  std::vector<std::string> names;
  const auto path = [&](const std::string& f) {
    names.push_back(prefix + f);
    return out.Path(prefix + f);
  };
  const Eigen::Index P = stats.mean.rows(), D = stats.mean.cols();
  WriteNpy(path("_mean.npy"), Eigen::Ref<const Eigen::MatrixXd>(stats.mean));
  if (D == 1) {
    WriteNpy(path("_variance.npy"), Eigen::Ref<const Eigen::VectorXd>(stats.variance.col(0)));
  } else {
    WriteNpy(path("_variance.npy"), Eigen::Ref<const Eigen::MatrixXd>(stats.variance));
  }
  // (P*, D, D), C order: element [μ, d, d'] = Σ(x*_μ)_{dd'} (symmetric).
  std::vector<double> c(static_cast<size_t>(P * D * D));
  for (Eigen::Index mu = 0; mu < P; ++mu) {
    for (Eigen::Index k = 0; k < D * D; ++k)
      c[static_cast<size_t>(mu * D * D + k)] = stats.covariance(mu, k);
  }
  WriteNpy(path("_covariance.npy"), std::vector<int64_t>{P, D, D}, c.data());
  return names;
}

}  // namespace attnpaths::cli
