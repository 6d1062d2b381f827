#include "kernels/path_inputs.h"

#include <algorithm>
#include <cmath>
#include <exception>
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

PathInputs ComputePathInputs(const Architecture& arch, const Inputs& x, Split split, int threads) {
  arch.Validate(x.N0(), x.n_tok());
  x.CheckFinite(split == Split::kTrain ? "X" : "X_test");
  for (const auto& layer : arch.layers) {
    for (const auto& head : layer) {
      if (head.kind != HeadKind::kGiven) continue;
      const auto& given = split == Split::kTrain ? head.given_train : head.given_test;
      Require(given != nullptr && static_cast<Eigen::Index>(given->size()) == x.P(),
              head.name + (split == Split::kTrain ? ".attention" : ".test_attention") +
                  " examples",
              given ? given->size() : 0, std::to_string(x.P()) + " (one matrix per example)");
    }
  }
  PathInputs out;
  out.Htot = arch.Htot();
  out.N0 = x.N0();
  out.xi.resize(x.P(), out.Htot * out.N0);
  const double c = std::sqrt(arch.variances[0] / static_cast<double>(x.N0() * out.Htot));

  auto work = [&](Eigen::Index begin, Eigen::Index end) {
    for (Eigen::Index mu = begin; mu < end; ++mu) {
      const auto xm = x.example(mu);
      const Eigen::MatrixXd w = PathTokenWeights(arch, xm, mu, split);
      const Eigen::MatrixXd xi = c * (xm * w);  // N0 × Htot, column π = ξ_π(x^μ)
      out.xi.row(mu) = Eigen::Map<const Eigen::RowVectorXd>(xi.data(), xi.size());
    }
  };
  // Enough examples per thread (8) to pay for handing them out.
  ParallelRanges(ResolveThreads(threads, std::max<Eigen::Index>(1, x.P() / 8)), x.P(),
                 [&](int, Eigen::Index begin, Eigen::Index end) { work(begin, end); });
  return out;
}

}  // namespace attnpaths
