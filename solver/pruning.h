// Pruning — remove heads one at a time and follow test accuracy and
// generalisation error (theory.md §6).
//
//   attnpaths::PruningOptions options;             // increasing, random (×10), decreasing
//   attnpaths::PruningSummary summary;
//   // The paper's quantity: silence the pruned heads in U_1, no re-solve.
//   attnpaths::PruningResult silenced = attnpaths::PruneBySilencing(
//       arch, train_kernel, Y, T, sol.order_parameters.U[0], test_inputs, Y_test, options,
//       &summary);
//   // A different quantity: the theory re-solved for each reduced architecture.
//   attnpaths::PruningResult resolved = attnpaths::PruneByResolving(
//       problem, test_inputs, Y_test, sol.order_parameters, options, &summary);   // a PathProblem
//   silenced.curves[0].steps[1].accuracy;          // after removing the least relevant head
//
// Orders. Heads are ranked once, by the scores of the full network's U_1
// (solver/head_relevance.h): increasing relevance (the theory's pruning
// order), decreasing relevance, and random orders (Boost.Random, seeded).
// The last remaining head of a layer is never removed (the network would
// output zero): it is skipped and the next head in the order is taken, so
// every curve has Σ_ℓ (H_ℓ − 1) removals. Ties in score keep (layer, head) order.
//
// Modes.
//  * Silencing (theory.md §6, the paper's): every row and column of U_1 whose
//    path passes through a pruned head is set to zero, all other entries are
//    kept, and the predictor of §4 is recomputed on the full network's path
//    kernels. Nothing is re-solved.
//  * Re-solving: the pruned heads are removed from the Architecture, the path
//    inputs of the reduced network are the full network's columns of the
//    remaining paths, rescaled because Htot (and with it the normalisation of
//    ξ_π) shrinks (kernels/path_inputs.h SelectPaths; attention is computed
//    once, for the full network), and the action of the reduced
//    network is minimised, warm-started from the previous step's solution
//    restricted to the remaining paths (every U_ℓ). This is the theory of a
//    smaller network, not the silenced one; reports label it as such.
#pragma once

#include <Eigen/Core>
#include <array>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "kernels/architecture.h"
#include "kernels/enum_names.h"
#include "kernels/inputs.h"
#include "kernels/path_kernel.h"
#include "kernels/paths.h"
#include "solver/head_relevance.h"
#include "solver/head_removal.h"
#include "solver/order_parameters.h"
#include "solver/path_problem.h"
#include "solver/solve.h"

namespace attnpaths {

enum class PruningOrder { kIncreasing, kRandom, kDecreasing };
enum class PruningMode { kSilence, kResolve };

template <>
struct EnumNames<PruningOrder> {
  static constexpr std::array<EnumName<PruningOrder>, 3> values{
      {{PruningOrder::kIncreasing, "increasing"},
       {PruningOrder::kRandom, "random"},
       {PruningOrder::kDecreasing, "decreasing"}}};
};
template <>
struct EnumNames<PruningMode> {
  static constexpr std::array<EnumName<PruningMode>, 2> values{
      {{PruningMode::kSilence, "silence"}, {PruningMode::kResolve, "resolve"}}};
};

const char* PruningOrderName(PruningOrder order);  // "increasing", "random", "decreasing"
const char* PruningModeName(PruningMode mode);     // "silence", "resolve"
// Parse the names above; throw Error naming `field`.
PruningOrder ParsePruningOrder(const std::string& text, const std::string& field);
PruningMode ParsePruningMode(const std::string& text, const std::string& field);

struct PruningProgress {
  PruningMode mode = PruningMode::kSilence;
  int curve = 0, curves = 0;  // curve index (0-based) and count
  int step = 0, steps = 0;    // removals done on this curve and its length
};

struct PruningOptions {
  // The orders to run; each gives one curve (kRandom gives random_repeats).
  std::vector<PruningOrder> orders = {PruningOrder::kIncreasing, PruningOrder::kRandom,
                                      PruningOrder::kDecreasing};
  // Random orders drawn (one curve each), so their spread can be shown.
  int random_repeats = 10;
  // Seed of the Boost.Random mt19937_64 engine that draws the random orders
  // (the same seed gives the same orders in both modes).
  std::uint64_t seed = 1;
  // Re-solve mode: solver settings for each reduced network (initial_U is
  // replaced by the warm start).
  SolveOptions solve;
  // Re-solve mode: strategy and memory limit of each reduced network's kernels.
  KernelOptions kernel;
  // Re-solve mode: threads for the path inputs (<= 0: every core).
  int threads = 0;
  // Re-solve mode, raw-input overload only: recompute every reduced network's
  // path inputs (attention included) from the raw inputs instead of selecting
  // the full network's. The same numbers to rounding, slower: the reference
  // route that tests/heads/pruning_test.cc and bench/pruning_bench compare with.
  bool recompute_path_inputs = false;
  // Called after every step (libraries print nothing; the CLI shows progress).
  std::function<void(const PruningProgress&)> progress;

