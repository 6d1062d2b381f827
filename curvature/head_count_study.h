// The head-count study of gradient descent on multi-head attention
// (docs/attention-hessian.md, Part E; after Deora, Ghaderi, Taheri,
// Thrampoulidis, TMLR 2024): one-layer networks of the trainer (theory.md §1,
// QK heads, first-token readout, heads averaged 1/(H √n_1)) trained by
// full-batch gradient descent on the logistic loss over a tokenised mixture
// (data/tokenized_mixture.h), for each head count H at equal total width and
// at growing width, over repeats that share data and seeds across H (paired
// comparisons), with the Hessian's extreme eigenvalues along training and
// the NTK margin at initialisation (curvature/ntk_margin.h).
//
//   attnpaths::HeadCountStudyOptions o;       // H = 1, 2, 4, 8, 16; both width modes
//   o.training.epochs = 200;                  // GD steps
//   attnpaths::HeadCountStudy s = attnpaths::RunHeadCountStudy(o);
//   for (const auto& g : s.groups) g.final_train_loss_mean;  // ± g.final_train_loss_se
//
// Widths. The one-layer network computes f(x) = Σ_h u_hᵀ x A_h(x) e_1 up to
// scale (u_h = V_0ᵀ V_{1,h}ᵀ a): a sum of H single-head classifiers each with
// its own rank-d attention. Equal total width splits a budget between the
// heads: key_dim d = total_key_dim / H and value width n_2 = total_width / H,
// so the parameter count of Q, K and V_{1,h} does not change with H (Deora et
// al.'s heads at H = total_width have scalar outputs); growing width keeps
// d = key_dim and n_2 = width per head, so the parameters grow with H.
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "curvature/ntk_margin.h"
#include "data/tokenized_mixture.h"
#include "trainer/train.h"

namespace attnpaths {

enum class WidthMode {
  kEqualTotal,  // d = total_key_dim / H, n_2 = total_width / H
  kGrowing,     // d = key_dim, n_2 = width (per head)
};
const char* WidthModeName(WidthMode m);  // "equal_total", "growing"
WidthMode ParseWidthMode(const std::string& text, const std::string& field);

struct HeadCountProgress {
  int run = 0, runs = 0;  // runs finished, of
  WidthMode mode = WidthMode::kEqualTotal;
  Eigen::Index heads = 0;
  int repeat = 0;
  double final_train_loss = 0;
  double seconds = 0;
};

struct HeadCountStudyOptions {
  // Training data (examples = P) and the test set's size; repeat r draws both
  // afresh with seeds data.seed + r and data.seed + r + 1000003.
  TokenizedMixtureOptions data;
  Eigen::Index test_examples = 1000;
  std::vector<Eigen::Index> heads{1, 2, 4, 8, 16};
  std::vector<WidthMode> modes{WidthMode::kEqualTotal, WidthMode::kGrowing};
  Eigen::Index total_key_dim = 16, total_width = 16;  // equal_total: divisible by every H
  Eigen::Index key_dim = 4, width = 4;                // growing: per head
  Eigen::Index input_width = 16;                      // n_1 (rows of V_0)
  // Full-batch GD on the logistic loss by default (epochs = steps); the
  // initial seed of repeat r is training.seed + 7919 r, the same for every H.
  TrainOptions training = DefaultTraining();
  int repeats = 5;
  // Every this many steps, the Hessian's largest and smallest eigenvalues
  // (Lanczos on curvature/network_hessian.h's products) on the first
  // hessian_examples training examples (0: all); 0: never.
  int hessian_every = 0;
  Eigen::Index hessian_examples = 0;
  int lanczos_iterations = 60;
  // The NTK margin at initialisation of every run (curvature/ntk_margin.h):
  // the hard-margin SVM on φ_μ = ∇_θ f(x^μ; θ_0) over the trained weights
  // and the run's training set; false: not computed.
  bool ntk_margin = true;
  HardMarginOptions margin;
  std::function<void(const HeadCountProgress&)> progress;

  static TrainOptions DefaultTraining();
  bool IsValid(std::string* error) const;
};

struct HessianTrackPoint {
  long step = 0;
  double largest = 0, smallest = 0;  // λ_max, λ_min of ∇²E
  double largest_residual = 0, smallest_residual = 0;
};

struct HeadCountRun {
  WidthMode mode = WidthMode::kEqualTotal;
  Eigen::Index heads = 0, key_dim = 0, width = 0;  // H, d, n_2
  int repeat = 0;
  Eigen::Index num_parameters = 0;
  TrainSummary summary;  // loss curve, final losses and accuracies
  std::vector<HessianTrackPoint> hessian;
  NtkMargin ntk;  // at θ_0 (svm.status kNotRun when not computed)
};

// One (mode, H) over the repeats.
struct HeadCountGroup {
  WidthMode mode = WidthMode::kEqualTotal;
  Eigen::Index heads = 0, key_dim = 0, width = 0, num_parameters = 0;
  Eigen::VectorXd mean_train_loss;  // per step (size = steps), mean over repeats
  Eigen::VectorXd se_train_loss;    // its standard error
  double final_train_loss_mean = 0, final_train_loss_se = 0;
  double final_test_accuracy_mean = 0, final_test_accuracy_se = 0;
  double final_test_loss_mean = 0, final_test_loss_se = 0;
  // Final train loss minus that of H = heads[0] in the same mode, paired by
  // repeat (0 for the first H): mean and standard error.
  double paired_difference_mean = 0, paired_difference_se = 0;
  // The NTK margin at initialisation γ and γ / max_μ ‖φ_μ‖: mean and standard
  // error over the repeats whose dual was decided (converged, or not
  // separable, counted as γ = 0); NaN when none was.
  double ntk_margin_mean = std::numeric_limits<double>::quiet_NaN();
  double ntk_margin_se = std::numeric_limits<double>::quiet_NaN();
  double ntk_normalized_margin_mean = std::numeric_limits<double>::quiet_NaN();
  double ntk_normalized_margin_se = std::numeric_limits<double>::quiet_NaN();
  int ntk_separable = 0;  // repeats whose dual converged (separable)
  int ntk_decided = 0;    // … converged or not separable (the rest hit the sweep limit)
};

struct HeadCountStudy {
  std::vector<HeadCountRun> runs;      // mode × H × repeat
  std::vector<HeadCountGroup> groups;  // mode × H
  double seconds = 0;
  std::string BriefReport() const;
};

// The network of one (mode, H) (N0, n_tok from the data options).
NetworkShape HeadCountShape(const HeadCountStudyOptions& options, WidthMode mode,
                            Eigen::Index heads);

// Throws Error for invalid options.
HeadCountStudy RunHeadCountStudy(const HeadCountStudyOptions& options);

}  // namespace attnpaths
