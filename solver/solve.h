// Solve — the saddle point of the action: minimise S over SPD order parameters
// (theory.md §3), with Ceres' GradientProblemSolver.
//
//   attnpaths::SolveOptions options;                 // L-BFGS, then Newton, ‖∇(S/n_max)‖∞ ≤ 1e-9
//   attnpaths::SolveSummary summary;
//   attnpaths::Solution sol = attnpaths::Solve(problem, options, &summary);   // a PathProblem
//   attnpaths::Solution free = attnpaths::Solve(
//       attnpaths::Action(problem, attnpaths::ReadoutMode::kFree), options, &summary);
//   std::cout << summary.BriefReport() << "\n";
//   sol.order_parameters.U[0];                       // U_1, the kernel's U
//
//   // Any other theory: an OrderParameterObjective (solver/objective.h).
//   attnpaths::ObjectiveSolution m = attnpaths::Solve(my_objective, options, &summary);
//
// The solver sees only the objective interface (value, gradient, optional
// Hessian, normalisation, start); the Action is one implementation. Each
// block (U_ℓ, and U_a when the action keeps it free) is parameterised by its
// Cholesky factor with a log-diagonal, so every iterate is SPD. Several
// outputs (labels P × D) are solved with the order parameters of theory.md §9. The objective is S /
// n_max (theory.md §8: same minimiser, tolerance on its gradient). Numerical trouble is reported in
// the summary, never hidden in the result.
#pragma once

#include <Eigen/Core>
#include <array>
#include <functional>
#include <string>
#include <vector>

#include "kernels/enum_names.h"
#include "kernels/option_field.h"
#include "kernels/path_kernel.h"
#include "solver/action.h"
#include "solver/objective.h"
#include "solver/order_parameters.h"

namespace attnpaths {

enum class SolveMethod { kLbfgs, kBfgs };
template <>
struct EnumNames<SolveMethod> {
  static constexpr std::array<EnumName<SolveMethod>, 2> values{
      {{SolveMethod::kLbfgs, "lbfgs"}, {SolveMethod::kBfgs, "bfgs"}}};
};

struct SolveProgress {
  int iteration = 0;
  double action = 0;         // S / n_max
  double gradient_norm = 0;  // max |∂(S/n_max)/∂U_ℓ| entry over all layers
};

struct SolveOptions {
  // Ceres line-search direction: L-BFGS scales to many paths; BFGS keeps the
  // full inverse Hessian (fine below a few hundred parameters).
  SolveMethod method = SolveMethod::kLbfgs;
  // Converged when max |∂(S/n_max)/∂U_ℓ| over every entry of every layer is at
  // most this (theory.md §8 stopping test, tightened from the reference's 1e-5
  // to the 1e-9 it recommends).
  double gradient_tolerance = 1e-9;
  // Upper bound on solver iterations (theory.md §8 allows 50,000 Adam steps;
  // quasi-Newton needs far fewer).
  int max_iterations = 5000;
  // Restarts of the line search (fresh memory) after it stalls at rounding level.
  int max_restarts = 3;
  // Newton steps with the Hessian of S/n_max in the independent entries of U
  // (damped: backtracking until S decreases (Armijo) or the gradient does),
  // when there are at most hessian_max_dimension independent entries: after
  // the line search once max |∂(S/n_max)/∂U| ≤ newton_threshold, and as a
  // polish when the line search stops above gradient_tolerance.
  int max_newton_steps = 10;
  // The line search hands over to Newton steps below this gradient (0: only
  // the polish; ∞: Newton from the start). Two Newton steps from 1e-3
  // typically end near 1e-13, replacing the line search's slow last digits
  // (bench/results/solver_bench.md).
  double newton_threshold = 1e-3;
  // With initial_U given (a warm start: the neighbouring point of a sweep),
  // Newton steps start there at once instead of after the line search; when
  // they stop above the tolerance the line search takes over from their point
  // (down to newton_threshold, then Newton again). A neighbour's solution is
  // usually inside Newton's basin, so this cuts a sweep's evaluations
  // (bench/results/solver_bench.md, "Warm starts").
  bool newton_from_initial = true;
  // A Newton step keeps its Hessian for the next step (a chord step: one
  // evaluation instead of a Hessian of several) while the step cut the
  // gradient norm by at least this factor; 0: a new Hessian every step.
  // max_newton_steps counts Hessians.
  double hessian_reuse = 0.25;
  // Storage of G = K_U + T I (solver/training_gram.h), used where the study's
  // kernel is built (cli/study_run.h BuildKernels; Solve itself takes the
  // Action's kernel as it is): auto picks the cheapest by the measured cost
  // model of kernels/path_kernel.h; pairs, factored, features force one
  // (features needs T > 0). Not auto overrides the study's [kernel] strategy.
  GramStorage storage = GramStorage::kAuto;
  // Examples per block when the feature-space form streams a study's examples
  // (kernels/path_input_stream.h; 0: about 32 MiB of inputs a block).
  int block_examples = 0;
  // How the Hessian (Newton steps and the stability check) is computed.
  enum class HessianMethod {
    kAnalytic,           // the objective's own (solver/action_hessian.h: about the cost of a few
                         // evaluations); finite differences for an objective without one
    kFiniteDifferences,  // central differences of the gradient, 2 evaluations per entry
  };
  HessianMethod hessian = HessianMethod::kAnalytic;
  // L-BFGS memory.
  int lbfgs_rank = 20;
  // Ceres' use_approximate_eigenvalue_bfgs_scaling: the line search's initial
  // inverse Hessian is I scaled by sᵀy / yᵀy of the last step instead of I.
  // On the Markov task 2–5 fewer evaluations to newton_threshold (1.04–1.11×
  // per solve; bench/results/solver_bench.md, "Fewer evaluations, a fused
  // factorisation"), but another path to the saddle point: at the default
  // tolerance 1e-9 the demo's and examples' U move within it (by up to 6e-9),
  // so it stays off by default.
  bool lbfgs_scaling = false;
  // Start [U_1, …, U_L], each (m_ℓ D) × (m_ℓ D); empty means U_GP at every
  // layer (theory.md §8, §9). With a free readout (ReadoutMode::kFree) U_a may
  // follow as an (L+1)-th matrix; without it U_a starts at its root. (Another
  // objective: its blocks; empty means its InitialPoint().)
  std::vector<Eigen::MatrixXd> initial_U;
  // With initial_U: the Hessian of S / Normalization() at that start, in its
  // independent entries (solver/hessian.h), when the caller has it, e.g. from
  // the stability check of the neighbouring point of a sweep
  // (NeighbourActionHessian, solver/action_hessian.h). The first Newton step
  // of a warm start (newton_from_initial) takes it instead of computing one;
  // the step is still accepted only when S or the gradient decreases, so a
  // poor model costs steps, not correctness. Empty: computed. Its side must
  // be the start's number of independent entries.
  Eigen::MatrixXd initial_hessian;
  // After convergence, the smallest eigenvalue of the Hessian of S/n_max in
  // the independent entries of every U_ℓ (`hessian`) at the returned point,
  // when there are at most hessian_max_dimension entries.
  bool compute_hessian = true;
  int hessian_max_dimension = 600;
  // Called after every iteration (the CLI prints it; libraries print nothing).
  std::function<void(const SolveProgress&)> progress;

