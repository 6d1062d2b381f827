// Random numbers for signal propagation: Boost.Random engines and
// distributions, which give the same streams with every compiler (design.md).
//
//   attnpaths::RandomEngine engine = attnpaths::PropagationEngine(seed, /*source=*/2, /*path=*/17);
//   double z = attnpaths::PropagationNormal(engine);
//
// Every simulated path (an SDE path, a finite network, a draw) has its own
// engine keyed by (seed, source, path), so a run is reproducible from its seed
// whatever the number of threads. The key differs from the sampler's chain
// engines (sampler/random.h), so the two never share a stream.
#pragma once

#include <boost/random/mersenne_twister.hpp>
#include <boost/random/normal_distribution.hpp>
#include <boost/random/seed_seq.hpp>
#include <cstdint>
#include <iterator>

namespace attnpaths {

using PropagationRng = boost::random::mt19937_64;

inline PropagationRng PropagationEngine(std::uint64_t seed, std::uint64_t source,
                                        std::uint64_t path) {
  const std::uint32_t words[] = {
      static_cast<std::uint32_t>(seed),       static_cast<std::uint32_t>(seed >> 32),
      static_cast<std::uint32_t>(source),     static_cast<std::uint32_t>(path),
      static_cast<std::uint32_t>(path >> 32), 0x3b9ac9f1u};
  boost::random::seed_seq sequence(std::begin(words), std::end(words));
  return PropagationRng(sequence);
}

inline double PropagationNormal(PropagationRng& engine) {
  return boost::random::normal_distribution<double>()(engine);
}

}  // namespace attnpaths
