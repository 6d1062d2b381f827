// attnpaths compare --config run.toml — solve the theory and sample the finite
// network at the same width, P and temperature, and put them side by side
// (theory.md §4 vs §5): predictor mean and variance on the test set,
// accuracy, generalisation error and every entry of U_1 vs U^sampled, each
// with the sampled standard error and the difference in standard errors.
// Writes compare.json, compare.csv, the theory's files (summary.json, U_*.npy,
// test_*.npy) and the sampler's (sample_summary.json, draws.h5, …).
#include <cmath>
#include <cstdio>
#include <iostream>
#include <limits>
#include <sstream>

#include "cli/commands.h"
#include "cli/report.h"
#include "cli/run_provenance.h"
#include "cli/sample_run.h"
#include "cli/solution_record.h"
#include "cli/study_run.h"
#include "data/atomic_file.h"
#include "data/result_index.h"
#include "kernels/error.h"
#include "sampler/diagnostics.h"
#include "sampler/estimates.h"
#include "solver/predictor.h"
#include "study/result_row.h"
#include "study/run_record.h"
#include "study/settings.h"
#include "study/solution_files.h"
#include "study/solved_for.h"
#include "study/study_kernels.h"

namespace attnpaths::cli {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct CompareOptions {
  std::string config;
  std::string output;
  SampleCliOptions sampler;
};

struct Row {
  std::string quantity;
  double theory, sampled, se;
  double z() const { return se > 0 ? (sampled - theory) / se : kNaN; }
};

nlohmann::json Number(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(); }

std::string Cell(const char* format, double v) {
  if (!std::isfinite(v)) return "-";
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

int RunCompare(const CompareOptions& o, const GlobalOptions& g) {
  using Clock = std::chrono::steady_clock;
  const auto t0 = Clock::now();
  const Study study = LoadSampleStudy(o.config, o.sampler);
  Require(study.temperatures.size() == 1, study.config_path + ": temperatures",
          study.temperatures.size(), "one temperature for compare");
  const double T = study.temperatures[0];
  const std::string out = o.output.empty() ? study.output_directory : o.output;
  std::vector<std::string> owned = SolutionFiles();
  for (const std::string& f : SampleFiles()) owned.push_back(f);
  owned.insert(owned.end(), {"compare.json", "compare.csv"});
  ResultFolder folder(out, owned);  // locked; removed again if this run fails
  const SampleOptions sample_options = MakeSampleOptions(o.sampler, study, g, "compare: sampling");

  ProgressLine("compare: computing path inputs", g.quiet);
  const StudyKernels k = BuildKernels(study, g.threads);
  const Eigen::MatrixXd* y_test = study.has_test_labels ? &study.test.y : nullptr;

  // Theory (theory.md §3–§4).
  const Action action(study.architecture, *k.train, study.train.y, T);
  SolveOptions solve_options = ReadStudySettings(study).solve;
  solve_options.progress = [&](const SolveProgress& p) {
    if (p.iteration % 10 == 0) {
      char buf[160];
      std::snprintf(buf, sizeof buf, "compare: solving, iteration %d  |grad| = %.2e", p.iteration,
                    p.gradient_norm);
      ProgressLine(buf, g.quiet);
    }
  };
  SolveSummary solve_summary;
  const Solution sol = Solve(action, solve_options, &solve_summary);
  if (solve_summary.termination == SolveTermination::kFailure) {
    throw Error(ErrorMessage(study.config_path, solve_summary.message,
                             "an action that can be evaluated at U_GP (raise the temperature)"));
  }
  const Eigen::MatrixXd& U = sol.order_parameters.U[0];
  PredictorStatistics theory = Predict(*k.train, study.train.y, T, U, k.test, y_test);
  ApplyTask(study.task, &theory);
  const double solve_seconds = std::chrono::duration<double>(Clock::now() - t0).count();

  // Sampling (theory.md §5).
  SampleSummary summary;
  const SampleResult r = Sample(study.architecture, k.train->inputs(), study.train.y, T, k.test,
                                sample_options, &summary, y_test);
  ProgressLine("", g.quiet);

  // Side by side.
  std::vector<Row> rows;
  std::vector<Row> points;  // per test point and output
  const Eigen::Index P = k.test.P(), D = study.train.y.cols();
  double mean_abs_z = 0;
  int within3 = 0, counted = 0;
  if (summary.completed()) {
    if (study.task == Task::kClassification) {
      rows.push_back(
          {"test_accuracy", theory.accuracy, r.predictor.accuracy, r.predictor.accuracy_se});
    }
    rows.push_back({"generalization_error", theory.generalization_error,
                    r.predictor.generalization_error, r.predictor.generalization_error_se});
    double var_theory = 0;
    for (Eigen::Index mu = 0; mu < P; ++mu) {
      for (Eigen::Index d = 0; d < D; ++d) {
        const std::string index =
            std::to_string(mu) + (D > 1 ? "," + std::to_string(d) : std::string());
        const Row mean{"f_mean[" + index + "]", theory.mean(mu, d), r.predictor.mean(mu, d),
                       r.predictor.mean_se(mu, d)};
        points.push_back(mean);
        points.push_back({"f_variance[" + index + "]", theory.variance(mu, d),
                          r.predictor.variance(mu, d), r.predictor.variance_se(mu, d)});
        if (std::isfinite(mean.z())) {
          mean_abs_z += std::abs(mean.z());
          within3 += std::abs(mean.z()) <= 3;
          ++counted;
        }
        var_theory += theory.variance(mu, d) / double(P * D);
      }
    }
    if (counted > 0) mean_abs_z /= counted;
    if (P > 0) {
      // The test-averaged variance is the mean over draws of the test-averaged
      // squared deviation (times S/(S−1)), plus, for the collapsed sampler,
      // the conditional variance Var(f | V) (law of total variance); its
      // error comes from that series' ESS, so the correlation between test
      // points is accounted for.
      const double S = static_cast<double>(r.draws.size() * r.draws[0].rows());
      const bool conditional = r.predictor_variance_column >= 0;
      ChainDraws averaged;
      for (const Eigen::MatrixXd& draws : r.draws) {
        const Eigen::MatrixXd f = draws.middleCols(r.predictor_column, P * D);
        Eigen::RowVectorXd mean(P * D);
        for (Eigen::Index k = 0; k < P * D; ++k) mean[k] = r.predictor.mean(k / D, k % D);
        Eigen::VectorXd w =
            (S / (S - 1)) * (f.rowwise() - mean).array().square().rowwise().mean().matrix();
        if (conditional) w += draws.middleCols(r.predictor_variance_column, P).rowwise().mean();
        averaged.push_back(w);
      }
      const ScalarEstimate e = EstimateScalar(averaged);
      rows.push_back({"f_variance (test mean)", var_theory, e.mean, e.mean_se});
      // Several outputs: each output pair's covariance Σ_dd' (theory.md §9),
      // averaged over test points, the same way (given the value weights the
      // readouts of different outputs are independent, so the collapsed
      // sampler adds no conditional term for d ≠ d').
      for (Eigen::Index d = 0; d < D; ++d) {
        for (Eigen::Index d2 = d + 1; d2 < D; ++d2) {
          ChainDraws products;
          for (const Eigen::MatrixXd& draws : r.draws) {
            Eigen::VectorXd v = Eigen::VectorXd::Zero(draws.rows());
            for (Eigen::Index mu = 0; mu < P; ++mu) {
              const auto fd =
                  draws.col(r.predictor_column + mu * D + d).array() - r.predictor.mean(mu, d);
              const auto fe =
                  draws.col(r.predictor_column + mu * D + d2).array() - r.predictor.mean(mu, d2);
              v.array() += fd * fe / double(P);
            }
            products.push_back(v);
          }
          const ScalarEstimate c = EstimateScalar(products);
          double cov_theory = 0;
          for (Eigen::Index mu = 0; mu < P; ++mu) {
            cov_theory += theory.covariance(mu, d + D * d2) / double(P);
          }
          rows.push_back(
              {"f_covariance[" + std::to_string(d) + "," + std::to_string(d2) + "] (test mean)",
               cov_theory, c.mean * S / (S - 1), c.mean_se * S / (S - 1)});
        }
      }
    }
    const Eigen::MatrixXd& Us = r.order_parameter.U;
    if (U.rows() == Us.rows()) {
      // U_1 and U^sampled, both (Htot D) × (Htot D) with rows (π, d) (theory.md §9).
      const std::vector<std::string> labels = OrderParameterLabels(study.architecture, D);
      for (Eigen::Index a = 0; a < U.rows(); ++a) {
        for (Eigen::Index b = a; b < U.cols(); ++b) {
          rows.push_back({"U[" + std::to_string(a) + "," + std::to_string(b) + "] " +
                              labels[static_cast<size_t>(a)] +
                              (a == b ? "" : " | " + labels[static_cast<size_t>(b)]),
                          U(a, b), Us(a, b), r.order_parameter.U_se(a, b)});
        }
      }
    } else if (U.rows() * D == Us.rows()) {
      // A theory with one Htot × Htot U shared by the outputs: compared with
      // the output average (1/D) Σ_d U^sampled[(π,d),(π',d)], its s.e. from
      // the per-draw averages.
      const std::vector<std::string> labels = ArchitecturePathLabels(study.architecture);
      const Eigen::Index K = Us.rows();
      auto column = [&](Eigen::Index i, Eigen::Index j) {  // packed column of U[i,j], i <= j
        return r.order_parameter_column + i * K - i * (i - 1) / 2 + (j - i);
      };
      for (Eigen::Index a = 0; a < U.rows(); ++a) {
        for (Eigen::Index b = a; b < U.cols(); ++b) {
          ChainDraws averaged;
          for (const Eigen::MatrixXd& draws : r.draws) {
            Eigen::VectorXd v = Eigen::VectorXd::Zero(draws.rows());
            for (Eigen::Index d = 0; d < D; ++d) v += draws.col(column(a * D + d, b * D + d)) / D;
            averaged.push_back(v);
          }
          const ScalarEstimate e = EstimateScalar(averaged);
          rows.push_back({"U[" + std::to_string(a) + "," + std::to_string(b) + "] " +
                              labels[static_cast<size_t>(a)] +
                              (a == b ? "" : " | " + labels[static_cast<size_t>(b)]) +
                              " (output average)",
                          U(a, b), e.mean, e.mean_se});
        }
      }
    }
  }

  // Files: the theory's, the sampler's, and the comparison.
  Provenance run = CommandProvenance(g, study.config_path);
  RecordStudy(study, g, &run);
  run.Set("solver", SolverSettings(solve_options));
  run.Set("sampler", SamplerSettings(sample_options));
  run.Set("seed", sample_options.seed);
  const nlohmann::json provenance = run.Json();
  nlohmann::json extra;
  extra["provenance"] = provenance;
  extra["temperature"] = T;
  extra["widths"] = study.architecture.widths;
  extra["message"] = solve_summary.message;
  extra["solved_for"] = SolvedForJson(study);
  StageSolution(folder,
                MakeRow(study.architecture.widths.front(), &sol, &solve_summary,
                        sol.order_parameters, theory, solve_seconds),
                theory, extra);
  nlohmann::json sampled = SampleJson(study, r, summary, T);
  sampled["provenance"] = provenance;
  StageSampleOutputs(folder, r, summary, sampled, "sample_summary.json", run);
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
  j["test_mean_abs_z"] = counted > 0 ? Number(mean_abs_z) : nlohmann::json();
  j["test_mean_within_3se"] = counted > 0 ? Number(double(within3) / counted) : nlohmann::json();
  auto row_json = [](const Row& row) {
    return nlohmann::json{{"quantity", row.quantity},
                          {"theory", Number(row.theory)},
                          {"sampled", Number(row.sampled)},
                          {"se", Number(row.se)},
                          {"z", Number(row.z())}};
  };
  nlohmann::json jr = nlohmann::json::array(), jp = nlohmann::json::array();
  for (const Row& row : rows) jr.push_back(row_json(row));
  for (const Row& row : points) jp.push_back(row_json(row));
  j["rows"] = jr;
  j["test_points"] = jp;
  j["provenance"] = provenance;
  std::ostringstream csv;
  csv << run.CsvComment() << "quantity,theory,sampled,se,z\n";
  csv.precision(10);
  for (const auto* list : {&rows, &points}) {
    for (const Row& row : *list) {
      csv << '"' << row.quantity << '"';
      for (double v : {row.theory, row.sampled, row.se, row.z()}) {
        csv << ',';
        if (std::isfinite(v)) csv << v;
      }
      csv << "\n";
    }
  }
  WriteFileAtomically(folder.Path("compare.csv"), csv.str());
  j["files"] = FilesJson(folder.Staged({"compare.csv"}));
  WriteFileAtomically(folder.Path("compare.json"), j.dump(2) + "\n");
  folder.Commit({"summary.json", "sample_summary.json", "compare.json"});

  if (g.json) {
    std::cout << j.dump(2) << std::endl;
  } else {
    std::cout << solve_summary.BriefReport() << "\n" << summary.BriefReport() << "\n";
    for (const std::string& w : summary.warnings) std::cout << "warning: " << w << "\n";
    char buf[256];
    std::snprintf(buf, sizeof buf, "%-36s %12s %12s %10s %9s\n", "quantity", "theory", "sampled",
                  "s.e.", "diff/s.e.");
    std::cout << buf;
    for (const Row& row : rows) {
      std::snprintf(buf, sizeof buf, "%-36s %12s %12s %10s %9s\n", row.quantity.c_str(),
                    Cell("%.6g", row.theory).c_str(), Cell("%.6g", row.sampled).c_str(),
                    Cell("%.3g", row.se).c_str(), Cell("%+.2f", row.z()).c_str());
      std::cout << buf;
    }
    if (counted > 0) {
      std::snprintf(buf, sizeof buf,
                    "test predictor mean: |diff|/s.e. averages %.2f over %d points; %.1f%% within "
                    "3 s.e.\n",
                    mean_abs_z, counted, 100.0 * within3 / counted);
      std::cout << buf;
    }
    std::cout << "wrote " << out << "/compare.json, compare.csv, summary.json, "
              << "sample_summary.json, draws.h5\n";
  }
  return solve_summary.converged() && summary.completed() ? 0 : 1;
}

}  // namespace

void RegisterCompare(CLI::App& app, GlobalOptions& global, Command* run) {
  auto* cmd = app.add_subcommand(
      "compare", "Solve the theory and sample the network at the same settings; compare them");
  auto o = std::make_shared<CompareOptions>();
  cmd->add_option("--config,-c", o->config, "The TOML study file")
      ->check(NonEmptyPath())
      ->required();
  cmd->add_option("--output,-o", o->output, "Output directory (default: [output] directory)")
      ->check(NonEmptyPath());
  AddSampleFlags(cmd, &o->sampler);
  cmd->add_flag("--json", global.json, "Print the JSON comparison on stdout");
  cmd->add_flag("--quiet", global.quiet, "No progress on stderr");
  cmd->add_option("--threads", global.threads,
                  "Threads for path inputs and chains (0: one per chain, at most all cores)");
  cmd->callback([o, &global, run] { *run = [o, &global] { return RunCompare(*o, global); }; });
}

}  // namespace attnpaths::cli
