#include "kernels/inputs.h"

#include <sys/mman.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>

#include "kernels/error.h"

namespace attnpaths {

namespace {

// Large input arrays are written once, front to back, right after they are
// allocated: asking for transparent huge pages (where the kernel grants them
// on request, /sys/kernel/mm/transparent_hugepage/enabled = madvise) turns
// 512 page faults into one for every 2 MiB of the aligned interior (the 57 MB
// test set of the paper's Markov study: ~14 000 faults fewer).
void AdviseHugePages(void* data, size_t bytes) {
#if defined(MADV_HUGEPAGE)
  constexpr uintptr_t kHuge = uintptr_t{2} << 20;
  if (bytes < 4 * kHuge) return;
  const uintptr_t first = (reinterpret_cast<uintptr_t>(data) + kHuge - 1) & ~(kHuge - 1);
  const uintptr_t last = (reinterpret_cast<uintptr_t>(data) + bytes) & ~(kHuge - 1);
  if (last > first) ::madvise(reinterpret_cast<void*>(first), last - first, MADV_HUGEPAGE);
#else
  (void)data;
  (void)bytes;
#endif
}

}  // namespace

InputValues::InputValues(size_t n, double fill) : InputValues(Uninitialized(n)) {
  std::fill(data_, data_ + size_, fill);
}

InputValues InputValues::Uninitialized(size_t n) {
  InputValues v;
  if (n > 0) v.owned_.reset(new double[n]);  // default-initialised: no pass over the memory
  v.data_ = v.owned_.get();
  AdviseHugePages(v.data_, n * sizeof(double));
  v.size_ = n;
  return v;
}

InputValues InputValues::External(std::shared_ptr<const void> owner, double* data, size_t n) {
  InputValues v;
  v.owner_ = std::move(owner);
  v.data_ = data;
  v.size_ = n;
  return v;
}

InputValues::InputValues(const InputValues& other) : InputValues(Uninitialized(other.size_)) {
  if (size_ > 0) std::memcpy(data_, other.data_, size_ * sizeof(double));
}

InputValues& InputValues::operator=(const InputValues& other) {
  if (this != &other) *this = InputValues(other);
  return *this;
}

namespace {

void CheckShape(Eigen::Index P, Eigen::Index n_tok, Eigen::Index N0) {
  Require(P >= 0 && n_tok >= 1 && N0 >= 1, "inputs shape",
          std::to_string(P) + " x " + std::to_string(n_tok) + " x " + std::to_string(N0),
          "P >= 0 examples of n_tok >= 1 tokens with N0 >= 1 features");
  // A product that overflows (or exceeds what any machine can hold) is refused, not wrapped.
  Require(static_cast<double>(P) * static_cast<double>(n_tok) * static_cast<double>(N0) <= 1e15,
          "inputs shape",
          std::to_string(P) + " x " + std::to_string(n_tok) + " x " + std::to_string(N0),
          "at most 1e15 values in all");
}

}  // namespace

Inputs::Inputs(Eigen::Index P, Eigen::Index n_tok, Eigen::Index N0)
    : P_(P), n_tok_(n_tok), N0_(N0) {
  CheckShape(P, n_tok, N0);
  values_ = InputValues(static_cast<size_t>(P * n_tok * N0), 0.0);
}

Inputs::Inputs(Eigen::Index P, Eigen::Index n_tok, Eigen::Index N0, InputValues values)
    : P_(P), n_tok_(n_tok), N0_(N0) {
  CheckShape(P, n_tok, N0);
  Require(values.size() == static_cast<size_t>(P * n_tok * N0), "inputs values", values.size(),
          std::to_string(P * n_tok * N0) + " (P x n_tok x N0)");
  values_ = std::move(values);
}

void Inputs::Resize(Eigen::Index P, Eigen::Index n_tok, Eigen::Index N0) {
  CheckShape(P, n_tok, N0);
  const size_t n = static_cast<size_t>(P * n_tok * N0);
  if (n != values_.size()) values_ = InputValues::Uninitialized(n);
  P_ = P;
  n_tok_ = n_tok;
  N0_ = N0;
}

Eigen::Map<Eigen::MatrixXd> Inputs::example(Eigen::Index mu) {
  return Eigen::Map<Eigen::MatrixXd>(values_.data() + mu * n_tok_ * N0_, N0_, n_tok_);
}

Eigen::Map<const Eigen::MatrixXd> Inputs::example(Eigen::Index mu) const {
  return Eigen::Map<const Eigen::MatrixXd>(values_.data() + mu * n_tok_ * N0_, N0_, n_tok_);
}

void Inputs::CheckFiniteFrom(const char* field, Eigen::Index first_example) const {
  // x · 0 is 0 for finite x and NaN otherwise: one vectorised pass for the
  // common case, the loop below only to name the first bad value.
  const Eigen::Map<const Eigen::ArrayXd> all(values_.data(),
                                             static_cast<Eigen::Index>(values_.size()));
  if (std::isfinite((all * 0.0).sum())) return;
  for (size_t k = 0; k < values_.size(); ++k) {
    if (!std::isfinite(values_[k])) {
      const Eigen::Index per = n_tok_ * N0_;
      const Eigen::Index mu = first_example + static_cast<Eigen::Index>(k) / per;
      const Eigen::Index t = (static_cast<Eigen::Index>(k) % per) / N0_;
      const Eigen::Index i = static_cast<Eigen::Index>(k) % N0_;
      throw Error(ErrorMessage(std::string(field) + "[" + std::to_string(mu) + "," +
                                   std::to_string(t) + "," + std::to_string(i) + "]",
                               ToText(values_[k]), "a finite number"));
    }
  }
}

Inputs Inputs::Select(const std::vector<Eigen::Index>& indices) const {
  Inputs out(static_cast<Eigen::Index>(indices.size()), n_tok_, N0_);
  for (size_t k = 0; k < indices.size(); ++k) {
    Require(indices[k] >= 0 && indices[k] < P_, "example index", indices[k], "an index in [0, P)");
    out.example(static_cast<Eigen::Index>(k)) = example(indices[k]);
  }
  return out;
}

}  // namespace attnpaths
