// attnpaths align --config run.toml — kernel–task alignment (theory.md §7):
// eigen-decompose the training kernel K_U of the solution and the GP kernel
// (no T added), report the overlap |v_k·y|/√P of the leading components with
// the labels and the cumulative alignment Σ_{j≤k} (v_j·y)²/|y|².
#include <cstdio>
#include <iostream>

#include "cli/commands.h"
#include "cli/report.h"
#include "cli/run_provenance.h"
#include "cli/solution_source.h"
#include "kernels/error.h"
#include "study/align_study.h"

namespace attnpaths::cli {

namespace {

struct AlignCliOptions {
  SolutionSourceOptions source;
  AlignmentOptions alignment;  // --components
};

int RunAlign(const AlignCliOptions& o, const GlobalOptions& g) {
  Require(o.alignment.components >= 1, "--components", o.alignment.components, "a value >= 1");
  AnalysedSolution s = ObtainSolution(o.source, "align", g);
  const std::string out = o.source.output.empty() ? s.study.output_directory : o.source.output;
  ResultFolder folder(out, AlignmentFiles());  // locked; removed if this run fails
  Kernels(s, "align", g);
  ProgressLine("align: eigen-decomposing the kernels", g.quiet);
  const AlignStudyResult r = AlignStudy(s, o.alignment, g.threads);
  ProgressLine("", g.quiet);
  Provenance run = CommandProvenance(g, s.study.config_path);
  RecordSolution(s, g, &run);
  const nlohmann::json j =
      CommitAnalysis(folder, AlignmentDocument(s, r, run), "alignment.json", "alignment.csv", 1);
  if (g.json) {
    std::cout << j.dump(2) << std::endl;
    return s.converged ? 0 : 1;
  }
  const KernelAlignment& theory = r.theory;
  const KernelAlignment& gp = r.gp;
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
  cmd->add_option("--components,-k", o->alignment.components, "Leading components reported")
      ->capture_default_str();
  AddAnalysisOutputFlags(cmd, &o->source, global);
  cmd->callback([o, &global, run] { *run = [o, &global] { return RunAlign(*o, global); }; });
}

}  // namespace attnpaths::cli
