// A small random attention problem for the head-relevance, pruning and
// alignment tests: W-form heads with random W, random inputs, ±1 labels.
#pragma once

#include <Eigen/Core>
#include <random>
#include <vector>

#include "kernels/architecture.h"
#include "kernels/inputs.h"

namespace attnpaths::testing {

struct SmallProblem {
  Architecture arch;
  Inputs x, x_test;
  Eigen::MatrixXd y, y_test;
};

inline Inputs RandomInputs(Eigen::Index P, Eigen::Index n_tok, Eigen::Index N0,
                           std::mt19937_64& g) {
  std::normal_distribution<double> normal;
  Inputs x(P, n_tok, N0);
  for (double& v : x.values()) v = normal(g);
  return x;
}

// Labels from a fixed random linear function of the mean token, so the task
// is learnable but not trivial.
inline Eigen::MatrixXd Labels(const Inputs& x, const Eigen::VectorXd& w) {
  Eigen::MatrixXd y(x.P(), 1);
  for (Eigen::Index mu = 0; mu < x.P(); ++mu) {
    const double f = w.dot(x.example(mu).rowwise().mean());
    y(mu, 0) = f >= 0 ? 1.0 : -1.0;
  }
  return y;
}

// heads_per_layer W-form heads per layer (random W / N0, β = 2), last-token
// readout, every width N, every variance 1.
inline SmallProblem MakeSmallProblem(const std::vector<int>& heads_per_layer, Eigen::Index P,
                                     Eigen::Index P_test, double N, unsigned seed = 7,
                                     Eigen::Index n_tok = 4, Eigen::Index N0 = 6) {
  std::mt19937_64 g(seed);
  std::normal_distribution<double> normal;
  SmallProblem p;
  for (size_t l = 0; l < heads_per_layer.size(); ++l) {
    p.arch.layers.emplace_back();
    for (int h = 0; h < heads_per_layer[l]; ++h) {
      HeadSpec head;
      head.kind = HeadKind::kWForm;
      head.name = "L" + std::to_string(l + 1) + "h" + std::to_string(h + 1);
      head.beta = 2.0;
      head.W =
          Eigen::MatrixXd::NullaryExpr(N0, N0, [&] { return normal(g) / static_cast<double>(N0); });
      p.arch.layers.back().push_back(std::move(head));
    }
  }
  p.arch.readout = Readout::kLast;
  p.arch.widths.assign(heads_per_layer.size() + 1, N);
  p.arch.variances.assign(heads_per_layer.size() + 2, 1.0);
  p.x = RandomInputs(P, n_tok, N0, g);
  p.x_test = RandomInputs(P_test, n_tok, N0, g);
  const Eigen::VectorXd w = Eigen::VectorXd::NullaryExpr(N0, [&] { return normal(g); });
  p.y = Labels(p.x, w);
  p.y_test = Labels(p.x_test, w);
  return p;
}

}  // namespace attnpaths::testing
