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

// The precision of (Qα)_μ in double arithmetic: ε max_μ Q_μμ Σα (the sum of
// the magnitudes of its terms, ~ ε / normalised margin² at the optimum).
double RoundingFloor(const Eigen::MatrixXd& Q, const Eigen::VectorXd& alpha) {
  return std::numeric_limits<double>::epsilon() * Q.diagonal().maxCoeff() * alpha.sum();
}

enum class ActiveSetOutcome { kOptimal, kNotSeparable, kFailed };

// The face maximiser Q_SS z = 1 (LDLT); false when it is not finite.
bool SolveFace(const Eigen::MatrixXd& Q, const std::vector<Eigen::Index>& S, Eigen::VectorXd* z) {
  const auto n = static_cast<Eigen::Index>(S.size());
  Eigen::MatrixXd Qs(n, n);
  for (Eigen::Index r = 0; r < n; ++r) {
    for (Eigen::Index c = 0; c < n; ++c) Qs(r, c) = Q(S[size_t(r)], S[size_t(c)]);
  }
  const Eigen::LDLT<Eigen::MatrixXd> ldlt(Qs);
  *z = ldlt.solve(Eigen::VectorXd::Ones(n));
  return ldlt.info() == Eigen::Success && z->allFinite();
}

// The active-set method of Lawson and Hanson for max D(α), α ≥ 0, from α = 0
// (docs/attention-hessian.md §7): add the example with the largest KKT
// violation g_j = 1 − (Qα)_j to the support S, maximise D exactly on the face
// (Q_SS z = 1), and when z leaves the orthant step from α towards z until the
// first coordinate reaches 0 and drop it. S is kept linearly independent: a
// y_j φ_j within relative distance √kRankTolerance of the span of the
// support (Schur complement of Q_jj) is a combination Σ c_i y_i φ_i, and
// v = e_j − c is a null direction of Q along which D grows like
// t (1 − Σ c) = t g_j; ascend along it until a coordinate with c_i > 0
// reaches 0, or, when c ≤ 0 (v ≥ 0: the origin lies in the convex hull of the
// y_μ φ_μ up to √schur / Σv, Gordan's alternative), report not separable.
constexpr double kRankTolerance = 1e-9;

