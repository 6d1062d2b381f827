#include "kernels/example_range.h"

#include <string>

namespace attnpaths {

ExampleRange::ExampleRange(ExampleSource& source, Eigen::Index begin, Eigen::Index end)
    : source_(&source), begin_(begin), end_(end) {
  CheckBlockRange(source, begin, end);
}

std::string ExampleRange::name() const {
  return source_->name() + " examples [" + std::to_string(begin_) + ", " + std::to_string(end_) +
         ")";
}

void ExampleRange::Read(Eigen::Index begin, Eigen::Index end, ExampleBlock* block) {
  CheckBlockRange(*this, begin, end);
  // block->begin stays the source's index: heads of kind kGiven read the
  // attention of the example in the whole set (kernels/path_inputs.h).
  source_->Read(begin_ + begin, begin_ + end, block);
}

}  // namespace attnpaths
