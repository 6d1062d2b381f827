#include "curvature/hutchinson.h"

#include <boost/random/mersenne_twister.hpp>
#include <boost/random/normal_distribution.hpp>
#include <boost/random/uniform_int_distribution.hpp>
#include <cmath>
#include <vector>

#include "kernels/error.h"

namespace attnpaths {

const char* ProbeDistributionName(ProbeDistribution d) {
  return d == ProbeDistribution::kRademacher ? "rademacher" : "gaussian";
}

ProbeDistribution ParseProbeDistribution(const std::string& text, const std::string& field) {
  if (text == "rademacher") return ProbeDistribution::kRademacher;
  if (text == "gaussian") return ProbeDistribution::kGaussian;
  throw Error(ErrorMessage(field, "\"" + text + "\"", "one of rademacher, gaussian"));
}

bool HutchinsonOptions::IsValid(std::string* error) const {
  if (probes < 2) {
    if (error)
      *error = ErrorMessage("probes", ToText(probes), "a value >= 2 (for a standard error)");
    return false;
  }
  return true;
}

NormEstimate HutchinsonFrobenius(
    const std::function<Eigen::VectorXd(const Eigen::VectorXd&)>& apply, Eigen::Index cols,
    const HutchinsonOptions& options) {
  std::string error;
  if (!options.IsValid(&error)) throw Error(error);
  Require(cols >= 1, "columns", cols, "a value >= 1");
  boost::random::mt19937 engine(static_cast<std::uint32_t>(options.seed ^ (options.seed >> 32)));
  boost::random::normal_distribution<double> normal;
  boost::random::uniform_int_distribution<int> coin(0, 1);
  std::vector<double> samples;
  Eigen::VectorXd v(cols);
  for (int p = 0; p < options.probes; ++p) {
    for (Eigen::Index i = 0; i < cols; ++i) {
      v(i) = options.distribution == ProbeDistribution::kRademacher ? (coin(engine) ? 1.0 : -1.0)
                                                                    : normal(engine);
    }
    samples.push_back(apply(v).squaredNorm());
  }
  const auto N = static_cast<double>(samples.size());
  double mean = 0;
  for (double s : samples) mean += s;
  mean /= N;
  double var = 0;
  for (double s : samples) var += (s - mean) * (s - mean);
  var /= (N - 1);
  NormEstimate e;
  e.probes = options.probes;
  e.squared = mean;
  e.squared_standard_error = std::sqrt(var / N);
  e.value = std::sqrt(std::max(mean, 0.0));
  e.standard_error = e.value > 0 ? e.squared_standard_error / (2 * e.value) : 0.0;
  return e;
}

}  // namespace attnpaths
