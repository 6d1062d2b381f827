// A finite-difference gradient checker of our own, used by every test of an
// analytic gradient.
//
//   auto f = [&](const Eigen::VectorXd& v) { return S(v); };
//   Eigen::VectorXd g_fd = attnpaths::test_util::FiniteDifferenceGradient(f, v0, 1e-3);
//   EXPECT_LE(attnpaths::test_util::RelativeError(g_analytic, g_fd), 1e-6);
//
// Derivatives are central differences improved by one Richardson step,
//   D(h) = (f(x+h) − f(x−h)) / 2h,   D* = (4 D(h/2) − D(h)) / 3,
// whose truncation error is O(h⁴): steps of 1e-3 relative give ~1e-10
// relative accuracy on smooth functions, well inside 1e-6.
//
// Symmetric order parameters are perturbed through their independent entries
// (upper triangle with diagonal): u_ij and u_ji move together, so the
// derivative with respect to an off-diagonal entry is 2 (∂S/∂U)_ij
// (theory.md §3, "Gradient").
#pragma once

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <vector>

namespace attnpaths::test_util {

// d/dt f(t) at t = 0 by Richardson-extrapolated central differences of step h.
inline double CentralDerivative(const std::function<double(double)>& f, double h) {
  const double d1 = (f(h) - f(-h)) / (2 * h);
  const double d2 = (f(h / 2) - f(-h / 2)) / h;
  return (4 * d2 - d1) / 3;
}

// Second derivative d²/dt² f(t) at t = 0 from the first derivative g(t).
inline double CentralSecondDerivative(const std::function<double(double)>& g, double h) {
  return CentralDerivative(g, h);
}

// ∇f(x) by Richardson-extrapolated central differences; the step of entry k
// is `relative_step · max(|x_k|, 1)`.
inline Eigen::VectorXd FiniteDifferenceGradient(
    const std::function<double(const Eigen::VectorXd&)>& f, const Eigen::VectorXd& x,
    double relative_step = 1e-3) {
  Eigen::VectorXd g(x.size());
  for (Eigen::Index k = 0; k < x.size(); ++k) {
    const double h = relative_step * std::max(std::abs(x(k)), 1.0);
    g(k) = CentralDerivative(
        [&](double t) {
          Eigen::VectorXd y = x;
          y(k) += t;
          return f(y);
        },
        h);
  }
  return g;
}

// ‖a − b‖∞ / ‖b‖∞ (‖b‖∞ floored at the smallest normal double).
inline double RelativeError(const Eigen::Ref<const Eigen::MatrixXd>& a,
                            const Eigen::Ref<const Eigen::MatrixXd>& b) {
  const double scale = std::max(b.cwiseAbs().maxCoeff(), std::numeric_limits<double>::min());
  return (a - b).cwiseAbs().maxCoeff() / scale;
}

// The independent entries (upper triangle with diagonal, column by column) of
// every symmetric matrix of `U`, stacked.
inline Eigen::VectorXd PackSymmetric(const std::vector<Eigen::MatrixXd>& U) {
  std::vector<double> v;
  for (const auto& u : U) {
    for (Eigen::Index j = 0; j < u.cols(); ++j) {
      for (Eigen::Index i = 0; i <= j; ++i) v.push_back(u(i, j));
    }
  }
  return Eigen::Map<const Eigen::VectorXd>(v.data(), static_cast<Eigen::Index>(v.size()));
}

// The inverse of PackSymmetric for matrices shaped like `like`: both u_ij and
// u_ji receive the independent entry.
inline std::vector<Eigen::MatrixXd> UnpackSymmetric(const Eigen::VectorXd& v,
                                                    const std::vector<Eigen::MatrixXd>& like) {
  std::vector<Eigen::MatrixXd> U;
  Eigen::Index k = 0;
  for (const auto& l : like) {
    Eigen::MatrixXd u(l.rows(), l.cols());
    for (Eigen::Index j = 0; j < u.cols(); ++j) {
      for (Eigen::Index i = 0; i <= j; ++i) u(i, j) = u(j, i) = v(k++);
    }
    U.push_back(std::move(u));
  }
  return U;
}

// The gradient with respect to the independent entries from the matrix
// gradient ∂S/∂U (all entries independent, symmetric; the upper triangle is
// read): off-diagonal entries take it twice, diagonal entries once
// (theory.md §3, "Gradient").
inline Eigen::VectorXd IndependentGradient(const std::vector<Eigen::MatrixXd>& grad) {
  std::vector<double> v;
  for (const auto& g : grad) {
    for (Eigen::Index j = 0; j < g.cols(); ++j) {
      for (Eigen::Index i = 0; i <= j; ++i) v.push_back(i == j ? g(i, i) : 2.0 * g(i, j));
    }
  }
  return Eigen::Map<const Eigen::VectorXd>(v.data(), static_cast<Eigen::Index>(v.size()));
}

}  // namespace attnpaths::test_util
