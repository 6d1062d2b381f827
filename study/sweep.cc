#include "study/sweep.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <optional>
#include <system_error>

#include "data/atomic_file.h"
#include "data/result_folder.h"
#include "data/study_fingerprint.h"
#include "kernels/collective.h"
#include "kernels/error.h"
#include "kernels/paths.h"
#include "parallel/blas_threads.h"
#include "parallel/communicator.h"
#include "parallel/cpu_budget.h"
#include "parallel/executor.h"
#include "solver/action_hessian.h"
#include "solver/hessian.h"
#include "solver/predictor.h"
#include "study/result_row.h"
#include "study/run_record.h"
#include "study/settings.h"
#include "study/solved_for.h"
#include "study/study_kernels.h"
#include "study/test_predictions.h"

namespace attnpaths {

namespace {

// Solve keeps BLAS serial up to this side of G (solver/solve.cc); a Hessian
// the sweep computes in its place does the same, to the same bits.
constexpr Eigen::Index kSolveSerialBlasGramSize = 1024;

// The architecture without its heads' weights (W, Q, K, fixed and given
// attention matrices): what the solver reads of it, cheap to copy.
Architecture WithoutHeadWeights(Architecture a) {
  for (auto& layer : a.layers) {
    for (HeadSpec& h : layer) {
      h.W.resize(0, 0);
      h.Q.resize(0, 0);
      h.K.resize(0, 0);
      h.fixed.resize(0, 0);
      h.given_train.reset();
      h.given_test.reset();
    }
  }
  return a;
}

using Clock = std::chrono::steady_clock;

std::uint64_t Fnv1a(const std::string& text, std::uint64_t h = 1469598103934665603ull) {
  for (unsigned char c : text) h = (h ^ c) * 1099511628211ull;
  return h;
}

std::string PointName(double N, double T) {
  return "N" + ExactNumber(N) + "_T" + ExactNumber(T) + ".json";
}

OrderParameters OrderParametersFromJson(const nlohmann::json& j, const std::string& file) {
  OrderParameters op;
  try {
    for (const auto& layer : j.at("U")) {
      const Eigen::Index m = static_cast<Eigen::Index>(layer.size());
      Eigen::MatrixXd u(m, m);
      for (Eigen::Index i = 0; i < m; ++i) {
        for (Eigen::Index k = 0; k < m; ++k) u(i, k) = layer.at(i).at(k).get<double>();
      }
      op.U.push_back(std::move(u));
    }
    op.U_a = ReadoutFromJson(j.at("U_a"));
  } catch (const nlohmann::json::exception& e) {
    throw Error(ErrorMessage(file, std::string("unreadable order parameters (") + e.what() + ")",
                             "a point file written by attnpaths sweep (delete it to recompute)"));
  }
  return op;
}

// The manifest of an earlier run must describe this sweep and its data.
void CheckManifest(const std::string& manifest_path, const std::string& fingerprint,
                   const std::vector<DataFingerprint>& data, const nlohmann::json& data_json) {
  nlohmann::json m;
  try {
    m = nlohmann::json::parse(ReadFile(manifest_path));
  } catch (const nlohmann::json::exception&) {
    m = nlohmann::json();
  }
  Require(m.is_object(), manifest_path, "no sweep manifest (unreadable JSON)",
          "the manifest attnpaths sweep writes (delete the folder to start afresh)");
  Require(m.value("fingerprint", "") == fingerprint, manifest_path,
          "a different sweep (config, widths or temperatures changed)",
          "the same sweep to resume, or another --output directory");
  Require(m.contains("data") && m["data"].is_object(), manifest_path,
          "no fingerprints of the data the finished points were solved with (an older "
          "attnpaths wrote it)",
          "a manifest with data fingerprints to resume (delete the folder, or choose another "
          "--output, to solve every point again)");
  const nlohmann::json& old = m["data"];
  for (const DataFingerprint& d : data) {
    const std::string what = d.field + (d.file.empty() ? std::string() : " (" + d.file + ")");
    Require(old.contains(d.field), manifest_path + ": data",
            what + " not read by the finished points",
            "the same data to resume (delete the folder, or choose another --output)");
    const std::string before =
        old[d.field].is_object() ? old[d.field].value("fingerprint", "") : std::string();
    Require(before == d.fingerprint, manifest_path + ": " + what,
            "other data than the finished points were solved with (fingerprint " + before +
                " then, " + d.fingerprint + " now: the file was replaced or changed)",
            "the same data to resume (restore it, or delete the folder / choose another "
            "--output to solve every point again)");
  }
  for (auto it = old.begin(); it != old.end(); ++it) {
    Require(data_json.contains(it.key()), manifest_path + ": data", it.key() + " is no longer read",
            "the same data to resume (delete the folder, or choose another --output)");
  }
}

// sweep.csv: the rows in the order widths × temperatures were given. Several
// outputs (theory.md §9): U_a and U_1 columns carry the output index,
// "U_a[d d']" and "U1[path:d|path:d']" (0-based d), upper triangles.
std::string SweepCsv(const Study& study, const Provenance& run, const nlohmann::json& table) {
  const Paths paths(study.architecture.heads_per_layer());
  std::vector<std::vector<std::string>> names;
  for (const auto& layer : study.architecture.layers) {
    names.emplace_back();
    for (const auto& h : layer) names.back().push_back(h.name);
  }
  const Eigen::Index D = study.train.y.cols(), HD = paths.Htot() * D;
  auto entry = [&](Eigen::Index a) {
    return paths.Label(a / D, names) + (D > 1 ? ":" + std::to_string(a % D) : std::string());
  };
  std::string csv = run.CsvComment() +
                    "N,T,action,iterations,gradient_norm,test_accuracy,generalization_error,"
                    "converged";
  if (D == 1) {
    csv += ",U_a";
  } else {
    for (Eigen::Index i = 0; i < D; ++i) {
      for (Eigen::Index j = i; j < D; ++j) {
        csv += ",U_a[" + std::to_string(i) + " " + std::to_string(j) + "]";
      }
    }
  }
  for (Eigen::Index i = 0; i < HD; ++i) {
    for (Eigen::Index j = i; j < HD; ++j) csv += ",U1[" + entry(i) + "|" + entry(j) + "]";
  }
  csv += "\n";
  auto num = [](const nlohmann::json& v) {
    return v.is_null() ? std::string("") : ExactNumber(v.get<double>());
  };
  for (const nlohmann::json& row : table) {
    csv += num(row["N"]) + "," + num(row["temperature"]) + "," + num(row["action"]) + "," +
           std::to_string(row["iterations"].get<int>()) + "," + num(row["gradient_norm"]) + "," +
           num(row["test_accuracy"]) + "," + num(row["generalization_error"]) + "," +
           (row["converged"].get<bool>() ? "true" : "false");
    if (D == 1) {
      csv += "," + num(row["U_a"]);
    } else {
      for (Eigen::Index i = 0; i < D; ++i) {
        for (Eigen::Index j = i; j < D; ++j) csv += "," + num(row["U_a"][i][j]);
      }
    }
    const auto& U1 = row["U"][0];
    for (Eigen::Index i = 0; i < HD; ++i) {
      for (Eigen::Index j = i; j < HD; ++j) csv += "," + num(U1[i][j]);
    }
    csv += "\n";
  }
  return csv;
}

}  // namespace

bool SweepOptions::IsValid(std::string* error) const {
  try {
    CheckSweepValues(widths, "widths", 1.0);
    CheckSweepValues(temperatures, "temperatures", 0.0);
  } catch (const Error& e) {
    if (error) *error = e.what();
    return false;
  }
  if (threads < 0) {
    if (error)
      *error = ErrorMessage("threads", std::to_string(threads), "0 (all cores) or a count >= 1");
    return false;
  }
  return true;
}

std::string SweepSummary::BriefReport() const {
  char buf[200];
  std::snprintf(buf, sizeof buf, "sweep: %zu points (%zu solved, %zu loaded), %s, %.3g s", points,
                solved, loaded, all_converged ? "all converged" : "NOT all converged",
                total_seconds);
  return buf;
}

std::string SweepSummary::FullReport() const {
  return BriefReport() + "\noutput: " + output + "/sweep.csv, sweep.json, points/\n";
}

SweepResult Sweep(const Study& study, const SweepOptions& options, SweepSummary* summary) {
  const auto t_start = Clock::now();
  std::string invalid;
  if (!options.IsValid(&invalid)) throw Error(invalid);
  std::vector<double> widths = !options.widths.empty() ? options.widths : study.sweep_widths;
  if (widths.empty()) widths = {study.architecture.widths.front()};
  const std::vector<double> temps =
      !options.temperatures.empty() ? options.temperatures : study.temperatures;
  CheckSweepValues(widths, "widths", 1.0);
  CheckSweepValues(temps, "temperatures", 0.0);
  const std::string out = options.output.empty() ? study.output_directory : options.output;
  // Under mpirun the chains (one per temperature) are split over the
  // processes; rank 0 alone locks the folder, checks and writes the manifest
  // and the tables, every rank writes the points it solves (the folder must
  // be on a file system every process sees). Each phase below fails on every
  // rank or on none (kernels/collective.h).
  const Communicator& world = Communicator::World();
  // Locked for the whole sweep; points and the manifest are written live (resumable), the
  // tables sweep.csv / sweep.json are committed at the end (data/result_folder.h).
  std::optional<ResultFolder> folder;
  const std::string points_dir = (std::filesystem::path(out) / "points").string();
  const std::string manifest_path = (std::filesystem::path(out) / "sweep_manifest.json").string();

  // A manifest ties the output directory to this sweep: the config text, the
  // grid, and fingerprints of every array the study read (theory.md is silent;
  // docs/cli.md, "sweep"), so that a point is never loaded for other data.
  char fp_text[24];
  std::vector<DataFingerprint> data;
  nlohmann::json data_json = nlohmann::json::object();
  bool resuming = false;
  RunCollectively(world, [&] {
    if (world.root()) folder.emplace(out, std::vector<std::string>{"sweep.json", "sweep.csv"});
    Require(std::filesystem::is_regular_file(study.config_path), "study",
            "\"" + study.config_path + "\" (not a file: a study parsed from text)",
            "a study loaded from its TOML file (the sweep's manifest fingerprints its text)");
    std::uint64_t fp = Fnv1a(ReadFile(study.config_path));
    for (double w : widths) fp = Fnv1a(ExactNumber(w), fp);
    for (double t : temps) fp = Fnv1a(ExactNumber(t), fp);
    // Points of several outputs solved before theory.md §9 (one U shared by the
    // outputs) are not this theory's: their directories must not be resumed.
    if (study.train.y.cols() > 1) fp = Fnv1a("outputs: theory.md section 9", fp);
    std::snprintf(fp_text, sizeof fp_text, "%016llx", static_cast<unsigned long long>(fp));
    data = StudyDataFingerprints(study);
    for (const DataFingerprint& d : data) {
      data_json[d.field] = {{"file", d.file}, {"fingerprint", d.fingerprint}};
    }
    resuming = std::filesystem::exists(manifest_path);
    if (!world.root()) return;
    if (resuming) {
      CheckManifest(manifest_path, fp_text, data, data_json);
    } else if (std::filesystem::exists(points_dir)) {
      for (const auto& e : std::filesystem::directory_iterator(points_dir)) {
        Require(e.path().extension() != ".json", points_dir,
                "point files without a sweep_manifest.json (" + e.path().filename().string() + ")",
                "a folder attnpaths sweep wrote whole, or a fresh --output (delete the points to "
                "recompute them)");
      }
    }
  });

  // A fresh sweep that fails before its first point leaves nothing behind.
  struct FreshCleanup {
    bool active = false;
    std::string manifest, points;
    ~FreshCleanup() {
      if (!active) return;
      std::remove(manifest.c_str());
      std::error_code ec;
      std::filesystem::remove(points, ec);  // only when empty
    }
  } cleanup{world.root() && !resuming && !std::filesystem::exists(points_dir), manifest_path,
            points_dir};

  std::mutex report_mutex;
  const auto report = [&](SweepProgress p) {
    if (!options.progress) return;
    p.elapsed_seconds = std::chrono::duration<double>(Clock::now() - t_start).count();
    std::lock_guard<std::mutex> lock(report_mutex);
    options.progress(p);
  };
  const std::size_t total = widths.size() * temps.size();
  report({.computing_path_inputs = true, .total = total});
  // The training kernel (its Gram summed over the processes in the feature
  // form); the test set's path inputs whole unless it is streamed: every
  // process predicts the test set at its own points.
  StudyKernels k;
  k.train = BuildTrainKernel(study, options.threads);
  RunCollectively(world, [&] {
    if (!Streamed(study, Split::kTest))
      k.test = StudyPathInputs(study, Split::kTest, options.threads);
    if (!world.root()) return;
    std::error_code ec;
    std::filesystem::create_directories(points_dir, ec);
    if (ec || !std::filesystem::is_directory(points_dir)) {
      throw Error(ErrorMessage("output directory", "\"" + points_dir + "\" (" + ec.message() + ")",
                               "a directory that exists or can be created"));
    }
    if (!resuming) {
      nlohmann::json m;
      m["fingerprint"] = fp_text;
      m["config"] = study.config_path;
      m["widths"] = widths;
      m["temperatures"] = temps;
      m["data"] = data_json;
      WriteFileAtomically(manifest_path, m.dump(2) + "\n");
    }
  });
  const SolveOptions block_settings = ReadStudySettings(study).solve;
  Provenance run = options.provenance;
  RecordStudy(study, options.threads, &run);
  run.Set("sweep_widths", widths);
  run.Set("sweep_temperatures", temps);
  const SolveOptions solve_options = ReadStudySettings(study).solve;
  run.Set("solver", SolverSettings(solve_options));
  run.Set("continuation",
          "per temperature, widths in decreasing order; the largest starts from U_GP, every "
          "other from the solution of the next larger width");
  const nlohmann::json provenance = run.Json();
  const nlohmann::json solved_for = SolvedForJson(study);

  std::vector<double> chain = widths;
  std::sort(chain.begin(), chain.end(), std::greater<>());
  std::vector<std::vector<nlohmann::json>> results(temps.size(),
                                                   std::vector<nlohmann::json>(chain.size()));
  std::atomic<std::size_t> done{0}, solved{0};
  std::atomic<bool> all_converged{true};

  auto run_chain = [&](std::size_t ti) {
    const double T = temps[ti];
    // Every point's Action copies its architecture: without the heads'
    // weights (only the solver sees it, and it reads head counts, widths and
    // variances), ≈ 0.5 ms less per point on the Markov task.
    Architecture arch = WithoutHeadWeights(study.architecture);
    std::vector<Eigen::MatrixXd> start;  // empty: U_GP
    // The previous point's stability-check Hessian (Solution::hessian): the
    // first Newton model of the next point (NeighbourActionHessian), with
    // the previous widths in `previous`.
    Eigen::MatrixXd start_hessian;
    Architecture previous = arch;
    bool start_loaded = false;  // the previous point came from its file
    const bool carry = solve_options.compute_hessian &&
                       solve_options.hessian == SolveOptions::HessianMethod::kAnalytic;
    for (std::size_t wi = 0; wi < chain.size(); ++wi) {
      const double N = chain[wi];
      const std::string file = (std::filesystem::path(points_dir) / PointName(N, T)).string();
      nlohmann::json row;
      const bool load = std::filesystem::exists(file);
      if (load) {
        try {
          row = nlohmann::json::parse(ReadFile(file));
        } catch (const nlohmann::json::exception& e) {
          throw Error(
              ErrorMessage(file, "unreadable JSON", "a point file (delete it to recompute)"));
        }
      } else {
        const auto t0 = Clock::now();
        arch.widths.assign(arch.widths.size(), N);  // every n_l = N (theory.md §8)
        const Action action(arch, *k.train, study.train.y, T);
        SolveOptions point_options = solve_options;
        point_options.initial_U = start;
        if (carry && start_loaded && !start.empty() &&
            IndependentEntries(start) <= solve_options.hessian_max_dimension) {
          // A resumed sweep: the Hessian the run that solved the previous point
          // computed at its solution (the same function of the same U, with
          // BLAS serial as in Solve), so that the resumed sweep ends with the
          // files of an uninterrupted one, bit for bit.
          const Action before(previous, *k.train, study.train.y, T);
          std::optional<ScopedSerialBlas> serial_blas;
          if (before.DenseSize() <= kSolveSerialBlasGramSize) serial_blas.emplace();
          if (!AnalyticActionHessian(before, start, &start_hessian)) start_hessian.resize(0, 0);
        }
        if (carry && start_hessian.size() > 0 &&
            !NeighbourActionHessian(action, previous, start, start_hessian,
                                    &point_options.initial_hessian)) {
          point_options.initial_hessian.resize(0, 0);  // computed by Solve
        }
        SolveSummary s;
        Solution sol = Solve(action, point_options, &s);
        start_hessian = std::move(sol.hessian);
        if (s.termination == SolveTermination::kFailure) {
          throw Error(ErrorMessage("sweep point N = " + ExactNumber(N) + ", T = " + ExactNumber(T),
                                   s.message, "an action that can be evaluated"));
        }
        const PredictorStatistics st =
            PredictStudyTest(study, *k.train, k.test, T, sol.order_parameters.U[0],
                             /*threads=*/1, block_settings.block_examples, Communicator::Self());
        const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
        row = RowJson(MakeRow(N, &sol, &s, sol.order_parameters, st, secs));
        row["temperature"] = T;
        row["provenance"] = provenance;  // the run that solved this point
        row["widths"] = arch.widths;
        row["solved_for"] = solved_for;
        row["solved_for"]["widths"] = arch.widths;
        WriteFileAtomically(file, row.dump(1) + "\n");
        ++solved;
      }
      if (!row.value("converged", false)) all_converged = false;
      if (load) start_hessian.resize(0, 0);
      start_loaded = load;
      previous.widths.assign(previous.widths.size(), N);
      start = OrderParametersFromJson(row, file).U;
      results[ti][wi] = std::move(row);
      const std::size_t d = ++done;
      report({.done = d, .solved = solved.load(), .total = total, .point_solved = !load});
    }
  };

  // One thread per temperature column (each continues in N from its own
  // previous width), the columns handed out to the processes (column c to
  // rank c mod R) and within a process to its cores. Finished points are
  // kept for a resume even when another column fails.
  std::vector<std::size_t> mine;
  for (std::size_t c = 0; c < temps.size(); ++c) {
    if (static_cast<int>(c % static_cast<std::size_t>(world.size())) == world.rank()) {
      mine.push_back(c);
    }
  }
  try {
    RunCollectively(world, [&] {
      ParallelForEach(ResolveThreads(options.threads, static_cast<std::int64_t>(mine.size())),
                      static_cast<std::int64_t>(mine.size()),
                      [&](std::int64_t c) { run_chain(mine[static_cast<std::size_t>(c)]); });
    });
  } catch (...) {
    if (solved.load() > 0) cleanup.active = false;
    throw;
  }
  // The other processes' columns, gathered on rank 0 (in rank order).
  std::int64_t solved_total = static_cast<std::int64_t>(solved.load());
  world.SumInPlace(&solved_total, 1);
  const bool converged_everywhere = world.AllTrue(all_converged.load());
  for (int r = 1; r < world.size(); ++r) {
    std::string text;
    if (world.rank() == r) {
      nlohmann::json columns = nlohmann::json::object();
      for (std::size_t c : mine) columns[std::to_string(c)] = results[c];
      text = columns.dump();
    }
    world.Broadcast(&text, r);
    if (!world.root()) continue;
    const nlohmann::json columns = nlohmann::json::parse(text);
    for (const auto& [c, rows] : columns.items()) {
      results[static_cast<std::size_t>(std::stoul(c))] = rows.get<std::vector<nlohmann::json>>();
    }
  }
  if (solved_total > 0) cleanup.active = false;
  const auto fill_summary = [&] {
    if (!summary) return;
    summary->output = out;
    summary->points = total;
    summary->solved = static_cast<std::size_t>(solved_total);
    summary->loaded = total - summary->solved;
    summary->all_converged = converged_everywhere;
    summary->total_seconds = std::chrono::duration<double>(Clock::now() - t_start).count();
  };
  if (!world.root()) {
    fill_summary();
    return {};  // rank 0 writes and returns the tables
  }

  // The table, in the order widths × temperatures were given; timings are
  // left out so a resumed sweep writes exactly what an uninterrupted one does.
  SweepResult result;
  result.points = nlohmann::json::array();
  for (std::size_t ti = 0; ti < temps.size(); ++ti) {
    for (double N : widths) {
      const auto wi =
          static_cast<std::size_t>(std::find(chain.begin(), chain.end(), N) - chain.begin());
      nlohmann::json row = results[ti][wi];
      row.erase("seconds");
      row.erase("provenance");  // the table's own provenance is at its top
      row.erase("solved_for");
      result.points.push_back(std::move(row));
    }
  }
  result.csv = SweepCsv(study, run, result.points);
  result.json = {{"provenance", provenance}, {"points", result.points}};
  WriteFileAtomically(folder->Path("sweep.csv"), result.csv);
  WriteFileAtomically(folder->Path("sweep.json"), result.json.dump(1) + "\n");
  cleanup.active = false;
  folder->Commit({"sweep.csv", "sweep.json"});
  fill_summary();
  return result;
}

}  // namespace attnpaths
