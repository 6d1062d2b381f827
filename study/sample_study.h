// SampleStudy — the finite network of a study sampled in one call (theory.md
// §5): the path inputs of its training and test sets, NUTS at its widths and
// a temperature, and (WriteStudySample) the folder `attnpaths sample` writes.
//
//   const Study study = LoadStudy("run.toml");
//   const StudySample s = SampleStudy(study, study.temperatures[0],
//                                     ReadStudySettings(study).sample, /*threads=*/0);
//   std::cout << s.summary.BriefReport() << "\n";
//   ResultFolder out("runs/s", SampleFiles());        // locked before the work, in practice
//   WriteStudySample(out, study, s, run);             // run: the caller's Provenance
//
// Progress goes through options.chains.progress; nothing is printed. A run that does
// not complete is returned (summary.completed() false).
#pragma once

#include <nlohmann/json.hpp>

#include "data/config.h"
#include "data/provenance.h"
#include "data/result_folder.h"
#include "sampler/sample.h"

namespace attnpaths {

struct StudySample {
  double temperature = 0;
  SampleOptions options;  // as used
  SampleResult result;
  SampleSummary summary;
};

// `threads` for the path inputs; options.threads for the chains.
StudySample SampleStudy(const Study& study, double temperature, const SampleOptions& options,
                        int threads);

// Writes draws.h5, sampled_test_*.npy, U_sampled*.npy and sample_summary.json
// (study/sample_files.h) into `out` (opened with SampleFiles()) and commits
// them; `run` is the caller's provenance, to which the sampler settings and
// the seed are added. Returns sample_summary.json's content.
nlohmann::json WriteStudySample(ResultFolder& out, const Study& study, const StudySample& s,
                                Provenance run);

}  // namespace attnpaths
