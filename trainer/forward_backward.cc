#include "trainer/forward_backward.h"

#include <algorithm>
#include <cmath>
#include <exception>
#include <string>
#include <thread>

#include "kernels/error.h"

namespace attnpaths {

namespace {

// Examples per chunk: the chunk's activations are a few MB at most.
constexpr Eigen::Index kChunk = 64;

bool Active(const HeadMask& mask, int l, Eigen::Index h) {
  return mask.empty() || mask[static_cast<size_t>(l - 1)][static_cast<size_t>(h)];
}

void CheckInputs(const Network& net, const Inputs& x, const HeadMask& mask) {
  const NetworkShape& s = net.shape();
  Require(x.N0() == s.N0, "inputs N0 (features per token)", x.N0(),
          std::to_string(s.N0) + " (the network's N0)");
  Require(x.n_tok() == s.n_tok, "inputs n_tok (tokens per sequence)", x.n_tok(),
          std::to_string(s.n_tok) + " (the network's n_tok)");
  ValidateHeadMask(mask, s);
}

// The token readout as a vector r over queries: ω = Ω r (theory.md §1).
Eigen::VectorXd ReadoutWeights(const NetworkShape& s) {
  Eigen::VectorXd r = Eigen::VectorXd::Zero(s.n_tok);
  switch (s.readout) {
    case Readout::kMean:
      r.setConstant(1.0 / static_cast<double>(s.n_tok));
      break;
    case Readout::kFirst:
      r(0) = 1.0;
      break;
    case Readout::kLast:
      r(s.n_tok - 1) = 1.0;
      break;
  }
  return r;
}

// Column-wise softmax over keys (rows), in place: Ω_{st} = softmax_s A_{st}.
void SoftmaxColumns(Eigen::Ref<Eigen::MatrixXd> a) {
  for (Eigen::Index t = 0; t < a.cols(); ++t) {
    auto col = a.col(t);
    col.array() = (col.array() - col.maxCoeff()).exp();
    col /= col.sum();
  }
}

// Activations of one chunk of B examples, tokens side by side: example b
// occupies columns [b n_tok, (b+1) n_tok) of every per-token matrix.
class ChunkPass {
 public:
  ChunkPass(const Network& net, const HeadMask& mask)
      : net_(net), s_(net.shape()), mask_(mask), r_(ReadoutWeights(s_)) {
    const int L = s_.L();
    kappa_.resize(static_cast<size_t>(L));
    query_.resize(static_cast<size_t>(L));
    omega_.resize(static_cast<size_t>(L));
    m_.resize(static_cast<size_t>(L));
    for (int l = 0; l < L; ++l) {
      const auto H = static_cast<size_t>(s_.heads[static_cast<size_t>(l)]);
      kappa_[static_cast<size_t>(l)].resize(H);
      query_[static_cast<size_t>(l)].resize(H);
      omega_[static_cast<size_t>(l)].resize(H);
      m_[static_cast<size_t>(l)].resize(H);
    }
    readout_.resize(static_cast<size_t>(s_.heads.back()));
    z_.resize(static_cast<size_t>(L + 1));
  }

