#include "propagation/finite_width.h"

#include <Eigen/Eigenvalues>
#include <Eigen/QR>
#include <chrono>
#include <cmath>

#include "kernels/error.h"
#include "propagation/parallel.h"
#include "propagation/tat.h"

namespace attnpaths {

namespace {

Eigen::MatrixXd Gaussian(Eigen::Index rows, Eigen::Index cols, double scale,
                         PropagationRng& engine) {
  Eigen::MatrixXd g(rows, cols);
  for (Eigen::Index j = 0; j < cols; ++j) {
    for (Eigen::Index i = 0; i < rows; ++i) g(i, j) = scale * PropagationNormal(engine);
  }
  return g;
}

// A root R of Σ (R Rᵀ = Σ): Cholesky, or the eigenvector form with clipped
// eigenvalues for a semi-definite Σ.
Eigen::MatrixXd Root(const Eigen::Ref<const Eigen::MatrixXd>& sigma) {
  Eigen::LLT<Eigen::MatrixXd> llt(sigma);
  if (llt.info() == Eigen::Success) return llt.matrixL();
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(sigma);
  return eig.eigenvectors() * eig.eigenvalues().cwiseMax(0.0).cwiseSqrt().asDiagonal();
}

void Activate(Eigen::MatrixXd* x, double alpha) {
  *x = x->unaryExpr([alpha](double v) { return TatActivation(v, alpha); });
}

MeanSe Aggregate(const std::vector<double>& v) {
  MeanSe r;
  const double n = static_cast<double>(v.size());
  for (double x : v) r.mean += x;
  r.mean /= n;
  double ss = 0;
  for (double x : v) ss += (x - r.mean) * (x - r.mean);
  r.se = v.size() > 1 ? std::sqrt(ss / (n - 1) / n) : 0.0;
  return r;
}

}  // namespace

const char* ValueWeightsName(ValueWeights v) {
  return v == ValueWeights::kOrthogonal ? "orthogonal" : "gaussian";
}

ValueWeights ParseValueWeights(const std::string& text, const std::string& field) {
  if (text == "orthogonal") return ValueWeights::kOrthogonal;
  if (text == "gaussian") return ValueWeights::kGaussian;
  throw Error(ErrorMessage(field, "\"" + text + "\"", "orthogonal or gaussian"));
}

bool FiniteWidthOptions::IsValid(Eigen::Index tokens, std::string* error) const {
  auto fail = [&](const std::string& field, const std::string& found, const std::string& want) {
    if (error) *error = ErrorMessage(field, found, want);
    return false;
  };
  if (widths.empty()) return fail("finite_width.widths", "nothing", "at least one width");
  for (size_t i = 0; i < widths.size(); ++i) {
    if (widths[i] < tokens) {
      return fail("finite_width.widths[" + std::to_string(i) + "]", ToText(widths[i]),
                  "a width >= tokens = " + std::to_string(tokens) +
                      " (X_0 X_0^T / d must equal the input kernel)");
    }
  }
  if (draws < 2) return fail("finite_width.draws", ToText(draws), "at least 2 networks per width");
  return true;
}

Eigen::MatrixXd HaarOrthogonal(Eigen::Index d, PropagationRng& engine) {
  Eigen::HouseholderQR<Eigen::MatrixXd> qr(Gaussian(d, d, 1.0, engine));
  Eigen::MatrixXd Q = qr.householderQ();
  const Eigen::MatrixXd& R = qr.matrixQR();
  for (Eigen::Index j = 0; j < d; ++j) {
    if (R(j, j) < 0) Q.col(j) *= -1;
  }
  return Q;
}

std::vector<Eigen::MatrixXd> SimulateNetworkKernels(const std::vector<Eigen::MatrixXd>& attention,
                                                    const Eigen::Ref<const Eigen::MatrixXd>& sigma0,
                                                    MlpKind mlp, double alpha,
                                                    int activations_per_block, Eigen::Index width,
                                                    ValueWeights values, PropagationRng& engine) {
  const Eigen::Index m = sigma0.rows(), d = width;
  Require(d >= m, "width", d, "a width >= tokens = " + std::to_string(m));
  const double dd = static_cast<double>(d), s = 1 / std::sqrt(dd);
  Eigen::MatrixXd X = Eigen::MatrixXd::Zero(m, d);
  X.leftCols(m) = std::sqrt(dd) * Root(sigma0);
  std::vector<Eigen::MatrixXd> kernels{X * X.transpose() / dd};
  for (const Eigen::MatrixXd& A : attention) {
    if (values == ValueWeights::kOrthogonal) {
      X = (A * X) * HaarOrthogonal(d, engine);
    } else {
      const Eigen::MatrixXd WV = Gaussian(d, d, s, engine), WP = Gaussian(d, d, s, engine);
      X = ((A * X) * WV) * WP;
    }
    if (mlp == MlpKind::kTat) {
      X = X * Gaussian(d, d, s, engine);
      Activate(&X, alpha);
      X = X * Gaussian(d, d, s, engine);
      if (activations_per_block == 2) Activate(&X, alpha);
    }
    kernels.push_back(X * X.transpose() / dd);
  }
  return kernels;
}

FiniteWidthStudy SimulateFiniteWidth(const KernelPropOptions& kp, const KernelPropagation& prop,
                                     const FiniteWidthOptions& fw) {
  const auto t0 = std::chrono::steady_clock::now();
  std::string error;
  if (!kp.IsValid(&error) || !fw.IsValid(kp.tokens, &error)) throw Error(error);
  std::vector<Eigen::MatrixXd> attention;
  for (const AttentionDecomposition& a : prop.attention) attention.push_back(a.A);
  const Eigen::MatrixXd& sigma0 = prop.kernels.front();
  const int L = static_cast<int>(attention.size());
  std::vector<Eigen::MatrixXd> rec_corr;
  for (const Eigen::MatrixXd& k : prop.kernels) rec_corr.push_back(CorrelationMatrix(k));

  FiniteWidthStudy study;
  const int total = static_cast<int>(fw.widths.size()) * fw.draws;
  int done_before = 0;
  for (size_t w = 0; w < fw.widths.size(); ++w) {
    const auto tw = std::chrono::steady_clock::now();
    const Eigen::Index d = fw.widths[w];
    std::vector<std::vector<Eigen::MatrixXd>> draws(static_cast<size_t>(fw.draws));
    ParallelFor(
        fw.draws, fw.threads,
        [&](Eigen::Index k) {
          PropagationRng engine = PropagationEngine(fw.seed, w, static_cast<std::uint64_t>(k));
          draws[static_cast<size_t>(k)] =
              SimulateNetworkKernels(attention, sigma0, kp.mlp, prop.summary.tat_alpha,
                                     kp.activations_per_block, d, fw.values, engine);
        },
        [&](Eigen::Index done) {
          if (!fw.progress) return;
          FiniteWidthProgress p;
          p.width = d;
          p.draws_done = done_before + static_cast<int>(done);
          p.draws_total = total;
          p.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
          fw.progress(p);
        });
    done_before += fw.draws;
    FiniteWidthRun run;
    run.width = d;
    for (int l = 0; l <= L; ++l) {
      const size_t li = static_cast<size_t>(l);
      std::vector<double> mc, mn, er, r1, me, dev, tr;
      Eigen::MatrixXd mean_k = Eigen::MatrixXd::Zero(kp.tokens, kp.tokens);
      Eigen::MatrixXd mean_c = mean_k;
      for (const auto& draw : draws) {
        const Eigen::MatrixXd& k = draw[li];
        const KernelMetrics km = ComputeKernelMetrics(k);
        const Eigen::MatrixXd c = CorrelationMatrix(k);
        mc.push_back(km.mean_correlation);
        mn.push_back(km.min_correlation);
        er.push_back(km.effective_rank);
        r1.push_back(km.rank_one_distance);
        me.push_back(km.min_eigenvalue);
        dev.push_back((c - rec_corr[li]).cwiseAbs().maxCoeff());
        tr.push_back(k.trace() / prop.kernels[li].trace() - 1);
        mean_k += k;
        mean_c += c;
      }
      FiniteWidthLayer fl;
      fl.mean_correlation = Aggregate(mc);
      fl.min_correlation = Aggregate(mn);
      fl.effective_rank = Aggregate(er);
      fl.rank_one_distance = Aggregate(r1);
      fl.min_eigenvalue = Aggregate(me);
      fl.max_correlation_deviation = Aggregate(dev);
      fl.trace_ratio_minus_one = Aggregate(tr);
      run.layers.push_back(fl);
      run.mean_kernels.push_back(mean_k / fw.draws);
      run.mean_correlations.push_back(mean_c / fw.draws);
    }
    run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - tw).count();
    study.widths.push_back(std::move(run));
  }
  study.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return study;
}

}  // namespace attnpaths
