#include "solver/solve.h"

#include <ceres/gradient_problem.h>
#include <ceres/gradient_problem_solver.h>
#include <ceres/iteration_callback.h>

#include <Eigen/Cholesky>
#include <Eigen/Eigenvalues>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>
#include <optional>
#include <sstream>

#include "kernels/error.h"
#include "parallel/blas_threads.h"
#include "solver/hessian.h"

namespace attnpaths {

const char* SolveTerminationName(SolveTermination t) {
  switch (t) {
    case SolveTermination::kConverged:
      return "converged";
    case SolveTermination::kNoConvergence:
      return "no_convergence";
    case SolveTermination::kFailure:
      return "failure";
  }
  return "?";
}

bool SolveOptions::IsValid(std::string* error) const {
  auto fail = [&](const std::string& m) {
    if (error) *error = m;
    return false;
  };
  if (!(gradient_tolerance > 0) || !std::isfinite(gradient_tolerance)) {
    return fail(ErrorMessage("solver.gradient_tolerance", ToText(gradient_tolerance),
                             "a finite value > 0"));
  }
  if (max_iterations < 0) {
    return fail(ErrorMessage("solver.max_iterations", ToText(max_iterations), "a value >= 0"));
  }
  if (lbfgs_rank < 1) {
    return fail(ErrorMessage("solver.lbfgs_rank", ToText(lbfgs_rank), "a value >= 1"));
  }
  if (max_restarts < 0) {
    return fail(ErrorMessage("solver.max_restarts", ToText(max_restarts), "a value >= 0"));
  }
  if (max_newton_steps < 0) {
    return fail(ErrorMessage("solver.max_newton_steps", ToText(max_newton_steps), "a value >= 0"));
  }
  if (!(newton_threshold >= 0)) {
    return fail(ErrorMessage("solver.newton_threshold", ToText(newton_threshold), "a value >= 0"));
  }
  if (!(hessian_reuse >= 0 && hessian_reuse < 1)) {
    return fail(ErrorMessage("solver.hessian_reuse", ToText(hessian_reuse), "a value in [0, 1)"));
  }
  if (hessian_max_dimension < 0) {
    return fail(ErrorMessage("solver.hessian_max_dimension", ToText(hessian_max_dimension),
                             "a value >= 0"));
  }
  return true;
}

double MaxAbsEntry(const std::vector<Eigen::MatrixXd>& grad) {
  double m = 0;
  for (const auto& g : grad) {
    if (g.size() > 0) m = std::max(m, g.cwiseAbs().maxCoeff());  // an empty matrix has no entry
  }
  return m;
}

namespace {

// Solve runs OpenBLAS single-threaded when the training Gram G has at most
// this many rows (P D): multi-threaded BLAS only pays off on larger matrices.
constexpr Eigen::Index kSerialBlasGramSize = 1024;

using Clock = std::chrono::steady_clock;
double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// U_ℓ = C_ℓ C_ℓᵀ, C_ℓ lower triangular with diagonal exp(θ): every iterate is SPD.
class CholeskyParameterization {
 public:
  explicit CholeskyParameterization(std::vector<Eigen::Index> sizes) : m_(std::move(sizes)) {
    for (auto m : m_) n_ += static_cast<int>(m * (m + 1) / 2);
  }
  int size() const { return n_; }

  std::vector<Eigen::MatrixXd> Factors(const double* theta) const {
    std::vector<Eigen::MatrixXd> C;
    int k = 0;
    for (auto m : m_) {
      Eigen::MatrixXd c = Eigen::MatrixXd::Zero(m, m);
      for (Eigen::Index j = 0; j < m; ++j) {
        for (Eigen::Index i = j; i < m; ++i) c(i, j) = i == j ? std::exp(theta[k++]) : theta[k++];
      }
      C.push_back(std::move(c));
    }
    return C;
  }

  static std::vector<Eigen::MatrixXd> Products(const std::vector<Eigen::MatrixXd>& C) {
    std::vector<Eigen::MatrixXd> U;
    for (const auto& c : C) {
      // C Cᵀ rounds (i,j) and (j,i) differently; return an exactly symmetric U.
      const Eigen::MatrixXd u = c * c.transpose();
      U.push_back(0.5 * (u + u.transpose()));
    }
    return U;
  }

