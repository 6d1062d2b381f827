// Head relevance — which heads the task-relevant kernel uses (theory.md §6).
//
//   attnpaths::HeadRelevance r = attnpaths::ScoreHeads(arch, sol.order_parameters.U[0]);
//   r.score[0][1];                 // head 2 of layer 1, in [0, 1] (1 = the most relevant head)
//   for (const auto& h : r.Ranking()) std::cout << h.name << " " << h.score << "\n";
//
//   auto pairs = attnpaths::PathPairView(arch, U1);   // U_1 entries with path labels
//
// Unfold U_1 into U[h_1 … h_L ; h'_1 … h'_L]. The raw score of head h in
// layer ℓ is
//
//   r_{ℓ,h} = Σ_{π,π'} |U_{ππ'}| · [h_ℓ(π) = h  or  h_ℓ(π') = h]
//
// (each entry counted once, also when both of its paths pass through h), and
// the score is r_{ℓ,h} / max_{ℓ',h'} r_{ℓ',h'} over all heads of all layers.
// Only U_1 enters. Low score = little weight in K_U = first to prune.
//
// Several outputs (theory.md §9): U_1 is (Htot D) × (Htot D) with entries
// U[(π,d),(π',d')]; an entry counts for head h when its row path π or its
// column path π' passes through h, over every output pair (d, d'):
//
//   r_{ℓ,h} = Σ_{π,π'} Σ_{d,d'} |U[(π,d),(π',d')]| · [h_ℓ(π) = h  or  h_ℓ(π') = h].
//
// Output-off-diagonal entries (d ≠ d') count like the others: they are weight
// the kernel puts on the path pair as much as the diagonal ones. At D = 1 this
// is the formula above.
#pragma once

#include <Eigen/Core>
#include <string>
#include <vector>

#include "kernels/architecture.h"
#include "kernels/paths.h"

namespace attnpaths {

// One head of the network: layer ℓ (1-based, as in theory.md) and head index
// h within the layer (0-based, as in Paths).
struct HeadId {
  int layer = 1;
  Eigen::Index head = 0;
  bool operator==(const HeadId&) const = default;
};

struct HeadScore {
  HeadId id;
  std::string name;  // the head's name from the architecture ("h<k>" without one)
  double raw = 0;    // r_{ℓ,h}
  double score = 0;  // r_{ℓ,h} / max r
};

struct HeadRelevance {
  std::vector<std::vector<double>> raw;         // raw[ℓ-1][h] = r_{ℓ,h}
  std::vector<std::vector<double>> score;       // score[ℓ-1][h] = r_{ℓ,h} / max r, in [0, 1]
  std::vector<std::vector<std::string>> names;  // names[ℓ-1][h]

  // Every head, most relevant first; ties keep (layer, head) order.
  std::vector<HeadScore> Ranking() const;
  double Score(const HeadId& id) const;
};

// Scores from U_1 ((Htot D) × (Htot D), D ≥ 1 outputs) for the head counts of
// `paths`; `names` may be empty (heads are then called h1, h2, … within each
// layer). Throws Error when U_1 is not square with a multiple of Htot rows,
// has a non-finite entry or is all zero.
HeadRelevance ScoreHeads(const Paths& paths, const Eigen::Ref<const Eigen::MatrixXd>& U1,
                         const std::vector<std::vector<std::string>>& names = {});
// The same with head counts and names taken from the architecture.
HeadRelevance ScoreHeads(const Architecture& arch, const Eigen::Ref<const Eigen::MatrixXd>& U1);

// Head names of an architecture, names[ℓ-1][h].
std::vector<std::vector<std::string>> HeadNames(const Architecture& arch);

// One entry of U_1 with its two path labels ("good>uniform").
struct PathPair {
  Eigen::Index row = 0, col = 0;  // packed path indices π, π' ((π,d) ≤ (π',d') in U_1)
  Eigen::Index row_output = 0, col_output = 0;  // output indices d, d' (0 when D = 1)
  std::string row_label, col_label;
  double value = 0;  // U_1[(π,d),(π',d')]
  // |U_{ππ'}| (counted for both (π,π') and (π',π) when π ≠ π') over Σ |U|:
  // the share of the total weight this pair carries.
  double weight_share = 0;
};

// The path-pair view: every entry of the upper triangle (diagonal included)
// of U_1 ((π,d) ≤ (π',d') with several outputs), largest |U| first.
std::vector<PathPair> PathPairView(const Paths& paths, const Eigen::Ref<const Eigen::MatrixXd>& U1,
                                   const std::vector<std::vector<std::string>>& names = {});
std::vector<PathPair> PathPairView(const Architecture& arch,
                                   const Eigen::Ref<const Eigen::MatrixXd>& U1);

// The labels of every path in packing order (theory.md §2).
std::vector<std::string> PathLabels(const Paths& paths,
                                    const std::vector<std::vector<std::string>>& names);

}  // namespace attnpaths
