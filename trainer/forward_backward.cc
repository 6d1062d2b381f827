#include "trainer/forward_backward.h"

#include <algorithm>
#include <cmath>
#include <exception>
#include <string>
#include <thread>

#include "kernels/error.h"
#include "trainer/worker_pool.h"

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

// Buffers of one chunk's forward and backward pass. Each thread keeps its own
// (thread_local) between calls: training calls the passes with the same
// sizes at every step, so after the first step nothing is allocated.
struct Workspace {
  Eigen::MatrixXd X;  // N0 × (B n_tok): the chunk's inputs side by side
  std::vector<std::vector<Eigen::MatrixXd>> kappa, query, omega, m;  // [ℓ-1][h]
  std::vector<Eigen::MatrixXd> readout;                              // ω^{L,h}: n_tok × B
  std::vector<Eigen::MatrixXd> z;                                    // z⁰ … z^L
  std::vector<Eigen::MatrixXd> G;                                    // ∂/∂z⁰ … ∂/∂z^L
  Eigen::MatrixXd dm, dkappa, dquery, dA;
  Eigen::VectorXd f;
  Eigen::VectorXd gradient;  // this thread's share of a batch gradient
};

Workspace& ThreadWorkspace() {
  thread_local Workspace workspace;
  return workspace;
}

// Activations of one chunk of B examples, tokens side by side: example b
// occupies columns [b n_tok, (b+1) n_tok) of every per-token matrix.
class ChunkPass {
 public:
  ChunkPass(const Network& net, const HeadMask& mask, Workspace& workspace)
      : net_(net), s_(net.shape()), mask_(mask), r_(ReadoutWeights(s_)), w_(workspace) {
    const int L = s_.L();
    w_.kappa.resize(static_cast<size_t>(L));
    w_.query.resize(static_cast<size_t>(L));
    w_.omega.resize(static_cast<size_t>(L));
    w_.m.resize(static_cast<size_t>(L));
    for (int l = 0; l < L; ++l) {
      const auto H = static_cast<size_t>(s_.heads[static_cast<size_t>(l)]);
      w_.kappa[static_cast<size_t>(l)].resize(H);
      w_.query[static_cast<size_t>(l)].resize(H);
      w_.omega[static_cast<size_t>(l)].resize(H);
      w_.m[static_cast<size_t>(l)].resize(H);
    }
    w_.readout.resize(static_cast<size_t>(s_.heads.back()));
    w_.z.resize(static_cast<size_t>(L + 1));
    w_.G.resize(static_cast<size_t>(L + 1));
  }

