#include "study/analysed_solution.h"

#include <cmath>
#include <filesystem>

#include "data/sha256.h"
#include "kernels/error.h"
#include "study/result_row.h"
#include "study/run_record.h"
#include "study/settings.h"
#include "study/solution_reader.h"
#include "study/solve_study.h"

namespace attnpaths {

AnalysedSolution SolveForAnalysis(const Study& study, std::optional<double> width,
                                  const SolveOptions& options, int threads,
                                  const std::string& command) {
  AnalysedSolution s;
  s.study = study;
  Architecture& arch = s.study.architecture;
  Require(s.study.temperatures.size() == 1, s.study.config_path + ": temperatures",
          s.study.temperatures.size(), "one temperature for " + command);
  if (width) {
    Require(*width >= 1 && std::isfinite(*width), "width", *width, "a finite width >= 1");
    arch.widths.assign(arch.widths.size(), *width);
  }
  s.temperature = s.study.temperatures[0];
  StudySolution sol = SolveStudy(s.study, s.temperature, options, threads);
  s.kernels = std::move(sol.kernels);
  s.order_parameters = sol.solution.order_parameters;
  s.converged = sol.summary.converged();
  bool equal = true;
  for (double w : arch.widths) equal = equal && w == arch.widths.front();
  if (equal) s.N = arch.widths.front();
  s.source = "solved";
  return s;
}

AnalysedSolution LoadForAnalysis(const Study& study, const std::string& path,
                                 const std::string& field) {
  LoadedSolution loaded = LoadSolution(study, path, field);
  AnalysedSolution s;
  s.study = std::move(loaded.study);
  s.temperature = loaded.temperature;
  s.N = loaded.N;
  s.order_parameters = std::move(loaded.order_parameters);
  s.converged = loaded.converged;
  s.unchecked = loaded.unchecked;
  s.source = path;
  return s;
}

const StudyKernels& AnalysisKernels(AnalysedSolution& s, int threads) {
  if (!s.kernels.train) s.kernels = BuildKernels(s.study, threads);
  return s.kernels;
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

void RecordSolution(const AnalysedSolution& s, int threads, Provenance* run) {
  RecordStudy(s.study, threads, run);
  if (s.source == "solved") {
    run->Set("solution", "solved from the config");
    run->Set("solver", SolverSettings(ReadStudySettings(s.study).solve));
    return;
  }
  namespace fs = std::filesystem;
  nlohmann::json files = nlohmann::json::object();
  if (fs::is_directory(s.source)) {
    for (const std::string name : {"summary.json", "U_1.npy"}) {
      const std::string file = (fs::path(s.source) / name).string();
      if (fs::exists(file)) files[name] = Sha256OfFile(file);
    }
  } else {
    files[fs::path(s.source).filename().string()] = Sha256OfFile(s.source);
  }
  run->Set("solution", {{"path", s.source}, {"sha256", files}});
}

}  // namespace attnpaths
