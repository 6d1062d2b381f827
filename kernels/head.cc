#include "kernels/head.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "kernels/error.h"

namespace attnpaths {

const char* HeadKindName(HeadKind kind) {
  switch (kind) {
    case HeadKind::kWForm:
      return "w";
    case HeadKind::kQKForm:
      return "qk";
    case HeadKind::kUniform:
      return "uniform";
    case HeadKind::kBlank:
      return "blank";
    case HeadKind::kGiven:
      return "given";
    case HeadKind::kFixed:
      return "fixed";
  }
  return "?";
}

HeadKind ParseHeadKind(const std::string& text, const std::string& field) {
  for (HeadKind k : {HeadKind::kWForm, HeadKind::kQKForm, HeadKind::kUniform, HeadKind::kBlank,
                     HeadKind::kGiven, HeadKind::kFixed}) {
    if (text == HeadKindName(k)) return k;
  }
  throw Error(
      ErrorMessage(field, "\"" + text + "\"", "one of w, qk, uniform, blank, given, fixed"));
}

namespace {

std::string Shape(const Eigen::MatrixXd& m) {
  return std::to_string(m.rows()) + " x " + std::to_string(m.cols());
}

void ValidateGiven(const std::vector<Eigen::MatrixXd>& given, Eigen::Index n_tok,
                   const std::string& field) {
  for (size_t mu = 0; mu < given.size(); ++mu) {
    const Eigen::MatrixXd& a = given[mu];
    const std::string f = field + "[" + std::to_string(mu) + "]";
    Require(a.rows() == n_tok && a.cols() == n_tok, f + " shape", Shape(a),
            std::to_string(n_tok) + " x " + std::to_string(n_tok));
    Require(a.allFinite(), f, "a non-finite value", "finite attention weights");
    Require(a.minCoeff() >= 0, f, a.minCoeff(), "attention weights >= 0");
    for (Eigen::Index t = 0; t < n_tok; ++t) {
      const double s = a.col(t).sum();
      Require(std::abs(s - 1.0) <= 1e-6, f + " query " + std::to_string(t) + " weights sum", s,
              "1 (each query's weights over keys must sum to one)");
    }
  }
}

}  // namespace

void HeadSpec::Validate(Eigen::Index N0, Eigen::Index n_tok, const std::string& field) const {
  Require(std::isfinite(beta), field + ".beta", beta, "a finite number");
  switch (kind) {
    case HeadKind::kWForm:
      Require(W.rows() == N0 && W.cols() == N0, field + ".W shape", Shape(W),
              std::to_string(N0) + " x " + std::to_string(N0) + " (N0 x N0)");
      Require(W.allFinite(), field + ".W", "a non-finite value", "finite entries");
      break;
    case HeadKind::kQKForm:
      Require(Q.cols() == N0 && Q.rows() >= 1, field + ".Q shape", Shape(Q),
              "d x " + std::to_string(N0) + " (d x N0)");
      Require(K.rows() == Q.rows() && K.cols() == N0, field + ".K shape", Shape(K),
              std::to_string(Q.rows()) + " x " + std::to_string(N0) + " (same as Q)");
      Require(Q.allFinite() && K.allFinite(), field + ".Q/K", "a non-finite value",
              "finite entries");
      break;
    case HeadKind::kGiven:
      Require(given_train != nullptr, field + ".attention", "nothing",
              "attention matrices for the training set");
      ValidateGiven(*given_train, n_tok, field + ".attention");
      if (given_test) ValidateGiven(*given_test, n_tok, field + ".test_attention");
      break;
    case HeadKind::kFixed:
      Require(fixed.rows() == n_tok && fixed.cols() == n_tok, field + ".attention shape",
              Shape(fixed),
              std::to_string(n_tok) + " x " + std::to_string(n_tok) + " (n_tok x n_tok)");
      Require(fixed.allFinite(), field + ".attention", "a non-finite value",
              "finite attention weights");
      break;
    case HeadKind::kUniform:
    case HeadKind::kBlank:
      break;
  }
}

void NormalizeScoreColumn(Eigen::Ref<Eigen::VectorXd> column, Eigen::Index query,
                          Normalization normalization, bool causal) {
  const Eigen::Index n = column.size();
  const Eigen::Index keys = causal ? std::min<Eigen::Index>(query + 1, n) : n;
  if (normalization == Normalization::kHardmax) {
    Eigen::Index best = 0;  // ties go to the lowest key index (theory.md §1)
    for (Eigen::Index s = 1; s < keys; ++s) {
      if (column(s) > column(best)) best = s;
    }
    column.setZero();
    column(best) = 1.0;
    return;
  }
  auto allowed = column.head(keys).array();
  allowed = (allowed - allowed.maxCoeff()).exp();
  allowed /= allowed.sum();
  column.tail(n - keys).setZero();
}

Eigen::MatrixXd NormalizeScores(const Eigen::Ref<const Eigen::MatrixXd>& scores,
                                Normalization normalization, bool causal) {
  Eigen::MatrixXd omega = scores;
  for (Eigen::Index t = 0; t < omega.cols(); ++t) {
    NormalizeScoreColumn(omega.col(t), t, normalization, causal);
  }
  return omega;
}

Eigen::MatrixXd AttentionMatrix(const HeadSpec& head, const Eigen::Ref<const Eigen::MatrixXd>& x,
                                Eigen::Index example, Split split) {
  const Eigen::Index n = x.cols();
  switch (head.kind) {
    case HeadKind::kWForm: {
      const Eigen::MatrixXd scores = head.beta * (x.transpose() * (head.W * x));
      return NormalizeScores(scores, head.normalization, head.causal);
    }
    case HeadKind::kQKForm: {
      const Eigen::MatrixXd keys = head.K * x, queries = head.Q * x;
      const double scale = head.beta / std::sqrt(static_cast<double>(head.Q.rows()));
      const Eigen::MatrixXd scores = scale * (keys.transpose() * queries);
      return NormalizeScores(scores, head.normalization, head.causal);
    }
    case HeadKind::kBlank:
      return NormalizeScores(Eigen::MatrixXd::Zero(n, n), head.normalization, head.causal);
    case HeadKind::kUniform:
      return NormalizeScores(Eigen::MatrixXd::Zero(n, n), Normalization::kSoftmax, head.causal);
    case HeadKind::kGiven: {
      const auto& given = split == Split::kTrain ? head.given_train : head.given_test;
      Require(given != nullptr, head.name + ".attention",
              split == Split::kTrain ? "no training matrices" : "no test matrices",
              "attention matrices for every example of this split");
      Require(example >= 0 && example < static_cast<Eigen::Index>(given->size()),
              head.name + ".attention examples", given->size(),
              "at least " + std::to_string(example + 1) + " matrices");
      return (*given)[static_cast<size_t>(example)];
    }
    case HeadKind::kFixed:
      Require(head.fixed.rows() == n && head.fixed.cols() == n, head.name + ".attention shape",
              Shape(head.fixed),
              std::to_string(n) + " x " + std::to_string(n) + " (n_tok x n_tok)");
      return head.fixed;
  }
  return {};
}

}  // namespace attnpaths
