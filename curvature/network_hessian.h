// NetworkHessian — the loss Hessian of the trainer's network (theory.md §1,
// QK heads; network/) at given weights, split into its Gauss–Newton and
// functional parts (docs/attention-hessian.md, Part D), and the growth study
// of its blocks in the input scale σ.
//
//   attnpaths::NetworkHessian hessian(net, x, y, LossKind::kSquared, /*weight_decay=*/0);
//   Eigen::VectorXd Hv = hessian.Apply(v, HessianPart::kFull);   // H v
//   Eigen::MatrixXd Ho = hessian.Dense(HessianPart::kOuter);     // (2/B) Jᵀ J + wd I
//   for (const auto& g : hessian.groups()) g.name;               // "V0", "L1H1.V", "L1H1.Q", …,
//   "a"
//
// Objective (trainer/forward_backward.h): E(θ) = (1/B) Σ_μ ℓ(f_μ, y_μ) + (wd/2)‖θ‖².
//  * Gauss–Newton: H_o = (1/B) Σ_μ ℓ''(f_μ, y_μ) ∇f_μ ∇f_μᵀ + wd I (ℓ'' = 2 for the squared
//    error), from the per-example output gradients (OutputJacobian, network/pass.h);
//  * full: H v by Richardson-extrapolated central differences of the analytic
//    gradient along v, (4 D(h/2) − D(h))/3 with D(h) = (∇E(θ + h v) − ∇E(θ − h v))/2h
//    and h = 1e-4 · max(‖θ‖, 1)/‖v‖ (four gradients; accurate to ~1e-10 relative);
//  * functional: H_f = H − H_o.
// The flat layout of θ is the network's (network/network.h) as is.
#pragma once

#include <Eigen/Core>
#include <functional>
#include <string>
#include <vector>

#include "curvature/attention_hessian.h"
#include "curvature/growth_study.h"
#include "kernels/inputs.h"
#include "network/network.h"
#include "trainer/forward_backward.h"

namespace attnpaths {

// One parameter block of the network: V_0, V_{ℓ,h}, Q_{ℓ,h}, K_{ℓ,h} or a.
struct ParameterGroup {
  std::string name;        // "V0", "L<ℓ>H<h>.V", "L<ℓ>H<h>.Q", "L<ℓ>H<h>.K", "a" (h 1-based)
  char kind = 'V';         // 'V' (every value-type weight: V_0, V_{ℓ,h}, a), 'Q' or 'K'
  int layer = 0;           // ℓ (0 for V_0 and a)
  Eigen::Index head = -1;  // h 0-based (−1 for V_0 and a)
  Eigen::Index offset = 0, size = 0;
};

// In layout order.
std::vector<ParameterGroup> NetworkParameterGroups(const Network& net);

class NetworkHessian {
 public:
  // Keeps copies of the network and the data; computes the loss, the
  // gradient and the output Jacobian. Throws Error when they do not fit (or
  // for a network with fixed heads).
  NetworkHessian(const Network& net, const Inputs& x, const Eigen::VectorXd& y,
                 LossKind loss = LossKind::kSquared, double weight_decay = 0, int threads = 1);

  Eigen::Index num_parameters() const { return net_.num_parameters(); }
  const std::vector<ParameterGroup>& groups() const { return groups_; }
  double loss() const { return loss_; }  // E(θ)
  const Eigen::VectorXd& gradient() const { return gradient_; }
  // ∂f_μ/∂θ, B × n_params.
  const Eigen::MatrixXd& jacobian() const { return jacobian_; }
  // ℓ''(f_μ, y_μ)/B per example: H_o = Jᵀ diag(·) J + wd I.
  const Eigen::VectorXd& curvature_weights() const { return weights_; }

  // H v, H_o v or H_f v (see the header comment).
  Eigen::VectorXd Apply(const Eigen::Ref<const Eigen::VectorXd>& v, HessianPart part) const;
  // The whole matrix: H_o exactly; H column by column from Apply, then
  // symmetrised (½(H + Hᵀ); the finite-difference asymmetry is reported by
  // Asymmetry()); H_f = H − H_o. n_params gradients × 4: for small networks.
  Eigen::MatrixXd Dense(HessianPart part) const;
  // max |H − Hᵀ| / max |H| of the unsymmetrised finite-difference matrix
  // (computed by Dense(kFull) or Dense(kFunctional); −1 before).
  double Asymmetry() const { return asymmetry_; }
  // ∇E at θ + t v (the gradient the finite differences use).
  Eigen::VectorXd GradientAt(const Eigen::Ref<const Eigen::VectorXd>& v, double t) const;

 private:
  Network net_;
  Inputs x_;
  Eigen::VectorXd y_;
  LossKind loss_kind_;
  double weight_decay_;
  int threads_;
  std::vector<Eigen::Index> batch_;
  std::vector<ParameterGroup> groups_;
  double loss_ = 0;
  Eigen::VectorXd gradient_, weights_;
  Eigen::MatrixXd jacobian_;
  mutable double asymmetry_ = -1;
};

// The blocks the growth study reports for the network: for every layer and
// head "L<ℓ>H<h>." + VV, QQ, KK, QK, VQ, VK (V = V_{ℓ,h}), then "V0.VV" and
// "a.VV" — each with its spec kind (the power-counting class).
struct NetworkBlock {
  std::string name, kind;
  int layer = 0;           // ℓ of the head (0 for V_0 and a)
  int rows = 0, cols = 0;  // indices into NetworkParameterGroups
};
std::vector<NetworkBlock> NetworkBlocks(const Network& net);

// ‖block‖_F of every NetworkBlock and part: exact from Dense (small
// networks) or Hutchinson (probes on each column group; s.e. attached). The
// functional part of a value matrix's own block (kind VV) is identically
// zero — f is linear in each value matrix — and is reported as 0, not as the
// finite differences' noise (tests/curvature check that noise is below 1e-8
// of ‖H‖).
std::vector<BlockNorm> NetworkBlockNorms(const NetworkHessian& hessian,
                                         const std::vector<NetworkBlock>& blocks, NormMethod method,
                                         const HutchinsonOptions& hutchinson);

// One repeat of the network growth study: the base inputs x_0 and labels.
struct NetworkGrowthSample {
  Inputs x;
  Eigen::VectorXd y;
};

// The growth study of spec §C.3 on the trainer's network at fixed weights
// (attention reads σ x_0 in every layer): every NetworkBlock's norms over the
// σ grid and repeats, slopes, and the single-layer power-counting
// predictions (which the network's blocks share, docs/attention-hessian.md).
GrowthStudy RunNetworkGrowthStudy(const Network& net,
                                  const std::function<NetworkGrowthSample(int repeat)>& sample,
                                  LossKind loss, double weight_decay,
                                  const GrowthStudyOptions& options, int threads = 1);

}  // namespace attnpaths
