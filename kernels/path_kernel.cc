#include "kernels/path_kernel.h"

#include <cmath>

#include "kernels/error.h"

namespace attnpaths {

const char* KernelStrategyName(KernelStrategy s) {
  switch (s) {
    case KernelStrategy::kAuto: return "auto";
    case KernelStrategy::kPrecomputed: return "precomputed";
    case KernelStrategy::kFactored: return "factored";
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

KernelStrategy ChooseKernelStrategy(const KernelOptions& options, Eigen::Index P,
                                    Eigen::Index Htot, Eigen::Index N0) {
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
  if (pre <= limit && KernelFlopsPerEvaluation(KernelStrategy::kPrecomputed, P, Htot, N0) <=
                          KernelFlopsPerEvaluation(KernelStrategy::kFactored, P, Htot, N0)) {
    return KernelStrategy::kPrecomputed;
  }
  return KernelStrategy::kFactored;
}

PathKernel::PathKernel(PathInputs train, const KernelOptions& options)
    : inputs_(std::move(train)),
      strategy_(ChooseKernelStrategy(options, inputs_.P(), inputs_.Htot, inputs_.N0)) {
  if (strategy_ != KernelStrategy::kPrecomputed) return;
  const Eigen::Index H = Htot();
  pairs_.resize(static_cast<size_t>(H * (H + 1) / 2));
  for (Eigen::Index p = 0; p < H; ++p) {
    for (Eigen::Index q = p; q < H; ++q) {
      Eigen::MatrixXd& c = pairs_[static_cast<size_t>(PairIndex(p, q))];
      c.noalias() = inputs_.path(p) * inputs_.path(q).transpose();
    }
  }
}

Eigen::Index PathKernel::PairIndex(Eigen::Index p, Eigen::Index q) const {
  if (p > q) std::swap(p, q);
  // Row-major packing of the upper triangle.
  return p * Htot() - p * (p - 1) / 2 + (q - p);
}

Eigen::MatrixXd PathKernel::Pair(Eigen::Index p, Eigen::Index q) const {
  if (strategy_ == KernelStrategy::kPrecomputed) {
    const Eigen::MatrixXd& c = pairs_[static_cast<size_t>(PairIndex(p, q))];
    return p <= q ? c : Eigen::MatrixXd(c.transpose());
  }
  return inputs_.path(p) * inputs_.path(q).transpose();
}

Eigen::MatrixXd PathKernel::Total(const Eigen::Ref<const Eigen::MatrixXd>& U) const {
  const Eigen::Index H = Htot();
  Require(U.rows() == H && U.cols() == H, "U shape",
          std::to_string(U.rows()) + " x " + std::to_string(U.cols()),
          std::to_string(H) + " x " + std::to_string(H) + " (Htot x Htot)");
  if (strategy_ == KernelStrategy::kPrecomputed) {
    // K_U = Σ_π U_ππ C_ππ + Σ_{π<π'} U_ππ' (C_ππ' + C_ππ'ᵀ)   (theory.md §2)
    Eigen::MatrixXd K = Eigen::MatrixXd::Zero(P(), P());
    for (Eigen::Index p = 0; p < H; ++p) {
      for (Eigen::Index q = p; q < H; ++q) {
        const Eigen::MatrixXd& c = pairs_[static_cast<size_t>(PairIndex(p, q))];
        if (p == q) {
          K.noalias() += U(p, p) * c;
        } else {
          const double u = 0.5 * (U(p, q) + U(q, p));
          K.noalias() += u * c;
          K.noalias() += u * c.transpose();
        }
      }
    }
    return K;
  }
  // K_U = Ξ (U ⊗ I_N0) Ξᵀ
  const Eigen::Index N0 = inputs_.N0;
  Eigen::MatrixXd A = Eigen::MatrixXd::Zero(P(), H * N0);
  for (Eigen::Index q = 0; q < H; ++q) {
    for (Eigen::Index p = 0; p < H; ++p) {
      const double u = 0.5 * (U(p, q) + U(q, p));
      if (u != 0.0) A.middleCols(q * N0, N0).noalias() += u * inputs_.path(p);
    }
  }
  Eigen::MatrixXd K(P(), P());
  K.noalias() = A * inputs_.xi.transpose();
  return K;
}

Eigen::MatrixXd PathKernel::Contract(const Eigen::Ref<const Eigen::MatrixXd>& R) const {
  const Eigen::Index H = Htot();
  Require(R.rows() == P() && R.cols() == P(), "R shape",
          std::to_string(R.rows()) + " x " + std::to_string(R.cols()),
          std::to_string(P()) + " x " + std::to_string(P()));
  Eigen::MatrixXd g(H, H);
  if (strategy_ == KernelStrategy::kPrecomputed) {
    for (Eigen::Index p = 0; p < H; ++p) {
      for (Eigen::Index q = p; q < H; ++q) {
        const Eigen::MatrixXd& c = pairs_[static_cast<size_t>(PairIndex(p, q))];
        // Σ_μν R_μν C_μν, with R symmetric so C and Cᵀ give the same value.
        g(p, q) = g(q, p) = R.cwiseProduct(c).sum();
      }
    }
    return g;
  }
  // g_ππ' = tr(Ξ_πᵀ R Ξ_π') = Σ (Ξ_π ∘ (RΞ)_π')
  const Eigen::Index N0 = inputs_.N0;
  Eigen::MatrixXd B(P(), H * N0);
  B.noalias() = R * inputs_.xi;
  for (Eigen::Index p = 0; p < H; ++p) {
    for (Eigen::Index q = p; q < H; ++q) {
      g(p, q) = inputs_.path(p).cwiseProduct(B.middleCols(q * N0, N0)).sum();
      g(q, p) = g(p, q);
    }
  }
  return g;
}

Eigen::MatrixXd CrossKernel(const PathInputs& a, const PathInputs& b,
                            const Eigen::Ref<const Eigen::MatrixXd>& U) {
  Require(a.Htot == b.Htot && a.N0 == b.N0, "path inputs",
          std::to_string(a.Htot) + " paths x " + std::to_string(a.N0) + " features",
          std::to_string(b.Htot) + " paths x " + std::to_string(b.N0) +
              " features (the same architecture and N0 for both sets)");
  const Eigen::Index H = a.Htot, N0 = a.N0;
  Require(U.rows() == H && U.cols() == H, "U shape",
          std::to_string(U.rows()) + " x " + std::to_string(U.cols()),
          std::to_string(H) + " x " + std::to_string(H));
  Eigen::MatrixXd A = Eigen::MatrixXd::Zero(a.P(), H * N0);
  for (Eigen::Index q = 0; q < H; ++q) {
    for (Eigen::Index p = 0; p < H; ++p) {
      const double u = 0.5 * (U(p, q) + U(q, p));
      if (u != 0.0) A.middleCols(q * N0, N0).noalias() += u * a.path(p);
    }
  }
  Eigen::MatrixXd K(a.P(), b.P());
  K.noalias() = A * b.xi.transpose();
  return K;
}

Eigen::VectorXd KernelDiagonal(const PathInputs& a, const Eigen::Ref<const Eigen::MatrixXd>& U) {
  const Eigen::Index H = a.Htot, N0 = a.N0;
  Require(U.rows() == H && U.cols() == H, "U shape",
          std::to_string(U.rows()) + " x " + std::to_string(U.cols()),
          std::to_string(H) + " x " + std::to_string(H));
  Eigen::VectorXd d = Eigen::VectorXd::Zero(a.P());
  for (Eigen::Index p = 0; p < H; ++p) {
    for (Eigen::Index q = 0; q < H; ++q) {
      const double u = 0.5 * (U(p, q) + U(q, p));
      if (u != 0.0) d += u * a.path(p).cwiseProduct(a.path(q)).rowwise().sum();
    }
  }
  (void)N0;
  return d;
}

}  // namespace attnpaths
