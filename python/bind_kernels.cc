// kernels/: heads, architecture, inputs, paths, path inputs and path kernels.
#include "data/size_limit.h"
#include "kernels/architecture.h"
#include "kernels/finite_path_inputs.h"
#include "kernels/head.h"
#include "kernels/inputs.h"
#include "kernels/path_inputs.h"
#include "kernels/path_kernel.h"
#include "kernels/paths.h"
#include "python/bindings.h"
#include "solver/head_relevance.h"

namespace attnpaths::python {

namespace {

using namespace pybind11::literals;

const char* NormalizationName(Normalization n) {
  return n == Normalization::kSoftmax ? "softmax" : "hardmax";
}
Normalization ParseNormalization(const std::string& text, const std::string& field) {
  return ParseName(text, field, {Normalization::kSoftmax, Normalization::kHardmax},
                   NormalizationName);
}
const char* SplitName(Split s) { return s == Split::kTrain ? "train" : "test"; }
Split ParseSplit(py::handle obj, const std::string& field) {
  return ParseName(StringArg(obj, field), field, {Split::kTrain, Split::kTest}, SplitName);
}

// An optional matrix field of HeadSpec: None ↔ empty.
py::object OptionalMatrix(const Eigen::MatrixXd& m) {
  if (m.size() == 0) return py::none();
  return py::cast(Eigen::MatrixXd(m));
}
Eigen::MatrixXd ToOptionalMatrix(py::handle obj, const std::string& field) {
  if (obj.is_none()) return {};
  return MatrixArg(obj, field, Shape::kMatrix).matrix();
}

// Attention arrays seen by users are [query, key] (rows sum to one), as in the
// TOML files (docs/formats.md, "Attention arrays"); HeadSpec stores the
// theory's Ω, key index first (theory.md §1). These convert at the boundary.
std::vector<Eigen::MatrixXd> Transposed(std::vector<Eigen::MatrixXd> m) {
  for (auto& a : m) a.transposeInPlace();
  return m;
}

using Given = std::shared_ptr<const std::vector<Eigen::MatrixXd>>;
py::object GivenArray(const Given& g) {
  if (!g) return py::none();
  return FromMatrixStack(Transposed(*g));
}
Given ToGiven(py::handle obj, const std::string& field) {
  if (obj.is_none()) return nullptr;
  return std::make_shared<const std::vector<Eigen::MatrixXd>>(
      Transposed(ToMatrixStack(obj, field)));
}

HeadSpec MakeHead(HeadKind kind, const std::string& name, double beta, py::handle W, py::handle Q,
                  py::handle K, const std::string& normalization, bool causal,
                  py::handle given_train, py::handle given_test) {
  HeadSpec h;
  h.kind = kind;
  h.name = name;
  h.beta = beta;
  h.W = ToOptionalMatrix(W, "HeadSpec.W");
  h.Q = ToOptionalMatrix(Q, "HeadSpec.Q");
  h.K = ToOptionalMatrix(K, "HeadSpec.K");
  h.normalization = ParseNormalization(normalization, "HeadSpec.normalization");
  h.causal = causal;
  h.given_train = ToGiven(given_train, "HeadSpec.given_train");
  h.given_test = ToGiven(given_test, "HeadSpec.given_test");
  return h;
}

std::string HeadRepr(const HeadSpec& h) {
  std::string s =
      "HeadSpec(kind='" + std::string(HeadKindName(h.kind)) + "', name='" + h.name + "'";
  if (h.kind == HeadKind::kWForm || h.kind == HeadKind::kQKForm) {
    s += ", beta=" + py::repr(py::float_(h.beta)).cast<std::string>();
  }
  if (h.kind == HeadKind::kWForm) {
    s += ", W: " + std::to_string(h.W.rows()) + "x" + std::to_string(h.W.cols());
  }
  if (h.kind == HeadKind::kQKForm) {
    s += ", Q: " + std::to_string(h.Q.rows()) + "x" + std::to_string(h.Q.cols());
  }
  if (h.normalization == Normalization::kHardmax) s += ", normalization='hardmax'";
  if (h.causal) s += ", causal=True";
  return s + ")";
}

std::string ArchitectureRepr(const Architecture& a) {
  std::string s = "Architecture(H=(";
  for (size_t l = 0; l < a.layers.size(); ++l)
    s += (l ? ", " : "") + std::to_string(a.layers[l].size());
  s += a.layers.size() == 1 ? ",)" : ")";
  s += ", readout='" + std::string(ReadoutName(a.readout)) +
       "', widths=" + py::repr(py::cast(a.widths)).cast<std::string>() +
       ", variances=" + py::repr(py::cast(a.variances)).cast<std::string>() + ")";
  return s;
}

// A column-major view (rows × cols, leading dimension ld) of data owned by `owner`.
py::array BlockView(const double* data, Eigen::Index rows, Eigen::Index cols, Eigen::Index ld,
                    py::handle owner) {
  const auto s = static_cast<py::ssize_t>(sizeof(double));
  py::array a(py::dtype::of<double>(), {rows, cols}, {s, s * ld}, data, owner);
  py::detail::array_proxy(a.ptr())->flags &= ~py::detail::npy_api::NPY_ARRAY_WRITEABLE_;
  return a;
}

Eigen::Index CheckExample(const Inputs& x, Eigen::Index example) {
  Require(example >= 0 && example < x.P(), "example", example,
          "an index in [0, " + std::to_string(x.P()) + ")");
  return example;
}

}  // namespace

void BindKernels(py::module_& m) {
  // ------------------------------------------------------------------ HeadSpec
  py::class_<HeadSpec>(m, "HeadSpec", R"doc(
One attention head (theory.md section 1): how the attention of an example is computed from
its input tokens.

Attention arrays in Python are [query, key]: A[t, s] is the weight with which query token t
reads key token s, every row sums to one (theory.md's Omega transposed; the layout of the
TOML attention files and of PyTorch's attention weights, docs/formats.md). Kinds:
  'w'        score(s, t) = beta * x_s^T W x_t              (W: N0 x N0)
  'qk'       score(s, t) = beta * (K x_s).(Q x_t) / sqrt(d)  (Q, K: d x N0)
  'uniform'  equal weight on every allowed key
  'blank'    all-zero scores (uniform under softmax, key 1 under hardmax)
  'given'    attention per example: given_train / given_test arrays (P, n_tok, n_tok),
             a[mu, t, s] = weight of key s for query t (rows sum to one), as the TOML
             'attention' files.
Scores are normalised over keys by 'softmax' or 'hardmax' (ties to the lowest key), with an
optional causal mask (keys s <= t). The factories w_head, qk_head, uniform_head, blank_head,
given_head and hmm_head build heads in one call. Matrix attributes return copies.)doc")
      .def(py::init([](const std::string& kind, const std::string& name, double beta, py::object W,
                       py::object Q, py::object K, const std::string& normalization, bool causal,
                       py::object given_train, py::object given_test) {
             return MakeHead(ParseHeadKind(kind, "HeadSpec.kind"), name, beta, W, Q, K,
                             normalization, causal, given_train, given_test);
           }),
           "kind"_a = "uniform", "name"_a = "head", "beta"_a = 1.0, "W"_a = py::none(),
           "Q"_a = py::none(), "K"_a = py::none(), "normalization"_a = "softmax",
           "causal"_a = false, "given_train"_a = py::none(), "given_test"_a = py::none(),
           "A head of the given kind ('w', 'qk', 'uniform', 'blank', 'given') and parameters.")
      .def_property(
          "kind", [](const HeadSpec& h) { return HeadKindName(h.kind); },
          [](HeadSpec& h, const std::string& k) { h.kind = ParseHeadKind(k, "HeadSpec.kind"); },
          "'w', 'qk', 'uniform', 'blank' or 'given'.")
      .def_readwrite("name", &HeadSpec::name, "Label used in path labels and reports.")
      .def_readwrite("beta", &HeadSpec::beta,
                     "Inverse softmax temperature multiplying the score ('w' and 'qk').")
      .def_property(
          "W", [](const HeadSpec& h) { return OptionalMatrix(h.W); },
          [](HeadSpec& h, py::object v) { h.W = ToOptionalMatrix(v, "HeadSpec.W"); },
          "'w' heads: the N0 x N0 matrix of the score (a copy), or None.")
      .def_property(
          "Q", [](const HeadSpec& h) { return OptionalMatrix(h.Q); },
          [](HeadSpec& h, py::object v) { h.Q = ToOptionalMatrix(v, "HeadSpec.Q"); },
          "'qk' heads: the d x N0 query matrix (a copy), or None.")
      .def_property(
          "K", [](const HeadSpec& h) { return OptionalMatrix(h.K); },
          [](HeadSpec& h, py::object v) { h.K = ToOptionalMatrix(v, "HeadSpec.K"); },
          "'qk' heads: the d x N0 key matrix (a copy), or None.")
      .def_property(
          "normalization", [](const HeadSpec& h) { return NormalizationName(h.normalization); },
          [](HeadSpec& h, const std::string& n) {
            h.normalization = ParseNormalization(n, "HeadSpec.normalization");
          },
          "'softmax' or 'hardmax' over keys.")
      .def_readwrite("causal", &HeadSpec::causal, "Keys s <= t only (our extension; default off).")
      .def_property(
          "given_train", [](const HeadSpec& h) { return GivenArray(h.given_train); },
          [](HeadSpec& h, py::object v) { h.given_train = ToGiven(v, "HeadSpec.given_train"); },
          "'given' heads: (P, n_tok, n_tok) array [example, query, key] of the training set\n"
          "(rows sum to one).")
      .def_property(
          "given_test", [](const HeadSpec& h) { return GivenArray(h.given_test); },
          [](HeadSpec& h, py::object v) { h.given_test = ToGiven(v, "HeadSpec.given_test"); },
          "'given' heads: the same for the test set.")
      .def("validate", &HeadSpec::Validate, "N0"_a, "n_tok"_a, "field"_a = "head",
           "Raises attnpaths.Error naming `field` when the head does not fit inputs of N0 "
           "features and n_tok tokens.")
      .def("__repr__", &HeadRepr, "The kind, name and shapes.");

  m.def(
      "w_head",
      [](py::object W, double beta, const std::string& name, const std::string& normalization,
         bool causal) {
        return MakeHead(HeadKind::kWForm, name, beta, W, py::none(), py::none(), normalization,
                        causal, py::none(), py::none());
      },
      "W"_a, "beta"_a = 1.0, "name"_a = "head", "normalization"_a = "softmax", "causal"_a = false,
      "A W-form head: score(s, t) = beta * x_s^T W x_t with W of shape (N0, N0).");
  m.def(
      "qk_head",
      [](py::object Q, py::object K, double beta, const std::string& name,
         const std::string& normalization, bool causal) {
        return MakeHead(HeadKind::kQKForm, name, beta, py::none(), Q, K, normalization, causal,
                        py::none(), py::none());
      },
      "Q"_a, "K"_a, "beta"_a = 1.0, "name"_a = "head", "normalization"_a = "softmax",
      "causal"_a = false,
      "A QK-form head: score(s, t) = beta * (K x_s).(Q x_t) / sqrt(d), Q and K of shape (d, N0).");
  m.def(
      "uniform_head",
      [](const std::string& name, bool causal) {
        return MakeHead(HeadKind::kUniform, name, 1.0, py::none(), py::none(), py::none(),
                        "softmax", causal, py::none(), py::none());
      },
      "name"_a = "uniform", "causal"_a = false,
      "A uniform head: equal weight on every allowed key.");
  m.def(
      "blank_head",
      [](const std::string& name, const std::string& normalization, bool causal) {
        return MakeHead(HeadKind::kBlank, name, 1.0, py::none(), py::none(), py::none(),
                        normalization, causal, py::none(), py::none());
      },
      "name"_a = "blank", "normalization"_a = "softmax", "causal"_a = false,
      "A blank head: all-zero scores (uniform under softmax, key 1 under hardmax).");
  m.def(
      "given_head",
      [](py::object train, py::object test, const std::string& name) {
        return MakeHead(HeadKind::kGiven, name, 1.0, py::none(), py::none(), py::none(), "softmax",
                        false, train, test);
      },
      "train"_a, "test"_a = py::none(), "name"_a = "given",
      "A head whose attention is given per example: arrays (P, n_tok, n_tok) [example, query,\n"
      "key], a[mu, t, s] = weight of key s for query t (every row summing to one), for the\n"
      "training set and, optionally, the test set.");

  // -------------------------------------------------------------- Architecture
  py::class_<Architecture>(m, "Architecture", R"doc(
L attention layers of heads, the token readout, widths and prior variances (theory.md 1).

  layers     list of L lists of HeadSpec (layer 1 first); the attribute returns copies,
             assign a new list to change it
  readout    'last' (default), 'first' or 'mean': how the last layer's Omega becomes a
             vector over keys
  widths     [n_1, ..., n_L, n_{L+1}] (n_{L+1} is the readout width)
  variances  [sigma_0^2, sigma_1^2, ..., sigma_L^2, sigma_a^2]

Architecture(layers, readout='last', widths=None, variances=None, N=None, variance=1.0):
with N, every width is N and every variance `variance` (theory.md section 8), then
explicit widths / variances override.)doc")
      .def(py::init([](std::vector<std::vector<HeadSpec>> layers, const std::string& readout,
                       const std::optional<std::vector<double>>& widths,
                       const std::optional<std::vector<double>>& variances, std::optional<double> N,
                       double variance) {
             Architecture a;
             a.layers = std::move(layers);
             a.readout = ParseReadout(readout, "Architecture.readout");
             if (N) a.SetUniform(*N, variance);
             if (widths) a.widths = *widths;
             if (variances) a.variances = *variances;
             return a;
           }),
           "layers"_a = std::vector<std::vector<HeadSpec>>{}, "readout"_a = "last",
           "widths"_a = py::none(), "variances"_a = py::none(), "N"_a = py::none(),
           "variance"_a = 1.0, "An architecture from its layers of heads and hyperparameters.")
      .def_property(
          "layers", [](const Architecture& a) { return a.layers; },
          [](Architecture& a, std::vector<std::vector<HeadSpec>> layers) {
            a.layers = std::move(layers);
          },
          "Layers of heads, layer 1 first (copies; assign a new list to change).")
      .def_property(
          "readout", [](const Architecture& a) { return ReadoutName(a.readout); },
          [](Architecture& a, const std::string& r) {
            a.readout = ParseReadout(r, "Architecture.readout");
          },
          "'last', 'first' or 'mean' token readout of the last layer.")
      .def_readwrite("widths", &Architecture::widths, "[n_1, ..., n_L, n_{L+1}].")
      .def_readwrite("variances", &Architecture::variances,
                     "[sigma_0^2, sigma_1^2, ..., sigma_L^2, sigma_a^2].")
      .def_property_readonly("L", &Architecture::L, "Number of attention layers.")
      .def_property_readonly(
          "heads_per_layer",
          [](const Architecture& a) {
            std::vector<Eigen::Index> h = a.heads_per_layer();
            return h;
          },
          "[H_1, ..., H_L].")
      .def_property_readonly("Htot", &Architecture::Htot, "Number of paths, H_1 * ... * H_L.")
      .def_property_readonly("n_max", &Architecture::n_max,
                             "max(n_1, ..., n_{L+1}), the scale of the minimised objective.")
      .def_property_readonly("head_names", &HeadNames,
                             "Head names per layer, head_names[l-1][h] ('h<k>' for unnamed).")
      .def_property_readonly(
          "path_labels",
          [](const Architecture& a) {
            return PathLabels(Paths(a.heads_per_layer()), HeadNames(a));
          },
          "Label of every path in packing order ('good>uniform'; h_1 outermost).")
      .def("set_uniform", &Architecture::SetUniform, "N"_a, "variance"_a = 1.0,
           "Sets every width to N and every prior variance to `variance`.")
      .def("validate", &Architecture::Validate, "N0"_a, "n_tok"_a,
           "Raises attnpaths.Error naming the field for: no layer, a layer without heads, wrong\n"
           "counts of widths or variances, width < 1, variance <= 0, and heads that do not fit\n"
           "inputs of N0 features and n_tok tokens.")
      .def("validate_hyperparameters", &Architecture::ValidateHyperparameters,
           "The checks of validate() on widths and variances only.")
      .def("__repr__", &ArchitectureRepr, "Head counts, readout, widths and variances.");

  // -------------------------------------------------------------------- Inputs
  py::class_<Inputs>(m, "Inputs", R"doc(
A dataset of P sequences of n_tok tokens with N0 features: a (P, n_tok, N0) float64
array in C order (theory.md section 1: example mu is the N0 x n_tok matrix x whose
column t is token t).

Inputs(x) copies a (P, n_tok, N0) array of reals (any dtype/order; checked finite);
functions taking inputs accept such arrays directly as well. `array` is a writable view of
the stored values (no copy); numpy.asarray(inputs) gives the same view.)doc")
      .def(py::init([](py::object x) { return ToInputs(x, "x"); }), "x"_a,
           "Inputs holding a copy of the (P, n_tok, N0) array x.")
      .def(py::init([](Eigen::Index P, Eigen::Index n_tok, Eigen::Index N0) {
             RequireGeneratedSize(
                 "Inputs(P, n_tok, N0)", "P*n_tok*N0",
                 {static_cast<double>(P), static_cast<double>(n_tok), static_cast<double>(N0)});
             return Inputs(P, n_tok, N0);
           }),
           "P"_a, "n_tok"_a, "N0"_a,
           "Zero-filled inputs of P examples, n_tok tokens and N0 features (at most 2^28\n"
           "values, as for the built-in generators; larger inputs come from an array).")
      .def_property_readonly("P", &Inputs::P, "Number of examples.")
      .def_property_readonly("n_tok", &Inputs::n_tok, "Tokens per example.")
      .def_property_readonly("N0", &Inputs::N0, "Features per token.")
      .def_property_readonly(
          "array",
          [](py::object self) {
            Inputs& x = self.cast<Inputs&>();
            return py::array_t<double>({x.P(), x.n_tok(), x.N0()}, x.values().data(), self);
          },
          "The values as a writable (P, n_tok, N0) NumPy view (no copy).")
      .def(
          "__array__",
          [](py::object self, py::object dtype) {
            Inputs& x = self.cast<Inputs&>();
            py::array a = py::array_t<double>({x.P(), x.n_tok(), x.N0()}, x.values().data(), self);
            if (!dtype.is_none()) return a.attr("astype")(dtype).cast<py::array>();
            return a;
          },
          "dtype"_a = py::none(), "The (P, n_tok, N0) view, for numpy.asarray.")
      .def(
          "example",
          [](py::object self, Eigen::Index mu) {
            const Inputs& x = self.cast<const Inputs&>();
            CheckExample(x, mu);
            return BlockView(x.values().data() + mu * x.n_tok() * x.N0(), x.N0(), x.n_tok(), x.N0(),
                             self);
          },
          "mu"_a,
          "The N0 x n_tok matrix of example mu (theory.md's x: [i, t] = feature i of token t),\n"
          "a read-only view of array[mu].T.")
      .def("select", &Inputs::Select, "indices"_a,
           "The examples with the given indices, in that order (a copy).")
      .def("check_finite", &Inputs::CheckFinite, "field"_a = "x",
           "Raises attnpaths.Error naming field[mu,t,i] at the first NaN or infinite value.")
      .def("__len__", &Inputs::P, "P.")
      .def(
          "__repr__",
          [](const Inputs& x) {
            return "Inputs(P=" + std::to_string(x.P()) + ", n_tok=" + std::to_string(x.n_tok()) +
                   ", N0=" + std::to_string(x.N0()) + ")";
          },
          "The shape.");

  // ---------------------------------------------------------------------- Paths
  py::class_<Paths>(m, "Paths", R"doc(
Attention paths pi = (h_1, ..., h_L), one head per layer, packed into one index with
h_1 the outermost (slowest) digit (theory.md section 2). The same packing orders the rows
(h_l, ..., h_L) of every U_l.)doc")
      .def(py::init<std::vector<Eigen::Index>>(), "heads_per_layer"_a,
           "Paths of a network with H_l heads in layer l.")
      .def_property_readonly("L", &Paths::L, "Number of layers.")
      .def_property_readonly("Htot", &Paths::Htot, "Number of paths.")
      .def_property_readonly("heads_per_layer", &Paths::heads_per_layer, "[H_1, ..., H_L].")
      .def("m", &Paths::m, "l"_a, "m_l = H_l * ... * H_L, the size of U_l (l = 1..L+1).")
      .def("pack", &Paths::Pack, "heads"_a, "The path index of heads (h_1, ..., h_L), 0-based.")
      .def("heads", &Paths::Heads, "path"_a, "The heads (h_1, ..., h_L) of a path index.")
      .def("label", &Paths::Label, "path"_a, "names"_a,
           "Head names of the path joined by '>' from layer 1 to layer L.");

  // ---------------------------------------------------------------- PathInputs
  py::class_<PathInputs>(m, "PathInputs", R"doc(
The attentioned inputs xi_pi(x^mu) of every path and example (theory.md section 2):

  xi_pi(x) = sigma_0 / sqrt(N0 Htot) * x Omega^{1,h_1}(x) ... omega^{L,h_L}(x)   in R^N0

`xi` is P x (Htot N0); columns [pi N0, (pi+1) N0) hold path pi. Computed once per dataset
by compute_path_inputs; every later stage reads them. Arrays are read-only views.)doc")
      .def(py::init([](py::object xi, Eigen::Index Htot) {
             MatrixArg a(xi, "xi", Shape::kMatrix);
             Require(Htot >= 1, "Htot", Htot, "a value >= 1");
             Require(a.cols() % Htot == 0 && a.cols() > 0, "xi columns", a.cols(),
                     "a positive multiple of Htot = " + std::to_string(Htot) + " (Htot * N0)");
             PathInputs p;
             p.Htot = Htot;
             p.N0 = a.cols() / Htot;
             p.xi = a.matrix();
             return p;
           }),
           "xi"_a, "Htot"_a,
           "Path inputs from a P x (Htot N0) array (path pi in columns [pi N0, (pi+1) N0)).")
      .def_readonly("Htot", &PathInputs::Htot, "Number of paths.")
      .def_readonly("N0", &PathInputs::N0, "Features per token.")
      .def_property_readonly("P", &PathInputs::P, "Number of examples.")
      .def_property_readonly(
          "xi", [](py::object self) { return MatrixView(self.cast<const PathInputs&>().xi, self); },
          "The P x (Htot N0) matrix of every path's inputs (read-only view).")
      .def(
          "path",
          [](py::object self, Eigen::Index p) {
            const PathInputs& x = self.cast<const PathInputs&>();
            Require(p >= 0 && p < x.Htot, "path", p,
                    "an index in [0, " + std::to_string(x.Htot) + ")");
            return BlockView(x.xi.data() + p * x.N0 * x.P(), x.P(), x.N0, x.P(), self);
          },
          "p"_a, "xi_p for every example: a P x N0 read-only view.")
      .def(
          "__repr__",
          [](const PathInputs& x) {
            return "PathInputs(P=" + std::to_string(x.P()) + ", Htot=" + std::to_string(x.Htot) +
                   ", N0=" + std::to_string(x.N0) + ")";
          },
          "The sizes.");

  m.def(
      "compute_path_inputs",
      [](const Architecture& arch, py::object x, py::object split, int threads) {
        const InputsArg in(x, "x");
        const Split s = ParseSplit(split, "split");
        Require(threads >= 0, "threads", threads, "0 (every core) or a positive count");
        py::gil_scoped_release release;
        PathInputs xi = ComputePathInputs(arch, in.get(), s, threads);
        CheckFinitePathInputs(arch, in.get(), xi, s, "x");
        return xi;
      },
      "arch"_a, "x"_a, "split"_a = "train", "threads"_a = 0,
      "xi_pi(x^mu) for every example and path (theory.md section 2). x: Inputs or a\n"
      "(P, n_tok, N0) array; split ('train' or 'test') selects the attention of 'given' heads.\n"
      "Validates the architecture against the inputs; raises attnpaths.Error naming the head\n"
      "(or the example) when attention or path inputs overflow. threads = 0 uses every core.\n"
      "Runs without the GIL.");
  m.def(
      "path_token_weights",
      [](const Architecture& arch, py::object x, Eigen::Index example, py::object split) {
        const InputsArg in(x, "x");
        CheckExample(in.get(), example);
        return PathTokenWeights(arch, in.get().example(example), example,
                                ParseSplit(split, "split"));
      },
      "arch"_a, "x"_a, "example"_a = 0, "split"_a = "train",
      "w_pi = Omega^{1,h_1} ... omega^{L,h_L} in R^n_tok for every path (n_tok x Htot) of one\n"
      "example, so that xi_pi = sigma_0 / sqrt(N0 Htot) * x w_pi.");
  m.def(
      "attention_matrix",
      [](const HeadSpec& head, py::object x, Eigen::Index example, py::object split) {
        const InputsArg in(x, "x");
        CheckExample(in.get(), example);
        Eigen::MatrixXd a =
            AttentionMatrix(head, in.get().example(example), example, ParseSplit(split, "split"))
                .transpose();
        return a;
      },
      "head"_a, "x"_a, "example"_a = 0, "split"_a = "train",
      "The attention of one example, [query, key] (n_tok x n_tok, rows summing to one; the\n"
      "transpose of theory.md's Omega).");
  m.def(
      "normalize_scores",
      [](py::object scores, const std::string& normalization, bool causal) {
        const MatrixArg s(scores, "scores", Shape::kMatrix);
        Require(s.rows() >= 1 && s.rows() == s.cols(), "scores shape",
                std::to_string(s.rows()) + " x " + std::to_string(s.cols()),
                "n_tok x n_tok [query, key] scores with n_tok >= 1");
        const Eigen::MatrixXd key_first = s.map().transpose();
        Eigen::MatrixXd a =
            NormalizeScores(key_first, ParseNormalization(normalization, "normalization"), causal)
                .transpose();
        return a;
      },
      "scores"_a, "normalization"_a = "softmax", "causal"_a = false,
      "Normalises a score matrix [query, key] row by row: softmax or hardmax over keys, with\n"
      "the causal mask (keys s <= query t) when asked.");
  m.def(
      "readout_vector",
      [](py::object attention, const std::string& readout) {
        const MatrixArg o(attention, "attention", Shape::kMatrix);
        const Eigen::MatrixXd key_first = o.map().transpose();
        Eigen::VectorXd v = ReadoutVector(key_first, ParseReadout(readout, "readout"));
        return v;
      },
      "attention"_a, "readout"_a = "last",
      "omega_s of the last layer from its attention [query, key]: the row of the last or first\n"
      "query, or the mean over queries.");

  // -------------------------------------------------------------- PathKernel
  py::class_<KernelOptions>(m, "KernelOptions", R"doc(
How the training-set path kernels are stored (kernels/path_kernel.h).

  strategy            'auto' (the cheaper per evaluation that fits), 'precomputed' (every
                      C_pp' pair, Htot(Htot+1)/2 P^2 doubles) or 'factored' (path inputs only)
  memory_limit_bytes  refuse larger kernels (default 16 GiB))doc")
      .def(py::init([](py::kwargs kw) { return FromKeywords<KernelOptions>(kw, "KernelOptions"); }),
           "KernelOptions(**fields): defaults, then the given fields.")
      .def_property(
          "strategy", [](const KernelOptions& o) { return KernelStrategyName(o.strategy); },
          [](KernelOptions& o, const std::string& s) {
            o.strategy = ParseKernelStrategy(s, "KernelOptions.strategy");
          },
          "'auto', 'precomputed' or 'factored'.")
      .def_readwrite("memory_limit_bytes", &KernelOptions::memory_limit_bytes,
                     "Kernels larger than this are refused with an error naming the size.")
      .def(
          "__repr__",
          [](const KernelOptions& o) {
            return "KernelOptions(strategy='" + std::string(KernelStrategyName(o.strategy)) +
                   "', memory_limit_bytes=" +
                   py::repr(py::float_(o.memory_limit_bytes)).cast<std::string>() + ")";
          },
          "The fields.");

  m.def(
      "kernel_memory_bytes",
      [](const std::string& strategy, Eigen::Index P, Eigen::Index Htot, Eigen::Index N0) {
        return KernelMemoryBytes(ParseKernelStrategy(strategy, "strategy"), P, Htot, N0);
      },
      "strategy"_a, "P"_a, "Htot"_a, "N0"_a,
      "Bytes the 'precomputed' or 'factored' strategy keeps (path inputs included).");
  m.def(
      "kernel_flops_per_evaluation",
      [](const std::string& strategy, Eigen::Index P, Eigen::Index Htot, Eigen::Index N0) {
        return KernelFlopsPerEvaluation(ParseKernelStrategy(strategy, "strategy"), P, Htot, N0);
      },
      "strategy"_a, "P"_a, "Htot"_a, "N0"_a,
      "Multiply-adds of one kernel total + one contraction for a strategy.");
  m.def(
      "choose_kernel_strategy",
      [](const KernelOptions& o, Eigen::Index P, Eigen::Index Htot, Eigen::Index N0) {
        return KernelStrategyName(ChooseKernelStrategy(o, P, Htot, N0));
      },
      "options"_a, "P"_a, "Htot"_a, "N0"_a,
      "The strategy 'auto' resolves to; raises attnpaths.Error naming the size when none fits.");

  py::class_<PathKernel>(m, "PathKernel", R"doc(
The training-set path-path kernels C_pp'(x^mu, x^nu) = xi_p(x^mu) . xi_p'(x^nu) as an
operator (theory.md section 2):

  kernel = attnpaths.PathKernel(attnpaths.compute_path_inputs(arch, x_train))
  K = kernel.total(U)      # K_U = sum_pp' U_pp' C_pp'   (P x P)
  g = kernel.contract(R)   # g_pp' = sum_mu,nu R_mu,nu C_pp'(mu, nu)   (Htot x Htot)

The kernel keeps its own copy of the path inputs (`inputs`).)doc")
      .def(py::init([](const PathInputs& train, const std::optional<KernelOptions>& options) {
             const KernelOptions o = options.value_or(KernelOptions{});
             PathInputs copy = train;
             py::gil_scoped_release release;
             return std::make_unique<PathKernel>(std::move(copy), o);
           }),
           "train"_a, "options"_a = py::none(),
           "Kernels of the training path inputs with KernelOptions (default: 'auto', 16 GiB).\n"
           "Runs without the GIL.")
      .def_property_readonly("P", &PathKernel::P, "Number of training examples.")
      .def_property_readonly("Htot", &PathKernel::Htot, "Number of paths.")
      .def_property_readonly(
          "strategy", [](const PathKernel& k) { return KernelStrategyName(k.strategy()); },
          "'precomputed' or 'factored'.")
      .def_property_readonly("memory_bytes", &PathKernel::memory_bytes,
                             "Bytes the kernel keeps (path inputs included).")
      .def_property_readonly("inputs", &PathKernel::inputs,
                             py::return_value_policy::reference_internal,
                             "The training path inputs (no copy).")
      .def(
          "total",
          [](const PathKernel& k, py::object U) {
            const MatrixArg u(U, "U", Shape::kMatrix);
            py::gil_scoped_release release;
            return k.Total(u.ref());
          },
          "U"_a,
          "K_U = sum_pp' U_pp' C_pp' on the training set (P x P) for a symmetric Htot x Htot U.")
      .def(
          "contract",
          [](const PathKernel& k, py::object R) {
            const MatrixArg r(R, "R", Shape::kMatrix);
            py::gil_scoped_release release;
            return k.Contract(r.ref());
          },
          "R"_a,
          "g_pp' = sum_mu,nu R_mu,nu C_pp'(x^mu, x^nu) for a symmetric P x P R (Htot x Htot).")
      .def("pair", &PathKernel::Pair, "p"_a, "q"_a, "C_pq on the training set (P x P).")
      .def(
          "__repr__",
          [](const PathKernel& k) {
            return "PathKernel(P=" + std::to_string(k.P()) + ", Htot=" + std::to_string(k.Htot()) +
                   ", strategy='" + KernelStrategyName(k.strategy()) + "')";
          },
          "The sizes and strategy.");

  m.def(
      "cross_kernel",
      [](const PathInputs& a, const PathInputs& b, py::object U) {
        const MatrixArg u(U, "U", Shape::kMatrix);
        py::gil_scoped_release release;
        return CrossKernel(a, b, u.ref());
      },
      "a"_a, "b"_a, "U"_a, "K_U(a^mu, b^nu) between two sets of path inputs (|a| x |b|).");
  m.def(
      "kernel_diagonal",
      [](const PathInputs& a, py::object U) {
        const MatrixArg u(U, "U", Shape::kMatrix);
        Eigen::VectorXd d = KernelDiagonal(a, u.ref());
        return d;
      },
      "a"_a, "U"_a, "K_U(a^mu, a^mu) for every example of a.");
}

}  // namespace attnpaths::python
