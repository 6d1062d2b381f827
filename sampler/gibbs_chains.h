// RunGibbsChains — several chains of Gibbs sweeps (gibbs.h) in parallel
// threads, each with its own Boost.Random engine seeded from (seed, chain),
// returning the ChainResult of chains.h so that Sample's diagnostics and
// estimates apply unchanged.
//
//   attnpaths::GibbsSampler gibbs(arch, train_xi, Y, T);
//   attnpaths::NetworkPotential potential(arch, train_xi, Y, T);   // lp of each draw
//   std::vector<attnpaths::ChainResult> chains =
//       attnpaths::RunGibbsChains(gibbs, potential, options, k, reporter);
//
// Each iteration is `sweeps_per_iteration` sweeps (>= 1). Of ChainOptions only num_chains,
// num_warmup (sweeps discarded from the prior start), num_samples, seed, threads and progress
// apply: nothing is adapted. ChainResult fields that describe NUTS transitions hold: accept_stat 1,
// depth 0, leapfrog_steps = sweeps per draw, divergent 0, energy NaN (no Hamiltonian, so no
// E-BFMI), step_size 0; gradient_evaluations counts sweeps (warm-up included). The draws of a chain
// depend only on the seed and the chain index, never on the thread count.
#pragma once

#include <Eigen/Core>
#include <vector>

#include "sampler/chains.h"
#include "sampler/gibbs.h"
#include "sampler/potential.h"

namespace attnpaths {

// `potential` (over the same coordinates as `gibbs`) gives x.potential for
// the reporter (lp = −U). Throws Error for invalid options; rethrows an
// exception raised inside a chain.
std::vector<ChainResult> RunGibbsChains(const GibbsSampler& gibbs, const Potential& potential,
                                        const ChainOptions& options, Eigen::Index num_quantities,
                                        const Reporter& reporter, int sweeps_per_iteration = 1);

}  // namespace attnpaths
