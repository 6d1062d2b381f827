// Action — S(U) of theory.md §3 for D outputs (theory.md §9) with its
// analytic gradient, U_a eliminated by the matrix root of §9 (or kept free).
//
//   attnpaths::Action action(arch, kernel, Y, /*temperature=*/0.01);   // Y: P × D
//   std::vector<Eigen::MatrixXd> grad;
//   attnpaths::ActionValue v = action.Evaluate(U, &grad);   // v.S, v.entropy, v.energy, v.U_a
//
//   S = Σ_ℓ n_ℓ [ tr(U_{ℓ+1}⁻¹ tr_ℓ U_ℓ)/σ_ℓ² − ln det U_ℓ + H_ℓ ln det U_{ℓ+1} ]
//       + n_{L+1} [ tr U_a/σ_a² − ln det U_a ]  +  ln det G + vec(Y)ᵀ G⁻¹ vec(Y)
//
// with U_ℓ (m_ℓ D) × (m_ℓ D) (rows (h_ℓ, …, h_L, d), d fastest), U_a D × D,
// U_{L+1} ≡ U_a and G = K_{U_1} + T I the PD × PD matrix of solver/training_gram.h.
// At D = 1 this is theory.md §3 exactly. Both the architecture and the kernel
// must outlive the Action.
#pragma once

#include <Eigen/Core>
#include <memory>
#include <string>
#include <vector>

#include "kernels/architecture.h"
#include "kernels/path_kernel.h"

namespace attnpaths {

// How the readout order parameter U_a enters.
enum class ReadoutMode {
  kEliminated,  // U_a = the matrix root of theory.md §9 at every evaluation (the default)
  kFree,        // U_a is the last of L + 1 matrices, a free SPD variable (same minimiser)
};

struct ActionValue {
  bool ok = false;      // false: some U_ℓ, U_a or G is not positive definite (S undefined)
  std::string failure;  // what was not positive definite
  double S = 0;         // entropy + energy
  double entropy = 0;
  double energy = 0;
  Eigen::MatrixXd U_a;  // D × D: the eliminated root at this U_L, or the free U_a used
};

class Action {
 public:
  // Y is P × D (D ≥ 1 outputs). Throws Error for shape mismatches, non-finite
  // labels, temperature < 0 and invalid widths or variances.
  Action(const Architecture& arch, const PathKernel& kernel,
         const Eigen::Ref<const Eigen::MatrixXd>& Y, double temperature,
         ReadoutMode readout = ReadoutMode::kEliminated);

  // S at U = {U_1, …, U_L} (and U_a last with ReadoutMode::kFree). When `grad`
  // is given it receives ∂S/∂U_ℓ (every entry treated as independent;
  // symmetric) for each matrix of U (theory.md §3 "Gradient", §9); with U_a
  // eliminated the path through U_a vanishes by its stationarity. Nothing is
  // written to `grad` when the value is not ok. The evaluation keeps its
  // PD × PD scratch (solver/training_gram.h) between calls; concurrent calls stay
  // correct and allocate their own.
  ActionValue Evaluate(const std::vector<Eigen::MatrixXd>& U,
                       std::vector<Eigen::MatrixXd>* grad = nullptr) const;

  // U_GP of theory.md §3/§9 in the layout Evaluate takes (U_a = σ_a² I appended
  // with ReadoutMode::kFree): the solver's default start.
  std::vector<Eigen::MatrixXd> InitialPoint() const;
  // Throws Error naming the matrix when U does not fit (count, shapes, finite).
  void CheckPoint(const std::vector<Eigen::MatrixXd>& U) const;

  const Architecture& architecture() const { return arch_; }
  const PathKernel& kernel() const { return kernel_; }
  const Eigen::MatrixXd& Y() const { return Y_; }
  Eigen::Index outputs() const { return Y_.cols(); }
  double temperature() const { return temperature_; }
  ReadoutMode readout() const { return readout_; }

 private:
  struct Workspace;

  const Architecture& arch_;
  const PathKernel& kernel_;
  Eigen::MatrixXd Y_;
  Eigen::VectorXd y_;  // vec(Y), (μ, d) order
  double temperature_;
  ReadoutMode readout_;
  std::shared_ptr<Workspace> workspace_;  // scratch of the energy term, shared by copies
};

// Checks labels: P × D, finite, P matching the kernel. Throws Error naming `field`.
void CheckLabels(const Eigen::Ref<const Eigen::MatrixXd>& Y, Eigen::Index P, const char* field);

}  // namespace attnpaths
