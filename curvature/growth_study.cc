#include "curvature/growth_study.h"

#include <algorithm>
#include <boost/random/mersenne_twister.hpp>
#include <boost/random/normal_distribution.hpp>
#include <boost/random/uniform_int_distribution.hpp>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <sstream>

#include "kernels/error.h"

namespace attnpaths {

namespace {

const HessianPart kParts[] = {HessianPart::kOuter, HessianPart::kFunctional, HessianPart::kFull};

int PartIndex(HessianPart p) {
  return p == HessianPart::kOuter ? 0 : p == HessianPart::kFunctional ? 1 : 2;
}

// Index of a spec block (VV, QQ, KK, QK, VQ, VK).
int BlockIndex(const BlockName& b) {
  const auto& blocks = SpecBlocks();
  for (size_t i = 0; i < blocks.size(); ++i) {
    if (blocks[i].rows == b.rows && blocks[i].cols == b.cols) return static_cast<int>(i);
  }
  return -1;
}

// Least squares of y on x with weights w: slope, its standard error, RMS residual.
struct LineFit {
  double slope = 0, slope_error = 0, rms = 0;
};

LineFit FitLine(const std::vector<double>& x, const std::vector<double>& y,
                const std::vector<double>& w) {
  const auto n = static_cast<double>(x.size());
  double sw = 0, sx = 0, sy = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    sw += w[i];
    sx += w[i] * x[i];
    sy += w[i] * y[i];
  }
  const double mx = sx / sw, my = sy / sw;
  double sxx = 0, sxy = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    sxx += w[i] * (x[i] - mx) * (x[i] - mx);
    sxy += w[i] * (x[i] - mx) * (y[i] - my);
  }
  LineFit f;
  f.slope = sxy / sxx;
  double ssr = 0, wssr = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double r = y[i] - (my + f.slope * (x[i] - mx));
    ssr += r * r;
    wssr += w[i] * r * r;
  }
  f.rms = std::sqrt(ssr / n);
  // OLS (unit weights): s² = SSR/(n−2); with inverse-variance weights the
  // scale is known and the error is 1/√Sxx.
  const bool unit = std::all_of(w.begin(), w.end(), [](double v) { return v == 1.0; });
  if (unit) {
    f.slope_error = x.size() > 2 ? std::sqrt(wssr / (n - 2) / sxx) : 0.0;
  } else {
    f.slope_error = std::sqrt(1.0 / sxx);
  }
  return f;
}

}  // namespace

const char* NormMethodName(NormMethod m) {
  return m == NormMethod::kExact ? "exact" : "hutchinson";
}

NormMethod ParseNormMethod(const std::string& text, const std::string& field) {
  if (text == "exact") return NormMethod::kExact;
  if (text == "hutchinson") return NormMethod::kHutchinson;
  throw Error(ErrorMessage(field, "\"" + text + "\"", "one of exact, hutchinson"));
}

std::vector<double> GrowthStudyOptions::DefaultSigmas() {
  std::vector<double> s;
  for (int i = 0; i < 20; ++i) s.push_back(0.01 * std::pow(1000.0, i / 19.0));
  return s;
}

bool GrowthStudyOptions::IsValid(std::string* error) const {
  auto fail = [&](const std::string& field, const std::string& found, const std::string& want) {
    if (error) *error = ErrorMessage(field, found, want);
    return false;
  };
  if (sigmas.size() < 2) return fail("hessian.sigma points", ToText(sigmas.size()), "at least 2");
  for (size_t i = 0; i < sigmas.size(); ++i) {
    if (!(sigmas[i] > 0) || !std::isfinite(sigmas[i])) {
      return fail("hessian.sigma[" + std::to_string(i) + "]", ToText(sigmas[i]),
                  "a finite value > 0");
    }
    if (i > 0 && !(sigmas[i] > sigmas[i - 1])) {
      return fail("hessian.sigma[" + std::to_string(i) + "]", ToText(sigmas[i]),
                  "an ascending grid (above " + ToText(sigmas[i - 1]) + ")");
    }
  }
  if (fit_hi > 0) {
    if (!(fit_lo < fit_hi)) {
      return fail("hessian.fit_range", "[" + ToText(fit_lo) + ", " + ToText(fit_hi) + "]",
                  "lo < hi");
    }
    int inside = 0;
    for (double s : sigmas) inside += s >= fit_lo && s <= fit_hi;
    if (inside < 2) {
      return fail("hessian.fit_range",
                  "[" + ToText(fit_lo) + ", " + ToText(fit_hi) + "] with " + ToText(inside) +
                      " grid points",
                  "a range holding at least 2 σ of the grid");
    }
  } else if (fit_points < 2 || fit_points > static_cast<int>(sigmas.size())) {
    return fail("hessian.fit_points", ToText(fit_points),
                "2 … " + ToText(sigmas.size()) + " (points of the σ grid)");
  }
  if (repeats < 1) return fail("hessian.repeats", ToText(repeats), "a value >= 1");
  if (norms == NormMethod::kHutchinson && !hutchinson.IsValid(error)) {
    if (error) *error = "hessian." + *error;
    return false;
  }
  return true;
}

