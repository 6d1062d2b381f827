// Train — the network of theory.md §1 with QK-form softmax heads, every
// weight (Q, K, V_0, V_{ℓ,h}, a) trained by mini-batch Adam on the squared
// error, from a seeded small random initialisation; or by full-batch
// gradient descent, on the logistic loss, with only Q and K trained (the
// options of docs/attention-hessian.md, Part E).
//
//   attnpaths::NetworkShape shape = ...;        // trainer/network.h
//   attnpaths::TrainOptions options;            // epochs, batch size, Adam, schedule, seed
//   attnpaths::TrainSummary summary;
//   attnpaths::Network net = attnpaths::Train(shape, x, y, &x_test, &y_test, options, &summary);
//   std::cout << summary.FullReport();
//   summary.loss_curve;                         // one record per epoch
//
// Each epoch shuffles the training set (Boost.Random, from the seed) and takes
// one Adam step per mini-batch on E(θ) of trainer/forward_backward.h. A run is
// reproducible from its seed; with threads = 1 bitwise.
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "kernels/inputs.h"
#include "network/network.h"
#include "trainer/adam.h"
#include "trainer/forward_backward.h"

namespace attnpaths {

enum class LearningRateSchedule {
  kConstant,  // η at every step
  kCosine,    // η_t = η_min + (η − η_min)(1 + cos(π t / steps))/2, η_min = ratio · η
};

const char* LearningRateScheduleName(LearningRateSchedule s);
// Parses "constant" or "cosine"; throws Error naming `field`.
LearningRateSchedule ParseLearningRateSchedule(const std::string& text, const std::string& field);

enum class Optimizer {
  kAdam,             // mini-batch Adam (trainer/adam.h) with the learning-rate schedule
  kGradientDescent,  // full batch, θ ← θ − η ∇E with constant η, no momentum
};
const char* OptimizerName(Optimizer o);  // "adam", "gd"
Optimizer ParseOptimizer(const std::string& text, const std::string& field);

// Which weights move (the others stay at their initial values).
enum class TrainedWeights {
  kAll,        // V_0, every V_{ℓ,h}, Q_{ℓ,h}, K_{ℓ,h} and a
  kAttention,  // Q_{ℓ,h} and K_{ℓ,h} only: value and readout weights frozen
};
const char* TrainedWeightsName(TrainedWeights t);  // "all", "attention"
TrainedWeights ParseTrainedWeights(const std::string& text, const std::string& field);

// One point of the loss curve.
struct EpochRecord {
  int epoch = 0;             // 1-based
  long steps = 0;            // optimizer steps taken so far
  double learning_rate = 0;  // the rate of the epoch's last step
  double train_loss = 0;     // the loss (squared or logistic) over the epoch's mini-batches
  double test_loss = std::numeric_limits<double>::quiet_NaN();      // NaN when not evaluated
  double test_accuracy = std::numeric_limits<double>::quiet_NaN();  // NaN when not evaluated
  double seconds = 0;             // wall time since the start of training
  double parameter_distance = 0;  // ‖θ_t − θ_0‖ after the epoch
};

struct TrainOptions {
  // Passes over the training set (with optimizer = gd: steps).
  int epochs = 200;
  // Adam (mini-batch) or full-batch gradient descent.
  Optimizer optimizer = Optimizer::kAdam;
  // The per-example loss of E(θ) (trainer/forward_backward.h): squared error,
  // or logistic for ±1 labels.
  LossKind loss = LossKind::kSquared;
  // Which weights are trained.
  TrainedWeights trained = TrainedWeights::kAll;
  // Examples per Adam step (the last batch of an epoch may be smaller).
  int batch_size = 32;
  // Peak Adam learning rate η; 3e-3 trains the digits task of examples/digits
  // in a few hundred epochs without divergence.
  double learning_rate = 3e-3;
  // Cosine decay to η · final_learning_rate_ratio ends training at small steps,
  // so the returned weights sit near a minimum rather than on Adam's noise.
  LearningRateSchedule schedule = LearningRateSchedule::kCosine;
  double final_learning_rate_ratio = 0.01;
  AdamOptions adam;
  // λ of the L2 term (λ/2)‖θ‖² on every parameter (0: none).
  double weight_decay = 0;
  // Initial entries of V_0, V_{ℓ,h}, a are N(0, value_init_std²): 1 is the
  // prior of theory.md §1 with σ² = 1 (output of order one).
  double value_init_std = 1.0;
  // Initial entries of Q, K are N(0, attention_init_std²): small, so every head
  // starts near uniform attention and the heads differ only by the draw.
  double attention_init_std = 0.1;
  // Seeds the initialisation and the shuffling (Boost.Random mt19937).
  std::uint64_t seed = 1;
  // Threads for one mini-batch's gradient (results are reproducible for a
  // given count; 1 = bitwise). 0: every core.
  int threads = 1;
  // Epochs between test-set evaluations on the loss curve (0: only after the
  // last epoch); ignored without a test set.
  int eval_every = 1;
  // Called after every epoch (the CLI prints it; libraries print nothing).
  std::function<void(const EpochRecord&)> progress;
  // Called after every epoch with the current weights (curvature monitors,
  // docs/attention-hessian.md Part E), before `progress`.
  std::function<void(const EpochRecord&, const Network&)> monitor;

