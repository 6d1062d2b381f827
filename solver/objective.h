// OrderParameterObjective — what Solve (solver/solve.h) needs from a theory: a
// smooth function S of a list of symmetric positive definite blocks
// U = {U_1, …, U_k}, its gradient and, optionally, its Hessian. The action of
// this project (solver/action.h) is one implementation; a second theory
// implements the same few functions and reuses the solver: Ceres' Solve(options,
// problem) over its FirstOrderFunction, with SPD blocks instead of a vector.
//
//   // S(U) = tr(A U) − n ln det U: minimised by U = n A⁻¹.
//   class Quadratic : public attnpaths::OrderParameterObjective {
//    public:
//     std::vector<Eigen::MatrixXd> InitialPoint() const override { return {I}; }
//     void CheckPoint(const std::vector<Eigen::MatrixXd>& U) const override { /* shapes */ }
//     bool Evaluate(const std::vector<Eigen::MatrixXd>& U, attnpaths::ObjectiveValue* value,
//                   std::vector<Eigen::MatrixXd>* gradient) const override {
//       Eigen::LLT<Eigen::MatrixXd> llt(U[0]);
//       if (llt.info() != Eigen::Success) { value->failure = "U not SPD"; return false; }
//       value->S = (A * U[0]).trace() - n * log_det(llt);
//       if (gradient) *gradient = {A - n * llt.solve(I)};   // ∂S/∂U, symmetric
//       return true;
//     }
//   };
//   attnpaths::SolveSummary summary;
//   attnpaths::ObjectiveSolution m = attnpaths::Solve(Quadratic(), {}, &summary);   // m.U[0]
//
// Conventions shared with solver/hessian.h: a gradient is ∂S/∂U_b with every
// entry treated as independent (symmetric); a Hessian is in the independent
// entries (i ≤ j, column by column, block after block; a step in an
// off-diagonal entry moves both triangles) and of S / Normalization().
#pragma once

#include <Eigen/Core>
#include <string>
#include <vector>

namespace attnpaths {

// The value at one point. Status, never a throw (Eigen's info()).
struct ObjectiveValue {
  bool ok = false;      // false: S is undefined here (e.g. a block is not positive definite)
  std::string failure;  // what went wrong when !ok
  double S = 0;         // the objective
  // A split of S the summary reports (the path theory's entropy and energy,
  // theory.md §3); a theory without one leaves entropy = 0, energy = S.
  double entropy = 0;
  double energy = 0;
};

class OrderParameterObjective {
 public:
  virtual ~OrderParameterObjective() = default;

  // The solver's default start (the path theory: U_GP, theory.md §8).
  virtual std::vector<Eigen::MatrixXd> InitialPoint() const = 0;
  // The start from SolveOptions::initial_U: InitialPoint() when it is empty,
  // else `initial` (an objective may complete it, e.g. append an eliminated block).
  virtual std::vector<Eigen::MatrixXd> Start(const std::vector<Eigen::MatrixXd>& initial) const {
    return initial.empty() ? InitialPoint() : initial;
  }
  // Throws Error naming the block when U does not fit (count, shapes, finite).
  virtual void CheckPoint(const std::vector<Eigen::MatrixXd>& U) const = 0;
  // S at U; when `gradient` is given it receives ∂S/∂U_b for every block.
  // false (value->ok false, value->failure set, `gradient` untouched) when S is
  // undefined at U.
  virtual bool Evaluate(const std::vector<Eigen::MatrixXd>& U, ObjectiveValue* value,
                        std::vector<Eigen::MatrixXd>* gradient) const = 0;

  // The solver minimises S / Normalization() and tests the gradient of that
  // (theory.md §8: n_max for the path action, so the tolerance does not grow
  // with the widths).
  virtual double Normalization() const { return 1.0; }
  // True when Hessian() is implemented; else Solve's Newton steps and stability
  // check use central differences of the gradient (solver/hessian.h).
  virtual bool HasHessian() const { return false; }
  // The Hessian of S / Normalization() in the independent entries of U; false
  // when it cannot be evaluated at U (or is not implemented).
  virtual bool Hessian(const std::vector<Eigen::MatrixXd>& /*U*/,
                       Eigen::MatrixXd* /*hessian*/) const {
    return false;
  }
  // Rows of the largest dense matrix an evaluation factorises (the path
  // action: P·D, its Gram G); Solve keeps BLAS single-threaded when it is small.
  virtual Eigen::Index DenseSize() const { return 0; }
};

}  // namespace attnpaths
