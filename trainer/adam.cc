#include "trainer/adam.h"

#include <cmath>

#include "kernels/error.h"

namespace attnpaths {

bool AdamOptions::IsValid(std::string* error) const {
  auto fail = [&](const std::string& m) {
    if (error) *error = m;
    return false;
  };
  if (!(beta1 >= 0 && beta1 < 1)) {
    return fail(ErrorMessage("training.beta1", ToText(beta1), "a value in [0, 1)"));
  }
  if (!(beta2 >= 0 && beta2 < 1)) {
    return fail(ErrorMessage("training.beta2", ToText(beta2), "a value in [0, 1)"));
  }
  if (!(epsilon > 0) || !std::isfinite(epsilon)) {
    return fail(ErrorMessage("training.epsilon", ToText(epsilon), "a finite value > 0"));
  }
  return true;
}

Adam::Adam(Eigen::Index num_parameters, const AdamOptions& options) : options_(options) {
  std::string error;
  if (!options.IsValid(&error)) throw Error(error);
  m_ = Eigen::VectorXd::Zero(num_parameters);
  v_ = Eigen::VectorXd::Zero(num_parameters);
}

void Adam::Step(double learning_rate, const Eigen::Ref<const Eigen::VectorXd>& gradient,
                Eigen::VectorXd* theta) {
  Require(gradient.size() == m_.size() && theta->size() == m_.size(), "Adam gradient size",
          gradient.size(), std::to_string(m_.size()) + " (the number of parameters)");
  Require(std::isfinite(learning_rate) && learning_rate >= 0, "learning rate", learning_rate,
          "a finite value >= 0");
  ++steps_;
  const double b1 = options_.beta1, b2 = options_.beta2;
  beta1_power_ *= b1;
  beta2_power_ *= b2;
  m_ = b1 * m_ + (1 - b1) * gradient;
  v_ = b2 * v_ + (1 - b2) * gradient.cwiseAbs2();
  const double c1 = 1.0 / (1.0 - beta1_power_), c2 = 1.0 / (1.0 - beta2_power_);
  theta->array() -=
      learning_rate * (c1 * m_.array()) / ((c2 * v_.array()).sqrt() + options_.epsilon);
}

}  // namespace attnpaths
