// Path inputs ξ_π(x) — the attentioned input of every path (theory.md §2).
//
//   attnpaths::PathInputs xi = attnpaths::ComputePathInputs(arch, x_train, Split::kTrain);
//   xi.path(p).row(mu);          // ξ_π(x^μ) ∈ R^{N0}
//
//   ξ_π(x) = σ_0 / √(N0 · Htot) · x Ω^{1,h_1}(x) ⋯ Ω^{L-1,h_{L-1}}(x) ω^{L,h_L}(x)
//
// Computed once per dataset; every later stage (kernels, solver, sampler)
// reads them and never recomputes attention.
#pragma once

#include <Eigen/Core>

#include "kernels/architecture.h"
#include "kernels/inputs.h"

namespace attnpaths {

struct PathInputs {
  Eigen::Index Htot = 0;
  Eigen::Index N0 = 0;
  // P × (Htot · N0); columns [π N0, (π+1) N0) hold ξ_π of every example.
  Eigen::MatrixXd xi;

  Eigen::Index P() const { return xi.rows(); }
  auto path(Eigen::Index p) const { return xi.middleCols(p * N0, N0); }
};

// ξ_π(x^μ) for every example and path. Validates the architecture against the
// inputs and throws Error on NaN/Inf in x. `threads` <= 0 uses every core.
PathInputs ComputePathInputs(const Architecture& arch, const Inputs& x, Split split,
                             int threads = 0);

// The per-example path weights w_π = Ω^{1,h_1} ⋯ ω^{L,h_L} ∈ R^{n_tok} for
// every path (n_tok × Htot), so that ξ_π = σ_0/√(N0·Htot) · x w_π.
Eigen::MatrixXd PathTokenWeights(const Architecture& arch, const Eigen::Ref<const Eigen::MatrixXd>& x,
                                 Eigen::Index example, Split split);

}  // namespace attnpaths
