#include "study/sample_files.h"

#include <algorithm>
#include <cmath>

#include "data/atomic_file.h"
#include "data/hdf5_file.h"
#include "data/npy.h"
#include "data/result_index.h"
#include "study/path_labels.h"

namespace attnpaths {

namespace {

nlohmann::json Number(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(); }

nlohmann::json Matrix(const Eigen::MatrixXd& m) {
  nlohmann::json rows = nlohmann::json::array();
  for (Eigen::Index i = 0; i < m.rows(); ++i) {
    nlohmann::json row = nlohmann::json::array();
    for (Eigen::Index j = 0; j < m.cols(); ++j) row.push_back(Number(m(i, j)));
    rows.push_back(std::move(row));
  }
  return rows;
}

NpyArray Array(std::vector<int64_t> shape, std::vector<double> data) {
  NpyArray a;
  a.shape = std::move(shape);
  a.data = std::move(data);
  a.dtype = "<f8";
  return a;
}

// A chains × draws matrix as a C-order array.
template <typename Derived>
NpyArray PerDraw(const Eigen::MatrixBase<Derived>& m) {
  std::vector<double> data;
  for (Eigen::Index c = 0; c < m.rows(); ++c) {
    for (Eigen::Index i = 0; i < m.cols(); ++i) data.push_back(static_cast<double>(m(c, i)));
  }
  return Array({m.rows(), m.cols()}, std::move(data));
}

}  // namespace

nlohmann::json SampleJson(const Study& study, const SampleResult& r, const SampleSummary& s,
                          double temperature) {
  nlohmann::json j;
  j["name"] = study.name;
  j["N"] = study.architecture.widths.front();
  j["widths"] = study.architecture.widths;
  j["temperature"] = temperature;
  j["temperature_used"] = s.temperature_used;
  j["termination"] = SampleTerminationName(s.termination);
  j["message"] = s.message;
  j["sampled_weights"] = s.sampled_weights;
  j["dimension"] = s.dimension;
  j["metric"] = s.metric;
  j["integrator"] = s.integrator;
  j["seed"] = s.seed;
  j["chains"] = s.num_chains;
  j["warmup"] = s.num_warmup;
  j["samples"] = s.num_samples;
  j["step_size"] = s.step_size;
  j["mean_accept_stat"] = s.mean_accept_stat;
  j["divergences"] = s.divergences;
  j["warmup_divergences"] = s.warmup_divergences;
  j["max_tree_depth_hits"] = s.max_depth_hits;
  j["mean_tree_depth"] = s.mean_tree_depth;
  j["mean_leapfrog_steps"] = s.mean_leapfrog_steps;
  j["cpu_seconds"] = {{"warmup", s.warmup_cpu_seconds}, {"sampling", s.sampling_cpu_seconds}};
  nlohmann::json ebfmi = nlohmann::json::array();
  for (double e : s.ebfmi) ebfmi.push_back(Number(e));
  j["ebfmi"] = ebfmi;
  j["gradient_evaluations"] = s.gradient_evaluations;
  j["max_rhat"] = Number(s.max_rhat);
  j["max_rhat_quantity"] = s.max_rhat_quantity;
  j["min_ess_bulk"] = Number(s.min_ess_bulk);
  j["min_ess_tail"] = Number(s.min_ess_tail);
  j["warnings"] = s.warnings;
  j["seconds"] = {{"warmup", s.warmup_seconds},
                  {"sampling", s.sampling_seconds},
                  {"diagnostics", s.diagnostics_seconds},
                  {"total", s.total_seconds}};
  if (!s.completed()) return j;
  const bool classification = study.task == Task::kClassification;  // data/labels.h
  j["test_accuracy"] = classification ? Number(r.predictor.accuracy) : nlohmann::json();
  j["generalization_error"] = Number(r.predictor.generalization_error);
  j["test_accuracy_stderr"] = classification ? Number(r.predictor.accuracy_se) : nlohmann::json();
  j["generalization_error_stderr"] = Number(r.predictor.generalization_error_se);
  j["paths"] = ArchitecturePathLabels(study.architecture);
  j["outputs"] = r.predictor.mean.cols();
  j["U_labels"] = OrderParameterLabels(study.architecture, r.predictor.mean.cols());
  j["U_sampled"] = Matrix(r.order_parameter.U);
  j["U_sampled_se"] = Matrix(r.order_parameter.U_se);
  nlohmann::json quantities = nlohmann::json::array();
  for (size_t k = 0; k < r.diagnostics.size(); ++k) {
    const QuantityDiagnostics& d = r.diagnostics[k];
    quantities.push_back({{"name", r.quantity_names[k]},
                          {"mean", Number(d.mean)},
                          {"sd", Number(d.sd)},
                          {"mcse_mean", Number(d.mcse_mean)},
                          {"q05", Number(d.q05)},
                          {"median", Number(d.median)},
                          {"q95", Number(d.q95)},
                          {"rhat", Number(d.rhat)},
                          {"ess_bulk", Number(d.ess_bulk)},
                          {"ess_tail", Number(d.ess_tail)}});
  }
  j["quantities"] = quantities;
  return j;
}

std::vector<std::string> SampleFiles() {
  return {"sample_summary.json", "draws.h5", "sampled_test_*.npy", "U_sampled*.npy"};
}

void StageSampleOutputs(ResultFolder& out, const SampleResult& r, const SampleSummary& s,
                        nlohmann::json summary, const std::string& summary_name,
                        const Provenance& run) {
  std::vector<std::string> names;
  const auto path = [&](const std::string& f) {
    names.push_back(f);
    return out.Path(f);
  };
  if (s.completed()) {
    const auto C = static_cast<int64_t>(r.draws.size());
    const int64_t S = C > 0 ? r.draws[0].rows() : 0, Q = C > 0 ? r.draws[0].cols() : 0;
    std::vector<double> draws;
    draws.reserve(static_cast<size_t>(C * S * Q));
    for (const auto& d : r.draws) {
      for (int64_t i = 0; i < S; ++i) {
        for (int64_t k = 0; k < Q; ++k) draws.push_back(d(i, k));
      }
    }
    std::vector<double> steps(s.step_size.begin(), s.step_size.end());
    std::vector<double> chain_index(static_cast<size_t>(C)), draw_index(static_cast<size_t>(S));
    for (int64_t c = 0; c < C; ++c) chain_index[static_cast<size_t>(c)] = static_cast<double>(c);
    for (int64_t i = 0; i < S; ++i) draw_index[static_cast<size_t>(i)] = static_cast<double>(i);
    // Named datasets with dimension labels (xarray/ArviZ: chain, draw, then
    // the quantity), coordinates `chain`, `draw`, `quantity`, and a
    // description of each; the root attributes are the run's provenance plus
    // the metric and integrator the sampler resolved.
    std::vector<Hdf5Annotation> annotations = {
        {"draws",
         {"chain", "draw", "quantity"},
         {{"description", "every retained draw of every reported quantity (names in `quantity`)"}}},
        {"quantity", {"quantity"}, {{"description", "names of the reported quantities"}}},
        {"chain", {"chain"}, {{"description", "chain index"}}},
        {"draw", {"draw"}, {{"description", "draw index after warm-up"}}},
        {"step_size", {"chain"}, {{"description", "adapted NUTS step size per chain"}}}};
    const std::vector<std::pair<const char*, const char*>> stats = {
        {"accept_stat", "mean Metropolis acceptance statistic of the NUTS tree"},
        {"energy", "Hamiltonian at the draw"},
        {"tree_depth", "NUTS tree depth"},
        {"leapfrog_steps", "integrator steps (gradient evaluations)"},
        {"divergent", "1 when the transition diverged, else 0"}};
    for (const auto& [name, description] : stats) {
      annotations.push_back({name, {"chain", "draw"}, {{"description", description}}});
    }
    std::vector<Hdf5Attribute> attributes = run.Hdf5Attributes();
    for (const auto& [name, value] : {std::pair<std::string, std::string>{"metric", s.metric},
                                      {"integrator", s.integrator},
                                      {"sampled_weights", s.sampled_weights}}) {
      const bool taken = std::any_of(attributes.begin(), attributes.end(),
                                     [&](const Hdf5Attribute& a) { return a.name == name; });
      if (!taken) attributes.push_back({name, value});
    }
    WriteHdf5(path("draws.h5"),
              {{"draws", Array({C, S, Q}, std::move(draws))},
               {"chain", Array({C}, std::move(chain_index))},
               {"draw", Array({S}, std::move(draw_index))},
               {"accept_stat", PerDraw(r.accept_stat)},
               {"energy", PerDraw(r.energy)},
               {"tree_depth", PerDraw(r.tree_depth)},
               {"leapfrog_steps", PerDraw(r.leapfrog_steps)},
               {"divergent", PerDraw(r.divergent)},
               {"step_size", Array({C}, std::move(steps))}},
              attributes, {{"quantity", r.quantity_names}}, annotations);
    WriteNpy(path("sampled_test_mean.npy"), r.predictor.mean);
    WriteNpy(path("sampled_test_mean_se.npy"), r.predictor.mean_se);
    WriteNpy(path("sampled_test_variance.npy"), r.predictor.variance);
    WriteNpy(path("sampled_test_variance_se.npy"), r.predictor.variance_se);
    {
      const Eigen::Index P = r.predictor.mean.rows(), D = r.predictor.mean.cols();
      std::vector<double> cov;
      cov.reserve(static_cast<size_t>(P * D * D));
      for (Eigen::Index mu = 0; mu < P; ++mu) {
        const Eigen::MatrixXd C = r.predictor.Covariance(mu);
        for (Eigen::Index d = 0; d < D; ++d) {
          for (Eigen::Index e = 0; e < D; ++e) cov.push_back(C(d, e));
        }
      }
      WriteNpy(path("sampled_test_covariance.npy"), {P, D, D}, cov.data());
    }
    WriteNpy(path("U_sampled.npy"), r.order_parameter.U);
    WriteNpy(path("U_sampled_se.npy"), r.order_parameter.U_se);
  }
  summary["files"] = FilesJson(out.Staged(names));
  WriteFileAtomically(out.Path(summary_name), summary.dump(2) + "\n");
}

}  // namespace attnpaths
