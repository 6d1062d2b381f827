#include "solver/pruning.h"

#include <algorithm>
#include <boost/random/mersenne_twister.hpp>
#include <boost/random/uniform_int_distribution.hpp>
#include <chrono>
#include <cmath>
#include <map>
#include <sstream>

#include "kernels/error.h"
#include "kernels/path_inputs.h"
#include "solver/action.h"
#include "solver/predictor.h"

namespace attnpaths {

const char* PruningOrderName(PruningOrder order) { return NameOf(order); }
const char* PruningModeName(PruningMode mode) { return NameOf(mode); }

PruningOrder ParsePruningOrder(const std::string& text, const std::string& field) {
  return ParseEnum<PruningOrder>(text, field);
}

PruningMode ParsePruningMode(const std::string& text, const std::string& field) {
  return ParseEnum<PruningMode>(text, field);
}

std::vector<OptionField> PruningOptionFields(PruningOptions* o) {
  return {
      EnumListOption("orders", "orders",
                     "removal orders, one curve each: increasing, random, decreasing", &o->orders),
      InRange(
          IntOption("random_repeats", "random-repeats", "random orders drawn (one curve each)",
                    &o->random_repeats),
          [](double x) { return x >= 1; }, "at least 1"),
      UInt64Option("seed", "seed", "seed of the random orders (the same in both modes)", &o->seed),
  };
}

bool PruningOptions::IsValid(std::string* error) const {
  auto fail = [&](const std::string& m) {
    if (error) *error = m;
    return false;
  };
  if (orders.empty()) return fail(ErrorMessage("pruning.orders", "nothing", "at least one order"));
  if (random_repeats < 1) {
    return fail(ErrorMessage("pruning.random_repeats", ToText(random_repeats), "a value >= 1"));
  }
  return solve.IsValid(error);
}

std::string PruningSummary::BriefReport() const {
  std::ostringstream s;
  s << "attnpaths prune: " << curves << " curves, " << steps << " removals";
  if (solves > 0)
    s << ", " << solves << " reduced networks solved (" << not_converged << " not converged)";
  s << ", " << total_seconds << " s (" << message << ")";
  return s.str();
}

namespace {

using Clock = std::chrono::steady_clock;

// The index of `id` (full-network numbering) in the network with `removed` gone.
HeadId CurrentIndex(const HeadId& id, const std::vector<HeadId>& removed) {
  HeadId current = id;
  for (const HeadId& r : removed) {
    if (r.layer == id.layer && r.head < id.head) --current.head;
  }
  return current;
}

// Applies "never remove the last head of a layer" to a priority list.
std::vector<HeadId> KeepLastHeads(const std::vector<HeadId>& priority,
                                  const std::vector<Eigen::Index>& H) {
  std::vector<Eigen::Index> left = H;
  std::vector<HeadId> sequence;
  for (const HeadId& id : priority) {
    Eigen::Index& n = left[static_cast<size_t>(id.layer - 1)];
    if (n > 1) {
      --n;
      sequence.push_back(id);
    }
  }
  return sequence;
}

std::vector<Eigen::Index> HeadCounts(const HeadRelevance& r) {
  std::vector<Eigen::Index> H;
  for (const auto& layer : r.score) H.push_back(static_cast<Eigen::Index>(layer.size()));
  return H;
}

PruningStep MakeStep(const HeadRelevance& r, const std::vector<HeadId>& sequence, int k,
                     Eigen::Index paths_remaining) {
  PruningStep step;
  step.removed = k;
  if (k > 0) {
    step.head = sequence[static_cast<size_t>(k - 1)];
    step.name =
        r.names[static_cast<size_t>(step.head.layer - 1)][static_cast<size_t>(step.head.head)];
    step.score = r.Score(step.head);
  }
  step.paths_remaining = paths_remaining;
  return step;
}

Eigen::Index RemainingPaths(const std::vector<Eigen::Index>& H,
                            const std::vector<HeadId>& removed) {
  Eigen::Index n = 1;
  for (size_t l = 0; l < H.size(); ++l) {
    Eigen::Index left = H[l];
    for (const HeadId& id : removed) left -= id.layer == static_cast<int>(l + 1);
    n *= left;
  }
  return n;
}

// The curves' removal sequences, in the order of options.orders.
std::vector<PruningCurve> PlanCurves(const HeadRelevance& r, const PruningOptions& options) {
  std::vector<PruningCurve> curves;
  for (PruningOrder order : options.orders) {
    const int repeats = order == PruningOrder::kRandom ? options.random_repeats : 1;
    for (int k = 0; k < repeats; ++k) {
      PruningCurve c;
      c.order = order;
      c.repeat = k;
      c.sequence = RemovalSequence(r, order, options.seed, k);
      curves.push_back(std::move(c));
    }
  }
  return curves;
}

// The set of removed heads as a map key (order-free).
std::vector<std::pair<int, Eigen::Index>> SortedKey(const std::vector<HeadId>& removed) {
  std::vector<std::pair<int, Eigen::Index>> key;
  for (const HeadId& id : removed) key.emplace_back(id.layer, id.head);
  std::sort(key.begin(), key.end());
  return key;
}

void ValidateOptions(const PruningOptions& options) {
  std::string why;
  if (!options.IsValid(&why)) throw Error(why);
}

}  // namespace

std::vector<HeadId> RemovalSequence(const HeadRelevance& relevance, PruningOrder order,
                                    std::uint64_t seed, int repeat) {
  std::vector<HeadId> all;
  for (size_t l = 0; l < relevance.score.size(); ++l) {
    for (size_t h = 0; h < relevance.score[l].size(); ++h) {
      all.push_back({static_cast<int>(l + 1), static_cast<Eigen::Index>(h)});
    }
  }
  if (order == PruningOrder::kRandom) {
    Require(repeat >= 0, "random order repeat", repeat, "a value >= 0");
    // Fisher–Yates with Boost.Random: the same orders on every compiler.
    boost::random::mt19937_64 engine(seed);
    std::vector<HeadId> shuffled;
    for (int k = 0; k <= repeat; ++k) {
      shuffled = all;
      for (size_t i = shuffled.size(); i > 1; --i) {
        boost::random::uniform_int_distribution<size_t> pick(0, i - 1);
        std::swap(shuffled[i - 1], shuffled[pick(engine)]);
      }
    }
    all = std::move(shuffled);
  } else {
    const bool increasing = order == PruningOrder::kIncreasing;
    std::stable_sort(all.begin(), all.end(), [&](const HeadId& a, const HeadId& b) {
      const double sa = relevance.Score(a), sb = relevance.Score(b);
      return increasing ? sa < sb : sa > sb;
    });
  }
  return KeepLastHeads(all, HeadCounts(relevance));
}

Eigen::MatrixXd SilenceHeads(const Paths& paths, const Eigen::Ref<const Eigen::MatrixXd>& U1,
                             const std::vector<HeadId>& pruned) {
  const Eigen::Index H = paths.Htot();
  Require(U1.rows() == U1.cols() && U1.rows() >= H && U1.rows() % H == 0, "U_1 shape",
          std::to_string(U1.rows()) + " x " + std::to_string(U1.cols()),
          std::to_string(H) + " x " + std::to_string(H) +
              " (Htot x Htot), or (Htot D) x (Htot D) for D outputs");
  const Eigen::Index D = U1.rows() / H;
  CheckHeadIds(paths.heads_per_layer(), pruned);
  Eigen::MatrixXd U = U1;
  for (Eigen::Index p = 0; p < H; ++p) {
    const auto heads = paths.Heads(p);
    bool through = false;
    for (size_t l = 0; l < heads.size() && !through; ++l) {
      through = IsPruned(pruned, static_cast<int>(l + 1), heads[l]);
    }
    if (through) {  // theory.md §6: the rows and columns (π, d) of a silenced path, every d
      U.middleRows(p * D, D).setZero();
      U.middleCols(p * D, D).setZero();
    }
  }
  return U;
}

PruningResult PruneBySilencing(const Architecture& arch, const PathKernel& train,
                               const Eigen::Ref<const Eigen::MatrixXd>& Y, double temperature,
                               const Eigen::Ref<const Eigen::MatrixXd>& U1, const PathInputs& test,
                               const Eigen::Ref<const Eigen::MatrixXd>& Y_test,
                               const PruningOptions& options, PruningSummary* summary) {
  const auto t0 = Clock::now();
  ValidateOptions(options);
  const Paths paths(arch.heads_per_layer());
  Require(train.Htot() == paths.Htot(), "training path kernels (Htot)", train.Htot(),
          std::to_string(paths.Htot()) + " (the architecture's paths)");
  Require(test.Htot == paths.Htot(), "test path inputs (Htot)", test.Htot,
          std::to_string(paths.Htot()) + " (the architecture's paths)");
  const Eigen::MatrixXd y_test = Y_test;
  PruningResult result;
  result.mode = PruningMode::kSilence;
  result.relevance = ScoreHeads(paths, U1, HeadNames(arch));
  result.curves = PlanCurves(result.relevance, options);
  PruningSummary s;
  // Silencing depends only on the set of pruned heads: predict each set once.
  std::map<std::vector<std::pair<int, Eigen::Index>>, std::pair<double, double>> cache;
  for (size_t c = 0; c < result.curves.size(); ++c) {
    PruningCurve& curve = result.curves[c];
    const int n = static_cast<int>(curve.sequence.size());
    for (int k = 0; k <= n; ++k) {
      const std::vector<HeadId> removed(curve.sequence.begin(), curve.sequence.begin() + k);
      PruningStep step = MakeStep(result.relevance, curve.sequence, k,
                                  RemainingPaths(paths.heads_per_layer(), removed));
      const auto key = SortedKey(removed);
      auto it = cache.find(key);
      if (it == cache.end()) {
        const Eigen::MatrixXd U = SilenceHeads(paths, U1, removed);
        const PredictorStatistics st = Predict(train, Y, temperature, U, test, &y_test);
        it = cache.emplace(key, std::make_pair(st.accuracy, st.generalization_error)).first;
      }
      step.accuracy = it->second.first;
      step.generalization_error = it->second.second;
      curve.steps.push_back(std::move(step));
      if (k > 0) ++s.steps;
      if (options.progress) {
        options.progress({PruningMode::kSilence, static_cast<int>(c),
                          static_cast<int>(result.curves.size()), k, n});
      }
    }
  }
  s.curves = static_cast<int>(result.curves.size());
  s.total_seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  s.message = "silencing: U_1 rows and columns of pruned paths set to zero, no re-solve";
  if (summary) *summary = s;
  return result;
}

namespace {

// The training problem and test path inputs of one reduced network.
struct ReducedProblem {
  PathProblem train;
  PathInputs test;
};
// Makes them for the full network without the `removed` heads.
using ReducedProblemMaker = std::function<ReducedProblem(const std::vector<HeadId>& removed)>;

// The full network's problem and test inputs restricted to the kept paths
// (PathProblem::WithoutHeads, kernels/path_inputs.h SelectPaths): no attention
// is recomputed.
ReducedProblemMaker Slicer(const PathProblem& full, const PathInputs& test,
                           const KernelOptions& kernel) {
  return [&full, &test, kernel](const std::vector<HeadId>& removed) {
    return ReducedProblem{
        full.WithoutHeads(removed, kernel),
        SelectPaths(test, KeptPaths(full.architecture.heads_per_layer(), 1, removed))};
  };
}

PruningResult Resolve(const PathProblem& full, const PathInputs& test,
                      const Eigen::Ref<const Eigen::MatrixXd>& Y_test,
                      const OrderParameters& solution, const PruningOptions& options,
                      const ReducedProblemMaker& make_reduced, Clock::time_point t0,
                      PruningSummary* summary) {
  const Architecture& arch = full.architecture;
  const Eigen::MatrixXd y_test = Y_test;
  PruningResult result;
  result.mode = PruningMode::kResolve;
  result.relevance = ScoreHeads(arch, solution.U[0]);
  result.curves = PlanCurves(result.relevance, options);
  PruningSummary s;

  // One reduced network, solved once whatever curve reaches it.
  struct Solved {
    PruningStep step;  // metrics (head fields are filled per curve)
    OrderParameters op;
  };
  std::map<std::vector<std::pair<int, Eigen::Index>>, Solved> cache;

  // The full network at the given solution (step 0 of every curve).
  Solved full_step;
  {
    const Action action(full);
    const ActionValue v = action.Evaluate(solution.U);
    const PredictorStatistics st = Predict(full, solution.U[0], test, &y_test);
    full_step.step.paths_remaining = full.train->Htot();
    full_step.step.accuracy = st.accuracy;
    full_step.step.generalization_error = st.generalization_error;
    if (v.ok) full_step.step.action = v.S;
    full_step.op = solution;
  }

  for (size_t c = 0; c < result.curves.size(); ++c) {
    PruningCurve& curve = result.curves[c];
    const int n = static_cast<int>(curve.sequence.size());
    PruningStep first = full_step.step;
    curve.steps.push_back(first);
    if (options.progress) {
      options.progress({PruningMode::kResolve, static_cast<int>(c),
                        static_cast<int>(result.curves.size()), 0, n});
    }
    std::vector<HeadId> removed;
    Architecture current = arch;
    OrderParameters current_op = solution;
    for (int k = 1; k <= n; ++k) {
      const HeadId head = curve.sequence[static_cast<size_t>(k - 1)];
      const HeadId local = CurrentIndex(head, removed);
      const OrderParameters warm = RestrictOrderParameters(current, current_op, {local});
      removed.push_back(head);
      current = RemoveHeads(arch, removed);
      const auto key = SortedKey(removed);
      auto it = cache.find(key);
      if (it == cache.end()) {
        Solved solved;
        const ReducedProblem reduced = make_reduced(removed);
        const Action action(reduced.train);
        SolveOptions so = options.solve;
        so.initial_U = warm.U;
        so.progress = nullptr;
        SolveSummary ss;
        const Solution sol = Solve(action, so, &ss);
        ++s.solves;
        solved.step.paths_remaining = reduced.train.train->Htot();
        solved.step.converged = ss.converged();
        solved.step.termination = SolveTerminationName(ss.termination);
        solved.step.iterations = ss.iterations;
        if (ss.termination != SolveTermination::kFailure) {
          const PredictorStatistics st =
              Predict(reduced.train, sol.order_parameters.U[0], reduced.test, &y_test);
          solved.step.accuracy = st.accuracy;
          solved.step.generalization_error = st.generalization_error;
          solved.step.action = sol.action;
          solved.step.gradient_norm = ss.gradient_norm;
          solved.op = sol.order_parameters;
        } else {
          solved.op = warm;  // nothing better to continue from; reported as not converged
        }
        if (!ss.converged()) ++s.not_converged;
        it = cache.emplace(key, std::move(solved)).first;
      }
      PruningStep step =
          MakeStep(result.relevance, curve.sequence, k, it->second.step.paths_remaining);
      const PruningStep& m = it->second.step;
      step.accuracy = m.accuracy;
      step.generalization_error = m.generalization_error;
      step.converged = m.converged;
      step.termination = m.termination;
      step.iterations = m.iterations;
      step.action = m.action;
      step.gradient_norm = m.gradient_norm;
      curve.steps.push_back(std::move(step));
      current_op = it->second.op;
      ++s.steps;
      if (options.progress) {
        options.progress({PruningMode::kResolve, static_cast<int>(c),
                          static_cast<int>(result.curves.size()), k, n});
      }
    }
  }
  s.curves = static_cast<int>(result.curves.size());
  s.total_seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  s.message = "re-solve: the theory of each reduced architecture, warm-started (not silencing)";
  if (summary) *summary = s;
  return result;
}

void CheckResolveArguments(const Architecture& arch, const Eigen::Ref<const Eigen::MatrixXd>& Y,
                           const OrderParameters& solution, const PruningOptions& options) {
  ValidateOptions(options);
  Require(solution.outputs() == Y.cols(), "solution U_a shape",
          std::to_string(solution.outputs()) + " x " + std::to_string(solution.outputs()),
          std::to_string(Y.cols()) + " x " + std::to_string(Y.cols()) + " (D of the labels)");
  CheckShapes(arch, solution.U, Y.cols());
}

}  // namespace

PruningResult PruneByResolving(const PathProblem& problem, const PathInputs& test,
                               const Eigen::Ref<const Eigen::MatrixXd>& Y_test,
                               const OrderParameters& solution, const PruningOptions& options,
                               PruningSummary* summary) {
  const auto t0 = Clock::now();
  CheckResolveArguments(problem.architecture, problem.Y, solution, options);
  Require(!options.recompute_path_inputs, "pruning.recompute_path_inputs", "true",
          "false with precomputed path kernels (recomputing needs the raw inputs)");
  Require(problem.train != nullptr, "training path kernels", "nothing",
          "the full network's path kernel");
  const Eigen::Index Htot = problem.architecture.Htot();
  Require(problem.train->Htot() == Htot, "training path kernels (Htot)", problem.train->Htot(),
          std::to_string(Htot) + " (the architecture's paths)");
  Require(test.Htot == Htot, "test path inputs (Htot)", test.Htot,
          std::to_string(Htot) + " (the architecture's paths)");
  return Resolve(problem, test, Y_test, solution, options, Slicer(problem, test, options.kernel),
                 t0, summary);
}

PruningResult PruneByResolving(const Architecture& arch, const PathKernel& train,
                               const Eigen::Ref<const Eigen::MatrixXd>& Y, const PathInputs& test,
                               const Eigen::Ref<const Eigen::MatrixXd>& Y_test, double temperature,
                               const OrderParameters& solution, const PruningOptions& options,
                               PruningSummary* summary) {
  return PruneByResolving(PathProblem::Borrowing(arch, train, Y, temperature), test, Y_test,
                          solution, options, summary);
}

PruningResult PruneByResolving(const Architecture& arch, const Inputs& x_train,
                               const Eigen::Ref<const Eigen::MatrixXd>& Y, const Inputs& x_test,
                               const Eigen::Ref<const Eigen::MatrixXd>& Y_test, double temperature,
                               const OrderParameters& solution, const PruningOptions& options,
                               PruningSummary* summary) {
  const auto t0 = Clock::now();
  CheckResolveArguments(arch, Y, solution, options);
  PathProblem full;
  full.architecture = arch;
  full.train = std::make_shared<const PathKernel>(
      ComputePathInputs(arch, x_train, Split::kTrain, options.threads), options.kernel);
  full.Y = Y;
  full.temperature = temperature;
  const PathInputs test = ComputePathInputs(arch, x_test, Split::kTest, options.threads);
  ReducedProblemMaker make = Slicer(full, test, options.kernel);
  if (options.recompute_path_inputs) {  // the reference route: attention again per network
    make = [&](const std::vector<HeadId>& removed) {
      ReducedProblem reduced{full, {}};
      reduced.train.architecture = RemoveHeads(arch, removed);
      reduced.train.train = std::make_shared<const PathKernel>(
          ComputePathInputs(reduced.train.architecture, x_train, Split::kTrain, options.threads),
          options.kernel);
      reduced.test =
          ComputePathInputs(reduced.train.architecture, x_test, Split::kTest, options.threads);
      return reduced;
    };
  }
  return Resolve(full, test, Y_test, solution, options, make, t0, summary);
}

}  // namespace attnpaths
