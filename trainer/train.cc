#include "trainer/train.h"

#include <algorithm>
#include <boost/random/mersenne_twister.hpp>
#include <boost/random/uniform_int_distribution.hpp>
#include <chrono>
#include <cmath>
#include <numbers>
#include <sstream>
#include <utility>

#include "kernels/error.h"
#include "parallel/cpu_budget.h"
#include "trainer/forward_backward.h"

namespace attnpaths {

const char* LearningRateScheduleName(LearningRateSchedule s) {
  switch (s) {
    case LearningRateSchedule::kConstant:
      return "constant";
    case LearningRateSchedule::kCosine:
      return "cosine";
  }
  return "?";
}

LearningRateSchedule ParseLearningRateSchedule(const std::string& text, const std::string& field) {
  for (LearningRateSchedule s : {LearningRateSchedule::kConstant, LearningRateSchedule::kCosine}) {
    if (text == LearningRateScheduleName(s)) return s;
  }
  throw Error(ErrorMessage(field, "\"" + text + "\"", "one of constant, cosine"));
}

const char* OptimizerName(Optimizer o) { return o == Optimizer::kAdam ? "adam" : "gd"; }

Optimizer ParseOptimizer(const std::string& text, const std::string& field) {
  if (text == "adam") return Optimizer::kAdam;
  if (text == "gd") return Optimizer::kGradientDescent;
  throw Error(ErrorMessage(field, "\"" + text + "\"", "one of adam, gd"));
}

const char* TrainedWeightsName(TrainedWeights t) {
  return t == TrainedWeights::kAll ? "all" : "attention";
}

TrainedWeights ParseTrainedWeights(const std::string& text, const std::string& field) {
  if (text == "all") return TrainedWeights::kAll;
  if (text == "attention") return TrainedWeights::kAttention;
  throw Error(ErrorMessage(field, "\"" + text + "\"", "one of all, attention (Q and K only)"));
}

const char* TrainTerminationName(TrainTermination t) {
  switch (t) {
    case TrainTermination::kCompleted:
      return "completed";
    case TrainTermination::kDiverged:
      return "diverged";
    case TrainTermination::kNotRun:
      return "not run";
  }
  return "?";
}

bool TrainOptions::IsValid(std::string* error) const {
  auto fail = [&](const std::string& field, const std::string& found, const std::string& want) {
    if (error) *error = ErrorMessage(field, found, want);
    return false;
  };
  if (epochs < 0) return fail("training.epochs", ToText(epochs), "a value >= 0");
  if (batch_size < 1) return fail("training.batch_size", ToText(batch_size), "a value >= 1");
  if (!(learning_rate >= 0) || !std::isfinite(learning_rate)) {
    return fail("training.learning_rate", ToText(learning_rate), "a finite value >= 0");
  }
  if (!(final_learning_rate_ratio >= 0 && final_learning_rate_ratio <= 1)) {
    return fail("training.final_learning_rate_ratio", ToText(final_learning_rate_ratio),
                "a value in [0, 1]");
  }
  if (!adam.IsValid(error)) return false;
  if (!(weight_decay >= 0) || !std::isfinite(weight_decay)) {
    return fail("training.weight_decay", ToText(weight_decay), "a finite value >= 0");
  }
  if (!(value_init_std >= 0) || !std::isfinite(value_init_std)) {
    return fail("training.value_init_std", ToText(value_init_std), "a finite value >= 0");
  }
  if (!(attention_init_std >= 0) || !std::isfinite(attention_init_std)) {
    return fail("training.attention_init_std", ToText(attention_init_std), "a finite value >= 0");
  }
  if (threads < 0) return fail("threads", ToText(threads), "a value >= 0 (0: every core)");
  if (eval_every < 0) return fail("training.eval_every", ToText(eval_every), "a value >= 0");
  return true;
}

namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

void CheckData(const NetworkShape& shape, const Inputs& x, const Eigen::VectorXd* y,
               Eigen::Index y_size, const std::string& name) {
  Require(x.N0() == shape.N0, name + " N0 (features per token)", x.N0(),
          std::to_string(shape.N0) + " (network.N0)");
  Require(x.n_tok() == shape.n_tok, name + " n_tok (tokens per sequence)", x.n_tok(),
          std::to_string(shape.n_tok) + " (network.n_tok)");
  x.CheckFinite(name.c_str());
  Require(y_size == x.P(), name + " labels count", y_size,
          std::to_string(x.P()) + " (one per example)");
  if (y) Require(y->allFinite(), name + " labels", "a non-finite value", "finite labels");
}

}  // namespace

Network InitialNetwork(const NetworkShape& shape, const TrainOptions& options) {
  Network net(shape);
  InitializeNetwork(options.value_init_std, options.attention_init_std, options.seed, &net);
  return net;
}

