// A small random problem for the solver tests: W-form heads in every layer,
// random inputs and labels, widths that differ per layer and variances != 1.
//
//   attnpaths::test_util::Rng rng(1);
//   auto pr = attnpaths::test_util::MakeRandomProblem({2, 2}, rng);
//   attnpaths::PathKernel kernel(attnpaths::ComputePathInputs(pr.arch, pr.X, Split::kTrain));
//   attnpaths::Action action(pr.arch, kernel, pr.Y, /*temperature=*/0.2);
#pragma once

#include <Eigen/Core>
#include <string>
#include <vector>

#include "kernels/architecture.h"
#include "kernels/inputs.h"
#include "tests/support/random_inputs.h"

namespace attnpaths::test_util {

struct RandomProblem {
  Architecture arch;
  Inputs X, X_test;
  Eigen::MatrixXd Y, Y_test;
};

struct ProblemShape {
  Eigen::Index P = 12, P_test = 5, D = 1, n_tok = 5, N0 = 6;
  bool binary_labels = false;
  double beta = 1.5;  // inverse softmax temperature of every head
};

// Widths n_1, …, n_{L+1} and variances σ_0², …, σ_L², σ_a² from fixed
// lists, all different from one another and from one.
inline RandomProblem MakeRandomProblem(const std::vector<Eigen::Index>& heads_per_layer, Rng& rng,
                                       const ProblemShape& shape = {}) {
  static const double kWidths[] = {7, 11, 5, 9, 13};
  static const double kVariances[] = {0.7, 1.4, 0.6, 1.9, 1.2};
  RandomProblem pr;
  const size_t L = heads_per_layer.size();
  for (size_t l = 0; l < L; ++l) {
    std::vector<HeadSpec> layer;
    for (Eigen::Index h = 0; h < heads_per_layer[l]; ++h) {
      layer.push_back(RandomWHead(shape.N0, rng, Normalization::kSoftmax, false, shape.beta,
                                  "L" + std::to_string(l + 1) + "h" + std::to_string(h + 1)));
    }
    pr.arch.layers.push_back(layer);
  }
  pr.arch.readout = Readout::kLast;
  for (size_t l = 0; l <= L; ++l) pr.arch.widths.push_back(kWidths[l % 5]);
  for (size_t l = 0; l <= L; ++l) pr.arch.variances.push_back(kVariances[l % 5]);
  pr.arch.variances.push_back(1.3);  // σ_a²
  pr.X = RandomInputs(shape.P, shape.n_tok, shape.N0, rng);
  pr.X_test = RandomInputs(shape.P_test, shape.n_tok, shape.N0, rng);
  pr.Y = RandomLabels(shape.P, shape.D, rng, shape.binary_labels);
  pr.Y_test = RandomLabels(shape.P_test, shape.D, rng, shape.binary_labels);
  return pr;
}

// Sets every width to n (n_1, …, n_{L+1}).
inline void SetWidths(Architecture* arch, double n) {
  for (double& w : arch->widths) w = n;
}

}  // namespace attnpaths::test_util