namespace {

// The full block's exponent is the smaller of its parts' (a part identically
// zero — NaN — does not count).
double PartExponent(double outer, double functional, HessianPart part) {
  switch (part) {
    case HessianPart::kOuter:
      return outer;
    case HessianPart::kFunctional:
      return functional;
    case HessianPart::kFull:
      return std::isnan(functional) ? outer : std::min(outer, functional);
  }
  return std::numeric_limits<double>::quiet_NaN();
}

}  // namespace

double PredictedGrowthExponent(const std::string& name, HessianPart part, AttentionKind attention) {
  // Small-σ power counting with X = σ X_0, O(1) weights and targets: Λ ∝ σ²,
  // Z, X, Q̃, K̃ ∝ σ; softmax A → uniform, so A, E/σ, Bx/σ, Φ/σ, Ψ/σ = O(1)
  // and R → −Y = O(1) — the network's layer ℓ = 1 below; linear A = Λ ∝ σ²,
  // F ∝ σ³ (docs/attention-hessian.md).
  if (attention == AttentionKind::kSoftmax) return NetworkPredictedGrowthExponent(name, part, 1);
  const double functional =
      name == "QK" || name == "VQ" || name == "VK" ? 3 : std::numeric_limits<double>::quiet_NaN();
  return PartExponent(6, functional, part);
}

double NetworkPredictedGrowthExponent(const std::string& kind, HessianPart part, int layer) {
  const double l = std::max(layer, 1);
  double outer = 0, functional = std::numeric_limits<double>::quiet_NaN();
  if (kind == "VV") outer = 2;
  if (kind == "QQ" || kind == "KK" || kind == "QK") outer = 4 * l + 2;
  if (kind == "VQ" || kind == "VK") outer = 2 * l + 2;
  if (kind == "QQ" || kind == "KK") functional = 2 * l + 3;
  if (kind == "QK" || kind == "VQ" || kind == "VK") functional = 2 * l + 1;
  return PartExponent(outer, functional, part);
}

std::vector<BlockNorm> BlockNorms(const AttentionHessian& hessian, NormMethod method,
                                  const HutchinsonOptions& hutchinson) {
  std::vector<BlockNorm> out;
  if (method == NormMethod::kExact) {
    for (const BlockName& b : SpecBlocks()) {
      const Eigen::MatrixXd o = hessian.Block(b.rows, b.cols, HessianPart::kOuter);
      const Eigen::MatrixXd f = hessian.Block(b.rows, b.cols, HessianPart::kFunctional);
      out.push_back({0, 0, b.name(), b.name(), 0, HessianPart::kOuter, o.norm(), 0});
      out.push_back({0, 0, b.name(), b.name(), 0, HessianPart::kFunctional, f.norm(), 0});
      out.push_back({0, 0, b.name(), b.name(), 0, HessianPart::kFull, (o + f).norm(), 0});
    }
    return out;
  }
  // Hutchinson (spec §C.2): probes on the column group of a block, rows of
  // the row group kept; one set of probes per column group serves every block
  // of that column and all three parts (full = outer + functional products).
  std::string error;
  if (!hutchinson.IsValid(&error)) throw Error(error);
  const Eigen::Index n = hessian.num_parameters();
  const int N = hutchinson.probes;
  // samples[block][part][probe]
  std::map<int, std::vector<std::vector<double>>> samples;
  boost::random::mt19937 engine(
      static_cast<std::uint32_t>(hutchinson.seed ^ (hutchinson.seed >> 32)));
  boost::random::normal_distribution<double> normal;
  boost::random::uniform_int_distribution<int> coin(0, 1);
  for (WeightGroup col : {WeightGroup::kV, WeightGroup::kQ, WeightGroup::kK}) {
    for (int p = 0; p < N; ++p) {
      Eigen::VectorXd v = Eigen::VectorXd::Zero(n);
      for (Eigen::Index i = 0; i < hessian.size(col); ++i) {
        v(hessian.offset(col) + i) = hutchinson.distribution == ProbeDistribution::kRademacher
                                         ? (coin(engine) ? 1.0 : -1.0)
                                         : normal(engine);
      }
      const Eigen::VectorXd o = hessian.Apply(v, HessianPart::kOuter);
      const Eigen::VectorXd f = hessian.Apply(v, HessianPart::kFunctional);
      for (const BlockName& b : SpecBlocks()) {
        if (b.cols != col) continue;
        auto& s = samples[BlockIndex(b)];
        s.resize(3);
        const Eigen::Index r0 = hessian.offset(b.rows), rn = hessian.size(b.rows);
        s[0].push_back(o.segment(r0, rn).squaredNorm());
        s[1].push_back(f.segment(r0, rn).squaredNorm());
        s[2].push_back((o + f).segment(r0, rn).squaredNorm());
      }
    }
  }
  for (const BlockName& b : SpecBlocks()) {
    const auto& s = samples[BlockIndex(b)];
    for (HessianPart part : kParts) {
      const std::vector<double>& x = s[static_cast<size_t>(PartIndex(part))];
      double mean = 0, var = 0;
      for (double v : x) mean += v;
      mean /= N;
      for (double v : x) var += (v - mean) * (v - mean);
      var /= (N - 1);
      const double norm = std::sqrt(std::max(mean, 0.0));
      const double se2 = std::sqrt(var / N);
      out.push_back({0, 0, b.name(), b.name(), 0, part, norm, norm > 0 ? se2 / (2 * norm) : 0.0});
    }
  }
  return out;
}