  // false (and *error = "training.field: found X, expected Y") when invalid.
  bool IsValid(std::string* error) const;
};

enum class TrainTermination {
  kCompleted,  // every epoch ran
  kDiverged,   // the loss became NaN or infinite; the last finite weights are returned
  kNotRun,     // Train was not called
};

const char* TrainTerminationName(TrainTermination t);

struct TrainSummary {
  TrainTermination termination = TrainTermination::kNotRun;
  std::string message = "Train was not called";
  int epochs = 0;     // epochs completed
  long steps = 0;     // Adam steps
  long examples = 0;  // examples whose gradient was computed
  Eigen::Index num_parameters = 0;
  Eigen::Index P_train = 0, P_test = 0;
  double initial_train_loss = 0;  // the trained loss (squared or logistic) before training
  double final_train_loss = 0;    // … and after (full pass, final weights)
  double final_train_accuracy = 0;
  double final_test_loss = std::numeric_limits<double>::quiet_NaN();
  double final_test_accuracy = std::numeric_limits<double>::quiet_NaN();
  std::vector<EpochRecord> loss_curve;
  double training_seconds = 0;    // forward + backward + Adam steps
  double evaluation_seconds = 0;  // full-set evaluations (loss curve, final figures)
  double total_seconds = 0;
  double examples_per_second = 0;  // examples / training_seconds (one gradient each)
  int threads = 1;

  bool completed() const { return termination == TrainTermination::kCompleted; }
  std::string BriefReport() const;
  std::string FullReport() const;
};

// The network Train starts from: `shape` initialised by InitializeNetwork
// with options.value_init_std, options.attention_init_std and options.seed
// (θ_0; the NTK margin of curvature/ntk_margin.h is taken there).
Network InitialNetwork(const NetworkShape& shape, const TrainOptions& options);

// The indices into net.parameters() of the weights `trained` moves, in
// increasing order (every index for kAll; the Q and K blocks for kAttention).
std::vector<Eigen::Index> TrainedParameterIndices(const Network& net, TrainedWeights trained);

// Trains a network of `shape` on (x_train, y_train) (P values, ±1 for the
// accuracy figures). x_test / y_test may be null (no test figures). Throws
// Error for invalid options, a shape that does not fit the inputs, label
// counts that differ from the inputs, or non-finite values.
Network Train(const NetworkShape& shape, const Inputs& x_train,
              const Eigen::Ref<const Eigen::VectorXd>& y_train, const Inputs* x_test,
              const Eigen::VectorXd* y_test, const TrainOptions& options, TrainSummary* summary);

}  // namespace attnpaths
