#include "data/config.h"

#include <toml++/toml.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <memory>

#include "data/array_reader.h"
#include "data/atomic_file.h"
#include "data/hdf5_file.h"
#include "data/npy.h"
#include "data/size_limit.h"
#include "kernels/error.h"

namespace attnpaths {

namespace {

// Reads a TOML table with a field-naming prefix, remembering which keys exist.
class Section {
 public:
  Section(const toml::table* table, std::string where, std::string file)
      : table_(table), where_(std::move(where)), file_(std::move(file)) {}

  bool present() const { return table_ != nullptr; }
  std::string field(std::string_view key) const {
    return file_ + ": " + (where_.empty() ? std::string(key) : where_ + "." + std::string(key));
  }
  const toml::node* node(std::string_view key) const { return table_ ? table_->get(key) : nullptr; }
  bool has(std::string_view key) const { return node(key) != nullptr; }

  // Every key must be one of `allowed`.
  void CheckKeys(const std::vector<std::string>& allowed) const {
    if (!table_) return;
    for (const auto& [k, v] : *table_) {
      const std::string key(k.str());
      if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
      const std::string near = NearestName(key, allowed);
      throw Error(ErrorMessage(field(key), "an unknown key",
                               near.empty() ? "one of the documented keys (docs/config.md)"
                                            : "a known key (did you mean \"" + near + "\"?)"));
    }
  }

  double Number(std::string_view key, double def) const {
    const toml::node* n = node(key);
    if (!n) return def;
    if (auto i = n->value_exact<int64_t>()) return static_cast<double>(*i);
    if (auto d = n->value_exact<double>()) return *d;
    throw Error(ErrorMessage(field(key), Describe(*n), "a number"));
  }
  int64_t Integer(std::string_view key, int64_t def) const {
    const toml::node* n = node(key);
    if (!n) return def;
    if (auto i = n->value_exact<int64_t>()) return *i;
    throw Error(ErrorMessage(field(key), Describe(*n), "an integer"));
  }
  bool Bool(std::string_view key, bool def) const {
    const toml::node* n = node(key);
    if (!n) return def;
    if (auto b = n->value_exact<bool>()) return *b;
    throw Error(ErrorMessage(field(key), Describe(*n), "true or false"));
  }
  std::string String(std::string_view key, const std::string& def) const {
    const toml::node* n = node(key);
    if (!n) return def;
    if (auto s = n->value_exact<std::string>()) return *s;
    throw Error(ErrorMessage(field(key), Describe(*n), "a string"));
  }
  std::vector<double> Numbers(std::string_view key) const {
    std::vector<double> out;
    const toml::node* n = node(key);
    if (!n) return out;
    const toml::array* a = n->as_array();
    if (!a) throw Error(ErrorMessage(field(key), Describe(*n), "an array of numbers"));
    for (size_t i = 0; i < a->size(); ++i) {
      const toml::node& e = *a->get(i);
      if (auto v = e.value_exact<int64_t>()) {
        out.push_back(static_cast<double>(*v));
      } else if (auto d = e.value_exact<double>()) {
        out.push_back(*d);
      } else {
        throw Error(
            ErrorMessage(field(key) + "[" + std::to_string(i) + "]", Describe(e), "a number"));
      }
    }
    return out;
  }
  Section Sub(std::string_view key) const {
    const toml::node* n = node(key);
    if (n && !n->is_table()) throw Error(ErrorMessage(field(key), Describe(*n), "a table"));
    return Section(n ? n->as_table() : nullptr,
                   where_.empty() ? std::string(key) : where_ + "." + std::string(key), file_);
  }
  const toml::array* Array(std::string_view key) const {
    const toml::node* n = node(key);
    if (!n) return nullptr;
    if (!n->is_array()) throw Error(ErrorMessage(field(key), Describe(*n), "an array"));
    return n->as_array();
  }
  const std::string& where() const { return where_; }
  const std::string& file() const { return file_; }

