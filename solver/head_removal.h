// Head removal — a network without some of its heads (theory.md §6): the
// reduced architecture, which of the full network's paths remain, and the
// order parameters restricted to them. Pruning (solver/pruning.h) and
// PathProblem::WithoutHeads (solver/path_problem.h) build on it.
//
//   const std::vector<attnpaths::HeadId> pruned = {{1, 0}};   // layer 1, head 0
//   attnpaths::Architecture small = attnpaths::RemoveHeads(arch, pruned);
//   std::vector<Eigen::Index> kept = attnpaths::KeptPaths(arch.heads_per_layer(), 1, pruned);
//   attnpaths::OrderParameters warm = attnpaths::RestrictOrderParameters(arch, sol, pruned);
#pragma once

#include <Eigen/Core>
#include <vector>

#include "kernels/architecture.h"
#include "solver/head_relevance.h"
#include "solver/order_parameters.h"

namespace attnpaths {

// Throws Error naming the head when one of `heads` is not a head of a network
// with heads_per_layer H.
void CheckHeadIds(const std::vector<Eigen::Index>& H, const std::vector<HeadId>& heads);

// True when (layer, head) is one of `pruned`.
bool IsPruned(const std::vector<HeadId>& pruned, int layer, Eigen::Index head);

// The packed indices (h_ℓ, …, h_L) of U_ℓ, ℓ = `from` (heads_per_layer of the
// full network), whose heads all remain; increasing. With from = 1: the full
// network's paths that the reduced network keeps (kernels/paths.h order).
std::vector<Eigen::Index> KeptPaths(const std::vector<Eigen::Index>& heads_per_layer, int from,
                                    const std::vector<HeadId>& pruned);

// The architecture without the `pruned` heads (indices of `arch`); throws
// Error when a layer would be left without heads.
Architecture RemoveHeads(const Architecture& arch, const std::vector<HeadId>& pruned);

// Every U_ℓ of `op` (solved for `arch`) restricted to the rows and columns
// (h_ℓ, …, h_L, d) whose heads all remain (every output d); U_a is kept. The
// result fits RemoveHeads(arch, pruned).
OrderParameters RestrictOrderParameters(const Architecture& arch, const OrderParameters& op,
                                        const std::vector<HeadId>& pruned);

}  // namespace attnpaths
