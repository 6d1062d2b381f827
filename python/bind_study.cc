// study/: one call on a whole study — solve(study), predict_fn(study), sweep(study) —
// through the same library functions the command line calls (study/solve_study.h,
// study/study_predictor.h, study/solution_reader.h, study/sweep.h), writing the
// same files when given an output folder.
#include <algorithm>
#include <filesystem>
#include <limits>

#include "data/provenance.h"
#include "data/result_folder.h"
#include "python/bindings.h"
#include "sampler/sample.h"
#include "study/align_study.h"
#include "study/analysed_solution.h"
#include "study/analysis_document.h"
#include "study/compare_study.h"
#include "study/comparison.h"
#include "study/gp_study.h"
#include "study/head_report.h"
#include "study/prune_study.h"
#include "study/result_row.h"
#include "study/run_record.h"
#include "study/sample_files.h"
#include "study/sample_study.h"
#include "study/settings.h"
#include "study/solution_files.h"
#include "study/solution_reader.h"
#include "study/solve_study.h"
#include "study/solved_for.h"
#include "study/study_examples.h"
#include "study/study_predictor.h"
#include "study/sweep.h"

namespace attnpaths::python {

namespace {

using namespace pybind11::literals;

// A Study passed through (copied), or the path of a TOML study file loaded.
Study StudyArg(py::handle obj, const std::string& field) {
  if (py::isinstance<Study>(obj)) return obj.cast<Study>();
  if (py::isinstance<py::str>(obj) || py::hasattr(obj, "__fspath__")) {
    const std::string path = py::str(py::module_::import("os").attr("fspath")(obj));
    py::gil_scoped_release release;
    return LoadStudy(path);
  }
  throw Error(ErrorMessage(field, Describe(obj), "an attnpaths.Study or the path of a TOML study"));
}

// The provenance of files written from Python: the call and the study file.
Provenance PythonProvenance(const std::string& call, const Study& study) {
  Provenance run({"python", "attnpaths." + call});
  if (std::filesystem::is_regular_file(study.config_path)) run.SetConfig(study.config_path);
  return run;
}

py::object JsonToPython(const nlohmann::json& j) {
  return py::module_::import("json").attr("loads")(j.dump());
}

// The one temperature of a call: `temperature`, else the study's only one.
double OneTemperature(const Study& study, const std::optional<double>& temperature,
                      const std::string& call) {
  if (temperature) return *temperature;
  Require(study.temperatures.size() == 1, "temperature",
          std::to_string(study.temperatures.size()) + " temperatures in " + study.config_path,
          "one temperature for " + call + " (pass temperature=, or use sweep for several)");
  return study.temperatures.front();
}

// The path a `solution` argument names (a str or os.PathLike); Error naming
// "solution" for anything else.
std::string SolutionPath(py::handle solution) {
  if (!py::isinstance<py::str>(solution) && !py::hasattr(solution, "__fspath__")) {
    throw Error(ErrorMessage("solution", Describe(solution),
                             "None (solve), a StudySolution, or the path of a folder written by "
                             "solve/gp, a summary.json or a sweep point file"));
  }
  return py::str(py::module_::import("os").attr("fspath")(solution));
}

// A UserWarning for a loaded file that lacks the records readers check.
void WarnIfUnchecked(const std::string& unchecked) {
  if (unchecked.empty()) return;
  if (PyErr_WarnEx(PyExc_UserWarning, UncheckedWarning(unchecked).c_str(), 1) < 0) {
    throw py::error_already_set();
  }
}

// solve(study): the library's StudySolution, the study it was solved for, the
// predictor sharing its training kernel, and the summary.json written (if any).
struct PyStudySolution {
  Study study;
  StudySolution s;
  std::shared_ptr<StudyPredictor> predictor;
  std::string output;
};

PredictorStatistics CallPredictor(const StudyPredictor& p, py::object x, py::object y) {
  if (x.is_none()) {
    Require(y.is_none(), "y", "labels without x", "x as well (the inputs the labels belong to)");
    py::gil_scoped_release release;
    return p.Test();
  }
  const InputsArg inputs(x, "x");
  Eigen::MatrixXd labels;
  if (!y.is_none()) labels = MatrixArg(y, "y", Shape::kColumn).matrix();
  py::gil_scoped_release release;
  return p(inputs.get(), y.is_none() ? nullptr : &labels, "x", "y");
}

// The sweep's rows as NumPy columns (null → NaN) and stacked U_1 / U_a.
py::dict SweepArrays(const SweepResult& r) {
  const auto n = static_cast<py::ssize_t>(r.points.size());
  const auto number = [](const nlohmann::json& v) {
    return v.is_number() ? v.get<double>() : std::numeric_limits<double>::quiet_NaN();
  };
  py::dict d;
  for (const char* key : {"N", "temperature", "action", "iterations", "gradient_norm",
                          "test_accuracy", "generalization_error"}) {
    py::array_t<double> column(n);
    auto w = column.mutable_unchecked<1>();
    for (py::ssize_t i = 0; i < n; ++i) w(i) = number(r.points[static_cast<size_t>(i)][key]);
    d[key] = column;
  }
  py::array_t<bool> converged(n);
  auto c = converged.mutable_unchecked<1>();
  for (py::ssize_t i = 0; i < n; ++i) {
    c(i) = r.points[static_cast<size_t>(i)].value("converged", false);
  }
  d["converged"] = converged;
  std::vector<Eigen::MatrixXd> U1, U_a;
  for (const nlohmann::json& row : r.points) {
    U1.push_back(ReadoutFromJson(row["U"][0]));  // a square matrix of numbers
    U_a.push_back(ReadoutFromJson(row["U_a"]));
  }
  d["U1"] = n > 0 ? py::object(FromMatrixStack(U1)) : py::object(py::array_t<double>(0));
  if (n > 0 && U_a.front().size() == 1) {
    py::array_t<double> a(n);
    auto w = a.mutable_unchecked<1>();
    for (py::ssize_t i = 0; i < n; ++i) w(i) = U_a[static_cast<size_t>(i)](0, 0);
    d["U_a"] = a;
  } else {
    d["U_a"] = n > 0 ? py::object(FromMatrixStack(U_a)) : py::object(py::array_t<double>(0));
  }
  return d;
}

// The solution heads/prune/align analyse: a StudySolution of solve(study), the
// path of a folder or file solve/gp/sweep wrote (a file without the records
// readers check warns), or None: solved here at the study's one temperature
// (and `width`) with its [solver] table. Call with the GIL held.
AnalysedSolution AnalysisSolution(const Study& study, py::object solution,
                                  std::optional<double> width, int threads, const std::string& call,
                                  CallGuard& guard) {
  if (!solution.is_none() && width) {
    throw Error(ErrorMessage("width", ExactNumber(*width),
                             "None with a solution (the solution fixes the widths)"));
  }
  if (py::isinstance<PyStudySolution>(solution)) {
    const PyStudySolution& sol = solution.cast<const PyStudySolution&>();
    AnalysedSolution s;
    s.study = sol.study;
    s.temperature = sol.s.temperature;
    const auto& w = s.study.architecture.widths;
    if (std::all_of(w.begin(), w.end(), [&](double x) { return x == w.front(); })) {
      s.N = w.front();
    }
    s.order_parameters = sol.s.solution.order_parameters;
    s.converged = sol.s.summary.converged();
    s.source = "solved";
    return s;
  }
  if (solution.is_none()) {
    SolveOptions options = ReadStudySettings(study).solve;
    options.progress = nullptr;
    return guard.Run([&] { return SolveForAnalysis(study, width, options, threads, call); });
  }
  AnalysedSolution s = LoadForAnalysis(study, SolutionPath(solution), "solution");
  WarnIfUnchecked(s.unchecked);
  return s;
}

// The document of an analysis as a dict; with `output`, written there first
// (CommitAnalysis: the JSON then lists the CSV's fingerprint).
py::object AnalysisResult(AnalysisDocument doc, std::unique_ptr<ResultFolder>& folder,
                          const std::string& json_name, const std::string& csv_name, int indent) {
  if (!folder) return JsonToPython(doc.json);
  return JsonToPython(CommitAnalysis(*folder, std::move(doc), json_name, csv_name, indent));
}

std::unique_ptr<ResultFolder> OutputFolder(py::object output, std::vector<std::string> files) {
  if (output.is_none()) return nullptr;
  return std::make_unique<ResultFolder>(StringArg(output, "output"), std::move(files), "output");
}

}  // namespace

void BindStudy(py::module_& m) {
  // ---------------------------------------------------------- solve(study)
  py::class_<StudyPredictor, std::shared_ptr<StudyPredictor>>(m, "StudyPredictor", R"doc(
A solution of a study applied to any test inputs (theory.md sections 4, 9): the finite-width
theory's predict_fn. Call it with x (an Inputs or a (P*, n_tok, N0) array with the training
set's n_tok and N0) and optionally y (P* x D labels, the study's task) for a
PredictorStatistics; with no arguments it predicts the study's own test set. Made by
predict_fn(study, solution) or StudySolution.predictor.)doc")
      .def(
          "__call__",
          [](const StudyPredictor& p, py::object x, py::object y) {
            return CallPredictor(p, std::move(x), std::move(y));
          },
          "x"_a = py::none(), "y"_a = py::none(),
          "Mean, variance, covariance, accuracy and generalisation error on x (default: the\n"
          "study's test set and labels). Raises attnpaths.Error naming x or y when a shape or a\n"
          "label disagrees with the study.")
      .def_property_readonly("temperature", &StudyPredictor::temperature,
                             "The temperature of the solution.")
      .def_property_readonly(
          "U1", [](const StudyPredictor& p) { return p.U1(); },
          "U_1 of the solution, (Htot D) x (Htot D) (a copy).")
      .def_property_readonly(
          "study", [](const StudyPredictor& p) { return p.study(); },
          "The study at the solution's widths (a copy).")
      .def(
          "__repr__",
          [](const StudyPredictor& p) {
            return "StudyPredictor(name='" + p.study().name +
                   "', T=" + py::repr(py::float_(p.temperature())).cast<std::string>() + ")";
          },
          "The study and the temperature.");

