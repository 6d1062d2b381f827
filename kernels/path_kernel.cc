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
  }
  return "?";
}

KernelStrategy ParseKernelStrategy(const std::string& text, const std::string& field) {
  for (KernelStrategy s :
       {KernelStrategy::kAuto, KernelStrategy::kPrecomputed, KernelStrategy::kFactored}) {
    if (text == KernelStrategyName(s)) return s;
  }
  throw Error(ErrorMessage(field, "\"" + text + "\"", "one of auto, precomputed, factored"));
}

double KernelMemoryBytes(KernelStrategy strategy, Eigen::Index P, Eigen::Index Htot,
                         Eigen::Index N0) {
  const double p = static_cast<double>(P), h = static_cast<double>(Htot);
  const double inputs = p * h * static_cast<double>(N0) * 8.0;
  if (strategy == KernelStrategy::kPrecomputed) return inputs + h * (h + 1) / 2 * p * p * 8.0;
  return inputs;
}

double KernelFlopsPerEvaluation(KernelStrategy strategy, Eigen::Index P, Eigen::Index Htot,
                                Eigen::Index N0) {
  const double p = static_cast<double>(P), h = static_cast<double>(Htot),
               n0 = static_cast<double>(N0);
  if (strategy == KernelStrategy::kPrecomputed) return h * (h + 1) * p * p;
  // Ξ(U⊗I), its product with Ξᵀ, RΞ and the block traces.
  return 2 * h * h * p * n0 + 2 * p * p * h * n0;
}

double KernelCostPerEvaluation(KernelStrategy strategy, Eigen::Index P, Eigen::Index Htot,
                               Eigen::Index N0) {
  const double p = static_cast<double>(P), h = static_cast<double>(Htot),
               n0 = static_cast<double>(N0);
  if (strategy == KernelStrategy::kPrecomputed) {
    // Total and Contract each stream the h(h+1)/2 pairs of P² doubles: about
    // 16 multiply–adds of DGEMM time per double from memory, 3 when all pairs
    // fit in a (16 MiB) last-level cache; Cholesky and inverse of G
    // (P³/6 + P³/3 multiply–adds, LAPACK's potri at about a third of DGEMM speed).
    const double pair_bytes = h * (h + 1) / 2 * p * p * 8.0;
    const double per_double = pair_bytes <= 16.0 * (1 << 20) ? 3.0 : 16.0;
    return per_double * h * (h + 1) * p * p + 1.25 * p * p * p;
  }
  // Φ = Ξ (C ⊗ I) and Zᵀ Z (P N0 Htot² together), K_U = Φ Φᵀ and Z = L⁻¹ Ξ
  // (P² Htot N0 together), Cholesky and triangular inverse of G (P³/3 at
  // about half DGEMM speed).
  return p * p * h * n0 + p * n0 * h * h + 0.75 * p * p * p;
}

KernelStrategy ChooseKernelStrategy(const KernelOptions& options, Eigen::Index P, Eigen::Index Htot,
                                    Eigen::Index N0) {
  auto gib = [](double b) { return ToText(b / double(1ull << 30)) + " GiB"; };
  const double limit = options.memory_limit_bytes;
  const double pre = KernelMemoryBytes(KernelStrategy::kPrecomputed, P, Htot, N0);
  const double fac = KernelMemoryBytes(KernelStrategy::kFactored, P, Htot, N0);
  switch (options.strategy) {
    case KernelStrategy::kPrecomputed:
      Require(pre <= limit, "kernel memory (precomputed)", gib(pre),
              "at most the memory limit of " + gib(limit) +
                  " (use the factored strategy or raise the limit)");
      return KernelStrategy::kPrecomputed;
    case KernelStrategy::kFactored:
      Require(fac <= limit, "kernel memory (factored)", gib(fac),
              "at most the memory limit of " + gib(limit));
      return KernelStrategy::kFactored;
    case KernelStrategy::kAuto:
      break;
  }
  Require(fac <= limit, "kernel memory", gib(fac) + " (factored, the smallest strategy)",
          "at most the memory limit of " + gib(limit));
  if (pre <= limit && KernelCostPerEvaluation(KernelStrategy::kPrecomputed, P, Htot, N0) <=
                          KernelCostPerEvaluation(KernelStrategy::kFactored, P, Htot, N0)) {
    return KernelStrategy::kPrecomputed;
  }
  return KernelStrategy::kFactored;
}

PathKernel::PathKernel(PathInputs train, const KernelOptions& options)
    : inputs_(std::move(train)),
      strategy_(ChooseKernelStrategy(options, inputs_.P(), inputs_.Htot, inputs_.N0)) {
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
    : inputs_(std::move(train)), strategy_(strategy) {}

PathKernel PathKernel::SelectPaths(const std::vector<Eigen::Index>& kept,
                                   const KernelOptions& options) const {
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

Eigen::Index PathKernel::PairIndex(Eigen::Index p, Eigen::Index q) const {
  if (p > q) std::swap(p, q);
  // Row-major packing of the upper triangle.
  return p * Htot() - p * (p - 1) / 2 + (q - p);
}

Eigen::MatrixXd PathKernel::Pair(Eigen::Index p, Eigen::Index q) const {
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
