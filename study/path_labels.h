// Labels of the paths of an architecture and of the rows of U_1 / U^sampled,
// as tables, JSON and comparisons name them.
//
//   ArchitecturePathLabels(arch)        // {"good>uniform", "good>blank2", ...}
//   OrderParameterLabels(arch, 2)       // {"good>uniform:0", "good>uniform:1", ...}
#pragma once

#include <Eigen/Core>
#include <string>
#include <vector>

#include "kernels/architecture.h"

namespace attnpaths {

// "h1>h2" labels of every path of the architecture.
std::vector<std::string> ArchitecturePathLabels(const Architecture& arch);

// Labels of the rows of U^sampled and of U_1 (theory.md §9): the path labels
// for D = 1, "path:d" (d = 0 … D−1, output fastest) for D > 1.
std::vector<std::string> OrderParameterLabels(const Architecture& arch, Eigen::Index D);

}  // namespace attnpaths
