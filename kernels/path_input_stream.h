// StreamPathInputs — path inputs ξ_π (theory.md §2) of a data set computed
// block by block as the examples are read, never all in memory at once: the
// one pass over the data that theory.md §10's feature-space form needs.
//
//   attnpaths::NpyExamples source("train_x.npy", "train_y.npy");   // any ExampleSource
//   attnpaths::StreamPathInputs(arch, source, Split::kTrain, {},
//                               [&](const attnpaths::PathInputBlock& block) {
//                                 block.xi_t;   // Ξᵀ of examples block.begin … block.end()−1
//                                 block.y;      // their labels
//                               });
//
// Memory: two blocks of inputs (the next one is read while this one is
// computed), one block of Ξᵀ and the workers' scratch; the default block holds
// about 32 MiB of inputs.
#pragma once

#include <Eigen/Core>
#include <functional>
#include <string>

#include "kernels/architecture.h"
#include "kernels/example_source.h"
#include "kernels/path_inputs.h"

namespace attnpaths {

struct StreamOptions {
  // Examples per block; 0 picks about 32 MiB of inputs (n_tok · N0 doubles
  // an example), at least 64 examples.
  Eigen::Index block_examples = 0;
  // Worker threads for the path inputs (and the Gram update); <= 0: every core.
  int threads = 0;
  // Read the next block on a separate thread while this one is computed.
  bool prefetch = true;
  // Called on the calling thread after each block with the examples done so far.
  std::function<void(Eigen::Index done, Eigen::Index P)> progress;

  bool IsValid(std::string* why) const;
  // The block size these options give for examples of n_tok × N0 values.
  Eigen::Index BlockExamples(Eigen::Index P, Eigen::Index n_tok, Eigen::Index N0) const;
};

struct PathInputBlock {
  Eigen::Index begin = 0;  // the block's first example in the whole set
  // Ξᵀ of the block: M × (end − begin), column μ the row of Ξ of example
  // begin + μ (ξ_π stacked, path π outer, feature inner; theory.md §10).
  Eigen::MatrixXd xi_t;
  Eigen::MatrixXd y;  // labels, (end − begin) × D

  Eigen::Index end() const { return begin + xi_t.cols(); }
};

struct StreamSummary {
  Eigen::Index blocks = 0, examples = 0;
  double read_seconds = 0;        // reading the source (on the reader thread when prefetching)
  double wait_seconds = 0;        // the calling thread waiting for a block to be read
  double path_input_seconds = 0;  // computing Ξᵀ of the blocks
  double visit_seconds = 0;       // in the visitor (the Gram update for AccumulateGram)
  double total_seconds = 0;
};

// Reads `source` in blocks, computes each block's path inputs and calls
// `visit` on the calling thread, blocks in order. Throws Error for an
// architecture that does not fit the source's examples, and whatever the
// source or the visitor throws (the reader thread is joined first).
void StreamPathInputs(const Architecture& arch, ExampleSource& source, Split split,
                      const StreamOptions& options,
                      const std::function<void(const PathInputBlock&)>& visit,
                      StreamSummary* summary = nullptr);

}  // namespace attnpaths
