// Warm-up adaptation: dual-averaging step size (Hoffman & Gelman 2014, §3.2)
// and a metric (metric.h: diagonal or dense) estimated in windows of doubling length (the
// schedule Stan documents: an initial fast buffer, slow windows, a terminal
// fast buffer).
//
//   attnpaths::AdaptationOptions options;                  // δ = 0.8, buffers 75/25/50
//   attnpaths::WarmupSchedule schedule(num_warmup, options, /*adapt_metric=*/true);
//   attnpaths::StepSizeAdaptation step(options);
//   step.Restart(step_size);
//   for (int i = 0; i < num_warmup; ++i) {
//     /* one NUTS transition with step_size */
//     step_size = step.Update(transition.accept_stat);
//     if (schedule.InWindow(i)) metric->AddWindowDraw(x.q, x.gradient);
//     if (schedule.EndsWindow(i)) { metric->EndWindow(); … }
//   }
//   step_size = step.Final();
//
// With num_warmup = 1000 the slow windows end after iterations 100, 150,
// 250, 450 and 950. When init_buffer + base_window + term_buffer exceed the
// warm-up, the buffers become 15% / 75% / 10% of it; below 20 warm-up
// iterations only the step size adapts.
#pragma once

#include <Eigen/Core>
#include <vector>

#include "sampler/leapfrog.h"
#include "sampler/metric.h"
#include "sampler/potential.h"
#include "sampler/random.h"
#include "sampler/welford.h"

namespace attnpaths {

struct AdaptationOptions {
  double target_accept = 0.8;  // δ: the mean acceptance statistic the step size aims at
  double gamma = 0.05;         // dual-averaging regularisation scale γ
  double kappa = 0.75;         // weight decay of the averaged iterate κ
  double t0 = 10;              // stabilises the early iterations
  int init_buffer = 75;        // warm-up iterations before the first metric window
  int term_buffer = 50;        // iterations after the last window (step size only)
  int base_window = 25;        // length of the first metric window; later ones double

  // Checks the ranges (0 < δ < 1, γ > 0, 0 < κ <= 1, t0 >= 0, buffers >= 0,
  // base window >= 1); writes the first violation into *error.
  bool IsValid(std::string* error) const;
};

// Dual averaging of log ε towards mean acceptance δ.
class StepSizeAdaptation {
 public:
  explicit StepSizeAdaptation(const AdaptationOptions& options) : options_(options) {}
  // Starts a new stage around ε: μ = log(10 ε), averages reset.
  void Restart(double step_size);
  // Feeds one transition's acceptance statistic; returns the next ε.
  double Update(double accept_stat);
  // exp of the averaged iterate: the step size kept after warm-up.
  double Final() const;

 private:
  AdaptationOptions options_;
  double mu_ = 0, x_bar_ = 0, s_bar_ = 0;
  int counter_ = 0;
};

// Which warm-up iterations feed the metric estimate and where windows close.
class WarmupSchedule {
 public:
  WarmupSchedule(int num_warmup, const AdaptationOptions& options, bool adapt_metric);

  int num_warmup() const { return num_warmup_; }
  int init_buffer() const { return init_buffer_; }
  int term_buffer() const { return term_buffer_; }
  // One past the last iteration (0-based) of each slow window.
  const std::vector<int>& window_ends() const { return window_ends_; }
  // Iteration i (0-based) adds its draw to the variance estimate.
  bool InWindow(int i) const;
  // Iteration i is the last of a slow window: update the metric after it.
  bool EndsWindow(int i) const;

 private:
  int num_warmup_ = 0, init_buffer_ = 0, term_buffer_ = 0;
  std::vector<int> window_ends_;
};

// A starting step size: doubles or halves ε until the acceptance probability
// of a single integrator step from x crosses 0.8 (momenta drawn from engine).
double FindStepSize(const Potential& potential, const Metric& metric, const Position& x,
                    double step_size, RandomEngine& engine,
                    Integrator integrator = Integrator::kLeapfrog);

}  // namespace attnpaths
