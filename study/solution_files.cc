#include "study/solution_files.h"

#include "data/atomic_file.h"
#include "data/npy.h"
#include "data/result_index.h"
#include "study/solved_for.h"

namespace attnpaths {

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

nlohmann::json StageStudySolution(ResultFolder& out, const Study& study, const ResultRow& row,
                                  const PredictorStatistics& stats, double temperature,
                                  const nlohmann::json& provenance, nlohmann::json extra) {
  extra["temperature"] = temperature;
  extra["provenance"] = provenance;
  extra["solved_for"] = SolvedForJson(study);
  return StageSolution(out, row, stats, extra);
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

}  // namespace attnpaths
