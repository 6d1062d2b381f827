#include "sampler/adaptation.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "kernels/error.h"

namespace attnpaths {

bool AdaptationOptions::IsValid(std::string* error) const {
  auto fail = [&](const char* field, double found, const char* expected) {
    if (error) *error = ErrorMessage(field, ToText(found), expected);
    return false;
  };
  if (!(target_accept > 0 && target_accept < 1)) {
    return fail("target_accept", target_accept, "a value in (0, 1)");
  }
  if (!(gamma > 0)) return fail("gamma", gamma, "a value > 0");
  if (!(kappa > 0 && kappa <= 1)) return fail("kappa", kappa, "a value in (0, 1]");
  if (!(t0 >= 0)) return fail("t0", t0, "a value >= 0");
  if (init_buffer < 0) return fail("init_buffer", init_buffer, "a count >= 0");
  if (term_buffer < 0) return fail("term_buffer", term_buffer, "a count >= 0");
  if (base_window < 1) return fail("base_window", base_window, "at least 1");
  return true;
}

void StepSizeAdaptation::Restart(double step_size) {
  mu_ = std::log(10 * step_size);
  x_bar_ = 0;
  s_bar_ = 0;
  counter_ = 0;
}

double StepSizeAdaptation::Update(double accept_stat) {
  // Hoffman & Gelman (2014), eq. (6): s̄ averages δ − α with weight 1/(t + t0);
  // x = μ − √t s̄ / γ; x̄ averages x with weight t^{−κ}.
  accept_stat = std::isfinite(accept_stat) ? std::min(1.0, accept_stat) : 0.0;
  ++counter_;
  const double t = counter_;
  const double eta = 1.0 / (t + options_.t0);
  s_bar_ = (1 - eta) * s_bar_ + eta * (options_.target_accept - accept_stat);
  const double x = mu_ - std::sqrt(t) / options_.gamma * s_bar_;
  const double w = std::pow(t, -options_.kappa);
  x_bar_ = (1 - w) * x_bar_ + w * x;
  return std::exp(x);
}

double StepSizeAdaptation::Final() const { return std::exp(x_bar_); }

WarmupSchedule::WarmupSchedule(int num_warmup, const AdaptationOptions& options, bool adapt_metric)
    : num_warmup_(num_warmup),
      init_buffer_(options.init_buffer),
      term_buffer_(options.term_buffer) {
  if (!adapt_metric || num_warmup < 20) {
    init_buffer_ = num_warmup;
    term_buffer_ = 0;
    return;
  }
  int base = options.base_window;
  if (init_buffer_ + base + term_buffer_ > num_warmup) {
    // A short warm-up: 15% fast, 75% slow, 10% fast.
    init_buffer_ = static_cast<int>(0.15 * num_warmup);
    term_buffer_ = static_cast<int>(0.1 * num_warmup);
    base = num_warmup - init_buffer_ - term_buffer_;
  }
  // Windows double in length; one that would leave less than the next
  // (doubled) window before the terminal buffer stretches up to it.
  const int last = num_warmup - term_buffer_;
  int start = init_buffer_, size = base;
  while (start < last) {
    int end = start + size;
    if (end + 2 * size > last) end = last;
    window_ends_.push_back(end);
    start = end;
    size *= 2;
  }
}

bool WarmupSchedule::InWindow(int i) const {
  return !window_ends_.empty() && i >= init_buffer_ && i < window_ends_.back();
}

bool WarmupSchedule::EndsWindow(int i) const {
  for (int end : window_ends_) {
    if (i + 1 == end) return true;
  }
  return false;
}

double FindStepSize(const Potential& potential, const Metric& metric, const Position& x,
                    double step_size, RandomEngine& engine, Integrator integrator) {
  const double log_target = std::log(0.8);
  // log acceptance probability of one leapfrog step of size ε from x.
  auto log_accept = [&](double eps) {
    PhasePoint z{x, Eigen::VectorXd()};
    metric.SampleMomentum(engine, &z.p);
    const double H0 = z.Hamiltonian(metric);
    Integrate(potential, metric, integrator, eps, &z);
    const double delta = H0 - z.Hamiltonian(metric);
    return std::isnan(delta) ? -std::numeric_limits<double>::infinity() : delta;
  };
  const bool grow = log_accept(step_size) > log_target;
  for (int i = 0; i < 60; ++i) {
    const double next = grow ? 2 * step_size : 0.5 * step_size;
    if (!(next > 1e-300 && next < 1e7)) break;
    step_size = next;
    const bool above = log_accept(step_size) > log_target;
    if (above != grow) break;
  }
  return step_size;
}

}  // namespace attnpaths
