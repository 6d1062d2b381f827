#include "trainer/network_files.h"

#include <filesystem>
#include <regex>

#include "data/atomic_file.h"
#include "data/npy.h"
#include "data/result_index.h"
#include "kernels/error.h"

namespace attnpaths {

namespace {

std::string Join(const std::string& dir, const std::string& file) {
  return (std::filesystem::path(dir) / file).string();
}

Eigen::MatrixXd ReadMatrix(const std::string& path, Eigen::Index rows, Eigen::Index cols) {
  const Eigen::MatrixXd m = NpyToMatrix(ReadNpy(path), path);
  Require(m.rows() == rows && m.cols() == cols, path + " shape",
          std::to_string(m.rows()) + " x " + std::to_string(m.cols()),
          std::to_string(rows) + " x " + std::to_string(cols));
  return m;
}

}  // namespace

std::string WeightFileName(const std::string& kind, int l, Eigen::Index h) {
  return kind + "_" + std::to_string(l) + "_" + std::to_string(h + 1) + ".npy";
}

nlohmann::json NetworkShapeJson(const NetworkShape& s) {
  nlohmann::json names = nlohmann::json::array();
  for (int l = 1; l <= s.L(); ++l) {
    nlohmann::json layer = nlohmann::json::array();
    for (Eigen::Index h = 0; h < s.heads[static_cast<size_t>(l - 1)]; ++h) {
      layer.push_back(TrainedHeadName(l, h));
    }
    names.push_back(layer);
  }
  return {{"N0", s.N0},
          {"n_tok", s.n_tok},
          {"heads", s.heads},
          {"widths", s.widths},
          {"key_dim", s.key_dim},
          {"readout", ReadoutName(s.readout)},
          {"head_scaling", HeadScalingName(s.head_scaling)},
          {"head_names", names}};
}

std::vector<std::string> TrainedNetworkFiles() {
  return {"network.json", "V_0.npy", "V_#_#.npy", "Q_#_#.npy", "K_#_#.npy", "a.npy"};
}

void StageTrainedNetwork(ResultFolder& out, const Network& net, Task task) {
  const NetworkShape& s = net.shape();
  std::vector<std::string> names;
  const auto path = [&](const std::string& f) {
    names.push_back(f);
    return out.Path(f);
  };
  WriteNpy(path("V_0.npy"), net.V0());
  for (int l = 1; l <= s.L(); ++l) {
    for (Eigen::Index h = 0; h < s.heads[static_cast<size_t>(l - 1)]; ++h) {
      WriteNpy(path(WeightFileName("V", l, h)), net.V(l, h));
      WriteNpy(path(WeightFileName("Q", l, h)), net.Q(l, h));
      WriteNpy(path(WeightFileName("K", l, h)), net.K(l, h));
    }
  }
  const Eigen::VectorXd a = net.a().col(0);
  WriteNpy(path("a.npy"), a);
  nlohmann::json j = NetworkShapeJson(s);
  j["task"] = TaskName(task);
  j["files"] = FilesJson(out.Staged(names));
  WriteFileAtomically(out.Path("network.json"), j.dump(2) + "\n");
}

Network ReadTrainedNetwork(const std::string& dir, Task* task) {
  const std::string json_path = Join(dir, "network.json");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(ReadFile(json_path));
  } catch (const nlohmann::json::exception& e) {
    throw Error(json_path + ": invalid JSON (" + std::string(e.what()) + ")");
  }
  // The weights must be the ones network.json lists (one training run, complete).
  VerifyIndexFiles(j, dir, json_path);
  if (task != nullptr) {
    *task = Task::kClassification;
    if (j.is_object() && j.contains("task") && j["task"].is_string()) {
      *task = ParseTask(j["task"].get<std::string>(), json_path + ": task");
    }
  }
  NetworkShape s;
  try {
    s.N0 = j.at("N0").get<Eigen::Index>();
    s.n_tok = j.at("n_tok").get<Eigen::Index>();
    s.heads = j.at("heads").get<std::vector<Eigen::Index>>();
    s.widths = j.at("widths").get<std::vector<Eigen::Index>>();
    s.key_dim = j.at("key_dim").get<Eigen::Index>();
    s.readout = ParseReadout(j.at("readout").get<std::string>(), json_path + ": readout");
    if (j.contains("head_scaling")) {
      s.head_scaling =
          ParseHeadScaling(j.at("head_scaling").get<std::string>(), json_path + ": head_scaling");
    }
  } catch (const nlohmann::json::exception& e) {
    throw Error(ErrorMessage(json_path, e.what(),
                             "N0, n_tok, heads, widths, key_dim and readout as written by "
                             "attnpaths train"));
  }
  Network net(s);
  net.V0() = ReadMatrix(Join(dir, "V_0.npy"), s.widths[0], s.N0);
  for (int l = 1; l <= s.L(); ++l) {
    const auto li = static_cast<size_t>(l - 1);
    for (Eigen::Index h = 0; h < s.heads[li]; ++h) {
      net.V(l, h) =
          ReadMatrix(Join(dir, WeightFileName("V", l, h)), s.widths[li + 1], s.widths[li]);
      net.Q(l, h) = ReadMatrix(Join(dir, WeightFileName("Q", l, h)), s.key_dim, s.N0);
      net.K(l, h) = ReadMatrix(Join(dir, WeightFileName("K", l, h)), s.key_dim, s.N0);
    }
  }
  net.a() = ReadMatrix(Join(dir, "a.npy"), s.widths.back(), 1);
  return net;
}

std::pair<int, Eigen::Index> ParseTrainedHeadName(const std::string& text,
                                                  const NetworkShape& shape,
                                                  const std::string& field) {
  static const std::regex pattern(R"(L(\d{1,6})H(\d{1,9}))");
  std::smatch m;
  Require(std::regex_match(text, m, pattern), field, "\"" + text + "\"",
          "a head name like L1H2 (layer 1, head 2)");
  const int l = std::stoi(m[1].str());
  const Eigen::Index h = std::stoll(m[2].str()) - 1;
  Require(l >= 1 && l <= shape.L(), field, "\"" + text + "\"",
          "a layer 1 … " + std::to_string(shape.L()));
  Require(h >= 0 && h < shape.heads[static_cast<size_t>(l - 1)], field, "\"" + text + "\"",
          "a head 1 … " + std::to_string(shape.heads[static_cast<size_t>(l - 1)]) + " of layer " +
              std::to_string(l));
  return {l, h};
}

}  // namespace attnpaths
