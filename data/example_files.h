// FileExamples — a data set on disk, read block by block: inputs x of shape
// (P, n_tok, N0) and labels y of shape (P,) or (P, D), each an NPY file
// (memory-mapped) or an HDF5 dataset (read by hyperslabs).
//
//   attnpaths::FileExamples source("train_x.npy", "train_y.npy");
//   attnpaths::FileExamples h5("data.h5:/train/x", "data.h5:/train/y");
//   attnpaths::Gram g = attnpaths::AccumulateGram(arch, source, Split::kTrain);
//
// Only the block being read is converted into memory, so files larger than
// memory stream through (kernels/path_input_stream.h). Blocks are checked as
// they are read: a NaN or infinity is reported with the file and its index.
#pragma once

#include <memory>
#include <string>

#include "data/array_reader.h"
#include "kernels/example_source.h"

namespace attnpaths {

class FileExamples : public ExampleSource {
 public:
  // Specs as in the study file: "x.npy" or "file.h5:/group/x", relative to
  // `base_dir`; an empty y_spec gives a source without labels. Throws Error
  // naming the file when a shape is wrong or the row counts differ.
  FileExamples(const std::string& x_spec, const std::string& y_spec,
               const std::string& base_dir = "");
  FileExamples(std::unique_ptr<ArrayReader> x, std::unique_ptr<ArrayReader> y);

  Eigen::Index P() const override { return P_; }
  Eigen::Index n_tok() const override { return n_tok_; }
  Eigen::Index N0() const override { return N0_; }
  Eigen::Index D() const override { return D_; }
  std::string name() const override { return x_->name(); }
  void Read(Eigen::Index begin, Eigen::Index end, ExampleBlock* block) override;

 private:
  void Check();

  std::unique_ptr<ArrayReader> x_, y_;
  Eigen::Index P_ = 0, n_tok_ = 0, N0_ = 0, D_ = 0;
  std::vector<double> y_rows_;  // one block of labels in C order
};

}  // namespace attnpaths
