// The [solver], [sampler] and [pruning] tables of a study file set the
// library's Options fields (and nothing else decides a default); bad keys,
// types and ranges are errors naming the field.
#include "study/settings.h"

#include <gtest/gtest.h>

#include <string>

#include "kernels/error.h"

namespace attnpaths {
namespace {

const char* kStudy = R"(
[data]
generator = "hmm"
[data.hmm]
P = 4
P_test = 2
chain_tokens = 2
N_f = 2
[architecture]
[[architecture.layers]]
heads = [ { kind = "hmm_uniform" } ]
)";

Study Parse(const std::string& tables) {
  return ParseStudy(std::string(kStudy) + tables, "/nonexistent", "run.toml");
}

std::string SettingsError(const std::string& tables) {
  try {
    ReadStudySettings(Parse(tables));
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(StudySettings, NoTablesGiveTheOptionsOwnDefaults) {
  const StudySettings s = ReadStudySettings(Parse(""));
  const SolveOptions solve;
  const SampleOptions sample;
  const PruningOptions pruning;
  EXPECT_EQ(s.solve.method, solve.method);
  EXPECT_EQ(s.solve.gradient_tolerance, solve.gradient_tolerance);
  EXPECT_EQ(s.solve.max_iterations, solve.max_iterations);
  EXPECT_EQ(s.solve.compute_hessian, solve.compute_hessian);
  EXPECT_EQ(s.sample.chains.num_chains, sample.chains.num_chains);
  EXPECT_EQ(s.sample.chains.num_warmup, sample.chains.num_warmup);
  EXPECT_EQ(s.sample.chains.seed, sample.chains.seed);
  EXPECT_EQ(s.sample.sampled_weights, sample.sampled_weights);
  EXPECT_EQ(s.pruning.orders, pruning.orders);
  EXPECT_EQ(s.pruning.random_repeats, pruning.random_repeats);
}

TEST(StudySettings, TablesSetTheFields) {
  const StudySettings s = ReadStudySettings(Parse(R"(
[solver]
method = "bfgs"
gradient_tolerance = 1e-11
max_iterations = 77
hessian = false
lbfgs_rank = 5
[sampler]
chains = 2
warmup = 30
samples = 40
seed = 9
weights = "all"
target_accept = 0.9
adapt_metric = false
[pruning]
orders = ["random", "increasing"]
random_repeats = 3
seed = 5
[kernel]
strategy = "factored"
)"));
  EXPECT_EQ(s.solve.method, SolveMethod::kBfgs);
  EXPECT_EQ(s.solve.gradient_tolerance, 1e-11);
  EXPECT_EQ(s.solve.max_iterations, 77);
  EXPECT_FALSE(s.solve.compute_hessian);
  EXPECT_EQ(s.solve.lbfgs_rank, 5);
  EXPECT_EQ(s.sample.chains.num_chains, 2);
  EXPECT_EQ(s.sample.chains.num_warmup, 30);
  EXPECT_EQ(s.sample.chains.num_samples, 40);
  EXPECT_EQ(s.sample.chains.seed, 9u);
  EXPECT_EQ(s.sample.sampled_weights, SampledWeights::kAll);
  EXPECT_EQ(s.sample.chains.adaptation.target_accept, 0.9);
  EXPECT_FALSE(s.sample.chains.adapt_metric);
  EXPECT_EQ(s.pruning.orders,
            (std::vector<PruningOrder>{PruningOrder::kRandom, PruningOrder::kIncreasing}));
  EXPECT_EQ(s.pruning.random_repeats, 3);
  EXPECT_EQ(s.pruning.seed, 5u);
  // The re-solves of pruning use the study's solver and kernel settings.
  EXPECT_EQ(s.pruning.solve.gradient_tolerance, 1e-11);
  EXPECT_EQ(s.pruning.kernel.strategy, KernelStrategy::kFactored);
}

TEST(StudySettings, ErrorsNameTheField) {
  EXPECT_NE(SettingsError("[sampler]\nchians = 2\n")
                .find("run.toml: sampler.chians: found an unknown key, expected a known key "
                      "(did you mean \"chains\"?)"),
            std::string::npos);
  EXPECT_NE(SettingsError("[sampler]\nchains = 1.5\n").find("sampler.chains: found 1.5"),
            std::string::npos);
  EXPECT_NE(SettingsError("[sampler]\nchains = 0\n").find("expected at least 1"),
            std::string::npos);
  EXPECT_NE(SettingsError("[sampler]\ntarget_accept = 1.5\n").find("a value in (0, 1)"),
            std::string::npos);
  EXPECT_NE(SettingsError("[solver]\nmethod = \"newton\"\n")
                .find("solver.method: found \"newton\", expected lbfgs or bfgs"),
            std::string::npos);
  EXPECT_NE(SettingsError("[solver]\ngradient_tolerance = -1.0\n").find("a finite value > 0"),
            std::string::npos);
  EXPECT_NE(SettingsError("[solver]\nhessian = 1\n").find("true or false"), std::string::npos);
  EXPECT_NE(SettingsError("[pruning]\norders = [\"sideways\"]\n")
                .find("increasing, random or decreasing"),
            std::string::npos);
  EXPECT_NE(SettingsError("[pruning]\nseed = -3\n").find("an integer >= 0"), std::string::npos);
  // The file reader itself refuses an unknown table.
  EXPECT_THROW(Parse("[sampling]\nchains = 2\n"), Error);
}

TEST(StudySettings, CommandLineTextRoundTripsThroughEveryField) {
  StudySettings s;
  for (const SettingsTable& t : SettingsTables(&s)) {
    for (const OptionField& f : t.fields) {
      const OptionValue before = f.get();
      std::string text = OptionText(before);
      if (const auto* str = std::get_if<std::string>(&before)) text = *str;  // unquoted
      if (const auto* list = std::get_if<std::vector<std::string>>(&before)) {
        text.clear();
        for (const auto& n : *list) text += n + ",";
      }
      f.SetText(text, "--" + f.key);
      EXPECT_EQ(f.get(), before) << t.name << "." << f.key << " from \"" << text << "\"";
    }
  }
}

TEST(StudySettings, EnumNamesAreWrittenOnce) {
  EXPECT_STREQ(NameOf(SolveMethod::kBfgs), "bfgs");
  EXPECT_EQ(ParseEnum<SampledWeights>("collapsed", "w"), SampledWeights::kCollapsed);
  EXPECT_STREQ(SampledWeightsName(SampledWeights::kReadout), "readout");
  EXPECT_EQ(EnumNameList<PruningOrder>(), "increasing, random or decreasing");
  EXPECT_THROW(ParseEnum<PruningMode>("both", "--mode"), Error);
}

}  // namespace
}  // namespace attnpaths
