#include "kernels/path_inputs.h"

#include <Eigen/QR>
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <exception>
#include <utility>
#include <vector>

#include "kernels/error.h"
#include "parallel/cpu_budget.h"
#include "parallel/executor.h"

namespace attnpaths {

Eigen::MatrixXd PathTokenWeights(const Architecture& arch,
                                 const Eigen::Ref<const Eigen::MatrixXd>& x, Eigen::Index example,
                                 Split split) {
  const int L = arch.L();
  // Last layer: ω^{L,h} for each head; columns indexed by h_L.
  const auto& last = arch.layers[static_cast<size_t>(L - 1)];
  Eigen::MatrixXd w(x.cols(), static_cast<Eigen::Index>(last.size()));
  for (size_t h = 0; h < last.size(); ++h) {
    w.col(static_cast<Eigen::Index>(h)) =
        ReadoutVector(AttentionMatrix(last[h], x, example, split), arch.readout);
  }
  // Layers L-1 … 1 prepend their head as the new outermost digit.
  for (int l = L - 1; l >= 1; --l) {
    const auto& layer = arch.layers[static_cast<size_t>(l - 1)];
    const Eigen::Index inner = w.cols();
    Eigen::MatrixXd next(x.cols(), inner * static_cast<Eigen::Index>(layer.size()));
    for (size_t h = 0; h < layer.size(); ++h) {
      next.middleCols(static_cast<Eigen::Index>(h) * inner, inner).noalias() =
          AttentionMatrix(layer[h], x, example, split) * w;
    }
    w.swap(next);
  }
  return w;
}

bool PathInputOptions::IsValid(std::string* why) const {
  if (chunk_examples < 0) {
    if (why) *why = "chunk_examples must be >= 0 (0 picks a size), found " + ToText(chunk_examples);
    return false;
  }
  return true;
}

namespace {

// How a head's attention columns are obtained.
enum class Route {
  kW,         // scores from the layer's stacked β W (W-form, or QK-form with W = Kᵀ Q / √d)
  kQK,        // scores (K x_s)·(Q x_t) from K x and Q x (QK-form with d ≪ N0)
  kConstant,  // uniform, blank and fixed heads: Ω does not depend on x
  kGiven,     // Ω read per example
};

using ConstStridedMap = Eigen::Map<const Eigen::MatrixXd, 0, Eigen::OuterStride<>>;

// A factorisation W = Kᵀ Q (K, Q of r rows) of a W-form head's matrix of
// numerical rank r ≤ max_rank, so that its scores x_sᵀ W x_t = (K x_s)·(Q x_t)
// cost r·N0 per token instead of N0² per query (issue 14 §3: the Markov
// task's same-token head has rank 31 of N0 = 231, the uniform head rank 1).
// A randomized range finder with a fixed seed: Y = W Ω for max_rank + 8
// random columns Ω (entries uniform in [−1, 1) from splitmix64), B (N0 × r) an orthonormal basis of
// Y's column space from a column-pivoted QR, K = Bᵀ and Q = Bᵀ W. Accepted only when ‖W − B Bᵀ W‖_F
// ≤ 1e-13 ‖W‖_F, so the scores equal the W route's to rounding; false (use W as it is) otherwise.
bool LowRankFactors(const Eigen::MatrixXd& W, Eigen::Index max_rank, Eigen::MatrixXd* K,
                    Eigen::MatrixXd* Q) {
  const Eigen::Index N0 = W.rows();
  if (max_rank < 1 || N0 < 2) return false;
  const double norm = W.norm();
  if (!std::isfinite(norm)) return false;
  const Eigen::Index samples = std::min(N0, max_rank + 8);
  std::uint64_t state = 20261129;
  const auto uniform = [&state] {  // splitmix64, then 53 bits to [−1, 1)
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return static_cast<double>(z >> 11) * 0x1.0p-52 - 1.0;
  };
  const Eigen::MatrixXd omega =
      Eigen::MatrixXd::NullaryExpr(N0, samples, [&] { return uniform(); });
  const Eigen::MatrixXd Y = W * omega;
  Eigen::ColPivHouseholderQR<Eigen::MatrixXd> qr(Y);
  qr.setThreshold(1e-13);
  const Eigen::Index r = std::max<Eigen::Index>(qr.rank(), 1);
  if (r > max_rank) return false;
  const Eigen::MatrixXd B = qr.householderQ() * Eigen::MatrixXd::Identity(N0, r);
  *Q = B.transpose() * W;
  if ((W - B * *Q).norm() > 1e-13 * norm) return false;
  *K = B.transpose();
  return true;
}

// The largest rank d for which scores through factors K x and Q x (d × N0
// each) cost at most half as much as through W: 2·(d·N0·(n + q) + n·d·q) ≤
// N0²·q + n·N0·q (multiply–adds per example, n keys and q queries). Half,
// not less: the factors' thinner GEMMs run slower per operation, and the
// range finder that looks for them costs O(N0² d) once per calculator, which
// a tighter bound keeps small (about 1 ms for the Markov task's four heads).
Eigen::Index HalfCostRank(Eigen::Index N0, Eigen::Index n, Eigen::Index q) {
  const double w_cost = static_cast<double>(N0 * N0 * q + n * N0 * q);
  const double per_d = static_cast<double>(N0 * (n + q) + n * q);
  return static_cast<Eigen::Index>(std::floor(w_cost / (2.0 * per_d)));
}

// The size np of the per-example score products xᵀ (β W x) and (K x)ᵀ (Q x)
// of a layer whose every token is a query (a GEMM route with q = n): n
// rounded up to a multiple of kTokenPad, so that they run on whole register
// tiles (31 → 32 tokens: 26 → 37 GFLOP/s for the Markov task's 31 × 231 × 31
// products, Eigen/AVX-512). Every example's products have that size, so its
// numbers do not depend on its place in a chunk or in a block of examples.
constexpr Eigen::Index kTokenPad = 8;

// Softmax (or hardmax) of the n × q score columns at `data` (leading
// dimension ld ≥ n; column k the query q_begin + k) in place, as
// NormalizeScoreColumn does column by column, with the exponentials of the
// whole block in one vectorised pass (rows n … ld − 1 are padding, set to 0
// first, and left unused).
void NormalizeScoreBlock(double* data, Eigen::Index ld, Eigen::Index n, Eigen::Index q,
                         Eigen::Index q_begin, Normalization normalization, bool causal) {
  Eigen::Map<Eigen::MatrixXd, 0, Eigen::OuterStride<>> cols(data, n, q, Eigen::OuterStride<>(ld));
  if (normalization == Normalization::kHardmax) {
    for (Eigen::Index k = 0; k < q; ++k) {
      NormalizeScoreColumn(cols.col(k), q_begin + k, normalization, causal);
    }
    return;
  }
  const auto keys = [&](Eigen::Index k) {
    return causal ? std::min<Eigen::Index>(q_begin + k + 1, n) : n;
  };
  for (Eigen::Index k = 0; k < q; ++k) {
    auto allowed = cols.col(k).head(keys(k)).array();
    allowed -= allowed.maxCoeff();
    cols.col(k).tail(n - keys(k)).setZero();
    if (k + 1 < q) {
      Eigen::Map<Eigen::VectorXd>(data + k * ld + n, ld - n).setZero();
    }
  }
  Eigen::Map<Eigen::ArrayXd> all(data, (q - 1) * ld + n);
  all = all.exp();
  for (Eigen::Index k = 0; k < q; ++k) {
    auto allowed = cols.col(k).head(keys(k)).array();
    allowed /= allowed.sum();
    cols.col(k).tail(n - keys(k)).setZero();
  }
}

template <class Layers>
Eigen::Index PaddedTokens(const Layers& layers, Eigen::Index n) {
  for (const auto& layer : layers) {
    if (layer.q_count == n && layer.A.rows() > 0)
      return (n + kTokenPad - 1) / kTokenPad * kTokenPad;
  }
  return n;
}

// Number of worker threads for `P` examples (at least 8 examples per thread).
int WorkerCount(int threads, Eigen::Index P) {
  return ResolveThreads(threads, std::max<Eigen::Index>(1, P / 8));
}

}  // namespace

struct PathInputCalculator::Layer {
  Eigen::Index q_begin = 0, q_count = 0;  // query tokens that reach the readout
  std::vector<Route> route;               // per head
  std::vector<Eigen::Index> slot;         // per head: its index among the heads of its route
  // kW: n_w heads, block k of A's rows [k N0, (k+1) N0) = β W of the k-th such head.
  Eigen::Index n_w = 0;
  // kQK: K and Q of every such head stacked ((Σ d) × N0 each), Q scaled by
  // β/√d (QK-form) or by β (a low-rank W-form head, W = Kᵀ Q: LowRankFactors).
  std::vector<Eigen::Index> qk_offset, qk_d;
  Eigen::Index d_total = 0;
  // Every matrix that multiplies the used query tokens, stacked into one GEMM
  // (one pass over the tokens, one packing of them): A = [β W_1; …; Q_stack],
  // and K_stack too when every token is a query (then the keys are the
  // queries); otherwise K_stack multiplies all tokens in a GEMM of its own.
  Eigen::MatrixXd A, K_alone;
  Eigen::Index q_row = 0;   // first row of Q_stack in A
  Eigen::Index k_row = -1;  // first row of K_stack in A; -1: K_alone
  // kConstant: Ω(:, queries), n_tok × q_count.
  std::vector<Eigen::MatrixXd> constant;
  // kGiven: the head's matrices for both splits.
  std::vector<std::shared_ptr<const std::vector<Eigen::MatrixXd>>> given_train, given_test;
  std::vector<std::string> given_name;
  std::vector<Normalization> normalization;  // per head
  std::vector<bool> causal;                  // per head
};

// Scratch buffers of one worker, reused from chunk to chunk.
struct PathInputCalculator::Workspace {
  std::vector<Eigen::MatrixXd> xq;      // per layer: the query tokens of the chunk (N0 × B q)
  std::vector<Eigen::MatrixXd> y;       // per layer: A · xq
  std::vector<Eigen::MatrixXd> kx;      // per layer: K_alone · x
  std::vector<Eigen::MatrixXd> scores;  // per layer: one example's scores, nr × (qs · heads)
  Eigen::MatrixXd w, next;              // path weights of one example
  Eigen::MatrixXd xi_t;                 // Ξᵀ of a chunk, when the caller wants rows
  Eigen::MatrixXd x_last;               // the chunk's last example, padded (PaddedTokens)
};

PathInputCalculator::~PathInputCalculator() = default;
PathInputCalculator::PathInputCalculator(PathInputCalculator&&) noexcept = default;
PathInputCalculator& PathInputCalculator::operator=(PathInputCalculator&&) noexcept = default;

PathInputCalculator::PathInputCalculator(const Architecture& arch, Eigen::Index N0,
                                         Eigen::Index n_tok)
    : N0_(N0), n_tok_(n_tok), readout_(arch.readout) {
  arch.Validate(N0, n_tok);
  const int L = arch.L();
  Htot_ = arch.Htot();
  scale_ = std::sqrt(arch.variances[0] / static_cast<double>(N0 * Htot_));
  const Eigen::Index n = n_tok;
  layers_.resize(static_cast<size_t>(L));

  // Query ranges, from the readout down (theory.md §1, §2): layer ℓ needs the
  // queries that are keys of a used column of layer ℓ + 1.
  for (int l = L; l >= 1; --l) {
    Layer& layer = layers_[static_cast<size_t>(l - 1)];
    if (l == L) {
      switch (arch.readout) {
        case Readout::kMean:
          layer.q_begin = 0, layer.q_count = n;
          break;
        case Readout::kFirst:
          layer.q_begin = 0, layer.q_count = 1;
          break;
        case Readout::kLast:
          layer.q_begin = n - 1, layer.q_count = 1;
          break;
      }
    } else {
      const Layer& above = layers_[static_cast<size_t>(l)];
      bool all_causal = true;
      for (const HeadSpec& h : arch.layers[static_cast<size_t>(l)]) {
        // Given and fixed matrices are used as they are, whatever `causal` says.
        all_causal =
            all_causal && h.causal && h.kind != HeadKind::kGiven && h.kind != HeadKind::kFixed;
      }
      layer.q_begin = 0;
      layer.q_count = all_causal ? above.q_begin + above.q_count : n;
    }
  }

  // Heads: pick each one's route and stack the matrices of the GEMM routes.
  double flops = 0;
  Eigen::Index m_above = 1;  // m_{ℓ+1}: paths of the layers above
  for (int l = L; l >= 1; --l) {
    Layer& layer = layers_[static_cast<size_t>(l - 1)];
    const auto& heads = arch.layers[static_cast<size_t>(l - 1)];
    const Eigen::Index q = layer.q_count;
    std::vector<Eigen::MatrixXd> w_blocks;
    std::vector<std::pair<Eigen::MatrixXd, Eigen::MatrixXd>> qk_heads;  // K, scaled Q
    for (const HeadSpec& h : heads) {
      layer.normalization.push_back(h.normalization);
      layer.causal.push_back(h.causal);
      switch (h.kind) {
        case HeadKind::kWForm: {
          // Softmax heads only: a hardmax head's exact ties (integer tokens)
          // must stay exact, which the W route's GEMM keeps and K x · Q x may not.
          Eigen::MatrixXd K, Q;
          if (h.normalization == Normalization::kSoftmax &&
              LowRankFactors(h.W, HalfCostRank(N0, n, q), &K, &Q)) {
            layer.route.push_back(Route::kQK);
            layer.slot.push_back(static_cast<Eigen::Index>(qk_heads.size()));
            qk_heads.emplace_back(std::move(K), h.beta * Q);
          } else {
            layer.route.push_back(Route::kW);
            layer.slot.push_back(static_cast<Eigen::Index>(w_blocks.size()));
            w_blocks.push_back(h.beta * h.W);
          }
          break;
        }
        case HeadKind::kQKForm: {
          const Eigen::Index d = h.Q.rows();
          // Per example: through K x and Q x, or through W = Kᵀ Q β/√d.
          const double qk_cost = static_cast<double>(d * N0 * (n + q) + n * d * q);
          const double w_cost = static_cast<double>(N0 * N0 * q + n * N0 * q);
          const double scale = h.beta / std::sqrt(static_cast<double>(d));
          if (qk_cost < w_cost) {
            layer.route.push_back(Route::kQK);
            layer.slot.push_back(static_cast<Eigen::Index>(qk_heads.size()));
            qk_heads.emplace_back(h.K, scale * h.Q);
          } else {
            layer.route.push_back(Route::kW);
            layer.slot.push_back(static_cast<Eigen::Index>(w_blocks.size()));
            w_blocks.push_back(scale * (h.K.transpose() * h.Q));
          }
          break;
        }
        case HeadKind::kUniform:
        case HeadKind::kBlank:
        case HeadKind::kFixed: {  // Ω as it is, not normalised
          layer.route.push_back(Route::kConstant);
          layer.slot.push_back(static_cast<Eigen::Index>(layer.constant.size()));
          const Eigen::MatrixXd x0 = Eigen::MatrixXd::Zero(N0, n);  // not read by these kinds
          layer.constant.push_back(
              AttentionMatrix(h, x0, 0, Split::kTrain).middleCols(layer.q_begin, layer.q_count));
          break;
        }
        case HeadKind::kGiven:
          layer.route.push_back(Route::kGiven);
          layer.slot.push_back(static_cast<Eigen::Index>(layer.given_train.size()));
          layer.given_train.push_back(h.given_train);
          layer.given_test.push_back(h.given_test);
          layer.given_name.push_back(h.name);
          break;
      }
    }
    layer.n_w = static_cast<Eigen::Index>(w_blocks.size());
    for (const auto& [K, Q] : qk_heads) {
      layer.qk_offset.push_back(layer.d_total);
      layer.qk_d.push_back(Q.rows());
      layer.d_total += Q.rows();
    }
    const Eigen::Index d_total = layer.d_total;
    const bool keys_are_queries = q == n;
    layer.q_row = layer.n_w * N0;
    layer.A.resize(layer.q_row + (keys_are_queries ? 2 : 1) * d_total, N0);
    for (Eigen::Index k = 0; k < layer.n_w; ++k) {
      layer.A.middleRows(k * N0, N0) = w_blocks[static_cast<size_t>(k)];
    }
    if (keys_are_queries && d_total > 0) {
      layer.k_row = layer.q_row + d_total;
    } else {
      layer.K_alone.resize(d_total, N0);
    }
    for (size_t k = 0; k < qk_heads.size(); ++k) {
      const Eigen::Index o = layer.qk_offset[k], d = layer.qk_d[k];
      layer.A.middleRows(layer.q_row + o, d) = qk_heads[k].second;
      if (layer.k_row >= 0) {
        layer.A.middleRows(layer.k_row + o, d) = qk_heads[k].first;
      } else {
        layer.K_alone.middleRows(o, d) = qk_heads[k].first;
      }
    }
    // GEMM flops per example: scores, then the path products of this layer.
    const double N0d = static_cast<double>(N0), nd = static_cast<double>(n),
                 qd = static_cast<double>(q);
    flops += 2.0 * static_cast<double>(layer.n_w) * (N0d * N0d * qd + nd * N0d * qd);
    flops += 2.0 * static_cast<double>(d_total) * (N0d * (nd + qd) + nd * qd);
    const Eigen::Index H = static_cast<Eigen::Index>(heads.size());
    if (l < L) flops += 2.0 * nd * qd * static_cast<double>(m_above * H);
    m_above *= H;
  }
  flops += 2.0 * static_cast<double>(N0) * static_cast<double>(n) * static_cast<double>(Htot_);
  flops_per_example_ = flops;
}

std::pair<Eigen::Index, Eigen::Index> PathInputCalculator::QueryRange(int layer) const {
  Require(layer >= 1 && layer <= static_cast<int>(layers_.size()), "layer", layer,
          "a layer in 1.." + std::to_string(layers_.size()));
  const Layer& l = layers_[static_cast<size_t>(layer - 1)];
  return {l.q_begin, l.q_count};
}

// theory.md §2 for the examples [begin, end) of x: Ω^{ℓ,h}(:, Q_ℓ) per head,
// the path weights w = Ω^{1,h_1} ⋯ ω^{L,h_L}, and ξ = σ_0/√(N0 Htot) · x w
// written to column μ − begin of xi_t.
void PathInputCalculator::ComputeChunk(const Inputs& x, Split split, Eigen::Index first_example,
                                       Eigen::Index begin, Eigen::Index end, Workspace* ws) const {
  const Eigen::Index n = n_tok_, N0 = N0_, B = end - begin;
  const int L = static_cast<int>(layers_.size());
  const double* x_data = x.values().data() + begin * n * N0;
  ws->xq.resize(layers_.size());
  ws->y.resize(layers_.size());
  ws->kx.resize(layers_.size());
  ws->scores.resize(layers_.size());
  ws->xi_t.resize(M(), B);

  const Eigen::Map<const Eigen::MatrixXd> X(x_data, N0, B * n);  // every token of the chunk
  // Score products of np × np when some layer scores every token as a query
  // (PaddedTokens): an example's np tokens are its n and the first np − n of
  // the next example (the last example of the chunk: a copy padded with
  // zeros), which give scores in rows and columns the normalisation and path
  // products never read.
  const Eigen::Index np = PaddedTokens(layers_, n);
  if (np != n) {
    ws->x_last.resize(N0, np);
    ws->x_last.leftCols(n) = X.middleCols((B - 1) * n, n);
    ws->x_last.rightCols(np - n).setZero();
  }

  // 1. The batched GEMMs of every layer: A x_t for the used queries (β W x_t,
  // Q x_t, and K x_t when the keys are the queries), K x otherwise.
  for (int l = 0; l < L; ++l) {
    const Layer& layer = layers_[static_cast<size_t>(l)];
    const Eigen::Index q = layer.q_count;
    const bool all = q == n;
    if (layer.A.rows() == 0) continue;
    if (!all) {  // gather the used query tokens of each example
      Eigen::MatrixXd& xq = ws->xq[static_cast<size_t>(l)];
      xq.resize(N0, B * q);
      for (Eigen::Index mu = 0; mu < B; ++mu) {
        xq.middleCols(mu * q, q) = X.middleCols(mu * n + layer.q_begin, q);
      }
    }
    const Eigen::Map<const Eigen::MatrixXd> XQ(all ? x_data : ws->xq[static_cast<size_t>(l)].data(),
                                               N0, B * q);
    // When every token is a query, np − n zero columns after the last
    // example's, the queries an np × np product of it reads beyond its own.
    const Eigen::Index extra = all ? np - n : 0;
    Eigen::MatrixXd& y = ws->y[static_cast<size_t>(l)];
    y.resize(layer.A.rows(), B * q + extra);
    y.leftCols(B * q).noalias() = layer.A * XQ;
    y.rightCols(extra).setZero();
    if (layer.K_alone.rows() > 0) {
      ws->kx[static_cast<size_t>(l)].resize(layer.K_alone.rows(), B * n);
      ws->kx[static_cast<size_t>(l)].noalias() = layer.K_alone * X;
    }
  }

  // 2. Per example: attention columns, path weights, ξ.
  std::vector<std::vector<ConstStridedMap>> omega(layers_.size());
  for (Eigen::Index mu = 0; mu < B; ++mu) {
    const Eigen::Map<const Eigen::MatrixXd> xm(x_data + mu * n * N0, N0, n);
    // xm and the np − n tokens after it (PaddedTokens).
    const Eigen::Map<const Eigen::MatrixXd> xs(
        np != n && mu == B - 1 ? ws->x_last.data() : x_data + mu * n * N0, N0, np);
    const Eigen::Index example = first_example + begin + mu;
    for (int l = 0; l < L; ++l) {
      const Layer& layer = layers_[static_cast<size_t>(l)];
      const Eigen::Index q = layer.q_count;
      auto& om = omega[static_cast<size_t>(l)];
      om.clear();
      // Scores as (keys × queries) blocks of nr × qs, padded when every token
      // is a query: columns [k qs, (k+1) qs) the k-th W-route head, then the
      // k-th QK-route head.
      const bool all = q == n;
      const Eigen::Index nr = all ? np : n, qs = all ? np : q;
      Eigen::MatrixXd& s = ws->scores[static_cast<size_t>(l)];
      const Eigen::Index n_qk = static_cast<Eigen::Index>(layer.qk_d.size());
      if (layer.n_w + n_qk > 0) {
        const Eigen::MatrixXd& y = ws->y[static_cast<size_t>(l)];
        s.resize(nr, qs * (layer.n_w + n_qk));
        for (Eigen::Index k = 0; k < layer.n_w; ++k) {
          s.middleCols(k * qs, qs).noalias() =
              xs.leftCols(nr).transpose() * y.block(k * N0, mu * q, N0, qs);
        }
        for (Eigen::Index k = 0; k < n_qk; ++k) {
          const Eigen::Index o = layer.qk_offset[static_cast<size_t>(k)],
                             d = layer.qk_d[static_cast<size_t>(k)];
          const auto qx = y.block(layer.q_row + o, mu * q, d, qs);
          if (layer.k_row >= 0) {  // the keys are the queries (all = true)
            s.middleCols((layer.n_w + k) * qs, qs).noalias() =
                y.block(layer.k_row + o, mu * n, d, nr).transpose() * qx;
          } else {
            s.middleCols((layer.n_w + k) * qs, qs).noalias() =
                ws->kx[static_cast<size_t>(l)].block(o, mu * n, d, n).transpose() * qx;
          }
        }
      }
      const Eigen::Index heads = static_cast<Eigen::Index>(layer.route.size());
      for (Eigen::Index h = 0; h < heads; ++h) {
        const Eigen::Index slot = layer.slot[static_cast<size_t>(h)];
        const Normalization nrm = layer.normalization[static_cast<size_t>(h)];
        const bool causal = layer.causal[static_cast<size_t>(h)];
        switch (layer.route[static_cast<size_t>(h)]) {
          case Route::kW:
          case Route::kQK: {
            const Eigen::Index first =
                layer.route[static_cast<size_t>(h)] == Route::kW ? slot : layer.n_w + slot;
            double* data = s.data() + first * qs * nr;
            NormalizeScoreBlock(data, nr, n, q, layer.q_begin, nrm, causal);
            om.emplace_back(data, n, q, Eigen::OuterStride<>(nr));
            break;
          }
          case Route::kConstant: {
            const Eigen::MatrixXd& c = layer.constant[static_cast<size_t>(slot)];
            om.emplace_back(c.data(), n, q, Eigen::OuterStride<>(n));
            break;
          }
          case Route::kGiven: {
            const auto& given = split == Split::kTrain
                                    ? layer.given_train[static_cast<size_t>(slot)]
                                    : layer.given_test[static_cast<size_t>(slot)];
            const Eigen::MatrixXd& g = (*given)[static_cast<size_t>(example)];
            om.emplace_back(g.data() + layer.q_begin * n, n, q, Eigen::OuterStride<>(n));
            break;
          }
        }
      }
    }
    // Path weights: ω^{L,h} from the readout, then layers L−1 … 1 prepend
    // their head as the outermost digit (theory.md §2).
    {
      const auto& om = omega[static_cast<size_t>(L - 1)];
      ws->w.resize(n, static_cast<Eigen::Index>(om.size()));
      for (size_t h = 0; h < om.size(); ++h) {
        if (readout_ == Readout::kMean) {
          ws->w.col(static_cast<Eigen::Index>(h)) = om[h].rowwise().mean();
        } else {
          ws->w.col(static_cast<Eigen::Index>(h)) = om[h].col(0);
        }
      }
    }
    for (int l = L - 1; l >= 1; --l) {
      const Layer& layer = layers_[static_cast<size_t>(l - 1)];
      const auto& om = omega[static_cast<size_t>(l - 1)];
      const Eigen::Index inner = ws->w.cols();
      // Rows of w outside the used queries are zero (causal masks above).
      ws->next.resize(n, inner * static_cast<Eigen::Index>(om.size()));
      for (size_t h = 0; h < om.size(); ++h) {
        ws->next.middleCols(static_cast<Eigen::Index>(h) * inner, inner).noalias() =
            om[h] * ws->w.middleRows(layer.q_begin, layer.q_count);
      }
      ws->w.swap(ws->next);
    }
    Eigen::Map<Eigen::MatrixXd> xi_m(ws->xi_t.col(mu).data(), N0, Htot_);  // column π = ξ_π
    xi_m.noalias() = scale_ * (xm * ws->w);
  }
}

void PathInputCalculator::Run(
    const Inputs& x, Split split, Eigen::Index first_example, const PathInputOptions& options,
    const std::function<void(Eigen::Index, Eigen::Index, const Eigen::MatrixXd&)>& sink) const {
  std::string why;
  Require(options.IsValid(&why), "path input options", why, "valid options");
  Require(x.N0() == N0_ && x.n_tok() == n_tok_, "inputs shape",
          std::to_string(x.n_tok()) + " tokens x " + std::to_string(x.N0()) + " features",
          std::to_string(n_tok_) + " tokens x " + std::to_string(N0_) +
              " features (the architecture's)");
  Require(first_example >= 0, "first example", first_example, "an index >= 0");
  for (const Layer& layer : layers_) {
    for (size_t k = 0; k < layer.given_train.size(); ++k) {
      const auto& given = split == Split::kTrain ? layer.given_train[k] : layer.given_test[k];
      const Eigen::Index have = given ? static_cast<Eigen::Index>(given->size()) : 0;
      const Eigen::Index need = first_example + x.P();
      Require(given != nullptr && have >= need,
              layer.given_name[k] + (split == Split::kTrain ? ".attention" : ".test_attention") +
                  " examples",
              have, "at least " + std::to_string(need) + " (one matrix per example)");
    }
  }
  const Eigen::Index P = x.P();
  if (P == 0) return;
  Eigen::Index q_max = 1;
  for (const Layer& layer : layers_) {
    if (layer.A.rows() > 0) q_max = std::max(q_max, layer.q_count);
  }
  const Eigen::Index chunk = options.chunk_examples > 0
                                 ? options.chunk_examples
                                 : std::clamp<Eigen::Index>(512 / q_max, 1, 256);
  const Eigen::Index chunks = (P + chunk - 1) / chunk;
  const int workers =
      static_cast<int>(std::min<Eigen::Index>(WorkerCount(options.threads, P), chunks));
  std::atomic<Eigen::Index> next{0};
  std::atomic<bool> non_finite{false};
  const Eigen::Index per_example = n_tok_ * N0_;
  auto work = [&] {
    Workspace ws;
    for (Eigen::Index c = next++; c < chunks; c = next++) {
      const Eigen::Index b = c * chunk, e = std::min(P, b + chunk);
      // NaN/Inf in the chunk's inputs (x · 0 is 0 for finite x): stop, and
      // let Inputs::CheckFiniteFrom name the first one below. Checked here,
      // where the chunk is read anyway, rather than in a pass of its own over
      // the whole set before.
      const Eigen::Map<const Eigen::ArrayXd> values(x.values().data() + b * per_example,
                                                    (e - b) * per_example);
      if (!std::isfinite((values * 0.0).sum())) {
        non_finite = true;
        next = chunks;
        return;
      }
      ComputeChunk(x, split, first_example, b, e, &ws);
      sink(b, e, ws.xi_t);
    }
  };
  // Each worker takes the next chunk when done with its last (a shared
  // machine slows workers unevenly); the first error stops the others after
  // their current chunk and is rethrown here.
  ParallelRanges(workers, workers, [&](int, Eigen::Index, Eigen::Index) {
    try {
      work();
    } catch (...) {
      next = chunks;
      throw;
    }
  });
  if (non_finite) {
    x.CheckFiniteFrom(split == Split::kTrain ? "X" : "X_test", first_example);
    throw Error("path inputs: non-finite inputs not found again");  // not reached
  }
}

void PathInputCalculator::Compute(const Inputs& x, Split split, Eigen::Index first_example,
                                  Eigen::Ref<Eigen::MatrixXd> xi,
                                  const PathInputOptions& options) const {
  Require(xi.rows() == x.P() && xi.cols() == M(), "path inputs buffer",
          std::to_string(xi.rows()) + " x " + std::to_string(xi.cols()),
          std::to_string(x.P()) + " x " + std::to_string(M()));
  Run(x, split, first_example, options,
      [&](Eigen::Index b, Eigen::Index e, const Eigen::MatrixXd& chunk_t) {
        xi.middleRows(b, e - b) = chunk_t.transpose();
      });
}

void PathInputCalculator::ComputeTransposed(const Inputs& x, Split split,
                                            Eigen::Index first_example,
                                            Eigen::Ref<Eigen::MatrixXd> xi_t,
                                            const PathInputOptions& options) const {
  Require(xi_t.rows() == M() && xi_t.cols() == x.P(), "path inputs buffer",
          std::to_string(xi_t.rows()) + " x " + std::to_string(xi_t.cols()),
          std::to_string(M()) + " x " + std::to_string(x.P()));
  Run(x, split, first_example, options,
      [&](Eigen::Index b, Eigen::Index e, const Eigen::MatrixXd& chunk_t) {
        xi_t.middleCols(b, e - b) = chunk_t;
      });
}

PathInputs ComputePathInputs(const Architecture& arch, const Inputs& x, Split split, int threads) {
  const PathInputCalculator calc(arch, x.N0(), x.n_tok());
  // The whole set: exactly one given matrix per example.
  for (const auto& layer : arch.layers) {
    for (const auto& head : layer) {
      if (head.kind != HeadKind::kGiven) continue;
      const auto& given = split == Split::kTrain ? head.given_train : head.given_test;
      Require(given != nullptr && static_cast<Eigen::Index>(given->size()) == x.P(),
              head.name + (split == Split::kTrain ? ".attention" : ".test_attention") + " examples",
              given ? given->size() : 0, std::to_string(x.P()) + " (one matrix per example)");
    }
  }
  PathInputs out;
  out.Htot = calc.Htot();
  out.N0 = calc.N0();
  out.xi.resize(x.P(), calc.M());
  PathInputOptions options;
  options.threads = threads;
  calc.Compute(x, split, 0, out.xi, options);
  return out;
}

PathInputs SelectPaths(const PathInputs& xi, const std::vector<Eigen::Index>& kept) {
  Require(!kept.empty(), "selected paths", "none", "at least one path");
  for (size_t k = 0; k < kept.size(); ++k) {
    Require(kept[k] >= 0 && kept[k] < xi.Htot && (k == 0 || kept[k] > kept[k - 1]),
            "selected path " + std::to_string(k), kept[k],
            "increasing path indices in [0, " + std::to_string(xi.Htot) + ")");
  }
  PathInputs out;
  out.Htot = static_cast<Eigen::Index>(kept.size());
  out.N0 = xi.N0;
  out.xi.resize(xi.P(), out.Htot * out.N0);
  // theory.md §2: ξ_π ∝ 1/√Htot, so the smaller network's inputs are rescaled.
  const double rescale = std::sqrt(static_cast<double>(xi.Htot) / static_cast<double>(out.Htot));
  for (Eigen::Index k = 0; k < out.Htot; ++k) {
    out.xi.middleCols(k * out.N0, out.N0) = rescale * xi.path(kept[static_cast<size_t>(k)]);
  }
  return out;
}

}  // namespace attnpaths
