// Random numbers for the sampler: Boost.Random engines and distributions,
// which give the same streams with every compiler (std:: distributions do not).
//
//   attnpaths::RandomEngine engine = attnpaths::ChainEngine(/*seed=*/42, /*chain=*/3);
//   double u = attnpaths::Uniform01(engine);          // in [0, 1)
//   double z = attnpaths::StandardNormal(engine);
//
// Each chain has its own engine seeded from (seed, chain), so a run is
// reproducible from its seed whatever the number of threads.
#pragma once

#include <boost/random/mersenne_twister.hpp>
#include <boost/random/normal_distribution.hpp>
#include <boost/random/seed_seq.hpp>
#include <boost/random/uniform_01.hpp>
#include <cstdint>
#include <iterator>

namespace attnpaths {

using RandomEngine = boost::random::mt19937_64;

// `stream` separates independent streams of one chain (0: NUTS, 1: the
// reporter's draws, e.g. the readout given V of the collapsed sampler).
inline RandomEngine ChainEngine(std::uint64_t seed, int chain, std::uint32_t stream = 0) {
  const std::uint32_t words[] = {static_cast<std::uint32_t>(seed),
                                 static_cast<std::uint32_t>(seed >> 32),
                                 static_cast<std::uint32_t>(chain), 0x5a3c96e1u ^ stream};
  boost::random::seed_seq sequence(std::begin(words), std::end(words));
  return RandomEngine(sequence);
}

inline double Uniform01(RandomEngine& engine) {
  return boost::random::uniform_01<double>()(engine);
}

inline double StandardNormal(RandomEngine& engine) {
  return boost::random::normal_distribution<double>()(engine);
}

}  // namespace attnpaths
