// NumPy .npy files: read any numeric array as doubles, write float64.
//
//   attnpaths::NpyArray a = attnpaths::ReadNpy("train_x.npy");   // any numeric dtype, C or F order
//   attnpaths::Inputs x = attnpaths::NpyToInputs(a, "train_x");   // P × n_tok × N0
//   attnpaths::WriteNpy("U.npy", U);                               // "<f8", C order, atomic
//
// Reading accepts format versions 1.0, 2.0 and 3.0; little-, big- and
// native-endian data; C and Fortran order; float16/32/64, int8..int64,
// uint8..uint64 and bool; 0-D scalars and empty arrays. Values are converted
// to double (integers beyond ±2^53 are rounded) and returned in C order.
// Complex, object, string, datetime and structured dtypes are rejected.
//
// Every malformed file (bad magic, truncated or corrupt header, a shape that
// does not match the data, trailing bytes) throws attnpaths::Error with a
// message naming the file, what was found and what was expected, e.g.
//   "X.npy: found 800 data bytes, expected 1600 for shape (10, 20) <f8".
// The header's shape is checked against the file size (with overflow guards)
// before any memory for the data is allocated. docs/formats.md has the details.
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "kernels/inputs.h"

namespace attnpaths {

struct NpyArray {
  std::vector<int64_t> shape;
  std::vector<double> data;  // converted to double, C (row-major) order whatever the file's order
  std::string dtype;         // the descr found in the file, e.g. "<f8", ">f4", "<i8", "|u1", "|b1"

  // Number of elements: the product of `shape` (1 for a 0-D scalar), or -1
  // if a dimension is negative or the product overflows int64.
  int64_t size() const;
};

// "(10, 20)", "(5,)", "()" — the shape as NumPy prints it.
std::string ShapeText(const std::vector<int64_t>& shape);

// Reads a .npy file; throws Error naming the path. The data is read straight
// into the result (no second copy of the file in memory).
NpyArray ReadNpy(const std::string& path);
// The same from bytes in memory; `name` stands for the file in error messages.
NpyArray ParseNpy(std::string_view bytes, const std::string& name);

// The bytes of a .npy file (version 1.0, "<f8", C order) holding the
// product(shape) values at `data_c_order` (may be null when that product is 0).
// Throws Error if a dimension is negative or the size overflows.
std::string SerializeNpy(const std::vector<int64_t>& shape, const double* data_c_order);
// Writes those bytes to `path` atomically (temporary file + rename).
void WriteNpy(const std::string& path, const std::vector<int64_t>& shape,
              const double* data_c_order);
// A matrix as a 2-D array of shape (rows, cols), element (i, j) = m(i, j).
void WriteNpy(const std::string& path, const Eigen::Ref<const Eigen::MatrixXd>& m);
// A vector as a 1-D array of shape (n,).
void WriteNpy(const std::string& path, const Eigen::Ref<const Eigen::VectorXd>& v);
// Any other Eigen expression (a MatrixXd, a VectorXd, a block, a product):
// without this overload both Ref overloads above match a MatrixXd and the call
// is ambiguous. Types with one column at compile time (VectorXd, m.col(j))
// are written 1-D; everything else 2-D, so a MatrixXd with one column is (n, 1).
template <typename Derived>
void WriteNpy(const std::string& path, const Eigen::MatrixBase<Derived>& m) {
  if constexpr (Derived::ColsAtCompileTime == 1) {
    WriteNpy(path, Eigen::Ref<const Eigen::VectorXd>(m));
  } else {
    WriteNpy(path, Eigen::Ref<const Eigen::MatrixXd>(m));
  }
}

// Conversions with checks; `field` names the config field / file in error
// messages. Each throws Error when the number of dimensions is wrong or a
// value is NaN or infinite.
//
// 1-D (n) → n × 1; 2-D (r, c) → r × c with m(i, j) = a[i, j].
Eigen::MatrixXd NpyToMatrix(const NpyArray& a, const std::string& field);
// 3-D (P, n_tok, N0) → Inputs (n_tok >= 1 and N0 >= 1; P may be 0).
Inputs NpyToInputs(const NpyArray& a, const std::string& field);
// 3-D (P, r, c) → P matrices r × c, matrix k (i, j) = a[k, i, j] (rows = axis 1);
// r >= 1 and c >= 1, P may be 0.
std::vector<Eigen::MatrixXd> NpyToMatrices(const NpyArray& a, const std::string& field);

}  // namespace attnpaths
