#include "kernels/inputs.h"

#include <cmath>
#include <string>

#include "kernels/error.h"

namespace attnpaths {

Inputs::Inputs(Eigen::Index P, Eigen::Index n_tok, Eigen::Index N0)
    : P_(P), n_tok_(n_tok), N0_(N0) {
  Require(P >= 0 && n_tok >= 1 && N0 >= 1, "inputs shape",
          std::to_string(P) + " x " + std::to_string(n_tok) + " x " + std::to_string(N0),
          "P >= 0 examples of n_tok >= 1 tokens with N0 >= 1 features");
  values_.assign(static_cast<size_t>(P * n_tok * N0), 0.0);
}

Eigen::Map<Eigen::MatrixXd> Inputs::example(Eigen::Index mu) {
  return Eigen::Map<Eigen::MatrixXd>(values_.data() + mu * n_tok_ * N0_, N0_, n_tok_);
}

Eigen::Map<const Eigen::MatrixXd> Inputs::example(Eigen::Index mu) const {
  return Eigen::Map<const Eigen::MatrixXd>(values_.data() + mu * n_tok_ * N0_, N0_, n_tok_);
}

void Inputs::CheckFinite(const char* field) const {
  for (size_t k = 0; k < values_.size(); ++k) {
    if (!std::isfinite(values_[k])) {
      const Eigen::Index per = n_tok_ * N0_;
      const Eigen::Index mu = static_cast<Eigen::Index>(k) / per;
      const Eigen::Index t = (static_cast<Eigen::Index>(k) % per) / N0_;
      const Eigen::Index i = static_cast<Eigen::Index>(k) % N0_;
      throw Error(ErrorMessage(std::string(field) + "[" + std::to_string(mu) + "," +
                                   std::to_string(t) + "," + std::to_string(i) + "]",
                               ToText(values_[k]), "a finite number"));
    }
  }
}

Inputs Inputs::Select(const std::vector<Eigen::Index>& indices) const {
  Inputs out(static_cast<Eigen::Index>(indices.size()), n_tok_, N0_);
  for (size_t k = 0; k < indices.size(); ++k) {
    Require(indices[k] >= 0 && indices[k] < P_, "example index", indices[k],
            "an index in [0, P)");
    out.example(static_cast<Eigen::Index>(k)) = example(indices[k]);
  }
  return out;
}

}  // namespace attnpaths