  // Gathers the examples `ids` and runs the forward pass; returns f (B).
  const Eigen::VectorXd& Forward(const Inputs& x, const Eigen::Index* ids, Eigen::Index B) {
    const Eigen::Index n = s_.n_tok, N0 = s_.N0;
    const int L = s_.L();
    B_ = B;
    w_.X.resize(N0, B * n);
    for (Eigen::Index b = 0; b < B; ++b) w_.X.middleCols(b * n, n) = x.example(ids[b]);
    const double inv_sqrt_d = 1.0 / std::sqrt(static_cast<double>(s_.key_dim));

    // z⁰ = V_0 x / √N0 (theory.md §1, embedding).
    w_.z[0].noalias() = net_.V0() * w_.X;
    w_.z[0] /= std::sqrt(static_cast<double>(N0));
    for (int l = 1; l <= L; ++l) {
      const auto li = static_cast<size_t>(l - 1);
      const Eigen::Index H = s_.heads[li];
      const double c = 1.0 / std::sqrt(static_cast<double>(H * s_.widths[li]));
      const Eigen::MatrixXd& prev = w_.z[li];
      Eigen::MatrixXd& out = w_.z[li + 1];
      out.setZero(s_.widths[li + 1], l < L ? B * n : B);
      for (Eigen::Index h = 0; h < H; ++h) {
        if (!Active(mask_, l, h)) continue;
        const auto hi = static_cast<size_t>(h);
        // Ω^{ℓ,h}(x) from the input tokens (theory.md §1, QK-form).
        Eigen::MatrixXd& kappa = w_.kappa[li][hi];
        Eigen::MatrixXd& query = w_.query[li][hi];
        Eigen::MatrixXd& omega = w_.omega[li][hi];
        Eigen::MatrixXd& m = w_.m[li][hi];
        kappa.noalias() = net_.K(l, h) * w_.X;
        query.noalias() = net_.Q(l, h) * w_.X;
        omega.resize(n, B * n);
        m.resize(s_.widths[li], l < L ? B * n : B);
        if (l == L) w_.readout[hi].resize(n, B);
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
            w_.readout[hi].col(b).noalias() = om * r_;
            m.col(b).noalias() = prev.middleCols(b * n, n) * w_.readout[hi].col(b);
          }
        }
        out.noalias() += c * (net_.V(l, h) * m);
      }
    }
    // f = a·z^L / √n_{L+1}
    w_.f.noalias() = w_.z[static_cast<size_t>(L)].transpose() * net_.a().col(0);
    w_.f /= std::sqrt(static_cast<double>(s_.widths.back()));
    return w_.f;
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
        inv_sqrt_na * (w_.z[static_cast<size_t>(L)] * g);
    // w_.G[ℓ] = ∂/∂z^ℓ; one buffer per layer, so that no buffer changes size
    // between calls (and none is reallocated: large reallocations are mmap
    // calls and page faults in glibc).
    w_.G[static_cast<size_t>(L)].noalias() = inv_sqrt_na * (net_.a().col(0) * g.transpose());
    Eigen::MatrixXd &dm = w_.dm, &dkappa = w_.dkappa, &dquery = w_.dquery, &dA = w_.dA;
    for (int l = L; l >= 1; --l) {
      const auto li = static_cast<size_t>(l - 1);
      const Eigen::Index H = s_.heads[li];
      const double c = 1.0 / std::sqrt(static_cast<double>(H * s_.widths[li]));
      const Eigen::MatrixXd& prev = w_.z[li];
      const Eigen::MatrixXd& G = w_.G[li + 1];
      Eigen::MatrixXd& G_prev = w_.G[li];
      G_prev.setZero(s_.widths[li], B * n);
      for (Eigen::Index h = 0; h < H; ++h) {
        if (!Active(mask_, l, h)) continue;
        const auto hi = static_cast<size_t>(h);
        const Eigen::MatrixXd& kappa = w_.kappa[li][hi];
        const Eigen::MatrixXd& query = w_.query[li][hi];
        const Eigen::MatrixXd& omega = w_.omega[li][hi];
        const Eigen::MatrixXd& m = w_.m[li][hi];
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
            G_prev.middleCols(b * n, n).noalias() += dm.col(b) * w_.readout[hi].col(b).transpose();
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
        ParameterLayout::View(*grad, lay.K(l, h)).noalias() += dkappa * w_.X.transpose();
        ParameterLayout::View(*grad, lay.Q(l, h)).noalias() += dquery * w_.X.transpose();
      }
    }
    // z⁰ = V_0 x/√N0: ∂V_0 = G xᵀ/√N0.
    ParameterLayout::View(*grad, lay.V0()).noalias() +=
        (1.0 / std::sqrt(static_cast<double>(s_.N0))) * (w_.G[0] * w_.X.transpose());
  }

 private:
  const Network& net_;
  const NetworkShape& s_;
  const HeadMask& mask_;
  const Eigen::VectorXd r_;
  Workspace& w_;
  Eigen::Index B_ = 0;
};

int ThreadCount(int threads, Eigen::Index items) {
  const int hw = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int want = threads > 0 ? threads : hw;
  return static_cast<int>(std::max<Eigen::Index>(1, std::min<Eigen::Index>(want, items)));
}

// Runs work(part, begin, end) on `parts` contiguous ranges of [0, count),
// part 0 on the calling thread and the others on the shared worker pool;
// rethrows the first exception.
template <typename Work>
void RunParts(int parts, Eigen::Index count, const Work& work) {
  if (parts <= 1) {
    work(0, 0, count);
    return;
  }
  const Eigen::Index per = (count + parts - 1) / parts;
  std::vector<std::exception_ptr> errors(static_cast<size_t>(parts));
  WorkerPool::Shared().Run(parts, [&](int p) {
    try {
      work(p, std::min(count, p * per), std::min(count, (p + 1) * per));
    } catch (...) {
      errors[static_cast<size_t>(p)] = std::current_exception();
    }
  });
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
    ChunkPass pass(net, mask, ThreadWorkspace());
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
  std::vector<const Eigen::VectorXd*> grads(static_cast<size_t>(parts), nullptr);
  const double inv_B = 1.0 / static_cast<double>(count);
  RunParts(parts, count, [&](int p, Eigen::Index begin, Eigen::Index end) {
    Workspace& ws = ThreadWorkspace();
    ChunkPass pass(net, mask, ws);
    Eigen::VectorXd& g = ws.gradient;
    if (gradient) {
      g.setZero(net.num_parameters());
      grads[static_cast<size_t>(p)] = &g;
    }
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
    for (const Eigen::VectorXd* g : grads) *gradient += *g;
  }
  return loss;
}

}  // namespace attnpaths
