// solver/: head relevance (theory.md §6), pruning and kernel–task alignment (§7).
#include "python/bindings.h"
#include "solver/alignment.h"
#include "solver/head_relevance.h"
#include "solver/pruning.h"
#include "solver/training_gram.h"

namespace attnpaths::python {

namespace {

using namespace pybind11::literals;

std::string Number(double v) { return py::repr(py::float_(v)).cast<std::string>(); }

HeadId ToHeadId(py::handle obj, const std::string& field) {
  if (py::isinstance<HeadId>(obj)) return obj.cast<HeadId>();
  if (py::isinstance<py::tuple>(obj) && py::len(obj) == 2) {
    const auto t = py::reinterpret_borrow<py::tuple>(obj);
    HeadId id;
    id.layer = t[0].cast<int>();
    id.head = t[1].cast<Eigen::Index>();
    return id;
  }
  throw Error(ErrorMessage(field, Describe(obj), "a HeadId or a (layer, head) tuple"));
}

std::vector<HeadId> ToHeadIds(py::handle obj, const std::string& field) {
  std::vector<HeadId> out;
  if (!py::isinstance<py::sequence>(obj)) {
    throw Error(ErrorMessage(field, Describe(obj), "a list of HeadId or (layer, head) tuples"));
  }
  const auto seq = py::reinterpret_borrow<py::sequence>(obj);
  for (size_t k = 0; k < seq.size(); ++k) {
    out.push_back(ToHeadId(seq[k], field + "[" + std::to_string(k) + "]"));
  }
  return out;
}

std::vector<PruningOrder> ToOrders(const std::vector<std::string>& names,
                                   const std::string& field) {
  std::vector<PruningOrder> out;
  for (size_t k = 0; k < names.size(); ++k) {
    out.push_back(ParsePruningOrder(names[k], field + "[" + std::to_string(k) + "]"));
  }
  return out;
}

// Runs a pruning call without the GIL with the progress callback wrapped.
template <typename F>
py::tuple RunPruning(PruningOptions o, py::object progress, F&& call) {
  const py::object callback = ProgressCallback(progress, o.progress);
  CallGuard guard;
  o.progress = guard.Wrap<PruningProgress>(callback);
  o.solve.progress = nullptr;  // the reduced solves report through `progress` only
  PruningSummary summary;
  PruningResult r = guard.Run([&] { return call(o, &summary); });
  return py::make_tuple(std::move(r), std::move(summary));
}

}  // namespace

void BindAnalysis(py::module_& m) {
  // -------------------------------------------------------- head relevance
  py::class_<HeadId>(m, "HeadId",
                     "One head: layer l (1-based, as in theory.md) and head index h within the "
                     "layer (0-based). Functions taking heads also accept (layer, head) tuples.")
      .def(py::init([](int layer, Eigen::Index head) {
             return HeadId{layer, head};
           }),
           "layer"_a = 1, "head"_a = 0, "Head `head` (0-based) of layer `layer` (1-based).")
      .def_readwrite("layer", &HeadId::layer, "Layer, 1-based.")
      .def_readwrite("head", &HeadId::head, "Head within the layer, 0-based.")
      .def(
          "__eq__", [](const HeadId& a, const HeadId& b) { return a == b; }, "Same head.")
      .def(
          "__hash__", [](const HeadId& a) { return py::hash(py::make_tuple(a.layer, a.head)); },
          "Hash of (layer, head).")
      .def(
          "__iter__", [](const HeadId& a) { return py::iter(py::make_tuple(a.layer, a.head)); },
          "Iterates layer, head (so `layer, head = head_id` works).")
      .def(
          "__repr__",
          [](const HeadId& a) {
            return "HeadId(layer=" + std::to_string(a.layer) + ", head=" + std::to_string(a.head) +
                   ")";
          },
          "The fields.");

  py::class_<HeadScore>(m, "HeadScore", "One head's relevance: id, name, raw and normalised score.")
      .def_readonly("id", &HeadScore::id, "The head.")
      .def_readonly("name", &HeadScore::name, "Its name.")
      .def_readonly("raw", &HeadScore::raw, "r_{l,h} = sum of |U_1| over entries through the head.")
      .def_readonly("score", &HeadScore::score, "r_{l,h} / max r, in [0, 1].")
      .def(
          "__repr__",
          [](const HeadScore& h) {
            return "HeadScore(layer=" + std::to_string(h.id.layer) +
                   ", head=" + std::to_string(h.id.head) + ", name='" + h.name +
                   "', score=" + Number(h.score) + ")";
          },
          "Head, name and score.");

  py::class_<HeadRelevance>(m, "HeadRelevance", R"doc(
Head relevance scores from U_1 (theory.md section 6): the raw score of head h in layer l
is the sum of |U_1| over entries whose row or column path passes through h (each entry
once); the score divides by the largest raw score over all heads of all layers.
raw[l-1][h], score[l-1][h], names[l-1][h]; ranking() lists heads most relevant first.)doc")
      .def_readonly("raw", &HeadRelevance::raw, "raw[l-1][h] = r_{l,h}.")
      .def_readonly("score", &HeadRelevance::score, "score[l-1][h] = r_{l,h} / max r.")
      .def_readonly("names", &HeadRelevance::names, "names[l-1][h].")
      .def("ranking", &HeadRelevance::Ranking,
           "Every head as a HeadScore, most relevant first (ties keep (layer, head) order).")
      .def(
          "score_of",
          [](const HeadRelevance& r, py::object head) { return r.Score(ToHeadId(head, "head")); },
          "head"_a, "The score of a head (HeadId or (layer, head)).")
      .def(
          "__repr__",
          [](const HeadRelevance& r) {
            return "HeadRelevance(score=" + py::repr(py::cast(r.score)).cast<std::string>() + ")";
          },
          "The scores.");

  m.def(
      "score_heads",
      [](const Architecture& arch, py::object U1) {
        return ScoreHeads(arch, FirstOrderParameter(U1, "U1"));
      },
      "arch"_a, "U1"_a,
      "Head relevance from U_1 (an array, or a Solution / OrderParameters) with head counts and\n"
      "names from the architecture (theory.md section 6). Raises attnpaths.Error when U_1 is not\n"
      "Htot x Htot, has a non-finite entry or is all zero.");
  m.def(
      "score_heads",
      [](const Paths& paths, py::object U1, std::vector<std::vector<std::string>> names) {
        return ScoreHeads(paths, FirstOrderParameter(U1, "U1"), names);
      },
      "paths"_a, "U1"_a, "names"_a = std::vector<std::vector<std::string>>{},
      "The same for the head counts of `paths`; names[l-1][h] optional (default h1, h2, ...).");
  m.attr("head_scores") = m.attr("score_heads");

  py::class_<PathPair>(m, "PathPair", "One entry of U_1 (upper triangle) with its path labels.")
      .def_readonly("row", &PathPair::row, "Packed path index pi (pi <= pi').")
      .def_readonly("col", &PathPair::col, "Packed path index pi'.")
      .def_readonly("row_output", &PathPair::row_output, "Output index d of the row (0 for D = 1).")
      .def_readonly("col_output", &PathPair::col_output, "Output index d' of the column.")
      .def_readonly("row_label", &PathPair::row_label, "Label of pi ('good>uniform').")
      .def_readonly("col_label", &PathPair::col_label, "Label of pi'.")
      .def_readonly("value", &PathPair::value, "U_pp'.")
      .def_readonly("weight_share", &PathPair::weight_share,
                    "|U_pp'| (twice off the diagonal) over sum |U|.")
      .def(
          "__repr__",
          [](const PathPair& p) {
            return "PathPair('" + p.row_label + "', '" + p.col_label +
                   "', value=" + Number(p.value) + ", weight_share=" + Number(p.weight_share) + ")";
          },
          "Labels, value and share.");
  m.def(
      "path_pair_view",
      [](const Architecture& arch, py::object U1) {
        return PathPairView(arch, FirstOrderParameter(U1, "U1"));
      },
      "arch"_a, "U1"_a,
      "Every entry of the upper triangle (diagonal included) of U_1 with path labels (and\n"
      "output indices for D > 1), largest |U| first.");
  m.def("head_names", &HeadNames, "arch"_a, "Head names of an architecture, names[l-1][h].");
  m.def("path_labels", &PathLabels, "paths"_a, "names"_a,
        "The labels of every path in packing order.");

  // ---------------------------------------------------------------- pruning
  py::class_<PruningProgress>(m, "PruningProgress",
                              "One pruning step, passed to progress callbacks.")
      .def_property_readonly(
          "mode", [](const PruningProgress& p) { return PruningModeName(p.mode); },
          "'silence' or 'resolve'.")
      .def_readonly("curve", &PruningProgress::curve, "Curve index (0-based).")
      .def_readonly("curves", &PruningProgress::curves, "Number of curves.")
      .def_readonly("step", &PruningProgress::step, "Removals done on this curve.")
      .def_readonly("steps", &PruningProgress::steps, "Removals per curve.")
      .def(
          "__repr__",
          [](const PruningProgress& p) {
            return "PruningProgress(mode='" + std::string(PruningModeName(p.mode)) +
                   "', curve=" + std::to_string(p.curve) + "/" + std::to_string(p.curves) +
                   ", step=" + std::to_string(p.step) + "/" + std::to_string(p.steps) + ")";
          },
          "The fields.");

  py::class_<PruningOptions>(m, "PruningOptions", R"doc(
Settings of pruning (solver/pruning.h). PruningOptions(**fields).

  orders          ['increasing', 'random', 'decreasing'] (one curve each; random: repeats)
  random_repeats  random orders drawn (10)
  seed            seed of the random orders (1)
  solve           SolveOptions of the re-solve mode (initial_U is replaced by a warm start)
  kernel          KernelOptions of the re-solve mode
  threads         path-input threads of the re-solve mode (<= 0: every core)
  progress        callable(PruningProgress) after every step, or None)doc")
      .def(py::init(
               [](py::kwargs kw) { return FromKeywords<PruningOptions>(kw, "PruningOptions"); }),
           "PruningOptions(**fields): defaults, then the given fields.")
      .def_property(
          "orders",
          [](const PruningOptions& o) {
            std::vector<std::string> names;
            for (PruningOrder order : o.orders) names.push_back(PruningOrderName(order));
            return names;
          },
          [](PruningOptions& o, const std::vector<std::string>& names) {
            o.orders = ToOrders(names, "PruningOptions.orders");
          },
          "Orders to run: 'increasing', 'random', 'decreasing'.")
      .def_readwrite("random_repeats", &PruningOptions::random_repeats, "Random orders drawn.")
      .def_readwrite("seed", &PruningOptions::seed, "Seed of the random orders.")
      .def_readwrite("solve", &PruningOptions::solve, "SolveOptions of the re-solve mode.")
      .def_readwrite("kernel", &PruningOptions::kernel, "KernelOptions of the re-solve mode.")
      .def_readwrite("threads", &PruningOptions::threads, "Path-input threads (re-solve mode).")
      .def_readwrite("recompute_path_inputs", &PruningOptions::recompute_path_inputs,
                     "Re-solve from raw inputs: recompute each reduced network's path inputs\n"
                     "instead of selecting the full network's (the slower reference route).")
      .def_property(
          "progress", [](const PruningOptions& o) { return GetCallback(o.progress); },
          [](PruningOptions& o, py::object fn) {
            SetCallback(&o.progress, std::move(fn), "PruningOptions.progress");
          },
          "callable(PruningProgress) after every step, or None.")
      .def(
          "is_valid", [](const PruningOptions& o) { return o.IsValid(nullptr); },
          "True when every field is in range.")
      .def(
          "validate",
          [](const PruningOptions& o) {
            std::string e;
            if (!o.IsValid(&e)) throw Error(e);
          },
          "Raises attnpaths.Error naming the first field out of range.");

  py::class_<PruningStep>(m, "PruningStep", "The network after some removals on one curve.")
      .def_readonly("removed", &PruningStep::removed, "Heads removed so far (0: the full network).")
      .def_readonly("head", &PruningStep::head, "The head removed at this step.")
      .def_readonly("name", &PruningStep::name, "Its name ('' when removed = 0).")
      .def_readonly("score", &PruningStep::score, "Its relevance score (NaN when removed = 0).")
      .def_readonly("paths_remaining", &PruningStep::paths_remaining, "Paths left.")
      .def_readonly("accuracy", &PruningStep::accuracy, "Test accuracy.")
      .def_readonly("generalization_error", &PruningStep::generalization_error,
                    "Test generalisation error.")
      .def_readonly("converged", &PruningStep::converged, "Re-solve mode: the solve converged.")
      .def_readonly("termination", &PruningStep::termination, "Re-solve mode: termination name.")
      .def_readonly("iterations", &PruningStep::iterations, "Re-solve mode: solver iterations.")
      .def_readonly("action", &PruningStep::action, "Re-solve mode: S of the reduced network.")
      .def_readonly("gradient_norm", &PruningStep::gradient_norm, "Re-solve mode: final |grad|.")
      .def(
          "__repr__",
          [](const PruningStep& s) {
            return "PruningStep(removed=" + std::to_string(s.removed) + ", name='" + s.name +
                   "', accuracy=" + Number(s.accuracy) + ")";
          },
          "Removals, head and accuracy.");

  py::class_<PruningCurve>(m, "PruningCurve", "Removals in one order and the network after each.")
      .def_property_readonly(
          "order", [](const PruningCurve& c) { return PruningOrderName(c.order); },
          "'increasing', 'random' or 'decreasing'.")
      .def_readonly("repeat", &PruningCurve::repeat, "Index among the random orders.")
      .def_readonly("sequence", &PruningCurve::sequence, "The heads removed, in order.")
      .def_readonly("steps", &PruningCurve::steps, "steps[k]: after k removals.")
      .def_property_readonly(
          "accuracies",
          [](const PruningCurve& c) {
            Eigen::VectorXd a(static_cast<Eigen::Index>(c.steps.size()));
            for (size_t k = 0; k < c.steps.size(); ++k)
              a(static_cast<Eigen::Index>(k)) = c.steps[k].accuracy;
            return a;
          },
          "Test accuracy after 0, 1, ... removals (an array).")
      .def(
          "__repr__",
          [](const PruningCurve& c) {
            return "PruningCurve(order='" + std::string(PruningOrderName(c.order)) +
                   "', repeat=" + std::to_string(c.repeat) +
                   ", steps=" + std::to_string(c.steps.size()) + ")";
          },
          "Order and length.");

  py::class_<PruningResult>(m, "PruningResult",
                            "Pruning curves with the scores that set the orders.")
      .def_property_readonly(
          "mode", [](const PruningResult& r) { return PruningModeName(r.mode); },
          "'silence' (theory.md section 6, the paper's) or 'resolve'.")
      .def_readonly("relevance", &PruningResult::relevance, "Scores of the full network.")
      .def_readonly("curves", &PruningResult::curves, "In the order of options.orders.");

  py::class_<PruningSummary>(m, "PruningSummary", "Counts and time of a pruning run.")
      .def_readonly("curves", &PruningSummary::curves, "Curves run.")
      .def_readonly("steps", &PruningSummary::steps, "Removals evaluated.")
      .def_readonly("solves", &PruningSummary::solves, "Re-solve mode: reduced networks solved.")
      .def_readonly("not_converged", &PruningSummary::not_converged,
                    "Re-solve mode: of those, not converged.")
      .def_readonly("total_seconds", &PruningSummary::total_seconds, "Wall time.")
      .def_readonly("message", &PruningSummary::message, "What was done.")
      .def("brief_report", &PruningSummary::BriefReport, "One line.")
      .def("__repr__", &PruningSummary::BriefReport, "The brief report.");

  m.def(
      "prune_by_silencing",
      [](const Architecture& arch, const PathKernel& train, py::object y, double temperature,
         py::object U1, const PathInputs& test, py::object y_test,
         const std::optional<PruningOptions>& options, py::object progress) {
        const MatrixArg labels(y, "y", Shape::kColumn);
        const MatrixArg test_labels(y_test, "y_test", Shape::kColumn);
        const Eigen::MatrixXd u = FirstOrderParameter(U1, "U1");
        PruningOptions o = options.value_or(PruningOptions{});
        return RunPruning(std::move(o), progress, [&](const PruningOptions& po, PruningSummary* s) {
          return PruneBySilencing(arch, train, labels.ref(), temperature, u, test,
                                  test_labels.ref(), po, s);
        });
      },
      "arch"_a, "kernel"_a, "y"_a, "temperature"_a, "U1"_a, "test"_a, "y_test"_a,
      "options"_a = py::none(), "progress"_a = py::none(),
      "The paper's pruning (theory.md section 6): heads removed in increasing, random and\n"
      "decreasing order of relevance; each removal silences the head (zero rows and columns of\n"
      "U_1 of its paths, nothing re-solved) and the predictor is recomputed. Returns\n"
      "(PruningResult, PruningSummary). Runs without the GIL.");
  m.attr("prune") = m.attr("prune_by_silencing");
  m.def(
      "prune_by_resolving",
      [](const Architecture& arch, const PathKernel& train, py::object y, const PathInputs& test,
         py::object y_test, double temperature, py::object solution,
         const std::optional<PruningOptions>& options, py::object progress) {
        const MatrixArg labels(y, "y", Shape::kColumn);
        const MatrixArg test_labels(y_test, "y_test", Shape::kColumn);
        const OrderParameters op = ToOrderParameters(solution, "solution");
        PruningOptions o = options.value_or(PruningOptions{});
        return RunPruning(std::move(o), progress, [&](const PruningOptions& po, PruningSummary* s) {
          return PruneByResolving(arch, train, labels.ref(), test, test_labels.ref(), temperature,
                                  op, po, s);
        });
      },
      "arch"_a, "kernel"_a, "y"_a, "test"_a, "y_test"_a, "temperature"_a, "solution"_a,
      "options"_a = py::none(), "progress"_a = py::none(),
      "Pruning by re-solving from the full network's path kernel and test path inputs: each\n"
      "reduced network's are the remaining paths' columns (rescaled; attention is not\n"
      "recomputed). Otherwise as the overload with raw inputs below.");
  m.def(
      "prune_by_resolving",
      [](const Architecture& arch, py::object x_train, py::object y, py::object x_test,
         py::object y_test, double temperature, py::object solution,
         const std::optional<PruningOptions>& options, py::object progress) {
        const InputsArg xt(x_train, "x_train");
        const InputsArg xs(x_test, "x_test");
        const MatrixArg labels(y, "y", Shape::kColumn);
        const MatrixArg test_labels(y_test, "y_test", Shape::kColumn);
        const OrderParameters op = ToOrderParameters(solution, "solution");
        PruningOptions o = options.value_or(PruningOptions{});
        return RunPruning(std::move(o), progress, [&](const PruningOptions& po, PruningSummary* s) {
          return PruneByResolving(arch, xt.get(), labels.ref(), xs.get(), test_labels.ref(),
                                  temperature, op, po, s);
        });
      },
      "arch"_a, "x_train"_a, "y"_a, "x_test"_a, "y_test"_a, "temperature"_a, "solution"_a,
      "options"_a = py::none(), "progress"_a = py::none(),
      "Pruning by re-solving the theory for each reduced architecture (a different quantity\n"
      "from silencing), warm-started from the previous solution restricted to the remaining\n"
      "paths. The full network's path inputs are computed once and each reduced network's\n"
      "selected from them. `solution` (Solution or OrderParameters) is the full network's.\n"
      "Returns (PruningResult, PruningSummary). Runs without the GIL.");
  m.def(
      "removal_sequence",
      [](const HeadRelevance& r, const std::string& order, std::uint64_t seed, int repeat) {
        return RemovalSequence(r, ParsePruningOrder(order, "order"), seed, repeat);
      },
      "relevance"_a, "order"_a, "seed"_a = 1, "repeat"_a = 0,
      "The heads removed in `order` ('increasing', 'random', 'decreasing'); the last head of a\n"
      "layer is never removed.");
  m.def(
      "silence_heads",
      [](const Architecture& arch, py::object U1, py::object pruned) {
        return SilenceHeads(Paths(arch.heads_per_layer()), FirstOrderParameter(U1, "U1"),
                            ToHeadIds(pruned, "pruned"));
      },
      "arch"_a, "U1"_a, "pruned"_a,
      "U_1 with every row and column of a path through a pruned head set to zero (theory.md 6).");
  m.def(
      "remove_heads",
      [](const Architecture& arch, py::object pruned) {
        return RemoveHeads(arch, ToHeadIds(pruned, "pruned"));
      },
      "arch"_a, "pruned"_a,
      "The architecture without the pruned heads; raises attnpaths.Error when a layer would be\n"
      "left without heads.");
  m.def(
      "restrict_order_parameters",
      [](const Architecture& arch, py::object op, py::object pruned) {
        return RestrictOrderParameters(arch, ToOrderParameters(op, "order_parameters"),
                                       ToHeadIds(pruned, "pruned"));
      },
      "arch"_a, "order_parameters"_a, "pruned"_a,
      "Every U_l restricted to the rows and columns whose heads all remain (fits remove_heads).");

  // -------------------------------------------------------------- alignment
  py::class_<AlignmentOptions>(m, "AlignmentOptions",
                               "Kernel-task alignment settings: components (30) leading "
                               "components reported. AlignmentOptions(**fields).")
      .def(py::init([](py::kwargs kw) {
             return FromKeywords<AlignmentOptions>(kw, "AlignmentOptions");
           }),
           "AlignmentOptions(**fields): defaults, then the given fields.")
      .def_readwrite("components", &AlignmentOptions::components,
                     "Leading components reported (fewer when P is smaller).")
      .def(
          "is_valid", [](const AlignmentOptions& o) { return o.IsValid(nullptr); },
          "True when every field is in range.");

  py::class_<KernelAlignment>(m, "KernelAlignment", R"doc(
Principal components of a training kernel against the labels (theory.md section 7):
eigenvalues (descending), overlap_k = |v_k . y| / sqrt(P), cumulative_k =
sum_{j<=k} (v_j . y)^2 / |y|^2, the trace and y^T K y / (|K|_F |y|^2).)doc")
      .def_readonly("eigenvalues", &KernelAlignment::eigenvalues, "The leading eigenvalues.")
      .def_readonly("overlap", &KernelAlignment::overlap, "|v_k . y| / sqrt(P).")
      .def_readonly("cumulative", &KernelAlignment::cumulative,
                    "Share of |y|^2 in the k leading components.")
      .def_readonly("trace", &KernelAlignment::trace, "Sum of all eigenvalues.")
      .def_readonly("kernel_target_alignment", &KernelAlignment::kernel_target_alignment,
                    "y^T K y / (|K|_F |y|^2).")
      .def(
          "__repr__",
          [](const KernelAlignment& a) {
            return "KernelAlignment(components=" + std::to_string(a.overlap.size()) +
                   ", kernel_target_alignment=" + Number(a.kernel_target_alignment) + ")";
          },
          "Components and kernel-target alignment.");
  m.def(
      "align_kernel",
      [](py::object K, py::object y, py::object options) {
        AlignmentOptions o;
        if (py::isinstance<py::int_>(options)) {
          o.components = options.cast<int>();
        } else if (py::isinstance<AlignmentOptions>(options)) {
          o = options.cast<AlignmentOptions>();
        } else if (!options.is_none()) {
          throw py::type_error(
              "align_kernel: options must be an AlignmentOptions, an int or None, "
              "not " +
              Describe(options));
        }
        const MatrixArg k(K, "K", Shape::kMatrix);
        const MatrixArg labels(y, "y", Shape::kColumn);
        py::gil_scoped_release release;
        return AlignKernel(k.ref(), labels.ref(), o);
      },
      "K"_a, "y"_a, "options"_a = py::none(),
      "Eigen-decomposes the symmetric training kernel K (PD x PD, no T added; see\n"
      "output_kernel) and projects the labels vec(y) (y: P or P x D) on its components\n"
      "(theory.md sections 7, 9). options: AlignmentOptions or the number of components\n"
      "(default 30).");
  m.def(
      "output_kernel",
      [](const PathKernel& kernel, py::object U1) {
        const Eigen::MatrixXd u = FirstOrderParameter(U1, "U1");
        py::gil_scoped_release release;
        return OutputKernel(kernel, u);
      },
      "kernel"_a, "U1"_a,
      "The training kernel K[(mu,d),(nu,d')] = sum U_1[(pi,d),(pi',d')] C_pp'(x^mu, x^nu)\n"
      "(PD x PD, mu outer, no T; theory.md section 9) for U1 of shape (Htot D) x (Htot D), or\n"
      "a Solution / OrderParameters: the matrix align_kernel decomposes (P x P for D = 1).");
  m.attr("align") = m.attr("align_kernel");
}

}  // namespace attnpaths::python
