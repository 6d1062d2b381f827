#include "study/sample_study.h"

#include "study/run_record.h"
#include "study/sample_files.h"
#include "study/study_kernels.h"

namespace attnpaths {

StudySample SampleStudy(const Study& study, double temperature, const SampleOptions& options,
                        int threads) {
  StudySample s;
  s.temperature = temperature;
  s.options = options;
  const PathInputs train = StudyPathInputs(study, Split::kTrain, threads);
  const PathInputs test = StudyPathInputs(study, Split::kTest, threads);
  const Eigen::MatrixXd* y_test = study.has_test_labels ? &study.test.y : nullptr;
  s.result = Sample(study.architecture, train, study.train.y, temperature, test, options,
                    &s.summary, y_test);
  return s;
}

nlohmann::json WriteStudySample(ResultFolder& out, const Study& study, const StudySample& s,
                                Provenance run) {
  run.Set("sampler", SamplerSettings(s.options));
  run.Set("seed", s.options.chains.seed);
  nlohmann::json j = SampleJson(study, s.result, s.summary, s.temperature);
  j["provenance"] = run.Json();
  StageSampleOutputs(out, s.result, s.summary, j, "sample_summary.json", run);
  out.Commit({"sample_summary.json"});
  return j;
}

}  // namespace attnpaths
