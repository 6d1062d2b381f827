// The NTK margin at initialisation (docs/attention-hessian.md §7; the
// specification's Part E item 5, after Deora, Ghaderi, Taheri, Thrampoulidis,
// TMLR 2024): the per-example gradient features φ_μ = ∇_θ f(x^μ; θ_0) of the
// network at its initial weights θ_0, over the weights that training moves
// (all of them, or Q and K only), their Gram matrix K = Φ Φᵀ, and the
// hard-margin SVM through the origin on them (curvature/hard_margin_svm.h):
// γ = max_{‖w‖=1} min_μ y_μ w·φ_μ = 1/√(Σ_μ α_μ). A positive γ is the
// realisability of the linearised model f(θ_0) + (θ − θ_0)·∇f(θ_0): some
// direction in parameter space classifies every example with margin γ.
//
//   attnpaths::TrainOptions t;                    // value/attention init std, seed, trained
//   attnpaths::NtkMargin m = attnpaths::NtkMarginAtInitialization(shape, x, y, t, {});
//   m.svm.margin;                                 // γ (status in m.svm.status)
//   std::cout << m.svm.BriefReport();
//
// The features come from the network's one backward pass
// (network/pass.h, OutputJacobian), not from a second implementation.
#pragma once

#include <Eigen/Core>
#include <vector>

#include "curvature/hard_margin_svm.h"
#include "kernels/inputs.h"
#include "network/network.h"
#include "trainer/train.h"

namespace attnpaths {

// Φ (P × n_trained): row μ = ∇_θ f(x^μ; θ) restricted to the weights
// `trained` moves, in the order of TrainedParameterIndices (trainer/train.h).
// Throws Error when x does not fit the network or the network has D ≠ 1
// outputs.
Eigen::MatrixXd NtkFeatures(const Network& net, const Inputs& x, TrainedWeights trained);

struct NtkMargin {
  HardMarginSummary svm;      // margin, status, α, KKT violation, …
  Eigen::Index features = 0;  // n_trained: the length of each φ_μ
  double gram_trace = 0;      // Σ_μ ‖φ_μ‖² (the scale of the features)
  double seconds = 0;         // features, Gram matrix and dual solve
};

// The margin of the network at its weights (φ_μ at net's θ).
NtkMargin ComputeNtkMargin(const Network& net, const Inputs& x,
                           const Eigen::Ref<const Eigen::VectorXd>& y, TrainedWeights trained,
                           const HardMarginOptions& options = {});

// The margin at Train's initial weights θ_0 = InitialNetwork(shape, training)
// over the weights training.trained moves. Throws Error for invalid options,
// inputs that do not fit `shape`, or labels that are not ±1.
NtkMargin NtkMarginAtInitialization(const NetworkShape& shape, const Inputs& x,
                                    const Eigen::Ref<const Eigen::VectorXd>& y,
                                    const TrainOptions& training,
                                    const HardMarginOptions& options = {});

}  // namespace attnpaths