  // Gathers the examples `ids` and runs the forward pass; returns f (B).
  const Eigen::VectorXd& Forward(const Inputs& x, const Eigen::Index* ids, Eigen::Index B) {
    const Eigen::Index n = s_.n_tok, N0 = s_.N0;
    const int L = s_.L();
    B_ = B;
    X_.resize(N0, B * n);
    for (Eigen::Index b = 0; b < B; ++b) X_.middleCols(b * n, n) = x.example(ids[b]);
    const double inv_sqrt_d = 1.0 / std::sqrt(static_cast<double>(s_.key_dim));

    // z⁰ = V_0 x / √N0 (theory.md §1, embedding).
    z_[0].noalias() = net_.V0() * X_;
    z_[0] /= std::sqrt(static_cast<double>(N0));
    for (int l = 1; l <= L; ++l) {
      const auto li = static_cast<size_t>(l - 1);
      const Eigen::Index H = s_.heads[li];
      const double c = 1.0 / std::sqrt(static_cast<double>(H * s_.widths[li]));
      const Eigen::MatrixXd& prev = z_[li];
      Eigen::MatrixXd& out = z_[li + 1];
      out.setZero(s_.widths[li + 1], l < L ? B * n : B);
      for (Eigen::Index h = 0; h < H; ++h) {
        if (!Active(mask_, l, h)) continue;
        const auto hi = static_cast<size_t>(h);
        // Ω^{ℓ,h}(x) from the input tokens (theory.md §1, QK-form).
        Eigen::MatrixXd& kappa = kappa_[li][hi];
        Eigen::MatrixXd& query = query_[li][hi];
        Eigen::MatrixXd& omega = omega_[li][hi];
        Eigen::MatrixXd& m = m_[li][hi];
        kappa.noalias() = net_.K(l, h) * X_;
        query.noalias() = net_.Q(l, h) * X_;
        omega.resize(n, B * n);
        m.resize(s_.widths[li], l < L ? B * n : B);
        if (l == L) readout_[hi].resize(n, B);
        for (Eigen::Index b = 0; b < B; ++b) {
          auto om = omega.middleCols(b * n, n);
          om.noalias() = kappa.middleCols(b * n, n).transpose() * query.middleCols(b * n, n);
          om *= inv_sqrt_d;
          SoftmaxColumns(om);
          if (l < L) {
            // z^{ℓ-1} Ω^{ℓ,h}
            m.middleCols(b * n, n).noalias() = prev.middleCols(b * n, n) * om;
          } else {
            // ω^{L,h} = Ω r, then z^{L-1} ω^{L,h}
            readout_[hi].col(b).noalias() = om * r_;
            m.col(b).noalias() = prev.middleCols(b * n, n) * readout_[hi].col(b);
          }
        }
        out.noalias() += c * (net_.V(l, h) * m);
      }
    }
    // f = a·z^L / √n_{L+1}
    f_.noalias() = z_[static_cast<size_t>(L)].transpose() * net_.a().col(0);
    f_ /= std::sqrt(static_cast<double>(s_.widths.back()));
    return f_;
  }

  // Adds Σ_b g_b ∂f_b/∂θ to *grad (layout of the network's parameters), for
  // the chunk of the last Forward call.
  void Backward(const Eigen::Ref<const Eigen::VectorXd>& g, Eigen::VectorXd* grad) {
    const ParameterLayout& lay = net_.layout();
    const Eigen::Index n = s_.n_tok, B = B_;
    const int L = s_.L();
    const double inv_sqrt_d = 1.0 / std::sqrt(static_cast<double>(s_.key_dim));
    const double inv_sqrt_na = 1.0 / std::sqrt(static_cast<double>(s_.widths.back()));

    // f = a·z^L/√n_{L+1}: ∂a = z^L g/√n_{L+1}; G = ∂/∂z^L = a gᵀ/√n_{L+1}.
    ParameterLayout::View(*grad, lay.a()).col(0).noalias() +=
        inv_sqrt_na * (z_[static_cast<size_t>(L)] * g);
    Eigen::MatrixXd G = inv_sqrt_na * (net_.a().col(0) * g.transpose());
    Eigen::MatrixXd G_prev, dm, dkappa, dquery, dA;
    for (int l = L; l >= 1; --l) {
      const auto li = static_cast<size_t>(l - 1);
      const Eigen::Index H = s_.heads[li];
      const double c = 1.0 / std::sqrt(static_cast<double>(H * s_.widths[li]));
      const Eigen::MatrixXd& prev = z_[li];
      G_prev.setZero(s_.widths[li], B * n);
      for (Eigen::Index h = 0; h < H; ++h) {
        if (!Active(mask_, l, h)) continue;
        const auto hi = static_cast<size_t>(h);
        const Eigen::MatrixXd& kappa = kappa_[li][hi];
        const Eigen::MatrixXd& query = query_[li][hi];
        const Eigen::MatrixXd& omega = omega_[li][hi];
        const Eigen::MatrixXd& m = m_[li][hi];
        // z^ℓ += c V m: ∂V = c G mᵀ, ∂m = c Vᵀ G.
        ParameterLayout::View(*grad, lay.V(l, h)).noalias() += c * (G * m.transpose());
        dm.noalias() = c * (net_.V(l, h).transpose() * G);
        dkappa.resize(s_.key_dim, B * n);
        dquery.resize(s_.key_dim, B * n);
        for (Eigen::Index b = 0; b < B; ++b) {
          const auto om = omega.middleCols(b * n, n);
          const auto zb = prev.middleCols(b * n, n);
          if (l < L) {
            // m_b = z_b Ω: ∂z_b += ∂m_b Ωᵀ, ∂Ω = z_bᵀ ∂m_b.
            G_prev.middleCols(b * n, n).noalias() += dm.middleCols(b * n, n) * om.transpose();
            dA.noalias() = zb.transpose() * dm.middleCols(b * n, n);
          } else {
            // m_b = z_b ω, ω = Ω r: ∂z_b += ∂m_b ωᵀ, ∂ω = z_bᵀ ∂m_b, ∂Ω = ∂ω rᵀ.
            G_prev.middleCols(b * n, n).noalias() += dm.col(b) * readout_[hi].col(b).transpose();
            const Eigen::VectorXd domega = zb.transpose() * dm.col(b);
            dA.noalias() = domega * r_.transpose();
          }
          // Softmax over keys, column t: ∂A_st = Ω_st (∂Ω_st − Σ_s' Ω_s't ∂Ω_s't).
          const Eigen::RowVectorXd inner = (om.array() * dA.array()).colwise().sum();
          dA = (om.array() * (dA.rowwise() - inner).array()).matrix();
          // A = κᵀ q /√d: ∂κ = q ∂Aᵀ/√d, ∂q = κ ∂A/√d.
          dkappa.middleCols(b * n, n).noalias() =
              inv_sqrt_d * (query.middleCols(b * n, n) * dA.transpose());
          dquery.middleCols(b * n, n).noalias() = inv_sqrt_d * (kappa.middleCols(b * n, n) * dA);
        }
        // κ = K x, q = Q x.
        ParameterLayout::View(*grad, lay.K(l, h)).noalias() += dkappa * X_.transpose();
        ParameterLayout::View(*grad, lay.Q(l, h)).noalias() += dquery * X_.transpose();
      }
      G.swap(G_prev);
    }
    // z⁰ = V_0 x/√N0: ∂V_0 = G xᵀ/√N0.
    ParameterLayout::View(*grad, lay.V0()).noalias() +=
        (1.0 / std::sqrt(static_cast<double>(s_.N0))) * (G * X_.transpose());
  }

