// The settings of `attnpaths kernel-prop` and `attnpaths shaped-sde`: TOML
// files (docs/config.md, "Signal propagation") read into the options of
// propagation/, plus the small output helpers both commands share.
//
//   KernelPropConfig kp;
//   ReadKernelPropConfig("kp.toml", &kp);        // [kernel_prop], [kernel_prop.finite_width],
//   [output] ShapedSdeConfig sde; ReadShapedSdeConfig("shaped.toml", &sde);    // [shaped_sde],
//   [shaped_sde.mlp], [shaped_sde.networks]
//
// Unknown keys are errors naming the nearest valid key; relative file paths
// are resolved against the file's folder.
#pragma once

#include <Eigen/Core>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "propagation/finite_width.h"
#include "propagation/kernel_recursion.h"
#include "propagation/shaped_network.h"
#include "propagation/shaped_sde.h"
#include "propagation/shaped_summary.h"

namespace attnpaths::cli {

struct KernelPropConfig {
  KernelPropOptions options;  // input_kernel is filled by LoadInputKernel
  bool tokens_given = false;  // `tokens` set in the file (else taken from the input kernel)
  // "identity", or an NPY / HDF5 spec: a tokens × tokens kernel (2-D) or a
  // dataset P × n_tok × N0 (3-D), whose mean σ_0² xᵀx/N0 is Σ_0.
  std::string input_kernel = "identity";
  double input_variance = 1.0;  // σ_0² for a dataset input kernel
  bool finite_width = false;    // [kernel_prop.finite_width] present
  FiniteWidthOptions fw;
  std::string output_directory = "kernel-prop-out";
};
void ReadKernelPropConfig(const std::string& path, KernelPropConfig* config);

// Σ_0 from the spec of KernelPropConfig::input_kernel; `field` names it in errors.
Eigen::MatrixXd LoadInputKernel(const std::string& spec, double variance, const std::string& field);

struct ShapedSdeConfig {
  ShapedModel model;
  Eigen::MatrixXd V0;  // required
  double depth_to_width = 1.0;
  double dt = 1.0 / 1024;
  Eigen::Index paths = 20000;
  double cap = 1e4;
  ExplodedInQuantiles exploded_in_quantiles = ExplodedInQuantiles::kInfinity;
  std::vector<std::pair<Eigen::Index, Eigen::Index>> entries;  // empty: DefaultTrackedEntries
  int grid_points = 64;
  bool sde_no_attention = true;  // also integrate the SDE with τ0 = ∞ (the control)
  bool check_dt = false;         // also integrate at Δt/2 (weak-convergence report)
  std::uint64_t seed = 1;
  // [shaped_sde.networks]
  std::vector<Eigen::Index> widths{32, 128, 512};
  std::vector<Eigen::Index> samples{20000, 10000, 2000};  // per width (one value: all widths)
  std::vector<ShapedAttention> attention{ShapedAttention::kShaped};
  Eigen::Index key_dim = 8;
  ShapedSampler sampler = ShapedSampler::kChain;
  std::string output_directory = "shaped-sde-out";
};
void ReadShapedSdeConfig(const std::string& path, ShapedSdeConfig* config);

// ---------------------------------------------------------------- output

// Matrices of equal shape as one (count, rows, cols) float64 NPY, written atomically.
void WriteMatrixStack(const std::string& path, const std::vector<Eigen::MatrixXd>& m);
// Vectors of equal length as one (count, n) NPY.
void WriteVectorStack(const std::string& path, const std::vector<Eigen::VectorXd>& v);
// "%.17g", or "" for NaN/±∞ in CSV; JSON null for NaN/±∞.
std::string CsvNumber(double v);
nlohmann::json JsonNumber(double v);

// Progress lines at most every `seconds` (and always the last one).
class ThrottledProgress {
 public:
  ThrottledProgress(bool quiet, double seconds = 1.0) : quiet_(quiet), every_(seconds) {}
  void Report(const std::string& text, double elapsed, bool last);

 private:
  bool quiet_;
  double every_, next_ = 0;
};

}  // namespace attnpaths::cli
