// Tailored activation transformation (TAT) for leaky-ReLU MLPs
// (signal-propagation.md §II.1; Zhang, Botev, Martens, ICLR 2022).
//
//   double alpha = attnpaths::TatAlpha(/*eta=*/0.9, /*n_act=*/2 * depth);
//   double c1 = attnpaths::TatCMap(c0, alpha);   // correlation after one activation
//
// φ_α(x) = √(2/(1+α²)) · (x ≥ 0 ? x : αx) keeps the second moment q of a
// centred Gaussian input, and maps the correlation c of two such inputs to
//
//   C_α(c) = c + ((1 − α)² / (π(1 + α²))) · (√(1 − c²) − c·arccos c).
//
// TatAlpha chooses the negative slope α ∈ [0, 1] so that C_α applied n_act
// times to c = 0 equals η: a network of n_act activations maps orthogonal
// inputs to correlation η.
#pragma once

namespace attnpaths {

// φ_α(x), the scaled leaky ReLU.
double TatActivation(double x, double alpha);

// C_α(c); c is clipped to [−1, 1] first (rounding may push a correlation past one).
double TatCMap(double c, double alpha);

// C_α applied `times` times to c.
double TatCMapComposite(double c, double alpha, int times);

// The α ∈ [0, 1] with C_α^{∘n_act}(0) = η, by bisection to rounding (the
// composite decreases in α). Throws Error naming η and n_act when η is not in
// (0, 1), n_act < 1, or η exceeds the ReLU composite C_0^{∘n_act}(0) (a
// target a network of n_act ReLUs cannot reach; α is never clamped).
double TatAlpha(double eta, int n_act);

}  // namespace attnpaths
