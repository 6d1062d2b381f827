#include "propagation/tat.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "kernels/error.h"

namespace attnpaths {

double TatActivation(double x, double alpha) {
  return std::sqrt(2.0 / (1.0 + alpha * alpha)) * (x >= 0 ? x : alpha * x);
}

double TatCMap(double c, double alpha) {
  c = std::clamp(c, -1.0, 1.0);
  const double k = (1 - alpha) * (1 - alpha) / (M_PI * (1 + alpha * alpha));
  return c + k * (std::sqrt(1 - c * c) - c * std::acos(c));
}

double TatCMapComposite(double c, double alpha, int times) {
  for (int i = 0; i < times; ++i) c = TatCMap(c, alpha);
  return c;
}

double TatAlpha(double eta, int n_act) {
  Require(n_act >= 1, "activations (n_act = activations_per_block x depth)", n_act,
          "at least one activation");
  Require(eta > 0 && eta < 1, "tat_eta", eta, "a target correlation in (0, 1)");
  const double relu = TatCMapComposite(0.0, 0.0, n_act);
  if (relu < eta) {
    throw Error(ErrorMessage(
        "tat_eta", ToText(eta),
        "at most " + ToText(relu) + ", the correlation that " + std::to_string(n_act) +
            " ReLU activations (alpha = 0) give to orthogonal inputs: TAT cannot reach eta = " +
            ToText(eta) + " with n_act = " + std::to_string(n_act) +
            " (lower tat_eta or use more activations)"));
  }
  // f(α) = C_α^{∘n}(0) decreases from f(0) = relu >= η to f(1) = 0 < η.
  double lo = 0.0, hi = 1.0;
  for (int it = 0; it < 200 && hi - lo > 0; ++it) {
    const double mid = 0.5 * (lo + hi);
    if (mid <= lo || mid >= hi) break;
    (TatCMapComposite(0.0, mid, n_act) >= eta ? lo : hi) = mid;
  }
  const double f_lo = TatCMapComposite(0.0, lo, n_act), f_hi = TatCMapComposite(0.0, hi, n_act);
  return std::abs(f_lo - eta) <= std::abs(f_hi - eta) ? lo : hi;
}

}  // namespace attnpaths
