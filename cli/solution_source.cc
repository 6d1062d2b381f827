#include "cli/solution_source.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "data/atomic_file.h"
#include "data/npy.h"
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
  Require(j.is_object() && j.contains("temperature") && j["temperature"].is_number(),
          file + ": temperature", "nothing", "the temperature of the solution");
  s->temperature = j["temperature"].get<double>();
  Architecture& arch = s->study.architecture;
  if (j.contains("widths") && j["widths"].is_array()) {
    std::vector<double> w;
    for (const auto& v : j["widths"]) {
      Require(v.is_number(), file + ": widths", v.dump(), "numbers");
      w.push_back(v.get<double>());
    }
    Require(w.size() == arch.widths.size(), file + ": widths count", w.size(),
            std::to_string(arch.widths.size()) + " (L + 1 of the config's architecture)");
    arch.widths = w;
  } else if (j.contains("N") && j["N"].is_number()) {
    arch.widths.assign(arch.widths.size(), j["N"].get<double>());
  }
  if (j.contains("N") && j["N"].is_number()) s->N = j["N"].get<double>();
  s->converged = j.value("converged", true);
}

void LoadFromJson(const std::string& file, AnalysedSolution* s) {
  const nlohmann::json j = ReadJson(file);
  ReadScalars(j, file, s);
  const Paths paths(s->study.architecture.heads_per_layer());
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
      CheckMatrix(u, paths.m(l), file + ": U[" + std::to_string(l - 1) + "]");
      s->order_parameters.U.push_back(std::move(u));
    }
    s->order_parameters.U_a = j.at("U_a").get<double>();
  } catch (const nlohmann::json::exception& e) {
    throw Error(ErrorMessage(file, std::string("unreadable order parameters (") + e.what() + ")",
                             "U as a list of square matrices of numbers and U_a a number"));
  }
}

void LoadFromDirectory(const std::string& dir, AnalysedSolution* s) {
  const auto in = [&](const std::string& f) { return (std::filesystem::path(dir) / f).string(); };
  const nlohmann::json j = ReadJson(in("summary.json"));
  ReadScalars(j, in("summary.json"), s);
  const Paths paths(s->study.architecture.heads_per_layer());
  for (int l = 1; l <= paths.L(); ++l) {
    const std::string f = in("U_" + std::to_string(l) + ".npy");
    Eigen::MatrixXd u = NpyToMatrix(ReadNpy(f), f);
    CheckMatrix(u, paths.m(l), f);
    s->order_parameters.U.push_back(std::move(u));
  }
  const std::string fa = in("U_a.npy");
  const NpyArray ua = ReadNpy(fa);
  Require(ua.size() == 1, fa, "an array of " + std::to_string(ua.size()) + " values", "one value");
  s->order_parameters.U_a = ua.data[0];
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
  cmd->add_option("--config,-c", o->config, "The TOML study file")->required();
  auto* sol = cmd->add_option("--solution,-s", o->solution,
                              "Load instead of solving: a directory written by solve/gp, or a "
                              "summary.json or sweep point file");
  cmd->add_option_function<double>(
         "--width,-N", [o](const double& w) { o->width = w; },
         "Solve at this width N (every n_l) instead of the study's")
      ->excludes(sol);
}

void AddAnalysisOutputFlags(CLI::App* cmd, SolutionSourceOptions* o, GlobalOptions& global) {
  cmd->add_option("--output,-o", o->output, "Output directory (default: [output] directory)");
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
    CheckShapes(arch, s.order_parameters.U);
    s.source = solution;
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
