#include "solver/head_removal.h"

#include <algorithm>
#include <string>

#include "kernels/error.h"
#include "kernels/paths.h"

namespace attnpaths {

bool IsPruned(const std::vector<HeadId>& pruned, int layer, Eigen::Index head) {
  return std::find(pruned.begin(), pruned.end(), HeadId{layer, head}) != pruned.end();
}

std::vector<Eigen::Index> KeptPaths(const std::vector<Eigen::Index>& heads_per_layer, int from,
                                    const std::vector<HeadId>& pruned) {
  const std::vector<Eigen::Index> tail(heads_per_layer.begin() + (from - 1), heads_per_layer.end());
  const Paths sub(tail);
  std::vector<Eigen::Index> kept;
  for (Eigen::Index p = 0; p < sub.Htot(); ++p) {
    const auto heads = sub.Heads(p);
    bool keep = true;
    for (size_t k = 0; k < heads.size() && keep; ++k) {
      keep = !IsPruned(pruned, from + static_cast<int>(k), heads[k]);
    }
    if (keep) kept.push_back(p);
  }
  return kept;
}

void CheckHeadIds(const std::vector<Eigen::Index>& H, const std::vector<HeadId>& heads) {
  for (const HeadId& id : heads) {
    Require(id.layer >= 1 && static_cast<size_t>(id.layer) <= H.size(), "pruned head layer",
            id.layer, "a layer in [1, " + std::to_string(H.size()) + "]");
    Require(id.head >= 0 && id.head < H[static_cast<size_t>(id.layer - 1)],
            "pruned head of layer " + std::to_string(id.layer), id.head,
            "an index in [0, " + std::to_string(H[static_cast<size_t>(id.layer - 1)]) + ")");
  }
}

Architecture RemoveHeads(const Architecture& arch, const std::vector<HeadId>& pruned) {
  CheckHeadIds(arch.heads_per_layer(), pruned);
  Architecture reduced = arch;
  for (size_t l = 0; l < arch.layers.size(); ++l) {
    reduced.layers[l].clear();
    for (size_t h = 0; h < arch.layers[l].size(); ++h) {
      if (!IsPruned(pruned, static_cast<int>(l + 1), static_cast<Eigen::Index>(h))) {
        reduced.layers[l].push_back(arch.layers[l][h]);
      }
    }
    Require(!reduced.layers[l].empty(), "pruned heads of layer " + std::to_string(l + 1),
            "every head", "at least one head left in every layer");
  }
  return reduced;
}

OrderParameters RestrictOrderParameters(const Architecture& arch, const OrderParameters& op,
                                        const std::vector<HeadId>& pruned) {
  const Eigen::Index D = op.outputs();
  CheckShapes(arch, op.U, D);
  const std::vector<Eigen::Index> H = arch.heads_per_layer();
  CheckHeadIds(H, pruned);
  OrderParameters out;
  out.U_a = op.U_a;
  for (int l = 1; l <= arch.L(); ++l) {
    const std::vector<Eigen::Index> kept_paths = KeptPaths(H, l, pruned);
    Require(!kept_paths.empty(), "pruned heads", "every path of U_" + std::to_string(l),
            "at least one remaining path");
    std::vector<Eigen::Index> kept;  // rows (h_ℓ, …, h_L, d), d fastest (theory.md §9)
    for (Eigen::Index k : kept_paths) {
      for (Eigen::Index d = 0; d < D; ++d) kept.push_back(k * D + d);
    }
    const auto& U = op.U[static_cast<size_t>(l - 1)];
    out.U.push_back(U(kept, kept));
  }
  return out;
}

}  // namespace attnpaths
