#include "curvature/lanczos.h"

#include <Eigen/Eigenvalues>
#include <algorithm>
#include <boost/random/mersenne_twister.hpp>
#include <boost/random/normal_distribution.hpp>
#include <boost/random/uniform_int_distribution.hpp>
#include <cmath>
#include <numbers>
#include <sstream>
#include <vector>

#include "kernels/error.h"

namespace attnpaths {

namespace {

boost::random::mt19937 Engine(std::uint64_t seed) {
  return boost::random::mt19937(static_cast<std::uint32_t>(seed ^ (seed >> 32)));
}

// The Lanczos recursion with full re-orthogonalisation: T = tridiag(β, α, β).
class Recursion {
 public:
  Recursion(const SymmetricOperator& op, boost::random::mt19937* engine)
      : op_(op), engine_(engine), basis_(op.rows, 0) {}

  // Starts from v (normalised); false when it has no part outside the basis.
  bool Start(Eigen::VectorXd v) {
    Orthogonalise(&v);
    const double norm = v.norm();
    if (!(norm > 1e-10)) return false;
    Append(v / norm);
    return true;
  }

  // One step: α_j, β_j and the next basis vector. On a breakdown (β ≈ 0)
  // continues from a fresh random vector with β_j = 0; false when the basis
  // spans everything.
  bool Step() {
    const Eigen::Index j = basis_.cols() - 1;
    Eigen::VectorXd w = op_.apply(basis_.col(j));
    Require(w.size() == op_.rows && w.allFinite(), "operator product", "a non-finite value",
            "finite products");
    ++products_;
    const double a = basis_.col(j).dot(w);
    alpha_.push_back(a);
    Orthogonalise(&w);
    const double b = w.norm();
    scale_ = std::max(scale_, std::abs(a) + b);
    if (basis_.cols() == op_.rows) return false;
    if (b > 1e-10 * std::max(scale_, 1e-300)) {
      beta_.push_back(b);
      Append(w / b);
      return true;
    }
    // An invariant subspace: restart orthogonally to the basis.
    boost::random::normal_distribution<double> normal;
    for (int attempt = 0; attempt < 5; ++attempt) {
      Eigen::VectorXd v(op_.rows);
      for (Eigen::Index i = 0; i < v.size(); ++i) v(i) = normal(*engine_);
      Orthogonalise(&v);
      const double norm = v.norm();
      if (norm > 1e-8) {
        beta_.push_back(0.0);
        Append(v / norm);
        ++restarts_;
        block_start_ = static_cast<Eigen::Index>(alpha_.size());
        return true;
      }
    }
    return false;
  }

  // Eigen-decomposition of the current T (ascending Ritz values).
  void Ritz(Eigen::VectorXd* values, Eigen::MatrixXd* vectors) const {
    const auto m = static_cast<Eigen::Index>(alpha_.size());
    Eigen::MatrixXd T = Eigen::MatrixXd::Zero(m, m);
    for (Eigen::Index i = 0; i < m; ++i) {
      T(i, i) = alpha_[static_cast<size_t>(i)];
      if (i + 1 < m) T(i, i + 1) = T(i + 1, i) = beta_[static_cast<size_t>(i)];
    }
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(T);
    *values = eig.eigenvalues();
    *vectors = eig.eigenvectors();
  }

  // The residual bound |β_m s_{m,i}| of each Ritz pair (β_m the last
  // off-diagonal, 0 when the basis is complete).
  double last_beta() const { return beta_.size() == alpha_.size() ? beta_.back() : 0.0; }
  int products() const { return products_; }
  int restarts() const { return restarts_; }
  Eigen::Index steps() const { return static_cast<Eigen::Index>(alpha_.size()); }
  // Steps since the last restart (the open Krylov block).
  Eigen::Index block_steps() const { return steps() - block_start_; }

