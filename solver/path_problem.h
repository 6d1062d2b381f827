// PathProblem — the data the path theory is solved on, owned in one object:
// the architecture, the training set's path inputs (with the storage of their
// kernel, computed once), the labels and the temperature (theory.md §2, §3).
// The Action (solver/action.h) is built from it and keeps it alive; the
// problem of a smaller network selects its paths instead of recomputing
// attention.
//
//   attnpaths::PathProblem problem;
//   problem.architecture = arch;
//   problem.train = std::make_shared<const attnpaths::PathKernel>(
//       attnpaths::ComputePathInputs(arch, x_train, attnpaths::Split::kTrain));
//   problem.Y = y_train;                       // P × D
//   problem.temperature = 0.01;
//   attnpaths::Solution sol = attnpaths::Solve(attnpaths::Action(problem), {}, &summary);
//   // The network without head 0 of layer 1: ξ columns selected, rescaled √(Htot/Htot').
//   attnpaths::PathProblem smaller = problem.WithoutHeads({{1, 0}});
#pragma once

#include <Eigen/Core>
#include <memory>
#include <vector>

#include "kernels/architecture.h"
#include "kernels/path_kernel.h"
#include "solver/head_relevance.h"

namespace attnpaths {

struct PathProblem {
  Architecture architecture;
  // The training set's path inputs and kernel storage (kernels/path_kernel.h),
  // shared: copies of a problem (and Actions made from it) do not copy Ξ.
  std::shared_ptr<const PathKernel> train;
  Eigen::MatrixXd Y;  // P × D labels (theory.md §9)
  double temperature = 0;

  // A problem that borrows `kernel` (not owned: the caller keeps it alive
  // while the problem and its copies are used); the rest is copied.
  static PathProblem Borrowing(const Architecture& architecture, const PathKernel& kernel,
                               const Eigen::Ref<const Eigen::MatrixXd>& Y, double temperature);

  // Throws Error naming the field when the parts do not fit each other: a
  // kernel with the architecture's Htot, finite labels with one row per
  // example, valid widths and variances, T ≥ 0 (T > 0 for a streamed kernel).
  void Validate() const;
  Eigen::Index P() const { return train ? train->P() : 0; }
  Eigen::Index outputs() const { return Y.cols(); }

  // The problem of the network without the `pruned` heads (indices of this
  // architecture, kernels/paths.h order): RemoveHeads, and the kernel of the
  // kept paths (PathKernel::SelectPaths: the full network's ξ columns rescaled
  // by √(Htot/Htot'); attention is not recomputed) stored as `kernel` asks.
  // Labels and temperature are kept. Throws Error when a layer would lose
  // every head or the kernel has no path inputs (a streamed one).
  PathProblem WithoutHeads(const std::vector<HeadId>& pruned,
                           const KernelOptions& kernel = {}) const;
};

// Checks labels: P × D, finite, P matching the kernel. Throws Error naming `field`.
void CheckLabels(const Eigen::Ref<const Eigen::MatrixXd>& Y, Eigen::Index P, const char* field);

}  // namespace attnpaths
