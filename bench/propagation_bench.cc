// propagation_bench — the costs issue 16 asks for, printed as Markdown
// (bench/results/propagation_bench.md; docs/signal-propagation.md §I.7, §II.6).
//
//   ./propagation_bench            # full run (a minute or two)
//   ./propagation_bench --quick    # small sizes (seconds)
//
// 1. Kernel recursion: time per layer of Σ ← A Σ Aᵀ with the construction
//    of A (E-SPA closed forms O(m²) vs the generic Cholesky path O(m³)),
//    against the number of tokens m, with and without the TAT C-map.
// 2. Finite-width networks (Part II): time per layer of one network of width d
//    (Gaussian and orthogonal values) against d at fixed m.
// 3. Shaped SDE: time per Euler–Maruyama step of one path against m.
// 4. Shaped networks: time per layer of one network for the covariance chain
//    (O(m³ + m² n_k) plus the χ² draws) and the exact-in-law X sampler
//    (O(m² n)) against m and the width n.
// Every entry is the median of 5 repetitions, single-threaded; ratios are
// measured side by side in one run (the machine is shared; its load is printed).
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "propagation/finite_width.h"
#include "propagation/kernel_recursion.h"
#include "propagation/shaped_network.h"
#include "propagation/shaped_sde.h"

namespace {

using namespace attnpaths;

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Median over 5 repetitions of the seconds `f` takes.
double Time(const std::function<void()>& f) {
  std::vector<double> t;
  for (int r = 0; r < 5; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return Median(t);
}

Eigen::MatrixXd SpecLikeV0(Eigen::Index m) {
  Eigen::MatrixXd V = Eigen::MatrixXd::Identity(m, m);
  for (Eigen::Index i = 0; i < m; ++i) {
    for (Eigen::Index j = 0; j < m; ++j) {
      if (i != j) V(i, j) = 0.2 * std::pow(0.5, std::abs(static_cast<double>(i - j)) - 1);
    }
  }
  return V;
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = false;
  for (int i = 1; i < argc; ++i) quick |= std::strcmp(argv[i], "--quick") == 0;
  char host[256] = {0};
  gethostname(host, sizeof host - 1);
  std::printf(
      "# propagation_bench\n\n%s, %ld CPUs online, load average %s (1, 5, 15 min) at the "
      "start; single-threaded; median of 5.\n\n",
      host, sysconf(_SC_NPROCESSORS_ONLN), bench::LoadAverage().c_str());

  // 1. Kernel recursion.
  const int depth = 8;
  std::printf("## 1. Kernel recursion (causal E-SPA, L = %d; time per layer)\n\n", depth);
  std::printf(
      "| m | closed form | Cholesky | Cholesky / closed | closed + TAT | Cholesky + TAT |\n");
  std::printf("|---:|---:|---:|---:|---:|---:|\n");
  for (Eigen::Index m :
       quick ? std::vector<Eigen::Index>{16, 64} : std::vector<Eigen::Index>{16, 64, 256, 512}) {
    double t[4];
    for (int k = 0; k < 4; ++k) {
      KernelPropOptions o;
      o.tokens = m;
      o.depth = depth;
      o.method = AttentionMethod::kESpa;
      o.gamma_final = 0.05;
      o.closed_form = k % 2 == 0;
      o.mlp = k >= 2 ? MlpKind::kTat : MlpKind::kNone;
      o.tat_eta = 0.9;
      t[k] = Time([&] { PropagateKernel(o); }) / depth;
    }
    std::printf("| %ld | %s | %s | %.1f | %s | %s |\n", static_cast<long>(m),
                bench::Sec(t[0]).c_str(), bench::Sec(t[1]).c_str(), t[1] / t[0],
                bench::Sec(t[2]).c_str(), bench::Sec(t[3]).c_str());
  }

  // 2. Finite width (Part II).
  const Eigen::Index m2 = 16;
  std::printf(
      "\n## 2. Finite-width networks (m = %ld, E-SPA + TAT, one network; time per layer)\n\n",
      static_cast<long>(m2));
  std::printf("| d | Gaussian values | orthogonal values (Haar QR) | orthogonal / Gaussian |\n");
  std::printf("|---:|---:|---:|---:|\n");
  {
    KernelPropOptions o;
    o.tokens = m2;
    o.depth = depth;
    o.mlp = MlpKind::kTat;
    o.tat_eta = 0.9;
    o.gamma_final = 0.05;
    const KernelPropagation p = PropagateKernel(o);
    std::vector<Eigen::MatrixXd> A;
    for (const auto& a : p.attention) A.push_back(a.A);
    const Eigen::MatrixXd sigma0 = Eigen::MatrixXd::Identity(m2, m2);
    for (Eigen::Index d : quick ? std::vector<Eigen::Index>{32, 128}
                                : std::vector<Eigen::Index>{32, 128, 256, 512}) {
      double t[2];
      for (int k = 0; k < 2; ++k) {
        PropagationRng engine = PropagationEngine(1, 0, 0);
        t[k] = Time([&] {
                 SimulateNetworkKernels(
                     A, sigma0, o.mlp, p.summary.tat_alpha, 2, d,
                     k == 0 ? ValueWeights::kGaussian : ValueWeights::kOrthogonal, engine);
               }) /
               depth;
      }
      std::printf("| %ld | %s | %s | %.1f |\n", static_cast<long>(d), bench::Sec(t[0]).c_str(),
                  bench::Sec(t[1]).c_str(), t[1] / t[0]);
    }
  }

  // 3. SDE steps.
  std::printf(
      "\n## 3. Shaped SDE (γ = 0.4, τ0 = 0.6; time per Euler–Maruyama step of one path)\n\n");
  std::printf("| m | attention | attention + MLP | no attention |\n|---:|---:|---:|---:|\n");
  for (Eigen::Index m :
       quick ? std::vector<Eigen::Index>{3, 8} : std::vector<Eigen::Index>{3, 8, 16, 32, 64}) {
    const int steps = quick ? 200 : 1000;
    double t[3];
    for (int k = 0; k < 3; ++k) {
      ShapedModel model;
      model.mlp = k == 1;
      if (k == 2) model.tau0 = std::numeric_limits<double>::infinity();
      ShapedEulerMaruyama em(model, m, 1e-4);
      const Eigen::MatrixXd V0 = SpecLikeV0(m);
      PropagationRng engine = PropagationEngine(1, 0, 0);
      t[k] = Time([&] {
               Eigen::MatrixXd V = V0;
               bool clipped = false;
               for (int s = 0; s < steps; ++s) em.Step(V, 1e12, engine, &clipped);
             }) /
             steps;
    }
    std::printf("| %ld | %s | %s | %s |\n", static_cast<long>(m), bench::Sec(t[0]).c_str(),
                bench::Sec(t[1]).c_str(), bench::Sec(t[2]).c_str());
  }

  // 4. Shaped networks.
  std::printf(
      "\n## 4. Shaped networks (γ = 0.4, τ0 = 0.6, n_k = 8; time per layer of one network)\n\n");
  std::printf("| m | n | chain | x (keeps X) | x / chain |\n|---:|---:|---:|---:|---:|\n");
  for (Eigen::Index m :
       quick ? std::vector<Eigen::Index>{3} : std::vector<Eigen::Index>{3, 8, 16}) {
    for (Eigen::Index n :
         quick ? std::vector<Eigen::Index>{64, 256} : std::vector<Eigen::Index>{64, 256, 1024}) {
      double t[2];
      for (int k = 0; k < 2; ++k) {
        ShapedNetworkOptions o;
        o.V0 = SpecLikeV0(m);
        o.width = n;
        o.sampler = k == 0 ? ShapedSampler::kChain : ShapedSampler::kX;
        const int layers = 64;
        PropagationRng engine = PropagationEngine(1, 0, 0);
        t[k] = Time([&] {
                 Eigen::MatrixXd V = o.V0;
                 for (int l = 0; l < layers; ++l) V = ShapedNetworkLayer(o, o.V0, engine);
               }) /
               layers;
      }
      std::printf("| %ld | %ld | %s | %s | %.1f |\n", static_cast<long>(m), static_cast<long>(n),
                  bench::Sec(t[0]).c_str(), bench::Sec(t[1]).c_str(), t[1] / t[0]);
    }
  }
  std::printf("\nLoad average at the end: %s.\n", bench::LoadAverage().c_str());
  return 0;
}
