#include "sampler/gibbs.h"

#include <Eigen/Eigenvalues>
#include <algorithm>
#include <utility>

#include "kernels/error.h"
#include "sampler/linear_gaussian.h"
#include "sampler/weight_tree.h"

namespace attnpaths {

GibbsSampler::GibbsSampler(const Architecture& arch, const PathInputs& train, Eigen::MatrixXd Y,
                           double temperature, Eigen::Index max_stored_gram_rows)
    : layout_(arch, train.N0, Y.cols()), Y_(std::move(Y)), temperature_(temperature) {
  RequirePosteriorData(layout_, train, Y_, temperature);
  X_ = StackPathInputs(train);
  kappa_ = OutputScale(layout_);
  if (X_.rows() <= max_stored_gram_rows) {
    XX_ = Eigen::MatrixXd::Zero(X_.rows(), X_.rows());
    XX_.selfadjointView<Eigen::Lower>().rankUpdate(X_);
  }
}

Eigen::Index GibbsSampler::BlockSize(int block) const {
  Require(block >= 0 && block < num_blocks(), "Gibbs block", block,
          "an index in [0, " + std::to_string(num_blocks() - 1) + "]");
  if (block == 0) return layout_.n(1) * layout_.N0();
  if (block == layout_.L() + 1) return layout_.readout_size();
  return layout_.H(block) * layout_.n(block + 1) * layout_.n(block);
}

Eigen::Index GibbsSampler::BlockOffset(int block) const {
  BlockSize(block);  // validates `block`
  Eigen::Index offset = 0;
  for (int b = 0; b < block; ++b) offset += BlockSize(b);
  return offset;
}

Eigen::MatrixXd GibbsSampler::Forward(int l, const Eigen::MatrixXd& below,
                                      const Eigen::Ref<const Eigen::VectorXd>& q) const {
  if (l == 0) return below * layout_.V0(q).transpose();
  const Eigen::Index P = Y_.rows(), rows = layout_.m(l + 1) * P;
  Eigen::MatrixXd here = Eigen::MatrixXd::Zero(rows, layout_.n(l + 1));
  for (Eigen::Index h = 0; h < layout_.H(l); ++h) {
    here.noalias() += below.middleRows(h * rows, rows) * layout_.V(q, l, h).transpose();
  }
  return here;
}

void GibbsSampler::DrawValueBlock(int l, const Eigen::MatrixXd& Zb, const Eigen::MatrixXd& Eb,
                                  Eigen::VectorXd* q, RandomEngine& engine) const {
  const Eigen::Index P = Y_.rows(), D = Y_.cols();
  const Eigen::Index n_in = l == 0 ? layout_.N0() : layout_.n(l);
  const Eigen::Index n_out = layout_.n(l + 1);
  const Eigen::Index H = l == 0 ? 1 : layout_.H(l);
  const Eigen::Index m = l == 0 ? layout_.Htot() : layout_.m(l + 1);  // nodes s per head
  const Eigen::Index head_size = n_out * n_in;
  const double kappa = kappa_;
  // Node (h, s) of the inputs: rows [(h m + s) P, (h m + s + 1) P) of Zb.
  auto node = [&](Eigen::Index h, Eigen::Index s) { return Zb.middleRows((h * m + s) * P, P); };

  LinearGaussianModel model;
  // J θ = κ Σ_{h,s} Z_{(h,s)} θ_hᵀ e_s  (P × D, stacked column by column).
  model.apply = [&](const Eigen::Ref<const Eigen::VectorXd>& u) {
    Eigen::MatrixXd F = Eigen::MatrixXd::Zero(P, D);
    for (Eigen::Index h = 0; h < H; ++h) {
      const Eigen::Map<const Eigen::MatrixXd> U(u.data() + h * head_size, n_out, n_in);
      const Eigen::MatrixXd T = U.transpose() * Eb;  // n_in × (m D)
      for (Eigen::Index s = 0; s < m; ++s) F.noalias() += node(h, s) * T.middleCols(s * D, D);
    }
    return Eigen::VectorXd(kappa * F.reshaped());
  };
  // Jᵀ W, block h = κ Σ_s e_s Wᵀ Z_{(h,s)}  (n_out × n_in).
  model.add_transpose = [&](const Eigen::VectorXd& w, Eigen::Ref<Eigen::VectorXd> out) {
    const Eigen::Map<const Eigen::MatrixXd> W(w.data(), P, D);
    Eigen::MatrixXd B(n_in, m * D);
    for (Eigen::Index h = 0; h < H; ++h) {
      for (Eigen::Index s = 0; s < m; ++s) {
        B.middleCols(s * D, D).noalias() = node(h, s).transpose() * W;
      }
      Eigen::Map<Eigen::MatrixXd>(out.data() + h * head_size, n_out, n_in).noalias() +=
          kappa * Eb * B.transpose();
    }
  };
  const Eigen::Index offset = BlockOffset(l), size = BlockSize(l);
  if (l == 0 && XX_.size() > 0) {
    // J Jᵀ[(d,μ),(d',ν)] = κ² Σ_{s,s'} (e_sᵀ e_{s'})_{dd'} (Ξ_s Ξ_{s'}ᵀ)_{μν} from the stored X Xᵀ.
    const Eigen::MatrixXd g = Eb.transpose() * Eb;
    Eigen::MatrixXd G = Eigen::MatrixXd::Zero(P * D, P * D);
    for (Eigen::Index s = 0; s < m; ++s) {
      for (Eigen::Index t = 0; t <= s; ++t) {
        // Block (s, t) of X Xᵀ, from the lower triangle (s >= t).
        const auto K = XX_.block(s * P, t * P, P, P);
        for (Eigen::Index d = 0; d < D; ++d) {
          for (Eigen::Index e = 0; e < D; ++e) {
            const double c = kappa * kappa * g(s * D + d, t * D + e);
            auto block = G.block(d * P, e * P, P, P);
            if (s == t) {
              block += c * K.selfadjointView<Eigen::Lower>().toDenseMatrix();
            } else {
              block += c * K;                                    // (s, t)
              G.block(e * P, d * P, P, P) += c * K.transpose();  // (t, s)
            }
          }
        }
      }
    }
    model.gram = std::move(G);
    DrawLinearGaussian(model, Y_.reshaped(), temperature_, engine, q->segment(offset, size));
    return;
  }
  // J Jᵀ = κ² Σ_h Σ_k Q_{h,k} Q_{h,k}ᵀ, Q_{h,k} rows (d, μ) = Σ_s F[(s,d), k] Z_{(h,s)}^μ,
  // with F Fᵀ = Ebᵀ Eb ((m D) × (m D)): F = Ebᵀ when that has fewer columns,
  // else the eigen-factor V Λ^{1/2}.
  Eigen::MatrixXd F;
  if (n_out <= m * D) {
    F = Eb.transpose();
  } else {
    const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(Eb.transpose() * Eb);
    F = eig.eigenvectors() * eig.eigenvalues().cwiseMax(0).cwiseSqrt().asDiagonal();
  }
  Eigen::MatrixXd G = Eigen::MatrixXd::Zero(P * D, P * D);
  Eigen::MatrixXd Q(P * D, n_in);
  for (Eigen::Index h = 0; h < H; ++h) {
    for (Eigen::Index k = 0; k < F.cols(); ++k) {
      Q.setZero();
      for (Eigen::Index s = 0; s < m; ++s) {
        for (Eigen::Index d = 0; d < D; ++d) {
          const double c = F(s * D + d, k);
          if (c != 0) Q.middleRows(d * P, P) += c * node(h, s);
        }
      }
      G.selfadjointView<Eigen::Lower>().rankUpdate(Q, kappa * kappa);
    }
  }
  model.gram = G.selfadjointView<Eigen::Lower>();
  DrawLinearGaussian(model, Y_.reshaped(), temperature_, engine, q->segment(offset, size));
}

void GibbsSampler::DrawReadout(const Eigen::MatrixXd& ZL, Eigen::VectorXd* q,
                               RandomEngine& engine) const {
  const Eigen::Index P = Y_.rows(), n = ZL.cols(), D = Y_.cols();
  const Eigen::MatrixXd J = kappa_ * ZL;  // f_d = J a_d
  Eigen::Map<Eigen::MatrixXd> a = layout_.a(*q);
  if (n <= P) {
    Eigen::MatrixXd JtJ = Eigen::MatrixXd::Zero(n, n);
    JtJ.selfadjointView<Eigen::Lower>().rankUpdate(J.transpose());
    a = DrawGaussianByPrecision(Eigen::MatrixXd(JtJ.selfadjointView<Eigen::Lower>()),
                                J.transpose() * Y_, temperature_, engine);
    return;
  }
  LinearGaussianModel model;
  model.apply = [&](const Eigen::Ref<const Eigen::VectorXd>& u) { return Eigen::VectorXd(J * u); };
  model.add_transpose = [&](const Eigen::VectorXd& w, Eigen::Ref<Eigen::VectorXd> out) {
    out.noalias() += J.transpose() * w;
  };
  model.gram = J * J.transpose();
  for (Eigen::Index d = 0; d < D; ++d) {
    DrawLinearGaussian(model, Y_.col(d), temperature_, engine, a.col(d));
  }
}

void GibbsSampler::DrawBlock(int block, Eigen::VectorXd* q, RandomEngine& engine) const {
  Require(q->size() == dimension(), "coordinates size", q->size(), std::to_string(dimension()));
  BlockSize(block);  // validates `block`
  const int L = layout_.L();
  Eigen::MatrixXd Z = X_;
  for (int l = 0; l < std::min(block, L + 1); ++l) Z = Forward(l, Z, *q);
  if (block == L + 1) {
    DrawReadout(Z, q, engine);
    return;
  }
  const std::vector<Eigen::MatrixXd> E = TopDownProducts(layout_, *q, layout_.a(*q));
  DrawValueBlock(block, Z, E[static_cast<size_t>(block)], q, engine);
}

void GibbsSampler::Sweep(Eigen::VectorXd* q, RandomEngine& engine) const {
  Require(q->size() == dimension(), "coordinates size", q->size(), std::to_string(dimension()));
  const int L = layout_.L();
  // The top-down products E[ℓ] involve only the layers above ℓ and a, which a
  // bottom-up sweep has not updated yet when it reaches layer ℓ.
  const std::vector<Eigen::MatrixXd> E = TopDownProducts(layout_, *q, layout_.a(*q));
  Eigen::MatrixXd Z = X_;
  for (int l = 0; l <= L; ++l) {
    DrawValueBlock(l, Z, E[static_cast<size_t>(l)], q, engine);
    Z = Forward(l, Z, *q);
  }
  DrawReadout(Z, q, engine);
}

}  // namespace attnpaths