std::vector<int> FitIndices(const GrowthStudyOptions& options) {
  std::vector<int> fit;
  for (int i = 0; i < static_cast<int>(options.sigmas.size()); ++i) {
    const double s = options.sigmas[static_cast<size_t>(i)];
    if (options.fit_hi > 0 ? (s >= options.fit_lo && s <= options.fit_hi)
                           : i < options.fit_points) {
      fit.push_back(i);
    }
  }
  return fit;
}

std::vector<SlopeFit> FitGrowthSlopes(const std::vector<double>& sigmas,
                                      const std::vector<int>& fit,
                                      const std::vector<BlockSeries>& series, NormMethod norms,
                                      AttentionKind attention) {
  const auto S = static_cast<int>(sigmas.size());
  std::vector<SlopeFit> slopes;
  for (const BlockSeries& b : series) {
    const Eigen::MatrixXd& N = b.norms;
    const auto R = static_cast<int>(N.rows());
    SlopeFit f;
    f.block = b.block;
    f.kind = b.kind;
    f.part = b.part;
    f.layer = std::max(b.layer, 0);
    f.predicted = b.layer < 0 ? PredictedGrowthExponent(b.kind, b.part, attention)
                              : NetworkPredictedGrowthExponent(b.kind, b.part, b.layer);
    f.zero = N.cwiseAbs().maxCoeff() == 0.0;
    f.slopes = Eigen::VectorXd::Zero(R);
    f.slope_errors = Eigen::VectorXd::Zero(R);
    f.fit_residuals = Eigen::VectorXd::Zero(R);
    f.local_sigmas.resize(S - 1);
    f.local_slopes = Eigen::VectorXd::Zero(S - 1);
    for (int i = 0; i + 1 < S; ++i) {
      f.local_sigmas(i) =
          std::sqrt(sigmas[static_cast<size_t>(i)] * sigmas[static_cast<size_t>(i + 1)]);
    }
    if (!f.zero) {
      for (int r = 0; r < R; ++r) {
        std::vector<double> x, y, w;
        for (int i : fit) {
          const double v = N(r, i);
          Require(v > 0, "norm of block " + b.block + " (" + HessianPartName(b.part) + ")", v,
                  "a positive norm on the fit range (a block zero on one repeat only)");
          x.push_back(std::log(sigmas[static_cast<size_t>(i)]));
          y.push_back(std::log(v));
          // With Hutchinson norms: inverse-variance weights, var(ln‖M‖) ≈ (s.e./‖M‖)².
          const double rel = b.errors.size() > 0 ? b.errors(r, i) / v : 0.0;
          w.push_back(norms == NormMethod::kHutchinson && rel > 0 ? 1.0 / (rel * rel) : 1.0);
        }
        const LineFit line = FitLine(x, y, w);
        f.slopes(r) = line.slope;
        f.slope_errors(r) = line.slope_error;
        f.fit_residuals(r) = line.rms;
        for (int i = 0; i + 1 < S; ++i) {
          const double s0 = sigmas[static_cast<size_t>(i)], s1 = sigmas[static_cast<size_t>(i + 1)];
          if (N(r, i) > 0 && N(r, i + 1) > 0) {
            f.local_slopes(i) += std::log(N(r, i + 1) / N(r, i)) / std::log(s1 / s0) / R;
          }
        }
      }
      f.mean = f.slopes.mean();
      f.spread = R > 1 ? std::sqrt((f.slopes.array() - f.mean).square().sum() / (R - 1)) : 0.0;
      f.standard_error = f.spread / std::sqrt(static_cast<double>(R));
    }
    slopes.push_back(std::move(f));
  }
  return slopes;
}

