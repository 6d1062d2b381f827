// Attention paths π = (h_1, …, h_L) and their packing (theory.md §2).
//
//   attnpaths::Paths paths({2, 2});          // H_1 = 2, H_2 = 2 → Htot = 4
//   paths.Pack({1, 0});                       // = 2: h_1 is the outermost digit
//   paths.Heads(3);                           // = {1, 1}
//   paths.Label(2, {{"good", "blank"}, {"uniform", "blank"}});   // "blank>uniform"
//
// The same packing serves U_ℓ for ℓ > 1: rows (h_ℓ, …, h_L), h_ℓ outermost.
#pragma once

#include <Eigen/Core>
#include <string>
#include <vector>

namespace attnpaths {

class Paths {
 public:
  explicit Paths(std::vector<Eigen::Index> heads_per_layer);

  int L() const { return static_cast<int>(H_.size()); }
  Eigen::Index Htot() const { return Htot_; }
  const std::vector<Eigen::Index>& heads_per_layer() const { return H_; }
  // m_ℓ = H_ℓ ⋯ H_L, the size of U_ℓ (ℓ = 1..L+1; m_{L+1} = 1).
  Eigen::Index m(int l) const;

  Eigen::Index Pack(const std::vector<Eigen::Index>& heads) const;
  std::vector<Eigen::Index> Heads(Eigen::Index path) const;
  // Head names joined by '>' from layer 1 to layer L.
  std::string Label(Eigen::Index path, const std::vector<std::vector<std::string>>& names) const;

 private:
  std::vector<Eigen::Index> H_;
  Eigen::Index Htot_ = 1;
};

}  // namespace attnpaths
