#include "data/hmm.h"

#include <boost/random/mersenne_twister.hpp>
#include <boost/random/normal_distribution.hpp>
#include <boost/random/uniform_01.hpp>
#include <cmath>

#include "data/size_limit.h"
#include "kernels/error.h"

namespace attnpaths {

void HmmTaskOptions::Validate() const {
  ValidateParameters();
  // P·n_tok·N0 with n_tok = chain_tokens + 1, N0 = N_f + n_tok.
  const double n_tok = static_cast<double>(chain_tokens) + 1;
  RequireGeneratedSize("hmm.P", "P*n_tok*N0",
                       {static_cast<double>(P), n_tok, static_cast<double>(N_f) + n_tok});
}

void HmmTaskOptions::ValidateParameters() const {
  Require(P >= 1, "hmm.P", P, "at least 1 example");
  Require(chain_tokens >= 1, "hmm.chain_tokens", chain_tokens, "at least 1 token");
  Require(N_f >= 2 && N_f % 2 == 0, "hmm.N_f", N_f, "an even number >= 2");
  Require(stay_plus >= 0 && stay_plus <= 1, "hmm.stay_plus", stay_plus, "a probability in [0, 1]");
  Require(stay_minus >= 0 && stay_minus <= 1, "hmm.stay_minus", stay_minus,
          "a probability in [0, 1]");
  Require(std::isfinite(noise_sum) && noise_sum >= 0, "hmm.noise[0]", noise_sum, "a std >= 0");
  Require(std::isfinite(noise_difference) && noise_difference >= 0, "hmm.noise[1]",
          noise_difference, "a std >= 0");
  Require(std::isfinite(noise_orthogonal) && noise_orthogonal >= 0, "hmm.noise[2]",
          noise_orthogonal, "a std >= 0");
}

Eigen::VectorXd HmmStateVector(Eigen::Index N_f, int state) {
  Eigen::VectorXd v = Eigen::VectorXd::Zero(N_f);
  const Eigen::Index half = N_f / 2;
  if (state > 0) {
    v.head(half).setConstant(std::sqrt(2.0));
  } else {
    v.tail(N_f - half).setConstant(std::sqrt(2.0));
  }
  return v;
}

// The random stream of the task: examples in order, each drawing its initial
// state, its T − 1 switches and its T·N_f Gaussian features from one engine.
struct HmmExamples::Stream {
  explicit Stream(const HmmTaskOptions& o)
      : rng(o.seed),
        v_plus(HmmStateVector(o.N_f, +1)),
        v_minus(HmmStateVector(o.N_f, -1)),
        e_sum((v_plus + v_minus).normalized()),
        e_diff((v_plus - v_minus).normalized()),
        g(o.N_f),
        orth(o.N_f) {}

  // Writes example `next` (label from its index among P) into x (N0 × n_tok,
  // zeroed here first) and advances.
  double Generate(const HmmTaskOptions& o, Eigen::Map<Eigen::MatrixXd> x) {
    const Eigen::Index T = o.chain_tokens;
    const double label = HmmLabel(o, next);
    const double stay = label > 0 ? o.stay_plus : o.stay_minus;
    x.setZero();
    x(o.N_f, 0) = 1.0;  // BOS: zero features, position 0
    int state = uniform(rng) >= 0.5 ? +1 : -1;
    for (Eigen::Index t = 1; t <= T; ++t) {
      if (t > 1 && uniform(rng) >= stay) state = -state;
      for (Eigen::Index i = 0; i < o.N_f; ++i) g(i) = normal(rng);
      const double a = e_sum.dot(g), b = e_diff.dot(g);
      orth.noalias() = g - a * e_sum - b * e_diff;
      x.col(t).head(o.N_f) = (state > 0 ? v_plus : v_minus) + o.noise_sum * a * e_sum +
                             o.noise_difference * b * e_diff + o.noise_orthogonal * orth;
      x(o.N_f + t, t) = 1.0;
    }
    ++next;
    return label;
  }

