// Inputs — a dataset of P sequences, each n_tok tokens of N0 features.
//
//   attnpaths::Inputs x(P, n_tok, N0);          // zero-filled, C order P × n_tok × N0
//   x.example(mu)(i, t) = 1.0;                  // feature i of token t (theory.md §1: x ∈
//   R^{N0×n_tok})
//
// Storage is the C-order layout of an NPY array of shape (P, n_tok, N0), so
// example mu is a contiguous column-major N0 × n_tok matrix whose column t is
// token t. The values live in an InputValues: memory of their own, or memory
// kept alive by someone else (data/ hands over a private mapping of an NPY
// file, so that reading a float64 file copies nothing).
#pragma once

#include <Eigen/Core>
#include <cstddef>
#include <memory>
#include <vector>

namespace attnpaths {

// A contiguous array of doubles: owned, or external memory kept alive by an
// owner object. Copies are always deep and owned; moves keep the storage.
class InputValues {
 public:
  InputValues() = default;
  // n values, all `fill`.
  explicit InputValues(size_t n, double fill = 0.0);
  // n values left uninitialised, for a reader that writes every one of them
  // (no pass over the memory before the reader's own).
  static InputValues Uninitialized(size_t n);
  // n values at `data`, valid while `owner` lives (e.g. a file mapping whose
  // deleter unmaps it). Writable only if the memory is (a private mapping is).
  static InputValues External(std::shared_ptr<const void> owner, double* data, size_t n);

  InputValues(const InputValues& other);
  InputValues& operator=(const InputValues& other);
  InputValues(InputValues&&) noexcept = default;
  InputValues& operator=(InputValues&&) noexcept = default;

  double* data() { return data_; }
  const double* data() const { return data_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  double* begin() { return data_; }
  double* end() { return data_ + size_; }
  const double* begin() const { return data_; }
  const double* end() const { return data_ + size_; }
  double& operator[](size_t k) { return data_[k]; }
  double operator[](size_t k) const { return data_[k]; }
  double& back() { return data_[size_ - 1]; }
  // True when the memory belongs to an external owner.
  bool external() const { return owner_ != nullptr; }

 private:
  std::unique_ptr<double[]> owned_;
  std::shared_ptr<const void> owner_;
  double* data_ = nullptr;
  size_t size_ = 0;
};

class Inputs {
 public:
  Inputs() = default;
  Inputs(Eigen::Index P, Eigen::Index n_tok, Eigen::Index N0);
  // Takes over `values` (C order (P, n_tok, N0), exactly P·n_tok·N0 of
  // them) without copying: readers fill their buffer once and hand it over.
  Inputs(Eigen::Index P, Eigen::Index n_tok, Eigen::Index N0, InputValues values);

  // Changes the shape; the memory is kept when the number of values is
  // unchanged, otherwise replaced by an uninitialised buffer (blocks of a
  // streamed set reuse one buffer and overwrite it).
  void Resize(Eigen::Index P, Eigen::Index n_tok, Eigen::Index N0);

  Eigen::Index P() const { return P_; }
  Eigen::Index n_tok() const { return n_tok_; }
  Eigen::Index N0() const { return N0_; }

  // The N0 × n_tok matrix of example mu (theory.md §1).
  Eigen::Map<Eigen::MatrixXd> example(Eigen::Index mu);
  Eigen::Map<const Eigen::MatrixXd> example(Eigen::Index mu) const;

  // All values, C order (P, n_tok, N0).
  InputValues& values() { return values_; }
  const InputValues& values() const { return values_; }

  // Throws Error naming `field` and the value's index if any value is NaN or
  // infinite.
  void CheckFinite(const char* field) const { CheckFiniteFrom(field, 0); }
  // The same for a block of a larger set: examples are numbered from `first_example`.
  void CheckFiniteFrom(const char* field, Eigen::Index first_example) const;

  // The examples with the given indices, in that order.
  Inputs Select(const std::vector<Eigen::Index>& indices) const;

 private:
  Eigen::Index P_ = 0, n_tok_ = 0, N0_ = 0;
  InputValues values_;
};

}  // namespace attnpaths
