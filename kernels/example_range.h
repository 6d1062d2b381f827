// ExampleRange — a contiguous range of another ExampleSource's examples, seen
// as a data set of its own: how each process of a data-parallel run reads only
// its share (theory.md §10; parallel/communicator.h's Share gives the range).
//
//   attnpaths::InMemoryExamples all(x, y);
//   const auto [begin, end] = attnpaths::Communicator::World().Share(all.P());
//   attnpaths::ExampleRange mine(all, begin, end);   // examples begin … end−1 of `all`
//   attnpaths::Gram g = attnpaths::AccumulateGram(arch, mine, Split::kTrain);
//   attnpaths::SumOverRanks(attnpaths::Communicator::World(), &g);   // the whole set's Gram
//
// Example μ of the range is example begin + μ of the source. Blocks read from
// the range keep the source's numbering (ExampleBlock::begin is begin + μ), so
// heads with given attention tables read the right example's. The source must
// outlive the range.
#pragma once

#include <Eigen/Core>
#include <string>

#include "kernels/example_source.h"

namespace attnpaths {

class ExampleRange : public ExampleSource {
 public:
  // Throws Error unless 0 <= begin <= end <= source.P().
  ExampleRange(ExampleSource& source, Eigen::Index begin, Eigen::Index end);

  Eigen::Index P() const override { return end_ - begin_; }
  Eigen::Index n_tok() const override { return source_->n_tok(); }
  Eigen::Index N0() const override { return source_->N0(); }
  Eigen::Index D() const override { return source_->D(); }
  // "<source> examples [begin, end)".
  std::string name() const override;
  void Read(Eigen::Index begin, Eigen::Index end, ExampleBlock* block) override;

  Eigen::Index begin() const { return begin_; }
  Eigen::Index end() const { return end_; }

 private:
  ExampleSource* source_;
  Eigen::Index begin_, end_;
};

}  // namespace attnpaths
