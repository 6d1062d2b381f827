#include "data/study_fingerprint.h"

#include "data/fingerprint.h"

namespace attnpaths {

namespace {

std::string InputsFingerprint(const Inputs& x) {
  Fingerprint f;
  const std::int64_t shape[3] = {x.P(), x.n_tok(), x.N0()};
  f.Add(shape, sizeof shape);
  f.Add(x.values().data(), sizeof(double) * x.values().size());
  return f.Hex();
}

// A generated set, held or streamed (data/config.h), is a function of its
// generator's options: those are its fingerprint.
std::string GeneratorFingerprint(const HmmTaskOptions& o) {
  Fingerprint f;
  const std::int64_t sizes[3] = {o.P, o.chain_tokens, o.N_f};
  const double numbers[5] = {o.stay_plus, o.stay_minus, o.noise_sum, o.noise_difference,
                             o.noise_orthogonal};
  f.Add(std::string_view("hmm generator")).Add(sizes, sizeof sizes).Add(numbers, sizeof numbers);
  f.Add(&o.seed, sizeof o.seed);
  return f.Hex();
}

std::string SetFingerprint(const Study& study, Split split) {
  const auto& generator = split == Split::kTrain ? study.train_generator : study.test_generator;
  if (generator) return GeneratorFingerprint(*generator);
  return InputsFingerprint(split == Split::kTrain ? study.train.x : study.test.x);
}

std::string MatrixFingerprint(const Eigen::MatrixXd& m) { return Fingerprint().Add(m).Hex(); }

std::string StackFingerprint(const std::vector<Eigen::MatrixXd>& stack) {
  Fingerprint f;
  const std::int64_t count = static_cast<std::int64_t>(stack.size());
  f.Add(&count, sizeof count);
  for (const auto& m : stack) f.Add(m);
  return f.Hex();
}

}  // namespace

std::vector<DataFingerprint> StudyDataFingerprints(const Study& study) {
  auto file_of = [&](const std::string& field) {
    for (const auto& [f, path] : study.files) {
      if (f == field) return path;
    }
    return std::string();
  };
  std::vector<DataFingerprint> out;
  auto add = [&](const std::string& field, std::string fingerprint) {
    out.push_back({field, file_of(field), std::move(fingerprint)});
  };
  add("data.train_x", SetFingerprint(study, Split::kTrain));
  add("data.train_y", MatrixFingerprint(study.train.y));
  if (StudyExamples(study, Split::kTest) > 0)
    add("data.test_x", SetFingerprint(study, Split::kTest));
  if (study.has_test_labels) add("data.test_y", MatrixFingerprint(study.test.y));
  const auto& layers = study.architecture.layers;
  for (size_t l = 0; l < layers.size(); ++l) {
    for (size_t h = 0; h < layers[l].size(); ++h) {
      const HeadSpec& head = layers[l][h];
      const std::string where =
          "architecture.layers[" + std::to_string(l) + "].heads[" + std::to_string(h) + "].";
      if (head.W.size() > 0) add(where + "W", MatrixFingerprint(head.W));
      if (head.Q.size() > 0) add(where + "Q", MatrixFingerprint(head.Q));
      if (head.K.size() > 0) add(where + "K", MatrixFingerprint(head.K));
      if (head.fixed.size() > 0) add(where + "attention", MatrixFingerprint(head.fixed));
      if (head.given_train) add(where + "attention", StackFingerprint(*head.given_train));
      if (head.given_test) add(where + "test_attention", StackFingerprint(*head.given_test));
    }
  }
  return out;
}

std::string TrainingDataFingerprint(const Study& study) {
  Fingerprint f;
  f.Add(SetFingerprint(study, Split::kTrain)).Add(MatrixFingerprint(study.train.y));
  return f.Hex();
}

std::string HeadParametersFingerprint(const HeadSpec& h) {
  Fingerprint f;
  f.Add(h.W).Add(h.Q).Add(h.K).Add(h.fixed);
  const std::int64_t count = h.given_train ? static_cast<std::int64_t>(h.given_train->size()) : -1;
  f.Add(&count, sizeof count);
  if (h.given_train) {
    for (const auto& m : *h.given_train) f.Add(m);
  }
  return f.Hex();
}

}  // namespace attnpaths
