#include "study/compare_study.h"

#include <cmath>

#include "data/atomic_file.h"
#include "data/result_index.h"
#include "study/result_row.h"
#include "study/run_record.h"
#include "study/sample_files.h"
#include "study/solution_files.h"

namespace attnpaths {

namespace {

nlohmann::json Number(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(); }

}  // namespace

CompareStudyResult CompareStudy(const Study& study, double temperature, const SolveOptions& solve,
                                const SampleOptions& sample, int threads) {
  CompareStudyResult r;
  // Theory (theory.md §3–§4).
  r.theory = SolveStudy(study, temperature, solve, threads);
  // Sampling (theory.md §5), on the same path inputs.
  r.sample_options = sample;
  const Eigen::MatrixXd* y_test = study.has_test_labels ? &study.test.y : nullptr;
  r.samples = Sample(study.architecture, r.theory.kernels.train->inputs(), study.train.y,
                     temperature, r.theory.kernels.test, sample, &r.sample_summary, y_test);
  // Side by side.
  r.comparison = CompareTheoryAndSamples(
      study, r.theory.test, r.theory.solution.order_parameters.U[0], r.samples, r.sample_summary);
  return r;
}

std::vector<std::string> ComparisonFiles() {
  std::vector<std::string> owned = SolutionFiles();
  for (const std::string& f : SampleFiles()) owned.push_back(f);
  owned.insert(owned.end(), {"compare.json", "compare.csv"});
  return owned;
}

nlohmann::json WriteComparison(ResultFolder& out, const Study& study, const CompareStudyResult& r,
                               Provenance run) {
  const double T = r.theory.temperature;
  const Solution& sol = r.theory.solution;
  const SolveSummary& solve_summary = r.theory.summary;
  const SampleSummary& summary = r.sample_summary;
  run.Set("solver", SolverSettings(r.theory.options));
  run.Set("sampler", SamplerSettings(r.sample_options));
  run.Set("seed", r.sample_options.chains.seed);
  const nlohmann::json provenance = run.Json();
  StageStudySolution(out, study,
                     MakeRow(study.architecture.widths.front(), &sol, &solve_summary,
                             sol.order_parameters, r.theory.test, r.theory.seconds),
                     r.theory.test, T, provenance,
                     {{"widths", study.architecture.widths}, {"message", solve_summary.message}});
  nlohmann::json sampled = SampleJson(study, r.samples, summary, T);
  sampled["provenance"] = provenance;
  StageSampleOutputs(out, r.samples, summary, sampled, "sample_summary.json", run);
  const Comparison& c = r.comparison;
  nlohmann::json j;
  j["name"] = study.name;
  j["N"] = study.architecture.widths.front();
  j["temperature"] = T;
  j["theory"] = {{"converged", solve_summary.converged()},
                 {"message", solve_summary.message},
                 {"action", sol.action}};
  j["sampling"] = {{"termination", SampleTerminationName(summary.termination)},
                   {"message", summary.message},
                   {"warnings", summary.warnings},
                   {"max_rhat", Number(summary.max_rhat)},
                   {"min_ess_bulk", Number(summary.min_ess_bulk)},
                   {"divergences", summary.total_divergences}};
  const bool counted = c.counted > 0;
  j["test_mean_abs_z"] = counted ? Number(c.mean_abs_z) : nlohmann::json();
  j["test_mean_within_3se"] = counted ? Number(double(c.within3) / c.counted) : nlohmann::json();
  j["rows"] = c.RowsJson();
  j["test_points"] = c.TestPointsJson();
  j["provenance"] = provenance;
  WriteFileAtomically(out.Path("compare.csv"), run.CsvComment() + c.Csv());
  j["files"] = FilesJson(out.Staged({"compare.csv"}));
  WriteFileAtomically(out.Path("compare.json"), j.dump(2) + "\n");
  out.Commit({"summary.json", "sample_summary.json", "compare.json"});
  return j;
}

}  // namespace attnpaths
