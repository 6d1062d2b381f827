// curvature/: the loss Hessian of self-attention and of the trained network
// (docs/attention-hessian.md) — blocks, products, norms, spectra and the
// growth study — with NumPy arrays in and out.
#include "curvature/attention_hessian.h"
#include "curvature/growth_study.h"
#include "curvature/hard_margin_svm.h"
#include "curvature/head_count_study.h"
#include "curvature/hutchinson.h"
#include "curvature/lanczos.h"
#include "curvature/network_hessian.h"
#include "data/attention_tasks.h"
#include "data/tokenized_mixture.h"
#include "python/bindings.h"
#include "trainer/network_files.h"

namespace attnpaths::python {

namespace {

using namespace pybind11::literals;

const HessianPart kParts[] = {HessianPart::kOuter, HessianPart::kFunctional, HessianPart::kFull};

AttentionLayerData ToData(py::handle X, py::handle Y, bool causal, const std::string& attention) {
  AttentionLayerData d;
  d.X = ToMatrixStack(X, "X");
  d.Y = ToMatrixStack(Y, "Y");
  d.causal = causal;
  d.attention = ParseAttentionKind(attention, "attention");
  return d;
}

AttentionLayerWeights ToWeights(py::handle WQ, py::handle WK, py::handle WV) {
  return {MatrixArg(WQ, "WQ", Shape::kMatrix).matrix(),
          MatrixArg(WK, "WK", Shape::kMatrix).matrix(),
          MatrixArg(WV, "WV", Shape::kMatrix).matrix()};
}

py::array Vector(const Eigen::VectorXd& v) { return py::array_t<double>(v.size(), v.data()); }

py::dict GrowthDict(const GrowthStudy& study, int repeats) {
  const auto S = static_cast<py::ssize_t>(study.sigmas.size());
  const auto nb = static_cast<py::ssize_t>(study.slopes.size() / 3);
  py::array_t<double> norms({S, static_cast<py::ssize_t>(repeats), nb, py::ssize_t{3}});
  py::array_t<double> errors({S, static_cast<py::ssize_t>(repeats), nb, py::ssize_t{3}});
  auto n = norms.mutable_unchecked<4>();
  auto e = errors.mutable_unchecked<4>();
  for (size_t k = 0; k < study.norms_table.size(); ++k) {
    const auto within = static_cast<py::ssize_t>(k) % (nb * 3);
    const auto point = static_cast<py::ssize_t>(k) / (nb * 3);
    const py::ssize_t r = point / S, i = point % S;
    n(i, r, within / 3, within % 3) = study.norms_table[k].norm;
    e(i, r, within / 3, within % 3) = study.norms_table[k].standard_error;
  }
  py::list blocks, slopes;
  for (py::ssize_t b = 0; b < nb; ++b)
    blocks.append(study.slopes[static_cast<size_t>(3 * b)].block);
  for (const SlopeFit& s : study.slopes) {
    py::dict d;
    d["block"] = s.block;
    d["kind"] = s.kind;
    d["layer"] = s.layer;
    d["part"] = HessianPartName(s.part);
    d["zero"] = s.zero;
    d["mean"] = s.mean;
    d["spread"] = s.spread;
    d["standard_error"] = s.standard_error;
    d["predicted"] = s.predicted;
    d["slopes"] = Vector(s.slopes);
    d["slope_errors"] = Vector(s.slope_errors);
    d["fit_residuals"] = Vector(s.fit_residuals);
    d["local_sigmas"] = Vector(s.local_sigmas);
    d["local_slopes"] = Vector(s.local_slopes);
    slopes.append(d);
  }
  py::dict out;
  out["sigmas"] = py::array_t<double>(S, study.sigmas.data());
  out["norms"] = norms;
  out["norm_errors"] = errors;
  out["blocks"] = blocks;
  out["parts"] = py::make_tuple("outer", "functional", "full");
  out["slopes"] = slopes;
  out["fit_range"] = py::make_tuple(study.fit_lo, study.fit_hi);
  out["seconds"] = study.seconds;
  return out;
}

GrowthStudyOptions GrowthOptions(py::object sigmas, int fit_points, py::object fit_range,
                                 int repeats, const std::string& norms, int probes,
                                 std::uint64_t seed) {
  GrowthStudyOptions o;
  if (!sigmas.is_none()) {
    const Eigen::VectorXd s = MatrixArg(sigmas, "sigmas", Shape::kVector).vector();
    o.sigmas.assign(s.data(), s.data() + s.size());
  }
  o.fit_points = fit_points;
  if (!fit_range.is_none()) {
    const auto r = fit_range.cast<std::pair<double, double>>();
    o.fit_lo = r.first;
    o.fit_hi = r.second;
  }
  o.repeats = repeats;
  o.norms = ParseNormMethod(norms, "norms");
  o.hutchinson.probes = probes;
  o.hutchinson.seed = seed + 101;
  std::string error;
  if (!o.IsValid(&error)) throw Error(error);
  return o;
}

py::dict Extremes(const SymmetricOperator& op, int k, std::uint64_t seed) {
  LanczosOptions options;
  options.eigenvalues = k;
  options.seed = seed;
  LanczosSummary s;
  const ExtremeEigenvalues e = LanczosExtremes(op, options, &s);
  py::dict d;
  d["largest"] = Vector(e.largest);
  d["smallest"] = Vector(e.smallest);
  d["largest_residuals"] = Vector(e.largest_residuals);
  d["smallest_residuals"] = Vector(e.smallest_residuals);
  d["converged"] = s.converged;
  d["products"] = s.iterations;
  return d;
}

py::dict Density(const SymmetricOperator& op, int probes, int steps, int grid, double broadening,
                 std::uint64_t seed) {
  SpectralDensityOptions o;
  o.probes = probes;
  o.steps = steps;
  o.grid = grid;
  o.broadening = broadening;
  o.seed = seed;
  const SpectralDensity rho = LanczosSpectralDensity(op, o);
  py::dict d;
  d["nodes"] = Vector(rho.nodes);
  d["weights"] = Vector(rho.weights);
  d["grid"] = Vector(rho.grid);
  d["density"] = Vector(rho.density);
  return d;
}

}  // namespace

void BindCurvature(py::module_& m) {
  m.def(
      "attention_hessian",
      [](py::object X, py::object Y, py::object WQ, py::object WK, py::object WV, bool causal,
         const std::string& attention) {
        const AttentionHessian h(ToData(X, Y, causal, attention), ToWeights(WQ, WK, WV));
        py::dict out;
        for (HessianPart part : kParts) {
          py::dict blocks;
          for (const BlockName& b : SpecBlocks())
            blocks[py::str(b.name())] = h.Block(b.rows, b.cols, part);
          out[HessianPartName(part)] = blocks;
        }
        out["hessian"] = h.Dense(HessianPart::kFull);
        out["hessian_outer"] = h.Dense(HessianPart::kOuter);
        out["hessian_functional"] = h.Dense(HessianPart::kFunctional);
        out["loss"] = h.loss();
        out["gradient"] = h.Gradient();
        py::dict offsets;
        for (WeightGroup g : {WeightGroup::kQ, WeightGroup::kK, WeightGroup::kV}) {
          offsets[WeightGroupName(g)] = py::make_tuple(h.offset(g), h.size(g));
        }
        out["offsets"] = offsets;
        return out;
      },
      "X"_a, "Y"_a, "WQ"_a, "WK"_a, "WV"_a, "causal"_a = false, "attention"_a = "softmax",
      "The loss Hessian of one self-attention layer (docs/attention-hessian.md): X, Y are\n"
      "(B, m, D) arrays (tokens as rows), WQ, WK (D, k), WV (D, D). Returns a dict: 'outer',\n"
      "'functional', 'full' -> {'VV', 'QQ', 'KK', 'QK', 'VQ', 'VK'} blocks (rows = first\n"
      "letter, row-major vec of each weight matrix); 'hessian', 'hessian_outer',\n"
      "'hessian_functional' (n_p x n_p, order Q, K, V); 'loss' (mean over B m D entries);\n"
      "'gradient'; 'offsets' {group: (first index, size)}.");
  m.def(
      "attention_hvp",
      [](py::object X, py::object Y, py::object WQ, py::object WK, py::object WV, py::object v,
         const std::string& part, bool causal, const std::string& attention) {
        const AttentionHessian h(ToData(X, Y, causal, attention), ToWeights(WQ, WK, WV));
        return Eigen::VectorXd(
            h.Apply(MatrixArg(v, "v", Shape::kVector).vector(), ParseHessianPart(part, "part")));
      },
      "X"_a, "Y"_a, "WQ"_a, "WK"_a, "WV"_a, "v"_a, "part"_a = "full", "causal"_a = false,
      "attention"_a = "softmax",
      "H v, H_o v or H_f v (part = 'full', 'outer', 'functional') without forming H; v in the\n"
      "order [vec WQ, vec WK, vec WV], each row-major.");
  m.def(
      "attention_hessian_norms",
      [](py::object X, py::object Y, py::object WQ, py::object WK, py::object WV,
         const std::string& method, int probes, std::uint64_t seed, bool causal,
         const std::string& attention) {
        const AttentionHessian h(ToData(X, Y, causal, attention), ToWeights(WQ, WK, WV));
        HutchinsonOptions o;
        o.probes = probes;
        o.seed = seed;
        py::dict out;
        for (const BlockNorm& b : BlockNorms(h, ParseNormMethod(method, "method"), o)) {
          const std::string key = b.block + "." + HessianPartName(b.part);
          out[py::str(key)] = py::make_tuple(b.norm, b.standard_error);
        }
        return out;
      },
      "X"_a, "Y"_a, "WQ"_a, "WK"_a, "WV"_a, "method"_a = "exact", "probes"_a = 20, "seed"_a = 1,
      "causal"_a = false, "attention"_a = "softmax",
      "Frobenius norm of every block and part: {'QK.outer': (norm, standard_error), ...};\n"
      "method 'exact' (s.e. 0) or 'hutchinson' (probes Rademacher products).");
  m.def(
      "attention_hessian_spectrum",
      [](py::object X, py::object Y, py::object WQ, py::object WK, py::object WV,
         const std::string& part, int k, std::uint64_t seed, bool causal,
         const std::string& attention, int density_probes, int density_steps, int grid,
         double broadening) {
        const AttentionHessian h(ToData(X, Y, causal, attention), ToWeights(WQ, WK, WV));
        const HessianPart p = ParseHessianPart(part, "part");
        const SymmetricOperator op{h.num_parameters(),
                                   [&h, p](const Eigen::VectorXd& v) { return h.Apply(v, p); }};
        py::dict out;
        out["extremes"] = Extremes(op, k, seed);
        out["density"] = Density(op, density_probes, density_steps, grid, broadening, seed + 17);
        return out;
      },
      "X"_a, "Y"_a, "WQ"_a, "WK"_a, "WV"_a, "part"_a = "full", "k"_a = 10, "seed"_a = 1,
      "causal"_a = false, "attention"_a = "softmax", "density_probes"_a = 10,
      "density_steps"_a = 80, "grid"_a = 400, "broadening"_a = 0.01,
      "Lanczos on the matrix-free products: 'extremes' {'largest' (descending), 'smallest'\n"
      "(ascending), residuals, converged, products} and 'density' (stochastic Lanczos\n"
      "quadrature: nodes, weights, grid, density).");
  m.def(
      "attention_growth_study",
      [](const std::string& data, Eigen::Index tokens, Eigen::Index features, Eigen::Index key_dim,
         Eigen::Index batch, const std::string& attention, bool causal, py::object sigmas,
         int fit_points, py::object fit_range, int repeats, const std::string& norms, int probes,
         std::uint64_t seed, double weight_std) {
        AttentionTaskOptions task;
        task.kind = ParseAttentionTaskKind(data, "data");
        task.tokens = tokens;
        task.features = features;
        task.sequences = batch;
        task.Validate();
        const AttentionKind kind = ParseAttentionKind(attention, "attention");
        GrowthStudyOptions o =
            GrowthOptions(sigmas, fit_points, fit_range, repeats, norms, probes, seed);
        auto sample = [&](int r) {
          AttentionTaskOptions t = task;
          t.seed = seed + 7919ULL * static_cast<std::uint64_t>(r);
          const AttentionTask a = GenerateAttentionTask(t);
          GrowthSample s;
          s.data.X = a.X;
          s.data.Y = a.Y;
          s.data.attention = kind;
          s.data.causal = causal;
          s.weights = RandomAttentionWeights(
              features, key_dim, seed + 7919ULL * static_cast<std::uint64_t>(r) + 1, weight_std);
          return s;
        };
        GrowthStudy study;
        {
          py::gil_scoped_release release;
          study = RunGrowthStudy(sample, o);
        }
        return GrowthDict(study, repeats);
      },
      "data"_a = "addition", "tokens"_a = 18, "features"_a = 16, "key_dim"_a = 16, "batch"_a = 64,
      "attention"_a = "softmax", "causal"_a = false, "sigmas"_a = py::none(), "fit_points"_a = 5,
      "fit_range"_a = py::none(), "repeats"_a = 20, "norms"_a = "exact", "probes"_a = 20,
      "seed"_a = 1234, "weight_std"_a = 0.0,
      "The growth study of `attnpaths hessian` (same seeds, same numbers): block norms over\n"
      "the sigma grid (default 20 log-spaced from 0.01 to 10) and repeats. Returns 'sigmas',\n"
      "'norms' and 'norm_errors' (sigma, repeat, block, part), 'blocks', 'parts', 'slopes'\n"
      "(one dict per block and part: mean, spread, standard_error, predicted, per-repeat\n"
      "slopes, local slopes), 'fit_range'.");
  m.def(
      "network_hessian",
      [](const std::string& network, py::object x, py::object y, const std::string& loss,
         double weight_decay, bool dense, int k) {
        const Network net = ReadTrainedNetwork(network);
        const Inputs xi = ToInputs(x, "x");
        const Eigen::VectorXd yi = MatrixArg(y, "y", Shape::kVector).vector();
        const NetworkHessian h(net, xi, yi, ParseLossKind(loss, "loss"), weight_decay, 1);
        py::dict out;
        out["loss"] = h.loss();
        out["gradient"] = h.gradient();
        out["jacobian"] = h.jacobian();
        py::list groups;
        for (const ParameterGroup& g : h.groups()) {
          groups.append(py::make_tuple(g.name, g.offset, g.size));
        }
        out["groups"] = groups;
        if (dense) {
          out["hessian"] = h.Dense(HessianPart::kFull);
          out["hessian_outer"] = h.Dense(HessianPart::kOuter);
          out["hessian_functional"] = h.Dense(HessianPart::kFunctional);
          out["asymmetry"] = h.Asymmetry();
        }
        if (k > 0) {
          for (HessianPart part : {HessianPart::kFull, HessianPart::kOuter}) {
            const SymmetricOperator op{h.num_parameters(), [&h, part](const Eigen::VectorXd& v) {
                                         return h.Apply(v, part);
                                       }};
            out[py::str(std::string("extremes_") + HessianPartName(part))] = Extremes(op, k, 1);
          }
        }
        return out;
      },
      "network"_a, "x"_a, "y"_a, "loss"_a = "squared", "weight_decay"_a = 0.0, "dense"_a = true,
      "k"_a = 0,
      "The loss Hessian of a network written by `attnpaths train` at inputs x (P, n_tok, N0)\n"
      "and labels y: 'loss', 'gradient', 'jacobian' (P x n_params, df/dtheta), 'groups'\n"
      "[(name, offset, size)], with dense=True 'hessian', 'hessian_outer' ((1/B) J^T diag(l'') J\n"
      "+ wd I), 'hessian_functional', 'asymmetry' of the finite-difference matrix; with k > 0\n"
      "Lanczos 'extremes_full' and 'extremes_outer'.");
  m.def(
      "tokenized_mixture",
      [](Eigen::Index examples, Eigen::Index tokens, Eigen::Index features,
         double relevant_fraction, Eigen::Index irrelevant_means, double signal, double noise,
         std::uint64_t seed) {
        TokenizedMixtureOptions o;
        o.examples = examples;
        o.tokens = tokens;
        o.features = features;
        o.relevant_fraction = relevant_fraction;
        o.irrelevant_means = irrelevant_means;
        o.signal = signal;
        o.noise = noise;
        o.seed = seed;
        const TokenizedMixture d = GenerateTokenizedMixture(o);
        py::dict out;
        out["x"] = py::array_t<double>({d.x.P(), d.x.n_tok(), d.x.N0()}, d.x.values().data());
        out["y"] = Vector(d.y);
        Eigen::Matrix<int, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> rel = d.relevant;
        out["relevant"] = py::array_t<int>({rel.rows(), rel.cols()}, rel.data());
        return out;
      },
      "examples"_a = 256, "tokens"_a = 8, "features"_a = 16, "relevant_fraction"_a = 0.25,
      "irrelevant_means"_a = 4, "signal"_a = 3.0, "noise"_a = 1.0, "seed"_a = 1,
      "The tokenised mixture of the multi-head GD study (data/tokenized_mixture.h): token 0 is\n"
      "the query token signal*e_{M+2}; every other token is relevant with probability\n"
      "relevant_fraction (mu_y = signal*e_0 for y = +1, signal*e_1 for y = -1, at least one per\n"
      "sequence) or carries one of M = irrelevant_means label-free means signal*e_{2+j}, plus\n"
      "N(0, noise^2) noise. Returns {'x': (P, tokens, features), 'y': (P,) +-1,\n"
      "'relevant': (P, tokens) 0/1}.");
  m.def(
      "head_count_study",
      [](py::object heads, py::object modes, Eigen::Index examples, Eigen::Index test_examples,
         Eigen::Index tokens, Eigen::Index features, double relevant_fraction,
         Eigen::Index irrelevant_means, double signal, double noise, Eigen::Index total_key_dim,
         Eigen::Index total_width, Eigen::Index key_dim, Eigen::Index width,
         Eigen::Index input_width, int steps, double learning_rate, const std::string& loss,
         int repeats, int hessian_every, Eigen::Index hessian_examples, bool ntk_margin,
         std::uint64_t seed) {
        HeadCountStudyOptions o;
        o.ntk_margin = ntk_margin;
        o.heads = heads.cast<std::vector<Eigen::Index>>();
        o.modes.clear();
        for (const std::string& name : modes.cast<std::vector<std::string>>()) {
          o.modes.push_back(ParseWidthMode(name, "modes"));
        }
        o.data.examples = examples;
        o.test_examples = test_examples;
        o.data.tokens = tokens;
        o.data.features = features;
        o.data.relevant_fraction = relevant_fraction;
        o.data.irrelevant_means = irrelevant_means;
        o.data.signal = signal;
        o.data.noise = noise;
        o.data.seed = seed;
        o.total_key_dim = total_key_dim;
        o.total_width = total_width;
        o.key_dim = key_dim;
        o.width = width;
        o.input_width = input_width;
        o.training.epochs = steps;
        o.training.learning_rate = learning_rate;
        o.training.loss = ParseLossKind(loss, "loss");
        o.training.seed = seed;
        o.repeats = repeats;
        o.hessian_every = hessian_every;
        o.hessian_examples = hessian_examples;
        HeadCountStudy s;
        {
          py::gil_scoped_release release;
          s = RunHeadCountStudy(o);
        }
        py::list groups, runs;
        for (const HeadCountGroup& g : s.groups) {
          py::dict d;
          d["mode"] = WidthModeName(g.mode);
          d["heads"] = g.heads;
          d["key_dim"] = g.key_dim;
          d["width"] = g.width;
          d["num_parameters"] = g.num_parameters;
          d["mean_train_loss"] = Vector(g.mean_train_loss);
          d["se_train_loss"] = Vector(g.se_train_loss);
          d["final_train_loss"] = py::make_tuple(g.final_train_loss_mean, g.final_train_loss_se);
          d["paired_difference"] = py::make_tuple(g.paired_difference_mean, g.paired_difference_se);
          d["final_test_accuracy"] =
              py::make_tuple(g.final_test_accuracy_mean, g.final_test_accuracy_se);
          d["final_test_loss"] = py::make_tuple(g.final_test_loss_mean, g.final_test_loss_se);
          d["ntk_margin"] = py::make_tuple(g.ntk_margin_mean, g.ntk_margin_se);
          d["ntk_normalized_margin"] =
              py::make_tuple(g.ntk_normalized_margin_mean, g.ntk_normalized_margin_se);
          d["ntk_separable"] = g.ntk_separable;
          d["ntk_decided"] = g.ntk_decided;
          groups.append(d);
        }
        for (const HeadCountRun& r : s.runs) {
          py::dict d;
          d["mode"] = WidthModeName(r.mode);
          d["heads"] = r.heads;
          d["repeat"] = r.repeat;
          Eigen::VectorXd loss_curve(static_cast<Eigen::Index>(r.summary.loss_curve.size()));
          for (size_t i = 0; i < r.summary.loss_curve.size(); ++i) {
            loss_curve(static_cast<Eigen::Index>(i)) = r.summary.loss_curve[i].train_loss;
          }
          d["train_loss"] = Vector(loss_curve);
          d["final_train_loss"] = r.summary.final_train_loss;
          d["final_test_accuracy"] = r.summary.final_test_accuracy;
          Eigen::MatrixXd track(static_cast<Eigen::Index>(r.hessian.size()), 3);
          for (size_t i = 0; i < r.hessian.size(); ++i) {
            const auto k = static_cast<Eigen::Index>(i);
            track.row(k) << static_cast<double>(r.hessian[i].step), r.hessian[i].largest,
                r.hessian[i].smallest;
          }
          d["hessian"] = track;
          d["ntk_margin"] = r.ntk.svm.margin;
          d["ntk_normalized_margin"] = r.ntk.svm.normalized_margin;
          d["ntk_status"] = HardMarginStatusName(r.ntk.svm.status);
          runs.append(d);
        }
        py::dict out;
        out["groups"] = groups;
        out["runs"] = runs;
        out["seconds"] = s.seconds;
        return out;
      },
      "heads"_a = std::vector<Eigen::Index>{1, 2, 4, 8, 16},
      "modes"_a = std::vector<std::string>{"equal_total", "growing"}, "examples"_a = 256,
      "test_examples"_a = 1000, "tokens"_a = 8, "features"_a = 16, "relevant_fraction"_a = 0.25,
      "irrelevant_means"_a = 4, "signal"_a = 3.0, "noise"_a = 1.0, "total_key_dim"_a = 16,
      "total_width"_a = 16, "key_dim"_a = 4, "width"_a = 4, "input_width"_a = 16, "steps"_a = 200,
      "learning_rate"_a = 0.5, "loss"_a = "logistic", "repeats"_a = 5, "hessian_every"_a = 0,
      "hessian_examples"_a = 0, "ntk_margin"_a = true, "seed"_a = 1,
      "The head-count study of `attnpaths train-sweep` (curvature/head_count_study.h; same\n"
      "seeds, same numbers): full-batch GD on the tokenised mixture for every head count, at\n"
      "equal total width (key_dim = total_key_dim/H, n_2 = total_width/H) and growing width.\n"
      "Returns 'groups' (per mode and H: mean_train_loss per step and its se, final_train_loss,\n"
      "paired_difference to the first H, final_test_accuracy, final_test_loss, ntk_margin and\n"
      "ntk_normalized_margin as (mean, se), ntk_separable / ntk_decided repeat counts) and 'runs'\n"
      "(train_loss per step, 'hessian' rows (step, lambda_max, lambda_min), ntk_margin,\n"
      "ntk_normalized_margin, ntk_status). ntk_margin: the hard-margin SVM on the gradient\n"
      "features at initialisation (curvature/ntk_margin.h; False skips it).");
  m.def(
      "hard_margin_dual",
      [](py::object K, py::object y, double tolerance, int max_sweeps, double resolution,
         int face_solve_every, int active_set_after) {
        HardMarginOptions o;
        o.active_set_after = active_set_after;
        o.tolerance = tolerance;
        o.max_sweeps = max_sweeps;
        o.resolution = resolution;
        o.face_solve_every = face_solve_every;
        const Eigen::MatrixXd k = MatrixArg(K, "K", Shape::kMatrix).matrix();
        const Eigen::VectorXd yi = MatrixArg(y, "y", Shape::kVector).vector();
        HardMarginSummary s;
        {
          py::gil_scoped_release release;
          s = SolveHardMarginDual(k, yi, o);
        }
        py::dict out;
        out["status"] = HardMarginStatusName(s.status);
        out["message"] = s.message;
        out["alpha"] = Vector(s.alpha);
        out["margin"] = s.margin;
        out["margin_lower"] = s.margin_lower;
        out["margin_upper"] = s.margin_upper;
        out["normalized_margin"] = s.normalized_margin;
        out["sum_alpha"] = s.sum_alpha;
        out["dual_objective"] = s.dual_objective;
        out["kkt_violation"] = s.kkt_violation;
        out["sweeps"] = s.sweeps;
        out["face_solves"] = s.face_solves;
        out["active_set"] = s.active_set;
        out["kkt_tolerance"] = s.kkt_tolerance;
        out["support_vectors"] = s.support_vectors;
        return out;
      },
      "K"_a, "y"_a, "tolerance"_a = 1e-9, "max_sweeps"_a = 20000, "resolution"_a = 1e-6,
      "face_solve_every"_a = 10, "active_set_after"_a = 50,
      "The hard-margin SVM through the origin in its dual (curvature/hard_margin_svm.h):\n"
      "max sum(alpha) - alpha^T (y y^T * K) alpha / 2 over alpha >= 0 by coordinate ascent, for a\n"
      "Gram matrix K (P x P) and labels y = +-1. Returns a dict: status ('converged',\n"
      "'not_separable', 'iteration_limit'), alpha, margin = 1/sqrt(sum alpha) (0 when not\n"
      "separable, NaN at the iteration limit), margin_lower/margin_upper (a bracket from the last\n"
      "iterate), normalized_margin = margin / max sqrt(K_ii), kkt_violation, sweeps, face_solves, "
      "support_vectors.");
}

}  // namespace attnpaths::python
