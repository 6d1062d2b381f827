#include "solver/head_relevance.h"

#include <algorithm>
#include <cmath>

#include "kernels/error.h"

namespace attnpaths {

namespace {

// digits(π, ℓ-1) = h_ℓ of path π.
Eigen::MatrixXi PathDigits(const Paths& paths) {
  Eigen::MatrixXi digits(paths.Htot(), paths.L());
  for (Eigen::Index p = 0; p < paths.Htot(); ++p) {
    const auto heads = paths.Heads(p);
    for (int l = 0; l < paths.L(); ++l)
      digits(p, l) = static_cast<int>(heads[static_cast<size_t>(l)]);
  }
  return digits;
}

// The number of outputs D of a (Htot D) × (Htot D) U_1 (theory.md §9).
Eigen::Index CheckU1(const Paths& paths, const Eigen::Ref<const Eigen::MatrixXd>& U1) {
  const Eigen::Index H = paths.Htot();
  Require(U1.rows() == U1.cols() && U1.rows() >= H && U1.rows() % H == 0, "U_1 shape",
          std::to_string(U1.rows()) + " x " + std::to_string(U1.cols()),
          std::to_string(H) + " x " + std::to_string(H) +
              " (Htot x Htot), or (Htot D) x (Htot D) for D outputs");
  Require(U1.allFinite(), "U_1", "a non-finite entry", "finite entries");
  return U1.rows() / H;
}

std::string HeadName(const std::vector<std::vector<std::string>>& names, int l, Eigen::Index h) {
  const auto lu = static_cast<size_t>(l), hu = static_cast<size_t>(h);
  if (lu < names.size() && hu < names[lu].size() && !names[lu][hu].empty()) return names[lu][hu];
  return "h" + std::to_string(h + 1);
}

}  // namespace

std::vector<std::vector<std::string>> HeadNames(const Architecture& arch) {
  std::vector<std::vector<std::string>> names;
  for (const auto& layer : arch.layers) {
    names.emplace_back();
    for (const auto& head : layer) names.back().push_back(head.name);
  }
  return names;
}

std::vector<std::string> PathLabels(const Paths& paths,
                                    const std::vector<std::vector<std::string>>& names) {
  std::vector<std::string> labels;
  for (Eigen::Index p = 0; p < paths.Htot(); ++p) labels.push_back(paths.Label(p, names));
  return labels;
}

HeadRelevance ScoreHeads(const Paths& paths, const Eigen::Ref<const Eigen::MatrixXd>& U1,
                         const std::vector<std::vector<std::string>>& names) {
  const Eigen::Index D = CheckU1(paths, U1);
  const Eigen::MatrixXi digits = PathDigits(paths);
  // Σ_dd' |U_1[(π,d),(π',d')]|: with several outputs every entry whose row or
  // column path passes the head counts, over all output pairs (theory.md §6, §9).
  Eigen::MatrixXd A(paths.Htot(), paths.Htot());
  for (Eigen::Index p = 0; p < paths.Htot(); ++p) {
    for (Eigen::Index q = 0; q < paths.Htot(); ++q) {
      A(p, q) = U1.block(p * D, q * D, D, D).cwiseAbs().sum();
    }
  }
  HeadRelevance r;
  double largest = 0;
  for (int l = 0; l < paths.L(); ++l) {
    const Eigen::Index H = paths.heads_per_layer()[static_cast<size_t>(l)];
    r.raw.emplace_back(static_cast<size_t>(H), 0.0);
    r.names.emplace_back();
    for (Eigen::Index h = 0; h < H; ++h) {
      // r_{ℓ,h} = Σ |U_ππ'| over entries with h_ℓ(π) = h or h_ℓ(π') = h, each once (§6).
      double sum = 0;
      for (Eigen::Index p = 0; p < paths.Htot(); ++p) {
        const bool row_through = digits(p, l) == h;
        for (Eigen::Index q = 0; q < paths.Htot(); ++q) {
          if (row_through || digits(q, l) == h) sum += A(p, q);
        }
      }
      r.raw.back()[static_cast<size_t>(h)] = sum;
      r.names.back().push_back(HeadName(names, l, h));
      largest = std::max(largest, sum);
    }
  }
  Require(largest > 0, "U_1", "all entries zero",
          "at least one nonzero entry (head scores are "
          "normalised by the largest)");
  for (const auto& layer : r.raw) {
    r.score.emplace_back();
    for (double v : layer) r.score.back().push_back(v / largest);
  }
  return r;
}

HeadRelevance ScoreHeads(const Architecture& arch, const Eigen::Ref<const Eigen::MatrixXd>& U1) {
  return ScoreHeads(Paths(arch.heads_per_layer()), U1, HeadNames(arch));
}

std::vector<HeadScore> HeadRelevance::Ranking() const {
  std::vector<HeadScore> all;
  for (size_t l = 0; l < score.size(); ++l) {
    for (size_t h = 0; h < score[l].size(); ++h) {
      HeadScore s;
      s.id = {static_cast<int>(l + 1), static_cast<Eigen::Index>(h)};
      s.name = l < names.size() && h < names[l].size() ? names[l][h] : "h" + std::to_string(h + 1);
      s.raw = raw[l][h];
      s.score = score[l][h];
      all.push_back(std::move(s));
    }
  }
  std::stable_sort(all.begin(), all.end(),
                   [](const HeadScore& a, const HeadScore& b) { return a.score > b.score; });
  return all;
}

double HeadRelevance::Score(const HeadId& id) const {
  Require(id.layer >= 1 && static_cast<size_t>(id.layer) <= score.size(), "head layer", id.layer,
          "a layer in [1, " + std::to_string(score.size()) + "]");
  const auto& layer = score[static_cast<size_t>(id.layer - 1)];
  Require(id.head >= 0 && static_cast<size_t>(id.head) < layer.size(), "head index", id.head,
          "an index in [0, " + std::to_string(layer.size()) + ")");
  return layer[static_cast<size_t>(id.head)];
}

std::vector<PathPair> PathPairView(const Paths& paths, const Eigen::Ref<const Eigen::MatrixXd>& U1,
                                   const std::vector<std::vector<std::string>>& names) {
  const Eigen::Index D = CheckU1(paths, U1);
  const std::vector<std::string> labels = PathLabels(paths, names);
  const double total = U1.cwiseAbs().sum();
  std::vector<PathPair> pairs;
  for (Eigen::Index a = 0; a < U1.rows(); ++a) {
    for (Eigen::Index b = a; b < U1.cols(); ++b) {
      PathPair e;
      e.row = a / D;
      e.col = b / D;
      e.row_output = a % D;
      e.col_output = b % D;
      e.row_label = labels[static_cast<size_t>(e.row)];
      e.col_label = labels[static_cast<size_t>(e.col)];
      e.value = U1(a, b);
      const double mass = a == b ? std::abs(U1(a, b)) : std::abs(U1(a, b)) + std::abs(U1(b, a));
      e.weight_share = total > 0 ? mass / total : 0.0;
      pairs.push_back(std::move(e));
    }
  }
  std::stable_sort(pairs.begin(), pairs.end(), [](const PathPair& a, const PathPair& b) {
    return std::abs(a.value) > std::abs(b.value);
  });
  return pairs;
}

std::vector<PathPair> PathPairView(const Architecture& arch,
                                   const Eigen::Ref<const Eigen::MatrixXd>& U1) {
  return PathPairView(Paths(arch.heads_per_layer()), U1, HeadNames(arch));
}

}  // namespace attnpaths
