// Gram — the data of theory.md §10's feature-space form, A = ΞᵀΞ, b = ΞᵀY
// and YᵀY, accumulated in one streamed pass over the examples without ever
// holding Ξ (P × M) or any P × P matrix.
//
//   attnpaths::HmmExamples source(task);            // or NpyExamples, Hdf5Examples,
//   InMemoryExamples attnpaths::GramSummary summary; attnpaths::Gram g =
//   attnpaths::AccumulateGram(arch, source, Split::kTrain, {}, &summary); g.A;     // Ξᵀ Ξ, M × M
//   (M = Htot · N0), both triangles g.b;     // Ξᵀ Y, M × D g.yty;   // Σ_μd Y_μd² (yᵀy at D = 1)
//   g.P;     // examples summed
//
// The sums split over any partition of the examples (theory.md §10): Grams of
// disjoint slices add with Gram::Add; a data-parallel run sums them over its
// processes with SumOverRanks (each process reading its share of the examples
// through ExampleRange, kernels/example_range.h). Memory: the M × M matrix, one block of Ξᵀ and the
// streaming buffers of kernels/path_input_stream.h — O(M² + block), independent of P.
#pragma once

#include <Eigen/Core>
#include <string>

#include "kernels/architecture.h"
#include "kernels/example_source.h"
#include "kernels/path_input_stream.h"
#include "parallel/communicator.h"

namespace attnpaths {

struct Gram {
  Eigen::Index P = 0;     // examples summed
  Eigen::Index Htot = 0;  // paths
  Eigen::Index N0 = 0;    // features; M = Htot · N0
  Eigen::MatrixXd A;      // Ξᵀ Ξ (M × M, symmetric, both triangles stored)
  Eigen::MatrixXd b;      // Ξᵀ Y (M × D)
  Eigen::MatrixXd YtY;    // Yᵀ Y (D × D)
  double yty = 0;         // Σ_μd Y_μd² = tr YᵀY

  Eigen::Index M() const { return Htot * N0; }
  Eigen::Index D() const { return b.cols(); }

  // A zero Gram for M = Htot · N0 and D label columns.
  static Gram Zero(Eigen::Index Htot, Eigen::Index N0, Eigen::Index D);
  // Adds the sums of another slice of examples (same Htot, N0, D; throws Error otherwise).
  void Add(const Gram& other);
  // A += Ξ_blockᵀ Ξ_block, b += Ξ_blockᵀ Y_block, … for one block given as Ξᵀ
  // (M × B) and its labels (B × D), with `threads` workers (<= 0: every core)
  // over panels of A's lower triangle; the upper triangle is filled by Finish.
  void AddBlock(const Eigen::Ref<const Eigen::MatrixXd>& xi_t,
                const Eigen::Ref<const Eigen::MatrixXd>& y, int threads = 0);
  // Copies A's lower triangle to its upper one (after the last AddBlock).
  void Finish();
};

struct GramSummary {
  StreamSummary stream;     // reading and path inputs
  double gram_seconds = 0;  // the A, b, YᵀY updates
  double total_seconds = 0;
  std::string BriefReport() const;
};

// A, b, YᵀY and P of every example of `source` (theory.md §10) through
// StreamPathInputs. Throws Error for an architecture that does not fit the
// source, a source without labels, or whatever the source throws.
Gram AccumulateGram(const Architecture& arch, ExampleSource& source, Split split,
                    const StreamOptions& options = {}, GramSummary* summary = nullptr);

// Sums the Grams of every rank of `world` in place: when each rank's Gram holds
// the sums over its own share of the examples (theory.md §10: A, b, YᵀY, yᵀy
// and P add over any partition), every rank ends with the Gram of the whole
// set. One process: unchanged. Every rank must call it with the same Htot, N0
// and D (the same architecture and data set).
void SumOverRanks(const Communicator& world, Gram* gram);

}  // namespace attnpaths