std::vector<Eigen::Index> TrainedParameterIndices(const Network& net, TrainedWeights trained) {
  std::vector<Eigen::Index> ids;
  if (trained == TrainedWeights::kAll) {
    ids.resize(static_cast<size_t>(net.num_parameters()));
    for (Eigen::Index i = 0; i < net.num_parameters(); ++i) ids[static_cast<size_t>(i)] = i;
    return ids;
  }
  const NetworkShape& shape = net.shape();
  const ParameterLayout& lay = net.layout();
  for (int l = 1; l <= shape.L(); ++l) {
    for (Eigen::Index h = 0; h < shape.heads[static_cast<size_t>(l - 1)]; ++h) {
      for (ParameterLayout::Block b : {lay.Q(l, h), lay.K(l, h)}) {
        for (Eigen::Index i = 0; i < b.rows * b.cols; ++i) ids.push_back(b.offset + i);
      }
    }
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

Network Train(const NetworkShape& shape, const Inputs& x_train,
              const Eigen::Ref<const Eigen::VectorXd>& y_train, const Inputs* x_test,
              const Eigen::VectorXd* y_test, const TrainOptions& options, TrainSummary* summary) {
  const auto start = Clock::now();
  std::string error;
  if (!options.IsValid(&error)) throw Error(error);
  shape.Validate();
  const Eigen::VectorXd y = y_train;
  CheckData(shape, x_train, &y, y.size(), "train_x");
  Require(x_train.P() >= 1, "train_x examples", x_train.P(), "at least 1 training example");
  Require((x_test == nullptr) == (y_test == nullptr), "test set",
          x_test ? "inputs without labels" : "labels without inputs", "both or neither");
  if (x_test) CheckData(shape, *x_test, y_test, y_test->size(), "test_x");

  TrainSummary local;
  TrainSummary& sum = summary ? *summary : local;
  sum = TrainSummary();
  const int threads = options.threads > 0 ? options.threads : AvailableCores();
  sum.threads = threads;
  sum.P_train = x_train.P();
  sum.P_test = x_test ? x_test->P() : 0;

  Network net = InitialNetwork(shape, options);
  sum.num_parameters = net.num_parameters();

  double eval_seconds = 0;
  auto evaluate = [&](const Inputs& x, const Eigen::VectorXd& labels) {
    const auto t0 = Clock::now();
    const Evaluation e = Evaluate(net, x, labels, {}, threads);
    eval_seconds += Seconds(t0);
    return e;
  };
  // The loss the options train (squared error or logistic).
  auto chosen = [&](const Evaluation& e) {
    return options.loss == LossKind::kSquared ? e.loss : e.logistic_loss;
  };
  sum.initial_train_loss = chosen(evaluate(x_train, y));

  // The shuffling stream is separate from the initialisation's (seed + 1).
  boost::random::mt19937 engine(
      static_cast<std::uint32_t>((options.seed + 1) ^ ((options.seed + 1) >> 32)));
  const Eigen::Index P = x_train.P();
  std::vector<Eigen::Index> order(static_cast<size_t>(P));
  for (Eigen::Index mu = 0; mu < P; ++mu) order[static_cast<size_t>(mu)] = mu;
  const bool full_batch = options.optimizer == Optimizer::kGradientDescent;
  const Eigen::Index B = full_batch ? P : std::min<Eigen::Index>(options.batch_size, P);
  const long steps_per_epoch = static_cast<long>((P + B - 1) / B);
  const long total_steps = steps_per_epoch * options.epochs;
  const double eta = options.learning_rate;
  const double eta_min = options.final_learning_rate_ratio * eta;
  auto rate = [&](long t) {
    if (full_batch || options.schedule == LearningRateSchedule::kConstant || total_steps <= 1) {
      return eta;
    }
    const double progress = static_cast<double>(t) / static_cast<double>(total_steps - 1);
    return eta_min + (eta - eta_min) * 0.5 * (1.0 + std::cos(std::numbers::pi * progress));
  };

  Adam adam(net.num_parameters(), options.adam);
  Eigen::VectorXd gradient, previous;
  const Eigen::VectorXd theta0 = net.parameters();
  // 1 on the coordinates that move (TrainedWeights), 0 elsewhere.
  Eigen::VectorXd moving;
  if (options.trained == TrainedWeights::kAttention) {
    moving = Eigen::VectorXd::Zero(net.num_parameters());
    for (Eigen::Index i : TrainedParameterIndices(net, options.trained)) moving(i) = 1.0;
  }
  std::vector<Eigen::Index> batch;
  double train_seconds = 0;
  sum.termination = TrainTermination::kCompleted;
  for (int epoch = 1; epoch <= options.epochs; ++epoch) {
    const auto t0 = Clock::now();
    // Fisher–Yates shuffle of the training set (full-batch GD keeps the order).
    for (Eigen::Index i = full_batch ? 0 : P - 1; i > 0; --i) {
      boost::random::uniform_int_distribution<Eigen::Index> pick(0, i);
      std::swap(order[static_cast<size_t>(i)], order[static_cast<size_t>(pick(engine))]);
    }
    double sse = 0;
    Eigen::Index seen = 0;
    double eta_t = eta;
    bool diverged = false;
    for (Eigen::Index s = 0; s < P; s += B) {
      const Eigen::Index b = std::min(B, P - s);
      batch.assign(order.begin() + s, order.begin() + s + b);
      const Loss loss = LossAndGradient(net, x_train, y, batch, options.weight_decay, &gradient, {},
                                        threads, options.loss);
      if (!std::isfinite(loss.objective) || !gradient.allFinite()) {
        diverged = true;
        break;
      }
      sse += loss.data_loss * static_cast<double>(b);
      seen += b;
      eta_t = rate(sum.steps);
      previous = net.parameters();
      if (moving.size() > 0) gradient.array() *= moving.array();
      if (full_batch) {
        net.parameters() -= eta_t * gradient;
      } else {
        adam.Step(eta_t, gradient, &net.parameters());
      }
      ++sum.steps;
      sum.examples += b;
    }
    train_seconds += Seconds(t0);
    if (diverged) {
      if (previous.size() > 0) net.parameters() = previous;
      sum.termination = TrainTermination::kDiverged;
      sum.message = "the loss became non-finite in epoch " + std::to_string(epoch) +
                    " (lower training.learning_rate); the weights before the last step are "
                    "returned";
      break;
    }
    EpochRecord rec;
    rec.epoch = epoch;
    rec.steps = sum.steps;
    rec.learning_rate = eta_t;
    rec.train_loss = seen > 0 ? sse / static_cast<double>(seen) : 0.0;
    const bool last = epoch == options.epochs;
    if (x_test && ((options.eval_every > 0 && epoch % options.eval_every == 0) || last)) {
      const Evaluation e = evaluate(*x_test, *y_test);
      rec.test_loss = chosen(e);
      rec.test_accuracy = e.accuracy;
    }
    rec.seconds = Seconds(start);
    rec.parameter_distance = (net.parameters() - theta0).norm();
    sum.loss_curve.push_back(rec);
    sum.epochs = epoch;
    if (options.monitor) options.monitor(rec, net);
    if (options.progress) options.progress(rec);
  }
  if (sum.termination == TrainTermination::kCompleted) {
    sum.message = "trained " + std::to_string(sum.epochs) + " epochs (" +
                  std::to_string(sum.steps) + " " + (full_batch ? "gradient-descent" : "Adam") +
                  " steps)";
  }
  const Evaluation train_eval = evaluate(x_train, y);
  sum.final_train_loss = chosen(train_eval);
  sum.final_train_accuracy = train_eval.accuracy;
  if (x_test) {
    if (!sum.loss_curve.empty() && sum.termination == TrainTermination::kCompleted &&
        !std::isnan(sum.loss_curve.back().test_loss)) {
      sum.final_test_loss = sum.loss_curve.back().test_loss;
      sum.final_test_accuracy = sum.loss_curve.back().test_accuracy;
    } else {
      const Evaluation e = evaluate(*x_test, *y_test);
      sum.final_test_loss = chosen(e);
      sum.final_test_accuracy = e.accuracy;
    }
  }
  sum.training_seconds = train_seconds;
  sum.evaluation_seconds = eval_seconds;
  sum.examples_per_second =
      train_seconds > 0 ? static_cast<double>(sum.examples) / train_seconds : 0.0;
  sum.total_seconds = Seconds(start);
  return net;
}

std::string TrainSummary::BriefReport() const {
  std::ostringstream s;
  s << "attnpaths train: " << TrainTerminationName(termination) << ", " << epochs << " epochs, "
    << steps << " steps, train loss " << initial_train_loss << " -> " << final_train_loss
    << ", train acc " << final_train_accuracy;
  if (P_test > 0) s << ", test loss " << final_test_loss << ", test acc " << final_test_accuracy;
  s << ", " << examples_per_second << " examples/s, " << total_seconds << " s";
  return s.str();
}

std::string TrainSummary::FullReport() const {
  std::ostringstream s;
  s << "Training summary (attnpaths)\n"
    << "  parameters             " << num_parameters << "\n"
    << "  training examples      " << P_train << "\n"
    << "  test examples          " << P_test << "\n"
    << "  epochs                 " << epochs << "\n"
    << "  Adam steps             " << steps << "\n"
    << "  initial train loss     " << initial_train_loss << "\n"
    << "  final train loss       " << final_train_loss << "\n"
    << "  final train accuracy   " << final_train_accuracy << "\n";
  if (P_test > 0) {
    s << "  final test loss        " << final_test_loss << "\n"
      << "  final test accuracy    " << final_test_accuracy << "\n";
  }
  s << "  threads                " << threads << "\n"
    << "  throughput             " << examples_per_second << " examples/s (gradient + step)\n"
    << "  time total             " << total_seconds << " s\n"
    << "    training             " << training_seconds << " s\n"
    << "    evaluation           " << evaluation_seconds << " s\n"
    << "  termination            " << TrainTerminationName(termination) << " (" << message << ")\n";
  return s.str();
}

}  // namespace attnpaths
