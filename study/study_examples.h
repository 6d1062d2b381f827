// OpenStudyExamples — a study's training or test set as an ExampleSource
// (kernels/example_source.h), whether it is held in memory or streamed from
// its generator; ResolveStudyData — which generated sets are streamed.
//
//   Study study = LoadStudy("run.toml", StudyLoading::kDeferGenerated);
//   ResolveStudyData(&study, /*storage=*/std::nullopt);   // the study's [solver] storage
//   auto source = OpenStudyExamples(study, Split::kTrain);
//   const auto [begin, end] = Communicator::World().Share(source->P());
//   ExampleRange mine(*source, begin, end);          // this process's examples
//   Gram g = AccumulateGram(study.architecture, mine, Split::kTrain);
//
// An in-memory set is read from the study's arrays (not copied: the study
// must outlive the source), a streamed one is generated block by block.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "data/config.h"
#include "kernels/example_source.h"
#include "kernels/path_kernel.h"

namespace attnpaths {

// A generated training set is streamed when the storage of G resolves to
// features for it (theory.md §10: only A = ΞᵀΞ, b = ΞᵀY, YᵀY are kept, so
// memory is O(M²) whatever P); it is generated in memory otherwise (an
// Error names data.hmm.P when it exceeds the in-memory limit of
// data/size_limit.h). A generated test set is generated in memory when the
// training set is and it fits; else it is predicted in blocks. `storage`
// overrides the study's [solver] storage (as --storage does). Sets from
// files are left as they are (float64 NPY inputs are memory-mapped).
void ResolveStudyData(Study* study, std::optional<GramStorage> storage);

std::unique_ptr<ExampleSource> OpenStudyExamples(const Study& study, Split split);

// "<config>: data.train_x" (or data.test_x), or "<config>: data.hmm.P" for a
// streamed generated set: where messages about the set's examples point.
std::string StudyExamplesField(const Study& study, Split split);

}  // namespace attnpaths