  py::class_<PyStudySolution>(m, "StudySolution", R"doc(
What solve(study) returns: the saddle point of the study at its widths and temperature
(solution, summary), the predictor on its test set (test) and a predictor for any other
inputs (predict, predictor). output is the folder written ('' when none was asked for).)doc")
      .def_property_readonly(
          "solution", [](const PyStudySolution& s) { return s.s.solution; },
          "The Solution (order parameters U, U_a, action, converged).")
      .def_property_readonly(
          "summary", [](const PyStudySolution& s) { return s.s.summary; },
          "The SolveSummary (termination, iterations, gradient norm, times).")
      .def_property_readonly(
          "test", [](const PyStudySolution& s) { return s.s.test; },
          "PredictorStatistics on the study's test set (accuracy NaN without labels or for\n"
          "regression).")
      .def_property_readonly(
          "temperature", [](const PyStudySolution& s) { return s.s.temperature; },
          "The temperature solved at.")
      .def_property_readonly(
          "converged", [](const PyStudySolution& s) { return s.s.summary.converged(); },
          "True when the gradient test of theory.md section 8 held.")
      .def_property_readonly(
          "study", [](const PyStudySolution& s) { return s.study; }, "The study solved (a copy).")
      .def_readonly("output", &PyStudySolution::output,
                    "The folder written by solve(..., output=), else ''.")
      .def_readonly("predictor", &PyStudySolution::predictor,
                    "The StudyPredictor of this solution (shares its training kernel).")
      .def(
          "predict",
          [](const PyStudySolution& s, py::object x, py::object y) {
            return CallPredictor(*s.predictor, std::move(x), std::move(y));
          },
          "x"_a = py::none(), "y"_a = py::none(),
          "The predictor on new inputs x (and labels y), as StudyPredictor.__call__.")
      .def(
          "__repr__",
          [](const PyStudySolution& s) {
            return "StudySolution(name='" + s.study.name + "', " + s.s.summary.BriefReport() + ")";
          },
          "The study and the solve's brief report.");

