// Lanczos on a symmetric operator given only by its products: the extreme
// eigenvalues (top-k and bottom-k) and the spectral density by stochastic
// Lanczos quadrature (docs/attention-hessian.md, spec §C.2 "Spectra").
//
//   attnpaths::SymmetricOperator op{n, [&](const Eigen::VectorXd& v) { return H * v; }};
//   attnpaths::LanczosOptions options;                  // eigenvalues = 10, seed, tolerance
//   attnpaths::LanczosSummary summary;
//   attnpaths::ExtremeEigenvalues e = attnpaths::LanczosExtremes(op, options, &summary);
//   e.largest(0);                                       // λ_max; e.smallest(0) is λ_min
//   attnpaths::SpectralDensity rho = attnpaths::LanczosSpectralDensity(op, {});
//   rho.grid, rho.density;                              // a density over λ that integrates to 1
//
// The Krylov basis is fully re-orthogonalised (twice, classical Gram–Schmidt),
// so the Ritz values carry no ghost copies; when the Krylov space closes (an
// invariant subspace, e.g. a Kronecker block with repeated eigenvalues) the
// iteration continues from a fresh random vector orthogonal to the basis, so
// repeated eigenvalues are found with their multiplicity. A Krylov space
// that does not close holds one copy of each eigenvalue: an exactly repeated
// extreme eigenvalue (the k² null directions W_Q → W_Q G, W_K → W_K G⁻ᵀ of
// the attention H_o) is then reported once, and the next values are the
// next distinct ones. λ_max and λ_min are always right. Written here (no
// dependency): the operators are small enough (n ≤ ~10⁵) that the O(n m²)
// re-orthogonalisation is cheaper than the products.
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <functional>
#include <string>

namespace attnpaths {

// y = M x for a symmetric n × n matrix M (Spectra's operator shape).
struct SymmetricOperator {
  Eigen::Index rows = 0;
  std::function<Eigen::VectorXd(const Eigen::VectorXd&)> apply;
};

struct LanczosOptions {
  // k: the k largest and the k smallest eigenvalues are asked for.
  int eigenvalues = 10;
  // Largest Krylov dimension (capped at n; at n every eigenvalue is exact).
  int max_iterations = 300;
  // A Ritz value θ counts as converged when its residual |β_m s_m| is at most
  // tolerance · max|θ| (the bound on the distance to an eigenvalue).
  double tolerance = 1e-10;
  // Seeds the start vector (and restarts): Boost.Random mt19937, N(0, 1).
  std::uint64_t seed = 1;

  bool IsValid(std::string* error) const;
};

struct LanczosSummary {
  int iterations = -1;       // products with the operator
  int restarts = 0;          // invariant subspaces met (fresh start vectors)
  bool converged = false;    // every asked Ritz value within tolerance
  double max_residual = -1;  // the largest residual bound among the asked values
  std::string message = "LanczosExtremes was not called";
  std::string BriefReport() const;
};

struct ExtremeEigenvalues {
  Eigen::VectorXd largest;                                // descending: largest(0) = λ_max
  Eigen::VectorXd smallest;                               // ascending: smallest(0) = λ_min
  Eigen::VectorXd largest_residuals, smallest_residuals;  // |β_m s_m| of each
};

// The min(k, n) largest and smallest eigenvalues. Throws Error for invalid
// options or an operator without rows.
ExtremeEigenvalues LanczosExtremes(const SymmetricOperator& op, const LanczosOptions& options,
                                   LanczosSummary* summary = nullptr);

struct SpectralDensityOptions {
  int probes = 10;  // random start vectors (Rademacher), averaged
  int steps = 80;   // Lanczos steps per probe (capped at n)
  int grid = 400;   // points of the density grid
  // Gaussian broadening of each node, as a fraction of the spectral range
  // (λ_max − λ_min over all nodes).
  double broadening = 0.01;
  std::uint64_t seed = 1;

  bool IsValid(std::string* error) const;
};

struct SpectralDensity {
  // Stochastic Lanczos quadrature: the Ritz values of every probe and their
  // weights (first components of the Ritz vectors squared, divided by the
  // number of probes); the weights sum to one.
  Eigen::VectorXd nodes, weights;
  // Σ_j w_j N(λ; θ_j, s²) on an even grid from the smallest node − 3s to the
  // largest + 3s (s = broadening · range).
  Eigen::VectorXd grid, density;
};

SpectralDensity LanczosSpectralDensity(const SymmetricOperator& op,
                                       const SpectralDensityOptions& options);

}  // namespace attnpaths
