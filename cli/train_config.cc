#include "cli/train_config.h"

#include <toml++/toml.h>

#include <algorithm>
#include <filesystem>

#include "data/atomic_file.h"
#include "data/config.h"
#include "data/npy.h"
#include "kernels/error.h"

namespace attnpaths::cli {

namespace {

// One table of the file; values are read with their "file: table.key" name.
class Table {
 public:
  Table(const toml::table* t, std::string name, std::string file)
      : t_(t), name_(std::move(name)), file_(std::move(file)) {}

  std::string Field(std::string_view key) const {
    return file_ + ": " + (name_.empty() ? "" : name_ + ".") + std::string(key);
  }
  const toml::node* Get(std::string_view key) const { return t_ ? t_->get(key) : nullptr; }

  void Allow(const std::vector<std::string>& keys) const {
    if (!t_) return;
    for (const auto& [k, v] : *t_) {
      const std::string key(k.str());
      if (std::find(keys.begin(), keys.end(), key) != keys.end()) continue;
      const std::string near = NearestName(key, keys);
      throw Error(ErrorMessage(Field(key), "an unknown key",
                               near.empty() ? "one of the keys in docs/cli.md (attnpaths train)"
                                            : "a known key (did you mean \"" + near + "\"?)"));
    }
  }
  Table Sub(std::string_view key) const {
    const toml::node* n = Get(key);
    if (n && !n->is_table()) throw Error(ErrorMessage(Field(key), What(*n), "a table"));
    return Table(n ? n->as_table() : nullptr, std::string(key), file_);
  }
  void Read(std::string_view key, double* v) const {
    if (const toml::node* n = Get(key)) {
      if (auto i = n->value_exact<int64_t>()) {
        *v = static_cast<double>(*i);
      } else if (auto d = n->value_exact<double>()) {
        *v = *d;
      } else {
        throw Error(ErrorMessage(Field(key), What(*n), "a number"));
      }
    }
  }
  template <typename Int>
  void ReadInteger(std::string_view key, Int* v) const {
    if (const toml::node* n = Get(key)) {
      auto i = n->value_exact<int64_t>();
      if (!i) throw Error(ErrorMessage(Field(key), What(*n), "an integer"));
      *v = static_cast<Int>(*i);
    }
  }
  void Read(std::string_view key, std::string* v) const {
    if (const toml::node* n = Get(key)) {
      auto s = n->value_exact<std::string>();
      if (!s) throw Error(ErrorMessage(Field(key), What(*n), "a string"));
      *v = *s;
    }
  }
  void Read(std::string_view key, std::vector<Eigen::Index>* v) const {
    const toml::node* n = Get(key);
    if (!n) return;
    const toml::array* a = n->as_array();
    if (!a) throw Error(ErrorMessage(Field(key), What(*n), "an array of integers"));
    v->clear();
    for (size_t i = 0; i < a->size(); ++i) {
      auto e = a->get(i)->value_exact<int64_t>();
      if (!e) {
        throw Error(ErrorMessage(Field(key) + "[" + std::to_string(i) + "]", What(*a->get(i)),
                                 "an integer"));
      }
      v->push_back(static_cast<Eigen::Index>(*e));
    }
  }

 private:
  static std::string What(const toml::node& n) {
    if (auto s = n.value_exact<std::string>()) return "the string \"" + *s + "\"";
    if (auto i = n.value_exact<int64_t>()) return "the integer " + std::to_string(*i);
    if (auto d = n.value_exact<double>()) return "the number " + ToText(*d);
    if (auto b = n.value_exact<bool>()) return *b ? "true" : "false";
    if (n.is_array()) return "an array";
    if (n.is_table()) return "a table";
    return "a date/time";
  }

  const toml::table* t_;
  std::string name_, file_;
};

}  // namespace

void ReadTrainConfig(const std::string& path, TrainConfig* c) {
  const std::string text = ReadFile(path);
  toml::table root;
  try {
    root = toml::parse(text, path);
  } catch (const toml::parse_error& e) {
    throw Error(path + ": invalid TOML: " + std::string(e.description()) + " (line " +
                std::to_string(e.source().begin.line) + ")");
  }
  const std::string base_dir = std::filesystem::path(path).parent_path().string();
  // Relative paths in the file are relative to the file's folder.
  auto resolve = [&](std::string* p) {
    if (p->empty() || base_dir.empty() || std::filesystem::path(*p).is_absolute()) return;
    *p = (std::filesystem::path(base_dir) / *p).string();
  };
  const Table top(&root, "", path);
  top.Allow({"data", "network", "training", "output"});

  const Table data = top.Sub("data");
  data.Allow({"train_x", "train_y", "test_x", "test_y"});
  data.Read("train_x", &c->train_x);
  data.Read("train_y", &c->train_y);
  data.Read("test_x", &c->test_x);
  data.Read("test_y", &c->test_y);
  for (std::string* p : {&c->train_x, &c->train_y, &c->test_x, &c->test_y}) resolve(p);

  const Table net = top.Sub("network");
  net.Allow({"heads", "width", "widths", "key_dim", "readout"});
  net.Read("heads", &c->heads);
  if (net.Get("width")) {
    Eigen::Index w = 0;
    net.ReadInteger("width", &w);
    c->width = w;
  }
  net.Read("widths", &c->widths);
  net.ReadInteger("key_dim", &c->key_dim);
  net.Read("readout", &c->readout);

  const Table tr = top.Sub("training");
  tr.Allow({"epochs", "batch_size", "learning_rate", "schedule", "final_learning_rate_ratio",
            "beta1", "beta2", "epsilon", "weight_decay", "value_init_std", "attention_init_std",
            "seed", "eval_every"});
  TrainOptions& o = c->options;
  tr.ReadInteger("epochs", &o.epochs);
  tr.ReadInteger("batch_size", &o.batch_size);
  tr.Read("learning_rate", &o.learning_rate);
  if (tr.Get("schedule")) {
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
  if (tr.Get("seed")) {
    int64_t seed = 0;
    tr.ReadInteger("seed", &seed);
    Require(seed >= 0, tr.Field("seed"), seed, "a value >= 0");
    o.seed = static_cast<std::uint64_t>(seed);
  }
  tr.ReadInteger("eval_every", &o.eval_every);

  const Table out = top.Sub("output");
  out.Allow({"directory"});
  if (out.Get("directory")) {
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
    s.widths.assign(c.heads.size() + 1, c.width.value_or(32));
  }
  s.key_dim = c.key_dim;
  s.readout = ParseReadout(c.readout, "network.readout");
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
