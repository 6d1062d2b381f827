#include "kernels/path_kernel.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <utility>
#include <vector>

#include "kernels/error.h"
#include "parallel/cpu_budget.h"
#include "parallel/executor.h"

namespace attnpaths {

namespace {

// Ξ (P × Htot·N0, column-major) read as the (P·N0) × Htot matrix whose column
// π holds every entry of ξ_π: then Ξ (U ⊗ I_N0) is one GEMM with U.
Eigen::Map<const Eigen::MatrixXd> Stacked(const PathInputs& in) {
  return {in.xi.data(), in.xi.rows() * in.N0, in.Htot};
}

// A = Ξ (Ū ⊗ I_N0), Ū = (U + Uᵀ)/2: block π' of A is Σ_π Ū_ππ' Ξ_π.
Eigen::MatrixXd WeightedInputs(const PathInputs& in, const Eigen::Ref<const Eigen::MatrixXd>& U) {
  const Eigen::MatrixXd Us = 0.5 * (U + U.transpose());
  Eigen::MatrixXd A(in.xi.rows(), in.xi.cols());
  Eigen::Map<Eigen::MatrixXd>(A.data(), in.xi.rows() * in.N0, in.Htot).noalias() = Stacked(in) * Us;
  return A;
}

// Columns of a P × P matrix that fill about 256 KiB (a column block that stays
// in the L2 cache while the precomputed pairs stream through).
Eigen::Index ColumnBlock(Eigen::Index P) {
  return std::max<Eigen::Index>(1, (Eigen::Index{1} << 15) / std::max<Eigen::Index>(P, 1));
}

// S ← S + Sᵀ for a square S, in place, in square tiles (cache-friendly
// transpose); the result is exactly symmetric.
void AddTransposeInPlace(Eigen::MatrixXd* S) {
  constexpr Eigen::Index kTile = 64;
  const Eigen::Index n = S->rows();
  for (Eigen::Index j = 0; j < n; j += kTile) {
    const Eigen::Index wj = std::min(kTile, n - j);
    for (Eigen::Index i = j; i < n; i += kTile) {
      const Eigen::Index wi = std::min(kTile, n - i);
      if (i == j) {
        auto d = S->block(j, j, wj, wj);
        for (Eigen::Index c = 0; c < wj; ++c) {
          for (Eigen::Index r = c; r < wj; ++r) d(r, c) = d(c, r) = d(r, c) + d(c, r);
        }
      } else {
        auto lower = S->block(i, j, wi, wj);
        auto upper = S->block(j, i, wj, wi);
        lower += upper.transpose();
        upper = lower.transpose();
      }
    }
  }
}

}  // namespace

const char* KernelStrategyName(KernelStrategy s) {
  switch (s) {
    case KernelStrategy::kAuto:
      return "auto";
    case KernelStrategy::kPrecomputed:
      return "precomputed";
    case KernelStrategy::kFactored:
      return "factored";
    case KernelStrategy::kFeatures:
      return "features";
  }
  return "?";
}

KernelStrategy ToKernelStrategy(GramStorage storage) {
  switch (storage) {
    case GramStorage::kPairs:
      return KernelStrategy::kPrecomputed;
    case GramStorage::kFactored:
      return KernelStrategy::kFactored;
    case GramStorage::kFeatures:
      return KernelStrategy::kFeatures;
    case GramStorage::kAuto:
      break;
  }
  return KernelStrategy::kAuto;
}

const char* StorageName(KernelStrategy strategy) {
  return strategy == KernelStrategy::kPrecomputed ? "pairs" : KernelStrategyName(strategy);
}

KernelStrategy ParseKernelStrategy(const std::string& text, const std::string& field) {
  for (KernelStrategy s : {KernelStrategy::kAuto, KernelStrategy::kPrecomputed,
                           KernelStrategy::kFactored, KernelStrategy::kFeatures}) {
    if (text == KernelStrategyName(s)) return s;
  }
  throw Error(
      ErrorMessage(field, "\"" + text + "\"", "one of auto, precomputed, factored, features"));
}

double KernelMemoryBytes(KernelStrategy strategy, Eigen::Index P, Eigen::Index Htot,
                         Eigen::Index N0, Eigen::Index D) {
  const double p = static_cast<double>(P), h = static_cast<double>(Htot);
  const double M = h * static_cast<double>(N0);
  const double inputs = p * M * 8.0;
  switch (strategy) {
    case KernelStrategy::kPrecomputed:
      return inputs + h * (h + 1) / 2 * p * p * 8.0;
    case KernelStrategy::kFeatures: {
      // A, and W, F, F⁻¹W of r = M D features with one M × r product
      const double r = M * static_cast<double>(D);
      return inputs + M * M * 8.0 + (3 * r * r + M * r) * 8.0;
    }
    default:
      return inputs;
  }
}

double KernelFlopsPerEvaluation(KernelStrategy strategy, Eigen::Index P, Eigen::Index Htot,
                                Eigen::Index N0) {
  const double p = static_cast<double>(P), h = static_cast<double>(Htot),
               n0 = static_cast<double>(N0);
  if (strategy == KernelStrategy::kPrecomputed) return h * (h + 1) * p * p;
  if (strategy == KernelStrategy::kFeatures) {
    // W = (ℓ ⊗ I)ᵀ A (ℓ ⊗ I), then the Cholesky of F and F⁻¹W (r = M)
    const double M = h * n0;
    return 2 * M * M * h + 4.0 / 3.0 * M * M * M;
  }
  // Ξ(U⊗I), its product with Ξᵀ, RΞ and the block traces.
  return 2 * h * h * p * n0 + 2 * p * p * h * n0;
}

// The cost model of kAuto. Each storage's evaluation is split into operation
// kinds, each counted in its natural unit and divided by an effective rate for
// this machine (one core, OPENBLAS_NUM_THREADS=1):
//   GEMM-like multiply–adds (Eigen and BLAS products)     kGemmRate
//   LAPACK factorisations (potrf, trtri, potri, and
//     triangular solves with many right-hand sides)      kFactorRate
//   bytes streamed from memory by the pair sums          kStreamRate
// bench/gram_storage_bench measures the raw rates (section 1: Eigen GEMM
// 1.5e10/s, potrf 8.4e9/s, streaming 9.9e9 B/s) and one evaluation of each
// storage at P = 300 … 4000 on the HMM task (section 2). The constants are
// those raw rates scaled down to fit section 2 (the evaluations run potri,
// trtri and thin products, slower than a square potrf or GEMM): with them the
// model is within a factor 2.3 of every measured evaluation and kAuto picks the
// measured fastest at every P of the table (bench/results/gram_storage.md),
// including P = 1600 (features 277 ms, pairs 399 ms, factored 596 ms).
namespace {
constexpr double kGemmRate = 1.0e10;   // multiply–adds per second
constexpr double kFactorRate = 5.0e9;  // multiply–adds per second
constexpr double kStreamRate = 5.0e9;  // bytes per second
}  // namespace

double KernelCostPerEvaluation(KernelStrategy strategy, Eigen::Index P, Eigen::Index Htot,
                               Eigen::Index N0, Eigen::Index D) {
  const double p = static_cast<double>(P), h = static_cast<double>(Htot),
               n0 = static_cast<double>(N0), d = static_cast<double>(D);
  const double n = p * d, M = h * n0;
  switch (strategy) {
    case KernelStrategy::kPrecomputed: {
      // K_U and the gradient each stream the h(h+1)/2 pairs of P² doubles (D²
      // times over for D outputs: per output block); Cholesky of G and its inverse.
      const double bytes = 2.0 * h * (h + 1) / 2 * p * p * 8.0 * d * d;
      return bytes / kStreamRate + (n * n * n / 3 + n * n * n / 3) / kFactorRate;
    }
    case KernelStrategy::kFeatures: {
      // W (D GEMMs M × M × m and r × M × m), Cholesky of F (r³/3) and F⁻¹W (r³);
      // A = ΞᵀΞ once (P M²/2), spread over a solve's evaluations.
      const double r = M * d, m = h * d;
      return (d * (M * M * m + r * M * m)) / kGemmRate + (4.0 / 3.0) * r * r * r / kFactorRate +
             (p * M * M / 2) / kGemmRate / kEvaluationsPerSolve;
    }
    default: {
      // Φ = Ξ (C ⊗ I) and Zᵀ Z (P N0 Htot² D² together), K_U = Φ Φᵀ and
      // Z = L⁻¹ Ξ (P² Htot N0 D² together); Cholesky and triangular inverse of G.
      return (p * p * M * d * d + p * n0 * h * h * d * d) / kGemmRate +
             (n * n * n / 3 + n * n * n / 6) / kFactorRate;
    }
  }
}

KernelStrategy ChooseKernelStrategy(const KernelOptions& options, Eigen::Index P, Eigen::Index Htot,
                                    Eigen::Index N0) {
  auto gib = [](double b) { return ToText(b / double(1ull << 30)) + " GiB"; };
  const double limit = options.memory_limit_bytes;
  const Eigen::Index D = std::max<Eigen::Index>(options.outputs, 1);
  auto bytes = [&](KernelStrategy s) { return KernelMemoryBytes(s, P, Htot, N0, D); };
  switch (options.strategy) {
    case KernelStrategy::kPrecomputed:
      Require(bytes(KernelStrategy::kPrecomputed) <= limit, "kernel memory (precomputed)",
              gib(bytes(KernelStrategy::kPrecomputed)),
              "at most the memory limit of " + gib(limit) +
                  " (use the factored or features storage or raise the limit)");
      return KernelStrategy::kPrecomputed;
    case KernelStrategy::kFactored:
      Require(bytes(KernelStrategy::kFactored) <= limit, "kernel memory (factored)",
              gib(bytes(KernelStrategy::kFactored)),
              "at most the memory limit of " + gib(limit) +
                  " (use the features storage or raise the limit)");
      return KernelStrategy::kFactored;
    case KernelStrategy::kFeatures:
      Require(!options.zero_temperature, "storage", "features at temperature 0",
              "T > 0 for the feature-space form (theory.md §10: G = K_U is singular at T = 0 "
              "when P D > Htot N0 D); use pairs or factored");
      Require(bytes(KernelStrategy::kFeatures) <= limit, "kernel memory (features)",
              gib(bytes(KernelStrategy::kFeatures)), "at most the memory limit of " + gib(limit));
      return KernelStrategy::kFeatures;
    case KernelStrategy::kAuto:
      break;
  }
  KernelStrategy best = KernelStrategy::kAuto;
  double best_cost = 0;
  for (KernelStrategy s :
       {KernelStrategy::kPrecomputed, KernelStrategy::kFactored, KernelStrategy::kFeatures}) {
    if (s == KernelStrategy::kFeatures && options.zero_temperature) continue;
    if (bytes(s) > limit) continue;
    const double cost = KernelCostPerEvaluation(s, P, Htot, N0, D);
    if (best == KernelStrategy::kAuto || cost < best_cost) {
      best = s;
      best_cost = cost;
    }
  }
  const KernelStrategy smallest =
      options.zero_temperature ? KernelStrategy::kFactored : KernelStrategy::kFeatures;
  Require(best != KernelStrategy::kAuto, "kernel memory",
          gib(bytes(smallest)) + " (" + KernelStrategyName(smallest) + ", the smallest storage)",
          "at most the memory limit of " + gib(limit));
  return best;
}

PathKernel::PathKernel(PathInputs train, const KernelOptions& options)
    : inputs_(std::move(train)),
      P_(inputs_.P()),
      Htot_(inputs_.Htot),
      N0_(inputs_.N0),
      strategy_(ChooseKernelStrategy(options, inputs_.P(), inputs_.Htot, inputs_.N0)) {
  if (strategy_ == KernelStrategy::kFeatures) {
    // A = ΞᵀΞ (theory.md §10), lower triangle by a rank-P update, then both.
    Gram g;
    g.P = P_;
    g.Htot = Htot_;
    g.N0 = N0_;
    g.A = Eigen::MatrixXd::Zero(inputs_.xi.cols(), inputs_.xi.cols());
    g.b.resize(inputs_.xi.cols(), 0);
    g.A.selfadjointView<Eigen::Lower>().rankUpdate(inputs_.xi.transpose());
    g.A.triangularView<Eigen::StrictlyUpper>() = g.A.transpose();
    gram_ = std::make_shared<const Gram>(std::move(g));
    return;
  }
  if (strategy_ != KernelStrategy::kPrecomputed) return;
  const Eigen::Index H = Htot();
  std::vector<std::pair<Eigen::Index, Eigen::Index>> todo;
  for (Eigen::Index p = 0; p < H; ++p) {
    for (Eigen::Index q = p; q < H; ++q) todo.emplace_back(p, q);
  }
  pairs_.resize(todo.size());
  for (auto& c : pairs_) c.resize(P(), P());  // allocation failures throw here, not in a thread
  // One GEMM per pair, the pairs shared out over the cores (Eigen's GEMM is
  // single-threaded without OpenMP).
  const int threads = P() < 64 ? 1 : ResolveThreads(0, static_cast<std::int64_t>(todo.size()));
  ParallelForEach(threads, static_cast<std::int64_t>(todo.size()), [&](std::int64_t k) {
    const auto [p, q] = todo[static_cast<size_t>(k)];
    Eigen::MatrixXd& c = pairs_[static_cast<size_t>(PairIndex(p, q))];
    c.noalias() = inputs_.path(p) * inputs_.path(q).transpose();
  });
}

PathKernel::PathKernel(PathInputs train, KernelStrategy strategy, WithoutPairs)
    : inputs_(std::move(train)),
      P_(inputs_.P()),
      Htot_(inputs_.Htot),
      N0_(inputs_.N0),
      strategy_(strategy) {}

PathKernel::PathKernel(Gram streamed)
    : P_(streamed.P),
      Htot_(streamed.Htot),
      N0_(streamed.N0),
      has_inputs_(false),
      strategy_(KernelStrategy::kFeatures) {
  Require(streamed.P >= 1, "streamed Gram", "P = " + std::to_string(streamed.P),
          "at least 1 example");
  Require(streamed.A.rows() == streamed.M() && streamed.A.cols() == streamed.M(), "streamed Gram A",
          std::to_string(streamed.A.rows()) + " x " + std::to_string(streamed.A.cols()),
          std::to_string(streamed.M()) + " x " + std::to_string(streamed.M()) + " (M = Htot N0)");
  inputs_.Htot = Htot_;
  inputs_.N0 = N0_;
  gram_ = std::make_shared<const Gram>(std::move(streamed));
}

void PathKernel::RequireInputs(const char* what) const {
  Require(has_inputs_, what, "a streamed kernel (feature-space form, no path inputs kept)",
          "a kernel built from path inputs (keep the path inputs, or use storage pairs or "
          "factored)");
}

const PathInputs& PathKernel::inputs() const {
  RequireInputs("path inputs");
  return inputs_;
}

const Gram& PathKernel::feature_gram() const {
  Require(strategy_ == KernelStrategy::kFeatures && gram_ != nullptr, "feature Gram",
          KernelStrategyName(strategy_), "the features storage");
  return *gram_;
}

double PathKernel::memory_bytes() const {
  if (!has_inputs_) {
    return KernelMemoryBytes(strategy_, 0, Htot_, N0_, gram_->D() > 0 ? gram_->D() : 1);
  }
  return KernelMemoryBytes(strategy_, P(), Htot(), N0_);
}

PathKernel PathKernel::SelectPaths(const std::vector<Eigen::Index>& kept,
                                   const KernelOptions& options) const {
  RequireInputs("path selection");
  PathInputs sub = attnpaths::SelectPaths(inputs_, kept);
  const KernelStrategy strategy = ChooseKernelStrategy(options, sub.P(), sub.Htot, sub.N0);
  if (strategy != KernelStrategy::kPrecomputed || strategy_ != KernelStrategy::kPrecomputed) {
    return PathKernel(std::move(sub), KernelOptions{strategy, options.memory_limit_bytes});
  }
  // C_ππ' = ξ_π · ξ_π' carries 1/Htot (theory.md §2): the kept pairs, rescaled.
  const double rescale = static_cast<double>(Htot()) / static_cast<double>(sub.Htot);
  PathKernel out(std::move(sub), strategy, WithoutPairs{});
  const Eigen::Index H = out.Htot();
  out.pairs_.resize(static_cast<size_t>(H * (H + 1) / 2));
  for (Eigen::Index a = 0; a < H; ++a) {
    for (Eigen::Index b = a; b < H; ++b) {
      out.pairs_[static_cast<size_t>(out.PairIndex(a, b))] =
          rescale * pairs_[static_cast<size_t>(
                        PairIndex(kept[static_cast<size_t>(a)], kept[static_cast<size_t>(b)]))];
    }
  }
  return out;
}

const Eigen::MatrixXd* PathKernel::PackedPairs() const {
  if (strategy_ != KernelStrategy::kPrecomputed) return nullptr;
  const Eigen::Index n = P(), rows = n * (n + 1) / 2;
  const Eigen::Index cols = static_cast<Eigen::Index>(pairs_.size());
  if (8.0 * static_cast<double>(rows) * static_cast<double>(cols) > kPackedPairsMaxBytes) {
    return nullptr;
  }
  std::call_once(packed_->once, [&] {
    Eigen::MatrixXd& packed = packed_->packed;
    packed.resize(rows, cols);
    for (Eigen::Index k = 0; k < cols; ++k) {
      const Eigen::MatrixXd& c = pairs_[static_cast<size_t>(k)];
      double* out = packed.col(k).data();
      for (Eigen::Index j = 0; j < n; ++j) {
        for (Eigen::Index i = j; i < n; ++i) *out++ = c(i, j) + c(j, i);
      }
    }
  });
  return &packed_->packed;
}

Eigen::Index PathKernel::PairIndex(Eigen::Index p, Eigen::Index q) const {
  if (p > q) std::swap(p, q);
  // Row-major packing of the upper triangle.
  return p * Htot() - p * (p - 1) / 2 + (q - p);
}

Eigen::MatrixXd PathKernel::Pair(Eigen::Index p, Eigen::Index q) const {
  RequireInputs("path pair kernel");
  for (const auto& [name, index] : {std::pair{"path p", p}, std::pair{"path q", q}}) {
    Require(index >= 0 && index < Htot(), name, index,
            "a path index in [0, " + std::to_string(Htot()) + ")");
  }
  if (strategy_ == KernelStrategy::kPrecomputed) {
    const Eigen::MatrixXd& c = pairs_[static_cast<size_t>(PairIndex(p, q))];
    return p <= q ? c : Eigen::MatrixXd(c.transpose());
  }
  return inputs_.path(p) * inputs_.path(q).transpose();
}

const Eigen::MatrixXd& PathKernel::StoredPair(Eigen::Index p, Eigen::Index q) const {
  Require(strategy_ == KernelStrategy::kPrecomputed, "stored path pair",
          KernelStrategyName(strategy_), "the precomputed strategy");
  Require(p >= 0 && p <= q && q < Htot(), "stored path pair",
          "(" + std::to_string(p) + ", " + std::to_string(q) + ")",
          "0 <= p <= q < " + std::to_string(Htot()));
  return pairs_[static_cast<size_t>(PairIndex(p, q))];
}

Eigen::MatrixXd PathKernel::Total(const Eigen::Ref<const Eigen::MatrixXd>& U) const {
  Eigen::MatrixXd K;
  Total(U, &K);
  return K;
}

void PathKernel::Total(const Eigen::Ref<const Eigen::MatrixXd>& U, Eigen::MatrixXd* K) const {
  RequireInputs("kernel K_U on the training set");
  const Eigen::Index H = Htot(), n = P();
  Require(U.rows() == H && U.cols() == H, "U shape",
          std::to_string(U.rows()) + " x " + std::to_string(U.cols()),
          std::to_string(H) + " x " + std::to_string(H) + " (Htot x Htot)");
  if (strategy_ == KernelStrategy::kPrecomputed) {
    // K_U = Σ_π U_ππ C_ππ + Σ_{π<π'} U_ππ' (C_ππ' + C_ππ'ᵀ) = S + Sᵀ with
    // S = Σ_π (U_ππ/2) C_ππ + Σ_{π<π'} U_ππ' C_ππ'   (theory.md §2).
    // Column blocks of S stay in cache while every pair streams by once; the
    // transpose is added at the end, tile by tile, in place.
    K->resize(n, n);
    const Eigen::Index width = ColumnBlock(n);
    for (Eigen::Index j0 = 0; j0 < n; j0 += width) {
      const Eigen::Index w = std::min(width, n - j0);
      auto Sb = K->middleCols(j0, w);
      Sb.setZero();
      for (Eigen::Index p = 0; p < H; ++p) {
        for (Eigen::Index q = p; q < H; ++q) {
          const double u = p == q ? 0.5 * U(p, p) : 0.5 * (U(p, q) + U(q, p));
          Sb.noalias() += u * pairs_[static_cast<size_t>(PairIndex(p, q))].middleCols(j0, w);
        }
      }
    }
    AddTransposeInPlace(K);
    return;
  }
  // K_U = Ξ (U ⊗ I_N0) Ξᵀ
  const Eigen::MatrixXd A = WeightedInputs(inputs_, U);
  K->resize(n, n);
  K->noalias() = A * inputs_.xi.transpose();
}

Eigen::MatrixXd PathKernel::Contract(const Eigen::Ref<const Eigen::MatrixXd>& R) const {
  RequireInputs("kernel contraction");
  const Eigen::Index H = Htot();
  Require(R.rows() == P() && R.cols() == P(), "R shape",
          std::to_string(R.rows()) + " x " + std::to_string(R.cols()),
          std::to_string(P()) + " x " + std::to_string(P()));
  Eigen::MatrixXd g(H, H);
  if (strategy_ == KernelStrategy::kPrecomputed) {
    // Σ_μν R_μν C_μν, with R symmetric so C and Cᵀ give the same value; a column
    // block of R stays in cache while every pair streams by once.
    const Eigen::Index n = P(), width = ColumnBlock(n);
    Eigen::VectorXd sums = Eigen::VectorXd::Zero(static_cast<Eigen::Index>(pairs_.size()));
    for (Eigen::Index j0 = 0; j0 < n; j0 += width) {
      const Eigen::Index w = std::min(width, n - j0);
      const auto Rb = R.middleCols(j0, w);
      for (size_t k = 0; k < pairs_.size(); ++k) {
        sums(static_cast<Eigen::Index>(k)) += Rb.cwiseProduct(pairs_[k].middleCols(j0, w)).sum();
      }
    }
    for (Eigen::Index p = 0; p < H; ++p) {
      for (Eigen::Index q = p; q < H; ++q) g(p, q) = g(q, p) = sums(PairIndex(p, q));
    }
    return g;
  }
  // g_ππ' = tr(Ξ_πᵀ R Ξ_π') = Σ (Ξ_π ∘ (RΞ)_π'): one GEMM of the stacked views.
  Eigen::MatrixXd B(P(), inputs_.xi.cols());
  B.noalias() = R * inputs_.xi;
  g.noalias() = Stacked(inputs_).transpose() *
                Eigen::Map<const Eigen::MatrixXd>(B.data(), P() * inputs_.N0, H);
  g.triangularView<Eigen::StrictlyLower>() = g.transpose();
  return g;
}

Eigen::MatrixXd CrossKernel(const PathInputs& a, const PathInputs& b,
                            const Eigen::Ref<const Eigen::MatrixXd>& U) {
  Require(a.Htot == b.Htot && a.N0 == b.N0, "path inputs",
          std::to_string(a.Htot) + " paths x " + std::to_string(a.N0) + " features",
          std::to_string(b.Htot) + " paths x " + std::to_string(b.N0) +
              " features (the same architecture and N0 for both sets)");
  const Eigen::Index H = a.Htot;
  Require(U.rows() == H && U.cols() == H, "U shape",
          std::to_string(U.rows()) + " x " + std::to_string(U.cols()),
          std::to_string(H) + " x " + std::to_string(H));
  const Eigen::MatrixXd A = WeightedInputs(a, U);
  Eigen::MatrixXd K(a.P(), b.P());
  K.noalias() = A * b.xi.transpose();
  return K;
}

Eigen::VectorXd KernelDiagonal(const PathInputs& a, const Eigen::Ref<const Eigen::MatrixXd>& U) {
  const Eigen::Index H = a.Htot;
  Require(U.rows() == H && U.cols() == H, "U shape",
          std::to_string(U.rows()) + " x " + std::to_string(U.cols()),
          std::to_string(H) + " x " + std::to_string(H));
  // K_U(x, x) = Σ_π' ξ_π'(x) · (Σ_π Ū_ππ' ξ_π(x)), one pass over A = Ξ (Ū ⊗ I).
  return WeightedInputs(a, U).cwiseProduct(a.xi).rowwise().sum();
}

}  // namespace attnpaths
