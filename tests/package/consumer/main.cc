// Uses the installed headers (<attnpaths/...>) and libraries of every module.
// Checks a fact that does not depend on this code: at T → 0 the GP-limit
// predictor interpolates its training labels when the kernel has full rank
// (one uniform head: ξ_μ = σ_0/√N0 · mean over tokens of x_μ, P < N0), with a
// vanishing predictive variance there; and an NPY round trip is exact.
#include <attnpaths/data/npy.h>
#include <attnpaths/kernels/path_inputs.h>
#include <attnpaths/kernels/path_kernel.h>
#include <attnpaths/sampler/sample.h>
#include <attnpaths/solver/predictor.h>
#include <attnpaths/solver/solve.h>
#include <attnpaths/trainer/train.h>

#include <cmath>
#include <cstdio>
#include <random>
#include <string>

int main(int argc, char** argv) {
  using namespace attnpaths;
  const Eigen::Index P = 10, n_tok = 3, N0 = 16;
  Inputs x(P, n_tok, N0);
  std::mt19937_64 engine(5);  // generic inputs: the P mean tokens are linearly independent
  for (double& v : x.values()) v = double(engine() >> 11) / double(1ull << 53) - 0.5;
  Eigen::MatrixXd y(P, 1);
  for (Eigen::Index mu = 0; mu < P; ++mu) y(mu, 0) = mu % 2 == 0 ? 1.0 : -1.0;

  Architecture arch;
  HeadSpec uniform;
  uniform.name = "uniform";
  uniform.kind = HeadKind::kUniform;
  arch.layers = {{uniform}};
  arch.SetUniform(50);
  const PathKernel kernel(ComputePathInputs(arch, x, Split::kTrain, 1));
  const PathInputs same = ComputePathInputs(arch, x, Split::kTest, 1);
  const PredictorStatistics gp = Predict(kernel, y, 1e-10, GpLimit(arch).U[0], same, &y);
  const double mean_error = (gp.mean - y).cwiseAbs().maxCoeff();
  const double variance = gp.variance.cwiseAbs().maxCoeff();

  const Action action(arch, kernel, y, 0.01);
  SolveSummary summary;
  Solve(action, SolveOptions{}, &summary);

  const std::string file = argc > 1 ? std::string(argv[1]) : std::string("consumer_y.npy");
  WriteNpy(file, Eigen::Ref<const Eigen::MatrixXd>(y));
  const Eigen::MatrixXd back = NpyToMatrix(ReadNpy(file), file);

  std::string why;
  const bool options_ok = SampleOptions{}.IsValid(&why) && TrainOptions{}.IsValid(&why);
  std::printf("max |f - y| = %.3g, max variance = %.3g, solve: %s, npy round trip: %s\n",
              mean_error, variance, summary.BriefReport().c_str(), back == y ? "exact" : "DIFFERS");
  const bool ok =
      mean_error < 1e-5 && variance < 1e-5 && summary.converged() && back == y && options_ok;
  std::puts(ok ? "consumer: ok" : "consumer: FAILED");
  return ok ? 0 : 1;
}