 private:
  void Orthogonalise(Eigen::VectorXd* v) const {
    for (int pass = 0; pass < 2; ++pass) {
      if (basis_.cols() == 0) return;
      const Eigen::VectorXd coeff = basis_.transpose() * *v;
      v->noalias() -= basis_ * coeff;
    }
  }
  void Append(const Eigen::VectorXd& v) {
    basis_.conservativeResize(Eigen::NoChange, basis_.cols() + 1);
    basis_.col(basis_.cols() - 1) = v;
  }

  const SymmetricOperator& op_;
  boost::random::mt19937* engine_;
  Eigen::MatrixXd basis_;
  std::vector<double> alpha_, beta_;
  double scale_ = 0;
  int products_ = 0, restarts_ = 0;
  Eigen::Index block_start_ = 0;
};

}  // namespace

bool LanczosOptions::IsValid(std::string* error) const {
  auto fail = [&](const std::string& field, const std::string& found, const std::string& want) {
    if (error) *error = ErrorMessage(field, found, want);
    return false;
  };
  if (eigenvalues < 1) return fail("lanczos.eigenvalues", ToText(eigenvalues), "a value >= 1");
  if (max_iterations < 1) {
    return fail("lanczos.max_iterations", ToText(max_iterations), "a value >= 1");
  }
  if (!(tolerance > 0) || !std::isfinite(tolerance)) {
    return fail("lanczos.tolerance", ToText(tolerance), "a finite value > 0");
  }
  return true;
}

std::string LanczosSummary::BriefReport() const {
  std::ostringstream s;
  s << "Lanczos: " << (converged ? "converged" : "not converged") << ", " << iterations
    << " products, " << restarts << " restarts, largest residual " << max_residual << " ("
    << message << ")";
  return s.str();
}

ExtremeEigenvalues LanczosExtremes(const SymmetricOperator& op, const LanczosOptions& options,
                                   LanczosSummary* summary) {
  std::string error;
  if (!options.IsValid(&error)) throw Error(error);
  Require(op.rows >= 1 && op.apply != nullptr, "operator rows", op.rows,
          "an operator with rows >= 1");
  LanczosSummary local;
  LanczosSummary& sum = summary ? *summary : local;
  sum = LanczosSummary();
  const Eigen::Index n = op.rows;
  const Eigen::Index k = std::min<Eigen::Index>(options.eigenvalues, n);
  const Eigen::Index cap = std::min<Eigen::Index>(std::max(options.max_iterations, 1), n);
  boost::random::mt19937 engine = Engine(options.seed);
  boost::random::normal_distribution<double> normal;
  Eigen::VectorXd v(n);
  for (Eigen::Index i = 0; i < n; ++i) v(i) = normal(engine);
  Recursion lanczos(op, &engine);
  lanczos.Start(v);

  ExtremeEigenvalues out;
  Eigen::VectorXd theta;
  Eigen::MatrixXd S;
  auto check = [&]() {
    lanczos.Ritz(&theta, &S);
    const Eigen::Index m = theta.size();
    const double beta = lanczos.last_beta();
    const double scale = std::max(theta.cwiseAbs().maxCoeff(), 1e-300);
    const Eigen::Index kk = std::min(k, m);
    out.largest.resize(kk);
    out.smallest.resize(kk);
    out.largest_residuals.resize(kk);
    out.smallest_residuals.resize(kk);
    double worst = 0;
    for (Eigen::Index i = 0; i < kk; ++i) {
      out.largest(i) = theta(m - 1 - i);
      out.largest_residuals(i) = std::abs(beta * S(m - 1, m - 1 - i));
      out.smallest(i) = theta(i);
      out.smallest_residuals(i) = std::abs(beta * S(m - 1, i));
      worst = std::max({worst, out.largest_residuals(i), out.smallest_residuals(i)});
    }
    sum.max_residual = worst;
    return kk == k && worst <= options.tolerance * scale;
  };
  bool done = false;
  while (!done) {
    const bool more = lanczos.Step();
    const Eigen::Index m = lanczos.steps();
    // Check every few steps once the open Krylov block has 2k steps, and at
    // the end. After a restart the closed blocks' Ritz values are exact, but
    // copies of them may still be missing: only an open block of 2k steps
    // that brings no new extreme value ends the iteration.
    if (!more || m >= cap || (lanczos.block_steps() >= 2 * k && m % 5 == 0)) {
      done = check() || !more || m >= cap;
    }
  }
  sum.iterations = lanczos.products();
  sum.restarts = lanczos.restarts();
  sum.converged = check();
  sum.message = sum.converged ? "every asked Ritz value within tolerance"
                              : "max_iterations reached before the asked Ritz values converged";
  return out;
}

bool SpectralDensityOptions::IsValid(std::string* error) const {
  auto fail = [&](const std::string& field, const std::string& found, const std::string& want) {
    if (error) *error = ErrorMessage(field, found, want);
    return false;
  };
  if (probes < 1) return fail("density.probes", ToText(probes), "a value >= 1");
  if (steps < 1) return fail("density.steps", ToText(steps), "a value >= 1");
  if (grid < 2) return fail("density.grid", ToText(grid), "a value >= 2");
  if (!(broadening > 0) || !std::isfinite(broadening)) {
    return fail("density.broadening", ToText(broadening), "a finite value > 0");
  }
  return true;
}

SpectralDensity LanczosSpectralDensity(const SymmetricOperator& op,
                                       const SpectralDensityOptions& options) {
  std::string error;
  if (!options.IsValid(&error)) throw Error(error);
  Require(op.rows >= 1 && op.apply != nullptr, "operator rows", op.rows,
          "an operator with rows >= 1");
  const Eigen::Index n = op.rows;
  boost::random::mt19937 engine = Engine(options.seed);
  boost::random::uniform_int_distribution<int> coin(0, 1);
  std::vector<double> nodes, weights;
  for (int p = 0; p < options.probes; ++p) {
    Eigen::VectorXd v(n);
    for (Eigen::Index i = 0; i < n; ++i) v(i) = coin(engine) ? 1.0 : -1.0;
    // Quadrature for vᵀ g(M) v / n with ‖v‖² = n: weights (first component)².
    Recursion lanczos(op, &engine);
    lanczos.Start(v);
    const Eigen::Index steps = std::min<Eigen::Index>(options.steps, n);
    while (lanczos.steps() < steps && lanczos.Step()) {
    }
    Eigen::VectorXd theta;
    Eigen::MatrixXd S;
    lanczos.Ritz(&theta, &S);
    for (Eigen::Index j = 0; j < theta.size(); ++j) {
      nodes.push_back(theta(j));
      weights.push_back(S(0, j) * S(0, j) / options.probes);
    }
  }
  SpectralDensity rho;
  rho.nodes = Eigen::Map<Eigen::VectorXd>(nodes.data(), static_cast<Eigen::Index>(nodes.size()));
  rho.weights =
      Eigen::Map<Eigen::VectorXd>(weights.data(), static_cast<Eigen::Index>(weights.size()));
  const double lo = rho.nodes.minCoeff(), hi = rho.nodes.maxCoeff();
  const double s = options.broadening * std::max(hi - lo, 1e-12 * std::max(1.0, std::abs(hi)));
  rho.grid = Eigen::VectorXd::LinSpaced(options.grid, lo - 3 * s, hi + 3 * s);
  rho.density = Eigen::VectorXd::Zero(options.grid);
  const double norm = 1.0 / (s * std::sqrt(2 * std::numbers::pi));
  for (Eigen::Index g = 0; g < rho.grid.size(); ++g) {
    double acc = 0;
    for (Eigen::Index j = 0; j < rho.nodes.size(); ++j) {
      const double z = (rho.grid(g) - rho.nodes(j)) / s;
      acc += rho.weights(j) * std::exp(-0.5 * z * z);
    }
    rho.density(g) = norm * acc;
  }
  return rho;
}

}  // namespace attnpaths