  const auto solve_study = [](Study study, std::optional<double> temperature,
                              const std::optional<SolveOptions>& options, int threads,
                              py::object output, py::object progress) {
    auto r = std::make_unique<PyStudySolution>();
    r->study = std::move(study);
    const double T = OneTemperature(r->study, temperature, "solve");
    SolveOptions o = options ? *options : ReadStudySettings(r->study).solve;
    const py::object callback = ProgressCallback(progress, o.progress);
    std::unique_ptr<ResultFolder> folder;
    if (!output.is_none()) {
      r->output = StringArg(output, "output");
      folder = std::make_unique<ResultFolder>(r->output, SolutionFiles(), "output");
    }
    CallGuard guard;
    o.progress = guard.Wrap<SolveProgress>(callback);
    r->s = guard.Run([&] { return SolveStudy(r->study, T, o, threads); });
    r->s.options.progress = nullptr;  // the guard's callback dies with the guard
    if (folder) {
      Provenance run = PythonProvenance("solve", r->study);
      RecordStudy(r->study, threads, &run);
      run.Set("solver", SolverSettings(o));
      WriteStudySolution(*folder, r->study, r->s, run.Json());
    }
    std::shared_ptr<const PathKernel> train(std::move(r->s.kernels.train));
    r->predictor = std::make_shared<StudyPredictor>(
        r->study, T, r->s.solution.order_parameters.U[0], threads, train);
    return r;
  };
  const char* solve_doc =
      "One call on a study (an attnpaths.Study, or the path of a TOML file): its path inputs,\n"
      "the saddle point at its widths and temperature (default: its one temperature) with\n"
      "options (default: its [solver] table, as `attnpaths solve`), and the predictor on its\n"
      "test set. Returns a StudySolution. With output=DIR writes the folder `attnpaths solve\n"
      "-o DIR` writes (summary.json, U_<l>.npy, U_a.npy, test_*.npy), the same numbers to the\n"
      "last digit. Non-convergence is reported in .summary/.converged, not raised.";
  m.def("solve", solve_study, "study"_a, py::kw_only(), "temperature"_a = py::none(),
        "options"_a = py::none(), "threads"_a = 0, "output"_a = py::none(),
        "progress"_a = py::none(), solve_doc);
  m.def(
      "solve",
      [solve_study](const std::string& config, std::optional<double> temperature,
                    const std::optional<SolveOptions>& options, int threads, py::object output,
                    py::object progress) {
        Study study;
        {
          py::gil_scoped_release release;
          // As `attnpaths solve`: a generated set the feature form streams is not held.
          study = LoadStudy(config, StudyLoading::kDeferGenerated);
          ResolveStudyData(&study, options ? std::optional<GramStorage>(options->storage)
                                           : std::optional<GramStorage>());
        }
        return solve_study(std::move(study), temperature, options, threads, std::move(output),
                           std::move(progress));
      },
      "config"_a, py::kw_only(), "temperature"_a = py::none(), "options"_a = py::none(),
      "threads"_a = 0, "output"_a = py::none(), "progress"_a = py::none(),
      "The same for the path of a TOML study file (a generated set whose storage of G\n"
      "resolves to features is streamed in blocks, as by `attnpaths solve`).");

