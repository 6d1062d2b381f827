#include "curvature/network_hessian.h"

#include <boost/random/mersenne_twister.hpp>
#include <boost/random/normal_distribution.hpp>
#include <boost/random/uniform_int_distribution.hpp>
#include <cmath>
#include <map>
#include <memory>

#include "kernels/error.h"
#include "network/pass.h"

namespace attnpaths {

namespace {

const HessianPart kParts[] = {HessianPart::kOuter, HessianPart::kFunctional, HessianPart::kFull};

std::string HeadPrefix(int l, Eigen::Index h) { return TrainedHeadName(l, h) + "."; }

}  // namespace

std::vector<ParameterGroup> NetworkParameterGroups(const Network& net) {
  const NetworkShape& s = net.shape();
  const ParameterLayout& lay = net.layout();
  std::vector<ParameterGroup> g;
  auto add = [&](std::string name, char kind, int l, Eigen::Index h, ParameterLayout::Block b) {
    g.push_back({std::move(name), kind, l, h, b.offset, b.rows * b.cols});
  };
  add("V0", 'V', 0, -1, lay.V0());
  for (int l = 1; l <= s.L(); ++l) {
    for (Eigen::Index h = 0; h < s.heads[static_cast<size_t>(l - 1)]; ++h) {
      add(HeadPrefix(l, h) + "V", 'V', l, h, lay.V(l, h));
      if (!lay.has_qk()) continue;
      add(HeadPrefix(l, h) + "Q", 'Q', l, h, lay.Q(l, h));
      add(HeadPrefix(l, h) + "K", 'K', l, h, lay.K(l, h));
    }
  }
  add("a", 'V', 0, -1, lay.a());
  return g;
}

NetworkHessian::NetworkHessian(const Network& net, const Inputs& x, const Eigen::VectorXd& y,
                               LossKind loss, double weight_decay, int threads)
    : net_(net), x_(x), y_(y), loss_kind_(loss), weight_decay_(weight_decay), threads_(threads) {
  Require(net.shape().head_weights == HeadWeights::kQK, "network heads", "fixed heads",
          "QK-form heads (the trainer's network)");
  Require(x.P() >= 1, "inputs examples", x.P(), "at least 1");
  Require(y.size() == x.P(), "labels count", y.size(), ToText(x.P()) + " (one per example)");
  Require(y.allFinite(), "labels", "a non-finite value", "finite labels");
  x.CheckFinite("inputs");
  for (Eigen::Index mu = 0; mu < x.P(); ++mu) batch_.push_back(mu);
  groups_ = NetworkParameterGroups(net_);
  loss_ = LossAndGradient(net_, x_, y_, batch_, weight_decay_, &gradient_, {}, threads_, loss_kind_)
              .objective;
  jacobian_ = OutputJacobian(net_, x_, batch_);
  // f from the Jacobian's forward passes would do; one Predict is simpler.
  NetworkPass pass(net_);
  weights_.resize(x.P());
  const double inv_B = 1.0 / static_cast<double>(x.P());
  for (Eigen::Index mu = 0; mu < x.P(); ++mu) {
    const double f = pass.Forward(x_, &batch_[static_cast<size_t>(mu)], 1)(0, 0);
    weights_(mu) = inv_B * ExampleLossCurvature(loss_kind_, f, y_(mu));
  }
}

Eigen::VectorXd NetworkHessian::GradientAt(const Eigen::Ref<const Eigen::VectorXd>& v,
                                           double t) const {
  Network moved = net_;
  moved.parameters() += t * v;
  Eigen::VectorXd g;
  LossAndGradient(moved, x_, y_, batch_, weight_decay_, &g, {}, threads_, loss_kind_);
  return g;
}

Eigen::VectorXd NetworkHessian::Apply(const Eigen::Ref<const Eigen::VectorXd>& v,
                                      HessianPart part) const {
  Require(v.size() == num_parameters(), "direction size", v.size(),
          ToText(num_parameters()) + " (the network's parameters)");
  // H_o v = Jᵀ diag(ℓ''/B) J v + wd v (the Gauss–Newton part, Part D).
  const Eigen::VectorXd outer =
      jacobian_.transpose() * (weights_.asDiagonal() * (jacobian_ * v)) + weight_decay_ * v;
  if (part == HessianPart::kOuter) return outer;
  const double norm = v.norm();
  if (norm == 0) return Eigen::VectorXd::Zero(v.size());
  // Richardson-extrapolated central differences of the analytic gradient.
  const double h = 1e-4 * std::max(net_.parameters().norm(), 1.0) / norm;
  const Eigen::VectorXd d1 = (GradientAt(v, h) - GradientAt(v, -h)) / (2 * h);
  const Eigen::VectorXd d2 = (GradientAt(v, h / 2) - GradientAt(v, -h / 2)) / h;
  const Eigen::VectorXd full = (4 * d2 - d1) / 3;
  return part == HessianPart::kFull ? full : Eigen::VectorXd(full - outer);
}

Eigen::MatrixXd NetworkHessian::Dense(HessianPart part) const {
  const Eigen::Index n = num_parameters();
  Eigen::MatrixXd Ho = jacobian_.transpose() * weights_.asDiagonal() * jacobian_;
  Ho.diagonal().array() += weight_decay_;
  if (part == HessianPart::kOuter) return Ho;
  Eigen::MatrixXd H(n, n);
  for (Eigen::Index j = 0; j < n; ++j)
    H.col(j) = Apply(Eigen::VectorXd::Unit(n, j), HessianPart::kFull);
  asymmetry_ =
      (H - H.transpose()).cwiseAbs().maxCoeff() / std::max(H.cwiseAbs().maxCoeff(), 1e-300);
  const Eigen::MatrixXd sym = 0.5 * (H + H.transpose());
  return part == HessianPart::kFull ? sym : Eigen::MatrixXd(sym - Ho);
}

std::vector<NetworkBlock> NetworkBlocks(const Network& net) {
  const std::vector<ParameterGroup> groups = NetworkParameterGroups(net);
  auto index = [&](const std::string& name) {
    for (size_t i = 0; i < groups.size(); ++i) {
      if (groups[i].name == name) return static_cast<int>(i);
    }
    throw Error(ErrorMessage("parameter group", name, "a group of the network"));
  };
  std::vector<NetworkBlock> blocks;
  const NetworkShape& s = net.shape();
  for (int l = 1; l <= s.L(); ++l) {
    for (Eigen::Index h = 0; h < s.heads[static_cast<size_t>(l - 1)]; ++h) {
      const std::string p = HeadPrefix(l, h);
      const int V = index(p + "V"), Q = index(p + "Q"), K = index(p + "K");
      blocks.push_back({p + "VV", "VV", l, V, V});
      blocks.push_back({p + "QQ", "QQ", l, Q, Q});
      blocks.push_back({p + "KK", "KK", l, K, K});
      blocks.push_back({p + "QK", "QK", l, Q, K});
      blocks.push_back({p + "VQ", "VQ", l, V, Q});
      blocks.push_back({p + "VK", "VK", l, V, K});
    }
  }
  blocks.push_back({"V0.VV", "VV", 0, index("V0"), index("V0")});
  blocks.push_back({"a.VV", "VV", 0, index("a"), index("a")});
  return blocks;
}

std::vector<BlockNorm> NetworkBlockNorms(const NetworkHessian& hessian,
                                         const std::vector<NetworkBlock>& blocks, NormMethod method,
                                         const HutchinsonOptions& hutchinson) {
  const std::vector<ParameterGroup>& g = hessian.groups();
  std::vector<BlockNorm> out;
  if (method == NormMethod::kExact) {
    const Eigen::MatrixXd Ho = hessian.Dense(HessianPart::kOuter);
    const Eigen::MatrixXd H = hessian.Dense(HessianPart::kFull);
    for (const NetworkBlock& b : blocks) {
      const ParameterGroup &r = g[static_cast<size_t>(b.rows)], &c = g[static_cast<size_t>(b.cols)];
      const Eigen::MatrixXd o = Ho.block(r.offset, c.offset, r.size, c.size);
      // f is linear in each value matrix: its own diagonal functional block
      // is identically zero (the differences leave only their noise there).
      const Eigen::MatrixXd f =
          b.kind == "VV" ? Eigen::MatrixXd::Zero(r.size, c.size)
                         : Eigen::MatrixXd(H.block(r.offset, c.offset, r.size, c.size) - o);
      out.push_back({0, 0, b.name, b.kind, b.layer, HessianPart::kOuter, o.norm(), 0});
      out.push_back({0, 0, b.name, b.kind, b.layer, HessianPart::kFunctional, f.norm(), 0});
      out.push_back({0, 0, b.name, b.kind, b.layer, HessianPart::kFull, (o + f).norm(), 0});
    }
    return out;
  }
  std::string error;
  if (!hutchinson.IsValid(&error)) throw Error(error);
  const int N = hutchinson.probes;
  const Eigen::Index n = hessian.num_parameters();
  boost::random::mt19937 engine(
      static_cast<std::uint32_t>(hutchinson.seed ^ (hutchinson.seed >> 32)));
  boost::random::normal_distribution<double> normal;
  boost::random::uniform_int_distribution<int> coin(0, 1);
  // samples[block][part][probe]; one set of probes per column group.
  std::vector<std::vector<std::vector<double>>> samples(blocks.size(),
                                                        std::vector<std::vector<double>>(3));
  std::vector<int> columns;
  for (const NetworkBlock& b : blocks) {
    if (std::find(columns.begin(), columns.end(), b.cols) == columns.end())
      columns.push_back(b.cols);
  }
  for (int col : columns) {
    const ParameterGroup& c = g[static_cast<size_t>(col)];
    for (int p = 0; p < N; ++p) {
      Eigen::VectorXd v = Eigen::VectorXd::Zero(n);
      for (Eigen::Index i = 0; i < c.size; ++i) {
        v(c.offset + i) = hutchinson.distribution == ProbeDistribution::kRademacher
                              ? (coin(engine) ? 1.0 : -1.0)
                              : normal(engine);
      }
      const Eigen::VectorXd o = hessian.Apply(v, HessianPart::kOuter);
      const Eigen::VectorXd full = hessian.Apply(v, HessianPart::kFull);
      for (size_t k = 0; k < blocks.size(); ++k) {
        if (blocks[k].cols != col) continue;
        const ParameterGroup& r = g[static_cast<size_t>(blocks[k].rows)];
        const bool zero_f = blocks[k].kind == "VV";  // identically zero (see above)
        samples[k][0].push_back(o.segment(r.offset, r.size).squaredNorm());
        samples[k][1].push_back(zero_f ? 0.0 : (full - o).segment(r.offset, r.size).squaredNorm());
        samples[k][2].push_back(zero_f ? o.segment(r.offset, r.size).squaredNorm()
                                       : full.segment(r.offset, r.size).squaredNorm());
      }
    }
  }
  for (size_t k = 0; k < blocks.size(); ++k) {
    for (int part = 0; part < 3; ++part) {
      const std::vector<double>& x = samples[k][static_cast<size_t>(part)];
      double mean = 0, var = 0;
      for (double v : x) mean += v;
      mean /= N;
      for (double v : x) var += (v - mean) * (v - mean);
      var /= (N - 1);
      const double norm = std::sqrt(std::max(mean, 0.0));
      const double se2 = std::sqrt(var / N);
      out.push_back({0, 0, blocks[k].name, blocks[k].kind, blocks[k].layer, kParts[part], norm,
                     norm > 0 ? se2 / (2 * norm) : 0.0});
    }
  }
  return out;
}

GrowthStudy RunNetworkGrowthStudy(const Network& net,
                                  const std::function<NetworkGrowthSample(int repeat)>& sample,
                                  LossKind loss, double weight_decay,
                                  const GrowthStudyOptions& options, int threads) {
  GrowthStudy study;
  study.model = "trained_network";
  study.attention = AttentionKind::kSoftmax;
  const std::vector<NetworkBlock> blocks = NetworkBlocks(net);
  std::vector<BlockSeries> series;
  for (const NetworkBlock& b : blocks) {
    for (HessianPart part : kParts) {
      BlockSeries bs;
      bs.block = b.name;
      bs.kind = b.kind;
      bs.layer = b.layer;
      bs.part = part;
      series.push_back(std::move(bs));
    }
  }
  SweepGrowth(
      options, std::move(series),
      [&](int r) -> GrowthPoint {
        auto base = std::make_shared<const NetworkGrowthSample>(sample(r));
        return [&, base](double sigma, const HutchinsonOptions& h) {
          Inputs x = base->x;
          for (double& v : x.values()) v *= sigma;  // attention and values read σ x_0
          const NetworkHessian hessian(net, x, base->y, loss, weight_decay, threads);
          return NetworkBlockNorms(hessian, blocks, options.norms, h);
        };
      },
      &study);
  return study;
}

}  // namespace attnpaths
