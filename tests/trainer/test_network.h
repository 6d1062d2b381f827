// Small random networks and datasets shared by the trainer tests.
#pragma once

#include <Eigen/Core>
#include <vector>

#include "kernels/inputs.h"
#include "network/network.h"
#include "tests/support/random_inputs.h"

namespace attnpaths::test_util {

// A network of the given heads and widths on N0 features and n_tok tokens,
// with every weight drawn N(0, 1) except Q, K drawn N(0, qk_std²) (large
// enough that the softmax is far from uniform).
inline Network RandomNetwork(Eigen::Index N0, Eigen::Index n_tok, std::vector<Eigen::Index> heads,
                             std::vector<Eigen::Index> widths, Eigen::Index key_dim,
                             Readout readout, Rng& rng, double qk_std = 0.8) {
  NetworkShape s;
  s.N0 = N0;
  s.n_tok = n_tok;
  s.heads = std::move(heads);
  s.widths = std::move(widths);
  s.key_dim = key_dim;
  s.readout = readout;
  Network net(s);
  for (Eigen::Index i = 0; i < net.num_parameters(); ++i) net.parameters()(i) = rng.Normal();
  for (int l = 1; l <= s.L(); ++l) {
    for (Eigen::Index h = 0; h < s.heads[static_cast<size_t>(l - 1)]; ++h) {
      net.Q(l, h) = RandomNormal(key_dim, N0, rng, qk_std);
      net.K(l, h) = RandomNormal(key_dim, N0, rng, qk_std);
    }
  }
  return net;
}

}  // namespace attnpaths::test_util
