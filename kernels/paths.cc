#include "kernels/paths.h"

#include "kernels/error.h"

namespace attnpaths {

Paths::Paths(std::vector<Eigen::Index> heads_per_layer) : H_(std::move(heads_per_layer)) {
  Require(!H_.empty(), "heads per layer", 0, "at least one layer");
  for (size_t l = 0; l < H_.size(); ++l) {
    Require(H_[l] >= 1, "heads in layer " + std::to_string(l + 1), H_[l], "at least 1");
    // Htot beyond 2^31 paths cannot be stored (and would overflow the packing).
    Require(static_cast<double>(Htot_) * static_cast<double>(H_[l]) <= 2147483648.0,
            "heads in layer " + std::to_string(l + 1), H_[l],
            "a count whose product over layers (Htot, the number of paths) is at most 2^31");
    Htot_ *= H_[l];
  }
}

Eigen::Index Paths::m(int l) const {
  Require(l >= 1 && l <= L() + 1, "layer l of m_l", l,
          "a layer in [1, " + std::to_string(L() + 1) + "] (m_{L+1} = 1)");
  Eigen::Index n = 1;
  for (int k = l; k <= L(); ++k) n *= H_[static_cast<size_t>(k - 1)];
  return n;
}

Eigen::Index Paths::Pack(const std::vector<Eigen::Index>& heads) const {
  Require(heads.size() == H_.size(), "path length", heads.size(), std::to_string(H_.size()));
  Eigen::Index p = 0;
  for (size_t l = 0; l < H_.size(); ++l) {
    Require(heads[l] >= 0 && heads[l] < H_[l], "head of layer " + std::to_string(l + 1), heads[l],
            "an index in [0, " + std::to_string(H_[l]) + ")");
    p = p * H_[l] + heads[l];
  }
  return p;
}

std::vector<Eigen::Index> Paths::Heads(Eigen::Index path) const {
  Require(path >= 0 && path < Htot_, "path index", path,
          "an index in [0, " + std::to_string(Htot_) + ")");
  std::vector<Eigen::Index> heads(H_.size());
  for (size_t l = H_.size(); l-- > 0;) {
    heads[l] = path % H_[l];
    path /= H_[l];
  }
  return heads;
}

std::string Paths::Label(Eigen::Index path,
                         const std::vector<std::vector<std::string>>& names) const {
  const auto heads = Heads(path);
  std::string label;
  for (size_t l = 0; l < heads.size(); ++l) {
    if (l) label += '>';
    const auto h = static_cast<size_t>(heads[l]);
    label += (l < names.size() && h < names[l].size()) ? names[l][h]
                                                       : "h" + std::to_string(heads[l] + 1);
  }
  return label;
}

}  // namespace attnpaths
