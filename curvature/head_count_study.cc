#include "curvature/head_count_study.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "curvature/lanczos.h"
#include "curvature/network_hessian.h"
#include "kernels/error.h"

namespace attnpaths {

namespace {

using Clock = std::chrono::steady_clock;

void MeanAndError(const std::vector<double>& v, double* mean, double* se) {
  const auto n = static_cast<double>(v.size());
  double m = 0;
  for (double x : v) m += x;
  m /= n;
  double ss = 0;
  for (double x : v) ss += (x - m) * (x - m);
  *mean = m;
  *se = v.size() > 1 ? std::sqrt(ss / (n - 1) / n) : 0.0;
}

}  // namespace

const char* WidthModeName(WidthMode m) {
  return m == WidthMode::kEqualTotal ? "equal_total" : "growing";
}

WidthMode ParseWidthMode(const std::string& text, const std::string& field) {
  if (text == "equal_total") return WidthMode::kEqualTotal;
  if (text == "growing") return WidthMode::kGrowing;
  throw Error(ErrorMessage(field, "\"" + text + "\"", "one of equal_total, growing"));
}

TrainOptions HeadCountStudyOptions::DefaultTraining() {
  TrainOptions t;
  t.optimizer = Optimizer::kGradientDescent;
  t.loss = LossKind::kLogistic;
  t.epochs = 200;
  t.learning_rate = 0.5;
  t.schedule = LearningRateSchedule::kConstant;
  t.attention_init_std = 0.1;
  t.value_init_std = 1.0;
  t.seed = 1;
  t.eval_every = 0;
  return t;
}

bool HeadCountStudyOptions::IsValid(std::string* error) const {
  try {
    data.Validate("mixture");
    Require(test_examples >= 1, "mixture.test_examples", test_examples, "a value >= 1");
    Require(!heads.empty(), "network.heads", "nothing", "at least one head count");
    Require(!modes.empty(), "network.modes", "nothing", "equal_total and/or growing");
    for (size_t i = 0; i < heads.size(); ++i) {
      const std::string f = "network.heads[" + std::to_string(i) + "]";
      Require(heads[i] >= 1, f, heads[i], "a head count >= 1");
      for (size_t j = 0; j < i; ++j) {
        Require(heads[i] != heads[j], f, heads[i],
                "no repeated head counts (it repeats entry " + std::to_string(j) + ")");
      }
      for (WidthMode m : modes) {
        if (m != WidthMode::kEqualTotal) continue;
        Require(total_key_dim % heads[i] == 0, "network.total_key_dim", total_key_dim,
                "a multiple of every head count for equal_total width (H = " +
                    std::to_string(heads[i]) + ")");
        Require(total_width % heads[i] == 0, "network.total_width", total_width,
                "a multiple of every head count for equal_total width (H = " +
                    std::to_string(heads[i]) + ")");
      }
    }
    Require(key_dim >= 1, "network.key_dim", key_dim, "a value >= 1");
    Require(width >= 1, "network.width", width, "a value >= 1");
    Require(input_width >= 1, "network.input_width", input_width, "a value >= 1");
    Require(repeats >= 1, "training.repeats", repeats, "a value >= 1");
    Require(hessian_every >= 0, "hessian.every", hessian_every, "a value >= 0 (0: never)");
    Require(hessian_examples >= 0 && hessian_examples <= data.examples, "hessian.examples",
            hessian_examples, "0 (all) … the training examples (" + ToText(data.examples) + ")");
    Require(lanczos_iterations >= 2, "hessian.lanczos_iterations", lanczos_iterations,
            "a value >= 2");
    std::string e;
    if (!training.IsValid(&e)) throw Error(e);
    if (!margin.IsValid(&e)) throw Error(e);
  } catch (const Error& e) {
    if (error) *error = e.what();
    return false;
  }
  return true;
}

NetworkShape HeadCountShape(const HeadCountStudyOptions& o, WidthMode mode, Eigen::Index heads) {
  NetworkShape s;
  s.N0 = o.data.features;
  s.n_tok = o.data.tokens;
  s.heads = {heads};
  const bool equal = mode == WidthMode::kEqualTotal;
  s.key_dim = equal ? o.total_key_dim / heads : o.key_dim;
  s.widths = {o.input_width, equal ? o.total_width / heads : o.width};
  s.readout = Readout::kFirst;
  s.head_scaling = HeadScaling::kMean;
  s.Validate();
  return s;
}

HeadCountStudy RunHeadCountStudy(const HeadCountStudyOptions& o) {
  std::string error;
  if (!o.IsValid(&error)) throw Error(error);
  const auto start = Clock::now();
  HeadCountStudy study;
  const int runs = static_cast<int>(o.modes.size() * o.heads.size()) * o.repeats;
  int done = 0;
  for (int r = 0; r < o.repeats; ++r) {
    TokenizedMixtureOptions train_data = o.data, test_data = o.data;
    train_data.seed = o.data.seed + static_cast<std::uint64_t>(r);
    test_data.seed = o.data.seed + static_cast<std::uint64_t>(r) + 1000003ULL;
    test_data.examples = o.test_examples;
    const TokenizedMixture train = GenerateTokenizedMixture(train_data);
    const TokenizedMixture test = GenerateTokenizedMixture(test_data);
    Inputs x_hessian = train.x;
    Eigen::VectorXd y_hessian = train.y;
    if (o.hessian_examples > 0 && o.hessian_examples < train.x.P()) {
      std::vector<Eigen::Index> ids(static_cast<size_t>(o.hessian_examples));
      for (Eigen::Index i = 0; i < o.hessian_examples; ++i) ids[static_cast<size_t>(i)] = i;
      x_hessian = train.x.Select(ids);
      y_hessian = train.y.head(o.hessian_examples);
    }
    for (WidthMode mode : o.modes) {
      for (Eigen::Index H : o.heads) {
        HeadCountRun run;
        run.mode = mode;
        run.heads = H;
        run.repeat = r;
        const NetworkShape shape = HeadCountShape(o, mode, H);
        run.key_dim = shape.key_dim;
        run.width = shape.widths[1];
        TrainOptions t = o.training;
        t.seed = o.training.seed + 7919ULL * static_cast<std::uint64_t>(r);
        t.progress = nullptr;
        if (o.hessian_every > 0) {
          t.monitor = [&](const EpochRecord& rec, const Network& net) {
            if (rec.epoch % o.hessian_every != 0) return;
            const NetworkHessian hessian(net, x_hessian, y_hessian, t.loss, t.weight_decay,
                                         t.threads);
            const SymmetricOperator op{hessian.num_parameters(), [&](const Eigen::VectorXd& v) {
                                         return hessian.Apply(v, HessianPart::kFull);
                                       }};
            LanczosOptions lo;
            lo.eigenvalues = 1;
            lo.max_iterations = o.lanczos_iterations;
            lo.seed = t.seed + static_cast<std::uint64_t>(rec.epoch);
            const ExtremeEigenvalues e = LanczosExtremes(op, lo);
            run.hessian.push_back({rec.steps, e.largest(0), e.smallest(0), e.largest_residuals(0),
                                   e.smallest_residuals(0)});
          };
        }
        if (o.ntk_margin) run.ntk = NtkMarginAtInitialization(shape, train.x, train.y, t, o.margin);
        const Network net = Train(shape, train.x, train.y, &test.x, &test.y, t, &run.summary);
        run.num_parameters = net.num_parameters();
        ++done;
        if (o.progress) {
          o.progress({done, runs, mode, H, r, run.summary.final_train_loss,
                      std::chrono::duration<double>(Clock::now() - start).count()});
        }
        study.runs.push_back(std::move(run));
      }
    }
  }
  // Groups: mode × H, paired against the first H of the mode.
  for (WidthMode mode : o.modes) {
    std::vector<double> first_loss;
    for (size_t hi = 0; hi < o.heads.size(); ++hi) {
      HeadCountGroup g;
      g.mode = mode;
      g.heads = o.heads[hi];
      std::vector<const HeadCountRun*> mine;
      for (const HeadCountRun& run : study.runs) {
        if (run.mode == mode && run.heads == g.heads) mine.push_back(&run);
      }
      g.key_dim = mine[0]->key_dim;
      g.width = mine[0]->width;
      g.num_parameters = mine[0]->num_parameters;
      std::vector<double> loss, acc, test_loss, diff, margin, normalized;
      for (size_t r = 0; r < mine.size(); ++r) {
        const HardMarginSummary& svm = mine[r]->ntk.svm;
        if (svm.status == HardMarginStatus::kConverged ||
            svm.status == HardMarginStatus::kNotSeparable) {
          margin.push_back(svm.margin);
          normalized.push_back(svm.normalized_margin);
          ++g.ntk_decided;
          if (svm.converged()) ++g.ntk_separable;
        }
        loss.push_back(mine[r]->summary.final_train_loss);
        acc.push_back(mine[r]->summary.final_test_accuracy);
        test_loss.push_back(mine[r]->summary.final_test_loss);
      }
      if (hi == 0) first_loss = loss;
      for (size_t r = 0; r < loss.size(); ++r) diff.push_back(loss[r] - first_loss[r]);
      MeanAndError(loss, &g.final_train_loss_mean, &g.final_train_loss_se);
      MeanAndError(acc, &g.final_test_accuracy_mean, &g.final_test_accuracy_se);
      MeanAndError(test_loss, &g.final_test_loss_mean, &g.final_test_loss_se);
      MeanAndError(diff, &g.paired_difference_mean, &g.paired_difference_se);
      if (!margin.empty()) {
        MeanAndError(margin, &g.ntk_margin_mean, &g.ntk_margin_se);
        MeanAndError(normalized, &g.ntk_normalized_margin_mean, &g.ntk_normalized_margin_se);
      }
      size_t steps = mine[0]->summary.loss_curve.size();
      for (const HeadCountRun* run : mine) steps = std::min(steps, run->summary.loss_curve.size());
      g.mean_train_loss.resize(static_cast<Eigen::Index>(steps));
      g.se_train_loss.resize(static_cast<Eigen::Index>(steps));
      for (size_t s = 0; s < steps; ++s) {
        std::vector<double> v;
        for (const HeadCountRun* run : mine) v.push_back(run->summary.loss_curve[s].train_loss);
        MeanAndError(v, &g.mean_train_loss(static_cast<Eigen::Index>(s)),
                     &g.se_train_loss(static_cast<Eigen::Index>(s)));
      }
      study.groups.push_back(std::move(g));
    }
  }
  study.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return study;
}

std::string HeadCountStudy::BriefReport() const {
  std::ostringstream os;
  os << "head-count study: " << runs.size() << " runs, " << seconds << " s\n";
  char buf[256];
  for (const HeadCountGroup& g : groups) {
    std::snprintf(buf, sizeof buf,
                  "  %-11s H=%-3ld d=%-3ld n2=%-3ld params %-6ld  final loss %.4f ± %.4f  "
                  "(vs first H %+.4f ± %.4f)  test acc %.4f ± %.4f\n",
                  WidthModeName(g.mode), static_cast<long>(g.heads), static_cast<long>(g.key_dim),
                  static_cast<long>(g.width), static_cast<long>(g.num_parameters),
                  g.final_train_loss_mean, g.final_train_loss_se, g.paired_difference_mean,
                  g.paired_difference_se, g.final_test_accuracy_mean, g.final_test_accuracy_se);
    os << buf;
    if (g.ntk_decided > 0) {
      std::snprintf(buf, sizeof buf,
                    "  %-11s H=%-3ld NTK margin at init %.4g ± %.2g (normalised %.4g ± %.2g; "
                    "%d of %d repeats separable)\n",
                    WidthModeName(g.mode), static_cast<long>(g.heads), g.ntk_margin_mean,
                    g.ntk_margin_se, g.ntk_normalized_margin_mean, g.ntk_normalized_margin_se,
                    g.ntk_separable, g.ntk_decided);
      os << buf;
    }
  }
  return os.str();
}

}  // namespace attnpaths
