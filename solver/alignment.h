// Kernel–task alignment — how the principal components of the training kernel
// line up with the labels (theory.md §7).
//
//   attnpaths::AlignmentOptions options;              // the 30 leading components
//   attnpaths::KernelAlignment theory = attnpaths::AlignKernel(
//       kernel.Total(sol.order_parameters.U[0]), y, options);      // K_U, no T added
//   attnpaths::KernelAlignment gp = attnpaths::AlignKernel(
//       kernel.Total(attnpaths::GpLimit(arch).U[0]), y, options);  // the GP kernel
//   theory.overlap(0);     // |v_1 · y| / √P
//   theory.cumulative(4);  // share of |y|² in the 5 leading components
//
// With K = Σ_k λ_k v_k v_kᵀ, eigenvalues descending and unit eigenvectors:
//
//   overlap    o_k = |v_k · y| / √P           (= |v_k · y| / |y| for ±1 labels; theory.md §7)
//   cumulative A_k = Σ_{j ≤ k} (v_j · y)² / |y|²   (non-decreasing, A_P = 1)
//
// A_k is the fraction of the label vector's squared norm captured by the k
// leading components; a kernel aligned with the task reaches 1 with few
// components. Also reported: the kernel–target alignment
// yᵀ K y / (‖K‖_F |y|²) (1 when K ∝ y yᵀ).
#pragma once

#include <Eigen/Core>
#include <string>

namespace attnpaths {

struct AlignmentOptions {
  // Leading components reported (theory.md §8: 30 for the Markov task, 50 for
  // images); fewer when P is smaller.
  int components = 30;

  bool IsValid(std::string* error) const;
};

struct KernelAlignment {
  Eigen::VectorXd eigenvalues;         // λ_1 ≥ λ_2 ≥ …, the leading `components`
  Eigen::VectorXd overlap;             // o_k = |v_k · y| / √P
  Eigen::VectorXd cumulative;          // A_k = Σ_{j≤k} (v_j · y)² / |y|²
  double trace = 0;                    // Σ of all P eigenvalues
  double kernel_target_alignment = 0;  // yᵀ K y / (‖K‖_F |y|²)
};

// Eigen-decomposes the symmetric P × P training kernel K (Eigen's
// SelfAdjointEigenSolver; only the lower triangle is read) and projects the
// labels y (P, one column) on its components. Throws Error when shapes do
// not match, y is zero or not finite, K is not finite, or the options are invalid.
KernelAlignment AlignKernel(const Eigen::Ref<const Eigen::MatrixXd>& K,
                            const Eigen::Ref<const Eigen::MatrixXd>& y,
                            const AlignmentOptions& options = {});

}  // namespace attnpaths
