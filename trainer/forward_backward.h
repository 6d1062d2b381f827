// The trainer's objective: the network's outputs, test figures, and the
// training loss with its gradient, over many examples in parallel (theory.md
// §1, QK-form softmax heads computed from the input tokens x in every layer;
// the pass itself is network/pass.h).
//
//   Eigen::VectorXd f = attnpaths::Predict(net, x_test);            // f(x^μ), μ = 1..P
//   attnpaths::Evaluation e = attnpaths::Evaluate(net, x_test, y_test, mask);
//   Eigen::VectorXd grad;
//   attnpaths::Loss loss = attnpaths::LossAndGradient(net, x, y, batch, 1e-4, &grad);
//
// Examples are processed in chunks of 64 by network/pass.h (the forward pass
// and backpropagation of theory.md §1). `threads` splits the examples into
// that many contiguous parts whose partial results are added in a fixed
// order, so results are reproducible for a given thread count (bitwise with
// one thread). The parts run on a pool of persistent threads
// (parallel/executor.h), and every thread keeps its buffers between calls
// (a few MB at most, freed when the thread ends), so a training step
// allocates nothing after the first.
#pragma once

#include <Eigen/Core>
#include <string>
#include <vector>

#include "kernels/inputs.h"
#include "network/network.h"

namespace attnpaths {

// f(x^μ) for every example of x. A removed head (mask) contributes nothing.
// threads <= 0 uses every core. Throws Error when x does not fit the network.
Eigen::VectorXd Predict(const Network& net, const Inputs& x, const HeadMask& mask = {},
                        int threads = 1);

// The metrics of kernels/metrics.h on f(x^μ) (NaN for every field when P = 0).
struct Evaluation {
  double loss = 0;           // (1/P) Σ_μ (f(x^μ) − y^μ)²: MeanSquaredError
  double accuracy = 0;       // sign f = y, f = 0 wrong: Accuracy (theory.md §4)
  double logistic_loss = 0;  // (1/P) Σ_μ log(1 + e^{−y^μ f(x^μ)}) (meaningful for ±1 labels)
};

// Test loss and accuracy of the network (with `mask`'s heads only) on ±1 labels y.
Evaluation Evaluate(const Network& net, const Inputs& x, const Eigen::Ref<const Eigen::VectorXd>& y,
                    const HeadMask& mask = {}, int threads = 1);

// The loss ℓ(f, y) of one example.
enum class LossKind {
  kSquared,   // (f − y)²
  kLogistic,  // log(1 + e^{−y f}), labels ±1 (docs/attention-hessian.md, Part E)
};
const char* LossKindName(LossKind kind);  // "squared", "logistic"
LossKind ParseLossKind(const std::string& text, const std::string& field);

// ℓ(f, y), ∂ℓ/∂f and ∂²ℓ/∂f² of one example (logistic: computed without
// overflow for any f).
double ExampleLoss(LossKind kind, double f, double y);
double ExampleLossDerivative(LossKind kind, double f, double y);
double ExampleLossCurvature(LossKind kind, double f, double y);

struct Loss {
  double objective = 0;           // E(θ) below
  double data_loss = 0;           // its data term (1/B) Σ ℓ(f, y)
  double mean_squared_error = 0;  // (1/B) Σ (f − y)², whatever the loss
};

// The training objective over the examples `batch` (indices into x and y):
//   E(θ) = (1/B) Σ_{μ∈batch} ℓ(f(x^μ), y^μ) + (weight_decay/2) ‖θ‖²
// with ℓ the squared error (default) or the logistic loss, and, when
// `gradient` is not null, ∂E/∂θ in the layout of net.parameters()
// (backpropagation through the softmax of every head into Q and K).
Loss LossAndGradient(const Network& net, const Inputs& x,
                     const Eigen::Ref<const Eigen::VectorXd>& y,
                     const std::vector<Eigen::Index>& batch, double weight_decay,
                     Eigen::VectorXd* gradient, const HeadMask& mask = {}, int threads = 1,
                     LossKind loss = LossKind::kSquared);

}  // namespace attnpaths
