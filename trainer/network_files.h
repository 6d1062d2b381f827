// A trained network on disk (the folder `attnpaths train` writes and
// `attnpaths train-eval` reads):
//
//   network.json           shape: N0, n_tok, heads, widths, key_dim, readout, head_scaling
//                          ("sqrt" when absent), head names
//   V_0.npy                n_1 × N0
//   V_<l>_<h>.npy          n_{l+1} × n_l   (l, h 1-based)
//   Q_<l>_<h>.npy, K_<l>_<h>.npy   d × N0 (the QK-form heads of theory.md §1)
//   a.npy                  n_{L+1}
//
// The folder is written as a whole (data/result_folder.h).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "data/labels.h"
#include "data/result_folder.h"
#include "network/network.h"

namespace attnpaths {

// "Q_1_2.npy" for kind "Q", layer 1, head index 1 (0-based; written 1-based).
std::string WeightFileName(const std::string& kind, int l, Eigen::Index h);

// The shape as JSON (the content of network.json).
nlohmann::json NetworkShapeJson(const NetworkShape& shape);

// The files of a trained network as ResultFolder patterns.
std::vector<std::string> TrainedNetworkFiles();

// Stages every weight file and then network.json (the shape and "files":
// the weights' fingerprints) in `out`; the caller commits.
void StageTrainedNetwork(ResultFolder& out, const Network& net, Task task);

// Reads a folder written by StageTrainedNetwork; throws Error naming the file
// when one is missing, has the wrong shape or differs from what network.json
// lists.
// *task (when given) receives the task it was trained for.
Network ReadTrainedNetwork(const std::string& dir, Task* task = nullptr);

// Parses "L2H3" (layer 2, head 3, as TrainedHeadName prints it) into (l, h)
// with h 0-based; throws Error naming `field` when it is malformed or not a
// head of `shape`.
std::pair<int, Eigen::Index> ParseTrainedHeadName(const std::string& text,
                                                  const NetworkShape& shape,
                                                  const std::string& field);

}  // namespace attnpaths
