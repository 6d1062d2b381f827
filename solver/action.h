// Action — S(U) of theory.md §3 for D outputs (theory.md §9) with its
// analytic gradient and Hessian, U_a eliminated by the matrix root of §9 (or
// kept free): the path theory's OrderParameterObjective (solver/objective.h).
//
//   attnpaths::Action action(problem);            // a PathProblem (solver/path_problem.h), owned
//   attnpaths::Action borrowed(arch, kernel, Y, /*temperature=*/0.01);   // Y: P × D
//   std::vector<Eigen::MatrixXd> grad;
//   attnpaths::ActionValue v = action.Evaluate(U, &grad);   // v.S, v.entropy, v.energy, v.U_a
//
//   S = Σ_ℓ n_ℓ [ tr(U_{ℓ+1}⁻¹ tr_ℓ U_ℓ)/σ_ℓ² − ln det U_ℓ + H_ℓ ln det U_{ℓ+1} ]
//       + n_{L+1} [ tr U_a/σ_a² − ln det U_a ]  +  ln det G + vec(Y)ᵀ G⁻¹ vec(Y)
//
// with U_ℓ (m_ℓ D) × (m_ℓ D) (rows (h_ℓ, …, h_L, d), d fastest), U_a D × D,
// U_{L+1} ≡ U_a and G = K_{U_1} + T I the PD × PD matrix of solver/training_gram.h.
// At D = 1 this is theory.md §3 exactly. An Action made from a PathProblem
// shares its data; the (arch, kernel, …) constructor copies the architecture
// and the labels and borrows the kernel, which must outlive the Action.
#pragma once

#include <Eigen/Core>
#include <memory>
#include <string>
#include <vector>

#include "kernels/architecture.h"
#include "kernels/path_kernel.h"
#include "solver/objective.h"
#include "solver/path_problem.h"
#include "solver/training_gram.h"

namespace attnpaths {

// How the readout order parameter U_a enters.
enum class ReadoutMode {
  kEliminated,  // U_a = the matrix root of theory.md §9 at every evaluation (the default)
  kFree,        // U_a is the last of L + 1 matrices, a free SPD variable (same minimiser)
};

// ok is false when some U_ℓ, U_a or G is not positive definite (S undefined;
// failure says which); S = entropy + energy.
struct ActionValue : ObjectiveValue {
  Eigen::MatrixXd U_a;  // D × D: the eliminated root at this U_L, or the free U_a used
};

class Action : public OrderParameterObjective {
 public:
  // The action of `problem` (PathProblem::Validate: throws Error for shape
  // mismatches, non-finite labels, temperature < 0 and invalid widths or
  // variances), sharing its kernel.
  explicit Action(PathProblem problem, ReadoutMode readout = ReadoutMode::kEliminated);
  // The same for a kernel the caller keeps alive; Y is P × D (D ≥ 1 outputs).
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
  // The same through the objective interface (what Solve calls).
  bool Evaluate(const std::vector<Eigen::MatrixXd>& U, ObjectiveValue* value,
                std::vector<Eigen::MatrixXd>* grad) const override;

  // U_GP of theory.md §3/§9 in the layout Evaluate takes (U_a = σ_a² I appended
  // with ReadoutMode::kFree): the solver's default start.
  std::vector<Eigen::MatrixXd> InitialPoint() const override;
  // `initial` (or U_GP when empty); with a free readout and only U_1, …, U_L
  // given, U_a is appended at its root (theory.md §9).
  std::vector<Eigen::MatrixXd> Start(const std::vector<Eigen::MatrixXd>& initial) const override;
  // Throws Error naming the matrix when U does not fit (count, shapes, finite).
  void CheckPoint(const std::vector<Eigen::MatrixXd>& U) const override;
  // n_max (theory.md §8): Solve minimises S / n_max.
  double Normalization() const override { return problem_.architecture.n_max(); }
  // The analytic Hessian of solver/action_hessian.h.
  bool HasHessian() const override { return true; }
  bool Hessian(const std::vector<Eigen::MatrixXd>& U, Eigen::MatrixXd* hessian) const override;
  // The energy block of the Hessian, ∂²(ln det G + vec(Y)ᵀG⁻¹vec(Y))/∂u_k∂u_l in
  // the independent entries of U_1 (TrainingGram::EnergyHessian), in the
  // evaluation's workspace: its scratch is kept, and at the point evaluated
  // last its factor and G⁻¹ are reused (a concurrent call gets its own).
  // false when G is not positive definite or a LAPACK step fails.
  bool EnergyHessian(const Eigen::MatrixXd& U1, Eigen::MatrixXd* hessian,
                     TrainingGram::HessianForm form = TrainingGram::HessianForm::kAuto) const;
  // P·D: the side of G.
  Eigen::Index DenseSize() const override { return problem_.P() * outputs(); }
  // U_a at U as Evaluate computes it (the root of theory.md §9 at U_L, or the
  // free last matrix), without evaluating S.
  Eigen::MatrixXd ReadoutAt(const std::vector<Eigen::MatrixXd>& U) const;

  const PathProblem& problem() const { return problem_; }
  const Architecture& architecture() const { return problem_.architecture; }
  const PathKernel& kernel() const { return *problem_.train; }
  const Eigen::MatrixXd& Y() const { return problem_.Y; }
  Eigen::Index outputs() const { return problem_.Y.cols(); }
  double temperature() const { return problem_.temperature; }
  ReadoutMode readout() const { return readout_; }

 private:
  struct Workspace;

  PathProblem problem_;
  ReadoutMode readout_;
  std::shared_ptr<Workspace> workspace_;  // scratch of the energy term, shared by copies
};

}  // namespace attnpaths
