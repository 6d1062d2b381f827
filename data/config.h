// Study — one TOML experiment file: data, architecture, temperature, solver
// and output settings (docs/config.md lists every field and its default).
//
//   attnpaths::Study study = attnpaths::LoadStudy("run.toml");
//   study.architecture;           // heads built, widths and variances set
//   study.train.x, study.train.y; // loaded or generated
//
// Unknown keys are errors that name the nearest valid key. Relative file
// paths are resolved against the config file's folder. Arrays are NPY files
// ("X.npy") or HDF5 datasets ("data.h5:/group/X").
#pragma once

#include <Eigen/Core>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "data/hmm.h"
#include "data/labels.h"
#include "data/size_limit.h"
#include "kernels/architecture.h"
#include "kernels/option_field.h"
#include "kernels/path_kernel.h"

namespace attnpaths {

// What LoadStudy does with a generated data set ([data] generator).
enum class StudyLoading {
  kInMemory,        // generate it in memory (within the limit of data/size_limit.h)
  kDeferGenerated,  // only its labels: ResolveStudyData (study/study_examples.h)
                    // generates it unless the storage of G streams it (solve,
                    // predict and sweep; theory.md §10)
};

struct Study {
  std::string config_path;  // the file read ("" when parsed from memory)
  std::string name = "study";
  Architecture architecture;
  Dataset train;
  Dataset test;  // may have 0 examples
  bool has_test_labels = false;
  // [data] task: what the labels mean (data/labels.h); regression reports no accuracy.
  Task task = Task::kClassification;
  std::vector<double> temperatures{0.01};  // `temperature`, `temperatures` or [sweep] temperatures
  std::vector<double> sweep_widths;        // [sweep] widths (empty: the architecture's width)
  KernelOptions kernel;
  // [solver], [sampler] and [pruning] as written; SolveOptions, SampleOptions
  // and PruningOptions read them, so their defaults are the structs' own
  // (study/settings.h ReadStudySettings).
  OptionTable solver_table, sampler_table, pruning_table;
  std::string output_directory = "attnpaths-out";
  std::uint64_t seed = 0;  // the study seed (generators, perturbations)
  // Every array read from a file: (field, path as resolved), e.g.
  // ("data.train_x", "/runs/X.npy"), ("architecture.layers[0].heads[1].W", "W.npy").
  std::vector<std::pair<std::string, std::string>> files;
  // The generator of a generated set (its fingerprint, data/study_fingerprint.h).
  std::optional<HmmTaskOptions> train_generator, test_generator;
  // True for a generated set that is streamed in blocks instead of held
  // (StudyLoading::kDeferGenerated, theory.md §10): its x holds 0 examples
  // (the shape n_tok × N0 kept), its y all P labels. study/study_examples.h
  // opens either kind of set as an ExampleSource.
  bool train_streamed = false, test_streamed = false;
};

// The number of examples of the training or test set, streamed or not.
Eigen::Index StudyExamples(const Study& study, Split split);
// True when that set is streamed (not in memory).
bool Streamed(const Study& study, Split split);

// The largest array ParseStudy lets a built-in generator build is
// kMaxGeneratedValues (data/size_limit.h): P·n_tok·N0 values for each
// [data.hmm] data set (train and test), N0² for the W of each hmm_* head;
// larger sizes are refused with an Error before anything is allocated.

// Reads and validates a study; throws Error naming the file, the field, the
// value found and what was expected.
Study LoadStudy(const std::string& path, StudyLoading loading = StudyLoading::kInMemory);
// The same from TOML text; `base_dir` resolves relative paths, `name` is used
// in messages in place of a file name.
Study ParseStudy(std::string_view toml_text, const std::string& base_dir, const std::string& name,
                 StudyLoading loading = StudyLoading::kInMemory);

// Loads an array from "file.npy" or "file.h5:/group/dataset" (relative to base_dir).
struct NpyArray;
NpyArray LoadArray(const std::string& spec, const std::string& base_dir, const std::string& field);

// Throws Error naming `field` when a value is below `min`, not finite, or repeated.
void CheckSweepValues(const std::vector<double>& values, const std::string& field, double min);

}  // namespace attnpaths