  bool IsValid(std::string* error) const;
};

template <>
struct EnumNames<SolveOptions::HessianMethod> {
  static constexpr std::array<EnumName<SolveOptions::HessianMethod>, 2> values{
      {{SolveOptions::HessianMethod::kAnalytic, "analytic"},
       {SolveOptions::HessianMethod::kFiniteDifferences, "finite_differences"}}};
};

// The settings of SolveOptions a study file ([solver]) or the command line may
// set, bound to *options (solver/solve_option_fields.cc; docs/config.md).
std::vector<OptionField> SolveOptionFields(SolveOptions* options);

enum class SolveTermination {
  kConverged,      // the gradient test of theory.md §8 holds
  kNoConvergence,  // iteration limit or the line search stalled above tolerance
  kFailure,        // the action could not be evaluated at the start
};

const char* SolveTerminationName(SolveTermination t);

struct SolveSummary {
  SolveTermination termination = SolveTermination::kFailure;
  std::string message = "Solve was not called";
  double initial_action = 0;  // S at the start
  double final_action = 0;    // S at the returned point
  double final_entropy = 0;
  double final_energy = 0;
  double gradient_norm = -1;  // max |∂(S/n_max)/∂U_ℓ| entry at the returned point
  int iterations = 0;
  int evaluations = 0;     // action (+gradient) evaluations: line search, Newton steps, FD Hessians
  int hessians = 0;        // Hessians computed (Newton steps and the stability check)
  int hessians_given = 0;  // Newton models taken from SolveOptions::initial_hessian
  int restarts = 0;        // line-search restarts
  int newton_steps = 0;    // Newton steps (included in iterations)
  int num_parameters = 0;
  double hessian_min_eigenvalue = 0;  // of S/n_max; > 0 means a stable minimum
  int hessian_dimension = 0;          // 0 when not computed
  double total_seconds = 0;
  double evaluation_seconds = 0;  // inside action evaluations
  double hessian_seconds = 0;
  std::string method = NameOf(SolveOptions().method);  // the line-search direction used
  std::string storage;  // the storage of G the action used: pairs, factored or features

  bool converged() const { return termination == SolveTermination::kConverged; }
  std::string BriefReport() const;
  std::string FullReport() const;
};

// The minimiser of any objective: its blocks and the value there (at the
// start when summary->termination is kFailure).
struct ObjectiveSolution {
  std::vector<Eigen::MatrixXd> U;
  ObjectiveValue value;
  // The stability check's Hessian of S / Normalization() at U (independent
  // entries; empty when it was not computed): the next point's
  // SolveOptions::initial_hessian in a sweep.
  Eigen::MatrixXd hessian;
};

// Minimises objective.S / objective.Normalization() over SPD blocks from
// objective.Start(options.initial_U). Throws Error when options are invalid
// or the start does not fit (CheckPoint); numerical trouble is in the summary.
ObjectiveSolution Solve(const OrderParameterObjective& objective, const SolveOptions& options,
                        SolveSummary* summary);

struct Solution {
  OrderParameters order_parameters;
  double action = 0;  // S
  bool converged = false;
  // The stability check's Hessian of S / n_max at the returned U_1, …, U_L
  // (and U_a with ReadoutMode::kFree); empty when it was not computed.
  Eigen::MatrixXd hessian;
};

// The path theory: the objective Solve above on the action, returned as order
// parameters U_1, …, U_L and U_a (eliminated, or the free last block), with
// the storage of G in the summary.
Solution Solve(const Action& action, const SolveOptions& options, SolveSummary* summary);
// The same for the action of `problem` (U_a eliminated), as design.md writes it.
Solution Solve(const PathProblem& problem, const SolveOptions& options, SolveSummary* summary);

// max |entry| over every layer's gradient matrix.
double MaxAbsEntry(const std::vector<Eigen::MatrixXd>& grad);

}  // namespace attnpaths
