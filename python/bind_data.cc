// data/: datasets, the hidden-Markov-chain task and its heads, TOML studies.
#include "data/config.h"
#include "data/hmm.h"
#include "python/bindings.h"
#include "solver/solve.h"
#include "study/settings.h"
#include "study/study_examples.h"

namespace attnpaths::python {

namespace {

using namespace pybind11::literals;

const char* HmmVariantName(HmmVariant v) {
  switch (v) {
    case HmmVariant::kFourPaths:
      return "four_paths";
    case HmmVariant::kGoodPath:
      return "good_path";
    case HmmVariant::kGoodAndDenoising:
      return "good_and_denoising";
  }
  return "?";
}

}  // namespace

void BindData(py::module_& m) {
  py::class_<Dataset>(m, "Dataset",
                      "Inputs x (P, n_tok, N0) with labels y (P x D). Dataset(x, y) copies both.")
      .def(py::init([](py::object x, py::object y) {
             Dataset d;
             d.x = ToInputs(x, "x");
             d.y = MatrixArg(y, "y", Shape::kColumn).matrix();
             return d;
           }),
           "x"_a, "y"_a, "A dataset from (P, n_tok, N0) inputs and P (or P x D) labels.")
      .def_readonly("x", &Dataset::x, "The Inputs.")
      .def_property_readonly(
          "y", [](py::object self) { return MatrixView(self.cast<const Dataset&>().y, self); },
          "Labels, P x D (read-only view).")
      .def(
          "__repr__",
          [](const Dataset& d) {
            return "Dataset(P=" + std::to_string(d.x.P()) +
                   ", n_tok=" + std::to_string(d.x.n_tok()) + ", N0=" + std::to_string(d.x.N0()) +
                   ", D=" + std::to_string(d.y.cols()) + ")";
          },
          "The sizes.");

  // ------------------------------------------------------------ HMM task
  py::class_<HmmTaskOptions>(m, "HmmTaskOptions", R"doc(
The hidden-Markov-chain task of the paper (data/hmm.h). HmmTaskOptions(**fields).

  P 100 (the first ceil(P/2) are class +1), chain_tokens 30 (after a BOS token), N_f 200
  (even), stay_plus 0.7, stay_minus 0.3, noise_sum 1, noise_difference 1,
  noise_orthogonal 1, seed 27. N0 = N_f + chain_tokens + 1, n_tok = chain_tokens + 1.)doc")
      .def(py::init(
               [](py::kwargs kw) { return FromKeywords<HmmTaskOptions>(kw, "HmmTaskOptions"); }),
           "HmmTaskOptions(**fields): defaults, then the given fields.")
      .def_readwrite("P", &HmmTaskOptions::P, "Examples; the first ceil(P/2) are class +1.")
      .def_readwrite("chain_tokens", &HmmTaskOptions::chain_tokens, "Chain tokens after the BOS.")
      .def_readwrite("N_f", &HmmTaskOptions::N_f, "Feature dimension (even).")
      .def_readwrite("stay_plus", &HmmTaskOptions::stay_plus, "Class +1 stay probability.")
      .def_readwrite("stay_minus", &HmmTaskOptions::stay_minus, "Class -1 stay probability.")
      .def_readwrite("noise_sum", &HmmTaskOptions::noise_sum, "Noise std along v+ + v-.")
      .def_readwrite("noise_difference", &HmmTaskOptions::noise_difference,
                     "Noise std along v+ - v-.")
      .def_readwrite("noise_orthogonal", &HmmTaskOptions::noise_orthogonal,
                     "Noise std per orthogonal direction.")
      .def_readwrite("seed", &HmmTaskOptions::seed, "Boost.Random mt19937_64 seed.")
      .def("validate", &HmmTaskOptions::Validate,
           "Raises attnpaths.Error naming the first field out of range.");

  m.def(
      "generate_hmm_task",
      [](const std::optional<HmmTaskOptions>& options, py::kwargs kw) {
        HmmTaskOptions o = options.value_or(HmmTaskOptions{});
        ApplyKeywordsTo(&o, kw, "HmmTaskOptions");
        py::gil_scoped_release release;
        return GenerateHmmTask(o);
      },
      "options"_a = py::none(),
      "A seed-reproducible Markov-chain dataset (theory.md section 8) from HmmTaskOptions and/or\n"
      "its fields as keywords: generate_hmm_task(P=40, chain_tokens=8, N_f=20, seed=27).");
  m.def(
      "hmm_state_vector",
      [](Eigen::Index N_f, int state) {
        Eigen::VectorXd v = HmmStateVector(N_f, state);
        return v;
      },
      "N_f"_a, "state"_a,
      "The hidden-state vector in R^N_f: state > 0 gives v+ = sqrt(2) (1,...,1,0,...,0),\n"
      "otherwise v- = sqrt(2) (0,...,0,1,...,1).");

  py::class_<HmmHeadOptions>(m, "HmmHeadOptions", R"doc(
Parameters of the Markov-task heads (data/hmm.h). HmmHeadOptions(**fields).

  beta 10 (multiplies W0 and the perturbation), shift -1 (same/different token: key =
  query + shift), bos_strength 1.5, perturbation_features / _positions / _cross (0; Gaussian
  std p/N_f, p, p/sqrt(N_f) on the feature, position and off-diagonal blocks), seed 1.)doc")
      .def(py::init(
               [](py::kwargs kw) { return FromKeywords<HmmHeadOptions>(kw, "HmmHeadOptions"); }),
           "HmmHeadOptions(**fields): defaults, then the given fields.")
      .def_readwrite("beta", &HmmHeadOptions::beta, "Inverse temperature multiplying W.")
      .def_readwrite("shift", &HmmHeadOptions::shift, "Key = query + shift.")
      .def_readwrite("bos_strength", &HmmHeadOptions::bos_strength,
                     "BOS row weight from every non-BOS query.")
      .def_readwrite("perturbation_features", &HmmHeadOptions::perturbation_features,
                     "Perturbation of the feature block.")
      .def_readwrite("perturbation_positions", &HmmHeadOptions::perturbation_positions,
                     "Perturbation of the position block.")
      .def_readwrite("perturbation_cross", &HmmHeadOptions::perturbation_cross,
                     "Perturbation of the off-diagonal blocks.")
      .def_readwrite("seed", &HmmHeadOptions::seed, "Seed of the perturbation.")
      .def("set_perturbation", &HmmHeadOptions::SetPerturbation, "p"_a,
           "Sets the three perturbation strengths to p.");

  m.def(
      "hmm_head",
      [](const std::string& kind, Eigen::Index N_f, Eigen::Index chain_tokens,
         const std::optional<HmmHeadOptions>& options, const std::string& name, py::kwargs kw) {
        HmmHeadOptions o = options.value_or(HmmHeadOptions{});
        if (kw.contains("perturbation")) {
          o.SetPerturbation(kw["perturbation"].cast<double>());
          PyDict_DelItemString(kw.ptr(), "perturbation");
        }
        ApplyKeywordsTo(&o, kw, "HmmHeadOptions");
        return MakeHmmHead(ParseHmmHeadKind(kind, "kind"), N_f, chain_tokens, o, name);
      },
      "kind"_a, "N_f"_a, "chain_tokens"_a, "options"_a = py::none(), "name"_a = "",
      "A Markov-task W-form head: kind 'same_token', 'different_token', 'uniform' or 'blank',\n"
      "for N_f features and chain_tokens tokens (theory.md section 8). Parameters from\n"
      "HmmHeadOptions and/or keywords (beta, shift, bos_strength, perturbation = all three\n"
      "strengths, perturbation_features, ..., seed).");
  m.def(
      "hmm_architecture",
      [](const std::string& variant, const std::optional<HmmTaskOptions>& task, py::kwargs kw) {
        HmmTaskOptions o = task.value_or(HmmTaskOptions{});
        ApplyKeywordsTo(&o, kw, "HmmTaskOptions");
        return HmmArchitecture(ParseName(variant, "variant",
                                         {HmmVariant::kFourPaths, HmmVariant::kGoodPath,
                                          HmmVariant::kGoodAndDenoising},
                                         HmmVariantName),
                               o);
      },
      "variant"_a = "four_paths", "task"_a = py::none(),
      "The paper's Markov-task architectures, beta = 10, last-token readout, widths and\n"
      "variances 1 (call set_uniform(N)): 'four_paths' (layer 1 {good, blank}, layer 2\n"
      "{uniform, blank}), 'good_path', 'good_and_denoising'. Task sizes from HmmTaskOptions\n"
      "and/or keywords.");

  // ---------------------------------------------------------------- Study
  py::class_<Study>(m, "Study", R"doc(
One TOML experiment (docs/config.md): data, architecture, temperature(s), kernel settings and
the output directory. `architecture` and `kernel` are live references (changing them changes
the study); `train` and `test` are Datasets (test may be empty). solve_options(),
sample_options() and pruning_options() give the Options its [solver], [sampler] and [pruning]
tables set, as the command line uses them (the Options' defaults where a key is absent).)doc")
      .def_readonly("config_path", &Study::config_path, "The file read ('' from text).")
      .def_readwrite("name", &Study::name, "Label used in outputs.")
      .def_readwrite("architecture", &Study::architecture, "Heads built, widths and variances set.")
      .def_readonly("train", &Study::train, "The training Dataset.")
      .def_readonly("test", &Study::test, "The test Dataset (may have 0 examples).")
      .def_readonly("has_test_labels", &Study::has_test_labels, "Test labels were given.")
      .def_property_readonly(
          "task", [](const Study& s) { return TaskName(s.task); },
          "[data] task: 'classification' (labels +1/-1 or one-hot rows; accuracy reported) or\n"
          "'regression' (real targets; no accuracy). Pass it to predict(..., task=).")
      .def_readwrite("temperatures", &Study::temperatures, "T values (solve takes one).")
      .def_readwrite("sweep_widths", &Study::sweep_widths, "[sweep] widths (may be empty).")
      .def_readwrite("kernel", &Study::kernel, "KernelOptions.")
      .def_readwrite("output_directory", &Study::output_directory, "Where outputs go.")
      .def_readwrite("seed", &Study::seed, "The study seed.")
      .def_property_readonly(
          "temperature",
          [](const Study& s) {
            Require(s.temperatures.size() == 1, s.config_path + ": temperatures",
                    s.temperatures.size(), "one temperature");
            return s.temperatures.front();
          },
          "The one temperature (raises attnpaths.Error when the study has several).")
      .def(
          "solve_options", [](const Study& s) { return ReadStudySettings(s).solve; },
          "SolveOptions from the [solver] table, as the command line makes them.")
      .def(
          "sample_options", [](const Study& s) { return ReadStudySettings(s).sample; },
          "SampleOptions from the [sampler] table (command-line flags override it there).")
      .def(
          "pruning_options", [](const Study& s) { return ReadStudySettings(s).pruning; },
          "PruningOptions from the [pruning] table, with the study's solver and kernel settings.")
      .def(
          "__repr__",
          [](const Study& s) {
            return "Study(name='" + s.name + "', P=" + std::to_string(s.train.x.P()) +
                   ", P_test=" + std::to_string(s.test.x.P()) +
                   ", Htot=" + std::to_string(s.architecture.Htot()) + ")";
          },
          "Name and sizes.");

  m.def(
      "load_study",
      [](const std::string& path, bool stream) {
        py::gil_scoped_release release;
        if (!stream) return LoadStudy(path);
        Study study = LoadStudy(path, StudyLoading::kDeferGenerated);
        ResolveStudyData(&study, std::nullopt);
        return study;
      },
      "path"_a, "stream"_a = false,
      "Reads and validates a TOML study (docs/config.md); raises attnpaths.Error naming the\n"
      "file, the field, the value found and what was expected (as the command line reports).\n"
      "stream=True keeps a generated data set whose storage of G resolves to features as its\n"
      "generator: solve and predict then stream it in blocks (memory O(M^2) whatever P), as\n"
      "`attnpaths solve` does; other functions need the set in memory and refuse it.");
  m.def(
      "parse_study",
      [](std::string_view text, const std::string& base_dir, const std::string& name) {
        return ParseStudy(text, base_dir, name);
      },
      "text"_a, "base_dir"_a = ".", "name"_a = "<string>",
      "The same from TOML text; base_dir resolves relative paths, name stands for the file in\n"
      "messages.");
}

}  // namespace attnpaths::python
