#include "curvature/attention_hessian.h"

#include <algorithm>
#include <boost/random/mersenne_twister.hpp>
#include <boost/random/normal_distribution.hpp>
#include <cmath>
#include <limits>
#include <utility>

#include "kernels/error.h"

namespace attnpaths {

namespace {

using RowMajorMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// Row-major vec of M into out (spec §0).
void PutRowMajor(const Eigen::MatrixXd& M, Eigen::Ref<Eigen::VectorXd> out) {
  for (Eigen::Index p = 0; p < M.rows(); ++p) {
    for (Eigen::Index q = 0; q < M.cols(); ++q) out(p * M.cols() + q) = M(p, q);
  }
}

Eigen::MatrixXd GetRowMajor(const Eigen::Ref<const Eigen::VectorXd>& v, Eigen::Index rows,
                            Eigen::Index cols) {
  return Eigen::Map<const RowMajorMatrix>(v.data(), rows, cols);
}

// The causal 0/1 mask M₀ (lower triangle with the diagonal) or all ones.
Eigen::MatrixXd Mask(Eigen::Index m, bool causal) {
  Eigen::MatrixXd M0 = Eigen::MatrixXd::Ones(m, m);
  if (causal) M0.triangularView<Eigen::StrictlyUpper>().setZero();
  return M0;
}

// A from the logits (spec §A): row softmax over the allowed keys, or Λ ⊙ M₀.
Eigen::MatrixXd Attention(const Eigen::MatrixXd& logits, const Eigen::MatrixXd& M0,
                          AttentionKind kind) {
  if (kind == AttentionKind::kLinear) return logits.cwiseProduct(M0);
  const Eigen::Index m = logits.rows();
  Eigen::MatrixXd A = Eigen::MatrixXd::Zero(m, m);
  for (Eigen::Index i = 0; i < m; ++i) {
    double top = -std::numeric_limits<double>::infinity();
    for (Eigen::Index j = 0; j < m; ++j) {
      if (M0(i, j) != 0) top = std::max(top, logits(i, j));
    }
    double sum = 0;
    for (Eigen::Index j = 0; j < m; ++j) {
      if (M0(i, j) == 0) continue;
      A(i, j) = std::exp(logits(i, j) - top);
      sum += A(i, j);
    }
    A.row(i) /= sum;
  }
  return A;
}

// The Jacobian map of A in Λ applied to a matrix (row by row, spec §B.1):
// softmax δA_ij = A_ij (δΛ_ij − Σ_l A_il δΛ_il); linear δA = M₀ ⊙ δΛ.
Eigen::MatrixXd AttentionTangent(const Eigen::MatrixXd& A, const Eigen::MatrixXd& M0,
                                 const Eigen::MatrixXd& dLambda, AttentionKind kind) {
  if (kind == AttentionKind::kLinear) return M0.cwiseProduct(dLambda);
  const Eigen::VectorXd inner = A.cwiseProduct(dLambda).rowwise().sum();
  return A.cwiseProduct(dLambda.colwise() - inner);
}

// Γ_Λ from Γ_A (the transpose of the map above, the same for softmax).
Eigen::MatrixXd AttentionCotangent(const Eigen::MatrixXd& A, const Eigen::MatrixXd& M0,
                                   const Eigen::MatrixXd& gA, AttentionKind kind) {
  return AttentionTangent(A, M0, gA, kind);
}

}  // namespace

const char* AttentionKindName(AttentionKind kind) {
  return kind == AttentionKind::kSoftmax ? "softmax" : "linear";
}

AttentionKind ParseAttentionKind(const std::string& text, const std::string& field) {
  if (text == "softmax") return AttentionKind::kSoftmax;
  if (text == "linear") return AttentionKind::kLinear;
  throw Error(ErrorMessage(field, "\"" + text + "\"", "one of softmax, linear"));
}

const char* HessianPartName(HessianPart part) {
  switch (part) {
    case HessianPart::kOuter:
      return "outer";
    case HessianPart::kFunctional:
      return "functional";
    case HessianPart::kFull:
      return "full";
  }
  return "?";
}

HessianPart ParseHessianPart(const std::string& text, const std::string& field) {
  for (HessianPart p : {HessianPart::kOuter, HessianPart::kFunctional, HessianPart::kFull}) {
    if (text == HessianPartName(p)) return p;
  }
  throw Error(ErrorMessage(field, "\"" + text + "\"", "one of outer, functional, full"));
}

const char* WeightGroupName(WeightGroup group) {
  switch (group) {
    case WeightGroup::kQ:
      return "Q";
    case WeightGroup::kK:
      return "K";
    case WeightGroup::kV:
      return "V";
  }
  return "?";
}

std::string BlockName::name() const {
  return std::string(WeightGroupName(rows)) + WeightGroupName(cols);
}

const std::vector<BlockName>& SpecBlocks() {
  static const std::vector<BlockName> blocks = {
      {WeightGroup::kV, WeightGroup::kV}, {WeightGroup::kQ, WeightGroup::kQ},
      {WeightGroup::kK, WeightGroup::kK}, {WeightGroup::kQ, WeightGroup::kK},
      {WeightGroup::kV, WeightGroup::kQ}, {WeightGroup::kV, WeightGroup::kK}};
  return blocks;
}

void AttentionLayerData::Validate() const {
  Require(!X.empty(), "inputs X", "no sequence", "at least one sequence (B >= 1)");
  Require(X.size() == Y.size(), "targets Y count", Y.size(),
          std::to_string(X.size()) + " (one per sequence)");
  const Eigen::Index m0 = m(), D0 = D();
  Require(m0 >= 1 && D0 >= 1, "inputs X[0] shape", ToText(m0) + " × " + ToText(D0),
          "m × D with m, D >= 1");
  for (size_t s = 0; s < X.size(); ++s) {
    const std::string name = "[" + std::to_string(s) + "]";
    Require(X[s].rows() == m0 && X[s].cols() == D0, "inputs X" + name + " shape",
            ToText(X[s].rows()) + " × " + ToText(X[s].cols()),
            ToText(m0) + " × " + ToText(D0) + " (every sequence alike)");
    Require(Y[s].rows() == m0 && Y[s].cols() == D0, "targets Y" + name + " shape",
            ToText(Y[s].rows()) + " × " + ToText(Y[s].cols()),
            ToText(m0) + " × " + ToText(D0) + " (the shape of X)");
    Require(X[s].allFinite(), "inputs X" + name, "a non-finite value", "finite values");
    Require(Y[s].allFinite(), "targets Y" + name, "a non-finite value", "finite values");
  }
}

void AttentionLayerWeights::Validate(Eigen::Index D) const {
  Require(WQ.rows() == D && WQ.cols() >= 1, "W_Q shape",
          ToText(WQ.rows()) + " × " + ToText(WQ.cols()), ToText(D) + " × k with k >= 1");
  Require(WK.rows() == D && WK.cols() == WQ.cols(), "W_K shape",
          ToText(WK.rows()) + " × " + ToText(WK.cols()),
          ToText(D) + " × " + ToText(WQ.cols()) + " (the shape of W_Q)");
  Require(WV.rows() == D && WV.cols() == D, "W_V shape",
          ToText(WV.rows()) + " × " + ToText(WV.cols()), ToText(D) + " × " + ToText(D));
  Require(WQ.allFinite() && WK.allFinite() && WV.allFinite(), "weights", "a non-finite value",
          "finite values");
}

AttentionLayerWeights RandomAttentionWeights(Eigen::Index D, Eigen::Index k, std::uint64_t seed,
                                             double std) {
  Require(D >= 1 && k >= 1, "attention weights shape", ToText(D) + " × " + ToText(k), "D, k >= 1");
  const double sd = std > 0 ? std : 1.0 / std::sqrt(static_cast<double>(D));
  boost::random::mt19937 engine(static_cast<std::uint32_t>(seed ^ (seed >> 32)));
  boost::random::normal_distribution<double> normal;
  auto draw = [&](Eigen::Index rows, Eigen::Index cols) {
    Eigen::MatrixXd M(rows, cols);
    for (Eigen::Index i = 0; i < rows; ++i) {
      for (Eigen::Index j = 0; j < cols; ++j) M(i, j) = sd * normal(engine);
    }
    return M;
  };
  AttentionLayerWeights w;
  w.WQ = draw(D, k);
  w.WK = draw(D, k);
  w.WV = draw(D, D);
  return w;
}

Eigen::VectorXd FlattenWeights(const AttentionLayerWeights& w) {
  const Eigen::Index D = w.D(), k = w.k();
  Eigen::VectorXd v(2 * D * k + D * D);
  PutRowMajor(w.WQ, v.segment(0, D * k));
  PutRowMajor(w.WK, v.segment(D * k, D * k));
  PutRowMajor(w.WV, v.segment(2 * D * k, D * D));
  return v;
}

AttentionLayerWeights UnflattenWeights(const Eigen::Ref<const Eigen::VectorXd>& theta,
                                       Eigen::Index D, Eigen::Index k) {
  Require(theta.size() == 2 * D * k + D * D, "parameter vector size", theta.size(),
          ToText(2 * D * k + D * D) + " (2Dk + D²)");
  AttentionLayerWeights w;
  w.WQ = GetRowMajor(theta.segment(0, D * k), D, k);
  w.WK = GetRowMajor(theta.segment(D * k, D * k), D, k);
  w.WV = GetRowMajor(theta.segment(2 * D * k, D * D), D, D);
  return w;
}

std::vector<Eigen::MatrixXd> AttentionLayerOutputs(const AttentionLayerData& data,
                                                   const AttentionLayerWeights& w) {
  data.Validate();
  w.Validate(data.D());
  const Eigen::MatrixXd M0 = Mask(data.m(), data.causal);
  const double inv_sqrt_k = 1.0 / std::sqrt(static_cast<double>(w.k()));
  std::vector<Eigen::MatrixXd> F;
  for (const Eigen::MatrixXd& X : data.X) {
    const Eigen::MatrixXd logits = (X * w.WQ) * (X * w.WK).transpose() * inv_sqrt_k;
    F.push_back(Attention(logits, M0, data.attention) * (X * w.WV));
  }
  return F;
}

double AttentionLayerLoss(const AttentionLayerData& data, const AttentionLayerWeights& w) {
  const std::vector<Eigen::MatrixXd> F = AttentionLayerOutputs(data, w);
  double sum = 0;
  for (size_t s = 0; s < F.size(); ++s) sum += (F[s] - data.Y[s]).squaredNorm();
  return sum / static_cast<double>(data.B() * data.m() * data.D());
}

AttentionHessian::AttentionHessian(const AttentionLayerData& data,
                                   const AttentionLayerWeights& weights)
    : attention_(data.attention) {
  data.Validate();
  weights.Validate(data.D());
  D_ = data.D();
  k_ = weights.k();
  m_ = data.m();
  WQ_ = weights.WQ;
  WK_ = weights.WK;
  WV_ = weights.WV;
  c_ = 2.0 / static_cast<double>(data.B() * m_ * D_);
  const Eigen::MatrixXd M0 = Mask(m_, data.causal);
  const double inv_sqrt_k = 1.0 / std::sqrt(static_cast<double>(k_));
  double sum = 0;
  for (size_t s = 0; s < data.X.size(); ++s) {
    Sequence q;
    q.X = data.X[s];
    q.Y = data.Y[s];
    q.M0 = M0;
    q.Qt = q.X * WQ_;
    q.Kt = q.X * WK_;
    q.A = Attention(q.Qt * q.Kt.transpose() * inv_sqrt_k, M0, attention_);
    q.Z = q.X * WV_;
    q.F = q.A * q.Z;
    q.R = q.F - q.Y;
    q.AX = q.A * q.X;
    sum += q.R.squaredNorm();
    seq_.push_back(std::move(q));
  }
  loss_ = sum / static_cast<double>(data.B() * m_ * D_);
}

Eigen::Index AttentionHessian::offset(WeightGroup g) const {
  switch (g) {
    case WeightGroup::kQ:
      return 0;
    case WeightGroup::kK:
      return D_ * k_;
    case WeightGroup::kV:
      return 2 * D_ * k_;
  }
  return 0;
}

Eigen::Index AttentionHessian::size(WeightGroup g) const {
  return g == WeightGroup::kV ? D_ * D_ : D_ * k_;
}

Eigen::VectorXd AttentionHessian::Gradient() const {
  // Γ = c R;  ∇W_V = Σ (AX)ᵀ Γ;  Γ_A = Γ Zᵀ;  Γ_Λ from Γ_A;
  // ∇W_Q = Σ Xᵀ Γ_Λ K̃/√k;  ∇W_K = Σ Xᵀ Γ_Λᵀ Q̃/√k  (spec §B.1).
  const double inv_sqrt_k = 1.0 / std::sqrt(static_cast<double>(k_));
  Eigen::MatrixXd gQ = Eigen::MatrixXd::Zero(D_, k_), gK = gQ, gV = Eigen::MatrixXd::Zero(D_, D_);
  for (const Sequence& s : seq_) {
    const Eigen::MatrixXd Gamma = c_ * s.R;
    gV.noalias() += s.AX.transpose() * Gamma;
    const Eigen::MatrixXd gL = AttentionCotangent(s.A, s.M0, Gamma * s.Z.transpose(), attention_);
    gQ.noalias() += inv_sqrt_k * (s.X.transpose() * gL * s.Kt);
    gK.noalias() += inv_sqrt_k * (s.X.transpose() * gL.transpose() * s.Qt);
  }
  Eigen::VectorXd g(num_parameters());
  PutRowMajor(gQ, g.segment(offset(WeightGroup::kQ), D_ * k_));
  PutRowMajor(gK, g.segment(offset(WeightGroup::kK), D_ * k_));
  PutRowMajor(gV, g.segment(offset(WeightGroup::kV), D_ * D_));
  return g;
}

Eigen::MatrixXd AttentionHessian::E(const Sequence& s, Eigen::Index i) const {
  // softmax: E_{i,l,a} = A_il (Z_la − F_ia);  linear: M₀_il Z_la.
  if (attention_ == AttentionKind::kLinear) {
    return (s.Z.array().colwise() * s.M0.row(i).transpose().array()).matrix();
  }
  return ((s.Z.rowwise() - s.F.row(i)).array().colwise() * s.A.row(i).transpose().array()).matrix();
}

Eigen::MatrixXd AttentionHessian::Bx(const Sequence& s, Eigen::Index i) const {
  // softmax: Bx_{i,l,b} = A_il (X_lb − (AX)_ib);  linear: M₀_il X_lb.
  if (attention_ == AttentionKind::kLinear) {
    return (s.X.array().colwise() * s.M0.row(i).transpose().array()).matrix();
  }
  return ((s.X.rowwise() - s.AX.row(i)).array().colwise() * s.A.row(i).transpose().array())
      .matrix();
}

Eigen::MatrixXd AttentionHessian::Phi(const Sequence& s, Eigen::Index i,
                                      const Eigen::MatrixXd& G) const {
  // Φ_i[l,m] = δ_lm A_il (G_il − g_i) − A_il A_im (G_il + G_im − 2 g_i)
  //          = diag(u) − u aᵀ − a uᵀ,  a_l = A_il,  u_l = A_il (G_il − g_i).
  if (attention_ == AttentionKind::kLinear) return Eigen::MatrixXd::Zero(m_, m_);
  const double g = s.R.row(i).dot(s.F.row(i));
  const Eigen::VectorXd a = s.A.row(i).transpose();
  const Eigen::VectorXd u =
      a.cwiseProduct(G.row(i).transpose().array().matrix() - Eigen::VectorXd::Constant(m_, g));
  Eigen::MatrixXd Phi = -u * a.transpose() - a * u.transpose();
  Phi.diagonal() += u;
  return Phi;
}

Eigen::MatrixXd AttentionHessian::Psi(const Sequence& s, const Eigen::MatrixXd& G) const {
  // Ψ_il = Σ_a R_ia E_{i,l,a}: softmax A_il (G_il − g_i); linear M₀_il G_il.
  if (attention_ == AttentionKind::kLinear) return s.M0.cwiseProduct(G);
  const Eigen::VectorXd g = s.R.cwiseProduct(s.F).rowwise().sum();
  return s.A.cwiseProduct(G.colwise() - g);
}

namespace {

// Accumulates Σ_n U_n ⊗ V_n in an index order given by `place`: row n of U
// holds the n1 × n2 matrix U_n (column-major vec), row n of V the n3 × n4
// matrix V_n; T = Uᵀ V is (n1 n2) × (n3 n4), and place(i1, i2, i3, i4) gives
// the (row, column) of the block entry that T[(i1,i2),(i3,i4)] adds to.
template <typename Place>
void AddFactored(const Eigen::MatrixXd& U, const Eigen::MatrixXd& V, Eigen::Index n1,
                 Eigen::Index n2, Eigen::Index n3, Eigen::Index n4, double scale, Place place,
                 Eigen::MatrixXd* block) {
  const Eigen::MatrixXd T = U.transpose() * V;
  for (Eigen::Index i4 = 0; i4 < n4; ++i4) {
    for (Eigen::Index i3 = 0; i3 < n3; ++i3) {
      const Eigen::Index col = i3 + n3 * i4;
      for (Eigen::Index i2 = 0; i2 < n2; ++i2) {
        for (Eigen::Index i1 = 0; i1 < n1; ++i1) {
          const auto [r, c] = place(i1, i2, i3, i4);
          (*block)(r, c) += scale * T(i1 + n1 * i2, col);
        }
      }
    }
  }
}

// Row n of *out = vec(M) (column-major).
void PutRow(const Eigen::MatrixXd& M, Eigen::Index n, Eigen::MatrixXd* out) {
  out->row(n) = Eigen::Map<const Eigen::RowVectorXd>(M.data(), M.size());
}

}  // namespace

Eigen::MatrixXd AttentionHessian::Block(WeightGroup a, WeightGroup b, HessianPart part) const {
  // Blocks below the diagonal are the transposes of the spec's blocks.
  if ((a == WeightGroup::kQ && b == WeightGroup::kV) ||
      (a == WeightGroup::kK && b == WeightGroup::kV) ||
      (a == WeightGroup::kK && b == WeightGroup::kQ)) {
    return Block(b, a, part).transpose();
  }
  const bool outer = part != HessianPart::kFunctional;
  const bool functional = part != HessianPart::kOuter;
  const Eigen::Index D = D_, k = k_, m = m_;
  const Eigen::Index N = static_cast<Eigen::Index>(seq_.size()) * m;  // one row per (s, i)
  const double ck = c_ / static_cast<double>(k), csk = c_ / std::sqrt(static_cast<double>(k));
  Eigen::MatrixXd H = Eigen::MatrixXd::Zero(size(a), size(b));
  // Entry order of the spec: W_Q[p,q] ↦ p k + q, W_V[b,c] ↦ b D + c. A
  // Kronecker term a ⊗ b with a over (p, p') and b over (q, q'):
  auto kron_place = [k](Eigen::Index p, Eigen::Index p2, Eigen::Index q, Eigen::Index q2) {
    return std::pair<Eigen::Index, Eigen::Index>{p * k + q, p2 * k + q2};
  };

  if (a == WeightGroup::kV && b == WeightGroup::kV) {
    // H_o(V,V) = c Σ_s (AX)ᵀ(AX) ⊗ I_D;  H_f(V,V) = 0 (F is linear in W_V).
    if (!outer) return H;
    Eigen::MatrixXd S = Eigen::MatrixXd::Zero(D, D);
    for (const Sequence& s : seq_) S.noalias() += s.AX.transpose() * s.AX;
    for (Eigen::Index b1 = 0; b1 < D; ++b1) {
      for (Eigen::Index b2 = 0; b2 < D; ++b2) {
        H.block(b1 * D, b2 * D, D, D).diagonal().setConstant(c_ * S(b1, b2));
      }
    }
    return H;
  }

  if (a == b || (a == WeightGroup::kQ && b == WeightGroup::kK)) {
    // QQ, KK, QK: the outer part through Ξ_i = E_i E_iᵀ, the functional part
    // through Φ_i — the same factor structure, so M_i = Ξ_i + Φ_i (spec §B.2, §B.3).
    const bool qq = a == WeightGroup::kQ && b == WeightGroup::kQ;
    const bool kk = a == WeightGroup::kK && b == WeightGroup::kK;
    Eigen::MatrixXd U(N, qq ? D * D : kk ? D * D : D * k);
    Eigen::MatrixXd V(N, qq ? k * k : kk ? k * k : k * D);
    Eigen::MatrixXd XPsiX = Eigen::MatrixXd::Zero(D, D);
    Eigen::Index n = 0;
    for (const Sequence& s : seq_) {
      Eigen::MatrixXd G;
      if (functional) G = s.R * s.Z.transpose();
      if (functional && !qq && !kk) XPsiX.noalias() += s.X.transpose() * Psi(s, G) * s.X;
      for (Eigen::Index i = 0; i < m; ++i, ++n) {
        Eigen::MatrixXd M = Eigen::MatrixXd::Zero(m, m);
        if (outer) {
          const Eigen::MatrixXd Ei = E(s, i);
          M.noalias() += Ei * Ei.transpose();
        }
        if (functional) M += Phi(s, i, G);
        const Eigen::VectorXd x = s.X.row(i).transpose(), qt = s.Qt.row(i).transpose();
        if (qq) {
          // (x_i x_iᵀ) ⊗ (K̃ᵀ M_i K̃)
          PutRow(x * x.transpose(), n, &U);
          PutRow(s.Kt.transpose() * M * s.Kt, n, &V);
        } else if (kk) {
          // (Xᵀ M_i X) ⊗ (q̃_i q̃_iᵀ)
          PutRow(s.X.transpose() * M * s.X, n, &U);
          PutRow(qt * qt.transpose(), n, &V);
        } else {
          // [(p,q),(p',q')] += X_ip (K̃ᵀ M_i X)_{q p'} Q̃_iq': factors (p,q') and (q,p').
          PutRow(x * qt.transpose(), n, &U);
          PutRow(s.Kt.transpose() * M * s.X, n, &V);
        }
      }
    }
    if (qq || kk) {
      AddFactored(U, V, D, D, k, k, ck, kron_place, &H);
    } else {
      AddFactored(
          U, V, D, k, k, D, ck,
          [k](Eigen::Index p, Eigen::Index q2, Eigen::Index q, Eigen::Index p2) {
            return std::pair<Eigen::Index, Eigen::Index>{p * k + q, p2 * k + q2};
          },
          &H);
      // + (c/√k) Σ_s (Xᵀ Ψ X)_{pp'} δ_qq'
      for (Eigen::Index p = 0; p < D; ++p) {
        for (Eigen::Index p2 = 0; p2 < D; ++p2) {
          H.block(p * k, p2 * k, k, k).diagonal().array() += csk * XPsiX(p, p2);
        }
      }
    }
    return H;
  }

  // VQ and VK: rows (b, c) of W_V, columns (p, q) of W_Q or W_K.
  const bool vq = b == WeightGroup::kQ;
  auto v_place = [D, k](Eigen::Index b1, Eigen::Index c1, Eigen::Index p, Eigen::Index q) {
    return std::pair<Eigen::Index, Eigen::Index>{b1 * D + c1, p * k + q};
  };
  if (outer) {
    Eigen::MatrixXd U(N, vq ? D * D : D * k), V(N, vq ? D * k : D * D);
    Eigen::Index n = 0;
    for (const Sequence& s : seq_) {
      for (Eigen::Index i = 0; i < m; ++i, ++n) {
        const Eigen::MatrixXd Ei = E(s, i);
        const Eigen::VectorXd ax = s.AX.row(i).transpose();
        if (vq) {
          // (c/√k) AX_ib X_ip (E_iᵀ K̃)_{cq}: factors (b,p) and (c,q).
          PutRow(ax * s.X.row(i), n, &U);
          PutRow(Ei.transpose() * s.Kt, n, &V);
        } else {
          // (c/√k) AX_ib Q̃_iq (E_iᵀ X)_{cp}: factors (b,q) and (c,p).
          PutRow(ax * s.Qt.row(i), n, &U);
          PutRow(Ei.transpose() * s.X, n, &V);
        }
      }
    }
    if (vq) {
      AddFactored(
          U, V, D, D, D, k, csk,
          [&](Eigen::Index b1, Eigen::Index p, Eigen::Index c1, Eigen::Index q) {
            return v_place(b1, c1, p, q);
          },
          &H);
    } else {
      AddFactored(
          U, V, D, k, D, D, csk,
          [&](Eigen::Index b1, Eigen::Index q, Eigen::Index c1, Eigen::Index p) {
            return v_place(b1, c1, p, q);
          },
          &H);
    }
  }
  if (functional) {
    Eigen::MatrixXd U(N, D * D), V(N, vq ? D * k : D * k);
    Eigen::Index n = 0;
    for (const Sequence& s : seq_) {
      for (Eigen::Index i = 0; i < m; ++i, ++n) {
        const Eigen::MatrixXd Bi = Bx(s, i);
        const Eigen::VectorXd r = s.R.row(i).transpose();
        if (vq) {
          // (c/√k) R_ic X_ip (Bx_iᵀ K̃)_{bq}: factors (p,c) and (b,q).
          PutRow(s.X.row(i).transpose() * r.transpose(), n, &U);
          PutRow(Bi.transpose() * s.Kt, n, &V);
        } else {
          // (c/√k) R_ic Q̃_iq (Bx_iᵀ X)_{bp}: factors (b,p) and (c,q).
          PutRow(Bi.transpose() * s.X, n, &U);
          PutRow(r * s.Qt.row(i), n, &V);
        }
      }
    }
    if (vq) {
      AddFactored(
          U, V, D, D, D, k, csk,
          [&](Eigen::Index p, Eigen::Index c1, Eigen::Index b1, Eigen::Index q) {
            return v_place(b1, c1, p, q);
          },
          &H);
    } else {
      AddFactored(
          U, V, D, D, D, k, csk,
          [&](Eigen::Index b1, Eigen::Index p, Eigen::Index c1, Eigen::Index q) {
            return v_place(b1, c1, p, q);
          },
          &H);
    }
  }
  return H;
}

Eigen::MatrixXd AttentionHessian::Dense(HessianPart part) const {
  const Eigen::Index n = num_parameters();
  Eigen::MatrixXd H(n, n);
  const WeightGroup groups[] = {WeightGroup::kQ, WeightGroup::kK, WeightGroup::kV};
  for (WeightGroup a : groups) {
    for (WeightGroup b : groups) {
      if (offset(b) < offset(a)) continue;  // the lower blocks are the transposes
      const Eigen::MatrixXd blk = Block(a, b, part);
      H.block(offset(a), offset(b), size(a), size(b)) = blk;
      if (a != b) H.block(offset(b), offset(a), size(b), size(a)) = blk.transpose();
    }
  }
  return H;
}

Eigen::VectorXd AttentionHessian::Apply(const Eigen::Ref<const Eigen::VectorXd>& v,
                                        HessianPart part) const {
  Require(v.size() == num_parameters(), "direction size", v.size(),
          ToText(num_parameters()) + " (2Dk + D²)");
  const AttentionLayerWeights dW = UnflattenWeights(v, D_, k_);
  const double inv_sqrt_k = 1.0 / std::sqrt(static_cast<double>(k_));
  const bool outer = part != HessianPart::kFunctional;
  const bool functional = part != HessianPart::kOuter;
  Eigen::MatrixXd hQ = Eigen::MatrixXd::Zero(D_, k_), hK = hQ, hV = Eigen::MatrixXd::Zero(D_, D_);
  for (const Sequence& s : seq_) {
    // 1. Forward tangent (spec §C.1).
    const Eigen::MatrixXd dQt = s.X * dW.WQ, dKt = s.X * dW.WK;
    const Eigen::MatrixXd dLambda = (dQt * s.Kt.transpose() + s.Qt * dKt.transpose()) * inv_sqrt_k;
    const Eigen::MatrixXd dA = AttentionTangent(s.A, s.M0, dLambda, attention_);
    const Eigen::MatrixXd dZ = s.X * dW.WV;
    if (outer) {
      // 2. The backward map applied to Γ = c δF: Jᵀ (c δF).
      const Eigen::MatrixXd Gamma = c_ * (dA * s.Z + s.A * dZ);
      hV.noalias() += s.AX.transpose() * Gamma;
      const Eigen::MatrixXd gL = AttentionCotangent(s.A, s.M0, Gamma * s.Z.transpose(), attention_);
      hQ.noalias() += inv_sqrt_k * (s.X.transpose() * gL * s.Kt);
      hK.noalias() += inv_sqrt_k * (s.X.transpose() * gL.transpose() * s.Qt);
    }
    if (functional) {
      // 3. The backward map's derivative at fixed Γ = c R.
      const Eigen::MatrixXd Gamma = c_ * s.R;
      hV.noalias() += (dA * s.X).transpose() * Gamma;
      const Eigen::MatrixXd gA = Gamma * s.Z.transpose();
      const Eigen::MatrixXd dgA = Gamma * dZ.transpose();
      Eigen::MatrixXd gL, dgL;
      if (attention_ == AttentionKind::kLinear) {
        gL = s.M0.cwiseProduct(gA);
        dgL = s.M0.cwiseProduct(dgA);
      } else {
        const Eigen::VectorXd sum = gA.cwiseProduct(s.A).rowwise().sum();
        const Eigen::VectorXd dsum = (dgA.cwiseProduct(s.A) + gA.cwiseProduct(dA)).rowwise().sum();
        gL = s.A.cwiseProduct(gA.colwise() - sum);
        dgL = dA.cwiseProduct(gA.colwise() - sum) + s.A.cwiseProduct(dgA.colwise() - dsum);
      }
      hQ.noalias() += inv_sqrt_k * (s.X.transpose() * dgL * s.Kt + s.X.transpose() * gL * dKt);
      hK.noalias() += inv_sqrt_k * (s.X.transpose() * dgL.transpose() * s.Qt +
                                    s.X.transpose() * gL.transpose() * dQt);
    }
  }
  Eigen::VectorXd out(num_parameters());
  PutRowMajor(hQ, out.segment(offset(WeightGroup::kQ), D_ * k_));
  PutRowMajor(hK, out.segment(offset(WeightGroup::kK), D_ * k_));
  PutRowMajor(hV, out.segment(offset(WeightGroup::kV), D_ * D_));
  return out;
}

void AttentionHessian::KroneckerTerms(WeightGroup a, HessianPart part,
                                      std::vector<Eigen::MatrixXd>* left,
                                      std::vector<Eigen::MatrixXd>* right) const {
  const double ck = c_ / static_cast<double>(k_);
  left->clear();
  right->clear();
  if (a == WeightGroup::kV) {
    if (part == HessianPart::kFunctional) return;
    Eigen::MatrixXd S = Eigen::MatrixXd::Zero(D_, D_);
    for (const Sequence& s : seq_) S.noalias() += s.AX.transpose() * s.AX;
    left->push_back(c_ * S);
    right->push_back(Eigen::MatrixXd::Identity(D_, D_));
    return;
  }
  for (const Sequence& s : seq_) {
    Eigen::MatrixXd G;
    if (part == HessianPart::kFunctional) G = s.R * s.Z.transpose();
    for (Eigen::Index i = 0; i < m_; ++i) {
      Eigen::MatrixXd M;
      if (part == HessianPart::kOuter) {
        const Eigen::MatrixXd Ei = E(s, i);
        M = Ei * Ei.transpose();
      } else {
        M = Phi(s, i, G);
      }
      if (a == WeightGroup::kQ) {
        const Eigen::VectorXd x = s.X.row(i).transpose();
        left->push_back(x * x.transpose());
        right->push_back(ck * (s.Kt.transpose() * M * s.Kt));
      } else {
        const Eigen::VectorXd qt = s.Qt.row(i).transpose();
        left->push_back(s.X.transpose() * M * s.X);
        right->push_back(ck * (qt * qt.transpose()));
      }
    }
  }
}

double AttentionHessian::DiagonalBlockNormByGram(WeightGroup a, HessianPart part) const {
  Require(part != HessianPart::kFull, "part", "full",
          "outer or functional (the full block is not a Kronecker sum of one kind)");
  std::vector<Eigen::MatrixXd> left, right;
  KroneckerTerms(a, part, &left, &right);
  if (left.empty()) return 0.0;
  const auto n = static_cast<Eigen::Index>(left.size());
  Eigen::MatrixXd Lm(n, left[0].size()), Rm(n, right[0].size());
  for (Eigen::Index i = 0; i < n; ++i) {
    PutRow(left[static_cast<size_t>(i)], i, &Lm);
    PutRow(right[static_cast<size_t>(i)], i, &Rm);
  }
  // ‖Σ_i a_i ⊗ b_i‖_F² = Σ_ij ⟨a_i, a_j⟩ ⟨b_i, b_j⟩ (spec §C.2).
  const Eigen::MatrixXd GL = Lm * Lm.transpose(), GR = Rm * Rm.transpose();
  return std::sqrt(std::max(0.0, GL.cwiseProduct(GR).sum()));
}

}  // namespace attnpaths
