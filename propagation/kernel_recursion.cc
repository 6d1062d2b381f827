#include "propagation/kernel_recursion.h"

#include <Eigen/Eigenvalues>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>

#include "kernels/error.h"
#include "propagation/tat.h"

namespace attnpaths {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

Eigen::MatrixXd InputKernel(const KernelPropOptions& o) {
  return o.input_kernel.size() == 0 ? Eigen::MatrixXd::Identity(o.tokens, o.tokens)
                                    : o.input_kernel;
}

std::vector<Eigen::MatrixXd> Targets(const KernelPropOptions& o, std::vector<double>* schedule) {
  std::vector<Eigen::MatrixXd> t;
  if (!IsSpa(o.method)) return t;
  *schedule = o.method == AttentionMethod::kESpa ? EspaGammas(o.depth, o.gamma_final)
                                                 : UspaRhos(o.depth, o.rho_final);
  t.push_back(InputKernel(o));
  for (int l = 1; l <= o.depth; ++l) {
    const double s = (*schedule)[static_cast<size_t>(l)];
    t.push_back(o.method == AttentionMethod::kESpa ? EspaKernel(o.tokens, s)
                                                   : UspaKernel(o.tokens, s));
  }
  return t;
}

Eigen::MatrixXd Symmetric(const Eigen::MatrixXd& m) { return 0.5 * (m + m.transpose()); }

std::string Number(double v) {
  char b[40];
  std::snprintf(b, sizeof b, "%.6g", v);
  return b;
}

}  // namespace

const char* MlpKindName(MlpKind kind) { return kind == MlpKind::kTat ? "tat" : "none"; }

MlpKind ParseMlpKind(const std::string& text, const std::string& field) {
  if (text == "none") return MlpKind::kNone;
  if (text == "tat") return MlpKind::kTat;
  throw Error(ErrorMessage(field, "\"" + text + "\"", "none or tat"));
}

bool KernelPropOptions::IsValid(std::string* error) const {
  auto fail = [&](const std::string& field, const std::string& found, const std::string& want) {
    if (error) *error = ErrorMessage(field, found, want);
    return false;
  };
  if (tokens < 1) return fail("tokens", ToText(tokens), "at least 1 token");
  if (depth < 1) return fail("depth", ToText(depth), "at least 1 layer");
  if (!(gamma_final > 0) || !std::isfinite(gamma_final)) {
    return fail("gamma_final", ToText(gamma_final), "a finite E-SPA decay rate > 0");
  }
  if (!(rho_final >= 0 && rho_final < 1)) {
    return fail("rho_final", ToText(rho_final), "a U-SPA correlation in [0, 1)");
  }
  if (mlp == MlpKind::kTat && !(tat_eta > 0 && tat_eta < 1)) {
    return fail("tat_eta", ToText(tat_eta), "a target correlation in (0, 1)");
  }
  if (activations_per_block != 1 && activations_per_block != 2) {
    return fail("activations_per_block", ToText(activations_per_block), "1 or 2");
  }
  if (!(clamp_epsilon >= 0) || !std::isfinite(clamp_epsilon)) {
    return fail("clamp_epsilon", ToText(clamp_epsilon), "a finite value >= 0");
  }
  if (input_kernel.size() != 0) {
    const Eigen::MatrixXd& s = input_kernel;
    const std::string shape = std::to_string(s.rows()) + " x " + std::to_string(s.cols());
    const std::string want = std::to_string(tokens) + " x " + std::to_string(tokens);
    if (s.rows() != tokens || s.cols() != tokens) {
      return fail("input_kernel shape", shape, want + " (tokens x tokens)");
    }
    if (!s.allFinite()) return fail("input_kernel", "a non-finite value", "finite entries");
    const double scale = s.cwiseAbs().maxCoeff();
    const double asym = (s - s.transpose()).cwiseAbs().maxCoeff();
    if (asym > 1e-12 * std::max(scale, 1e-300)) {
      return fail("input_kernel", "max |S - S^T| = " + ToText(asym), "a symmetric matrix");
    }
    for (Eigen::Index i = 0; i < tokens; ++i) {
      if (!(s(i, i) > 0)) {
        return fail("input_kernel[" + std::to_string(i) + ", " + std::to_string(i) + "]",
                    ToText(s(i, i)), "a positive diagonal (every token a nonzero vector)");
      }
    }
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(Symmetric(s), Eigen::EigenvaluesOnly);
    const double lo = eig.eigenvalues()(0);
    if (lo < -1e-12 * scale) {
      return fail("input_kernel", "smallest eigenvalue " + ToText(lo),
                  "a positive semi-definite kernel (eigenvalues >= 0)");
    }
    if (IsSpa(method) && !(lo > 0)) {
      return fail("input_kernel", "smallest eigenvalue " + ToText(lo),
                  std::string("a positive-definite kernel for method ") +
                      AttentionMethodName(method) + " (SPA inverts its factor)");
    }
  }
  return true;
}

Eigen::MatrixXd TatKernelMap(const Eigen::Ref<const Eigen::MatrixXd>& sigma, double alpha,
                             int times) {
  const Eigen::Index m = sigma.rows();
  Eigen::MatrixXd out = sigma;
  for (Eigen::Index j = 0; j < m; ++j) {
    for (Eigen::Index i = 0; i < j; ++i) {
      const double q = std::sqrt(sigma(i, i) * sigma(j, j));
      const double c = q > 0 ? sigma(i, j) / q : 0.0;
      out(i, j) = out(j, i) = q * TatCMapComposite(c, alpha, times);
    }
  }
  return out;
}

