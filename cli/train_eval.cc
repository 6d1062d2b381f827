// attnpaths train-eval --network DIR --test-x X.npy --test-y y.npy
//                      [--remove L1H2,L2H1] [--orders "L1H2,L2H3,…" …] [--output eval.json]
// Test loss and accuracy of a trained network (the folder `attnpaths train`
// wrote) with heads removed: a removed head's term is dropped from its
// layer's sum (trainer/network.h, HeadMask). `--remove` evaluates one set;
// each `--orders` string removes its heads one after the other and evaluates
// after every removal (pruning curves).
#include <cmath>
#include <cstdio>
#include <iostream>
#include <limits>
#include <memory>
#include <sstream>

#include "cli/commands.h"
#include "cli/report.h"
#include "cli/run_provenance.h"
#include "cli/train_config.h"
#include "data/atomic_file.h"
#include "kernels/error.h"
#include "trainer/forward_backward.h"
#include "trainer/network_files.h"

namespace attnpaths::cli {

namespace {

struct TrainEvalCliOptions {
  std::string network, test_x, test_y, remove, output;
  std::vector<std::string> orders;
};

// "L1H2,L2H1" → heads (l, h); duplicates are errors naming `field`.
std::vector<std::pair<int, Eigen::Index>> ParseHeadList(const std::string& text,
                                                        const NetworkShape& shape,
                                                        const std::string& field) {
  std::vector<std::pair<int, Eigen::Index>> heads;
  std::stringstream s(text);
  std::string item;
  while (std::getline(s, item, ',')) {
    const auto a = item.find_first_not_of(" \t"), b = item.find_last_not_of(" \t");
    if (a == std::string::npos) continue;
    const auto id = ParseTrainedHeadName(item.substr(a, b - a + 1), shape, field);
    for (const auto& seen : heads) {
      Require(seen != id, field, "\"" + TrainedHeadName(id.first, id.second) + "\" twice",
              "each head at most once");
    }
    heads.push_back(id);
  }
  return heads;
}

nlohmann::json EvalJson(const Evaluation& e) {
  return {
      {"test_loss", e.loss},
      {"test_accuracy", std::isfinite(e.accuracy) ? nlohmann::json(e.accuracy) : nlohmann::json()}};
}

int RunTrainEval(const TrainEvalCliOptions& o, const GlobalOptions& g) {
  Task task = Task::kClassification;
  const Network net = ReadTrainedNetwork(o.network, &task);
  const NetworkShape& shape = net.shape();
  const Inputs x = LoadTrainInputs(o.test_x, "--test-x");
  const Eigen::VectorXd y = LoadTrainLabels(o.test_y, "--test-y", x.P());
  CheckLabelConvention(y, task, "--test-y " + o.test_y, false);
  Require(x.N0() == shape.N0 && x.n_tok() == shape.n_tok, "--test-x shape",
          "n_tok " + std::to_string(x.n_tok()) + ", N0 " + std::to_string(x.N0()),
          "n_tok " + std::to_string(shape.n_tok) + ", N0 " + std::to_string(shape.N0) +
              " (the network's)");
  std::vector<std::vector<std::pair<int, Eigen::Index>>> orders;
  for (size_t i = 0; i < o.orders.size(); ++i) {
    orders.push_back(ParseHeadList(o.orders[i], shape, "--orders[" + std::to_string(i) + "]"));
  }
  const auto removed = ParseHeadList(o.remove, shape, "--remove");

  // Regression targets have no accuracy (data/labels.h): NaN, written as null.
  const auto evaluate = [&](const HeadMask& mask) {
    Evaluation e = Evaluate(net, x, y, mask, g.threads);
    if (task == Task::kRegression) e.accuracy = std::numeric_limits<double>::quiet_NaN();
    return e;
  };
  ProgressLine("train-eval: evaluating", g.quiet);
  nlohmann::json j;
  j["network"] = o.network;
  j["P_test"] = x.P();
  const Evaluation full = evaluate(AllHeads(shape));
  j["full"] = EvalJson(full);
  std::ostringstream table;
  char buf[200];
  std::snprintf(buf, sizeof buf, "all heads: test loss %.6f  test accuracy %.4f\n", full.loss,
                full.accuracy);
  table << buf;
  if (!removed.empty()) {
    HeadMask mask = AllHeads(shape);
    nlohmann::json names = nlohmann::json::array();
    for (const auto& [l, h] : removed) {
      mask[static_cast<size_t>(l - 1)][static_cast<size_t>(h)] = false;
      names.push_back(TrainedHeadName(l, h));
    }
    const Evaluation e = evaluate(mask);
    j["removed"] = EvalJson(e);
    j["removed"]["heads"] = names;
    std::snprintf(buf, sizeof buf, "without %s: test loss %.6f  test accuracy %.4f\n",
                  o.remove.c_str(), e.loss, e.accuracy);
    table << buf;
  }
  j["orders"] = nlohmann::json::array();
  for (const auto& order : orders) {
    HeadMask mask = AllHeads(shape);
    nlohmann::json names = nlohmann::json::array();
    nlohmann::json steps = nlohmann::json::array();
    nlohmann::json first = EvalJson(full);
    first["removed"] = 0;
    first["head"] = nullptr;
    steps.push_back(first);
    table << "order:";
    for (size_t k = 0; k < order.size(); ++k) {
      const auto [l, h] = order[k];
      mask[static_cast<size_t>(l - 1)][static_cast<size_t>(h)] = false;
      const Evaluation e = evaluate(mask);
      nlohmann::json step = EvalJson(e);
      step["removed"] = k + 1;
      step["head"] = TrainedHeadName(l, h);
      steps.push_back(step);
      names.push_back(TrainedHeadName(l, h));
      std::snprintf(buf, sizeof buf, "  -%s %.4f", TrainedHeadName(l, h).c_str(), e.accuracy);
      table << buf;
    }
    table << "\n";
    j["orders"].push_back({{"order", names}, {"steps", steps}});
  }
  ProgressLine("", g.quiet);
  Provenance run = CommandProvenance(g, "");
  run.Set("network", DirectoryRecord(o.network));
  run.Set("test_x", InputFileRecord(o.test_x));
  run.Set("test_y", InputFileRecord(o.test_y));
  run.Set("threads", g.threads);
  j["provenance"] = run.Json();
  if (!o.output.empty()) WriteFileAtomically(o.output, j.dump(2) + "\n");
  if (g.json) {
    std::cout << j.dump(2) << std::endl;
  } else {
    std::cout << table.str();
    if (!o.output.empty()) std::cout << "wrote " << o.output << "\n";
  }
  return 0;
}

}  // namespace

void RegisterTrainEval(CLI::App& app, GlobalOptions& global, Command* run) {
  auto* cmd = app.add_subcommand(
      "train-eval", "Test accuracy of a trained network with heads removed (pruning curves)");
  auto o = std::make_shared<TrainEvalCliOptions>();
  cmd->add_option("--network,-n", o->network, "Folder written by attnpaths train")
      ->check(NonEmptyPath())
      ->required();
  cmd->add_option("--test-x", o->test_x, "Test inputs, P x n_tok x N0 (NPY)")
      ->check(NonEmptyPath())
      ->required();
  cmd->add_option("--test-y", o->test_y, "Test labels, P (+-1)")->check(NonEmptyPath())->required();
  cmd->add_option("--remove", o->remove, "Heads to remove, e.g. L1H2,L2H1");
  cmd->add_option("--orders", o->orders,
                  "Removal orders, each a comma-separated list of heads (L1H2,L2H3,...); "
                  "evaluated after every removal");
  cmd->add_option("--output,-o", o->output, "Write the results as JSON to this file")
      ->check(NonEmptyPath());
  AddRunFlags(cmd, global, "Print the JSON result on stdout", "Threads");
  cmd->callback([o, &global, run] { *run = [o, &global] { return RunTrainEval(*o, global); }; });
}

}  // namespace attnpaths::cli