void SweepGrowth(const GrowthStudyOptions& options, std::vector<BlockSeries> series,
                 const std::function<GrowthPoint(int repeat)>& repeat, GrowthStudy* study) {
  const auto start = std::chrono::steady_clock::now();
  std::string error;
  if (!options.IsValid(&error)) throw Error(error);
  study->sigmas = options.sigmas;
  study->norms = options.norms;
  const auto S = static_cast<int>(options.sigmas.size());
  const std::vector<int> fit = FitIndices(options);
  study->fit_lo = options.sigmas[static_cast<size_t>(fit.front())];
  study->fit_hi = options.sigmas[static_cast<size_t>(fit.back())];
  study->fit_count = static_cast<int>(fit.size());
  for (BlockSeries& bs : series) {
    bs.norms = Eigen::MatrixXd::Zero(options.repeats, S);
    bs.errors = Eigen::MatrixXd::Zero(options.repeats, S);
  }
  for (int r = 0; r < options.repeats; ++r) {
    const GrowthPoint at = repeat(r);
    for (int i = 0; i < S; ++i) {
      const double sigma = options.sigmas[static_cast<size_t>(i)];
      HutchinsonOptions h = options.hutchinson;
      h.seed = options.hutchinson.seed + 1000003ULL * static_cast<std::uint64_t>(r) +
               static_cast<std::uint64_t>(i);
      const std::vector<BlockNorm> norms = at(sigma, h);
      for (size_t k = 0; k < norms.size(); ++k) {
        BlockNorm bn = norms[k];
        series[k].norms(r, i) = bn.norm;
        series[k].errors(r, i) = bn.standard_error;
        bn.sigma = sigma;
        bn.repeat = r;
        study->norms_table.push_back(std::move(bn));
      }
    }
    if (options.progress) {
      GrowthProgress g;
      g.repeat = r;
      g.repeats = options.repeats;
      g.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      options.progress(g);
    }
  }
  study->slopes = FitGrowthSlopes(options.sigmas, fit, series, options.norms, study->attention);
  study->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

GrowthStudy RunGrowthStudy(const std::function<GrowthSample(int repeat)>& sample,
                           const GrowthStudyOptions& options) {
  GrowthStudy study;
  // One series per block and part, in the order of BlockNorms.
  std::vector<BlockSeries> series;
  for (const BlockName& b : SpecBlocks()) {
    for (HessianPart part : kParts) {
      BlockSeries bs;
      bs.block = bs.kind = b.name();
      bs.part = part;
      series.push_back(std::move(bs));
    }
  }
  SweepGrowth(
      options, std::move(series),
      [&](int r) -> GrowthPoint {
        auto base = std::make_shared<const GrowthSample>(sample(r));
        base->data.Validate();
        if (r == 0) {
          study.attention = base->data.attention;
          study.causal = base->data.causal;
        }
        Require(base->data.attention == study.attention && base->data.causal == study.causal,
                "repeat " + std::to_string(r) + " attention",
                AttentionKindName(base->data.attention),
                std::string("the attention kind and mask of repeat 0"));
        return [base, &options](double sigma, const HutchinsonOptions& h) {
          AttentionLayerData data = base->data;
          for (auto& X : data.X) X *= sigma;  // X = σ X_0, Y and the weights fixed
          const AttentionHessian hessian(data, base->weights);
          return BlockNorms(hessian, options.norms, h);
        };
      },
      &study);
  return study;
}

std::string GrowthStudy::BriefReport() const {
  std::ostringstream s;
  s << "growth study: " << AttentionKindName(attention) << (causal ? " causal" : "") << ", "
    << sigmas.size() << " sigma from " << sigmas.front() << " to " << sigmas.back()
    << ", slopes over sigma in [" << fit_lo << ", " << fit_hi << "] (" << fit_count << " points), "
    << NormMethodName(norms) << " norms, " << seconds << " s\n";
  for (const SlopeFit& f : slopes) {
    s << "  " << f.block << " " << HessianPartName(f.part) << ": ";
    if (f.zero) {
      s << "identically zero\n";
      continue;
    }
    s << f.mean << " ± " << f.standard_error << " (spread " << f.spread << ")";
    if (!std::isnan(f.predicted)) s << ", predicted " << f.predicted;
    s << "\n";
  }
  return s.str();
}

}  // namespace attnpaths
