#include "cli/train_config.h"

#include <algorithm>
#include <filesystem>

#include "cli/toml_table.h"
#include "data/atomic_file.h"
#include "data/config.h"
#include "data/npy.h"
#include "kernels/error.h"

namespace attnpaths::cli {

void ReadTrainConfig(const std::string& path, TrainConfig* c) {
  const TomlDocument doc(path, "attnpaths train");
  auto resolve = [&](std::string* p) { doc.Resolve(p); };
  const TomlTable top = doc.Root();
  top.Allow({"data", "network", "training", "output"});

  const TomlTable data = top.Sub("data");
  data.Allow({"train_x", "train_y", "test_x", "test_y", "task"});
  if (data.Has("task")) {
    std::string task;
    data.Read("task", &task);
    c->task = ParseTask(task, data.Field("task"));
  }
  data.Read("train_x", &c->train_x);
  data.Read("train_y", &c->train_y);
  data.Read("test_x", &c->test_x);
  data.Read("test_y", &c->test_y);
  for (std::string* p : {&c->train_x, &c->train_y, &c->test_x, &c->test_y}) resolve(p);

  const TomlTable net = top.Sub("network");
  net.Allow({"heads", "width", "widths", "key_dim", "readout", "head_scaling"});
  net.Read("heads", &c->heads);
  if (net.Has("width")) {
    Eigen::Index w = 0;
    net.ReadInteger("width", &w);
    c->width = w;
  }
  net.Read("widths", &c->widths);
  net.ReadInteger("key_dim", &c->key_dim);
  net.Read("readout", &c->readout);
  net.Read("head_scaling", &c->head_scaling);

  const TomlTable tr = top.Sub("training");
  tr.Allow({"epochs", "batch_size", "learning_rate", "schedule", "final_learning_rate_ratio",
            "beta1", "beta2", "epsilon", "weight_decay", "value_init_std", "attention_init_std",
            "seed", "eval_every", "optimizer", "loss", "trained"});
  TrainOptions& o = c->options;
  tr.ReadInteger("epochs", &o.epochs);
  tr.ReadInteger("batch_size", &o.batch_size);
  tr.Read("learning_rate", &o.learning_rate);
  if (tr.Has("schedule")) {
    std::string s;
    tr.Read("schedule", &s);
    o.schedule = ParseLearningRateSchedule(s, tr.Field("schedule"));
  }
  tr.Read("final_learning_rate_ratio", &o.final_learning_rate_ratio);
  tr.Read("beta1", &o.adam.beta1);
  tr.Read("beta2", &o.adam.beta2);
  tr.Read("epsilon", &o.adam.epsilon);
  tr.Read("weight_decay", &o.weight_decay);
  tr.Read("value_init_std", &o.value_init_std);
  tr.Read("attention_init_std", &o.attention_init_std);
  tr.ReadSeed("seed", &o.seed);
  if (tr.Has("optimizer")) {
    std::string v;
    tr.Read("optimizer", &v);
    o.optimizer = ParseOptimizer(v, tr.Field("optimizer"));
  }
  if (tr.Has("loss")) {
    std::string v;
    tr.Read("loss", &v);
    o.loss = ParseLossKind(v, tr.Field("loss"));
  }
  if (tr.Has("trained")) {
    std::string v;
    tr.Read("trained", &v);
    o.trained = ParseTrainedWeights(v, tr.Field("trained"));
  }
  tr.ReadInteger("eval_every", &o.eval_every);

  const TomlTable out = top.Sub("output");
  out.Allow({"directory"});
  if (out.Has("directory")) {
    out.Read("directory", &c->output_directory);
    resolve(&c->output_directory);
  }
}

NetworkShape MakeNetworkShape(const TrainConfig& c, Eigen::Index N0, Eigen::Index n_tok) {
  NetworkShape s;
  s.N0 = N0;
  s.n_tok = n_tok;
  s.heads = c.heads;
  Require(!(c.width && !c.widths.empty()), "network.width and network.widths", "both",
          "one of them");
  if (!c.widths.empty()) {
    s.widths = c.widths;
  } else {
    s.widths.assign(c.heads.size() + 1, c.width.value_or(kDefaultWidth));
  }
  s.key_dim = c.key_dim;
  s.readout = ParseReadout(c.readout, "network.readout");
  s.head_scaling = ParseHeadScaling(c.head_scaling, "network.head_scaling");
  s.Validate();
  return s;
}

Inputs LoadTrainInputs(const std::string& spec, const std::string& field) {
  Require(!spec.empty(), field, "nothing", "an NPY file (P x n_tok x N0)");
  return NpyToInputs(LoadArray(spec, "", field), field);
}

Eigen::VectorXd LoadTrainLabels(const std::string& spec, const std::string& field, Eigen::Index P) {
  Require(!spec.empty(), field, "nothing", "an NPY file of labels (P values)");
  const Eigen::MatrixXd y = NpyToMatrix(LoadArray(spec, "", field), field);
  Require(y.cols() == 1, field + " columns", y.cols(), "1 (one label per example)");
  Require(y.rows() == P, field + " rows", y.rows(), std::to_string(P) + " (one label per example)");
  return y.col(0);
}

}  // namespace attnpaths::cli