  // θ for SPD U (throws when some U_ℓ is not positive definite).
  std::vector<double> FromU(const std::vector<Eigen::MatrixXd>& U) const {
    std::vector<double> theta;
    for (size_t l = 0; l < U.size(); ++l) {
      Eigen::LLT<Eigen::MatrixXd> llt(0.5 * (U[l] + U[l].transpose()));
      Require(llt.info() == Eigen::Success, "solver.initial_U[" + std::to_string(l) + "]",
              "a matrix that is not positive definite", "a symmetric positive definite matrix");
      const Eigen::MatrixXd c = llt.matrixL();
      for (Eigen::Index j = 0; j < c.cols(); ++j) {
        for (Eigen::Index i = j; i < c.rows(); ++i) {
          theta.push_back(i == j ? std::log(c(i, i)) : c(i, j));
        }
      }
    }
    return theta;
  }

  // dS/dθ from G_ℓ = ∂S/∂U_ℓ (symmetric): dS/dC = 2 G C, lower triangle; the
  // diagonal picks up the chain factor C_jj of the exponential.
  void Pullback(const std::vector<Eigen::MatrixXd>& C, const std::vector<Eigen::MatrixXd>& G,
                double scale, double* out) const {
    int k = 0;
    for (size_t l = 0; l < C.size(); ++l) {
      const Eigen::MatrixXd gc = 2.0 * scale * (G[l] * C[l]);
      for (Eigen::Index j = 0; j < gc.cols(); ++j) {
        for (Eigen::Index i = j; i < gc.rows(); ++i) {
          out[k++] = i == j ? gc(i, i) * C[l](i, i) : gc(i, j);
        }
      }
    }
  }

 private:
  std::vector<Eigen::Index> m_;
  int n_ = 0;
};

// S/n (n = Normalization(), n_max for the action) as a Ceres first-order
// function of θ, caching the last gradient in U.
class ObjectiveFunction : public ceres::FirstOrderFunction {
 public:
  ObjectiveFunction(const OrderParameterObjective& objective, const CholeskyParameterization& param)
      : objective_(objective), param_(param), scale_(1.0 / objective.Normalization()) {}

  bool Evaluate(const double* theta, double* cost, double* gradient) const override {
    const auto t0 = Clock::now();
    ++evaluations_;
    const auto C = param_.Factors(theta);
    const auto U = CholeskyParameterization::Products(C);
    std::vector<Eigen::MatrixXd> G;
    ObjectiveValue v;
    const bool ok = objective_.Evaluate(U, &v, gradient ? &G : nullptr);
    seconds_ += Seconds(t0, Clock::now());
    if (!ok) return false;
    *cost = scale_ * v.S;
    if (gradient) {
      param_.Pullback(C, G, scale_, gradient);
      last_theta_.assign(theta, theta + param_.size());
      last_gradient_norm_ = scale_ * MaxAbsEntry(G);
    }
    return true;
  }
  int NumParameters() const override { return param_.size(); }

  // max |∂(S/n_max)/∂U| at θ, from the cache when θ was the last point evaluated.
  double GradientNorm(const double* theta) const {
    if (last_theta_.size() == static_cast<size_t>(param_.size()) &&
        std::equal(last_theta_.begin(), last_theta_.end(), theta)) {
      return last_gradient_norm_;
    }
    double cost;
    std::vector<double> g(static_cast<size_t>(param_.size()));
    if (!Evaluate(theta, &cost, g.data())) return std::numeric_limits<double>::infinity();
    return last_gradient_norm_;
  }

  int evaluations() const { return evaluations_; }
  double seconds() const { return seconds_; }

 private:
  const OrderParameterObjective& objective_;
  const CholeskyParameterization& param_;
  double scale_;
  mutable int evaluations_ = 0;
  mutable double seconds_ = 0;
  mutable std::vector<double> last_theta_;
  mutable double last_gradient_norm_ = 0;
};

class ConvergenceCallback : public ceres::IterationCallback {
 public:
  ConvergenceCallback(const ObjectiveFunction& fn, const double* theta, const SolveOptions& options,
                      int iteration_offset, double stop_below)
      : fn_(fn), theta_(theta), options_(options), offset_(iteration_offset), stop_(stop_below) {}

  ceres::CallbackReturnType operator()(const ceres::IterationSummary& s) override {
    gradient_norm_ = fn_.GradientNorm(theta_);
    iterations_ = s.iteration;
    if (options_.progress) options_.progress({offset_ + s.iteration, s.cost, gradient_norm_});
    if (gradient_norm_ <= stop_) {
      converged_ = true;
      return ceres::SOLVER_TERMINATE_SUCCESSFULLY;
    }
    return ceres::SOLVER_CONTINUE;
  }

