// The [solver] settings (docs/config.md): one description per field of
// SolveOptions, read by the study file, the command line and the provenance.
#include <cmath>

#include "solver/solve.h"

namespace attnpaths {

std::vector<OptionField> SolveOptionFields(SolveOptions* o) {
  auto at_least = [](double m) { return [m](double x) { return x >= m; }; };
  return {
      EnumOption("method", "method", "line-search direction: lbfgs or bfgs", &o->method),
      InRange(
          DoubleOption(
              "gradient_tolerance", "gradient-tolerance",
              "converged when the largest entry of d(S/n_max)/dU is at most this (theory.md §8)",
              &o->gradient_tolerance),
          [](double x) { return std::isfinite(x) && x > 0; }, "a finite value > 0"),
      InRange(IntOption("max_iterations", "max-iterations", "iteration limit", &o->max_iterations),
              at_least(0), "an integer >= 0"),
      InRange(IntOption("max_restarts", "", "line-search restarts after a stall at rounding level",
                        &o->max_restarts),
              at_least(0), "an integer >= 0"),
      InRange(
          IntOption("max_newton_steps", "", "Newton steps (from newton_threshold, and the polish)",
                    &o->max_newton_steps),
          at_least(0), "an integer >= 0"),
      InRange(
          DoubleOption("newton_threshold", "",
                       "Newton steps take over from the line search below this gradient "
                       "(0: only the polish; inf: Newton from the start)",
                       &o->newton_threshold),
          [](double x) { return x >= 0; }, "a value >= 0 (inf allowed)"),
      BoolOption("newton_from_initial", "",
                 "with a start given (a sweep's neighbouring point), Newton steps first, the "
                 "line search only if they stall",
                 &o->newton_from_initial),
      InRange(
          DoubleOption("hessian_reuse", "",
                       "a Newton step keeps its Hessian while each step cuts the gradient by "
                       "at least this factor (0: a new Hessian every step)",
                       &o->hessian_reuse),
          [](double x) { return x >= 0 && x < 1; }, "a value in [0, 1)"),
      EnumOption("hessian_method", "",
                 "Hessian of Newton steps and the stability check: analytic "
                 "(solver/action_hessian.h) or finite_differences",
                 &o->hessian),
      EnumOption("storage", "storage",
                 "storage of G = K_U + T I: auto (cheapest by the measured cost model), pairs, "
                 "factored or features (theory.md §10, needs T > 0)",
                 &o->storage),
      InRange(IntOption("block_examples", "block-examples",
                        "examples per block when the feature-space form streams the data (0: "
                        "about 32 MiB of inputs)",
                        &o->block_examples),
              at_least(0), "an integer >= 0"),
      InRange(IntOption("lbfgs_rank", "", "L-BFGS memory", &o->lbfgs_rank), at_least(1),
              "an integer >= 1"),
      BoolOption("lbfgs_scaling", "",
                 "scale the line search's initial inverse Hessian by s^T y / y^T y of the last "
                 "step (Ceres' approximate eigenvalue scaling)",
                 &o->lbfgs_scaling),
      BoolOption("hessian", "", "report the smallest Hessian eigenvalue at the solution",
                 &o->compute_hessian),
      InRange(IntOption("hessian_max_dimension", "",
                        "Hessian check and Newton polish only up to this many entries of U",
                        &o->hessian_max_dimension),
              at_least(0), "an integer >= 0"),
  };
}

}  // namespace attnpaths
