#include "study/solution_reader.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "data/atomic_file.h"
#include "data/npy.h"
#include "data/result_index.h"
#include "kernels/error.h"
#include "kernels/paths.h"
#include "solver/action.h"
#include "study/result_row.h"
#include "study/solved_for.h"

namespace attnpaths {

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
void ReadScalars(const nlohmann::json& j, const std::string& file, LoadedSolution* s) {
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

void LoadFromJson(const std::string& file, LoadedSolution* s) {
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

void LoadFromDirectory(const std::string& dir, LoadedSolution* s) {
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

LoadedSolution LoadSolution(const Study& study, const std::string& path, const std::string& field) {
  LoadedSolution s;
  s.study = study;
  namespace fs = std::filesystem;
  if (fs::is_directory(path)) {
    LoadFromDirectory(path, &s);
  } else {
    Require(fs::exists(path), field, "\"" + path + "\" (no such file or directory)",
            "a directory written by solve or gp, or a JSON file");
    LoadFromJson(path, &s);
  }
  s.study.architecture.ValidateHyperparameters();
  CheckShapes(s.study.architecture, s.order_parameters.U, s.order_parameters.outputs());
  return s;
}

}  // namespace attnpaths