  m.def(
      "predict_fn",
      [](py::object study_arg, py::object solution, int threads) {
        if (py::isinstance<PyStudySolution>(solution)) {
          return solution.cast<const PyStudySolution&>().predictor;
        }
        Study study = StudyArg(study_arg, "study");
        if (solution.is_none()) {
          const double T = OneTemperature(study, std::nullopt, "predict_fn");
          const SolveOptions o = ReadStudySettings(study).solve;
          StudySolution s;
          {
            py::gil_scoped_release release;
            s = SolveStudy(study, T, o, threads);
          }
          std::shared_ptr<const PathKernel> train(std::move(s.kernels.train));
          return std::make_shared<StudyPredictor>(std::move(study), T,
                                                  s.solution.order_parameters.U[0], threads, train);
        }
        LoadedSolution loaded = LoadSolution(study, SolutionPath(solution), "solution");
        WarnIfUnchecked(loaded.unchecked);
        py::gil_scoped_release release;
        return std::make_shared<StudyPredictor>(std::move(loaded.study), loaded.temperature,
                                                loaded.order_parameters.U[0], threads);
      },
      "study"_a, "solution"_a = py::none(), py::kw_only(), "threads"_a = 0,
      "A StudyPredictor for a study (a Study or a TOML path): from `solution` — a folder written\n"
      "by solve/gp, its summary.json or a sweep point file (read with the checks of\n"
      "`attnpaths predict`: solved_for, files, shapes; a file without those records warns), or\n"
      "a StudySolution — or, for None, from solving the study at its one temperature. Call it\n"
      "with test inputs (and labels) for PredictorStatistics.");

  // ---------------------------------------------------------------- sweep
  py::class_<SweepProgress>(m, "SweepProgress",
                            "Progress of a sweep: points done (solved or loaded) of total.")
      .def_readonly("computing_path_inputs", &SweepProgress::computing_path_inputs,
                    "True once, before any point.")
      .def_readonly("done", &SweepProgress::done, "Points finished.")
      .def_readonly("solved", &SweepProgress::solved, "Of those, solved in this run.")
      .def_readonly("total", &SweepProgress::total, "Widths x temperatures.")
      .def_readonly("point_solved", &SweepProgress::point_solved,
                    "The point just finished was solved (not loaded).")
      .def_readonly("elapsed_seconds", &SweepProgress::elapsed_seconds, "Since the start.")
      .def(
          "__repr__",
          [](const SweepProgress& p) {
            return "SweepProgress(done=" + std::to_string(p.done) + "/" + std::to_string(p.total) +
                   ", solved=" + std::to_string(p.solved) + ")";
          },
          "Points done of total.");

