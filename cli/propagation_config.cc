#include "cli/propagation_config.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "cli/report.h"
#include "cli/toml_table.h"
#include "data/atomic_file.h"
#include "data/config.h"
#include "data/npy.h"
#include "kernels/error.h"

namespace attnpaths::cli {

namespace {

// τ0 accepts a number or the strings "inf" / "infinity" (attention off).
void ReadTau0(const TomlTable& t, double* tau0) {
  if (t.HasString("tau0")) {
    std::string text;
    t.Read("tau0", &text);
    Require(text == "inf" || text == "infinity", t.Field("tau0"), "the string \"" + text + "\"",
            "a number > 0 or \"inf\" (no attention)");
    *tau0 = std::numeric_limits<double>::infinity();
    return;
  }
  t.Read("tau0", tau0);
}

}  // namespace

void ReadKernelPropConfig(const std::string& path, KernelPropConfig* c) {
  const TomlDocument doc(path, "attnpaths kernel-prop");
  const TomlTable top = doc.Root();
  top.Allow({"kernel_prop", "output"});
  Require(top.Has("kernel_prop"), path + ": kernel_prop", "nothing", "a [kernel_prop] table");
  const TomlTable kp = top.Sub("kernel_prop");
  kp.Allow({"tokens", "depth", "causal", "method", "gamma_final", "rho_final", "mlp", "tat_eta",
            "activations_per_block", "closed_form", "negative_attention", "clamp_epsilon",
            "input_kernel", "input_variance", "finite_width"});
  KernelPropOptions& o = c->options;
  if (kp.Has("tokens")) {
    kp.ReadInteger("tokens", &o.tokens);
    c->tokens_given = true;
  }
  kp.ReadInteger("depth", &o.depth);
  kp.Read("causal", &o.causal);
  std::string text;
  if (kp.Has("method")) {
    kp.Read("method", &text);
    o.method = ParseAttentionMethod(text, kp.Field("method"));
  }
  kp.Read("gamma_final", &o.gamma_final);
  kp.Read("rho_final", &o.rho_final);
  if (kp.Has("mlp")) {
    kp.Read("mlp", &text);
    o.mlp = ParseMlpKind(text, kp.Field("mlp"));
  }
  kp.Read("tat_eta", &o.tat_eta);
  kp.ReadInteger("activations_per_block", &o.activations_per_block);
  kp.Read("closed_form", &o.closed_form);
  if (kp.Has("negative_attention")) {
    kp.Read("negative_attention", &text);
    o.negative_attention = ParseNegativeAttention(text, kp.Field("negative_attention"));
  }
  kp.Read("clamp_epsilon", &o.clamp_epsilon);
  kp.Read("input_kernel", &c->input_kernel);
  if (c->input_kernel != "identity") doc.Resolve(&c->input_kernel);
  kp.Read("input_variance", &c->input_variance);
  const TomlTable fw = kp.Sub("finite_width");
  c->finite_width = kp.Has("finite_width");
  fw.Allow({"widths", "values", "draws", "seed"});
  fw.Read("widths", &c->fw.widths);
  if (fw.Has("values")) {
    fw.Read("values", &text);
    c->fw.values = ParseValueWeights(text, fw.Field("values"));
  }
  fw.ReadInteger("draws", &c->fw.draws);
  fw.ReadSeed("seed", &c->fw.seed);
  const TomlTable out = top.Sub("output");
  out.Allow({"directory"});
  if (out.Has("directory")) {
    out.Read("directory", &c->output_directory);
    doc.Resolve(&c->output_directory);
  }
}

Eigen::MatrixXd LoadInputKernel(const std::string& spec, double variance,
                                const std::string& field) {
  const NpyArray a = LoadArray(spec, "", field);
  if (a.shape.size() == 2) return NpyToMatrix(a, field);
  Require(a.shape.size() == 3, field + " dimensions", a.shape.size(),
          "2 (a tokens x tokens kernel) or 3 (a dataset P x n_tok x N0)");
  Require(std::isfinite(variance) && variance > 0, field + " input_variance", variance,
          "a variance sigma_0^2 > 0");
  const Inputs x = NpyToInputs(a, field);
  Require(x.P() >= 1, field + " examples", x.P(), "at least 1 example");
  Eigen::MatrixXd K = Eigen::MatrixXd::Zero(x.n_tok(), x.n_tok());
  for (Eigen::Index mu = 0; mu < x.P(); ++mu) K += x.example(mu).transpose() * x.example(mu);
  return variance / static_cast<double>(x.N0() * x.P()) * K;  // mean of σ_0² xᵀx / N0
}

void ReadShapedSdeConfig(const std::string& path, ShapedSdeConfig* c) {
  const TomlDocument doc(path, "attnpaths shaped-sde");
  const TomlTable top = doc.Root();
  top.Allow({"shaped_sde", "output"});
  Require(top.Has("shaped_sde"), path + ": shaped_sde", "nothing", "a [shaped_sde] table");
  const TomlTable s = top.Sub("shaped_sde");
  s.Allow({"tokens", "V0", "gamma", "tau0", "depth_to_width", "dt", "paths", "cap", "seed",
           "attention", "exploded_in_quantiles", "entries", "grid_points", "sde_no_attention",
           "check_dt", "mlp", "networks"});
  if (s.HasString("V0")) {
    std::string file;
    s.Read("V0", &file);
    doc.Resolve(&file);
    c->V0 = NpyToMatrix(LoadArray(file, "", s.Field("V0")), s.Field("V0"));
  } else {
    s.Read("V0", &c->V0);
  }
  Require(c->V0.size() > 0, s.Field("V0"), "nothing",
          "the initial covariance V0 (m x m rows, or an NPY file)");
  if (s.Has("tokens")) {
    Eigen::Index m = 0;
    s.ReadInteger("tokens", &m);
    Require(m == c->V0.rows(), s.Field("tokens"), m,
            std::to_string(c->V0.rows()) + " (the size of V0)");
  }
  s.Read("gamma", &c->model.gamma);
  ReadTau0(s, &c->model.tau0);
  s.Read("depth_to_width", &c->depth_to_width);
  s.Read("dt", &c->dt);
  s.ReadInteger("paths", &c->paths);
  s.Read("cap", &c->cap);
  s.ReadSeed("seed", &c->seed);
  std::string text;
  if (s.Has("attention")) {  // the networks' attention: "shaped", "standard" or "both"
    s.Read("attention", &text);
    if (text == "both") {
      c->attention = {ShapedAttention::kShaped, ShapedAttention::kStandard};
    } else {
      c->attention = {ParseShapedAttention(text, s.Field("attention"))};
    }
  }
  if (s.Has("exploded_in_quantiles")) {
    s.Read("exploded_in_quantiles", &text);
    c->exploded_in_quantiles = ParseExplodedInQuantiles(text, s.Field("exploded_in_quantiles"));
  }
  if (s.Has("entries")) {
    std::vector<std::vector<Eigen::Index>> pairs;
    s.Read("entries", &pairs);
    c->entries.clear();
    for (size_t i = 0; i < pairs.size(); ++i) {
      Require(pairs[i].size() == 2, s.Field("entries") + "[" + std::to_string(i) + "] length",
              pairs[i].size(), "2 (a pair [a, b] of token indices)");
      c->entries.emplace_back(pairs[i][0], pairs[i][1]);
    }
  }
  s.ReadInteger("grid_points", &c->grid_points);
  s.Read("sde_no_attention", &c->sde_no_attention);
  s.Read("check_dt", &c->check_dt);
  const TomlTable mlp = s.Sub("mlp");
  mlp.Allow({"enabled", "gamma", "c_plus", "c_minus"});
  c->model.mlp = s.Has("mlp");
  mlp.Read("enabled", &c->model.mlp);
  mlp.Read("gamma", &c->model.mlp_gamma);
  mlp.Read("c_plus", &c->model.c_plus);
  mlp.Read("c_minus", &c->model.c_minus);
  const TomlTable net = s.Sub("networks");
  net.Allow({"widths", "samples", "key_dim", "sampler", "seed", "attention"});
  {
    net.Read("widths", &c->widths);
    net.Read("samples", &c->samples);
    net.ReadInteger("key_dim", &c->key_dim);
    if (net.Has("sampler")) {
      net.Read("sampler", &text);
      c->sampler = ParseShapedSampler(text, net.Field("sampler"));
    }
    if (net.Has("attention")) {
      net.Read("attention", &text);
      c->attention =
          text == "both"
              ? std::vector<ShapedAttention>{ShapedAttention::kShaped, ShapedAttention::kStandard}
              : std::vector<ShapedAttention>{ParseShapedAttention(text, net.Field("attention"))};
    }
    net.ReadSeed("seed", &c->seed);
  }
  Require(c->samples.size() == 1 || c->samples.size() == c->widths.size(),
          net.Field("samples") + " count", c->samples.size(),
          "1 or one per width (" + std::to_string(c->widths.size()) + ")");
  for (size_t i = 0; i < c->widths.size(); ++i) {
    Require(c->widths[i] >= 1, net.Field("widths") + "[" + std::to_string(i) + "]", c->widths[i],
            "a width >= 1");
  }
  const TomlTable out = top.Sub("output");
  out.Allow({"directory"});
  if (out.Has("directory")) {
    out.Read("directory", &c->output_directory);
    doc.Resolve(&c->output_directory);
  }
}

void WriteMatrixStack(const std::string& path, const std::vector<Eigen::MatrixXd>& m) {
  const int64_t k = static_cast<int64_t>(m.size());
  const int64_t r = k ? m[0].rows() : 0, c = k ? m[0].cols() : 0;
  std::vector<double> data;
  data.reserve(static_cast<size_t>(k * r * c));
  for (const Eigen::MatrixXd& x : m) {
    for (Eigen::Index i = 0; i < r; ++i) {
      for (Eigen::Index j = 0; j < c; ++j) data.push_back(x(i, j));
    }
  }
  WriteNpy(path, {k, r, c}, data.data());
}

void WriteVectorStack(const std::string& path, const std::vector<Eigen::VectorXd>& v) {
  const int64_t k = static_cast<int64_t>(v.size()), n = k ? v[0].size() : 0;
  std::vector<double> data;
  for (const Eigen::VectorXd& x : v) data.insert(data.end(), x.data(), x.data() + x.size());
  WriteNpy(path, {k, n}, data.data());
}

std::string CsvNumber(double v) {
  if (!std::isfinite(v)) return "";
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

nlohmann::json JsonNumber(double v) {
  return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json();
}

void ThrottledProgress::Report(const std::string& text, double elapsed, bool last) {
  if (quiet_ || (!last && elapsed < next_)) return;
  next_ = elapsed + every_;
  ProgressLine(text, false);
}

}  // namespace attnpaths::cli
