// solver/: order parameters, the action, the saddle-point solve, predictor
// statistics and the GP limit.
#include <cmath>
#include <sstream>

#include "data/labels.h"
#include "kernels/metrics.h"
#include "python/bindings.h"
#include "solver/action.h"
#include "solver/action_hessian.h"
#include "solver/order_parameters.h"
#include "solver/predictor.h"
#include "solver/solve.h"

namespace attnpaths::python {

namespace {

using namespace pybind11::literals;

// The Python Action: the Action copies the architecture and the labels (so
// later changes to the caller's objects do not reach it); the holder keeps the
// PathKernel it borrows alive.
struct ActionHolder {
  py::object kernel;  // the attnpaths.PathKernel the action reads
  std::unique_ptr<Action> action;
};

const char* SolveMethodName(SolveMethod m) { return NameOf(m); }

// An objective written in Python (solver/objective.h), for a theory of one's
// own on the same solver: `evaluate(U)` returns (S, [dS/dU_b]) — or None where
// S is undefined — and the optional `hessian(U)` the Hessian of
// S / normalization in the independent entries (solver/hessian.h's order).
// Runs in the solve's worker thread: each call takes the GIL; an exception
// raised in Python stops the solve (reported by status, re-raised afterwards).
class PythonObjective : public OrderParameterObjective {
 public:
  PythonObjective(py::object evaluate, std::vector<Eigen::MatrixXd> initial, py::object hessian,
                  double normalization, CallGuard* guard)
      : evaluate_(std::move(evaluate)),
        hessian_(std::move(hessian)),
        initial_(std::move(initial)),
        normalization_(normalization),
        guard_(guard) {}

  std::vector<Eigen::MatrixXd> InitialPoint() const override { return initial_; }

  void CheckPoint(const std::vector<Eigen::MatrixXd>& U) const override {
    Require(U.size() == initial_.size(), "initial_U blocks", U.size(),
            std::to_string(initial_.size()) + " (as initial_point)");
    for (size_t b = 0; b < U.size(); ++b) {
      const std::string name = "U[" + std::to_string(b) + "]";
      Require(U[b].rows() == initial_[b].rows() && U[b].cols() == initial_[b].cols(), name,
              std::to_string(U[b].rows()) + " x " + std::to_string(U[b].cols()),
              "the shape of initial_point[" + std::to_string(b) + "]");
      Require(U[b].allFinite(), name, "a non-finite entry", "finite entries");
    }
  }

  bool Evaluate(const std::vector<Eigen::MatrixXd>& U, ObjectiveValue* value,
                std::vector<Eigen::MatrixXd>* gradient) const override {
    value->ok = false;
    if (guard_->stopped()) return Fail(value, "stopped by a Python exception");
    py::gil_scoped_acquire gil;
    try {
      const py::object r = evaluate_(MatrixList(U));
      if (r.is_none()) return Fail(value, "evaluate returned None (S undefined here)");
      if (!py::isinstance<py::tuple>(r) && !py::isinstance<py::list>(r)) {
        throw py::cast_error("not a pair");
      }
      const auto t = py::reinterpret_borrow<py::sequence>(r);
      if (t.size() != 2) throw py::cast_error("not a pair");
      const double S = t[0].cast<double>();
      auto g = t[1].cast<std::vector<Eigen::MatrixXd>>();
      bool shapes = g.size() == U.size();
      for (size_t b = 0; shapes && b < g.size(); ++b) {
        shapes = g[b].rows() == U[b].rows() && g[b].cols() == U[b].cols();
      }
      if (!shapes) throw py::cast_error("gradient shapes");
      if (!std::isfinite(S)) return Fail(value, "evaluate returned a non-finite S");
      value->ok = true;
      value->S = value->energy = S;
      if (gradient) *gradient = std::move(g);
      return true;
    } catch (py::error_already_set&) {
      guard_->StopWith(std::current_exception());
    } catch (py::cast_error&) {
      guard_->StopWith(std::make_exception_ptr(Error(
          ErrorMessage("evaluate(U)", "a value of another form",
                       "a pair (S, [dS/dU_b, one array per block, shaped like U_b]) or None"))));
    }
    return Fail(value, "stopped by a Python exception");
  }

  double Normalization() const override { return normalization_; }
  bool HasHessian() const override { return !hessian_.is_none(); }
  bool Hessian(const std::vector<Eigen::MatrixXd>& U, Eigen::MatrixXd* hessian) const override {
    if (hessian_.is_none() || guard_->stopped()) return false;
    py::gil_scoped_acquire gil;
    try {
      const py::object r = hessian_(MatrixList(U));
      if (r.is_none()) return false;
      *hessian = r.cast<Eigen::MatrixXd>();
      return true;
    } catch (py::error_already_set&) {
      guard_->StopWith(std::current_exception());
    } catch (py::cast_error&) {
      guard_->StopWith(std::make_exception_ptr(
          Error(ErrorMessage("hessian(U)", "a value of another form", "a square array or None"))));
    }
    return false;
  }