  py::class_<SweepSummary>(m, "SweepSummary", "Counts and time of a sweep.")
      .def_readonly("output", &SweepSummary::output, "The folder written.")
      .def_readonly("points", &SweepSummary::points, "Widths x temperatures.")
      .def_readonly("solved", &SweepSummary::solved, "Points solved in this run.")
      .def_readonly("loaded", &SweepSummary::loaded, "Points loaded from an earlier run.")
      .def_readonly("all_converged", &SweepSummary::all_converged,
                    "Every point passed the gradient test.")
      .def_readonly("total_seconds", &SweepSummary::total_seconds, "Wall time.")
      .def("brief_report", &SweepSummary::BriefReport, "One line.")
      .def("full_report", &SweepSummary::FullReport, "Every figure.")
      .def("__repr__", &SweepSummary::BriefReport, "The brief report.");

  py::class_<SweepResult>(m, "SweepResult", R"doc(
The table of a sweep, as the folder holds it: points (a list of dicts, the rows of
sweep.json in the order widths x temperatures were given: N, temperature, widths, action,
iterations, gradient_norm, test_accuracy, generalization_error, U, U_a, converged, ...),
json (the whole sweep.json) and csv (the text of sweep.csv).)doc")
      .def_property_readonly(
          "points", [](const SweepResult& r) { return JsonToPython(r.points); },
          "The rows (a new list of dicts each time).")
      .def("arrays", &SweepArrays,
           "The table as NumPy arrays, one entry per point in the order of points: N,\n"
           "temperature, action, iterations, gradient_norm, test_accuracy,\n"
           "generalization_error (NaN where null), converged (bool), U1 (points, Htot D, Htot D)\n"
           "and U_a ((points,) for one output, (points, D, D) for several).")
      .def_property_readonly(
          "json", [](const SweepResult& r) { return JsonToPython(r.json); },
          "sweep.json as a dict: provenance and points.")
      .def_readonly("csv", &SweepResult::csv, "sweep.csv's text.")
      .def(
          "__repr__",
          [](const SweepResult& r) {
            return "SweepResult(points=" + std::to_string(r.points.size()) + ")";
          },
          "The number of points.");

  m.def(
      "sweep",
      [](py::object study_arg, const std::optional<std::vector<double>>& widths,
         const std::optional<std::vector<double>>& temperatures, py::object output, int threads,
         py::object progress) {
        const Study study = StudyArg(study_arg, "study");
        SweepOptions o;
        if (widths) o.widths = *widths;
        if (temperatures) o.temperatures = *temperatures;
        if (!output.is_none()) o.output = StringArg(output, "output");
        o.threads = threads;
        o.provenance = PythonProvenance("sweep", study);
        if (!progress.is_none() && !PyCallable_Check(progress.ptr())) {
          throw Error(ErrorMessage("progress", Describe(progress), "a callable or None"));
        }
        CallGuard guard;
        o.progress = guard.Wrap<SweepProgress>(progress);
        SweepSummary summary;
        SweepResult r = guard.Run([&] { return Sweep(study, o, &summary); });
        return py::make_tuple(std::move(r), std::move(summary));
      },
      "study"_a, py::kw_only(), "widths"_a = py::none(), "temperatures"_a = py::none(),
      "output"_a = py::none(), "threads"_a = 0, "progress"_a = py::none(),
      "`attnpaths sweep` in one call: the theory on a grid of widths (default: the study's\n"
      "[sweep] widths) x temperatures (default: the study's), continued in N per temperature,\n"
      "parallel over temperatures, written to output (default: the study's [output]\n"
      "directory) exactly as the command writes it and resumed from the points a run there\n"
      "left. study is a Study loaded from a file (its text is fingerprinted) or a TOML path.\n"
      "Returns (SweepResult, SweepSummary); progress is called with a SweepProgress after\n"
      "every point. Raises attnpaths.Error naming the argument or file on bad input.");
  // -------------------------------------------------------------- compare
  py::class_<ComparisonRow>(m, "ComparisonRow",
                            "One quantity: theory, sampled mean, its s.e. and z = diff / s.e.")
      .def_readonly("quantity", &ComparisonRow::quantity, "'test_accuracy', 'U[0,1] a | b', ...")
      .def_readonly("theory", &ComparisonRow::theory, "The theory's value.")
      .def_readonly("sampled", &ComparisonRow::sampled, "The sampled estimate.")
      .def_readonly("se", &ComparisonRow::se, "Its Monte-Carlo standard error.")
      .def_property_readonly("z", &ComparisonRow::z, "(sampled - theory) / se (NaN for se = 0).")
      .def(
          "__repr__",
          [](const ComparisonRow& r) {
            return "ComparisonRow('" + r.quantity +
                   "', theory=" + py::repr(py::float_(r.theory)).cast<std::string>() +
                   ", sampled=" + py::repr(py::float_(r.sampled)).cast<std::string>() +
                   ", se=" + py::repr(py::float_(r.se)).cast<std::string>() + ")";
          },
          "The quantity and its numbers.");