  bool IsValid(std::string* error) const;
};

// The settings of PruningOptions a study file ([pruning]) or the command line
// may set (orders, random_repeats, seed), bound to *options; the re-solve's
// solver and kernel settings come from [solver] and [kernel].
std::vector<OptionField> PruningOptionFields(PruningOptions* options);

struct PruningStep {
  int removed = 0;   // heads removed so far (0: the full network)
  HeadId head;       // the head removed at this step (unused when removed = 0)
  std::string name;  // its name ("" when removed = 0)
  double score = std::numeric_limits<double>::quiet_NaN();  // its relevance score
  Eigen::Index paths_remaining = 0;
  double accuracy = std::numeric_limits<double>::quiet_NaN();
  double generalization_error = std::numeric_limits<double>::quiet_NaN();
  // Re-solve mode only (silencing leaves the defaults).
  bool converged = true;
  std::string termination;  // SolveTerminationName, "" for silencing and removed = 0
  int iterations = 0;
  double action = std::numeric_limits<double>::quiet_NaN();  // S of the reduced network
  double gradient_norm = std::numeric_limits<double>::quiet_NaN();
};

struct PruningCurve {
  PruningOrder order = PruningOrder::kIncreasing;
  int repeat = 0;                  // index among the random orders (0 otherwise)
  std::vector<HeadId> sequence;    // the heads removed, in order
  std::vector<PruningStep> steps;  // steps[k]: after k removals (steps[0]: none)
};

struct PruningResult {
  PruningMode mode = PruningMode::kSilence;
  HeadRelevance relevance;           // scores of the full network that set the orders
  std::vector<PruningCurve> curves;  // in the order of options.orders
};

struct PruningSummary {
  int curves = 0;
  int steps = 0;          // removals evaluated over all curves
  int solves = 0;         // re-solve mode: distinct reduced networks solved
  int not_converged = 0;  // re-solve mode: of those, how many did not converge
  double total_seconds = 0;
  std::string message = "Prune was not called";

  std::string BriefReport() const;
};

// The removal sequence for `order` (random: the next draw of `engine_seed`'s
// stream, repeat `repeat`), after the rule that keeps the last head of a layer.
std::vector<HeadId> RemovalSequence(const HeadRelevance& relevance, PruningOrder order,
                                    std::uint64_t seed = 1, int repeat = 0);

// U_1 with every row and column of a path through one of `pruned` set to zero,
// every other entry kept (theory.md §6); with D outputs U_1 is (Htot D) ×
// (Htot D) and the rows and columns (π, d) of a silenced path go for every d.
Eigen::MatrixXd SilenceHeads(const Paths& paths, const Eigen::Ref<const Eigen::MatrixXd>& U1,
                             const std::vector<HeadId>& pruned);

// The paper's pruning (silencing). `U1` is the full network's solution,
// `train`/`test` its path kernels and test path inputs. Throws Error on shape
// mismatches or invalid options.
PruningResult PruneBySilencing(const Architecture& arch, const PathKernel& train,
                               const Eigen::Ref<const Eigen::MatrixXd>& Y, double temperature,
                               const Eigen::Ref<const Eigen::MatrixXd>& U1, const PathInputs& test,
                               const Eigen::Ref<const Eigen::MatrixXd>& Y_test,
                               const PruningOptions& options, PruningSummary* summary);

// Pruning by re-solving the theory on each reduced architecture (a different
// quantity from silencing). `problem` is the full network's (its path kernel
// computed once) and `test` its test path inputs: each reduced network's are
// selected from them (PathProblem::WithoutHeads), never recomputed;
// `solution` is the full network's solution (it sets the scores and the first
// warm start); the architecture's widths are kept. A reduced network that does not
// converge is reported (converged = false, counted in the summary), not
// dropped. Throws Error on shape mismatches or invalid options.
PruningResult PruneByResolving(const PathProblem& problem, const PathInputs& test,
                               const Eigen::Ref<const Eigen::MatrixXd>& Y_test,
                               const OrderParameters& solution, const PruningOptions& options,
                               PruningSummary* summary);
// The same for a kernel the caller keeps alive (PathProblem::Borrowing).
PruningResult PruneByResolving(const Architecture& arch, const PathKernel& train,
                               const Eigen::Ref<const Eigen::MatrixXd>& Y, const PathInputs& test,
                               const Eigen::Ref<const Eigen::MatrixXd>& Y_test, double temperature,
                               const OrderParameters& solution, const PruningOptions& options,
                               PruningSummary* summary);
// The same from the raw inputs: the full network's path inputs are computed
// once (with options.threads and options.kernel), then as above.
PruningResult PruneByResolving(const Architecture& arch, const Inputs& x_train,
                               const Eigen::Ref<const Eigen::MatrixXd>& Y, const Inputs& x_test,
                               const Eigen::Ref<const Eigen::MatrixXd>& Y_test, double temperature,
                               const OrderParameters& solution, const PruningOptions& options,
                               PruningSummary* summary);

}  // namespace attnpaths
