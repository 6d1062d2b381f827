// The settings of `attnpaths train`: a TOML file (docs/cli.md, "attnpaths
// train") and command-line flags that override it.
//
//   [data]      train_x, train_y, test_x, test_y (NPY or "file.h5:/dataset"), task
//   [network]   heads = [4, 4], width = 32 | widths = [...], key_dim = 8, readout = "mean",
//               head_scaling = "sqrt" | "mean"
//   [training]  epochs, batch_size, learning_rate, schedule, final_learning_rate_ratio,
//               beta1, beta2, epsilon, weight_decay, value_init_std,
//               attention_init_std, seed, eval_every, optimizer = "adam" | "gd",
//               loss = "squared" | "logistic", trained = "all" | "attention"
//   [output]    directory
#pragma once

#include <Eigen/Core>
#include <optional>
#include <string>
#include <vector>

#include "data/labels.h"
#include "kernels/inputs.h"
#include "network/network.h"
#include "trainer/train.h"

namespace attnpaths::cli {

// Every width n_ℓ when the file gives neither width nor widths.
inline constexpr Eigen::Index kDefaultWidth = 32;

struct TrainConfig {
  // Array specs ("X.npy" or "file.h5:/dataset"); ReadTrainConfig resolves
  // relative paths in the file against the file's folder.
  std::string train_x, train_y, test_x, test_y;
  std::vector<Eigen::Index> heads{4, 4};  // H_1, …, H_L
  std::optional<Eigen::Index> width;      // every n_ℓ (default kDefaultWidth)
  std::vector<Eigen::Index> widths;       // n_1, …, n_{L+1} explicitly
  Eigen::Index key_dim = NetworkShape{}.key_dim;
  std::string readout = "mean";
  std::string head_scaling = "sqrt";
  TrainOptions options;
  std::string output_directory = "attnpaths-train";
  Task task = Task::kClassification;  // [data] task (data/labels.h)
};

// Reads a TOML file into *config (keys absent from the file keep their
// values; relative paths are resolved against the file's folder). Unknown keys are errors naming
// the nearest valid key.
void ReadTrainConfig(const std::string& path, TrainConfig* config);

// The network shape for inputs of N0 features and n_tok tokens; throws Error
// naming the field when the widths do not fit the heads.
NetworkShape MakeNetworkShape(const TrainConfig& config, Eigen::Index N0, Eigen::Index n_tok);

// Loads "X.npy" (P × n_tok × N0) and "y.npy" (P or P × 1) with checks; the
// error names `field`.
Inputs LoadTrainInputs(const std::string& spec, const std::string& field);
Eigen::VectorXd LoadTrainLabels(const std::string& spec, const std::string& field, Eigen::Index P);

}  // namespace attnpaths::cli