  py::class_<Comparison>(m, "Comparison", R"doc(
The theory beside samples of the finite network (`attnpaths compare`): rows (accuracy,
generalisation error, test-averaged variance and covariances, every U_1 entry) and
test_points (f_mean and f_variance per test point), each a ComparisonRow; mean_abs_z,
within3 and counted over the test means. table() is what the command prints, csv() the
rows of compare.csv.)doc")
      .def_readonly("rows", &Comparison::rows, "The summary rows.")
      .def_readonly("test_points", &Comparison::test_points, "Per test point and output.")
      .def_readonly("mean_abs_z", &Comparison::mean_abs_z, "Average |z| of the test means.")
      .def_readonly("within3", &Comparison::within3, "Test means within 3 s.e.")
      .def_readonly("counted", &Comparison::counted, "Test means with a finite z.")
      .def("table", &Comparison::Table, "The printed table.")
      .def("csv", &Comparison::Csv, "compare.csv without its provenance line.")
      .def(
          "__repr__",
          [](const Comparison& c) {
            return "Comparison(rows=" + std::to_string(c.rows.size()) +
                   ", test_points=" + std::to_string(c.test_points.size()) + ")";
          },
          "The row counts.");

  m.def(
      "compare",
      [](const PyStudySolution& theory, const SampleResult& result, const SampleSummary& summary) {
        Require(result.predictor.mean.rows() == theory.s.test.mean.rows() &&
                    result.predictor.mean.cols() == theory.s.test.mean.cols(),
                "result", "a sample of another test set",
                "samples on the study's test set (" + std::to_string(theory.s.test.mean.rows()) +
                    " points)");
        return CompareTheoryAndSamples(theory.study, theory.s.test,
                                       theory.s.solution.order_parameters.U[0], result, summary);
      },
      "theory"_a, "result"_a, "summary"_a,
      "`attnpaths compare` on results at hand: the StudySolution of solve(study) beside\n"
      "sample(...)'s (SampleResult, SampleSummary) on the same study's test set. Returns a\n"
      "Comparison (empty when the sampler did not complete).");
  m.def(
      "compare",
      [](Study study, std::optional<double> temperature,
         const std::optional<SolveOptions>& solve_options,
         const std::optional<SampleOptions>& sample_options, int threads, py::object output) {
        const double T = OneTemperature(study, temperature, "compare");
        const StudySettings settings = ReadStudySettings(study);
        SolveOptions so = solve_options ? *solve_options : settings.solve;
        SampleOptions sa = sample_options ? *sample_options : settings.sample;
        std::unique_ptr<ResultFolder> folder;
        std::string out;
        if (!output.is_none()) {
          out = StringArg(output, "output");
          folder = std::make_unique<ResultFolder>(out, ComparisonFiles(), "output");
        }
        CallGuard guard;
        so.progress = guard.Wrap<SolveProgress>(GetCallback(so.progress));
        sa.chains.progress = guard.Wrap<ChainProgress>(GetCallback(sa.chains.progress));
        CompareStudyResult r = guard.Run([&] { return CompareStudy(study, T, so, sa, threads); });
        r.theory.options.progress = nullptr;  // the guard's callbacks die with the guard
        r.sample_options.chains.progress = nullptr;
        if (folder) {
          Provenance run = PythonProvenance("compare", study);
          RecordStudy(study, threads, &run);
          WriteComparison(*folder, study, r, run);
        }
        auto theory = std::make_unique<PyStudySolution>();
        theory->study = study;
        theory->output = out;
        theory->s = std::move(r.theory);
        std::shared_ptr<const PathKernel> train(std::move(theory->s.kernels.train));
        theory->predictor = std::make_shared<StudyPredictor>(
            study, T, theory->s.solution.order_parameters.U[0], threads, train);
        return py::make_tuple(std::move(r.comparison), std::move(theory), std::move(r.samples),
                              std::move(r.sample_summary));
      },
      "study"_a, py::kw_only(), "temperature"_a = py::none(), "solve_options"_a = py::none(),
      "sample_options"_a = py::none(), "threads"_a = 0, "output"_a = py::none(),
      "`attnpaths compare` in one call on a Study: the theory solved (solve_options, default\n"
      "its [solver] table) and the finite network sampled (sample_options, default its\n"
      "[sampler] table; their progress callbacks are called) at its width and temperature on\n"
      "the same path inputs. Returns (Comparison, StudySolution, SampleResult, SampleSummary);\n"
      "with output=DIR writes the command's folder (compare.json, compare.csv, summary.json,\n"
      "U_*.npy, test_*.npy, sample_summary.json, draws.h5, ...).");
  m.def(
      "sample",
      [](Study study, std::optional<double> temperature,
         const std::optional<SampleOptions>& options, int threads, py::object output,
         py::object progress) {
        const double T = OneTemperature(study, temperature, "sample");
        SampleOptions o = options ? *options : ReadStudySettings(study).sample;
        const py::object callback = ProgressCallback(progress, o.chains.progress);
        std::unique_ptr<ResultFolder> folder;
        if (!output.is_none()) {
          folder =
              std::make_unique<ResultFolder>(StringArg(output, "output"), SampleFiles(), "output");
        }
        CallGuard guard;
        o.chains.progress = guard.Wrap<ChainProgress>(callback);
        StudySample s = guard.Run([&] { return SampleStudy(study, T, o, threads); });
        s.options.chains.progress = nullptr;  // the guard's callback dies with the guard
        if (folder) {
          Provenance run = PythonProvenance("sample", study);
          RecordStudy(study, threads, &run);
          WriteStudySample(*folder, study, s, run);
        }
        return py::make_tuple(std::move(s.result), std::move(s.summary));
      },
      "study"_a, py::kw_only(), "temperature"_a = py::none(), "options"_a = py::none(),
      "threads"_a = 0, "output"_a = py::none(), "progress"_a = py::none(),
      "`attnpaths sample` in one call on a Study: path inputs of its training and test sets\n"
      "and NUTS at its widths and temperature (default: its one temperature) with options\n"
      "(default: its [sampler] table). Returns (SampleResult, SampleSummary); with\n"
      "output=DIR writes the command's folder (draws.h5, sample_summary.json,\n"
      "sampled_test_*.npy, U_sampled*.npy).");

