#include "propagation/shaped_sde.h"

#include <Eigen/Cholesky>
#include <Eigen/Eigenvalues>
#include <chrono>
#include <cmath>

#include "kernels/error.h"
#include "propagation/parallel.h"
#include "propagation/random.h"

namespace attnpaths {

namespace {

void FillNormal(Eigen::MatrixXd* z, PropagationRng& engine) {
  for (Eigen::Index k = 0; k < z->size(); ++k) z->data()[k] = PropagationNormal(engine);
}

}  // namespace

ShapedEulerMaruyama::ShapedEulerMaruyama(const ShapedModel& model, Eigen::Index m, double dt)
    : model_(model), m_(m), dt_(dt), sqdt_(std::sqrt(dt)), llt_(m) {
  for (Eigen::MatrixXd* b : {&R_, &Z1_, &Z2_, &T1_, &T2_, &PV_, &next_, &drift_}) b->resize(m, m);
  const double g2 = model.gamma * model.gamma;
  cv_ = g2 * (2 - g2) + (model.mlp ? 2 * model.mlp_gamma * model.mlp_gamma : 0.0);
  g2t2_ = model.attention() ? g2 / (model.tau0 * model.tau0) : 0.0;
  ca_ = model.attention() ? g2 / (model.tau0 * static_cast<double>(m)) : 0.0;
}

bool ShapedEulerMaruyama::Step(Eigen::MatrixXd& V, double cap, PropagationRng& engine,
                               bool* clipped) {
  FillNormal(&Z1_, engine);
  if (model_.attention()) FillNormal(&Z2_, engine);
  return Step(V, Z1_, Z2_, cap, clipped);
}

bool ShapedEulerMaruyama::Step(Eigen::MatrixXd& V, const Eigen::Ref<const Eigen::MatrixXd>& Z1,
                               const Eigen::Ref<const Eigen::MatrixXd>& Z2, double cap,
                               bool* clipped) {
  const Eigen::Index m = m_;
  const double md = static_cast<double>(m);
  llt_.compute(V);
  *clipped = llt_.info() != Eigen::Success;
  if (!*clipped) {
    R_ = llt_.matrixL();
    *clipped = !R_.allFinite();
  }
  if (*clipped) R_ = CovarianceRoot(V, nullptr);
  // √c_v (R Z₁ Rᵀ + (R Z₁ Rᵀ)ᵀ)/√2
  T1_.noalias() = R_ * Z1;
  T2_.noalias() = T1_ * R_.transpose();
  next_ = V;
  next_ += (sqdt_ * std::sqrt(cv_ / 2)) * (T2_ + T2_.transpose());
  drift_.setZero();
  if (model_.attention()) {
    // P V (column means removed); V^c = P V P (row means of P V removed); tr(V^c V); u; w.
    PV_ = V;
    PV_.rowwise() -= V.colwise().mean();
    row_mean_ = PV_.rowwise().mean();
    u_.resize(m);
    double tr_vc_v = 0;
    for (Eigen::Index j = 0; j < m; ++j) {
      for (Eigen::Index i = 0; i < m; ++i) {
        const double vc = PV_(i, j) - row_mean_(i);
        tr_vc_v += vc * V(j, i);
        if (i == j) u_(i) = vc;
      }
    }
    u_.array() -= u_.sum() / md;
    w_.noalias() = V * u_;
    // (I.6): (γ²/τ0²)[(tr(V^c V)/m²) V + (v wᵀ + w vᵀ)/(2m)]
    drift_ = (g2t2_ * tr_vc_v / (md * md)) * V;
    drift_.noalias() += (g2t2_ / (2 * md)) * (V.diagonal() * w_.transpose());
    drift_.noalias() += (g2t2_ / (2 * md)) * (w_ * V.diagonal().transpose());
    // (γ²/(τ0 m)) (R Z₂ Rᵀ P V + V P R Z₂ᵀ Rᵀ)
    T1_.noalias() = R_ * Z2;
    T2_.noalias() = T1_ * R_.transpose();
    T1_.noalias() = T2_ * PV_;
    next_ += (sqdt_ * ca_) * (T1_ + T1_.transpose());
  }
  if (model_.mlp) {
    drift_ +=
        model_.mlp_gamma * model_.mlp_gamma * ShapedMlpDrift(model_.c_plus, model_.c_minus, V);
  }
  next_ += dt_ * drift_;
  T1_ = 0.5 * (next_ + next_.transpose());
  if (Exceeds(T1_, cap)) return false;
  V = T1_;
  return true;
}

bool ValidateInitialCovariance(const Eigen::Ref<const Eigen::MatrixXd>& V0, std::string* error) {
  auto fail = [&](const std::string& found, const std::string& want) {
    if (error) *error = ErrorMessage("V0", found, want);
    return false;
  };
  if (V0.rows() < 1 || V0.rows() != V0.cols()) {
    return fail(std::to_string(V0.rows()) + " x " + std::to_string(V0.cols()),
                "a square m x m matrix with m >= 1");
  }
  if (!V0.allFinite()) return fail("a non-finite entry", "finite entries");
  const double scale = V0.cwiseAbs().maxCoeff();
  const double asym = (V0 - V0.transpose()).cwiseAbs().maxCoeff();
  if (asym > 1e-12 * std::max(scale, 1e-300)) {
    return fail("max |V0 - V0^T| = " + ToText(asym), "a symmetric matrix");
  }
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(0.5 * (V0 + V0.transpose()),
                                                     Eigen::EigenvaluesOnly);
  if (!(eig.eigenvalues()(0) > 0)) {
    return fail("smallest eigenvalue " + ToText(eig.eigenvalues()(0)),
                "a positive-definite covariance (a Gram matrix X0 X0^T / n of m independent "
                "tokens)");
  }
  return true;
}

bool ValidateTrackedEntries(const std::vector<std::pair<Eigen::Index, Eigen::Index>>& entries,
                            Eigen::Index m, std::string* error) {
  for (size_t i = 0; i < entries.size(); ++i) {
    const auto [a, b] = entries[i];
    if (a < 0 || b < 0 || a >= m || b >= m) {
      if (error) {
        *error = ErrorMessage("entries[" + std::to_string(i) + "]",
                              "[" + std::to_string(a) + ", " + std::to_string(b) + "]",
                              "token indices in [0, " + std::to_string(m) + ")");
      }
      return false;
    }
  }
  return true;
}

bool ShapedSdeOptions::IsValid(std::string* error) const {
  auto fail = [&](const std::string& field, const std::string& found, const std::string& want) {
    if (error) *error = ErrorMessage(field, found, want);
    return false;
  };
  if (!model.IsValid(error)) return false;
  if (!ValidateInitialCovariance(V0, error)) return false;
  if (!(depth_to_width > 0) || !std::isfinite(depth_to_width)) {
    return fail("depth_to_width", ToText(depth_to_width), "a finite t_f = d/n > 0");
  }
  if (!(dt > 0) || dt > depth_to_width) {
    return fail("dt", ToText(dt), "a step in (0, t_f = " + ToText(depth_to_width) + "]");
  }
  if (paths < 1) return fail("paths", ToText(paths), "at least 1 path");
  if (!(cap > 0)) return fail("cap", ToText(cap), "a value > 0");
  if (grid_points < 2) return fail("grid_points", ToText(grid_points), "at least 2 time points");
  return ValidateTrackedEntries(entries, V0.rows(), error);
}

ShapedPaths IntegrateShapedSde(const ShapedSdeOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  std::string error;
  if (!o.IsValid(&error)) throw Error(error);
  const Eigen::Index m = o.V0.rows();
  const Eigen::Index steps =
      std::max<Eigen::Index>(1, static_cast<Eigen::Index>(std::llround(o.depth_to_width / o.dt)));
  ShapedPaths out;
  InitShapedPaths(&out, o.source, m, o.paths, steps, o.dt, o.grid_points,
                  o.entries.empty() ? DefaultTrackedEntries(m) : o.entries);
  const Eigen::MatrixXd V0 = 0.5 * (o.V0 + o.V0.transpose());
  ParallelFor(
      o.paths, o.threads,
      [&](Eigen::Index p) {
        PropagationRng engine = PropagationEngine(o.seed, o.stream, static_cast<std::uint64_t>(p));
        ShapedEulerMaruyama stepper(o.model, m, o.dt);
        Eigen::MatrixXd V = V0;
        size_t k = 0;
        std::int32_t events = 0;
        bool exploded = false;
        for (Eigen::Index s = 0; s <= steps; ++s) {
          while (k < out.grid.size() && out.grid[k] == s) RecordGrid(&out, p, k++, V);
          if (s == steps) break;
          bool clipped = false;
          const bool ok = stepper.Step(V, o.cap, engine, &clipped);
          events += clipped;
          if (!ok) {
            exploded = true;
            out.explosion_time[static_cast<size_t>(p)] = static_cast<double>(s + 1) * o.dt;
            while (k < out.grid.size()) RecordGrid(&out, p, k++, V);  // frozen
            break;
          }
        }
        FinishPath(&out, p, exploded, events, V);
      },
      PathsProgressReporter(o.progress, o.source, o.paths, t0));
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return out;
}

}  // namespace attnpaths
