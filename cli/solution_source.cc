#include "cli/solution_source.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "cli/solution_record.h"
#include "data/atomic_file.h"
#include "data/npy.h"
#include "data/result_index.h"
#include "kernels/error.h"
#include "kernels/paths.h"
#include "solver/action.h"
#include "solver/solve.h"
#include "study/settings.h"

namespace attnpaths::cli {

namespace {

nlohmann::json ReadJson(const std::string& file) {
  try {
    return nlohmann::json::parse(ReadFile(file));
  } catch (const nlohmann::json::exception& e) {
    throw Error(ErrorMessage(file, "invalid JSON",
                             "a summary.json written by solve or gp, or a "
                             "sweep point file"));
  }
}

void CheckMatrix(const Eigen::MatrixXd& u, Eigen::Index m, const std::string& field) {
  Require(u.rows() == m && u.cols() == m, field + " shape",
          std::to_string(u.rows()) + " x " + std::to_string(u.cols()),
          std::to_string(m) + " x " + std::to_string(m) + " (the config's architecture)");
}

// Temperature, N and widths from a summary or point JSON.
void ReadScalars(const nlohmann::json& j, const std::string& file, AnalysedSolution* s) {
  Require(j.is_object(), file, j.type_name(), "a JSON object written by solve, gp or sweep");
  Require(j.contains("temperature") && j["temperature"].is_number(), file + ": temperature",
          j.contains("temperature") ? j["temperature"].dump() : std::string("nothing"),
          "the temperature of the solution (a number)");
  s->temperature = j["temperature"].get<double>();
  Require(std::isfinite(s->temperature) && s->temperature >= 0, file + ": temperature",
          s->temperature, "a finite value >= 0");
  Architecture& arch = s->study.architecture;
  const auto width = [&](const nlohmann::json& v, const std::string& field) {
    Require(v.is_number(), field, v.dump(), "a width (a number >= 1)");
    const double w = v.get<double>();
    Require(std::isfinite(w) && w >= 1, field, w, "a finite width >= 1");
    return w;
  };
  if (j.contains("N") && !j["N"].is_null()) s->N = width(j["N"], file + ": N");
  if (j.contains("widths") && !j["widths"].is_null()) {
    Require(j["widths"].is_array(), file + ": widths", j["widths"].dump(), "a list of widths");
    std::vector<double> w;
    for (size_t i = 0; i < j["widths"].size(); ++i) {
      w.push_back(width(j["widths"][i], file + ": widths[" + std::to_string(i) + "]"));
    }
    Require(w.size() == arch.widths.size(), file + ": widths count", w.size(),
            std::to_string(arch.widths.size()) + " (L + 1 of the config's architecture)");
    arch.widths = w;
  } else if (s->N) {
    arch.widths.assign(arch.widths.size(), *s->N);
  }
  const nlohmann::json converged = j.value("converged", nlohmann::json(true));
  Require(converged.is_boolean(), file + ": converged", converged.dump(), "true or false");
  s->converged = converged.get<bool>();
}

// U_l must be symmetric and U_a positive and finite (what solve writes).
void CheckOrderParameters(const OrderParameters& op, const std::string& where) {
  for (size_t l = 0; l < op.U.size(); ++l) {
    const Eigen::MatrixXd& u = op.U[l];
    const double scale = std::max(1.0, u.cwiseAbs().maxCoeff());
    Require((u - u.transpose()).cwiseAbs().maxCoeff() <= 1e-10 * scale,
            where + " U_" + std::to_string(l + 1), "a matrix that is not symmetric",
            "a symmetric order parameter as solve writes it");
  }
  const Eigen::MatrixXd& a = op.U_a;
  if (a.size() == 1) {
    Require(std::isfinite(a(0, 0)) && a(0, 0) > 0, where + " U_a", a(0, 0), "a finite value > 0");
  } else {
    const double scale = std::max(1.0, a.cwiseAbs().maxCoeff());
    Require(a.allFinite() && a.diagonal().minCoeff() > 0 &&
                (a - a.transpose()).cwiseAbs().maxCoeff() <= 1e-10 * scale,
            where + " U_a", "a matrix that is not symmetric with a positive diagonal",
            "a symmetric D x D order parameter with a positive diagonal (theory.md §9)");
  }
}

// U_a read from a solution: D × D for the study's D outputs (theory.md §9).
void CheckReadout(const Eigen::MatrixXd& U_a, Eigen::Index D, const std::string& field) {
  Require(U_a.rows() == D && U_a.cols() == D, field + " shape",
          std::to_string(U_a.rows()) + " x " + std::to_string(U_a.cols()),
          D == 1 ? std::string("a single value (one output)")
                 : std::to_string(D) + " x " + std::to_string(D) + " (the config's " +
                       std::to_string(D) + " label columns)");
  Require(U_a.allFinite(), field, "a non-finite entry", "finite entries");
}

void LoadFromJson(const std::string& file, AnalysedSolution* s) {
  const nlohmann::json j = ReadJson(file);
  if (!CheckSolvedFor(j, s->study, file)) s->unchecked = file;
  ReadScalars(j, file, s);
  const Paths paths(s->study.architecture.heads_per_layer());
  const Eigen::Index D = s->study.train.y.cols();
  Require(j.contains("U") && j["U"].is_array(), file + ": U", "nothing",
          "the order parameters (a list of matrices, one per layer)");
  Require(j["U"].size() == static_cast<size_t>(paths.L()), file + ": U count", j["U"].size(),
          std::to_string(paths.L()) + " (one matrix per layer of the config)");
  try {
    for (int l = 1; l <= paths.L(); ++l) {
      const auto& rows = j["U"][static_cast<size_t>(l - 1)];
      const Eigen::Index m = static_cast<Eigen::Index>(rows.size());
      Eigen::MatrixXd u(m, m);
      for (Eigen::Index i = 0; i < m; ++i) {
        Require(rows.at(i).size() == rows.size(), file + ": U[" + std::to_string(l - 1) + "]",
                "a ragged matrix", "a square matrix");
        for (Eigen::Index k = 0; k < m; ++k) u(i, k) = rows.at(i).at(k).get<double>();
      }
      CheckMatrix(u, paths.m(l) * D, file + ": U[" + std::to_string(l - 1) + "]");
      s->order_parameters.U.push_back(std::move(u));
    }
    s->order_parameters.U_a = ReadoutFromJson(j.at("U_a"));
  } catch (const nlohmann::json::exception& e) {
    throw Error(ErrorMessage(file, std::string("unreadable order parameters (") + e.what() + ")",
                             "U as a list of square matrices of numbers and U_a a number (a D x D "
                             "matrix for D outputs)"));
  }
  CheckReadout(s->order_parameters.U_a, D, file + ": U_a");
  CheckOrderParameters(s->order_parameters, file + ":");
}

void LoadFromDirectory(const std::string& dir, AnalysedSolution* s) {
  const auto in = [&](const std::string& f) { return (std::filesystem::path(dir) / f).string(); };
  const nlohmann::json j = ReadJson(in("summary.json"));
  const bool recorded = CheckSolvedFor(j, s->study, in("summary.json"));
  const bool listed = VerifyIndexFiles(j, dir, in("summary.json"));
  if (!recorded || !listed) s->unchecked = in("summary.json");
  ReadScalars(j, in("summary.json"), s);
  const Paths paths(s->study.architecture.heads_per_layer());
  const Eigen::Index D = s->study.train.y.cols();
  for (int l = 1; l <= paths.L(); ++l) {
    const std::string f = in("U_" + std::to_string(l) + ".npy");
    Eigen::MatrixXd u = NpyToMatrix(ReadNpy(f), f);
    CheckMatrix(u, paths.m(l) * D, f);
    s->order_parameters.U.push_back(std::move(u));
  }
  const std::string fa = in("U_a.npy");
  const NpyArray ua = ReadNpy(fa);
  if (ua.shape.empty() || ua.size() == 1) {  // one output: a scalar
    Require(ua.size() == 1, fa, "an array of " + std::to_string(ua.size()) + " values",
            "one value");
    s->order_parameters.U_a = Eigen::MatrixXd::Constant(1, 1, ua.data[0]);
  } else {
    s->order_parameters.U_a = NpyToMatrix(ua, fa);
  }
  CheckReadout(s->order_parameters.U_a, D, fa);
  CheckOrderParameters(s->order_parameters, dir + ":");
}

}  // namespace

std::string ExactNumber(double v) {
  char buf[40];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

const StudyKernels& Kernels(AnalysedSolution& s, const std::string& command,
                            const GlobalOptions& g) {
  if (!s.kernels.train) {
    ProgressLine(command + ": computing path inputs", g.quiet);
    s.kernels = BuildKernels(s.study, g.threads);
  }
  return s.kernels;
}

void AddSolutionSourceFlags(CLI::App* cmd, SolutionSourceOptions* o) {
  cmd->add_option("--config,-c", o->config, "The TOML study file")
      ->check(NonEmptyPath())
      ->required();
  auto* sol = cmd->add_option("--solution,-s", o->solution,
                              "Load instead of solving: a directory written by solve/gp, or a "
                              "summary.json or sweep point file")
                  ->check(NonEmptyPath());
  cmd->add_option_function<double>(
         "--width,-N", [o](const double& w) { o->width = w; },
         "Solve at this width N (every n_l) instead of the study's")
      ->excludes(sol);
}

void AddAnalysisOutputFlags(CLI::App* cmd, SolutionSourceOptions* o, GlobalOptions& global) {
  cmd->add_option("--output,-o", o->output, "Output directory (default: [output] directory)")
      ->check(NonEmptyPath());
  cmd->add_flag("--json", global.json, "Print the JSON result on stdout");
  cmd->add_flag("--quiet", global.quiet, "No progress on stderr");
  cmd->add_option("--threads", global.threads, "Threads for path inputs (0: all cores)");
}

AnalysedSolution ObtainSolution(const SolutionSourceOptions& o, const std::string& command,
                                const GlobalOptions& g) {
  const std::string& config = o.config;
  const std::string& solution = o.solution;
  const std::optional<double>& width = o.width;
  AnalysedSolution s;
  s.study = LoadStudy(config);
  Architecture& arch = s.study.architecture;
  if (!solution.empty()) {
    Require(!width, "--width", width.value_or(0),
            "no --width with --solution (the solution "
            "fixes the widths)");
    namespace fs = std::filesystem;
    if (fs::is_directory(solution)) {
      LoadFromDirectory(solution, &s);
    } else {
      Require(fs::exists(solution), "--solution",
              "\"" + solution + "\" (no such file or directory)",
              "a directory written by solve or gp, or a JSON file");
      LoadFromJson(solution, &s);
    }
    arch.ValidateHyperparameters();
    CheckShapes(arch, s.order_parameters.U, s.order_parameters.outputs());
    s.source = solution;
    if (!s.unchecked.empty()) WarnUnchecked(s.unchecked);
    return s;
  }
  Require(s.study.temperatures.size() == 1, s.study.config_path + ": temperatures",
          s.study.temperatures.size(), "one temperature for " + command);
  if (width) {
    Require(*width >= 1 && std::isfinite(*width), "--width", *width, "a finite width >= 1");
    arch.widths.assign(arch.widths.size(), *width);
  }
  s.temperature = s.study.temperatures[0];
  const StudyKernels& k = Kernels(s, command, g);
  const Action action(arch, *k.train, s.study.train.y, s.temperature);
  SolveOptions options = ReadStudySettings(s.study).solve;
  options.progress = [&](const SolveProgress& p) {
    if (p.iteration % 10 == 0) {
      char buf[160];
      std::snprintf(buf, sizeof buf, "%s: solving, iteration %d  S/n_max = %.10g  |grad| = %.2e",
                    command.c_str(), p.iteration, p.action, p.gradient_norm);
      ProgressLine(buf, g.quiet);
    }
  };
  SolveSummary summary;
  const Solution sol = Solve(action, options, &summary);
  if (summary.termination == SolveTermination::kFailure) {
    throw Error(ErrorMessage(s.study.config_path, summary.message,
                             "an action that can be evaluated at U_GP (raise the temperature)"));
  }
  s.order_parameters = sol.order_parameters;
  s.converged = summary.converged();
  bool equal = true;
  for (double w : arch.widths) equal = equal && w == arch.widths.front();
  if (equal) s.N = arch.widths.front();
  s.source = "solved";
  return s;
}

nlohmann::json SolutionJson(const AnalysedSolution& s) {
  nlohmann::json j;
  j["config"] = s.study.config_path;
  j["N"] = s.N ? nlohmann::json(*s.N) : nlohmann::json();
  j["widths"] = s.study.architecture.widths;
  j["temperature"] = s.temperature;
  j["solution"] = s.source;
  j["converged"] = s.converged;
  return j;
}

std::string SolutionLine(const AnalysedSolution& s) {
  std::string line = s.N ? "N = " + ExactNumber(*s.N) : std::string("GP limit");
  line += ", T = " + ExactNumber(s.temperature);
  line += s.source == "solved" ? " (solved)" : " (loaded from " + s.source + ")";
  if (!s.converged) line += " [NOT converged]";
  return line;
}

}  // namespace attnpaths::cli
