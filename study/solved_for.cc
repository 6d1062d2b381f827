#include "study/solved_for.h"

#include "data/study_fingerprint.h"
#include "kernels/error.h"

namespace attnpaths {

namespace {

const char* NormalizationText(Normalization n) {
  return n == Normalization::kSoftmax ? "softmax" : "hardmax";
}

// Throws unless the solution's `found` equals the config's `expected`.
void Same(const nlohmann::json& found, const nlohmann::json& expected, const std::string& file,
          const std::string& what, const Study& study) {
  if (found == expected) return;
  throw Error(ErrorMessage(file + ": solved_for." + what, found.dump() + " in the solution",
                           expected.dump() + " as in " + study.config_path +
                               " (the solution belongs to another architecture or other "
                               "training data: solve this config again, or pass the config the "
                               "solution was solved for)"));
}

}  // namespace

nlohmann::json SolvedForJson(const Study& study) {
  const Architecture& arch = study.architecture;
  nlohmann::json heads = nlohmann::json::array();
  for (const auto& layer : arch.layers) {
    nlohmann::json l = nlohmann::json::array();
    for (const HeadSpec& h : layer) {
      l.push_back({{"name", h.name},
                   {"kind", HeadKindName(h.kind)},
                   {"beta", h.beta},
                   {"normalization", NormalizationText(h.normalization)},
                   {"causal", h.causal},
                   {"parameters", HeadParametersFingerprint(h)}});
    }
    heads.push_back(std::move(l));
  }
  nlohmann::json j;
  j["heads"] = std::move(heads);
  j["readout"] = ReadoutName(arch.readout);
  j["widths"] = arch.widths;
  j["variances"] = arch.variances;
  j["outputs"] = study.train.y.cols();
  j["task"] = TaskName(study.task);
  j["training_examples"] = StudyExamples(study, Split::kTrain);
  j["training_data"] = TrainingDataFingerprint(study);
  return j;
}

bool CheckSolvedFor(const nlohmann::json& summary, const Study& study, const std::string& file) {
  if (!summary.is_object() || !summary.contains("solved_for")) return false;
  const nlohmann::json& s = summary["solved_for"];
  const nlohmann::json c = SolvedForJson(study);
  Require(s.is_object(), file + ": solved_for", s.dump(), "an object written by attnpaths");
  for (const char* key : {"heads", "readout", "widths", "variances", "outputs", "training_examples",
                          "training_data"}) {
    Require(s.contains(key), file + ": solved_for." + key, "nothing",
            "the record attnpaths writes (the file was edited or truncated)");
  }
  // Layers and heads first: the most telling difference.
  const nlohmann::json& sh = s["heads"];
  const nlohmann::json& ch = c["heads"];
  Require(sh.is_array(), file + ": solved_for.heads", sh.dump(), "a list of layers");
  auto counts = [](const nlohmann::json& heads) {
    nlohmann::json n = nlohmann::json::array();
    for (const auto& layer : heads) n.push_back(layer.is_array() ? layer.size() : 0);
    return n;
  };
  Same(counts(sh), counts(ch), file, "heads per layer", study);
  for (size_t l = 0; l < ch.size(); ++l) {
    for (size_t h = 0; h < ch[l].size(); ++h) {
      Require(sh[l][h].is_object(),
              file + ": solved_for.heads[" + std::to_string(l) + "][" + std::to_string(h) + "]",
              sh[l][h].dump(), "a head record written by attnpaths");
      const std::string where = "heads[" + std::to_string(l) + "][" + std::to_string(h) + "] (" +
                                ch[l][h]["name"].get<std::string>() + ")";
      for (const char* key : {"kind", "beta", "normalization", "causal", "parameters"}) {
        Same(sh[l][h].value(key, nlohmann::json()), ch[l][h][key], file, where + "." + key, study);
      }
    }
  }
  Same(s["readout"], c["readout"], file, "readout", study);
  Same(s["variances"], c["variances"], file, "variances", study);
  Same(s["widths"].is_array() ? s["widths"].size() : 0, c["widths"].size(), file,
       "widths count (L + 1)", study);
  Same(s["outputs"], c["outputs"], file, "outputs (label columns D)", study);
  Same(s["training_examples"], c["training_examples"], file, "training_examples (P)", study);
  Same(s["training_data"], c["training_data"], file,
       "training_data (fingerprint of data.train_x and data.train_y)", study);
  return true;
}

std::string UncheckedWarning(const std::string& file) {
  return file +
         " lacks solved_for or files (written by hand or by an older attnpaths): the "
         "architecture and training data it was solved for, or its files, are not checked";
}

}  // namespace attnpaths
