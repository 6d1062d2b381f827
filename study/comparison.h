// Comparison — the theory (theory.md §3–§4, §9) beside samples of the finite
// network at the same width, P and temperature (theory.md §5), quantity by
// quantity with the sampled standard error and the difference in standard
// errors: test accuracy, generalisation error, the test-averaged predictor
// variance and output covariances, every entry of U_1 against U^sampled,
// and per test point the predictor mean and variance.
//
//   const StudySolution theory = SolveStudy(study, T, solve_options, 0);
//   SampleSummary s;
//   const SampleResult r = Sample(study.architecture, theory.kernels.train->inputs(),
//                                 study.train.y, T, theory.kernels.test, options, &s, &y_test);
//   const Comparison c = CompareTheoryAndSamples(study, theory.test,
//                                                theory.solution.order_parameters.U[0], r, s);
//   std::cout << c.Table();                  // what `attnpaths compare` prints
//   csv = run.CsvComment() + c.Csv();        // compare.csv
//
// A sampler run that did not complete gives no rows.
#pragma once

#include <Eigen/Core>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "data/config.h"
#include "sampler/sample.h"
#include "solver/predictor.h"

namespace attnpaths {

struct ComparisonRow {
  std::string quantity;  // "test_accuracy", "U[0,1] good>uniform | good>blank2", "f_mean[3]"
  double theory = 0, sampled = 0, se = 0;
  // (sampled − theory) / se; NaN when se is 0 or not finite.
  double z() const;
};

struct Comparison {
  // Accuracy (classification), generalisation error, f_variance (test mean),
  // f_covariance[d,d'] (test mean, D > 1), then the upper triangle of U_1.
  std::vector<ComparisonRow> rows;
  // f_mean[μ] and f_variance[μ] (f_mean[μ,d], … for D > 1) per test point.
  std::vector<ComparisonRow> test_points;
  // Over the test points' means with a finite z: the average |z|, and how many
  // of `counted` lie within 3 standard errors.
  double mean_abs_z = 0;
  int within3 = 0, counted = 0;

  // {"quantity", "theory", "sampled", "se", "z"} per row (null for non-finite).
  nlohmann::json RowsJson() const;
  nlohmann::json TestPointsJson() const;
  // "quantity,theory,sampled,se,z" and every row, then every test point
  // (10 significant digits, empty for non-finite); no provenance line.
  std::string Csv() const;
  // The printed table: header, one line per row, and the test-mean line.
  std::string Table() const;
};

// `theory`: the predictor on the test set with U_1 = `U1`; `r`, `s`: the
// sampler's run on the same test set (its draws give the standard errors).
Comparison CompareTheoryAndSamples(const Study& study, const PredictorStatistics& theory,
                                   const Eigen::MatrixXd& U1, const SampleResult& r,
                                   const SampleSummary& s);

}  // namespace attnpaths
