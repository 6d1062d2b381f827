#include "data/example_files.h"

#include <cmath>

#include "data/npy.h"
#include "kernels/error.h"

namespace attnpaths {

FileExamples::FileExamples(const std::string& x_spec, const std::string& y_spec,
                           const std::string& base_dir)
    : x_(OpenArrayReader(x_spec, base_dir)),
      y_(y_spec.empty() ? nullptr : OpenArrayReader(y_spec, base_dir)) {
  Check();
}

FileExamples::FileExamples(std::unique_ptr<ArrayReader> x, std::unique_ptr<ArrayReader> y)
    : x_(std::move(x)), y_(std::move(y)) {
  Require(x_ != nullptr, "example files", "no input array", "an array of inputs");
  Check();
}

void FileExamples::Check() {
  const std::vector<int64_t>& s = x_->shape();
  const std::string expected = "a 3-D array of shape (P, n_tok, N0) with n_tok >= 1 and N0 >= 1";
  if (s.size() != 3) {
    throw Error(ErrorMessage(x_->name(),
                             "a " + std::to_string(s.size()) + "-D array of shape " + ShapeText(s),
                             expected));
  }
  if (s[1] < 1 || s[2] < 1)
    throw Error(ErrorMessage(x_->name(), "shape " + ShapeText(s), expected));
  P_ = s[0];
  n_tok_ = s[1];
  N0_ = s[2];
  if (!y_) return;
  const std::vector<int64_t>& t = y_->shape();
  if (t.size() != 1 && t.size() != 2) {
    throw Error(ErrorMessage(y_->name(),
                             "a " + std::to_string(t.size()) + "-D array of shape " + ShapeText(t),
                             "a 1-D array (P,) or a 2-D array (P, D) of labels"));
  }
  Require(t[0] == P_, y_->name() + " rows", t[0],
          std::to_string(P_) + " (one label row per example of " + x_->name() + ")");
  D_ = t.size() == 2 ? t[1] : 1;
  Require(D_ >= 1, y_->name() + " columns", D_, "at least 1 label column");
}

void FileExamples::Read(Eigen::Index begin, Eigen::Index end, ExampleBlock* block) {
  CheckBlockRange(*this, begin, end);
  ShapeBlock(begin, end - begin, n_tok_, N0_, D_, block);
  if (end == begin) return;
  x_->ReadRows(begin, end, block->x.values().data());
  CheckFiniteArray(block->x, x_->name(), begin);
  if (!y_) return;
  y_rows_.resize(static_cast<size_t>((end - begin) * D_));
  y_->ReadRows(begin, end, y_rows_.data());
  for (Eigen::Index i = 0; i < end - begin; ++i) {
    for (Eigen::Index d = 0; d < D_; ++d) {
      const double v = y_rows_[static_cast<size_t>(i * D_ + d)];
      if (!std::isfinite(v)) {
        throw Error(ErrorMessage(y_->name() + "[" + std::to_string(begin + i) +
                                     (y_->shape().size() == 2 ? ", " + std::to_string(d) : "") +
                                     "]",
                                 ToText(v), "a finite number"));
      }
      block->y(i, d) = v;
    }
  }
}

}  // namespace attnpaths
