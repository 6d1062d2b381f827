// Action — S(U) of theory.md §3 with its analytic gradient, U_a eliminated.
//
//   attnpaths::Action action(arch, kernel, Y, /*temperature=*/0.01);
//   std::vector<Eigen::MatrixXd> grad;
//   attnpaths::ActionValue v = action.Evaluate(U, &grad);   // v.S, v.entropy, v.energy, v.U_a
//
//   S = Σ_ℓ n_ℓ [ tr(U_{ℓ+1}⁻¹ tr_ℓ U_ℓ)/σ_ℓ² − ln det U_ℓ + H_ℓ ln det U_{ℓ+1} ]
//       + n_{L+1} [ U_a/σ_a² − ln U_a ]  +  D ln det G + tr(Yᵀ G⁻¹ Y),   G = K_{U_1} + T I
//
// With D > 1 label columns the energy is summed over outputs (our extension;
// D = 1 is theory.md exactly). Both the architecture and the kernel must
// outlive the Action.
#pragma once

#include <Eigen/Core>
#include <memory>
#include <string>
#include <vector>

#include "kernels/architecture.h"
#include "kernels/path_kernel.h"

namespace attnpaths {

struct ActionValue {
  bool ok = false;      // false: some U_ℓ or G is not positive definite (S undefined)
  std::string failure;  // what was not positive definite
  double S = 0;         // entropy + energy
  double entropy = 0;
  double energy = 0;
  double U_a = 0;  // the eliminated readout scalar at this U_L
};

class Action {
 public:
  // Throws Error for shape mismatches, non-finite labels, temperature < 0 and
  // invalid widths or variances.
  Action(const Architecture& arch, const PathKernel& kernel,
         const Eigen::Ref<const Eigen::MatrixXd>& Y, double temperature);

  // S at U = {U_1, …, U_L}. When `grad` is given it receives ∂S/∂U_ℓ (every
  // entry treated as independent; symmetric) for each layer (theory.md §3,
  // "Gradient"). Nothing is written to `grad` when the value is not ok.
  // The evaluation keeps its P × P (and, factored strategy, P × Htot·N0)
  // scratch matrices between calls: freshly allocated matrices that large are
  // page-faulted in on every call. Concurrent calls stay correct and allocate
  // their own.
  ActionValue Evaluate(const std::vector<Eigen::MatrixXd>& U,
                       std::vector<Eigen::MatrixXd>* grad = nullptr) const;

  const Architecture& architecture() const { return arch_; }
  const PathKernel& kernel() const { return kernel_; }
  const Eigen::MatrixXd& Y() const { return Y_; }
  double temperature() const { return temperature_; }

 private:
  struct Workspace;

  const Architecture& arch_;
  const PathKernel& kernel_;
  Eigen::MatrixXd Y_;
  double temperature_;
  std::shared_ptr<Workspace> workspace_;  // scratch of the energy term, shared by copies
};

// Checks labels: P × D, finite, P matching the kernel. Throws Error naming `field`.
void CheckLabels(const Eigen::Ref<const Eigen::MatrixXd>& Y, Eigen::Index P, const char* field);

}  // namespace attnpaths