  bool converged() const { return converged_; }
  int iterations() const { return iterations_; }

 private:
  const ObjectiveFunction& fn_;
  const double* theta_;
  const SolveOptions& options_;
  int offset_;
  double stop_;
  double gradient_norm_ = std::numeric_limits<double>::infinity();
  int iterations_ = 0;
  bool converged_ = false;
};

// ∂(S/n)/∂u_k in the independent entries from the matrix gradients
// (off-diagonal entries twice, theory.md §3), in the order of solver/hessian.h.
Eigen::VectorXd PackGradient(const std::vector<Eigen::MatrixXd>& G, double scale) {
  Eigen::Index n = 0;
  for (const auto& g : G) n += g.rows() * (g.rows() + 1) / 2;
  Eigen::VectorXd out(n);
  Eigen::Index k = 0;
  for (const auto& g : G) {
    for (Eigen::Index j = 0; j < g.cols(); ++j) {
      for (Eigen::Index i = 0; i <= j; ++i) out(k++) = scale * (i == j ? 1.0 : 2.0) * g(i, j);
    }
  }
  return out;
}

// The Newton state: the point, its value and matrix gradient, max |∂(S/n)/∂U|.
struct NewtonPoint {
  std::vector<Eigen::MatrixXd> U;
  ObjectiveValue v;
  std::vector<Eigen::MatrixXd> G;
  double gradient_norm = 0;
};

// The Hessian of S/n for a Newton step or the stability check: the
// objective's own with HessianMethod::kAnalytic when it has one, else central
// differences (2 gradient evaluations per entry, counted). Empty when it
// cannot be evaluated at U.
Eigen::MatrixXd SolverHessian(const OrderParameterObjective& objective,
                              const std::vector<Eigen::MatrixXd>& U, const SolveOptions& options,
                              SolveSummary* sum) {
  Eigen::MatrixXd Hm;
  if (options.hessian == SolveOptions::HessianMethod::kAnalytic && objective.HasHessian()) {
    if (!objective.Hessian(U, &Hm)) Hm.resize(0, 0);
  } else {
    Hm = FiniteDifferenceHessian(objective, U);
    sum->evaluations += 2 * IndependentEntries(U);
  }
  ++sum->hessians;
  return Hm;
}

// Damped Newton steps in the independent entries of U with the Hessian of
// S/n (theory.md §3): δ = −H⁻¹ g (H made positive definite by |eigenvalues|
// when it is not), then t = 1, 1/2, … until the point is evaluable and S
// decreases by the Armijo fraction or the gradient norm decreases. A Hessian
// is kept for the next step while the step cut the gradient norm by at least
// options.hessian_reuse (a chord step costs one evaluation); a kept Hessian
// whose full step is not accepted is replaced at once. At most `max_steps`
// Hessians (and 5 max_steps steps); stops at gradient_tolerance or when a
// fresh Hessian's step is not accepted. Returns the steps taken.
// `model`, when given, is the Hessian at *x to take for the first step instead
// of computing one (a warm start's SolveOptions::initial_hessian).
int NewtonSteps(const OrderParameterObjective& objective, const SolveOptions& options,
                int max_steps, int iteration_offset, NewtonPoint* x, SolveSummary* sum,
                const Eigen::MatrixXd* model = nullptr) {
  const double scale = 1.0 / objective.Normalization();
  int steps = 0, hessians = 0;
  bool have = false;  // a Hessian (factorised) from an earlier step is at hand
  Eigen::LLT<Eigen::MatrixXd> llt;
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es;
  bool definite = false;
  while (x->gradient_norm > options.gradient_tolerance && steps < 5 * max_steps) {
    const Eigen::VectorXd g = PackGradient(x->G, scale);
    const bool fresh = !have;
    if (fresh) {
      if (hessians >= max_steps) break;
      const auto t0 = Clock::now();
      Eigen::MatrixXd Hm;
      if (model != nullptr) {  // the caller's Hessian at this point, once
        Hm = *model;
        model = nullptr;
        ++sum->hessians_given;
      } else {
        Hm = SolverHessian(objective, x->U, options, sum);
      }
      sum->hessian_seconds += Seconds(t0, Clock::now());
      ++hessians;
      if (Hm.size() == 0) break;
      llt.compute(Hm);
      definite = llt.info() == Eigen::Success;
      if (!definite) es.compute(Hm);
      have = true;
    }
    Eigen::VectorXd delta;
    if (definite) {
      delta = -llt.solve(g);
    } else {
      const Eigen::VectorXd lambda = es.eigenvalues().cwiseAbs().cwiseMax(
          1e-8 * std::max(es.eigenvalues().cwiseAbs().maxCoeff(), 1e-300));
      delta = -es.eigenvectors() * (es.eigenvectors().transpose() * g).cwiseQuotient(lambda);
    }
    const double slope = g.dot(delta);  // < 0: a descent direction
    const double before = x->gradient_norm;
    bool accepted = false;
    double t = 1.0;
    for (int halvings = 0; halvings < (fresh ? 30 : 1) && !accepted; ++halvings, t *= 0.5) {
      auto trial = AddToIndependentEntries(x->U, t * delta);
      std::vector<Eigen::MatrixXd> Gt;
      ObjectiveValue vt;
      objective.Evaluate(trial, &vt, &Gt);
      ++sum->evaluations;
      if (!vt.ok) continue;
      const double norm = scale * MaxAbsEntry(Gt);
      const bool armijo = scale * (vt.S - x->v.S) <= 1e-4 * t * slope;
      if (armijo || norm < x->gradient_norm) {
        x->U = std::move(trial);
        x->G = std::move(Gt);
        x->v = vt;
        x->gradient_norm = norm;
        accepted = true;
      }
    }
    if (!accepted) {
      if (fresh) break;
      have = false;  // the kept Hessian is too far off: a fresh one at this point
      continue;
    }
    ++steps;
    if (!(x->gradient_norm <= options.hessian_reuse * before)) have = false;
    if (options.progress) {
      options.progress({iteration_offset + steps, scale * x->v.S, x->gradient_norm});
    }
  }
  return steps;
}

}  // namespace

ObjectiveSolution Solve(const OrderParameterObjective& objective, const SolveOptions& options,
                        SolveSummary* summary) {
  const auto t_start = Clock::now();
  std::string error;
  if (!options.IsValid(&error)) throw Error(error);
  SolveSummary local;
  SolveSummary& sum = summary ? *summary : local;
  sum = SolveSummary();
  // Small Grams (P D <= kSerialBlasGramSize) run OpenBLAS on one thread: its
  // threads gain nothing at these sizes and spin against other processes on
  // a busy machine (P = 100, 4 paths, load 5 on 2 cores: a solve took 0.38 s
  // with 2 BLAS threads and 0.044 s with one; bench/results/solver_bench.md).
  std::optional<ScopedSerialBlas> serial_blas;
  if (objective.DenseSize() <= kSerialBlasGramSize) serial_blas.emplace();
  sum.method = NameOf(options.method);

  const double n = objective.Normalization();
  const std::vector<Eigen::MatrixXd> start = objective.Start(options.initial_U);
  objective.CheckPoint(start);
  if (options.initial_hessian.size() > 0) {
    const Eigen::Index side = IndependentEntries(start);
    Require(!options.initial_U.empty(), "solver.initial_hessian", "given without initial_U",
            "a Hessian at initial_U (or none)");
    Require(
        options.initial_hessian.rows() == side && options.initial_hessian.cols() == side,
        "solver.initial_hessian",
        std::to_string(options.initial_hessian.rows()) + " x " +
            std::to_string(options.initial_hessian.cols()),
        std::to_string(side) + " x " + std::to_string(side) + " (the start's independent entries)");
    Require(options.initial_hessian.allFinite(), "solver.initial_hessian", "a non-finite entry",
            "finite entries");
  }
  std::vector<Eigen::Index> sizes;
  for (const auto& u : start) sizes.push_back(u.rows());
  const CholeskyParameterization param(sizes);
  std::vector<double> theta = param.FromU(start);
  sum.num_parameters = param.size();

  ObjectiveSolution sol;
  auto* fn = new ObjectiveFunction(objective, param);  // owned by the GradientProblem
  ceres::GradientProblem problem(fn);
  {
    double cost;
    if (!fn->Evaluate(theta.data(), &cost, nullptr)) {
      objective.Evaluate(start, &sol.value, nullptr);
      sum.termination = SolveTermination::kFailure;
      sum.message = "the action cannot be evaluated at the start: " + sol.value.failure;
      sol.U = start;
      sum.total_seconds = Seconds(t_start, Clock::now());
      return sol;
    }
    sum.initial_action = cost * n;
  }

  ceres::GradientProblemSolver::Options copts;
  copts.line_search_direction_type =
      options.method == SolveMethod::kLbfgs ? ceres::LBFGS : ceres::BFGS;
  copts.max_lbfgs_rank = options.lbfgs_rank;
  copts.use_approximate_eigenvalue_bfgs_scaling = options.lbfgs_scaling;
  copts.max_num_iterations = options.max_iterations;
  // Convergence is decided by the callback on the gradient in U (theory.md §8);
  // Ceres' own tests are set so they only fire when no progress is possible.
  copts.function_tolerance = 1e-16;
  copts.gradient_tolerance = 1e-300;
  copts.parameter_tolerance = 1e-16;
  copts.logging_type = ceres::SILENT;
  copts.update_state_every_iteration = true;

  // Ceres' line search stalls once cost changes reach rounding level; restart
  // it from where it stopped (fresh L-BFGS memory) while that still helps.
  const int dimension = IndependentEntries(start);
  const bool newton = options.max_newton_steps > 0 && dimension <= options.hessian_max_dimension;
  const double stop_below = newton ? std::max(options.gradient_tolerance, options.newton_threshold)
                                   : options.gradient_tolerance;
  int ceres_iterations = 0;
  std::string ceres_message;
  auto line_search = [&](double stop) {
    bool reached = false;
    for (int run = 0; run <= options.max_restarts && !reached; ++run) {
      ConvergenceCallback callback(*fn, theta.data(), options, ceres_iterations, stop);
      copts.callbacks = {&callback};
      copts.max_num_iterations = options.max_iterations - ceres_iterations;
      if (copts.max_num_iterations <= 0) break;
      ceres::GradientProblemSolver::Summary csum;
      ceres::Solve(copts, problem, theta.data(), &csum);
      ceres_iterations += callback.iterations();
      ceres_message = csum.message;
      reached = callback.converged();
      if (callback.iterations() <= 1 && run > 0) break;  // the restart made no progress
      sum.restarts = std::max(sum.restarts, run);
    }
  };
  NewtonPoint x;
  auto evaluate_theta = [&] {
    x.U = CholeskyParameterization::Products(param.Factors(theta.data()));
    objective.Evaluate(x.U, &x.v, &x.G);
    ++sum.evaluations;
    x.gradient_norm = MaxAbsEntry(x.G) / n;
  };
  auto newton_steps = [&](const Eigen::MatrixXd* model) {
    if (newton && x.gradient_norm > options.gradient_tolerance) {
      sum.newton_steps += NewtonSteps(objective, options, options.max_newton_steps,
                                      ceres_iterations + sum.newton_steps, &x, &sum, model);
    }
  };

  // The line search down to the hand-over gradient, then Newton steps with
  // the Hessian (issue 14); they also polish a line search that stalled above
  // tolerance. From a warm start (newton_from_initial) Newton steps come
  // first. When Newton stops early, the line search continues from its point
  // (down to the hand-over gradient after a warm start, then to the
  // tolerance), each time followed by Newton again.
  const bool warm = newton && options.newton_from_initial && !options.initial_U.empty();
  if (!warm) line_search(stop_below);
  evaluate_theta();
  // A warm start's first Newton model may come with it (at the start, whose
  // Cholesky round trip x.U differs from it by rounding only).
  newton_steps(warm && options.initial_hessian.size() > 0 ? &options.initial_hessian : nullptr);
  std::vector<double> fallback;
  if (warm && stop_below > options.gradient_tolerance) fallback.push_back(stop_below);
  if (warm || stop_below > options.gradient_tolerance) {
    fallback.push_back(options.gradient_tolerance);
  }
  for (double stop : fallback) {
    if (x.gradient_norm <= options.gradient_tolerance || !x.v.ok) break;
    theta = param.FromU(x.U);
    line_search(stop);
    evaluate_theta();
    newton_steps(nullptr);
  }
  const ObjectiveValue& v = x.v;
  sum.gradient_norm = x.gradient_norm;
  sum.final_action = v.S;
  sum.final_entropy = v.entropy;
  sum.final_energy = v.energy;
  sum.iterations = ceres_iterations + sum.newton_steps;
  sum.evaluations += fn->evaluations();
  sum.evaluation_seconds = fn->seconds();
  const bool converged = sum.gradient_norm <= options.gradient_tolerance;
  sum.termination = converged ? SolveTermination::kConverged : SolveTermination::kNoConvergence;
  std::ostringstream msg;
  if (converged) {
    msg << "max |d(S/n_max)/dU| = " << sum.gradient_norm << " <= " << options.gradient_tolerance;
  } else {
    msg << "max |d(S/n_max)/dU| = " << sum.gradient_norm << " > " << options.gradient_tolerance
        << " after " << sum.iterations << " iterations (Ceres: " << ceres_message << ")";
  }
  sum.message = msg.str();

  if (options.compute_hessian && dimension <= options.hessian_max_dimension) {
    const auto t0 = Clock::now();
    const Eigen::MatrixXd Hm = SolverHessian(objective, x.U, options, &sum);
    if (Hm.size() == 0) {
      sum.hessian_min_eigenvalue = std::numeric_limits<double>::quiet_NaN();
    } else {
      Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(Hm, Eigen::EigenvaluesOnly);
      sum.hessian_min_eigenvalue = es.eigenvalues()(0);
      sol.hessian = Hm;
    }
    sum.hessian_dimension = dimension;
    sum.hessian_seconds += Seconds(t0, Clock::now());
  }
  sol.U = std::move(x.U);
  sol.value = std::move(x.v);
  sum.total_seconds = Seconds(t_start, Clock::now());
  return sol;
}

Solution Solve(const Action& action, const SolveOptions& options, SolveSummary* summary) {
  SolveSummary local;
  SolveSummary& sum = summary ? *summary : local;
  ObjectiveSolution m = Solve(static_cast<const OrderParameterObjective&>(action), options, &sum);
  sum.storage = StorageName(action.kernel().strategy());
  const Architecture& arch = action.architecture();
  Solution sol;
  if (sum.termination == SolveTermination::kFailure) {
    const ActionValue v = action.Evaluate(m.U);
    sol.order_parameters.U_a =
        v.U_a.size() > 0 ? v.U_a : GpOrderParameters(arch, action.outputs()).U_a;
  } else {
    sol.order_parameters.U_a = action.ReadoutAt(m.U);  // U_a (free) is the last matrix
    sol.action = m.value.S;
    sol.converged = sum.converged();
    sol.hessian = std::move(m.hessian);
  }
  m.U.resize(static_cast<size_t>(arch.L()));
  sol.order_parameters.U = std::move(m.U);
  return sol;
}

Solution Solve(const PathProblem& problem, const SolveOptions& options, SolveSummary* summary) {
  return Solve(Action(problem), options, summary);
}

std::string SolveSummary::BriefReport() const {
  std::ostringstream s;
  s << "attnpaths solve: " << SolveTerminationName(termination) << ", S " << initial_action
    << " -> " << final_action << ", |grad| " << gradient_norm << ", " << iterations
    << " iterations, " << evaluations << " evaluations, " << total_seconds << " s";
  return s.str();
}

std::string SolveSummary::FullReport() const {
  std::ostringstream s;
  s << "Solver summary (attnpaths)\n"
    << "  method                 " << method << "\n"
    << "  storage of G           " << storage << "\n"
    << "  parameters             " << num_parameters << "\n"
    << "  initial action S       " << initial_action << "\n"
    << "  final action S         " << final_action << "\n"
    << "    entropy              " << final_entropy << "\n"
    << "    energy               " << final_energy << "\n"
    << "  gradient max |dS/dU|/n " << gradient_norm << "\n"
    << "  iterations             " << iterations << "\n"
    << "  evaluations            " << evaluations << "\n"
    << "  restarts               " << restarts << "\n"
    << "  Newton steps           " << newton_steps << "\n"
    << "  Hessians               " << hessians << "\n";
  if (hessians_given > 0) s << "  Hessians given         " << hessians_given << "\n";
  if (hessian_dimension > 0) {
    s << "  Hessian min eigenvalue " << hessian_min_eigenvalue << " (dimension "
      << hessian_dimension
      << (hessian_min_eigenvalue > 0 ? ", stable minimum)" : ", NOT a minimum)") << "\n";
  } else {
    s << "  Hessian                not computed\n";
  }
  s << "  time total             " << total_seconds << " s\n"
    << "    action evaluations   " << evaluation_seconds << " s\n"
    << "    Hessian              " << hessian_seconds << " s\n"
    << "  termination            " << SolveTerminationName(termination) << " (" << message << ")\n";
  return s.str();
}

}  // namespace attnpaths
