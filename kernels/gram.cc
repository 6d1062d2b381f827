#include "kernels/gram.h"

#include <Eigen/Core>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <vector>

#include "kernels/error.h"
#include "parallel/cpu_budget.h"
#include "parallel/executor.h"

namespace attnpaths {
namespace {

using Clock = std::chrono::steady_clock;

double Since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Column boundaries of panels of an M × M lower triangle with about equal
// work each (panel [c_k, c_{k+1}) covers rows c_k … M−1).
std::vector<Eigen::Index> TrianglePanels(Eigen::Index M, int panels) {
  std::vector<Eigen::Index> cuts{0};
  const double total = 0.5 * static_cast<double>(M) * static_cast<double>(M);
  for (int k = 1; k < panels; ++k) {
    // Work left of column c: M c − c²/2 = k/panels · total.
    const double target = total * k / panels;
    const double m = static_cast<double>(M);
    const double c = m - std::sqrt(std::max(0.0, m * m - 2.0 * target));
    cuts.push_back(std::clamp<Eigen::Index>(static_cast<Eigen::Index>(c), cuts.back(), M));
  }
  cuts.push_back(M);
  cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
  return cuts;
}

}  // namespace

Gram Gram::Zero(Eigen::Index Htot, Eigen::Index N0, Eigen::Index D) {
  Gram g;
  g.Htot = Htot;
  g.N0 = N0;
  g.A = Eigen::MatrixXd::Zero(Htot * N0, Htot * N0);
  g.b = Eigen::MatrixXd::Zero(Htot * N0, D);
  g.YtY = Eigen::MatrixXd::Zero(D, D);
  return g;
}

void Gram::Add(const Gram& other) {
  Require(other.Htot == Htot && other.N0 == N0 && other.D() == D(), "gram to add",
          std::to_string(other.Htot) + " paths x " + std::to_string(other.N0) +
              " features, D = " + std::to_string(other.D()),
          std::to_string(Htot) + " paths x " + std::to_string(N0) +
              " features, D = " + std::to_string(D()));
  P += other.P;
  A += other.A;
  b += other.b;
  YtY += other.YtY;
  yty += other.yty;
}

void Gram::AddBlock(const Eigen::Ref<const Eigen::MatrixXd>& xi_t,
                    const Eigen::Ref<const Eigen::MatrixXd>& y, int threads) {
  const Eigen::Index m = M(), B = xi_t.cols();
  Require(xi_t.rows() == m && y.rows() == B && y.cols() == D(), "gram block",
          std::to_string(xi_t.rows()) + " x " + std::to_string(B) + " path inputs, " +
              std::to_string(y.rows()) + " x " + std::to_string(y.cols()) + " labels",
          std::to_string(m) + " x B and B x " + std::to_string(D()));
  if (B == 0) return;
  P += B;
  b.noalias() += xi_t * y;
  YtY.noalias() += y.transpose() * y;
  yty += y.squaredNorm();
  // A += Ξᵀ Ξ, lower triangle, by panels of columns: the diagonal block as a
  // symmetric rank-B update, the block below it as one GEMM.
  const int workers = ResolveThreads(threads, std::max<Eigen::Index>(1, m / 64));
  const std::vector<Eigen::Index> cuts = TrianglePanels(m, 4 * workers);
  const Eigen::Index panels = static_cast<Eigen::Index>(cuts.size()) - 1;
  std::atomic<Eigen::Index> next{0};
  auto work = [&] {
    for (Eigen::Index k = next++; k < panels; k = next++) {
      const Eigen::Index c = cuts[static_cast<size_t>(k)];
      const Eigen::Index w = cuts[static_cast<size_t>(k + 1)] - c;
      A.block(c, c, w, w).selfadjointView<Eigen::Lower>().rankUpdate(xi_t.middleRows(c, w));
      const Eigen::Index below = m - c - w;
      if (below > 0) {
        A.block(c + w, c, below, w).noalias() +=
            xi_t.middleRows(c + w, below) * xi_t.middleRows(c, w).transpose();
      }
    }
  };
  ParallelRanges(workers, workers, [&](int, Eigen::Index, Eigen::Index) { work(); });
}

void Gram::Finish() { A.triangularView<Eigen::StrictlyUpper>() = A.transpose(); }

std::string GramSummary::BriefReport() const {
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "gram: %ld examples in %ld blocks, %.3f s (reading %.3f s, waited %.3f s; path "
                "inputs %.3f s; A, b %.3f s)",
                static_cast<long>(stream.examples), static_cast<long>(stream.blocks), total_seconds,
                stream.read_seconds, stream.wait_seconds, stream.path_input_seconds, gram_seconds);
  return buf;
}

Gram AccumulateGram(const Architecture& arch, ExampleSource& source, Split split,
                    const StreamOptions& options, GramSummary* summary) {
  const auto t0 = Clock::now();
  Require(source.D() >= 1, source.name() + " labels", "none",
          "labels (the Gram needs b = Xi^T y and y^T y)");
  Gram g = Gram::Zero(arch.Htot(), source.N0(), source.D());
  GramSummary s;
  StreamPathInputs(
      arch, source, split, options,
      [&](const PathInputBlock& block) { g.AddBlock(block.xi_t, block.y, options.threads); },
      &s.stream);
  g.Finish();
  s.gram_seconds = s.stream.visit_seconds;
  s.total_seconds = Since(t0);
  if (summary) *summary = s;
  return g;
}

void SumOverRanks(const Communicator& world, Gram* gram) {
  if (world.size() <= 1) return;
  std::int64_t P = gram->P;
  world.SumInPlace(&P, 1);
  gram->P = P;
  world.SumInPlace(gram->A.data(), static_cast<std::size_t>(gram->A.size()));
  world.SumInPlace(gram->b.data(), static_cast<std::size_t>(gram->b.size()));
  world.SumInPlace(gram->YtY.data(), static_cast<std::size_t>(gram->YtY.size()));
  world.SumInPlace(&gram->yty, 1);
  // An all-reduce need not give every rank the same rounding (the order of
  // the partial sums may differ by rank): rank 0's sums for everyone, so the
  // ranks solve bit-identical problems.
  world.Broadcast(gram->A.data(), static_cast<std::size_t>(gram->A.size()));
  world.Broadcast(gram->b.data(), static_cast<std::size_t>(gram->b.size()));
  world.Broadcast(gram->YtY.data(), static_cast<std::size_t>(gram->YtY.size()));
  world.Broadcast(&gram->yty, 1);
}

}  // namespace attnpaths
