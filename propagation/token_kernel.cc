#include "propagation/token_kernel.h"

#include "kernels/error.h"
#include "kernels/head.h"
#include "kernels/paths.h"

namespace attnpaths {

TokenKernels ComputeTokenKernels(const Architecture& arch,
                                 const Eigen::Ref<const Eigen::MatrixXd>& x, Eigen::Index example,
                                 Split split, const Eigen::Ref<const Eigen::MatrixXd>& x2,
                                 Eigen::Index example2, Split split2) {
  Require(x.rows() == x2.rows() && x.cols() == x2.cols(), "token kernel inputs",
          std::to_string(x2.rows()) + " x " + std::to_string(x2.cols()),
          std::to_string(x.rows()) + " x " + std::to_string(x.cols()) + " (N0 x n_tok of x)");
  arch.Validate(x.rows(), x.cols());
  const int L = arch.L();
  const double N0 = static_cast<double>(x.rows());
  TokenKernels t;
  // Σ_0(x, x') = σ_0² xᵀ x' / N0
  t.sigma.push_back(arch.variances[0] / N0 * (x.transpose() * x2));
  for (int l = 1; l <= L; ++l) {
    const auto& layer = arch.layers[static_cast<size_t>(l - 1)];
    const double H = static_cast<double>(layer.size());
    const double var = arch.variances[static_cast<size_t>(l)];
    const Eigen::MatrixXd& prev = t.sigma.back();
    Eigen::MatrixXd next = Eigen::MatrixXd::Zero(prev.rows(), prev.cols());
    double gp = 0;
    for (const HeadSpec& head : layer) {
      const Eigen::MatrixXd o1 = AttentionMatrix(head, x, example, split);
      const Eigen::MatrixXd o2 = AttentionMatrix(head, x2, example2, split2);
      next.noalias() += o1.transpose() * prev * o2;
      if (l == L) {
        gp += ReadoutVector(o1, arch.readout).dot(prev * ReadoutVector(o2, arch.readout));
      }
    }
    t.sigma.push_back(var / H * next);
    // K_GP = σ_a² (σ_L² / H_L) Σ_h ω(x)ᵀ Σ_{L−1} ω(x')
    if (l == L) t.gp = arch.variances[static_cast<size_t>(L + 1)] * var / H * gp;
  }
  return t;
}

Eigen::MatrixXd TokenRecursionKernel(const Architecture& arch, const Inputs& a, Split split_a,
                                     const Inputs& b, Split split_b) {
  Eigen::MatrixXd K(a.P(), b.P());
  for (Eigen::Index mu = 0; mu < a.P(); ++mu) {
    for (Eigen::Index nu = 0; nu < b.P(); ++nu) {
      K(mu, nu) =
          ComputeTokenKernels(arch, a.example(mu), mu, split_a, b.example(nu), nu, split_b).gp;
    }
  }
  return K;
}

std::vector<PathTokenDiagnostic> PathTokenDiagnostics(const Architecture& arch, const Inputs& x,
                                                      Split split, Eigen::Index max_examples) {
  arch.Validate(x.N0(), x.n_tok());
  x.CheckFinite(split == Split::kTrain ? "X" : "X_test");
  const Paths paths(arch.heads_per_layer());
  std::vector<std::vector<std::string>> names;
  for (const auto& layer : arch.layers) {
    names.emplace_back();
    for (const HeadSpec& h : layer) names.back().push_back(h.name);
  }
  const Eigen::Index P = max_examples > 0 ? std::min(max_examples, x.P()) : x.P();
  const int L = arch.L();
  std::vector<PathTokenDiagnostic> out;
  for (Eigen::Index mu = 0; mu < P; ++mu) {
    const auto xm = x.example(mu);
    // Ω of every head of this example, computed once.
    std::vector<std::vector<Eigen::MatrixXd>> omega;
    for (const auto& layer : arch.layers) {
      omega.emplace_back();
      for (const HeadSpec& h : layer) omega.back().push_back(AttentionMatrix(h, xm, mu, split));
    }
    const Eigen::MatrixXd sigma0 =
        arch.variances[0] / static_cast<double>(x.N0()) * (xm.transpose() * xm);
    for (Eigen::Index p = 0; p < paths.Htot(); ++p) {
      const std::vector<Eigen::Index> heads = paths.Heads(p);
      Eigen::MatrixXd sigma = sigma0;
      for (int l = 0; l < L; ++l) {
        if (l > 0) {
          const Eigen::MatrixXd& o = omega[static_cast<size_t>(l - 1)]
                                          [static_cast<size_t>(heads[static_cast<size_t>(l - 1)])];
          sigma = arch.variances[static_cast<size_t>(l)] * (o.transpose() * sigma * o);
        }
        PathTokenDiagnostic d;
        d.path = p;
        d.label = paths.Label(p, names);
        d.example = mu;
        d.layer = l;
        d.metrics = ComputeKernelMetrics(sigma);
        out.push_back(std::move(d));
      }
    }
  }
  return out;
}

}  // namespace attnpaths
