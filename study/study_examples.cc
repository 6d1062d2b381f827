#include "study/study_examples.h"

#include "data/hmm.h"
#include "data/size_limit.h"
#include "study/study_kernels.h"

namespace attnpaths {

namespace {

bool FitsInMemory(const HmmTaskOptions& o) {
  const double n_tok = static_cast<double>(o.chain_tokens) + 1;
  return static_cast<double>(o.P) * n_tok * (static_cast<double>(o.N_f) + n_tok) <=
         kMaxGeneratedValues;
}

// Generates a deferred set in memory; the size error names data.hmm.<field>.
void Generate(const Study& study, const HmmTaskOptions& o, const char* field, Dataset* set) {
  const double n_tok = static_cast<double>(o.chain_tokens) + 1;
  RequireGeneratedSize(study.config_path + ": data.hmm." + field, std::string(field) + "*n_tok*N0",
                       {static_cast<double>(o.P), n_tok, static_cast<double>(o.N_f) + n_tok});
  *set = GenerateHmmTask(o);
}

}  // namespace

void ResolveStudyData(Study* study, std::optional<GramStorage> storage) {
  if (!study->train_streamed && !study->test_streamed) return;
  bool stream_train = false;
  if (study->train_streamed) {
    const KernelStrategy strategy =
        ChooseKernelStrategy(StudyKernelOptions(*study, storage), study->train.y.rows(),
                             study->architecture.Htot(), study->train.x.N0());
    stream_train = strategy == KernelStrategy::kFeatures;
    if (!stream_train && FitsInMemory(*study->train_generator)) {
      Generate(*study, *study->train_generator, "P", &study->train);
      study->train_streamed = false;
    }
  }
  if (study->test_streamed && !stream_train && FitsInMemory(*study->test_generator)) {
    Generate(*study, *study->test_generator, "P_test", &study->test);
    study->test_streamed = false;
  }
}

std::unique_ptr<ExampleSource> OpenStudyExamples(const Study& study, Split split) {
  const bool train = split == Split::kTrain;
  if (Streamed(study, split)) {
    return std::make_unique<HmmExamples>(train ? *study.train_generator : *study.test_generator);
  }
  const Dataset& set = train ? study.train : study.test;
  if (!train && !study.has_test_labels) {
    return std::make_unique<InMemoryExamples>(set.x, StudyExamplesField(study, split));
  }
  return std::make_unique<InMemoryExamples>(set.x, set.y, StudyExamplesField(study, split));
}

std::string StudyExamplesField(const Study& study, Split split) {
  const bool train = split == Split::kTrain;
  if (Streamed(study, split))
    return study.config_path + (train ? ": data.hmm.P" : ": data.hmm.P_test");
  return study.config_path + (train ? ": data.train_x" : ": data.test_x");
}

}  // namespace attnpaths
