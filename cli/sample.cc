// attnpaths sample --config run.toml — sample the finite network's weight
// posterior with NUTS at the study's width and temperature (theory.md §5);
// write draws.h5, sample_summary.json and NPY arrays of the sampled predictor
// and U^sampled.
#include <iostream>

#include "cli/commands.h"
#include "cli/report.h"
#include "cli/run_provenance.h"
#include "cli/sample_run.h"
#include "cli/study_run.h"
#include "kernels/error.h"
#include "study/sample_study.h"

namespace attnpaths::cli {

namespace {

int RunSample(const SampleCommandOptions& o, const GlobalOptions& g) {
  const SampleRunStudy loaded = LoadSampleStudy(o, "sample");
  const Study& study = loaded.study;
  const double T = loaded.temperature;
  const std::string& out = loaded.output;
  ResultFolder folder(out, SampleFiles());  // locked; removed again if this run fails
  const SampleOptions options = MakeSampleOptions(o.sampler, study, g, "sample");

  ProgressLine("sample: computing path inputs", g.quiet);
  const StudySample s = SampleStudy(study, T, options, g.threads);
  ProgressLine("", g.quiet);

  Provenance run = CommandProvenance(g, study.config_path);
  RecordStudy(study, g, &run);
  const nlohmann::json j = WriteStudySample(folder, study, s, run);
  const SampleResult& r = s.result;
  const SampleSummary& summary = s.summary;
  if (g.json) {
    std::cout << j.dump(2) << std::endl;
  } else {
    std::cout << summary.FullReport();
    if (summary.completed()) {
      char buf[200];
      if (study.task == Task::kClassification) {
        std::snprintf(buf, sizeof buf, "test accuracy %.4f, generalisation error %.5f\n",
                      r.predictor.accuracy, r.predictor.generalization_error);
      } else {
        std::snprintf(buf, sizeof buf, "generalisation error %.5f (regression: no accuracy)\n",
                      r.predictor.generalization_error);
      }
      std::cout << buf << "U^sampled (± s.e.), paths:";
      const std::vector<std::string> labels = ArchitecturePathLabels(study.architecture);
      for (const auto& l : labels) std::cout << " " << l;
      std::cout << "\n";
      const Eigen::MatrixXd& U = r.order_parameter.U;
      for (Eigen::Index a = 0; a < U.rows(); ++a) {
        std::cout << " ";
        for (Eigen::Index b = 0; b < U.cols(); ++b) {
          std::snprintf(buf, sizeof buf, "  %9.5f ± %.5f", U(a, b), r.order_parameter.U_se(a, b));
          std::cout << buf;
        }
        std::cout << "\n";
      }
      std::cout << "wrote " << out << "/draws.h5, sample_summary.json, sampled_test_*.npy, "
                << "U_sampled*.npy\n";
    }
  }
  return summary.completed() ? 0 : 1;
}

}  // namespace

void RegisterSample(CLI::App& app, GlobalOptions& global, Command* run) {
  auto* cmd = app.add_subcommand("sample",
                                 "Sample the finite network's posterior (NUTS) for one TOML study");
  auto o = std::make_shared<SampleCommandOptions>();
  AddSampleCommandFlags(cmd, o.get(), global, "Print the JSON summary on stdout");
  cmd->callback([o, &global, run] { *run = [o, &global] { return RunSample(*o, global); }; });
}

}  // namespace attnpaths::cli