 private:
  const Network& net_;
  const NetworkShape& s_;
  const HeadMask& mask_;
  const Eigen::VectorXd r_;
  Eigen::Index B_ = 0;
  Eigen::MatrixXd X_;
  std::vector<std::vector<Eigen::MatrixXd>> kappa_, query_, omega_, m_;  // [ℓ-1][h]
  std::vector<Eigen::MatrixXd> readout_;                                 // ω^{L,h}: n_tok × B
  std::vector<Eigen::MatrixXd> z_;                                       // z⁰ … z^L
  Eigen::VectorXd f_;
};

int ThreadCount(int threads, Eigen::Index items) {
  const int hw = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int want = threads > 0 ? threads : hw;
  return static_cast<int>(std::max<Eigen::Index>(1, std::min<Eigen::Index>(want, items)));
}

// Runs work(part, begin, end) on `parts` contiguous ranges of [0, count),
// part 0 on the calling thread; rethrows the first exception.
template <typename Work>
void RunParts(int parts, Eigen::Index count, const Work& work) {
  if (parts <= 1) {
    work(0, 0, count);
    return;
  }
  const Eigen::Index per = (count + parts - 1) / parts;
  std::vector<std::exception_ptr> errors(static_cast<size_t>(parts));
  std::vector<std::thread> pool;
  for (int p = 1; p < parts; ++p) {
    pool.emplace_back([&, p] {
      try {
        work(p, std::min(count, p * per), std::min(count, (p + 1) * per));
      } catch (...) {
        errors[static_cast<size_t>(p)] = std::current_exception();
      }
    });
  }
  try {
    work(0, 0, std::min(count, per));
  } catch (...) {
    errors[0] = std::current_exception();
  }
  for (auto& t : pool) t.join();
  for (auto& e : errors) {
    if (e) std::rethrow_exception(e);
  }
}

}  // namespace

Eigen::VectorXd Predict(const Network& net, const Inputs& x, const HeadMask& mask, int threads) {
  CheckInputs(net, x, mask);
  std::vector<Eigen::Index> ids(static_cast<size_t>(x.P()));
  for (Eigen::Index mu = 0; mu < x.P(); ++mu) ids[static_cast<size_t>(mu)] = mu;
  Eigen::VectorXd f(x.P());
  RunParts(ThreadCount(threads, x.P()), x.P(), [&](int, Eigen::Index begin, Eigen::Index end) {
    ChunkPass pass(net, mask);
    for (Eigen::Index s = begin; s < end; s += kChunk) {
      const Eigen::Index B = std::min(kChunk, end - s);
      f.segment(s, B) = pass.Forward(x, ids.data() + s, B);
    }
  });
  return f;
}

double SignAccuracy(const Eigen::Ref<const Eigen::VectorXd>& f,
                    const Eigen::Ref<const Eigen::VectorXd>& y) {
  Require(f.size() == y.size(), "labels", y.size(), std::to_string(f.size()) + " values");
  if (f.size() == 0) return 0.0;
  Eigen::Index right = 0;
  for (Eigen::Index i = 0; i < f.size(); ++i)
    right += (f(i) > 0 && y(i) > 0) || (f(i) < 0 && y(i) < 0);
  return static_cast<double>(right) / static_cast<double>(f.size());
}

Evaluation Evaluate(const Network& net, const Inputs& x, const Eigen::Ref<const Eigen::VectorXd>& y,
                    const HeadMask& mask, int threads) {
  Require(y.size() == x.P(), "labels count", y.size(),
          std::to_string(x.P()) + " (one per example)");
  const Eigen::VectorXd f = Predict(net, x, mask, threads);
  Evaluation e;
  e.loss = x.P() > 0 ? (f - y).squaredNorm() / static_cast<double>(x.P()) : 0.0;
  e.accuracy = SignAccuracy(f, y);
  return e;
}

Loss LossAndGradient(const Network& net, const Inputs& x,
                     const Eigen::Ref<const Eigen::VectorXd>& y,
                     const std::vector<Eigen::Index>& batch, double weight_decay,
                     Eigen::VectorXd* gradient, const HeadMask& mask, int threads) {
  CheckInputs(net, x, mask);
  Require(y.size() == x.P(), "labels count", y.size(),
          std::to_string(x.P()) + " (one per example)");
  Require(!batch.empty(), "batch", "no examples", "at least one example");
  Require(std::isfinite(weight_decay) && weight_decay >= 0, "weight_decay", weight_decay,
          "a finite value >= 0");
  for (Eigen::Index id : batch) {
    Require(id >= 0 && id < x.P(), "batch example index", id, "0 … " + std::to_string(x.P() - 1));
  }
  const auto count = static_cast<Eigen::Index>(batch.size());
  const int parts = ThreadCount(threads, count);
  std::vector<double> sse(static_cast<size_t>(parts), 0.0);
  std::vector<Eigen::VectorXd> grads(static_cast<size_t>(parts));
  const double inv_B = 1.0 / static_cast<double>(count);
  RunParts(parts, count, [&](int p, Eigen::Index begin, Eigen::Index end) {
    ChunkPass pass(net, mask);
    Eigen::VectorXd& g = grads[static_cast<size_t>(p)];
    if (gradient) g = Eigen::VectorXd::Zero(net.num_parameters());
    for (Eigen::Index s = begin; s < end; s += kChunk) {
      const Eigen::Index B = std::min(kChunk, end - s);
      const Eigen::VectorXd& f = pass.Forward(x, batch.data() + s, B);
      Eigen::VectorXd r(B);
      for (Eigen::Index b = 0; b < B; ++b) r(b) = f(b) - y(batch[static_cast<size_t>(s + b)]);
      sse[static_cast<size_t>(p)] += r.squaredNorm();
      // ∂/∂f_b of (1/B_total) Σ (f − y)² is 2 (f_b − y_b)/B_total.
      if (gradient) pass.Backward(2.0 * inv_B * r, &g);
    }
  });
  Loss loss;
  for (double e : sse) loss.mean_squared_error += e;
  loss.mean_squared_error *= inv_B;
  const Eigen::VectorXd& theta = net.parameters();
  loss.objective = loss.mean_squared_error + 0.5 * weight_decay * theta.squaredNorm();
  if (gradient) {
    *gradient = weight_decay * theta;
    for (const Eigen::VectorXd& g : grads) *gradient += g;
  }
  return loss;
}

}  // namespace attnpaths
