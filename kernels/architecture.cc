#include "kernels/architecture.h"

#include <algorithm>
#include <cmath>

#include "kernels/error.h"

namespace attnpaths {

const char* ReadoutName(Readout readout) {
  switch (readout) {
    case Readout::kMean:
      return "mean";
    case Readout::kFirst:
      return "first";
    case Readout::kLast:
      return "last";
  }
  return "?";
}

Readout ParseReadout(const std::string& text, const std::string& field) {
  for (Readout r : {Readout::kMean, Readout::kFirst, Readout::kLast}) {
    if (text == ReadoutName(r)) return r;
  }
  throw Error(ErrorMessage(field, "\"" + text + "\"", "one of mean, first, last"));
}

Eigen::VectorXd ReadoutVector(const Eigen::Ref<const Eigen::MatrixXd>& omega, Readout readout) {
  switch (readout) {
    case Readout::kMean:
      return omega.rowwise().mean();
    case Readout::kFirst:
      return omega.col(0);
    case Readout::kLast:
      return omega.col(omega.cols() - 1);
  }
  return {};
}

std::vector<Eigen::Index> Architecture::heads_per_layer() const {
  std::vector<Eigen::Index> h;
  for (const auto& layer : layers) h.push_back(static_cast<Eigen::Index>(layer.size()));
  return h;
}

Eigen::Index Architecture::Htot() const {
  Eigen::Index n = 1;
  for (const auto& layer : layers) n *= static_cast<Eigen::Index>(layer.size());
  return n;
}

double Architecture::n_max() const {
  return widths.empty() ? 1.0 : *std::max_element(widths.begin(), widths.end());
}

void Architecture::SetUniform(double N, double variance) {
  widths.assign(layers.size() + 1, N);
  variances.assign(layers.size() + 2, variance);
}

void Architecture::ValidateHyperparameters() const {
  Require(!layers.empty(), "architecture.layers", 0, "at least one attention layer");
  for (size_t l = 0; l < layers.size(); ++l) {
    Require(!layers[l].empty(), "architecture.layers[" + std::to_string(l + 1) + "].heads", 0,
            "at least one head");
  }
  const size_t L = layers.size();
  Require(widths.size() == L + 1, "architecture.widths count", widths.size(),
          std::to_string(L + 1) + " (n_1..n_L and the readout width)");
  Require(variances.size() == L + 2, "architecture.variances count", variances.size(),
          std::to_string(L + 2) + " (sigma_0^2, sigma_1^2..sigma_L^2, sigma_a^2)");
  for (size_t i = 0; i < widths.size(); ++i) {
    Require(std::isfinite(widths[i]) && widths[i] >= 1,
            "architecture.widths[" + std::to_string(i) + "]", widths[i], "a width >= 1");
  }
  for (size_t i = 0; i < variances.size(); ++i) {
    Require(std::isfinite(variances[i]) && variances[i] > 0,
            "architecture.variances[" + std::to_string(i) + "]", variances[i], "a variance > 0");
  }
  // The kernel scales as sigma_0^2 sigma_1^2 ... sigma_L^2 sigma_a^2 (theory.md §2, §3): a
  // product beyond 1e±250 overflows (or underflows) the kernels. Name the most extreme one.
  double log_scale = 0;
  size_t extreme = 0;
  for (size_t i = 0; i < variances.size(); ++i) {
    log_scale += std::log10(variances[i]);
    if (std::abs(std::log10(variances[i])) > std::abs(std::log10(variances[extreme]))) extreme = i;
  }
  Require(std::abs(log_scale) <= 250, "architecture.variances[" + std::to_string(extreme) + "]",
          variances[extreme],
          "variances whose product (the kernel scale sigma_0^2 ... sigma_a^2, here 1e" +
              std::to_string(static_cast<long long>(std::lround(log_scale))) +
              ") lies within 1e-250 ... 1e250, so that kernels stay finite and nonzero");
}

void Architecture::Validate(Eigen::Index N0, Eigen::Index n_tok) const {
  ValidateHyperparameters();
  for (size_t l = 0; l < layers.size(); ++l) {
    for (size_t h = 0; h < layers[l].size(); ++h) {
      layers[l][h].Validate(N0, n_tok,
                            "layer " + std::to_string(l + 1) + " head " + std::to_string(h + 1) +
                                " (" + layers[l][h].name + ")");
    }
  }
}

}  // namespace attnpaths
