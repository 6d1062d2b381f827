// Kernel–task alignment — how the principal components of the training kernel
// line up with the labels (theory.md §7).
//
//   attnpaths::AlignmentOptions options;              // the 30 leading components
//   attnpaths::KernelAlignment theory = attnpaths::AlignKernel(
//       attnpaths::OutputKernel(kernel, sol.order_parameters.U[0]), Y, options);  // no T added
//   attnpaths::KernelAlignment gp = attnpaths::AlignKernel(
//       attnpaths::OutputKernel(kernel, attnpaths::GpLimit(arch, D).U[0]), Y, options);
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
//
// Several outputs (labels P × D, theory.md §9): the training kernel is the
// PD × PD matrix K[(μ,d),(ν,d')] = Σ U_1[(π,d),(π',d')] C_ππ'(x^μ, x^ν) (the G
// of the action without T; solver/training_gram.h OutputKernel) and y is vec(Y) in the
// same (μ, d) order, so the formulas above apply unchanged with √P in o_k
// (= |v_k · y| / |y| for one-hot labels, whose |vec(Y)|² = P). The GP kernel is
// then I_D ⊗ K_GP: every eigenvalue repeats D times.
//
// Repeated eigenvalues: within a group of eigenvalues that agree to 1e-10 of
// the largest |λ| the eigenvectors are not determined (numerically, nor in
// exact arithmetic), so the basis of the group is chosen with the labels'
// projection on its first vector: that component gets the whole overlap of
// the group, the others 0. Cumulative values at the end of a group do not
// depend on this choice.
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
  Eigen::VectorXd overlap;             // o_k = |v_k · y| / √P (y = vec(Y))
  Eigen::VectorXd cumulative;          // A_k = Σ_{j≤k} (v_j · y)² / |y|²
  double trace = 0;                    // Σ of all P eigenvalues
  double kernel_target_alignment = 0;  // yᵀ K y / (‖K‖_F |y|²)
};

// Eigen-decomposes the symmetric PD × PD training kernel K (Eigen's
// SelfAdjointEigenSolver; only the lower triangle is read) and projects the
// labels vec(Y) (Y: P × D, or a length-P column for D = 1) on its components.
// Throws Error when shapes do not match, Y is zero or not finite, K is not
// finite, or the options are invalid.
KernelAlignment AlignKernel(const Eigen::Ref<const Eigen::MatrixXd>& K,
                            const Eigen::Ref<const Eigen::MatrixXd>& Y,
                            const AlignmentOptions& options = {});

}  // namespace attnpaths
