#include "solver/path_problem.h"

#include <cmath>
#include <string>

#include "kernels/error.h"
#include "solver/head_removal.h"

namespace attnpaths {

void CheckLabels(const Eigen::Ref<const Eigen::MatrixXd>& Y, Eigen::Index P, const char* field) {
  Require(Y.rows() == P, std::string(field) + " rows", Y.rows(),
          std::to_string(P) + " (one label row per example of X)");
  Require(Y.cols() >= 1, std::string(field) + " columns", Y.cols(), "at least 1 output");
  for (Eigen::Index i = 0; i < Y.rows(); ++i) {
    for (Eigen::Index j = 0; j < Y.cols(); ++j) {
      Require(std::isfinite(Y(i, j)),
              std::string(field) + "[" + std::to_string(i) + "," + std::to_string(j) + "]", Y(i, j),
              "a finite number");
    }
  }
}

PathProblem PathProblem::Borrowing(const Architecture& architecture, const PathKernel& kernel,
                                   const Eigen::Ref<const Eigen::MatrixXd>& Y, double temperature) {
  PathProblem problem;
  problem.architecture = architecture;
  // The aliasing constructor with an empty owner: a pointer that deletes nothing.
  problem.train = std::shared_ptr<const PathKernel>(std::shared_ptr<const PathKernel>(), &kernel);
  problem.Y = Y;
  problem.temperature = temperature;
  return problem;
}

void PathProblem::Validate() const {
  Require(train != nullptr, "path kernel", "nothing", "the training set's path kernel");
  architecture.ValidateHyperparameters();
  Require(std::isfinite(temperature) && temperature >= 0, "temperature", temperature,
          "a finite value >= 0");
  Require(train->Htot() == architecture.Htot(), "path kernel paths", train->Htot(),
          std::to_string(architecture.Htot()) + " (Htot of the architecture)");
  Require(train->P() >= 1, "training set size P", train->P(), "at least 1 example");
  CheckLabels(Y, train->P(), "y");
  Require(!(temperature == 0 && !train->has_inputs()), "temperature", 0,
          "a value > 0 with a streamed (feature-space) kernel (theory.md §10: at T = 0 G = K_U "
          "is singular when P D > Htot N0 D); use storage \"pairs\" or \"factored\"");
}

PathProblem PathProblem::WithoutHeads(const std::vector<HeadId>& pruned,
                                      const KernelOptions& kernel) const {
  Require(train != nullptr, "path kernel", "nothing", "the training set's path kernel");
  PathProblem reduced;
  reduced.architecture = RemoveHeads(architecture, pruned);
  reduced.train = std::make_shared<const PathKernel>(
      train->SelectPaths(KeptPaths(architecture.heads_per_layer(), 1, pruned), kernel));
  reduced.Y = Y;
  reduced.temperature = temperature;
  return reduced;
}

}  // namespace attnpaths