  // Every key of the table as an OptionTable, for an Options struct's fields
  // to read (kernels/option_field.h): scalars and arrays of strings.
  OptionTable Options() const {
    OptionTable out;
    out.where = field("");
    if (!table_) return out;
    for (const auto& [k, v] : *table_) {
      const std::string key(k.str());
      OptionValue value;
      if (auto b = v.value_exact<bool>()) {
        value = *b;
      } else if (auto i = v.value_exact<int64_t>()) {
        value = static_cast<std::int64_t>(*i);
      } else if (auto d = v.value_exact<double>()) {
        value = *d;
      } else if (auto t = v.value_exact<std::string>()) {
        value = *t;
      } else if (const toml::array* a = v.as_array()) {
        std::vector<std::string> names;
        for (size_t i = 0; i < a->size(); ++i) {
          auto t = a->get(i)->value_exact<std::string>();
          if (!t) {
            throw Error(ErrorMessage(field(key) + "[" + std::to_string(i) + "]",
                                     Describe(*a->get(i)), "a string"));
          }
          names.push_back(*t);
        }
        value = std::move(names);
      } else {
        throw Error(ErrorMessage(field(key), Describe(v), "a number, true/false or a string"));
      }
      out.entries.push_back({key, field(key), std::move(value)});
    }
    return out;
  }

  static std::string Describe(const toml::node& n) {
    switch (n.type()) {
      case toml::node_type::string:
        return "the string \"" + *n.value<std::string>() + "\"";
      case toml::node_type::integer:
        return "the integer " + std::to_string(*n.value<int64_t>());
      case toml::node_type::floating_point:
        return "the number " + ToText(*n.value<double>());
      case toml::node_type::boolean:
        return *n.value<bool>() ? "true" : "false";
      case toml::node_type::array:
        return "an array";
      case toml::node_type::table:
        return "a table";
      default:
        return "a date/time";
    }
  }

