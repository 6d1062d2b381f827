#include "cli/study_run.h"

#include <unistd.h>

#include <filesystem>
#include <system_error>

#include "data/atomic_file.h"
#include "data/npy.h"
#include "kernels/error.h"

namespace attnpaths::cli {

StudyKernels BuildKernels(const Study& study, int threads) {
  // Refuse before allocating anything large (the error names the size).
  ChooseKernelStrategy(study.kernel, study.train.x.P(), study.architecture.Htot(),
                       study.train.x.N0());
  StudyKernels k;
  k.train = std::make_unique<PathKernel>(
      ComputePathInputs(study.architecture, study.train.x, Split::kTrain, threads), study.kernel);
  k.test = ComputePathInputs(study.architecture, study.test.x, Split::kTest, threads);
  return k;
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
    throw Error(ErrorMessage(field, "\"" + dir + "\" (" + p.string() + " is not a writable directory)",
                             "a directory that exists or can be created"));
  }
}

void WriteSolution(const std::string& dir, const ResultRow& row, const PredictorStatistics& stats,
                   const nlohmann::json& extra) {
  EnsureDirectory(dir, "output directory");
  const auto path = [&](const std::string& f) { return (std::filesystem::path(dir) / f).string(); };
  for (size_t l = 0; l < row.order_parameters.U.size(); ++l) {
    WriteNpy(path("U_" + std::to_string(l + 1) + ".npy"),
             Eigen::Ref<const Eigen::MatrixXd>(row.order_parameters.U[l]));
  }
  const double ua = row.order_parameters.U_a;
  WriteNpy(path("U_a.npy"), std::vector<int64_t>{}, &ua);
  WriteNpy(path("test_mean.npy"), Eigen::Ref<const Eigen::MatrixXd>(stats.mean));
  WriteNpy(path("test_variance.npy"), Eigen::Ref<const Eigen::VectorXd>(stats.variance));
  nlohmann::json j = RowJson(row);
  for (auto it = extra.begin(); it != extra.end(); ++it) j[it.key()] = it.value();
  WriteFileAtomically(path("summary.json"), j.dump(2) + "\n");
}

}  // namespace attnpaths::cli
