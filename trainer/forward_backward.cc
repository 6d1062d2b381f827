#include "trainer/forward_backward.h"

#include <algorithm>
#include <cmath>
#include <exception>
#include <limits>
#include <string>

#include "kernels/error.h"
#include "kernels/metrics.h"
#include "network/pass.h"
#include "parallel/cpu_budget.h"
#include "parallel/executor.h"

namespace attnpaths {

namespace {

// Examples per chunk: the chunk's activations are a few MB at most.
constexpr Eigen::Index kChunk = 64;

void CheckInputs(const Network& net, const Inputs& x, const HeadMask& mask) {
  const NetworkShape& s = net.shape();
  Require(x.N0() == s.N0, "inputs N0 (features per token)", x.N0(),
          std::to_string(s.N0) + " (the network's N0)");
  Require(x.n_tok() == s.n_tok, "inputs n_tok (tokens per sequence)", x.n_tok(),
          std::to_string(s.n_tok) + " (the network's n_tok)");
  Require(s.head_weights == HeadWeights::kQK, "network heads", "fixed heads",
          "QK-form heads (the trainer trains Q and K)");
  Require(s.outputs == 1, "network.outputs", s.outputs, "1 (one output per example)");
  ValidateHeadMask(mask, s);
}

// This thread's share of a batch gradient, kept between calls.
Eigen::VectorXd& ThreadGradient() {
  thread_local Eigen::VectorXd gradient;
  return gradient;
}

}  // namespace

const char* LossKindName(LossKind kind) {
  return kind == LossKind::kSquared ? "squared" : "logistic";
}

LossKind ParseLossKind(const std::string& text, const std::string& field) {
  if (text == "squared") return LossKind::kSquared;
  if (text == "logistic") return LossKind::kLogistic;
  throw Error(ErrorMessage(field, "\"" + text + "\"", "one of squared, logistic"));
}

double ExampleLoss(LossKind kind, double f, double y) {
  if (kind == LossKind::kSquared) return (f - y) * (f - y);
  // log(1 + e^{−m}), m = y f, without overflow.
  const double m = y * f;
  return m >= 0 ? std::log1p(std::exp(-m)) : -m + std::log1p(std::exp(m));
}

double ExampleLossDerivative(LossKind kind, double f, double y) {
  if (kind == LossKind::kSquared) return 2.0 * (f - y);
  // −y σ(−y f) = −y / (1 + e^{y f})
  const double m = y * f;
  const double s = m >= 0 ? std::exp(-m) / (1.0 + std::exp(-m)) : 1.0 / (1.0 + std::exp(m));
  return -y * s;
}

double ExampleLossCurvature(LossKind kind, double f, double y) {
  if (kind == LossKind::kSquared) return 2.0;
  // y² σ(m) σ(−m), m = y f
  const double m = std::abs(y * f);
  const double e = std::exp(-m);
  return y * y * e / ((1.0 + e) * (1.0 + e));
}

Eigen::VectorXd Predict(const Network& net, const Inputs& x, const HeadMask& mask, int threads) {
  CheckInputs(net, x, mask);
  std::vector<Eigen::Index> ids(static_cast<size_t>(x.P()));
  for (Eigen::Index mu = 0; mu < x.P(); ++mu) ids[static_cast<size_t>(mu)] = mu;
  Eigen::VectorXd f(x.P());
  ParallelRanges(ResolveThreads(threads, x.P()), x.P(),
                 [&](int, Eigen::Index begin, Eigen::Index end) {
                   NetworkPass pass(net, &mask);
                   for (Eigen::Index s = begin; s < end; s += kChunk) {
                     const Eigen::Index B = std::min(kChunk, end - s);
                     f.segment(s, B) = pass.Forward(x, ids.data() + s, B).col(0);
                   }
                 });
  return f;
}

Evaluation Evaluate(const Network& net, const Inputs& x, const Eigen::Ref<const Eigen::VectorXd>& y,
                    const HeadMask& mask, int threads) {
  Require(y.size() == x.P(), "labels count", y.size(),
          std::to_string(x.P()) + " (one per example)");
  const Eigen::VectorXd f = Predict(net, x, mask, threads);
  Evaluation e;
  e.loss = MeanSquaredError(f, y);  // kernels/metrics.h: the one rule (NaN when P = 0)
  e.accuracy = Accuracy(f, y);
  for (Eigen::Index mu = 0; mu < x.P(); ++mu) {
    e.logistic_loss += ExampleLoss(LossKind::kLogistic, f(mu), y(mu));
  }
  e.logistic_loss = x.P() > 0 ? e.logistic_loss / static_cast<double>(x.P())
                              : std::numeric_limits<double>::quiet_NaN();
  return e;
}

Loss LossAndGradient(const Network& net, const Inputs& x,
                     const Eigen::Ref<const Eigen::VectorXd>& y,
                     const std::vector<Eigen::Index>& batch, double weight_decay,
                     Eigen::VectorXd* gradient, const HeadMask& mask, int threads,
                     LossKind loss_kind) {
  CheckInputs(net, x, mask);
  Require(y.size() == x.P(), "labels count", y.size(),
          std::to_string(x.P()) + " (one per example)");
  Require(!batch.empty(), "batch", "no examples", "at least one example");
  Require(std::isfinite(weight_decay) && weight_decay >= 0, "weight_decay", weight_decay,
          "a finite value >= 0");
  for (Eigen::Index id : batch) {
    Require(id >= 0 && id < x.P(), "batch example index", id, "0 … " + std::to_string(x.P() - 1));
  }
  const auto count = static_cast<Eigen::Index>(batch.size());
  const int parts = ResolveThreads(threads, count);
  std::vector<double> sse(static_cast<size_t>(parts), 0.0),
      sum_loss(static_cast<size_t>(parts), 0.0);
  std::vector<const Eigen::VectorXd*> grads(static_cast<size_t>(parts), nullptr);
  const double inv_B = 1.0 / static_cast<double>(count);
  ParallelRanges(parts, count, [&](int p, Eigen::Index begin, Eigen::Index end) {
    NetworkPass pass(net, &mask);
    Eigen::VectorXd& g = ThreadGradient();
    if (gradient) {
      g.setZero(net.num_parameters());
      grads[static_cast<size_t>(p)] = &g;
    }
    for (Eigen::Index s = begin; s < end; s += kChunk) {
      const Eigen::Index B = std::min(kChunk, end - s);
      const Eigen::MatrixXd& f = pass.Forward(x, batch.data() + s, B);
      Eigen::VectorXd r(B);
      for (Eigen::Index b = 0; b < B; ++b) r(b) = f(b, 0) - y(batch[static_cast<size_t>(s + b)]);
      sse[static_cast<size_t>(p)] += r.squaredNorm();
      if (loss_kind == LossKind::kSquared) {
        // ∂/∂f_b of (1/B_total) Σ (f − y)² is 2 (f_b − y_b)/B_total.
        if (gradient) pass.Backward(2.0 * inv_B * r, &g);
        continue;
      }
      Eigen::VectorXd d(B);
      for (Eigen::Index b = 0; b < B; ++b) {
        const double yb = y(batch[static_cast<size_t>(s + b)]);
        sum_loss[static_cast<size_t>(p)] += ExampleLoss(loss_kind, f(b, 0), yb);
        d(b) = inv_B * ExampleLossDerivative(loss_kind, f(b, 0), yb);
      }
      if (gradient) pass.Backward(d, &g);
    }
  });
  Loss loss;
  for (double e : sse) loss.mean_squared_error += e;
  loss.mean_squared_error *= inv_B;
  if (loss_kind == LossKind::kSquared) {
    loss.data_loss = loss.mean_squared_error;
  } else {
    for (double e : sum_loss) loss.data_loss += e;
    loss.data_loss *= inv_B;
  }
  const Eigen::VectorXd& theta = net.parameters();
  loss.objective = loss.data_loss + 0.5 * weight_decay * theta.squaredNorm();
  if (gradient) {
    *gradient = weight_decay * theta;
    for (const Eigen::VectorXd* g : grads) *gradient += *g;
  }
  return loss;
}

}  // namespace attnpaths
