#include "kernels/finite_path_inputs.h"

#include <cmath>

#include "kernels/error.h"

namespace attnpaths {

void CheckFinitePathInputs(const Architecture& arch, const Inputs& x, const PathInputs& xi,
                           Split split, const std::string& field) {
  Eigen::Index bad = -1;
  double norm2 = 0;
  for (Eigen::Index mu = 0; mu < xi.P() && bad < 0; ++mu) {
    norm2 = xi.xi.row(mu).squaredNorm();  // inf or NaN when an entry is
    if (!std::isfinite(norm2) || norm2 > kMaxPathInputNorm2) bad = mu;
  }
  if (bad < 0) return;
  const std::string example = field + " example " + std::to_string(bad);
  // A head whose attention is not finite on that example (scores overflowed).
  const auto xm = x.example(bad);
  for (size_t l = 0; l < arch.layers.size(); ++l) {
    for (size_t h = 0; h < arch.layers[l].size(); ++h) {
      const HeadSpec& head = arch.layers[l][h];
      const Eigen::MatrixXd omega = AttentionMatrix(head, xm, bad, split);
      if (omega.allFinite()) continue;
      throw Error(ErrorMessage(
          "layer " + std::to_string(l + 1) + " head " + std::to_string(h + 1) + " (" + head.name +
              ", kind " + HeadKindName(head.kind) + ", beta = " + ToText(head.beta) + ")",
          "attention that is not finite on " + example + " (its scores overflow)",
          "finite attention scores (lower beta, or rescale the head's matrices or the inputs)"));
    }
  }
  const double x_max = xm.cwiseAbs().maxCoeff();
  throw Error(ErrorMessage(
      example,
      "path inputs whose squared norm is " + ToText(norm2) +
          " (inputs up to |x| = " + ToText(x_max) + ", sigma_0^2 = architecture.variances[0] = " +
          ToText(arch.variances.empty() ? 0.0 : arch.variances[0]) + ")",
      "kernels that stay finite: at most " + ToText(kMaxPathInputNorm2) +
          " (rescale the inputs, e.g. standardise each feature, or lower sigma_0^2)"));
}

}  // namespace attnpaths