  boost::random::mt19937_64 rng;
  boost::random::uniform_01<double> uniform;
  boost::random::normal_distribution<double> normal{0.0, 1.0};
  const Eigen::VectorXd v_plus, v_minus, e_sum, e_diff;
  Eigen::VectorXd g, orth;  // one token's noise and its orthogonal part
  Eigen::Index next = 0;    // the example the stream generates next
};

double HmmLabel(const HmmTaskOptions& options, Eigen::Index mu) {
  return mu < (options.P + 1) / 2 ? +1.0 : -1.0;
}

HmmExamples::HmmExamples(const HmmTaskOptions& options) : options_(options) {
  // Blocks are generated on the fly: no limit on the whole set's size.
  options_.ValidateParameters();
  stream_ = std::make_unique<Stream>(options_);
}

HmmExamples::~HmmExamples() = default;

std::string HmmExamples::name() const {
  return "hmm generator (seed " + std::to_string(options_.seed) +
         ", P = " + std::to_string(options_.P) + ")";
}

void HmmExamples::Read(Eigen::Index begin, Eigen::Index end, ExampleBlock* block) {
  CheckBlockRange(*this, begin, end);
  if (begin < stream_->next) stream_ = std::make_unique<Stream>(options_);  // replay from the seed
  const Eigen::Index n = n_tok(), N0 = this->N0();
  ShapeBlock(begin, end - begin, n, N0, 1, block);
  // Examples before the block: generated and dropped (the stream has no skip-ahead).
  Eigen::MatrixXd skipped;
  if (stream_->next < begin) skipped.resize(N0, n);
  while (stream_->next < begin) {
    stream_->Generate(options_, Eigen::Map<Eigen::MatrixXd>(skipped.data(), N0, n));
  }
  for (Eigen::Index mu = begin; mu < end; ++mu) {
    block->y(mu - begin, 0) = stream_->Generate(options_, block->x.example(mu - begin));
  }
}

Dataset GenerateHmmTask(const HmmTaskOptions& o) {
  o.Validate();  // the whole set is built at once: the generator's size limit applies
  HmmExamples source(o);
  ExampleBlock block;
  source.Read(0, o.P, &block);
  return Dataset{std::move(block.x), std::move(block.y)};
}

const char* HmmHeadKindName(HmmHeadKind kind) {
  switch (kind) {
    case HmmHeadKind::kSameToken:
      return "same_token";
    case HmmHeadKind::kDifferentToken:
      return "different_token";
    case HmmHeadKind::kUniform:
      return "uniform";
    case HmmHeadKind::kBlank:
      return "blank";
  }
  return "?";
}

HmmHeadKind ParseHmmHeadKind(const std::string& text, const std::string& field) {
  for (HmmHeadKind k : {HmmHeadKind::kSameToken, HmmHeadKind::kDifferentToken,
                        HmmHeadKind::kUniform, HmmHeadKind::kBlank}) {
    if (text == HmmHeadKindName(k)) return k;
  }
  throw Error(ErrorMessage(field, "\"" + text + "\"",
                           "one of same_token, different_token, uniform, blank"));
}

HeadSpec MakeHmmHead(HmmHeadKind kind, Eigen::Index N_f, Eigen::Index chain_tokens,
                     const HmmHeadOptions& o, const std::string& name) {
  Require(N_f >= 2 && N_f % 2 == 0, "hmm head N_f", N_f, "an even number >= 2");
  Require(chain_tokens >= 1, "hmm head chain_tokens", chain_tokens, "at least 1 token");
  const double n0 = static_cast<double>(N_f) + static_cast<double>(chain_tokens) + 1;
  RequireGeneratedSize("hmm head W", "N0*N0 (N0 = N_f + chain_tokens + 1)", {n0, n0});
  const Eigen::Index n_tok = chain_tokens + 1, N0 = N_f + n_tok;
  Eigen::MatrixXd W = Eigen::MatrixXd::Zero(N0, N0);
  auto features = W.topLeftCorner(N_f, N_f);
  auto positions = W.bottomRightCorner(n_tok, n_tok);
  if (kind == HmmHeadKind::kSameToken || kind == HmmHeadKind::kDifferentToken) {
    // q = (v₊ − v₋) / (|v₊ − v₋|²/2): q·v₊ = 1, q·v₋ = −1.
    const Eigen::VectorXd diff = HmmStateVector(N_f, +1) - HmmStateVector(N_f, -1);
    const Eigen::VectorXd q = diff / (diff.squaredNorm() / 2.0);
    features = (kind == HmmHeadKind::kSameToken ? 1.0 : -1.0) * q * q.transpose();
    // Key s (row) = query t (column) + shift, chain tokens only (0 is BOS);
    // every non-BOS query also reads the BOS with bos_strength.
    for (Eigen::Index t = 1; t < n_tok; ++t) {
      const Eigen::Index s = t + o.shift;
      if (s >= 1 && s < n_tok) positions(s, t) = 1.0;
      positions(0, t) = o.bos_strength;
    }
  } else if (kind == HmmHeadKind::kUniform) {
    positions.setOnes();
  }
  const bool perturbed =
      o.perturbation_features != 0 || o.perturbation_positions != 0 || o.perturbation_cross != 0;
  if (perturbed) {
    boost::random::mt19937_64 rng(o.seed);
    boost::random::normal_distribution<double> normal(0.0, 1.0);
    const double nf = static_cast<double>(N_f);
    for (Eigen::Index j = 0; j < N_f; ++j)
      for (Eigen::Index i = 0; i < N_f; ++i)
        features(i, j) += o.perturbation_features / nf * normal(rng);
    for (Eigen::Index j = 0; j < n_tok; ++j)
      for (Eigen::Index i = 0; i < n_tok; ++i)
        positions(i, j) += o.perturbation_positions * normal(rng);
    const double c = o.perturbation_cross / std::sqrt(nf);
    auto upper = W.topRightCorner(N_f, n_tok);
    auto lower = W.bottomLeftCorner(n_tok, N_f);
    for (Eigen::Index j = 0; j < n_tok; ++j)
      for (Eigen::Index i = 0; i < N_f; ++i) upper(i, j) = c * normal(rng);
    for (Eigen::Index j = 0; j < N_f; ++j)
      for (Eigen::Index i = 0; i < n_tok; ++i) lower(i, j) = c * normal(rng);
  }
  HeadSpec head;
  head.name = name.empty() ? HmmHeadKindName(kind) : name;
  head.kind = HeadKind::kWForm;
  head.beta = o.beta;
  head.W = std::move(W);
  return head;
}

Architecture HmmArchitecture(HmmVariant variant, const HmmTaskOptions& task) {
  HmmHeadOptions plain;
  HmmHeadOptions blank1, blank2;
  blank1.SetPerturbation(1.0);
  blank1.seed = 147;
  blank2.SetPerturbation(1.0);
  blank2.seed = 247;
  const auto N_f = task.N_f, T = task.chain_tokens;
  Architecture arch;
  arch.readout = Readout::kLast;
  std::vector<HeadSpec> layer1{MakeHmmHead(HmmHeadKind::kSameToken, N_f, T, plain, "good")};
  std::vector<HeadSpec> layer2{MakeHmmHead(HmmHeadKind::kUniform, N_f, T, plain, "uniform")};
  if (variant != HmmVariant::kGoodPath) {
    layer1.push_back(MakeHmmHead(HmmHeadKind::kBlank, N_f, T, blank1, "blank1"));
  }
  if (variant == HmmVariant::kFourPaths) {
    layer2.push_back(MakeHmmHead(HmmHeadKind::kBlank, N_f, T, blank2, "blank2"));
  }
  arch.layers = {layer1, layer2};
  arch.SetUniform(1.0);
  return arch;
}

}  // namespace attnpaths
