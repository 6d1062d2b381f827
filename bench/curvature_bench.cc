// curvature_bench — the cost of one Hessian–vector product and of the
// explicit Hessian (issue 17, "Bench"), printed as Markdown.
//
//   ./curvature_bench            # every table (a few minutes on a loaded 2-core machine)
//   ./curvature_bench --quick    # smaller sizes
//
// 1. The single self-attention layer (curvature/attention_hessian.h) on B
//    Gaussian sequences: one matrix-free product H v (full; outer and
//    functional alike), the dense H from the closed-form blocks, and the dense
//    H by n_p matrix-free products, against tokens m, width D (= k) and batch.
// 2. The trainer's one-layer network (curvature/network_hessian.h) against
//    the number of heads H at fixed per-head widths: one product H v (four
//    gradients, Richardson finite differences), the Gauss–Newton product, and
//    the dense H (n_p products).
// Times are the median over repetitions (at least 3, at least ~0.2 s per
// cell); the header prints the load average, since the machine is shared.
#include <Eigen/Core>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "curvature/attention_hessian.h"
#include "curvature/network_hessian.h"
#include "data/attention_tasks.h"
#include "data/tokenized_mixture.h"
#include "network/network.h"

namespace {

using attnpaths::bench::Clock;
using attnpaths::bench::LoadAverage;
using attnpaths::bench::Sec;

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Median seconds of f over >= 3 repetitions and >= min_seconds in total.
double Time(const std::function<void()>& f, double min_seconds = 0.2) {
  std::vector<double> t;
  double total = 0;
  while (t.size() < 3 || (total < min_seconds && t.size() < 1000)) {
    const auto start = Clock::now();
    f();
    const double s = std::chrono::duration<double>(Clock::now() - start).count();
    t.push_back(s);
    total += s;
  }
  return Median(t);
}

void SingleLayerRow(Eigen::Index B, Eigen::Index m, Eigen::Index D, bool dense_by_products) {
  attnpaths::AttentionTaskOptions task;
  task.kind = attnpaths::AttentionTaskKind::kGaussian;
  task.sequences = B;
  task.tokens = m;
  task.features = D;
  const attnpaths::AttentionTask t = attnpaths::GenerateAttentionTask(task);
  attnpaths::AttentionLayerData data;
  data.X = t.X;
  data.Y = t.Y;
  const attnpaths::AttentionLayerWeights w = attnpaths::RandomAttentionWeights(D, D, 2);
  const attnpaths::AttentionHessian h(data, w);
  const Eigen::Index n = h.num_parameters();
  const Eigen::VectorXd v = Eigen::VectorXd::Random(n);
  Eigen::VectorXd out;
  const double hvp = Time([&] { out = h.Apply(v, attnpaths::HessianPart::kFull); });
  const double hvp_outer = Time([&] { out = h.Apply(v, attnpaths::HessianPart::kOuter); });
  Eigen::MatrixXd H;
  const double dense = Time([&] { H = h.Dense(attnpaths::HessianPart::kFull); }, 0.0);
  std::string by_products = "—";
  if (dense_by_products) {
    const double s = Time(
        [&] {
          Eigen::MatrixXd M(n, n);
          Eigen::VectorXd e = Eigen::VectorXd::Zero(n);
          for (Eigen::Index j = 0; j < n; ++j) {
            e(j) = 1;
            M.col(j) = h.Apply(e, attnpaths::HessianPart::kFull);
            e(j) = 0;
          }
        },
        0.0);
    by_products = Sec(s);
  }
  std::printf("| %ld | %ld | %ld | %ld | %s | %s | %s | %s | %.1f |\n", static_cast<long>(B),
              static_cast<long>(m), static_cast<long>(D), static_cast<long>(n), Sec(hvp).c_str(),
              Sec(hvp_outer).c_str(), Sec(dense).c_str(), by_products.c_str(), dense / hvp);
}

void NetworkRow(Eigen::Index heads, Eigen::Index P, bool dense) {
  attnpaths::TokenizedMixtureOptions mix;
  mix.examples = P;
  mix.tokens = 8;
  mix.features = 16;
  const attnpaths::TokenizedMixture d = attnpaths::GenerateTokenizedMixture(mix);
  attnpaths::NetworkShape shape;
  shape.N0 = 16;
  shape.n_tok = 8;
  shape.heads = {heads};
  shape.widths = {16, 4};
  shape.key_dim = 4;
  shape.readout = attnpaths::Readout::kFirst;
  shape.head_scaling = attnpaths::HeadScaling::kMean;
  attnpaths::Network net(shape);
  attnpaths::InitializeNetwork(1.0, 0.1, 3, &net);
  const attnpaths::NetworkHessian h(net, d.x, d.y, attnpaths::LossKind::kLogistic, 0, 1);
  const Eigen::Index n = h.num_parameters();
  const Eigen::VectorXd v = Eigen::VectorXd::Random(n);
  Eigen::VectorXd out;
  const double hvp = Time([&] { out = h.Apply(v, attnpaths::HessianPart::kFull); });
  const double gn = Time([&] { out = h.Apply(v, attnpaths::HessianPart::kOuter); });
  std::string dense_time = "—";
  double ratio = 0;
  if (dense) {
    const double s = Time([&] { (void)h.Dense(attnpaths::HessianPart::kFull); }, 0.0);
    dense_time = Sec(s);
    ratio = s / hvp;
  }
  std::printf("| %ld | %ld | %ld | %s | %s | %s | %.0f |\n", static_cast<long>(heads),
              static_cast<long>(P), static_cast<long>(n), Sec(hvp).c_str(), Sec(gn).c_str(),
              dense_time.c_str(), ratio);
}

}  // namespace

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  std::printf(
      "# curvature_bench\n\nload average %s (1, 5, 15 min) at the start; single-threaded.\n\n",
      LoadAverage().c_str());
  std::printf(
      "## 1. Single self-attention layer (Gaussian X, Y; k = D; n_p = 2D² + D²)\n\n"
      "*HVP* is one matrix-free H v (C.1), *HVP outer* H_o v; *dense* the whole H from the\n"
      "closed-form blocks; *dense by HVPs* n_p products; *dense/HVP* the ratio of the first "
      "two.\n\n"
      "| B | m | D | n_p | HVP | HVP outer | dense | dense by HVPs | dense/HVP |\n"
      "|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  const Eigen::Index B = quick ? 8 : 64;
  for (Eigen::Index m : {6, 12, 18, 36}) SingleLayerRow(B, m, 16, m == 18);
  for (Eigen::Index D : {4, 8, 32}) SingleLayerRow(B, 18, D, D <= 8);
  if (!quick) SingleLayerRow(B, 18, 64, false);
  for (Eigen::Index b : {16, 256}) SingleLayerRow(b, 18, 16, false);
  std::printf(
      "\n## 2. The trainer's one-layer network (tokenised mixture, n_tok = 8, N0 = 16, d = 4,\n"
      "n_1 = 16, n_2 = 4, logistic loss, P examples)\n\n"
      "*HVP* is one H v by Richardson central differences of the analytic gradient (four\n"
      "gradients), *GN* the Gauss–Newton product from the output Jacobian, *dense* n_p "
      "products.\n\n"
      "| heads | P | n_p | HVP | GN product | dense | dense/HVP |\n"
      "|---:|---:|---:|---:|---:|---:|---:|\n");
  for (Eigen::Index H : {1, 2, 4, 8, 16}) NetworkRow(H, quick ? 32 : 128, H <= 4);
  std::printf("\nload average %s at the end.\n", LoadAverage().c_str());
  return 0;
}
