// Overflow checks of path inputs: name the head or the data that made the
// kernels non-finite, instead of letting the solver report "not positive
// definite" (theory.md §2: ξ_π = σ_0/√(N0 Htot) x Ω^{1,h_1}⋯ω^{L,h_L}).
//
//   PathInputs xi = ComputePathInputs(arch, x, Split::kTrain);
//   CheckFinitePathInputs(arch, x, xi, Split::kTrain, "data.train_x");
#pragma once

#include <string>

#include "kernels/architecture.h"
#include "kernels/inputs.h"
#include "kernels/path_inputs.h"

namespace attnpaths {

// The largest squared norm of one example's path inputs (all paths) that is
// accepted: far above any meaningful kernel, far below overflow of K_U.
inline constexpr double kMaxPathInputNorm2 = 1e250;

// Throws Error when some ξ_π(x^μ) is NaN or infinite, or an example's squared
// norm Σ_π |ξ_π(x^μ)|² exceeds kMaxPathInputNorm2. The message names the
// first culprit: the head (layer, index, name, β) whose attention became
// non-finite on that example, or else the example of `field` (with its
// largest |x|) and σ_0² whose product overflows.
void CheckFinitePathInputs(const Architecture& arch, const Inputs& x, const PathInputs& xi,
                           Split split, const std::string& field);

}  // namespace attnpaths
