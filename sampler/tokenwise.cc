#include "sampler/tokenwise.h"

#include <cmath>
#include <string>
#include <utility>

#include "kernels/error.h"

namespace attnpaths {

TokenwisePotential::TokenwisePotential(const Architecture& arch, const Inputs& x,
                                       Eigen::MatrixXd Y, double temperature, Split split)
    : layout_(arch, x.N0(), Y.cols()), x_(x), Y_(std::move(Y)), temperature_(temperature) {
  arch.Validate(x.N0(), x.n_tok());
  Require(Y_.rows() == x.P(), "Y rows", Y_.rows(), std::to_string(x.P()));
  Require(std::isfinite(temperature) && temperature > 0, "temperature", temperature,
          "a finite value > 0");
  const int L = arch.L();
  attention_.resize(static_cast<size_t>(x.P()));
  for (Eigen::Index mu = 0; mu < x.P(); ++mu) {
    auto& per_layer = attention_[static_cast<size_t>(mu)];
    per_layer.resize(static_cast<size_t>(L));
    for (int l = 1; l <= L; ++l) {
      for (const HeadSpec& head : arch.layers[static_cast<size_t>(l - 1)]) {
        Eigen::MatrixXd omega = AttentionMatrix(head, x.example(mu), mu, split);
        if (l == L) omega = ReadoutVector(omega, arch.readout);
        per_layer[static_cast<size_t>(l - 1)].push_back(std::move(omega));
      }
    }
  }
}

Eigen::RowVectorXd TokenwisePotential::Forward(const Eigen::Ref<const Eigen::VectorXd>& q,
                                               Eigen::Index mu,
                                               std::vector<Eigen::MatrixXd>* z) const {
  const int L = layout_.L();
  const auto& omega = attention_[static_cast<size_t>(mu)];
  std::vector<Eigen::MatrixXd> local;
  std::vector<Eigen::MatrixXd>& act = z ? *z : local;
  act.assign(static_cast<size_t>(L + 1), Eigen::MatrixXd());
  // z⁰ = V_0 x / √N0 (n_1 × n_tok), with V_0 = σ_0 Ṽ_0.
  act[0] = (layout_.sigma(0) / std::sqrt(double(layout_.N0()))) *
           (layout_.V0(q) * x_.example(mu));
  for (int l = 1; l <= L; ++l) {
    const double c = layout_.sigma(l) / std::sqrt(double(layout_.H(l) * layout_.n(l)));
    Eigen::MatrixXd next = Eigen::MatrixXd::Zero(layout_.n(l + 1), l < L ? x_.n_tok() : 1);
    for (Eigen::Index h = 0; h < layout_.H(l); ++h) {
      // Ω (or ω at the last layer) mixes tokens; V_{ℓ,h} mixes features.
      next.noalias() += c * (layout_.V(q, l, h) *
                             (act[static_cast<size_t>(l - 1)] *
                              omega[static_cast<size_t>(l - 1)][static_cast<size_t>(h)]));
    }
    act[static_cast<size_t>(l)] = std::move(next);
  }
  const double ca = layout_.sigma(L + 1) / std::sqrt(double(layout_.n(L + 1)));
  return ca * (act[static_cast<size_t>(L)].col(0).transpose() * layout_.a(q));
}

Eigen::MatrixXd TokenwisePotential::Outputs(const Eigen::Ref<const Eigen::VectorXd>& q) const {
  Eigen::MatrixXd f(x_.P(), layout_.outputs());
  for (Eigen::Index mu = 0; mu < x_.P(); ++mu) f.row(mu) = Forward(q, mu, nullptr);
  return f;
}

double TokenwisePotential::Evaluate(const Eigen::Ref<const Eigen::VectorXd>& q,
                                    Eigen::VectorXd* gradient) const {
  const int L = layout_.L();
  double value = 0.5 * q.squaredNorm();
  if (gradient) *gradient = q;
  std::vector<Eigen::MatrixXd> z;
  for (Eigen::Index mu = 0; mu < x_.P(); ++mu) {
    const Eigen::RowVectorXd residual = Forward(q, mu, gradient ? &z : nullptr) - Y_.row(mu);
    value += 0.5 * residual.squaredNorm() / temperature_;
    if (!gradient) continue;
    const auto& omega = attention_[static_cast<size_t>(mu)];
    const Eigen::RowVectorXd g = residual / temperature_;
    // f = ca ãᵀ z^L.
    const double ca = layout_.sigma(L + 1) / std::sqrt(double(layout_.n(L + 1)));
    layout_.a(*gradient).noalias() += ca * (z[static_cast<size_t>(L)] * g);
    Eigen::MatrixXd dz = ca * (layout_.a(q) * g.transpose());  // n_{L+1} × 1
    for (int l = L; l >= 1; --l) {
      const double c = layout_.sigma(l) / std::sqrt(double(layout_.H(l) * layout_.n(l)));
      const Eigen::MatrixXd& below = z[static_cast<size_t>(l - 1)];
      Eigen::MatrixXd dbelow = Eigen::MatrixXd::Zero(below.rows(), below.cols());
      for (Eigen::Index h = 0; h < layout_.H(l); ++h) {
        const Eigen::MatrixXd& om = omega[static_cast<size_t>(l - 1)][static_cast<size_t>(h)];
        const Eigen::MatrixXd mixed = below * om;  // z^{ℓ-1} Ω
        layout_.V(*gradient, l, h).noalias() += c * (dz * mixed.transpose());
        dbelow.noalias() += c * ((layout_.V(q, l, h).transpose() * dz) * om.transpose());
      }
      dz.swap(dbelow);
    }
    layout_.V0(*gradient).noalias() +=
        (layout_.sigma(0) / std::sqrt(double(layout_.N0()))) * (dz * x_.example(mu).transpose());
  }
  return value;
}

}  // namespace attnpaths
