#include "kernels/example_source.h"

#include <cstring>

#include "kernels/error.h"

namespace attnpaths {

void CheckBlockRange(const ExampleSource& source, Eigen::Index begin, Eigen::Index end) {
  Require(begin >= 0 && begin <= end && end <= source.P(), source.name() + " block",
          "examples [" + std::to_string(begin) + ", " + std::to_string(end) + ")",
          "a range within [0, " + std::to_string(source.P()) + ")");
}

void ShapeBlock(Eigen::Index begin, Eigen::Index count, Eigen::Index n_tok, Eigen::Index N0,
                Eigen::Index D, ExampleBlock* block) {
  block->begin = begin;
  if (block->x.P() != count || block->x.n_tok() != n_tok || block->x.N0() != N0) {
    block->x.Resize(count, n_tok, N0);
  }
  if (block->y.rows() != count || block->y.cols() != D) block->y.resize(count, D);
}

InMemoryExamples::InMemoryExamples(const Inputs& x, const Eigen::MatrixXd& y, std::string name)
    : x_(&x), y_(&y), name_(std::move(name)) {
  Require(y.rows() == x.P(), name_ + " labels", y.rows(),
          std::to_string(x.P()) + " rows (one per example)");
}

InMemoryExamples::InMemoryExamples(const Inputs& x, std::string name)
    : x_(&x), name_(std::move(name)) {}

void InMemoryExamples::Read(Eigen::Index begin, Eigen::Index end, ExampleBlock* block) {
  CheckBlockRange(*this, begin, end);
  ShapeBlock(begin, end - begin, n_tok(), N0(), D(), block);
  const size_t per = static_cast<size_t>(n_tok() * N0());
  if (end > begin) {
    std::memcpy(block->x.values().data(), x_->values().data() + static_cast<size_t>(begin) * per,
                static_cast<size_t>(end - begin) * per * sizeof(double));
  }
  if (D() > 0) block->y = y_->middleRows(begin, end - begin);
}

}  // namespace attnpaths