ActiveSetOutcome ActiveSet(const Eigen::MatrixXd& Q, double tolerance, double resolution,
                           double max_feature_norm, Eigen::VectorXd* alpha_out, std::string* note) {
  const Eigen::Index P = Q.rows();
  Eigen::VectorXd alpha = Eigen::VectorXd::Zero(P);
  std::vector<Eigen::Index> S;
  std::vector<char> in(static_cast<size_t>(P), 0);
  Eigen::VectorXd z;
  const int max_iterations = static_cast<int>(10 * P + 10);
  for (int it = 0; it < max_iterations; ++it) {
    const Eigen::VectorXd q = Q * alpha;
    Eigen::Index j = -1;
    double gj = -std::numeric_limits<double>::infinity();
    for (Eigen::Index i = 0; i < P; ++i) {
      if (!in[size_t(i)] && 1.0 - q(i) > gj) gj = 1.0 - q(i), j = i;
    }
    if (j < 0 || gj <= std::max(tolerance, RoundingFloor(Q, alpha))) {
      *alpha_out = alpha;
      return ActiveSetOutcome::kOptimal;
    }
    Eigen::Index added = j;
    if (!S.empty()) {
      // Is y_j φ_j in the span of the support? c = Q_SS⁻¹ Q_Sj, schur = Q_jj − Q_jS c.
      const auto n = static_cast<Eigen::Index>(S.size());
      Eigen::MatrixXd Qs(n, n);
      Eigen::VectorXd qj(n);
      for (Eigen::Index r = 0; r < n; ++r) {
        qj(r) = Q(S[size_t(r)], j);
        for (Eigen::Index c = 0; c < n; ++c) Qs(r, c) = Q(S[size_t(r)], S[size_t(c)]);
      }
      const Eigen::LDLT<Eigen::MatrixXd> ldlt(Qs);
      const Eigen::VectorXd c = ldlt.solve(qj);
      if (ldlt.info() != Eigen::Success || !c.allFinite()) return ActiveSetOutcome::kFailed;
      const double schur = Q(j, j) - qj.dot(c);
      if (schur <= kRankTolerance * Q(j, j)) {
        if (1.0 - c.sum() <= 0) return ActiveSetOutcome::kFailed;  // no ascent along v
        double t = std::numeric_limits<double>::infinity();
        Eigen::Index block = -1;
        for (Eigen::Index r = 0; r < n; ++r) {
          if (c(r) > 0 && alpha(S[size_t(r)]) / c(r) < t) t = alpha(S[size_t(r)]) / c(r), block = r;
        }
        if (block < 0) {
          // v = e_j − c ≥ 0: ‖Σ v_i y_i φ_i‖ = √schur, so γ ≤ √schur / Σv.
          const double bound = std::sqrt(std::max(schur, 0.0)) / (1.0 - c.sum());
          if (bound <= resolution * max_feature_norm) {
            *note = "a convex combination of the y_mu phi_mu within " + ToText(bound) +
                    " of the origin (active set)";
            *alpha_out = alpha;
            return ActiveSetOutcome::kNotSeparable;
          }
          return ActiveSetOutcome::kFailed;
        }
        for (Eigen::Index r = 0; r < n; ++r) {
          alpha(S[size_t(r)]) = std::max(0.0, alpha(S[size_t(r)]) - t * c(r));
        }
        alpha(j) = t;
        alpha(S[size_t(block)]) = 0;
        in[size_t(S[size_t(block)])] = 0;
        S.erase(S.begin() + block);
        added = -1;  // j enters with α_j = t > 0
      }
    }
    S.push_back(j);
    in[size_t(j)] = 1;
    // Maximise D on the face of S, stepping back into the orthant as needed.
    for (int inner = 0; inner <= P; ++inner) {
      if (!SolveFace(Q, S, &z)) return ActiveSetOutcome::kFailed;
      const auto n = static_cast<Eigen::Index>(S.size());
      double t = 1;
      Eigen::Index block = -1;
      for (Eigen::Index r = 0; r < n; ++r) {
        if (z(r) > 0) continue;
        const double a = alpha(S[size_t(r)]);
        const double ratio = a / (a - z(r));
        if (ratio < t) t = ratio, block = r;
      }
      if (block < 0) {
        for (Eigen::Index r = 0; r < n; ++r) alpha(S[size_t(r)]) = z(r);
        break;
      }
      if (S[size_t(block)] == added && t <= 0) return ActiveSetOutcome::kFailed;  // no progress
      for (Eigen::Index r = 0; r < n; ++r) {
        const Eigen::Index i = S[size_t(r)];
        alpha(i) = std::max(0.0, alpha(i) + t * (z(r) - alpha(i)));
      }
      alpha(S[size_t(block)]) = 0;
      std::vector<Eigen::Index> kept;
      for (Eigen::Index i : S) {
        if (alpha(i) > 0) {
          kept.push_back(i);
        } else {
          in[size_t(i)] = 0;
        }
      }
      S.swap(kept);
      added = -1;
      if (S.empty()) return ActiveSetOutcome::kFailed;
      if (inner == P) return ActiveSetOutcome::kFailed;
    }
  }
  return ActiveSetOutcome::kFailed;
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
    Require(active_set_after >= 0, "margin.active_set_after", active_set_after,
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
    // The active-set finish, once, when coordinate ascent has not decided.
    if (options.active_set_after > 0 && sweep == options.active_set_after) {
      Eigen::VectorXd candidate;
      std::string note;
      const ActiveSetOutcome outcome = ActiveSet(Q, options.tolerance, options.resolution,
                                                 s.max_feature_norm, &candidate, &note);
      s.active_set = outcome == ActiveSetOutcome::kFailed ? -1 : 1;
      if (outcome == ActiveSetOutcome::kNotSeparable) {
        alpha = candidate;
        return finish(HardMarginStatus::kNotSeparable,
                      "not separable: " + note + " after " + ToText(sweep) + " sweeps", Q * alpha);
      }
      if (outcome == ActiveSetOutcome::kOptimal) {
        const Eigen::VectorXd qc = Q * candidate;
        if (candidate.sum() - 0.5 * candidate.dot(qc) >= alpha.sum() - 0.5 * alpha.dot(q)) {
          alpha = candidate;
          q = qc;
        }
      }
    }
    s.kkt_tolerance = std::max(options.tolerance, RoundingFloor(Q, alpha));
    if (KktViolation(alpha, q) <= s.kkt_tolerance) {
      return finish(HardMarginStatus::kConverged,
                    "KKT conditions met to " + ToText(s.kkt_tolerance) + " after " + ToText(sweep) +
                        " sweeps",
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
     << "  KKT violation " << kkt_violation << ", face solves " << face_solves << ", active set "
     << (active_set == 0  ? "not run"
         : active_set > 0 ? "finished"
                          : "failed")
     << "\n";
  return os.str();
}

}  // namespace attnpaths
