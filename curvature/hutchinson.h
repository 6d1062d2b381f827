// Hutchinson's estimate of a Frobenius norm from matrix–vector products:
// ‖M‖_F² = E‖M v‖² for v with independent zero-mean unit-variance entries
// (docs/attention-hessian.md, spec §C.2), with its Monte-Carlo standard error.
//
//   auto block = [&](const Eigen::VectorXd& v) {      // v on the columns of M
//     Eigen::VectorXd full = Eigen::VectorXd::Zero(n);
//     full.segment(col_offset, v.size()) = v;
//     return hessian.Apply(full, part).segment(row_offset, rows).eval();
//   };
//   attnpaths::HutchinsonOptions options;            // probes = 20, Rademacher, seed
//   attnpaths::NormEstimate e = attnpaths::HutchinsonFrobenius(block, cols, options);
//   e.value, e.standard_error;                       // ‖M‖_F and its s.e.
//
// With N probes the estimate of ‖M‖_F² is the mean of ‖M v_i‖² and its s.e.
// the sample standard deviation over √N; the norm is its square root and the
// norm's s.e. follows by the delta method (s.e.(‖M‖²) / 2‖M‖). With
// Rademacher probes the variance is 2 Σ_{j≠l} (MᵀM)_{jl}², at most
// 2‖M‖_F⁴: the relative s.e. of ‖M‖_F² is at most √(2/N).
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <functional>
#include <string>

namespace attnpaths {

enum class ProbeDistribution { kRademacher, kGaussian };
const char* ProbeDistributionName(ProbeDistribution d);  // "rademacher", "gaussian"
ProbeDistribution ParseProbeDistribution(const std::string& text, const std::string& field);

struct HutchinsonOptions {
  int probes = 20;  // products M v_i (the authors used 20)
  ProbeDistribution distribution = ProbeDistribution::kRademacher;
  std::uint64_t seed = 1;  // Boost.Random mt19937
  bool IsValid(std::string* error) const;
};

struct NormEstimate {
  double value = 0;           // ‖M‖_F = √(mean ‖M v_i‖²)
  double standard_error = 0;  // of value (delta method)
  double squared = 0;         // mean ‖M v_i‖², the unbiased estimate of ‖M‖_F²
  double squared_standard_error = 0;
  int probes = 0;
};

// `apply` maps a vector of `cols` entries to M v. Throws Error for invalid
// options or cols < 1.
NormEstimate HutchinsonFrobenius(
    const std::function<Eigen::VectorXd(const Eigen::VectorXd&)>& apply, Eigen::Index cols,
    const HutchinsonOptions& options);

}  // namespace attnpaths
