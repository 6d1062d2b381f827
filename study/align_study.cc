#include "study/align_study.h"

#include "solver/predictor.h"
#include "solver/training_gram.h"
#include "study/result_row.h"

namespace attnpaths {

namespace {

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

}  // namespace

AlignStudyResult AlignStudy(AnalysedSolution& s, const AlignmentOptions& options, int threads) {
  const StudyKernels& k = AnalysisKernels(s, threads);
  // With D outputs the kernel is PD × PD and the labels vec(Y) (theory.md §7, §9).
  const Eigen::MatrixXd& y = s.study.train.y;
  AlignStudyResult r;
  r.options = options;
  r.theory = AlignKernel(OutputKernel(*k.train, s.order_parameters.U[0]), y, options);
  r.gp =
      AlignKernel(OutputKernel(*k.train, GpLimit(s.study.architecture, y.cols()).U[0]), y, options);
  return r;
}

AnalysisDocument AlignmentDocument(const AnalysedSolution& s, const AlignStudyResult& r,
                                   const Provenance& run_in) {
  const KernelAlignment& theory = r.theory;
  const KernelAlignment& gp = r.gp;
  AnalysisDocument doc;
  nlohmann::json& j = doc.json;
  j = SolutionJson(s);
  j["components"] = theory.overlap.size();
  j["outputs"] = s.study.train.y.cols();
  j["definition"] =
      "eigenvalues of the training kernel (no T) in descending order; overlap_k = "
      "|v_k . y| / sqrt(P); cumulative_k = sum_{j<=k} (v_j . y)^2 / |y|^2 "
      "(theory.md section 7); with D outputs the kernel is the PD x PD matrix "
      "K[(mu,d),(nu,d')] and y = vec(Y) in the same order; within repeated eigenvalues "
      "the labels project on the first component";
  j["theory"] = AlignmentJson(theory);
  j["gp"] = AlignmentJson(gp);
  Provenance run = run_in;
  run.Set("components", r.options.components);
  j["provenance"] = run.Json();
  doc.csv = run.CsvComment() +
            "k,eigenvalue_theory,overlap_theory,cumulative_theory,eigenvalue_gp,overlap_gp,"
            "cumulative_gp\n";
  for (Eigen::Index i = 0; i < theory.overlap.size(); ++i) {
    doc.csv += std::to_string(i + 1) + "," + ExactNumber(theory.eigenvalues(i)) + "," +
               ExactNumber(theory.overlap(i)) + "," + ExactNumber(theory.cumulative(i)) + "," +
               ExactNumber(gp.eigenvalues(i)) + "," + ExactNumber(gp.overlap(i)) + "," +
               ExactNumber(gp.cumulative(i)) + "\n";
  }
  return doc;
}

std::vector<std::string> AlignmentFiles() { return {"alignment.json", "alignment.csv"}; }

}  // namespace attnpaths