 private:
  static bool Fail(ObjectiveValue* value, const std::string& why) {
    value->ok = false;
    value->failure = why;
    return false;
  }

  py::object evaluate_, hessian_;
  std::vector<Eigen::MatrixXd> initial_;
  double normalization_;
  CallGuard* guard_;
};

std::string Number(double v) { return py::repr(py::float_(v)).cast<std::string>(); }

// U_a for Python: a float for one output, a D × D array for several (theory.md §9).
py::object Readout(const Eigen::MatrixXd& U_a) {
  if (U_a.size() == 1) return py::float_(U_a(0, 0));
  return py::cast(U_a);
}

// U_a from Python: a number (one output) or a D × D array.
Eigen::MatrixXd ReadoutArg(py::handle obj, const std::string& field) {
  if (py::isinstance<py::float_>(obj) || py::isinstance<py::int_>(obj)) {
    return Eigen::MatrixXd::Constant(1, 1, obj.cast<double>());
  }
  const Eigen::MatrixXd U_a = MatrixArg(obj, field, Shape::kMatrix).matrix();
  Require(U_a.rows() == U_a.cols() && U_a.rows() >= 1, field + " shape",
          std::to_string(U_a.rows()) + " x " + std::to_string(U_a.cols()),
          "a number or a square D x D matrix");
  return U_a;
}

std::string ReadoutText(const Eigen::MatrixXd& U_a) {
  if (U_a.size() == 1) return Number(U_a(0, 0));
  return std::to_string(U_a.rows()) + "x" + std::to_string(U_a.cols());
}

const char* ReadoutModeName(ReadoutMode m) {
  return m == ReadoutMode::kEliminated ? "eliminated" : "free";
}

}  // namespace

Eigen::MatrixXd FirstOrderParameter(py::handle obj, const std::string& field) {
  if (py::isinstance<Solution>(obj)) return obj.cast<const Solution&>().order_parameters.U.at(0);
  if (py::isinstance<OrderParameters>(obj)) return obj.cast<const OrderParameters&>().U.at(0);
  return MatrixArg(obj, field, Shape::kMatrix).matrix();
}

OrderParameters ToOrderParameters(py::handle obj, const std::string& field) {
  if (py::isinstance<Solution>(obj)) return obj.cast<const Solution&>().order_parameters;
  if (py::isinstance<OrderParameters>(obj)) return obj.cast<const OrderParameters&>();
  throw Error(ErrorMessage(field, Describe(obj), "an attnpaths.Solution or OrderParameters"));
}

void BindSolver(py::module_& m) {
  // ------------------------------------------------------- OrderParameters
  py::class_<OrderParameters>(m, "OrderParameters", R"doc(
The order parameters U_1, ..., U_L and U_a (theory.md sections 3, 9). U[l-1] = U_l is
(m_l D) x (m_l D) with m_l = H_l ... H_L and D outputs, rows (h_l, ..., h_L, d) with h_l
outermost and the output d fastest; U[0] = U_1 is the U of the renormalised kernel K_U.
U_a is a float for one output and a D x D array for several. Immutable: U returns
read-only views.)doc")
      .def(py::init([](py::object U, py::object U_a) {
             OrderParameters op;
             op.U = ToMatrices(U, "U");
             op.U_a = ReadoutArg(U_a, "U_a");
             return op;
           }),
           "U"_a, "U_a"_a = 1.0,
           "Order parameters from a list [U_1, ..., U_L] and U_a (a number, or D x D).")
      .def_property_readonly(
          "U",
          [](py::object self) { return MatrixViews(self.cast<const OrderParameters&>().U, self); },
          "[U_1, ..., U_L] (read-only views).")
      .def_property_readonly(
          "U_a", [](const OrderParameters& op) { return Readout(op.U_a); },
          "The readout order parameter: a float for one output, a D x D array for several.")
      .def_property_readonly("outputs", &OrderParameters::outputs, "D, the number of outputs.")
      .def(
          "__repr__",
          [](const OrderParameters& op) {
            std::string s = "OrderParameters(U: [";
            for (size_t l = 0; l < op.U.size(); ++l) {
              s += (l ? ", " : "") + std::to_string(op.U[l].rows()) + "x" +
                   std::to_string(op.U[l].cols());
            }
            return s + "], U_a=" + ReadoutText(op.U_a) + ")";
          },
          "The shapes and U_a.");

  m.def("gp_order_parameters", &GpOrderParameters, "arch"_a, "outputs"_a = 1,
        "U_l = sigma_l^2 ... sigma_L^2 sigma_a^2 I and U_a = sigma_a^2 I for D = outputs: the\n"
        "all-widths-infinite minimiser and the solver's start (theory.md sections 3, 8, 9).");
  m.def("gp_limit", &GpLimit, "arch"_a, "outputs"_a = 1,
        "The GP-limit order parameters U_GP for D = outputs (all widths -> infinity; theory.md\n"
        "sections 2, 3, 9).");
  m.def(
      "partial_trace",
      [](py::object U, Eigen::Index H_outer) {
        return PartialTrace(MatrixArg(U, "U", Shape::kMatrix).ref(), H_outer);
      },
      "U"_a, "H_outer"_a, "tr_l: the partial trace over the outermost of H_outer blocks.");
  m.def(
      "block_diagonal",
      [](Eigen::Index H, py::object M) {
        return BlockDiagonal(H, MatrixArg(M, "M", Shape::kMatrix).ref());
      },
      "H"_a, "M"_a, "I_H (x) M: M repeated H times on the diagonal.");
  m.def(
      "eliminate_U_a",
      [](const Architecture& arch, py::object U_L) {
        return Readout(EliminateUa(arch, MatrixArg(U_L, "U_L", Shape::kMatrix).ref()));
      },
      "arch"_a, "U_L"_a,
      "The minimiser of S over U_a at fixed U_L: U_a = (-b + sqrt(b^2 + 4 c)) / 2 for one\n"
      "output (theory.md 3), the matrix root (-b I + (b^2 I + 4 g C)^(1/2)) / 2 with\n"
      "C = tr_L U_L for D outputs (theory.md 9; a D x D array).");
  m.def(
      "check_shapes",
      [](const Architecture& arch, py::object U, Eigen::Index outputs) {
        CheckShapes(arch, ToMatrices(U, "U"), outputs);
      },
      "arch"_a, "U"_a, "outputs"_a = 1,
      "Raises attnpaths.Error naming the layer when [U_1, ..., U_L] does not fit the "
      "architecture with D = outputs.");
  m.def(
      "check_labels",
      [](py::object y, Eigen::Index P, const std::string& field) {
        CheckLabels(MatrixArg(y, field, Shape::kColumn).ref(), P, field.c_str());
      },
      "y"_a, "P"_a, "field"_a = "y",
      "Raises attnpaths.Error naming `field` unless y is P x D (or length P) and finite.");

  // ---------------------------------------------------------------- Action
  py::class_<ActionValue>(m, "ActionValue", R"doc(
The action at one point: S = entropy + energy and the eliminated U_a. ok is False (and
`failure` says what) when some U_l or G = K_U + T I is not positive definite.)doc")
      .def_readonly("ok", &ActionValue::ok, "False when S is undefined (not positive definite).")
      .def_readonly("failure", &ActionValue::failure, "What was not positive definite.")
      .def_readonly("S", &ActionValue::S, "The action S = entropy + energy.")
      .def_readonly("entropy", &ActionValue::entropy, "The entropy (the widths' terms).")
      .def_readonly("energy", &ActionValue::energy, "ln det G + y^T G^-1 y.")
      .def_property_readonly(
          "U_a", [](const ActionValue& v) { return v.U_a.size() ? Readout(v.U_a) : py::none(); },
          "U_a at this point (the eliminated root, or the free U_a): a float for one output, a\n"
          "D x D array for several; None when not evaluated.")
      .def(
          "__repr__",
          [](const ActionValue& v) {
            if (!v.ok) return "ActionValue(ok=False, failure='" + v.failure + "')";
            return "ActionValue(S=" + Number(v.S) + ", entropy=" + Number(v.entropy) +
                   ", energy=" + Number(v.energy) + ", U_a=" + ReadoutText(v.U_a) + ")";
          },
          "S, entropy, energy and U_a.");

  py::class_<ActionHolder>(m, "Action", R"doc(
The action S(U) of theory.md sections 3 and 9 with its analytic gradient:

  S = sum_l n_l [ tr(U_{l+1}^-1 tr_l U_l)/sigma_l^2 - ln det U_l + H_l ln det U_{l+1} ]
      + n_{L+1} [ tr U_a/sigma_a^2 - ln det U_a ] + ln det G + vec(Y)^T G^-1 vec(Y)

with G = K_{U_1} + T I the PD x PD kernel of D outputs. Action(arch, kernel, y,
temperature, readout='eliminated'): y has one label row per training example (length P or
P x D); U_l are (m_l D) x (m_l D). readout='eliminated' computes U_a from U_L (the matrix
root of theory.md 9); readout='free' takes U_a as an (L+1)-th matrix of U. The action
keeps a copy of arch and a reference to kernel.)doc")
      .def(py::init([](const Architecture& arch, py::object kernel, py::object y,
                       double temperature, const std::string& readout) {
             if (!py::isinstance<PathKernel>(kernel)) {
               throw py::type_error("Action: kernel must be an attnpaths.PathKernel, not " +
                                    Describe(kernel));
             }
             const PathKernel& k = kernel.cast<const PathKernel&>();
             const MatrixArg labels(y, "y", Shape::kColumn);
             auto h = std::make_unique<ActionHolder>();
             h->kernel = kernel;
             const ReadoutMode mode =
                 ParseName(readout, "readout", {ReadoutMode::kEliminated, ReadoutMode::kFree},
                           ReadoutModeName);
             h->action = std::make_unique<Action>(arch, k, labels.ref(), temperature, mode);
             return h;
           }),
           "arch"_a, "kernel"_a, "y"_a, "temperature"_a, "readout"_a = "eliminated",
           "Raises attnpaths.Error for shape mismatches, non-finite labels, temperature < 0 and\n"
           "invalid widths or variances.")
      .def(
          "evaluate",
          [](const ActionHolder& a, py::object U, bool gradient) -> py::object {
            const std::vector<Eigen::MatrixXd> u = ToMatrices(U, "U");
            a.action->CheckPoint(u);
            std::vector<Eigen::MatrixXd> grad;
            ActionValue v;
            {
              py::gil_scoped_release release;
              v = a.action->Evaluate(u, gradient ? &grad : nullptr);
            }
            if (!gradient) return py::cast(v);
            return py::make_tuple(v, v.ok ? py::object(MatrixList(grad)) : py::object(py::none()));
          },
          "U"_a, "gradient"_a = false,
          "S at U = [U_1, ..., U_L] (U_a appended when readout='free'). With gradient=True\n"
          "returns (value, [dS/dU_1, ...]) (every entry treated as independent, symmetric; None\n"
          "when value.ok is False).")
      .def_property_readonly(
          "architecture", [](const ActionHolder& a) { return a.action->architecture(); },
          "A copy of the architecture.")
      .def_property_readonly(
          "kernel", [](const ActionHolder& a) { return a.kernel; }, "The PathKernel.")
      .def_property_readonly(
          "y",
          [](py::object self) {
            return MatrixView(self.cast<const ActionHolder&>().action->Y(), self);
          },
          "The labels, P x D (read-only view).")
      .def_property_readonly(
          "temperature", [](const ActionHolder& a) { return a.action->temperature(); },
          "T of the likelihood.")
      .def_property_readonly(
          "outputs", [](const ActionHolder& a) { return a.action->outputs(); },
          "D, the number of label columns.")
      .def_property_readonly(
          "readout", [](const ActionHolder& a) { return ReadoutModeName(a.action->readout()); },
          "'eliminated' or 'free'.")
      .def(
          "initial_point",
          [](const ActionHolder& a) { return MatrixList(a.action->InitialPoint()); },
          "U_GP in the layout evaluate takes (the solver's default start).")
      .def(
          "neighbour_hessian",
          [](const ActionHolder& a, const Architecture& neighbour, py::object U,
             py::object neighbour_hessian) -> py::object {
            const std::vector<Eigen::MatrixXd> u = ToMatrices(U, "U");
            const Eigen::MatrixXd h =
                MatrixArg(neighbour_hessian, "neighbour_hessian", Shape::kMatrix).matrix();
            Eigen::MatrixXd out;
            bool ok;
            {
              py::gil_scoped_release release;
              ok = NeighbourActionHessian(*a.action, neighbour, u, h, &out);
            }
            if (!ok) return py::none();
            return py::cast(out);
          },
          "neighbour"_a, "U"_a, "neighbour_hessian"_a,
          "This action's Hessian of S/n_max at U from neighbour_hessian, the Hessian at the same\n"
          "U of the action with the `neighbour` architecture (other widths or variances, same\n"
          "kernel, labels, temperature and readout), exchanging only the entropy parts: a\n"
          "sweep's next width gets SolveOptions.initial_hessian from the previous width's\n"
          "Solution.hessian without computing the energy block. None when some U_l is not\n"
          "positive definite; raises attnpaths.Error for other heads or shapes.");

  // ----------------------------------------------------------------- Solve
  py::class_<SolveProgress>(m, "SolveProgress",
                            "One solver iteration, passed to progress callbacks.")
      .def_readonly("iteration", &SolveProgress::iteration, "Iteration number.")
      .def_readonly("action", &SolveProgress::action, "S / n_max.")
      .def_readonly("gradient_norm", &SolveProgress::gradient_norm,
                    "max |d(S/n_max)/dU_l| entry over all layers.")
      .def(
          "__repr__",
          [](const SolveProgress& p) {
            return "SolveProgress(iteration=" + std::to_string(p.iteration) +
                   ", action=" + Number(p.action) + ", gradient_norm=" + Number(p.gradient_norm) +
                   ")";
          },
          "The fields.");

  py::class_<SolveOptions>(m, "SolveOptions", R"doc(
Settings of the saddle-point solve (solver/solve.h). SolveOptions(**fields): defaults, then
the given fields; unknown names raise attnpaths.Error suggesting the nearest field.

  method                 'lbfgs' (default) or 'bfgs' (Ceres line search)
  gradient_tolerance     converged when max |d(S/n_max)/dU| <= this (1e-9; theory.md 8)
  max_iterations         iteration limit (5000)
  max_restarts           line-search restarts after a stall (3)
  max_newton_steps       Newton steps with the analytic Hessian (10)
  newton_from_initial    with initial_U given, Newton steps first (True)
  hessian_reuse          keep a Newton Hessian while each step cuts the gradient by this (0.25)
  lbfgs_rank             L-BFGS memory (20)
  lbfgs_scaling          scale the initial inverse Hessian by s^T y / y^T y (False)
  initial_U              start [U_1, ..., U_L]; empty: U_GP (theory.md 8)
  initial_hessian        Hessian of S/n_max at initial_U, the first Newton model (None)
  compute_hessian        report the smallest Hessian eigenvalue (True)
  hessian_max_dimension  skip Hessian and Newton steps above this many entries (600)
  progress               callable(SolveProgress) after every iteration, or None)doc")
      .def(py::init([](py::kwargs kw) { return FromKeywords<SolveOptions>(kw, "SolveOptions"); }),
           "SolveOptions(**fields): defaults, then the given fields.")
      .def_property(
          "method", [](const SolveOptions& o) { return SolveMethodName(o.method); },
          [](SolveOptions& o, const std::string& s) {
            o.method = ParseName(s, "SolveOptions.method",
                                 {SolveMethod::kLbfgs, SolveMethod::kBfgs}, SolveMethodName);
          },
          "'lbfgs' or 'bfgs'.")
      .def_readwrite("gradient_tolerance", &SolveOptions::gradient_tolerance,
                     "Converged when max |d(S/n_max)/dU| <= this.")
      .def_readwrite("max_iterations", &SolveOptions::max_iterations, "Iteration limit.")
      .def_readwrite("max_restarts", &SolveOptions::max_restarts,
                     "Line-search restarts after it stalls at rounding level.")
      .def_readwrite("max_newton_steps", &SolveOptions::max_newton_steps,
                     "Newton polish steps after the line search.")
      .def_readwrite("newton_from_initial", &SolveOptions::newton_from_initial,
                     "With initial_U given (a neighbouring point), Newton steps first.")
      .def_readwrite("hessian_reuse", &SolveOptions::hessian_reuse,
                     "A Newton step keeps its Hessian while each step cuts the gradient by at "
                     "least this factor (0: a new Hessian every step).")
      .def_readwrite("lbfgs_rank", &SolveOptions::lbfgs_rank, "L-BFGS memory.")
      .def_readwrite("lbfgs_scaling", &SolveOptions::lbfgs_scaling,
                     "Scale the line search's initial inverse Hessian by s^T y / y^T y of the "
                     "last step (Ceres' approximate eigenvalue scaling).")
      .def_property(
          "initial_U", [](const SolveOptions& o) { return MatrixList(o.initial_U); },
          [](SolveOptions& o, py::object U) {
            o.initial_U = U.is_none() ? std::vector<Eigen::MatrixXd>{}
                                      : ToMatrices(U, "SolveOptions.initial_U");
          },
          "The start [U_1, ..., U_L] (copies; (m_l D) x (m_l D)); empty means U_GP.")
      .def_property(
          "initial_hessian",
          [](const SolveOptions& o) -> py::object {
            if (o.initial_hessian.size() == 0) return py::none();
            return py::cast(o.initial_hessian);
          },
          [](SolveOptions& o, py::object H) {
            o.initial_hessian =
                H.is_none() ? Eigen::MatrixXd()
                            : MatrixArg(H, "SolveOptions.initial_hessian", Shape::kMatrix).matrix();
          },
          "With initial_U: the Hessian of S/n_max there in the independent entries (a copy),\n"
          "taken as the first Newton model of the warm start instead of computing one, e.g.\n"
          "Action.neighbour_hessian of the neighbouring width's Solution.hessian; None: computed.")
      .def_readwrite("compute_hessian", &SolveOptions::compute_hessian,
                     "Report the smallest Hessian eigenvalue at the solution.")
      .def_readwrite("hessian_max_dimension", &SolveOptions::hessian_max_dimension,
                     "Largest number of independent entries for the Hessian and Newton steps.")
      .def_property(
          "progress", [](const SolveOptions& o) { return GetCallback(o.progress); },
          [](SolveOptions& o, py::object fn) {
            SetCallback(&o.progress, std::move(fn), "SolveOptions.progress");
          },
          "callable(SolveProgress) called after every iteration (with the GIL), or None.")
      .def(
          "is_valid", [](const SolveOptions& o) { return o.IsValid(nullptr); },
          "True when every field is in range.")
      .def(
          "validate",
          [](const SolveOptions& o) {
            std::string e;
            if (!o.IsValid(&e)) throw Error(e);
          },
          "Raises attnpaths.Error naming the first field out of range.");

  py::class_<SolveSummary>(m, "SolveSummary", R"doc(
What the solve did: termination ('converged', 'no_convergence', 'failure') and message,
initial and final action, final gradient norm, iterations, evaluations, restarts, Newton
steps, the smallest Hessian eigenvalue and times. Read brief_report() first.)doc")
      .def_property_readonly(
          "termination", [](const SolveSummary& s) { return SolveTerminationName(s.termination); },
          "'converged', 'no_convergence' or 'failure'.")
      .def_readonly("message", &SolveSummary::message, "Why the solve stopped.")
      .def_readonly("initial_action", &SolveSummary::initial_action, "S at the start.")
      .def_readonly("final_action", &SolveSummary::final_action, "S at the returned point.")
      .def_readonly("final_entropy", &SolveSummary::final_entropy, "Entropy at the returned point.")
      .def_readonly("final_energy", &SolveSummary::final_energy, "Energy at the returned point.")
      .def_readonly("gradient_norm", &SolveSummary::gradient_norm,
                    "max |d(S/n_max)/dU| entry at the returned point.")
      .def_readonly("iterations", &SolveSummary::iterations, "Iterations (Newton steps included).")
      .def_readonly("evaluations", &SolveSummary::evaluations, "Action evaluations.")
      .def_readonly("restarts", &SolveSummary::restarts, "Line-search restarts.")
      .def_readonly("newton_steps", &SolveSummary::newton_steps, "Newton polish steps.")
      .def_readonly("hessians", &SolveSummary::hessians,
                    "Hessians computed (Newton steps and the stability check).")
      .def_readonly("hessians_given", &SolveSummary::hessians_given,
                    "Newton models taken from SolveOptions.initial_hessian.")
      .def_readonly("num_parameters", &SolveSummary::num_parameters, "Free parameters.")
      .def_readonly("hessian_min_eigenvalue", &SolveSummary::hessian_min_eigenvalue,
                    "Smallest Hessian eigenvalue of S/n_max; > 0 is a stable minimum.")
      .def_readonly("hessian_dimension", &SolveSummary::hessian_dimension,
                    "Dimension of that Hessian (0: not computed).")
      .def_readonly("total_seconds", &SolveSummary::total_seconds, "Wall time of the solve.")
      .def_readonly("evaluation_seconds", &SolveSummary::evaluation_seconds,
                    "Time inside action evaluations.")
      .def_readonly("hessian_seconds", &SolveSummary::hessian_seconds, "Time in the Hessian.")
      .def_readonly("method", &SolveSummary::method, "'lbfgs' or 'bfgs'.")
      .def_property_readonly("converged", &SolveSummary::converged,
                             "True when the gradient test of theory.md section 8 holds.")
      .def("brief_report", &SolveSummary::BriefReport, "One line: termination, S, |grad|, counts.")
      .def("full_report", &SolveSummary::FullReport, "Every figure, one per line.")
      .def("__repr__", &SolveSummary::BriefReport, "The brief report.");

  py::class_<Solution>(m, "Solution", "The saddle point: order parameters, S and convergence.")
      .def_readonly("order_parameters", &Solution::order_parameters, "U_1, ..., U_L and U_a.")
      .def_readonly("action", &Solution::action, "S at the solution.")
      .def_readonly("converged", &Solution::converged, "The gradient test held.")
      .def_property_readonly(
          "U",
          [](py::object self) {
            return MatrixViews(self.cast<const Solution&>().order_parameters.U, self);
          },
          "[U_1, ..., U_L] (read-only views).")
      .def_property_readonly(
          "U_a", [](const Solution& s) { return Readout(s.order_parameters.U_a); },
          "U_a: a float for one output, a D x D array for several.")
      .def_property_readonly(
          "hessian",
          [](const Solution& s) -> py::object {
            if (s.hessian.size() == 0) return py::none();
            return py::cast(s.hessian);
          },
          "The stability check's Hessian of S/n_max at the solution, in the independent\n"
          "entries of U (a copy); None when it was not computed.")
      .def(
          "__repr__",
          [](const Solution& s) {
            return "Solution(action=" + Number(s.action) +
                   ", converged=" + (s.converged ? "True" : "False") + ")";
          },
          "S and convergence.");

  m.def(
      "solve",
      [](ActionHolder& a, const std::optional<SolveOptions>& options, py::object progress) {
        SolveOptions o = options.value_or(SolveOptions{});
        const py::object callback = ProgressCallback(progress, o.progress);
        CallGuard guard;
        o.progress = guard.Wrap<SolveProgress>(callback);
        SolveSummary summary;
        Solution sol = guard.Run([&] { return Solve(*a.action, o, &summary); });
        return py::make_tuple(std::move(sol), std::move(summary));
      },
      "action"_a, "options"_a = py::none(), "progress"_a = py::none(),
      "Minimises S over SPD order parameters (theory.md section 3) from U_GP (or\n"
      "options.initial_U). Returns (Solution, SolveSummary); non-convergence is reported in\n"
      "the summary, not raised. progress (or options.progress) is called with a\n"
      "SolveProgress after every iteration. Runs without the GIL; Ctrl-C or an exception\n"
      "raised by the callback stops the solve and is re-raised.");
  py::class_<ObjectiveSolution>(m, "ObjectiveSolution",
                                "The minimiser of an objective of one's own: its blocks and S.")
      .def_property_readonly(
          "U", [](const ObjectiveSolution& s) { return MatrixList(s.U); }, "[U_1, ..., U_k].")
      .def_property_readonly(
          "S", [](const ObjectiveSolution& s) { return s.value.S; }, "S at U.")
      .def(
          "__repr__",
          [](const ObjectiveSolution& s) {
            return "ObjectiveSolution(S=" + Number(s.value.S) +
                   ", blocks=" + std::to_string(s.U.size()) + ")";
          },
          "S and the number of blocks.");
  m.def(
      "solve_objective",
      [](py::object evaluate, const std::vector<Eigen::MatrixXd>& initial_point, py::object hessian,
         double normalization, const std::optional<SolveOptions>& options, py::object progress) {
        Require(PyCallable_Check(evaluate.ptr()) != 0, "evaluate", Describe(evaluate),
                "a callable evaluate(U) -> (S, [dS/dU_b])");
        Require(hessian.is_none() || PyCallable_Check(hessian.ptr()) != 0, "hessian",
                Describe(hessian), "a callable hessian(U) -> array, or None");
        Require(!initial_point.empty(), "initial_point", "an empty list",
                "at least one symmetric positive definite block");
        Require(std::isfinite(normalization) && normalization > 0, "normalization", normalization,
                "a finite value > 0");
        SolveOptions o = options.value_or(SolveOptions{});
        const py::object callback = ProgressCallback(progress, o.progress);
        CallGuard guard;
        o.progress = guard.Wrap<SolveProgress>(callback);
        const PythonObjective objective(evaluate, initial_point, hessian, normalization, &guard);
        SolveSummary summary;
        ObjectiveSolution sol = guard.Run([&] { return Solve(objective, o, &summary); });
        return py::make_tuple(std::move(sol), std::move(summary));
      },
      "evaluate"_a, "initial_point"_a, "hessian"_a = py::none(), "normalization"_a = 1.0,
      "options"_a = py::none(), "progress"_a = py::none(),
      "Minimises an objective of one's own over lists of symmetric positive definite blocks\n"
      "with the solver of the path theory (solver/objective.h): evaluate(U) returns\n"
      "(S, [dS/dU_b]) for U = [U_1, ..., U_k] (every entry independent), or None where S is\n"
      "undefined; hessian(U), optional, returns the Hessian of S / normalization in the\n"
      "independent entries (i <= j, column by column, block after block) — without it Newton\n"
      "steps and the stability check use central differences of the gradient. The solve starts\n"
      "at initial_point (or options.initial_U) and tests max |d(S/normalization)/dU| against\n"
      "options.gradient_tolerance. Returns (ObjectiveSolution, SolveSummary); an exception\n"
      "raised by evaluate, hessian or progress stops the solve and is re-raised.");
  m.def(
      "log_progress",
      [](int every, const std::string& logger, int level) {
        py::object log = py::module_::import("logging").attr("getLogger")(logger);
        return py::cpp_function(
            [log, every, level](py::object progress) {
              py::object count = py::getattr(progress, "iteration", py::none());
              if (count.is_none()) count = py::getattr(progress, "step", py::int_(0));
              if (every <= 1 || count.cast<long long>() % every == 0) {
                log.attr("log")(level, py::repr(progress));
              }
            },
            py::arg("progress"),
            "Logs the progress object when its iteration is a multiple of every.");
      },
      "every"_a = 10, "logger"_a = "attnpaths", "level"_a = 20,
      "A progress callback for solve, sample and pruning that logs repr(progress) to the\n"
      "logging.Logger `logger` at `level` (20 = INFO) every `every` iterations (steps):\n"
      "ap.solve(action, progress=ap.log_progress()).");
  m.def("max_abs_entry", &MaxAbsEntry, "grad"_a, "max |entry| over a list of matrices.");

  // ------------------------------------------------------------- Predictor
  py::class_<PredictorStatistics>(m, "PredictorStatistics", R"doc(
Predictor statistics on test inputs (theory.md sections 4, 9): mean f(x*) (P* x D),
variance (P*,) for one output and P* x D for several, covariance (P*, D, D), generalisation
error and accuracy (NaN without test labels). mean is a read-only view.)doc")
      .def_property_readonly(
          "mean",
          [](py::object self) {
            return MatrixView(self.cast<const PredictorStatistics&>().mean, self);
          },
          "Mean predictor k*^T G^-1 y, P* x D.")
      .def_property_readonly(
          "variance",
          [](const PredictorStatistics& s) -> py::object {
            if (s.variance.cols() == 1) return py::cast(Eigen::VectorXd(s.variance.col(0)));
            return py::cast(s.variance);
          },
          "The variance of each output (the diagonal of the covariance; no T added): (P*,) for\n"
          "one output, P* x D for several.")
      .def_property_readonly(
          "covariance",
          [](const PredictorStatistics& s) {
            const Eigen::Index P = s.mean.rows(), D = s.mean.cols();
            py::array_t<double> a({P, D, D});
            auto w = a.mutable_unchecked<3>();
            for (Eigen::Index m = 0; m < P; ++m) {
              for (Eigen::Index d = 0; d < D; ++d) {
                for (Eigen::Index e = 0; e < D; ++e) w(m, d, e) = s.covariance(m, d + D * e);
              }
            }
            return a;
          },
          "Sigma(x*) = K*(x*, x*) - k* G^-1 k*^T for every test point, (P*, D, D) (theory.md 9).")
      .def_readonly("generalization_error", &PredictorStatistics::generalization_error,
                    "<(f - y*)^2 + var f> over test points and outputs (NaN without labels).")
      .def_readonly("accuracy", &PredictorStatistics::accuracy,
                    "Fraction with sign f = y* (D = 1; 0 counts as wrong) or argmax (D > 1).")
      .def(
          "__repr__",
          [](const PredictorStatistics& s) {
            return "PredictorStatistics(P*=" + std::to_string(s.mean.rows()) +
                   ", accuracy=" + Number(s.accuracy) +
                   ", generalization_error=" + Number(s.generalization_error) + ")";
          },
          "Size, accuracy and generalisation error.");

  m.def(
      "predict",
      [](const PathKernel& train, py::object y, double temperature, py::object U1,
         const PathInputs& test, py::object y_test, const std::string& task) {
        const Task t = ParseTask(task, "task");
        const MatrixArg labels(y, "y", Shape::kColumn);
        const Eigen::MatrixXd u = FirstOrderParameter(U1, "U1");
        Eigen::MatrixXd yt;
        if (!y_test.is_none()) yt = MatrixArg(y_test, "y_test", Shape::kColumn).matrix();
        const Eigen::MatrixXd* yt_ptr = y_test.is_none() ? nullptr : &yt;
        CheckLabels(labels.ref(), train.P(), "y");
        CheckLabelConvention(labels.ref(), t, "y", /*training=*/true);
        if (yt_ptr) {
          CheckLabels(yt, test.P(), "y_test");
          const Eigen::MatrixXd reference = labels.matrix();
          CheckLabelConvention(yt, t, "y_test", false, &reference);
        }
        PredictorStatistics st;
        {
          py::gil_scoped_release release;
          st = Predict(train, labels.ref(), temperature, u, test, yt_ptr);
        }
        if (t == Task::kRegression) st.accuracy = std::nan("");
        return st;
      },
      "kernel"_a, "y"_a, "temperature"_a, "U1"_a, "test"_a, "y_test"_a = py::none(),
      "task"_a = "classification",
      "Mean predictor, variance, covariance, generalisation error and accuracy on the test\n"
      "path inputs (theory.md sections 4, 9) with K_U of U1 (an array, (Htot D) x (Htot D),\n"
      "or a Solution / OrderParameters whose U_1 is used). task 'classification' (default)\n"
      "needs labels +1/-1 (D = 1) or one-hot rows (D > 1; docs/config.md, Labels) and reports\n"
      "accuracy (argmax for D > 1); 'regression' takes any real targets and reports accuracy\n"
      "as NaN. Raises attnpaths.Error when shapes disagree, labels break the task's\n"
      "convention or G = K_U + T I is not positive definite. Runs without the GIL.");
  m.def(
      "accuracy",
      [](py::object mean, py::object y) {
        const MatrixArg labels(y, "y_test", Shape::kColumn);
        CheckLabelConvention(labels.ref(), Task::kClassification, "y_test", false);
        return Accuracy(MatrixArg(mean, "mean", Shape::kColumn).ref(), labels.ref());
      },
      "mean"_a, "y"_a,
      "Fraction of test points with sign mean = y (labels +1/-1; mean = 0 counts as wrong) or\n"
      "argmax mean = the hot column of one-hot rows (D > 1; ties go to the lowest column);\n"
      "NaN for no test points. The library's one rule (kernels/metrics.h).");
  m.def(
      "generalization_error",
      [](py::object mean, py::object variance, py::object y) {
        const MatrixArg v(variance, "variance", Shape::kColumn);
        return GeneralizationError(MatrixArg(mean, "mean", Shape::kColumn).ref(), v.ref(),
                                   MatrixArg(y, "y_test", Shape::kColumn).ref());
      },
      "mean"_a, "variance"_a, "y"_a,
      "<(mean - y)^2 + variance> over test points and outputs (variance (P*,) or P* x D);\n"
      "NaN for no test points.");
}

}  // namespace attnpaths::python