  // ------------------------------------- gp, heads, pruning, alignment (of a study)
  py::class_<GpSolution>(m, "GpSolution", R"doc(
What gp(study) returns: the GP limit of the study (every width infinite, U = U_GP,
theory.md sections 2, 4, 9) and its predictor on the study's test set.)doc")
      .def_readonly("order_parameters", &GpSolution::order_parameters, "U_GP and U_a.")
      .def_readonly("test", &GpSolution::test,
                    "PredictorStatistics on the study's test set (accuracy NaN without labels or "
                    "for regression).")
      .def_readonly("temperature", &GpSolution::temperature, "The temperature.")
      .def_readonly("seconds", &GpSolution::seconds, "Path inputs and prediction.")
      .def(
          "__repr__",
          [](const GpSolution& g) {
            return "GpSolution(T=" + py::repr(py::float_(g.temperature)).cast<std::string>() +
                   ", accuracy=" + py::repr(py::float_(g.test.accuracy)).cast<std::string>() + ")";
          },
          "The temperature and the test accuracy.");
  m.def(
      "gp",
      [](py::object study_arg, std::optional<double> temperature, int threads, py::object output) {
        const Study study = StudyArg(study_arg, "study");
        const double T = OneTemperature(study, temperature, "gp");
        std::unique_ptr<ResultFolder> folder = OutputFolder(output, SolutionFiles());
        CallGuard guard;
        auto g = std::make_unique<GpSolution>(
            guard.Run([&] { return SolveGpLimit(study, T, threads); }));
        if (folder) {
          Provenance run = PythonProvenance("gp", study);
          RecordStudy(study, threads, &run);
          WriteGpSolution(*folder, study, *g, run.Json());
        }
        return g;
      },
      "study"_a, py::kw_only(), "temperature"_a = py::none(), "threads"_a = 0,
      "output"_a = py::none(),
      "`attnpaths gp` in one call: the GP-limit baseline of a study (a Study or a TOML path) at\n"
      "its one temperature (or temperature=). Returns a GpSolution; with output=DIR writes the\n"
      "command's folder (summary.json, U_<l>.npy, U_a.npy, test_*.npy), which predict_fn,\n"
      "heads, pruning and alignment read like a solve's.");

  // Static: pybind11 keeps a pointer to each docstring.
  static const std::string solution_doc =
      "solution: None (solve the study at its one temperature, and width= when given, with\n"
      "its [solver] table), a StudySolution, or the path of a folder written by solve/gp, its\n"
      "summary.json or a sweep point file (checked as `attnpaths predict` does; a file without\n"
      "those records warns). With output=DIR the command's files are written there and the\n"
      "dict also lists them ('files').";
  static const std::string heads_doc =
      (std::string("`attnpaths heads` in one call: head relevance scores of a solution's U_1\n"
                   "(theory.md section 6), their ranking and the path-pair view, as the dict\n"
                   "heads.json holds. ") +
       solution_doc);
  m.def(
      "heads",
      [](py::object study_arg, py::object solution, std::optional<double> width, int threads,
         py::object output) {
        const Study study = StudyArg(study_arg, "study");
        std::unique_ptr<ResultFolder> folder = OutputFolder(output, HeadsFiles());
        CallGuard guard;
        AnalysedSolution s = AnalysisSolution(study, solution, width, threads, "heads", guard);
        const HeadReport r = ReportHeads(s.study.architecture, s.order_parameters.U[0]);
        Provenance run = PythonProvenance("heads", s.study);
        RecordSolution(s, threads, &run);
        return AnalysisResult(HeadsDocument(s, r, run), folder, "heads.json", "heads.csv", 2);
      },
      "study"_a, py::kw_only(), "solution"_a = py::none(), "width"_a = py::none(), "threads"_a = 0,
      "output"_a = py::none(), heads_doc.c_str());
  static const std::string prune_doc =
      (std::string("`attnpaths prune` in one call: heads removed in increasing, random and\n"
                   "decreasing order of relevance, by silencing (the paper's, theory.md section\n"
                   "6) and/or re-solving each reduced network on the full network's path inputs\n"
                   "(mode 'silence', 'resolve' or 'both'), with options (default: the study's\n"
                   "[pruning] table); progress is called with a PruningProgress. Returns the dict\n"
                   "pruning.json holds (modes -> curves -> steps with test accuracy and\n"
                   "generalisation error). ") +
       solution_doc);
  m.def(
      "pruning",
      [](py::object study_arg, py::object solution, std::optional<double> width,
         const std::string& mode, const std::optional<PruningOptions>& options, int threads,
         py::object output, py::object progress) {
        const Study study = StudyArg(study_arg, "study");
        const std::vector<PruningMode> modes = ParsePruningModes(mode, "mode");
        PruningOptions o = options ? *options : ReadStudySettings(study).pruning;
        const py::object callback = ProgressCallback(progress, o.progress);
        Require(study.has_test_labels, study.config_path + ": data.test_y", "nothing",
                "test labels (pruning reports test accuracy and generalisation error)");
        std::unique_ptr<ResultFolder> folder = OutputFolder(output, PruningFiles());
        CallGuard guard;
        AnalysedSolution s = AnalysisSolution(study, solution, width, threads, "pruning", guard);
        o.progress = guard.Wrap<PruningProgress>(callback);
        PruneStudyResult r = guard.Run([&] { return PruneStudy(s, modes, o, threads); });
        r.options.progress = nullptr;  // the guard's callback dies with the guard
        Provenance run = PythonProvenance("pruning", s.study);
        RecordSolution(s, threads, &run);
        return AnalysisResult(PruningDocument(s, r, run), folder, "pruning.json", "pruning.csv", 1);
      },
      "study"_a, py::kw_only(), "solution"_a = py::none(), "width"_a = py::none(),
      "mode"_a = kDefaultPruningModes, "options"_a = py::none(), "threads"_a = 0,
      "output"_a = py::none(), "progress"_a = py::none(), prune_doc.c_str());
  static const std::string align_doc =
      (std::string("`attnpaths align` in one call: the kernel-task alignment (theory.md section\n"
                   "7) of a solution's training kernel and of the GP kernel, `components`\n"
                   "leading components, as the dict alignment.json holds (theory, gp:\n"
                   "eigenvalues, overlap, cumulative, trace, kernel_target_alignment). ") +
       solution_doc);
  m.def(
      "alignment",
      [](py::object study_arg, py::object solution, std::optional<double> width, int components,
         int threads, py::object output) {
        const Study study = StudyArg(study_arg, "study");
        AlignmentOptions options;
        options.components = components;
        std::string why;
        if (!options.IsValid(&why)) throw Error(why);
        std::unique_ptr<ResultFolder> folder = OutputFolder(output, AlignmentFiles());
        CallGuard guard;
        AnalysedSolution s = AnalysisSolution(study, solution, width, threads, "alignment", guard);
        const AlignStudyResult r = guard.Run([&] { return AlignStudy(s, options, threads); });
        Provenance run = PythonProvenance("alignment", s.study);
        RecordSolution(s, threads, &run);
        return AnalysisResult(AlignmentDocument(s, r, run), folder, "alignment.json",
                              "alignment.csv", 1);
      },
      "study"_a, py::kw_only(), "solution"_a = py::none(), "width"_a = py::none(),
      "components"_a = AlignmentOptions().components, "threads"_a = 0, "output"_a = py::none(),
      align_doc.c_str());
}

}  // namespace attnpaths::python
