#include "curvature/hard_margin_svm.h"

#include <Eigen/Cholesky>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>
#include <vector>

#include "kernels/error.h"

namespace attnpaths {

namespace {

// The KKT measure of the header: |g_μ| on the support, max(g_μ, 0) off it,
// g = 1 − Qα.
double KktViolation(const Eigen::VectorXd& alpha, const Eigen::VectorXd& q) {
  double v = 0;
  for (Eigen::Index i = 0; i < alpha.size(); ++i) {
    const double g = 1.0 - q(i);
    v = std::max(v, alpha(i) > 0 ? std::abs(g) : std::max(g, 0.0));
  }
  return v;
}

}  // namespace

const char* HardMarginStatusName(HardMarginStatus s) {
  switch (s) {
    case HardMarginStatus::kConverged:
      return "converged";
    case HardMarginStatus::kNotSeparable:
      return "not_separable";
    case HardMarginStatus::kIterationLimit:
      return "iteration_limit";
    case HardMarginStatus::kNotRun:
      break;
  }
  return "not_run";
}

bool HardMarginOptions::IsValid(std::string* error) const {
  try {
    Require(std::isfinite(tolerance) && tolerance > 0 && tolerance < 1, "margin.tolerance",
            tolerance, "a value in (0, 1) (the largest KKT violation; margins are scaled to 1)");
    Require(max_sweeps >= 1, "margin.max_sweeps", max_sweeps, "a value >= 1");
    Require(std::isfinite(resolution) && resolution > 0 && resolution < 1, "margin.resolution",
            resolution, "a value in (0, 1) (the smallest margin resolved, relative to max |phi|)");
    Require(face_solve_every >= 0, "margin.face_solve_every", face_solve_every,
            "a value >= 0 (0: never)");
  } catch (const Error& e) {
    if (error) *error = e.what();
    return false;
  }
  return true;
}

HardMarginSummary SolveHardMarginDual(const Eigen::Ref<const Eigen::MatrixXd>& K,
                                      const Eigen::Ref<const Eigen::VectorXd>& y,
                                      const HardMarginOptions& options) {
  std::string error;
  if (!options.IsValid(&error)) throw Error(error);
  const Eigen::Index P = K.rows();
  Require(P >= 1 && K.cols() == P, "Gram matrix", ToText(K.rows()) + " x " + ToText(K.cols()),
          "a square matrix with at least one row");
  Require(y.size() == P, "labels", y.size(), ToText(P) + " (one per row of the Gram matrix)");
  Require(K.allFinite(), "Gram matrix", "a non-finite entry", "finite entries");
  for (Eigen::Index i = 0; i < P; ++i) {
    Require(y(i) == 1.0 || y(i) == -1.0, "labels[" + ToText(i) + "]", y(i), "+1 or -1");
  }

  // Q = yyᵀ ⊙ (K + Kᵀ)/2.
  const Eigen::MatrixXd Q = (y.asDiagonal() * (0.5 * (K + K.transpose())) * y.asDiagonal()).eval();
  HardMarginSummary s;
  s.alpha = Eigen::VectorXd::Zero(P);
  s.max_feature_norm = std::sqrt(std::max(Q.diagonal().maxCoeff(), 0.0));
  const double nan = std::numeric_limits<double>::quiet_NaN();

  auto finish = [&](HardMarginStatus status, const std::string& message, const Eigen::VectorXd& q) {
    s.status = status;
    s.message = message;
    s.sum_alpha = s.alpha.sum();
    const double wq = s.alpha.dot(q);  // αᵀQα = ‖w‖²
    s.dual_objective = s.sum_alpha - 0.5 * wq;
    const double w_norm = std::sqrt(std::max(wq, 0.0));
    s.margin_lower = w_norm > 0 ? q.minCoeff() / w_norm : 0.0;
    s.margin_upper = s.sum_alpha > 0 ? w_norm / s.sum_alpha : s.max_feature_norm;
    s.kkt_violation = KktViolation(s.alpha, q);
    s.support_vectors = (s.alpha.array() > 0).count();
    if (status == HardMarginStatus::kConverged) {
      s.margin = 1.0 / std::sqrt(s.sum_alpha);
    } else if (status == HardMarginStatus::kNotSeparable) {
      s.margin = 0;
    } else {
      s.margin = nan;
    }
    s.normalized_margin = s.max_feature_norm > 0 ? s.margin / s.max_feature_norm : nan;
    return s;
  };

  // A zero feature vector: y_μ w·φ_μ = 0 for every w.
  for (Eigen::Index i = 0; i < P; ++i) {
    if (!(Q(i, i) > 0)) {
      return finish(HardMarginStatus::kNotSeparable,
                    "example " + ToText(i) + " has a zero feature vector (K_ii = " +
                        ToText(Q(i, i)) + "): no hyperplane through the origin separates it",
                    Eigen::VectorXd::Zero(P));
    }
  }
  // Σα beyond this means γ ≤ √(αᵀQα)/Σα = 1/√Σα (after a ray step) < resolution · max‖φ‖.
  const double sum_alpha_limit =
      1.0 / (options.resolution * options.resolution * s.max_feature_norm * s.max_feature_norm);

  Eigen::VectorXd& alpha = s.alpha;
  Eigen::VectorXd q = Eigen::VectorXd::Zero(P);  // Qα
  std::vector<Eigen::Index> support;
  for (int sweep = 1; sweep <= options.max_sweeps; ++sweep) {
    s.sweeps = sweep;
    // Coordinate ascent: the exact maximiser of D in α_i, clipped at 0.
    for (Eigen::Index i = 0; i < P; ++i) {
      const double next = std::max(0.0, alpha(i) + (1.0 - q(i)) / Q(i, i));
      const double delta = next - alpha(i);
      if (delta != 0) {
        alpha(i) = next;
        q.noalias() += delta * Q.col(i);
      }
    }
    q.noalias() = Q * alpha;  // no drift from the rank-one updates
    // The exact step along the ray through α: D(tα) = tΣα − ½t²αᵀQα.
    const double a = alpha.sum(), b = alpha.dot(q);
    if (b > 0) {
      alpha *= a / b;
      q *= a / b;
    }
    // The exact maximiser on the current face, kept when it is feasible.
    if (options.face_solve_every > 0 && sweep % options.face_solve_every == 0) {
      support.clear();
      for (Eigen::Index i = 0; i < P; ++i) {
        if (alpha(i) > 0) support.push_back(i);
      }
      const auto n = static_cast<Eigen::Index>(support.size());
      Eigen::MatrixXd Qs(n, n);
      for (Eigen::Index r = 0; r < n; ++r) {
        for (Eigen::Index c = 0; c < n; ++c) {
          Qs(r, c) = Q(support[static_cast<size_t>(r)], support[static_cast<size_t>(c)]);
        }
      }
      const Eigen::LDLT<Eigen::MatrixXd> ldlt(Qs);
      const Eigen::VectorXd z = ldlt.solve(Eigen::VectorXd::Ones(n));
      if (ldlt.info() == Eigen::Success && z.allFinite() && (z.array() > 0).all()) {
        Eigen::VectorXd candidate = Eigen::VectorXd::Zero(P);
        for (Eigen::Index r = 0; r < n; ++r) candidate(support[static_cast<size_t>(r)]) = z(r);
        const Eigen::VectorXd qc = Q * candidate;
        // Kept only if D does not decrease (a nearly singular face can give a
        // poor solve; the KKT test below then decides with the exact Qα).
        const double d_now = alpha.sum() - 0.5 * alpha.dot(q);
        const double d_candidate = candidate.sum() - 0.5 * candidate.dot(qc);
        if (d_candidate >= d_now) {
          alpha = candidate;
          q = qc;
          ++s.face_solves;
        }
      }
    }
    if (KktViolation(alpha, q) <= options.tolerance) {
      return finish(HardMarginStatus::kConverged,
                    "KKT conditions met to " + ToText(options.tolerance) + " after " +
                        ToText(sweep) + " sweeps",
                    q);
    }
    if (alpha.sum() > sum_alpha_limit) {
      return finish(HardMarginStatus::kNotSeparable,
                    "not separable: the margin is below resolution x max |phi| = " +
                        ToText(options.resolution * s.max_feature_norm) + " (sum alpha " +
                        ToText(alpha.sum()) + " after " + ToText(sweep) + " sweeps)",
                    q);
    }
    if (!alpha.allFinite()) break;
  }
  if (!alpha.allFinite()) {
    alpha.setZero();
    q.setZero();
    return finish(HardMarginStatus::kNotSeparable, "not separable: the dual variables overflowed",
                  q);
  }
  return finish(HardMarginStatus::kIterationLimit,
                "iteration limit: " + ToText(options.max_sweeps) +
                    " sweeps without meeting the KKT conditions or the not-separable test",
                q);
}

std::string HardMarginSummary::BriefReport() const {
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "hard-margin SVM: %s, margin %.6g (normalised %.4g), %ld support vectors, "
                "%d sweeps",
                HardMarginStatusName(status), margin, normalized_margin,
                static_cast<long>(support_vectors), sweeps);
  return buf;
}

std::string HardMarginSummary::FullReport() const {
  std::ostringstream os;
  os << BriefReport() << "\n"
     << "  " << message << "\n"
     << "  sum alpha " << sum_alpha << ", dual objective " << dual_objective << "\n"
     << "  margin bracket [" << margin_lower << ", " << margin_upper << "], max |phi| "
     << max_feature_norm << "\n"
     << "  KKT violation " << kkt_violation << ", face solves " << face_solves << "\n";
  return os.str();
}

}  // namespace attnpaths
