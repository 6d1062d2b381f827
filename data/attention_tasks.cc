#include "data/attention_tasks.h"

#include <boost/random/mersenne_twister.hpp>
#include <boost/random/normal_distribution.hpp>
#include <boost/random/uniform_int_distribution.hpp>

#include "kernels/error.h"

namespace attnpaths {

namespace {
constexpr Eigen::Index kAdditionTokens = 18;  // "XXXXX+YYYYY=ZZZZZZ"
constexpr Eigen::Index kVocabulary = 12;      // digits, "+", "="
}  // namespace

const char* AttentionTaskKindName(AttentionTaskKind kind) {
  return kind == AttentionTaskKind::kAddition ? "addition" : "gaussian";
}

AttentionTaskKind ParseAttentionTaskKind(const std::string& text, const std::string& field) {
  if (text == "addition") return AttentionTaskKind::kAddition;
  if (text == "gaussian") return AttentionTaskKind::kGaussian;
  throw Error(ErrorMessage(field, "\"" + text + "\"", "one of addition, gaussian, npy"));
}

void AttentionTaskOptions::Validate() const {
  Require(sequences >= 1, "hessian.batch", sequences, "a value >= 1 (sequences B)");
  Require(tokens >= 1, "hessian.tokens", tokens, "a value >= 1 (tokens m)");
  Require(features >= 1, "hessian.features", features, "a value >= 1 (features D)");
  if (kind == AttentionTaskKind::kAddition) {
    Require(tokens <= kAdditionTokens, "hessian.tokens", tokens,
            "a value <= 18 for data = \"addition\" (XXXXX+YYYYY=ZZZZZZ)");
    Require(features >= kVocabulary, "hessian.features", features,
            "a value >= 12 for data = \"addition\" (one-hot next-token targets)");
  }
}

AttentionTask GenerateAttentionTask(const AttentionTaskOptions& o) {
  o.Validate();
  boost::random::mt19937 engine(static_cast<std::uint32_t>(o.seed ^ (o.seed >> 32)));
  boost::random::normal_distribution<double> normal;
  auto gaussian = [&](Eigen::Index rows, Eigen::Index cols) {
    Eigen::MatrixXd M(rows, cols);
    for (Eigen::Index i = 0; i < rows; ++i) {
      for (Eigen::Index j = 0; j < cols; ++j) M(i, j) = normal(engine);
    }
    return M;
  };
  AttentionTask t;
  if (o.kind == AttentionTaskKind::kGaussian) {
    for (Eigen::Index s = 0; s < o.sequences; ++s) {
      t.X.push_back(gaussian(o.tokens, o.features));
      t.Y.push_back(gaussian(o.tokens, o.features));
    }
    return t;
  }
  const Eigen::MatrixXd E = gaussian(kVocabulary, o.features);
  const Eigen::MatrixXd P = gaussian(kAdditionTokens, o.features);
  boost::random::uniform_int_distribution<int> number(0, 99999);
  for (Eigen::Index s = 0; s < o.sequences; ++s) {
    const int a = number(engine), b = number(engine);
    std::vector<int> seq;
    auto digits = [&](int value, int count) {
      std::vector<int> d(static_cast<size_t>(count));
      for (int i = count - 1; i >= 0; --i, value /= 10) d[static_cast<size_t>(i)] = value % 10;
      seq.insert(seq.end(), d.begin(), d.end());
    };
    digits(a, 5);
    seq.push_back(10);
    digits(b, 5);
    seq.push_back(11);
    digits(a + b, 6);
    Eigen::MatrixXd X(o.tokens, o.features), Y = Eigen::MatrixXd::Zero(o.tokens, o.features);
    for (Eigen::Index i = 0; i < o.tokens; ++i) {
      X.row(i) = E.row(seq[static_cast<size_t>(i)]) + P.row(i);
      if (i + 1 < o.tokens) Y(i, seq[static_cast<size_t>(i + 1)]) = 1.0;
    }
    seq.resize(static_cast<size_t>(o.tokens));
    t.X.push_back(std::move(X));
    t.Y.push_back(std::move(Y));
    t.tokens.push_back(std::move(seq));
  }
  return t;
}

}  // namespace attnpaths
