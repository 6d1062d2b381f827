// Fingerprints of what a study computes with: its data arrays and the
// architecture it was set up with (data/fingerprint.h).
//
//   for (const auto& f : attnpaths::StudyDataFingerprints(study)) {
//     f.field;        // "data.train_x", "architecture.layers[0].heads[1].W"
//     f.file;         // the file it was read from ("" when generated)
//     f.fingerprint;  // 16 hex digits of its values (shape included)
//   }
//   std::string w = attnpaths::HeadParametersFingerprint(study.architecture.layers[0][1]);
//
// A sweep compares the data fingerprints before it resumes; solutions record
// both so that predict / heads / prune / align refuse another architecture or
// other training data.
#pragma once

#include <string>
#include <vector>

#include "data/config.h"

namespace attnpaths {

struct DataFingerprint {
  std::string field;        // "data.train_x", "data.test_y", "architecture.layers[l].heads[h].W"
  std::string file;         // the file read for it ("" when generated)
  std::string fingerprint;  // 16 hex digits
};

// The training and test inputs and labels, and every head's parameters (W,
// Q, K, given attention of both sets), in that order; absent arrays (no test
// set, a uniform head) are left out.
std::vector<DataFingerprint> StudyDataFingerprints(const Study& study);

// The training inputs and labels together (what a solution was solved on).
std::string TrainingDataFingerprint(const Study& study);

// A head's parameters as solved with: W, Q, K and the training set's given
// attention (not the test set's, which a prediction may replace).
std::string HeadParametersFingerprint(const HeadSpec& head);

}  // namespace attnpaths