std::vector<AttentionDecomposition> BuildAttention(const KernelPropOptions& o) {
  std::string error;
  if (!o.IsValid(&error)) throw Error(error);
  const Eigen::Index m = o.tokens;
  std::vector<AttentionDecomposition> layers;
  std::vector<double> schedule;
  const std::vector<Eigen::MatrixXd> targets = Targets(o, &schedule);
  const bool identity_input =
      o.input_kernel.size() == 0 || o.input_kernel.isApprox(Eigen::MatrixXd::Identity(m, m), 0.0);
  for (int l = 1; l <= o.depth; ++l) {
    Eigen::MatrixXd A;
    switch (o.method) {
      case AttentionMethod::kUniform:
        A = UniformAttention(m, o.causal);
        break;
      case AttentionMethod::kValueSkipInit:
      case AttentionMethod::kShaped: {
        // a_I I + b_A softmax(0 + mask) − c_C C at init: (1, 0, ·) or (1, 1, 1) → I. The
        // softmax part is recorded in D and bias (uniform: D = 1, bias = 0).
        AttentionDecomposition d = DecomposeAttention(UniformAttention(m, o.causal), o.causal,
                                                      o.negative_attention, o.clamp_epsilon);
        d.A = Eigen::MatrixXd::Identity(m, m);
        layers.push_back(std::move(d));
        continue;
      }
      case AttentionMethod::kUSpa:
      case AttentionMethod::kESpa: {
        const size_t k = static_cast<size_t>(l);
        if (o.method == AttentionMethod::kESpa && o.causal && o.closed_form && identity_input) {
          A = EspaAttention(m, schedule[k], schedule[k - 1]);
        } else {
          A = SpaAttention(targets[k - 1], targets[k], o.causal);
        }
        break;
      }
    }
    layers.push_back(DecomposeAttention(A, o.causal, o.negative_attention, o.clamp_epsilon));
  }
  return layers;
}

KernelPropagation PropagateKernel(const KernelPropOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  std::string error;
  if (!o.IsValid(&error)) throw Error(error);
  KernelPropagation p;
  KernelPropSummary& s = p.summary;
  s.method = AttentionMethodName(o.method);
  s.causal = o.causal;
  s.mlp = MlpKindName(o.mlp);
  s.tat_alpha = kNaN;
  if (o.mlp == MlpKind::kTat) {
    s.activations = o.activations_per_block * o.depth;
    s.tat_alpha = TatAlpha(o.tat_eta, s.activations);
  }
  p.targets = Targets(o, &s.schedule);
  p.attention = BuildAttention(o);
  p.kernels.push_back(InputKernel(o));
  const bool spa = IsSpa(o.method);
  p.target_error.push_back(spa ? 0.0 : kNaN);
  for (int l = 1; l <= o.depth; ++l) {
    const AttentionDecomposition& a = p.attention[static_cast<size_t>(l - 1)];
    Eigen::MatrixXd sigma = Symmetric(a.A * p.kernels.back() * a.A.transpose());
    if (o.mlp == MlpKind::kTat) sigma = TatKernelMap(sigma, s.tat_alpha, o.activations_per_block);
    p.kernels.push_back(std::move(sigma));
    if (spa) {
      const size_t k = static_cast<size_t>(l);
      const Eigen::MatrixXd built = a.A * p.targets[k - 1] * a.A.transpose();
      p.construction_error.push_back((built - p.targets[k]).cwiseAbs().maxCoeff());
      p.target_error.push_back((p.kernels.back() - p.targets[k]).cwiseAbs().maxCoeff());
      s.max_construction_error = std::max(s.max_construction_error, p.construction_error.back());
    } else {
      p.construction_error.push_back(kNaN);
      p.target_error.push_back(kNaN);
    }
    s.clamped_entries += a.clamped;
    if (a.clamped > 0) {
      s.warnings.push_back("layer " + std::to_string(l) + ": " + std::to_string(a.clamped) +
                           " attention entries clamped (min entry " + Number(a.min_entry) +
                           "); kernel error after clamping " + Number(p.construction_error.back()));
    } else if (a.min_entry <= 0 && spa) {
      s.warnings.push_back("layer " + std::to_string(l) + ": attention has entries <= 0 (min " +
                           Number(a.min_entry) + "), kept: it is not a softmax attention");
    }
  }
  for (const Eigen::MatrixXd& k : p.kernels) p.metrics.push_back(ComputeKernelMetrics(k));
  if (spa && o.mlp == MlpKind::kTat) {
    double worst = 0;
    for (double e : p.target_error) worst = std::max(worst, e);
    s.warnings.push_back(
        "SPA targets are built from the attention-only schedule; with TAT MLP blocks the "
        "kernel leaves them (max |Sigma_l - target_l| = " +
        Number(worst) + ")");
  }
  s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return p;
}

std::string KernelPropSummary::BriefReport() const {
  std::ostringstream r;
  r << "kernel-prop: " << method << (causal ? " causal" : " non-causal") << ", mlp " << mlp;
  if (mlp == "tat") r << " (alpha " << Number(tat_alpha) << ", " << activations << " activations)";
  if (clamped_entries > 0) r << ", " << clamped_entries << " entries clamped";
  r << ", " << Number(seconds) << " s";
  return r.str();
}

std::string KernelPropSummary::FullReport() const {
  std::ostringstream r;
  r << BriefReport() << "\n";
  if (!schedule.empty()) {
    r << (method == "espa" ? "gamma" : "rho") << " schedule:";
    for (double v : schedule) r << " " << Number(v);
    r << "\nmax construction error " << Number(max_construction_error) << "\n";
  }
  for (const std::string& w : warnings) r << "warning: " << w << "\n";
  return r.str();
}

}  // namespace attnpaths