 private:
  const toml::table* table_;
  std::string where_;
  std::string file_;
};

std::string Resolve(const std::string& path, const std::string& base_dir) {
  std::filesystem::path p(path);
  if (p.is_absolute() || base_dir.empty()) return path;
  return (std::filesystem::path(base_dir) / p).string();
}

HeadSpec ReadHead(const Section& s, const std::string& base_dir, const HmmTaskOptions* hmm,
                  std::uint64_t default_seed, Study* st) {
  s.CheckKeys({"kind",
               "name",
               "beta",
               "W",
               "Q",
               "K",
               "attention",
               "test_attention",
               "normalization",
               "causal",
               "perturbation",
               "perturbation_features",
               "perturbation_positions",
               "perturbation_cross",
               "seed",
               "shift",
               "bos_strength",
               "N_f",
               "chain_tokens",
               "index"});
  if (!s.has("kind")) throw Error(ErrorMessage(s.field("kind"), "nothing", "a head kind"));
  const std::string kind = s.String("kind", "");
  const std::string name = s.String("name", kind);
  if (kind.rfind("hmm_", 0) == 0) {
    const HmmHeadKind hk = ParseHmmHeadKind(kind.substr(4), s.field("kind") + " (after hmm_)");
    HmmHeadOptions o;
    o.beta = s.Number("beta", o.beta);
    o.shift = static_cast<int>(s.Integer("shift", o.shift));
    o.bos_strength = s.Number("bos_strength", o.bos_strength);
    o.SetPerturbation(s.Number("perturbation", 0.0));
    o.perturbation_features = s.Number("perturbation_features", o.perturbation_features);
    o.perturbation_positions = s.Number("perturbation_positions", o.perturbation_positions);
    o.perturbation_cross = s.Number("perturbation_cross", o.perturbation_cross);
    o.seed = static_cast<std::uint64_t>(s.Integer("seed", static_cast<int64_t>(default_seed)));
    const int64_t N_f = s.Integer("N_f", hmm ? hmm->N_f : -1);
    const int64_t T = s.Integer("chain_tokens", hmm ? hmm->chain_tokens : -1);
    Require(N_f > 0, s.field("N_f"), "nothing",
            "the feature size N_f (set it here or use the hmm generator in [data])");
    Require(T > 0, s.field("chain_tokens"), "nothing",
            "the number of chain tokens (set it here or use the hmm generator in [data])");
    Require(N_f % 2 == 0, s.field("N_f"), N_f, "an even number >= 2");
    const double N0 = static_cast<double>(N_f) + static_cast<double>(T) + 1;
    RequireGeneratedSize(s.file() + ": " + s.where(), "W of N0*N0 (N0 = N_f + chain_tokens + 1)",
                         {N0, N0});
    return MakeHmmHead(hk, N_f, T, o, name);
  }
  HeadSpec h;
  h.name = name;
  h.kind = ParseHeadKind(kind, s.field("kind"));
  h.beta = s.Number("beta", 1.0);
  const std::string norm = s.String("normalization", "softmax");
  if (norm == "softmax") {
    h.normalization = Normalization::kSoftmax;
  } else if (norm == "hardmax") {
    h.normalization = Normalization::kHardmax;
  } else {
    throw Error(ErrorMessage(s.field("normalization"), "\"" + norm + "\"", "softmax or hardmax"));
  }
  h.causal = s.Bool("causal", false);
  auto need = [&](const char* key) {
    if (!s.has(key)) {
      throw Error(ErrorMessage(s.field(key), "nothing",
                               "a file for head kind \"" + kind + "\" (NPY or file.h5:/dataset)"));
    }
    const std::string spec = s.String(key, "");
    st->files.emplace_back(s.where() + "." + key, Resolve(spec, base_dir));
    return LoadArray(spec, base_dir, s.field(key));
  };
  // Attention files hold [example, query, key] (rows sum to one); Ω is key-first.
  auto attention = [&](const char* key) {
    auto m = NpyToMatrices(need(key), s.field(key));
    for (auto& a : m) a.transposeInPlace();
    return std::make_shared<const std::vector<Eigen::MatrixXd>>(std::move(m));
  };
  switch (h.kind) {
    case HeadKind::kWForm:
      h.W = NpyToMatrix(need("W"), s.field("W"));
      break;
    case HeadKind::kQKForm:
      h.Q = NpyToMatrix(need("Q"), s.field("Q"));
      h.K = NpyToMatrix(need("K"), s.field("K"));
      break;
    case HeadKind::kGiven:
      h.given_train = attention("attention");
      if (s.has("test_attention")) h.given_test = attention("test_attention");
      break;
    case HeadKind::kFixed: {
      // One [query, key] matrix A for every example (Ω = Aᵀ), or matrix `index`
      // (0-based) of an [index, query, key] stack such as kernel-prop's attention.npy.
      const NpyArray a = need("attention");
      if (a.shape.size() == 3) {
        const auto m = NpyToMatrices(a, s.field("attention"));
        const int64_t k = s.Integer("index", -1);
        Require(k >= 0 && k < static_cast<int64_t>(m.size()), s.field("index"),
                s.has("index") ? std::to_string(k) : std::string("nothing"),
                "an index in [0, " + std::to_string(m.size()) + ") into the 3-D attention array");
        h.fixed = m[static_cast<size_t>(k)].transpose();
      } else {
        Require(!s.has("index"), s.field("index"), s.Integer("index", 0),
                "no index for a 2-D attention array");
        h.fixed = NpyToMatrix(a, s.field("attention")).transpose();
      }
      break;
    }
    default:
      break;
  }
  return h;
}

void ReadArchitecture(const Section& a, Study& st, const std::string& base_dir,
                      const HmmTaskOptions* hmm) {
  a.CheckKeys({"readout", "width", "widths", "variance", "variances", "layers"});
  st.architecture.readout = ParseReadout(a.String("readout", "last"), a.field("readout"));
  const toml::array* layers = a.Array("layers");
  if (!layers || layers->empty()) {
    throw Error(ErrorMessage(a.field("layers"), "nothing",
                             "at least one [[architecture.layers]] with heads = [...]"));
  }
  std::uint64_t seed = st.seed * 1000 + 101;
  for (size_t l = 0; l < layers->size(); ++l) {
    const toml::table* lt = layers->get(l)->as_table();
    const std::string where = a.where() + ".layers[" + std::to_string(l) + "]";
    if (!lt)
      throw Error(ErrorMessage(a.file() + ": " + where, "not a table", "a table with heads"));
    Section ls(lt, where, a.file());
    ls.CheckKeys({"heads"});
    const toml::array* heads = ls.Array("heads");
    if (!heads || heads->empty()) {
      throw Error(ErrorMessage(ls.field("heads"), "nothing", "at least one head"));
    }
    std::vector<HeadSpec> specs;
    for (size_t h = 0; h < heads->size(); ++h) {
      const toml::table* ht = heads->get(h)->as_table();
      const std::string hw = where + ".heads[" + std::to_string(h) + "]";
      if (!ht) throw Error(ErrorMessage(a.file() + ": " + hw, "not a table", "{ kind = ... }"));
      specs.push_back(ReadHead(Section(ht, hw, a.file()), base_dir, hmm, seed++, &st));
    }
    st.architecture.layers.push_back(std::move(specs));
  }
  const size_t L = st.architecture.layers.size();
  for (const auto& [one, many] :
       {std::pair{"width", "widths"}, std::pair{"variance", "variances"}}) {
    if (a.has(one) && a.has(many)) {
      throw Error(ErrorMessage(
          a.field(one) + " and " + many, "both",
          std::string("one of them (") + many + " sets each value, " + one + " all of them)"));
    }
  }
  if (a.has("widths")) {
    st.architecture.widths = a.Numbers("widths");
  } else {
    st.architecture.widths.assign(L + 1, a.Number("width", 100));
  }
  if (a.has("variances")) {
    st.architecture.variances = a.Numbers("variances");
  } else {
    st.architecture.variances.assign(L + 2, a.Number("variance", 1.0));
  }
  try {
    st.architecture.ValidateHyperparameters();
  } catch (const Error& e) {
    throw Error(a.file() + ": " + e.what());
  }
}

void ReadData(const Section& d, Study& st, const std::string& base_dir, HmmTaskOptions* hmm,
              bool* use_hmm, StudyLoading loading) {
  d.CheckKeys({"generator", "hmm", "train_x", "train_y", "test_x", "test_y", "task"});
  st.task = ParseTask(d.String("task", "classification"), d.field("task"));
  const std::string generator = d.String("generator", "");
  if (generator.empty() && d.has("hmm")) {
    throw Error(ErrorMessage(d.field("hmm"), "a [data.hmm] table without generator = \"hmm\"",
                             "generator = \"hmm\" in [data] (or no [data.hmm] table)"));
  }
  if (!generator.empty()) {
    if (generator != "hmm") {
      throw Error(ErrorMessage(d.field("generator"), "\"" + generator + "\"", "\"hmm\""));
    }
    for (const char* key : {"train_x", "train_y", "test_x", "test_y"}) {
      if (d.has(key)) {
        throw Error(ErrorMessage(d.field(key), "a file together with generator = \"hmm\"",
                                 "either generated data or files, not both"));
      }
    }
    const Section h = d.Sub("hmm");
    h.CheckKeys({"P", "P_test", "chain_tokens", "N_f", "stay_plus", "stay_minus", "noise", "seed",
                 "test_seed"});
    hmm->P = h.Integer("P", 100);
    hmm->chain_tokens = h.Integer("chain_tokens", hmm->chain_tokens);
    hmm->N_f = h.Integer("N_f", hmm->N_f);
    hmm->stay_plus = h.Number("stay_plus", hmm->stay_plus);
    hmm->stay_minus = h.Number("stay_minus", hmm->stay_minus);
    if (h.has("noise")) {
      const auto n = h.Numbers("noise");
      Require(n.size() == 3, h.field("noise") + " length", n.size(),
              "3 strengths (along v+ + v-, along v+ - v-, orthogonal)");
      hmm->noise_sum = n[0];
      hmm->noise_difference = n[1];
      hmm->noise_orthogonal = n[2];
    }
    hmm->seed = static_cast<std::uint64_t>(h.Integer("seed", 27));
    // P·n_tok·N0 with n_tok = chain_tokens + 1, N0 = N_f + n_tok (data/hmm.h).
    const auto require_size = [](const HmmTaskOptions& o, const std::string& P) {
      const double n_tok = static_cast<double>(o.chain_tokens) + 1;
      RequireGeneratedSize("hmm." + P, P + "*n_tok*N0",
                           {static_cast<double>(o.P), n_tok, static_cast<double>(o.N_f) + n_tok});
    };
    HmmTaskOptions t = *hmm;  // read outside the try: these errors name the file already
    t.P = h.Integer("P_test", 1000);
    t.seed = static_cast<std::uint64_t>(h.Integer("test_seed", 59));
    Require(t.P >= 0, h.field("P_test"), t.P, "a count >= 0 (0: no test set)");
    // The generator is recorded (it is the set's fingerprint); with
    // StudyLoading::kDeferGenerated the examples are not generated here: the
    // labels are known, and ResolveStudyData (study/study_examples.h)
    // generates in memory the sets that are not streamed.
    const auto deferred = [](const HmmTaskOptions& o, const char* field, Dataset* set) {
      // Only the labels are held: P of them, within the generator's limit.
      RequireGeneratedSize(std::string("hmm.") + field, field, {static_cast<double>(o.P)});
      const Eigen::Index n_tok = o.chain_tokens + 1;
      set->x = Inputs(0, n_tok, o.N_f + n_tok);
      set->y.resize(o.P, 1);
      for (Eigen::Index mu = 0; mu < o.P; ++mu) set->y(mu, 0) = HmmLabel(o, mu);
    };
    const bool defer = loading == StudyLoading::kDeferGenerated;
    try {
      st.train_generator = *hmm;
      if (t.P > 0) st.test_generator = t;
      if (defer) {
        hmm->ValidateParameters();
        deferred(*hmm, "P", &st.train);
        st.train_streamed = true;
        if (t.P > 0) {
          deferred(t, "P_test", &st.test);
          st.test_streamed = true;
        }
      } else {
        hmm->Validate();
        require_size(*hmm, "P");
        st.train = GenerateHmmTask(*hmm);
        if (t.P > 0) {
          require_size(t, "P_test");
          st.test = GenerateHmmTask(t);
        }
      }
      if (t.P == 0) {
        st.test.x = Inputs(0, st.train.x.n_tok(), st.train.x.N0());
        st.test.y.resize(0, 1);
      }
    } catch (const Error& e) {
      throw Error(d.file() + ": data." + e.what());
    }
    st.has_test_labels = t.P > 0;
    // The generator's first ceil(P/2) examples are class +1: P = 1 has one class.
    CheckLabelConvention(
        st.train.y, st.task,
        d.file() + ": data.hmm.P = " + std::to_string(hmm->P) + " generated labels", true);
    *use_hmm = true;
    return;
  }
  auto need = [&](const char* key) {
    if (!d.has(key)) {
      throw Error(ErrorMessage(d.field(key), "nothing",
                               "an array file (NPY or file.h5:/dataset), or generator = \"hmm\""));
    }
    const std::string spec = d.String(key, "");
    st.files.emplace_back(std::string("data.") + key, Resolve(spec, base_dir));
    return LoadArray(spec, base_dir, d.field(key));
  };
  // Inputs straight into their final buffer (a float64 NPY file is mapped, not copied).
  auto need_inputs = [&](const char* key) {
    if (!d.has(key)) need(key);  // the same message for a missing key
    const std::string spec = d.String(key, "");
    st.files.emplace_back(std::string("data.") + key, Resolve(spec, base_dir));
    return LoadInputs(spec, base_dir, d.field(key));
  };
  st.train.x = need_inputs("train_x");
  st.train.y = NpyToMatrix(need("train_y"), d.field("train_y"));
  Require(st.train.x.P() >= 1, d.field("train_x") + " examples", st.train.x.P(),
          "at least 1 training example");
  Require(st.train.y.rows() == st.train.x.P(), d.field("train_y") + " rows", st.train.y.rows(),
          std::to_string(st.train.x.P()) + " (one label row per example of train_x)");
  if (d.has("test_y") && !d.has("test_x")) {
    throw Error(ErrorMessage(d.field("test_y"), "test labels without test_x",
                             "test_x as well (the inputs the labels belong to), or no test_y"));
  }
  if (d.has("test_x")) {
    st.test.x = need_inputs("test_x");
    Require(st.test.x.n_tok() == st.train.x.n_tok() && st.test.x.N0() == st.train.x.N0(),
            d.field("test_x") + " shape",
            "(" + std::to_string(st.test.x.P()) + ", " + std::to_string(st.test.x.n_tok()) + ", " +
                std::to_string(st.test.x.N0()) + ")",
            "(P_test, " + std::to_string(st.train.x.n_tok()) + ", " +
                std::to_string(st.train.x.N0()) + ") like train_x");
    if (d.has("test_y")) {
      st.test.y = NpyToMatrix(need("test_y"), d.field("test_y"));
      Require(st.test.y.rows() == st.test.x.P(), d.field("test_y") + " rows", st.test.y.rows(),
              std::to_string(st.test.x.P()) + " (one label row per example of test_x)");
      Require(st.test.y.cols() == st.train.y.cols(), d.field("test_y") + " columns",
              st.test.y.cols(), std::to_string(st.train.y.cols()) + " (as many as train_y)");
      st.has_test_labels = true;
    }
  } else {
    st.test.x = Inputs(0, st.train.x.n_tok(), st.train.x.N0());
    st.test.y.resize(0, st.train.y.cols());
  }
  st.train.x.CheckFinite((d.field("train_x")).c_str());
  st.test.x.CheckFinite((d.field("test_x")).c_str());
  for (const auto* y : {&st.train.y, &st.test.y}) {
    for (Eigen::Index i = 0; i < y->size(); ++i) {
      Require(std::isfinite(y->data()[i]),
              d.field(y == &st.train.y ? "train_y" : "test_y") + " entry " + std::to_string(i),
              y->data()[i], "a finite number");
    }
  }
  // What the labels mean (data/labels.h): ±1 classes, one-hot rows, or regression targets.
  CheckLabelConvention(st.train.y, st.task, d.field("train_y"), true);
  if (st.has_test_labels) {
    CheckLabelConvention(st.test.y, st.task, d.field("test_y"), false, &st.train.y);
  }
}

}  // namespace

void CheckSweepValues(const std::vector<double>& values, const std::string& field, double min) {
  for (size_t i = 0; i < values.size(); ++i) {
    Require(std::isfinite(values[i]) && values[i] >= min, field + "[" + std::to_string(i) + "]",
            values[i], "a finite value >= " + ToText(min));
    for (size_t j = 0; j < i; ++j) {
      Require(values[j] != values[i], field + "[" + std::to_string(i) + "]", values[i],
              "no duplicate sweep points (it repeats entry " + std::to_string(j) + ")");
    }
  }
}

NpyArray LoadArray(const std::string& spec, const std::string& base_dir, const std::string& field) {
  Require(!spec.empty(), field, "an empty path", "a file name");
  try {
    for (const char* ext : {".h5:", ".hdf5:"}) {
      const size_t at = spec.find(ext);
      if (at != std::string::npos) {
        const size_t colon = at + std::string(ext).size() - 1;
        return ReadHdf5Dataset(Resolve(spec.substr(0, colon), base_dir), spec.substr(colon + 1));
      }
    }
    return ReadNpy(Resolve(spec, base_dir));
  } catch (const Error& e) {
    throw Error(field + ": " + e.what());  // name the config field as well as the file
  }
}

Eigen::Index StudyExamples(const Study& study, Split split) {
  const Dataset& set = split == Split::kTrain ? study.train : study.test;
  return Streamed(study, split) ? set.y.rows() : set.x.P();
}

bool Streamed(const Study& study, Split split) {
  return split == Split::kTrain ? study.train_streamed : study.test_streamed;
}

Study ParseStudy(std::string_view text, const std::string& base_dir, const std::string& name,
                 StudyLoading loading) {
  toml::table root;
  try {
    root = toml::parse(text, name);
  } catch (const toml::parse_error& e) {
    const auto& b = e.source().begin;
    throw Error(ErrorMessage(name + ":" + std::to_string(b.line) + ":" + std::to_string(b.column),
                             "invalid TOML (" + std::string(e.description()) + ")",
                             "a valid TOML document"));
  }
  Study st;
  st.config_path = name;
  const Section top(&root, "", name);
  top.CheckKeys({"name", "seed", "temperature", "temperatures", "data", "architecture", "solver",
                 "sampler", "pruning", "kernel", "output", "sweep"});
  st.name = top.String("name", st.name);
  st.seed = static_cast<std::uint64_t>(top.Integer("seed", 0));
  if (top.has("temperature") && top.has("temperatures")) {
    throw Error(
        ErrorMessage(top.field("temperature") + " and temperatures", "both", "one of them"));
  }
  if (top.has("temperatures")) {
    st.temperatures = top.Numbers("temperatures");
    Require(!st.temperatures.empty(), top.field("temperatures"), "an empty array",
            "at least one temperature");
  } else {
    st.temperatures = {top.Number("temperature", 0.01)};
  }
  for (double T : st.temperatures) {
    Require(std::isfinite(T) && T >= 0, top.field("temperature"), T, "a finite value >= 0");
  }
  HmmTaskOptions hmm;
  bool use_hmm = false;
  const Section data = top.Sub("data");
  if (!data.present()) throw Error(ErrorMessage(top.field("data"), "nothing", "a [data] table"));
  ReadData(data, st, base_dir, &hmm, &use_hmm, loading);
  const Section arch = top.Sub("architecture");
  if (!arch.present()) {
    throw Error(ErrorMessage(top.field("architecture"), "nothing", "an [architecture] table"));
  }
  ReadArchitecture(arch, st, base_dir, use_hmm ? &hmm : nullptr);

  // Read by the library's Options (study/settings.h): every key checked there.
  st.solver_table = top.Sub("solver").Options();
  st.sampler_table = top.Sub("sampler").Options();
  st.pruning_table = top.Sub("pruning").Options();

  const Section kernel = top.Sub("kernel");
  kernel.CheckKeys({"strategy", "memory_limit_gb"});
  st.kernel.strategy =
      ParseKernelStrategy(kernel.String("strategy", "auto"), kernel.field("strategy"));
  const double gb = kernel.Number("memory_limit_gb", st.kernel.memory_limit_bytes / (1ull << 30));
  Require(gb > 0, kernel.field("memory_limit_gb"), gb, "a value > 0");
  st.kernel.memory_limit_bytes = gb * double(1ull << 30);

  const Section sweep = top.Sub("sweep");
  sweep.CheckKeys({"widths", "temperatures"});
  st.sweep_widths = sweep.Numbers("widths");
  Require(!sweep.has("widths") || !st.sweep_widths.empty(), sweep.field("widths"), "an empty array",
          "at least one width (or no [sweep] widths: the architecture's width)");
  if (sweep.has("temperatures")) {
    if (top.has("temperature") || top.has("temperatures")) {
      throw Error(ErrorMessage(
          sweep.field("temperatures"),
          std::string("a second list beside the top-level ") +
              (top.has("temperature") ? "temperature" : "temperatures"),
          "the temperatures in one place ([sweep] temperatures or the top-level key)"));
    }
    st.temperatures = sweep.Numbers("temperatures");
    Require(!st.temperatures.empty(), sweep.field("temperatures"), "an empty array",
            "at least one temperature");
  }
  CheckSweepValues(st.sweep_widths, sweep.field("widths"), 1.0);
  CheckSweepValues(
      st.temperatures,
      sweep.has("temperatures") ? sweep.field("temperatures") : top.field("temperatures"), 0.0);

  const Section output = top.Sub("output");
  output.CheckKeys({"directory"});
  st.output_directory = Resolve(output.String("directory", st.output_directory), base_dir);

  // Heads against the data.
  try {
    st.architecture.Validate(st.train.x.N0(), st.train.x.n_tok());
  } catch (const Error& e) {
    throw Error(name + ": " + e.what());
  }
  return st;
}

Study LoadStudy(const std::string& path, StudyLoading loading) {
  const std::string text = ReadFile(path);
  Require(!text.empty(), path, "an empty file (or a pipe nobody writes)", "a TOML study");
  const std::string base = std::filesystem::path(path).parent_path().string();
  return ParseStudy(text, base, path, loading);
}

}  // namespace attnpaths
