#include "curvature/ntk_margin.h"

#include <chrono>

#include "kernels/error.h"
#include "network/pass.h"

namespace attnpaths {

Eigen::MatrixXd NtkFeatures(const Network& net, const Inputs& x, TrainedWeights trained) {
  Require(net.shape().outputs == 1, "network outputs", net.shape().outputs,
          "1 (the NTK margin is for a scalar output f)");
  std::vector<Eigen::Index> ids(static_cast<size_t>(x.P()));
  for (Eigen::Index mu = 0; mu < x.P(); ++mu) ids[static_cast<size_t>(mu)] = mu;
  const Eigen::MatrixXd J = OutputJacobian(net, x, ids);  // P × n_params, row μ = ∇_θ f(x^μ)
  if (trained == TrainedWeights::kAll) return J;
  const std::vector<Eigen::Index> cols = TrainedParameterIndices(net, trained);
  Eigen::MatrixXd phi(J.rows(), static_cast<Eigen::Index>(cols.size()));
  for (size_t c = 0; c < cols.size(); ++c) phi.col(static_cast<Eigen::Index>(c)) = J.col(cols[c]);
  return phi;
}

NtkMargin ComputeNtkMargin(const Network& net, const Inputs& x,
                           const Eigen::Ref<const Eigen::VectorXd>& y, TrainedWeights trained,
                           const HardMarginOptions& options) {
  std::string error;
  if (!options.IsValid(&error)) throw Error(error);
  Require(y.size() == x.P(), "labels", y.size(), ToText(x.P()) + " (one per example)");
  const auto start = std::chrono::steady_clock::now();
  NtkMargin m;
  const Eigen::MatrixXd phi = NtkFeatures(net, x, trained);
  m.features = phi.cols();
  const Eigen::MatrixXd K = phi * phi.transpose();  // the gradient Gram matrix
  m.gram_trace = K.trace();
  m.svm = SolveHardMarginDual(K, y, options);
  m.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return m;
}

NtkMargin NtkMarginAtInitialization(const NetworkShape& shape, const Inputs& x,
                                    const Eigen::Ref<const Eigen::VectorXd>& y,
                                    const TrainOptions& training,
                                    const HardMarginOptions& options) {
  std::string error;
  if (!training.IsValid(&error)) throw Error(error);
  const Network net = InitialNetwork(shape, training);
  return ComputeNtkMargin(net, x, y, training.trained, options);
}

}  // namespace attnpaths
