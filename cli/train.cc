// attnpaths train [--config train.toml] [flags] — trains the attention network
// of theory.md §1 (QK-form softmax heads, every weight trained by mini-batch
// Adam on the squared error) and writes the weights (Q_l_h.npy, K_l_h.npy,
// V_0.npy, V_l_h.npy, a.npy, network.json), loss_curve.csv and summary.json,
// every file atomically. Progress goes to stderr.
#include "trainer/train.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <limits>
#include <memory>

#include "cli/commands.h"
#include "cli/report.h"
#include "cli/run_provenance.h"
#include "cli/study_run.h"
#include "cli/train_config.h"
#include "data/atomic_file.h"
#include "data/result_index.h"
#include "kernels/error.h"
#include "trainer/network_files.h"

namespace attnpaths::cli {

namespace {

struct TrainCliOptions {
  std::string config;
  // Flags that override the file (set only when given).
  std::string train_x, train_y, test_x, test_y, output, readout, schedule, optimizer, loss, trained,
      head_scaling, task;
  std::vector<Eigen::Index> heads;
  Eigen::Index width = 0, key_dim = 0;
  int epochs = 0, batch_size = 0, eval_every = 0;
  double learning_rate = 0, weight_decay = 0, value_init_std = 0, attention_init_std = 0,
         final_ratio = 0;
  std::uint64_t seed = 0;
  GivenFlags given;
  bool Given(const std::string& name) const { return given.Given(name); }
};

nlohmann::json NumberOrNull(double v) {
  return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json();
}

std::string CsvNumber(double v) {
  if (!std::isfinite(v)) return "";
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

int RunTrain(const TrainCliOptions& o, const GlobalOptions& g) {
  TrainConfig c;
  if (!o.config.empty()) ReadTrainConfig(o.config, &c);
  if (o.Given("train-x")) c.train_x = o.train_x;
  if (o.Given("train-y")) c.train_y = o.train_y;
  if (o.Given("test-x")) c.test_x = o.test_x;
  if (o.Given("test-y")) c.test_y = o.test_y;
  if (o.Given("output")) c.output_directory = o.output;
  if (o.Given("heads")) c.heads = o.heads;
  if (o.Given("width")) {
    c.width = o.width;
    c.widths.clear();
  }
  if (o.Given("key-dim")) c.key_dim = o.key_dim;
  if (o.Given("readout")) c.readout = o.readout;
  if (o.Given("head-scaling")) c.head_scaling = o.head_scaling;
  TrainOptions& t = c.options;
  if (o.Given("epochs")) t.epochs = o.epochs;
  if (o.Given("batch-size")) t.batch_size = o.batch_size;
  if (o.Given("learning-rate")) t.learning_rate = o.learning_rate;
  if (o.Given("schedule")) t.schedule = ParseLearningRateSchedule(o.schedule, "--schedule");
  if (o.Given("final-lr-ratio")) t.final_learning_rate_ratio = o.final_ratio;
  if (o.Given("weight-decay")) t.weight_decay = o.weight_decay;
  if (o.Given("value-init-std")) t.value_init_std = o.value_init_std;
  if (o.Given("attention-init-std")) t.attention_init_std = o.attention_init_std;
  if (o.Given("seed")) t.seed = o.seed;
  if (o.Given("eval-every")) t.eval_every = o.eval_every;
  if (o.Given("optimizer")) t.optimizer = ParseOptimizer(o.optimizer, "--optimizer");
  if (o.Given("loss")) t.loss = ParseLossKind(o.loss, "--loss");
  if (o.Given("trained")) t.trained = ParseTrainedWeights(o.trained, "--trained");
  t.threads = g.threads;
  std::string error;
  if (!t.IsValid(&error)) throw Error(error);
  Require((c.test_x.empty()) == (c.test_y.empty()), "data.test_x / data.test_y",
          c.test_x.empty() ? "test_y only" : "test_x only", "both or neither");

  if (o.Given("task")) c.task = ParseTask(o.task, "--task");
  const bool classification = c.task == Task::kClassification;

  const std::string& out = c.output_directory;
  ProgressLine("train: loading data", g.quiet);
  const Inputs x = LoadTrainInputs(c.train_x, "data.train_x");
  const Eigen::VectorXd y = LoadTrainLabels(c.train_y, "data.train_y", x.P());
  CheckLabelConvention(y, c.task, "data.train_y " + c.train_y, /*training=*/true);
  Inputs x_test;
  Eigen::VectorXd y_test;
  const bool has_test = !c.test_x.empty();
  if (has_test) {
    x_test = LoadTrainInputs(c.test_x, "data.test_x");
    y_test = LoadTrainLabels(c.test_y, "data.test_y", x_test.P());
    Require(x_test.n_tok() == x.n_tok() && x_test.N0() == x.N0(),
            "data.test_x " + c.test_x + " shape",
            "(" + std::to_string(x_test.P()) + ", " + std::to_string(x_test.n_tok()) + ", " +
                std::to_string(x_test.N0()) + ")",
            "(P_test, " + std::to_string(x.n_tok()) + ", " + std::to_string(x.N0()) +
                ") like data.train_x");
    CheckLabelConvention(y_test, c.task, "data.test_y " + c.test_y, false);
  }
  std::vector<std::string> owned = TrainedNetworkFiles();
  owned.insert(owned.end(), {"summary.json", "loss_curve.csv"});
  ResultFolder folder(out, owned);  // locked; removed again if this run fails
  const NetworkShape shape = MakeNetworkShape(c, x.N0(), x.n_tok());

  t.progress = [&](const EpochRecord& r) {
    char buf[200];
    if (std::isnan(r.test_accuracy) || !classification) {
      std::snprintf(buf, sizeof buf,
                    "train: epoch %d/%d  loss %.5f  test loss %.5f  lr %.3g  %.1f s", r.epoch,
                    t.epochs, r.train_loss, r.test_loss, r.learning_rate, r.seconds);
    } else {
      std::snprintf(buf, sizeof buf,
                    "train: epoch %d/%d  loss %.5f  test loss %.5f  test acc %.4f  lr %.3g  %.1f s",
                    r.epoch, t.epochs, r.train_loss, r.test_loss, r.test_accuracy, r.learning_rate,
                    r.seconds);
    }
    ProgressLine(buf, g.quiet);
  };
  TrainSummary summary;
  const Network net =
      Train(shape, x, y, has_test ? &x_test : nullptr, has_test ? &y_test : nullptr, t, &summary);
  ProgressLine("", g.quiet);

  const nlohmann::json training_options = {
      {"epochs", t.epochs},
      {"optimizer", OptimizerName(t.optimizer)},
      {"loss", LossKindName(t.loss)},
      {"trained", TrainedWeightsName(t.trained)},
      {"batch_size", t.batch_size},
      {"learning_rate", t.learning_rate},
      {"schedule", LearningRateScheduleName(t.schedule)},
      {"final_learning_rate_ratio", t.final_learning_rate_ratio},
      {"beta1", t.adam.beta1},
      {"beta2", t.adam.beta2},
      {"epsilon", t.adam.epsilon},
      {"weight_decay", t.weight_decay},
      {"value_init_std", t.value_init_std},
      {"attention_init_std", t.attention_init_std},
      {"seed", t.seed},
      {"eval_every", t.eval_every},
      {"threads", summary.threads}};
  Provenance run = CommandProvenance(g, o.config);
  run.Set("seed", t.seed);
  run.Set("training", training_options);
  run.Set("network", NetworkShapeJson(shape));
  for (const auto& [key, file] : {std::pair{"train_x", c.train_x}, std::pair{"train_y", c.train_y},
                                  std::pair{"test_x", c.test_x}, std::pair{"test_y", c.test_y}}) {
    if (!file.empty()) run.Set(key, InputFileRecord(file));
  }
  StageTrainedNetwork(folder, net, c.task);
  std::string csv = run.CsvComment() +
                    "epoch,steps,learning_rate,train_loss,test_loss,test_accuracy,seconds,"
                    "parameter_distance\n";
  for (const EpochRecord& r : summary.loss_curve) {
    csv += std::to_string(r.epoch) + "," + std::to_string(r.steps) + "," +
           CsvNumber(r.learning_rate) + "," + CsvNumber(r.train_loss) + "," +
           CsvNumber(r.test_loss) + "," + CsvNumber(classification ? r.test_accuracy : NAN) + "," +
           CsvNumber(r.seconds) + "," + CsvNumber(r.parameter_distance) + "\n";
  }
  WriteFileAtomically(folder.Path("loss_curve.csv"), csv);

  nlohmann::json j;
  j["network"] = NetworkShapeJson(shape);
  j["num_parameters"] = summary.num_parameters;
  j["options"] = training_options;
  j["data"] = {{"train_x", c.train_x}, {"train_y", c.train_y},       {"test_x", c.test_x},
               {"test_y", c.test_y},   {"P_train", summary.P_train}, {"P_test", summary.P_test}};
  j["termination"] = TrainTerminationName(summary.termination);
  j["completed"] = summary.completed();
  j["message"] = summary.message;
  j["epochs"] = summary.epochs;
  j["steps"] = summary.steps;
  j["examples"] = summary.examples;
  j["initial_train_loss"] = NumberOrNull(summary.initial_train_loss);
  j["train_loss"] = NumberOrNull(summary.final_train_loss);
  j["task"] = TaskName(c.task);
  j["train_accuracy"] =
      classification ? NumberOrNull(summary.final_train_accuracy) : nlohmann::json();
  j["test_loss"] = NumberOrNull(summary.final_test_loss);
  j["test_accuracy"] =
      classification ? NumberOrNull(summary.final_test_accuracy) : nlohmann::json();
  j["training_seconds"] = summary.training_seconds;
  j["evaluation_seconds"] = summary.evaluation_seconds;
  j["total_seconds"] = summary.total_seconds;
  j["examples_per_second"] = summary.examples_per_second;
  j["provenance"] = run.Json();
  j["files"] = FilesJson(folder.Staged({"loss_curve.csv", "network.json"}));
  WriteFileAtomically(folder.Path("summary.json"), j.dump(2) + "\n");
  folder.Commit({"network.json", "summary.json"});

  if (g.json) {
    std::cout << j.dump(2) << std::endl;
  } else {
    std::cout << summary.FullReport() << "wrote " << out
              << "/summary.json, loss_curve.csv, network.json and the weights (Q_l_h.npy, "
                 "K_l_h.npy, V_0.npy, V_l_h.npy, a.npy)\n";
  }
  return summary.completed() ? 0 : 1;
}

}  // namespace

void RegisterTrain(CLI::App& app, GlobalOptions& global, Command* run) {
  auto* cmd = app.add_subcommand(
      "train", "Train the attention network of theory.md section 1 (QK heads) by Adam");
  auto o = std::make_shared<TrainCliOptions>();
  cmd->add_option("--config,-c", o->config, "TOML file ([data], [network], [training], [output])")
      ->check(NonEmptyPath());
  auto add = [&](const std::string& name, auto& target, const std::string& help) {
    o->given.Remember(name, cmd->add_option("--" + name, target, help));
  };
  // The flags are set only when given; their help shows the defaults of the
  // study file's reader (TrainConfig) and of TrainOptions, never a copy.
  const TrainConfig c;
  const TrainOptions& t = c.options;
  auto dflt = [](const auto& value) { return " (default " + ToText(value) + ")"; };
  std::string heads;
  for (Eigen::Index h : c.heads) heads += (heads.empty() ? "" : " ") + std::to_string(h);
  add("train-x", o->train_x, "Training inputs, P x n_tok x N0 (NPY)");
  add("train-y", o->train_y, "Training labels, P (+-1)");
  add("test-x", o->test_x, "Test inputs (optional)");
  add("test-y", o->test_y, "Test labels (optional)");
  add("task", o->task, "classification (labels +-1; default) or regression (no accuracy)");
  o->given.Remember("output", cmd->add_option("--output,-o", o->output,
                                              "Output directory (default: [output] directory or " +
                                                  c.output_directory + ")")
                                  ->check(NonEmptyPath()));
  add("heads", o->heads, "Heads per layer H_1 ... H_L (default " + heads + ")");
  add("width", o->width, "Every width n_1 ... n_{L+1}" + dflt(kDefaultWidth));
  add("key-dim", o->key_dim, "d of Q, K" + dflt(c.key_dim));
  add("readout", o->readout, "Token readout: mean, first or last (default " + c.readout + ")");
  add("epochs", o->epochs, "Passes over the training set" + dflt(t.epochs));
  add("batch-size", o->batch_size, "Examples per Adam step" + dflt(t.batch_size));
  add("learning-rate", o->learning_rate, "Peak Adam learning rate" + dflt(t.learning_rate));
  add("schedule", o->schedule,
      std::string("constant or cosine (default ") + LearningRateScheduleName(t.schedule) + ")");
  add("final-lr-ratio", o->final_ratio,
      "Cosine schedule's final rate / peak" + dflt(t.final_learning_rate_ratio));
  add("weight-decay", o->weight_decay, "L2 coefficient on every weight" + dflt(t.weight_decay));
  add("value-init-std", o->value_init_std, "Initial std of V_0, V, a" + dflt(t.value_init_std));
  add("attention-init-std", o->attention_init_std,
      "Initial std of Q, K" + dflt(t.attention_init_std));
  add("seed", o->seed, "Seed of initialisation and shuffling" + dflt(t.seed));
  add("eval-every", o->eval_every,
      "Epochs between test evaluations (default " + ToText(t.eval_every) + "; 0: at the end)");
  add("optimizer", o->optimizer,
      std::string("adam (mini-batch) or gd (full batch, constant rate; default ") +
          OptimizerName(t.optimizer) + ")");
  add("loss", o->loss,
      std::string("squared or logistic (labels +-1; default ") + LossKindName(t.loss) + ")");
  add("trained", o->trained,
      std::string("all or attention (Q, K only; values and readout frozen; default ") +
          TrainedWeightsName(t.trained) + ")");
  add("head-scaling", o->head_scaling,
      "sqrt: 1/sqrt(H n) (theory.md) or mean: 1/(H sqrt(n)) (default " + c.head_scaling + ")");
  AddRunFlags(cmd, global, "Print summary.json on stdout", "Threads per mini-batch");
  cmd->callback([o, &global, run] { *run = [o, &global] { return RunTrain(*o, global); }; });
}

}  // namespace attnpaths::cli
