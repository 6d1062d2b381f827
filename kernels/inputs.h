// Inputs — a dataset of P sequences, each n_tok tokens of N0 features.
//
//   attnpaths::Inputs x(P, n_tok, N0);          // zero-filled, C order P × n_tok × N0
//   x.example(mu)(i, t) = 1.0;                  // feature i of token t (theory.md §1: x ∈ R^{N0×n_tok})
//
// Storage is the C-order layout of an NPY array of shape (P, n_tok, N0), so
// example mu is a contiguous column-major N0 × n_tok matrix whose column t is
// token t.
#pragma once

#include <Eigen/Core>
#include <vector>

namespace attnpaths {

class Inputs {
 public:
  Inputs() = default;
  Inputs(Eigen::Index P, Eigen::Index n_tok, Eigen::Index N0);

  Eigen::Index P() const { return P_; }
  Eigen::Index n_tok() const { return n_tok_; }
  Eigen::Index N0() const { return N0_; }

  // The N0 × n_tok matrix of example mu (theory.md §1).
  Eigen::Map<Eigen::MatrixXd> example(Eigen::Index mu);
  Eigen::Map<const Eigen::MatrixXd> example(Eigen::Index mu) const;

  // All values, C order (P, n_tok, N0).
  std::vector<double>& values() { return values_; }
  const std::vector<double>& values() const { return values_; }

  // Throws Error naming `field` if any value is NaN or infinite.
  void CheckFinite(const char* field) const;

  // The examples with the given indices, in that order.
  Inputs Select(const std::vector<Eigen::Index>& indices) const;

 private:
  Eigen::Index P_ = 0, n_tok_ = 0, N0_ = 0;
  std::vector<double> values_;
};

}  // namespace attnpaths
