#include "study/path_labels.h"

#include "kernels/paths.h"

namespace attnpaths {

std::vector<std::string> ArchitecturePathLabels(const Architecture& arch) {
  const Paths paths(arch.heads_per_layer());
  std::vector<std::vector<std::string>> names;
  for (const auto& layer : arch.layers) {
    names.emplace_back();
    for (const auto& head : layer) names.back().push_back(head.name);
  }
  std::vector<std::string> labels;
  for (Eigen::Index p = 0; p < paths.Htot(); ++p) labels.push_back(paths.Label(p, names));
  return labels;
}

std::vector<std::string> OrderParameterLabels(const Architecture& arch, Eigen::Index D) {
  const std::vector<std::string> paths = ArchitecturePathLabels(arch);
  if (D == 1) return paths;
  std::vector<std::string> labels;
  for (const std::string& p : paths) {
    for (Eigen::Index d = 0; d < D; ++d) labels.push_back(p + ":" + std::to_string(d));
  }
  return labels;
}

}  // namespace attnpaths
