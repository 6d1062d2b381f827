#include "kernels/path_input_stream.h"

#include <algorithm>
#include <chrono>
#include <exception>
#include <thread>

#include "kernels/error.h"

namespace attnpaths {
namespace {

using Clock = std::chrono::steady_clock;

double Since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

constexpr double kBlockBytes = 32.0 * (1 << 20);

}  // namespace

bool StreamOptions::IsValid(std::string* why) const {
  if (block_examples < 0) {
    if (why) *why = "block_examples must be >= 0 (0 picks a size), found " + ToText(block_examples);
    return false;
  }
  return true;
}

Eigen::Index StreamOptions::BlockExamples(Eigen::Index P, Eigen::Index n_tok,
                                          Eigen::Index N0) const {
  Eigen::Index b = block_examples;
  if (b <= 0) {
    b = std::max<Eigen::Index>(
        64, static_cast<Eigen::Index>(kBlockBytes / (8.0 * static_cast<double>(n_tok * N0))));
  }
  return std::max<Eigen::Index>(1, std::min(b, P));
}

void StreamPathInputs(const Architecture& arch, ExampleSource& source, Split split,
                      const StreamOptions& options,
                      const std::function<void(const PathInputBlock&)>& visit,
                      StreamSummary* summary) {
  const auto t_start = Clock::now();
  std::string why;
  Require(options.IsValid(&why), "stream options", why, "valid options");
  const PathInputCalculator calc(arch, source.N0(), source.n_tok());
  StreamSummary s;
  const Eigen::Index P = source.P();
  const Eigen::Index B = options.BlockExamples(P, source.n_tok(), source.N0());
  PathInputOptions po;
  po.threads = options.threads;

  ExampleBlock blocks[2];
  PathInputBlock out;
  // Reads block k (examples [k B, min(P, (k+1) B))) into blocks[k % 2].
  auto read = [&](Eigen::Index k, double* seconds) {
    const auto t0 = Clock::now();
    const Eigen::Index b = k * B;
    source.Read(b, std::min(P, b + B), &blocks[k % 2]);
    *seconds += Since(t0);
  };
  const Eigen::Index n_blocks = P == 0 ? 0 : (P + B - 1) / B;
  double reader_seconds = 0;
  if (n_blocks > 0) read(0, &s.read_seconds);
  for (Eigen::Index k = 0; k < n_blocks; ++k) {
    // The next block is read on its own thread while this one is computed.
    std::thread reader;
    std::exception_ptr read_error;
    const bool ahead = k + 1 < n_blocks;
    if (ahead && options.prefetch) {
      reader = std::thread([&, k] {
        try {
          read(k + 1, &reader_seconds);
        } catch (...) {
          read_error = std::current_exception();
        }
      });
    }
    try {
      const ExampleBlock& block = blocks[k % 2];
      auto t0 = Clock::now();
      out.begin = block.begin;
      out.xi_t.resize(calc.M(), block.x.P());
      calc.ComputeTransposed(block.x, split, block.begin, out.xi_t, po);
      out.y = block.y;
      s.path_input_seconds += Since(t0);
      t0 = Clock::now();
      visit(out);
      s.visit_seconds += Since(t0);
    } catch (...) {
      if (reader.joinable()) reader.join();
      throw;
    }
    if (reader.joinable()) {
      const auto t0 = Clock::now();
      reader.join();
      s.wait_seconds += Since(t0);
      if (read_error) std::rethrow_exception(read_error);
    } else if (ahead) {
      read(k + 1, &s.read_seconds);
    }
    s.blocks += 1;
    s.examples += blocks[k % 2].x.P();
    if (options.progress) options.progress(s.examples, P);
  }
  s.read_seconds += reader_seconds;
  s.total_seconds = Since(t_start);
  if (summary) *summary = s;
}

}  // namespace attnpaths
