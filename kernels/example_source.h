// ExampleSource — a data set read in blocks of examples, so that path inputs
// and the Gram of theory.md §10 can be computed in one pass with memory
// bounded by the block, not by P.
//
//   attnpaths::InMemoryExamples source(x, y);   // also NpyExamples, Hdf5Examples
//   (data/example_files.h)
//                                               // and HmmExamples (data/hmm.h)
//   attnpaths::ExampleBlock block;
//   for (Eigen::Index b = 0; b < source.P(); b += 4096) {
//     source.Read(b, std::min(source.P(), b + 4096), &block);
//     block.x;   // examples b … e−1 (P × n_tok × N0 as Inputs)
//     block.y;   // their labels, (e − b) × D
//   }
//
// Every source gives the same examples, in the same order, as reading the
// whole set at once; reading in increasing order is the fast path (a
// generator replays from its seed when asked to go back).
#pragma once

#include <Eigen/Core>
#include <string>

#include "kernels/inputs.h"

namespace attnpaths {

struct ExampleBlock {
  Eigen::Index begin = 0;  // index of the block's first example in the whole set
  Inputs x;                // the block's examples
  Eigen::MatrixXd y;       // (end − begin) × D labels; D = 0 when the source has none

  Eigen::Index end() const { return begin + x.P(); }
};

class ExampleSource {
 public:
  virtual ~ExampleSource() = default;

  virtual Eigen::Index P() const = 0;
  virtual Eigen::Index n_tok() const = 0;
  virtual Eigen::Index N0() const = 0;
  // Label columns (0: the source has inputs only).
  virtual Eigen::Index D() const = 0;
  // Names the data in messages ("train_x.npy", "hmm generator (seed 27)").
  virtual std::string name() const = 0;

  // Reads examples [begin, end) into *block, reusing its buffers when their
  // size fits. Throws Error when the range is outside [0, P] or the data
  // cannot be read.
  virtual void Read(Eigen::Index begin, Eigen::Index end, ExampleBlock* block) = 0;
};

// Checks 0 <= begin <= end <= source.P(); throws Error naming the source.
void CheckBlockRange(const ExampleSource& source, Eigen::Index begin, Eigen::Index end);

// Resizes `block` for `count` examples of n_tok × N0 and D label columns
// (buffers kept when the sizes match; new values are not initialised to
// anything in particular, a reader overwrites them all).
void ShapeBlock(Eigen::Index begin, Eigen::Index count, Eigen::Index n_tok, Eigen::Index N0,
                Eigen::Index D, ExampleBlock* block);

// A data set already in memory (not copied; x and y must outlive the source).
class InMemoryExamples : public ExampleSource {
 public:
  // y is P × D (D may be 0); throws Error when its row count differs from x.P().
  InMemoryExamples(const Inputs& x, const Eigen::MatrixXd& y, std::string name = "in-memory data");
  explicit InMemoryExamples(const Inputs& x, std::string name = "in-memory data");

  Eigen::Index P() const override { return x_->P(); }
  Eigen::Index n_tok() const override { return x_->n_tok(); }
  Eigen::Index N0() const override { return x_->N0(); }
  Eigen::Index D() const override { return y_ ? y_->cols() : 0; }
  std::string name() const override { return name_; }
  void Read(Eigen::Index begin, Eigen::Index end, ExampleBlock* block) override;

 private:
  const Inputs* x_;
  const Eigen::MatrixXd* y_ = nullptr;
  std::string name_;
};

}  // namespace attnpaths
