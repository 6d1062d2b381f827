// attnpaths align --config run.toml — kernel–task alignment (theory.md §7):
// eigen-decompose the training kernel K_U of the solution and the GP kernel
// (no T added), report the overlap |v_k·y|/√P of the leading components with
// the labels and the cumulative alignment Σ_{j≤k} (v_j·y)²/|y|².
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "cli/commands.h"
#include "cli/report.h"
#include "cli/run_provenance.h"
#include "cli/solution_source.h"
#include "data/atomic_file.h"
#include "data/result_index.h"
#include "kernels/error.h"
#include "solver/alignment.h"
#include "solver/predictor.h"
#include "solver/training_gram.h"
#include "study/study_kernels.h"

namespace attnpaths::cli {

namespace {

struct AlignCliOptions {
  SolutionSourceOptions source;
  int components = 30;
};

nlohmann::json AlignmentJson(const KernelAlignment& a) {
  nlohmann::json j;
  j["eigenvalues"] =
      std::vector<double>(a.eigenvalues.data(), a.eigenvalues.data() + a.eigenvalues.size());
  j["overlap"] = std::vector<double>(a.overlap.data(), a.overlap.data() + a.overlap.size());
  j["cumulative"] =
      std::vector<double>(a.cumulative.data(), a.cumulative.data() + a.cumulative.size());
  j["trace"] = a.trace;
  j["kernel_target_alignment"] = a.kernel_target_alignment;
  return j;
}

int RunAlign(const AlignCliOptions& o, const GlobalOptions& g) {
  Require(o.components >= 1, "--components", o.components, "a value >= 1");
  AlignmentOptions options;
  options.components = o.components;
  AnalysedSolution s = ObtainSolution(o.source, "align", g);
  const std::string out = o.source.output.empty() ? s.study.output_directory : o.source.output;
  ResultFolder folder(out,
                      {"alignment.json", "alignment.csv"});  // locked; removed if this run fails
  const StudyKernels& k = Kernels(s, "align", g);
  ProgressLine("align: eigen-decomposing the kernels", g.quiet);
  // With D outputs the kernel is PD × PD and the labels vec(Y) (theory.md §7, §9).
  const Eigen::MatrixXd& y = s.study.train.y;
  const KernelAlignment theory =
      AlignKernel(OutputKernel(*k.train, s.order_parameters.U[0]), y, options);
  const KernelAlignment gp =
      AlignKernel(OutputKernel(*k.train, GpLimit(s.study.architecture, y.cols()).U[0]), y, options);
  ProgressLine("", g.quiet);

  nlohmann::json j = SolutionJson(s);
  j["components"] = theory.overlap.size();
  j["outputs"] = y.cols();
  j["definition"] =
      "eigenvalues of the training kernel (no T) in descending order; overlap_k = "
      "|v_k . y| / sqrt(P); cumulative_k = sum_{j<=k} (v_j . y)^2 / |y|^2 "
      "(theory.md section 7); with D outputs the kernel is the PD x PD matrix "
      "K[(mu,d),(nu,d')] and y = vec(Y) in the same order; within repeated eigenvalues "
      "the labels project on the first component";
  j["theory"] = AlignmentJson(theory);
  j["gp"] = AlignmentJson(gp);
  Provenance run = CommandProvenance(g, s.study.config_path);
  RecordSolution(s, g, &run);
  run.Set("components", o.components);
  j["provenance"] = run.Json();
  std::string csv = run.CsvComment() +
                    "k,eigenvalue_theory,overlap_theory,cumulative_theory,eigenvalue_gp,overlap_gp,"
                    "cumulative_gp\n";
  for (Eigen::Index i = 0; i < theory.overlap.size(); ++i) {
    csv += std::to_string(i + 1) + "," + ExactNumber(theory.eigenvalues(i)) + "," +
           ExactNumber(theory.overlap(i)) + "," + ExactNumber(theory.cumulative(i)) + "," +
           ExactNumber(gp.eigenvalues(i)) + "," + ExactNumber(gp.overlap(i)) + "," +
           ExactNumber(gp.cumulative(i)) + "\n";
  }
  WriteFileAtomically(folder.Path("alignment.csv"), csv);
  j["files"] = FilesJson(folder.Staged({"alignment.csv"}));
  WriteFileAtomically(folder.Path("alignment.json"), j.dump(1) + "\n");
  folder.Commit({"alignment.json"});
  if (g.json) {
    std::cout << j.dump(2) << std::endl;
    return s.converged ? 0 : 1;
  }
  std::cout << "kernel-task alignment (theory.md section 7), " << SolutionLine(s) << "\n";
  char buf[200];
  std::snprintf(buf, sizeof buf, "%4s  %12s %9s %10s   %12s %9s %10s\n", "k", "lambda(K_U)",
                "overlap", "cumulative", "lambda(GP)", "overlap", "cumulative");
  std::cout << buf;
  const Eigen::Index shown = std::min<Eigen::Index>(theory.overlap.size(), 10);
  for (Eigen::Index i = 0; i < shown; ++i) {
    std::snprintf(buf, sizeof buf, "%4lld  %12.5g %9.4f %10.4f   %12.5g %9.4f %10.4f\n",
                  static_cast<long long>(i + 1), theory.eigenvalues(i), theory.overlap(i),
                  theory.cumulative(i), gp.eigenvalues(i), gp.overlap(i), gp.cumulative(i));
    std::cout << buf;
  }
  if (shown < theory.overlap.size()) {
    std::cout << "   … " << theory.overlap.size() - shown << " more components in alignment.csv\n";
  }
  std::snprintf(buf, sizeof buf,
                "kernel-target alignment y'Ky/(|K|_F |y|^2): theory %.4f, GP %.4f\n",
                theory.kernel_target_alignment, gp.kernel_target_alignment);
  std::cout << buf << "wrote " << out << "/alignment.json and alignment.csv\n";
  return s.converged ? 0 : 1;
}

}  // namespace

void RegisterAlign(CLI::App& app, GlobalOptions& global, Command* run) {
  auto* cmd = app.add_subcommand(
      "align", "Kernel-task alignment of the solution's kernel and the GP kernel");
  auto o = std::make_shared<AlignCliOptions>();
  AddSolutionSourceFlags(cmd, &o->source);
  cmd->add_option("--components,-k", o->components, "Leading components reported (default 30)");
  AddAnalysisOutputFlags(cmd, &o->source, global);
  cmd->callback([o, &global, run] { *run = [o, &global] { return RunAlign(*o, global); }; });
}

}  // namespace attnpaths::cli
