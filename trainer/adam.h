// Adam (Kingma & Ba 2015) on a flat parameter vector, with bias correction.
//
//   attnpaths::Adam adam(theta.size(), attnpaths::AdamOptions{});
//   for (...) adam.Step(learning_rate, gradient, &theta);
//
// Step t (counted from 1), gradient g:
//   m ← β₁ m + (1−β₁) g,   v ← β₂ v + (1−β₂) g²,
//   θ ← θ − η (m / (1−β₁ᵗ)) / (√(v / (1−β₂ᵗ)) + ε).
// The learning rate η is an argument of every step so that the caller owns
// the schedule.
#pragma once

#include <Eigen/Core>
#include <string>

namespace attnpaths {

struct AdamOptions {
  double beta1 = 0.9;     // decay of the first-moment average (the usual default)
  double beta2 = 0.999;   // decay of the second-moment average (the usual default)
  double epsilon = 1e-8;  // added to √v̂ so that flat directions take finite steps

  // false (and *error = "field: found X, expected Y") for β outside [0, 1) or ε <= 0.
  bool IsValid(std::string* error) const;
};

class Adam {
 public:
  // Throws Error when the options are invalid.
  Adam(Eigen::Index num_parameters, const AdamOptions& options);

  // One update of *theta with the gradient at *theta. Throws Error when the
  // sizes differ or the learning rate is negative or not finite.
  void Step(double learning_rate, const Eigen::Ref<const Eigen::VectorXd>& gradient,
            Eigen::VectorXd* theta);

  long steps() const { return steps_; }
  const Eigen::VectorXd& first_moment() const { return m_; }
  const Eigen::VectorXd& second_moment() const { return v_; }

 private:
  AdamOptions options_;
  Eigen::VectorXd m_, v_;
  long steps_ = 0;
  double beta1_power_ = 1, beta2_power_ = 1;  // β₁ᵗ, β₂ᵗ
};

}  // namespace attnpaths
