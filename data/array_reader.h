// ArrayReader — a numeric array on disk (an NPY file or an HDF5 dataset) read
// in slices along its first axis, converted to double, without loading the
// rest: the file side of streamed data sets (kernels/example_source.h).
//
//   std::unique_ptr<attnpaths::ArrayReader> x = attnpaths::OpenArrayReader("train_x.npy");
//   x->shape();                              // e.g. (100000, 31, 231)
//   std::vector<double> rows(10 * x->RowSize());
//   x->ReadRows(500, 510, rows.data());      // x[500:510] in C order
//   attnpaths::Inputs all = attnpaths::ReadInputs(*x, "train_x");   // the whole array
//
// NPY files are memory-mapped (private, read-only pages of the page cache):
// a little-endian float64 C-order file becomes Inputs without any copy, other
// dtypes and orders are converted in one pass into the final buffer. HDF5
// datasets are read by hyperslabs straight into the destination. The NPY
// checks of data/npy.h (header, sizes against the file before anything is
// allocated) apply unchanged; a file truncated by another process while it
// is mapped makes reading it fault, as with any memory map.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "kernels/inputs.h"

namespace attnpaths {

class ArrayReader {
 public:
  virtual ~ArrayReader() = default;

  // The array's shape ({} for a 0-D scalar), NumPy-style dtype ("<f8", ">i4",
  // "|b1", …) and the name used in messages ("x.npy", "d.h5:train/x").
  virtual const std::vector<int64_t>& shape() const = 0;
  virtual const std::string& dtype() const = 0;
  virtual const std::string& name() const = 0;

  // Items per first-axis index: the product of shape[1:] (1 for 0-D and 1-D).
  int64_t RowSize() const {
    int64_t n = 1;
    for (size_t j = 1; j < shape().size(); ++j) n *= shape()[j];
    return n;
  }
  // Indices along the first axis (1 for a 0-D scalar).
  int64_t Rows() const { return shape().empty() ? 1 : shape()[0]; }

  // Items [begin, end) of the first axis, converted to double, in C order,
  // to `dst` ((end − begin) · RowSize() values). Throws Error naming the
  // file on a bad range or a read failure.
  virtual void ReadRows(int64_t begin, int64_t end, double* dst) = 0;

  // When the stored layout already is native doubles in C order: the memory
  // of rows [begin, end), kept valid (and privately writable) while the
  // returned owner lives; otherwise nullptr (callers then use ReadRows).
  virtual std::shared_ptr<const void> MapRows(int64_t begin, int64_t end, double** data) {
    (void)begin, (void)end, (void)data;
    return nullptr;
  }
};

// An NPY file (data/npy.cc): header checked, file mapped.
std::unique_ptr<ArrayReader> OpenNpyReader(const std::string& path);
// An HDF5 dataset (data/hdf5_file.cc), "group/name".
std::unique_ptr<ArrayReader> OpenHdf5Reader(const std::string& path, const std::string& dataset);
// "x.npy" or "file.h5:/group/x" (also ".hdf5:"), relative paths resolved
// against `base_dir`.
std::unique_ptr<ArrayReader> OpenArrayReader(const std::string& spec,
                                             const std::string& base_dir = "");

// The whole array as Inputs: a 3-D array (P, n_tok, N0) with n_tok, N0 >= 1
// and finite values; `field` names it in errors (as NpyToInputs does). Maps
// the file when MapRows allows, else reads once into the final buffer.
Inputs ReadInputs(ArrayReader& reader, const std::string& field);
// The same from a spec ("x.npy" or "file.h5:/x"); errors name `field` and the file.
Inputs LoadInputs(const std::string& spec, const std::string& base_dir, const std::string& field);

// Throws Error "name[mu, t, i]: found nan, expected a finite number" (the
// index as NumPy prints it, examples counted from `first_example`) at the
// first NaN or infinite value of x.
void CheckFiniteArray(const Inputs& x, const std::string& name, int64_t first_example = 0);

}  // namespace attnpaths
