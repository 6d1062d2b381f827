// HDF5 files: numeric datasets in, float64 datasets out.
//
//   attnpaths::NpyArray x = attnpaths::ReadHdf5Dataset("data.h5", "train/x");
//   attnpaths::Inputs inputs = attnpaths::NpyToInputs(x, "data.h5:train/x");
//   attnpaths::WriteHdf5("out.h5", {{"solution/U", U_array}, {"solution/alpha", a}});
//   attnpaths::WriteHdf5("draws.h5", datasets, {{"seed", std::int64_t{7}}, {"config",
//   "run.toml"}}); std::vector<attnpaths::Hdf5Attribute> attrs =
//   attnpaths::ReadHdf5Attributes("draws.h5");
//
// Reading converts any integer or floating-point dataset (either byte order,
// any size HDF5 converts, 0-D scalars, and enum datasets over an integer base
// such as h5py's bool) to double in C order; the result's `dtype` is the
// NumPy-style descr of the stored type ("<f8", ">i4", "|u1", "|b1", ...).
// Writing stores each array as a little-endian float64 dataset, creating the
// groups named in its path, in a temporary file that is renamed over `path`.
// Attributes of the root group (provenance) are UTF-8 strings (variable
// length, what h5py reads as str), int64 or float64 scalars.
// Errors throw attnpaths::Error naming the file and the dataset path; HDF5's
// automatic error printing to stderr is turned off. This header pulls in no
// HDF5 headers. Calls are serialised by a mutex (HDF5 may be built without
// thread safety).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "data/npy.h"

namespace attnpaths {

// Reads the dataset at `dataset` ("group/sub/name"; a leading '/' is allowed).
NpyArray ReadHdf5Dataset(const std::string& path, const std::string& dataset);

// A scalar attribute of the file's root group.
struct Hdf5Attribute {
  using Value = std::variant<std::string, std::int64_t, double>;
  std::string name;
  Value value;
};

// Writes each (dataset path, array) pair as a float64 dataset of the array's
// shape, groups created as needed, and `attributes` on the root group.
// Atomic: temporary file + rename. Throws Error (before creating any file) if
// a dataset name is empty or repeated, is both a dataset and a group, an
// array's data does not match its shape, or an attribute name is empty or
// repeated.
void WriteHdf5(const std::string& path,
               const std::vector<std::pair<std::string, NpyArray>>& datasets,
               const std::vector<Hdf5Attribute>& attributes = {});

// The root group's attributes in the file's order (name order for files
// written here); string, integer and floating-point scalars (integers of
// any size as int64, floats as double); other attributes are skipped.
std::vector<Hdf5Attribute> ReadHdf5Attributes(const std::string& path);

// The paths of all datasets in the file ("group/sub/name", no leading '/'), sorted.
std::vector<std::string> ListHdf5Datasets(const std::string& path);

}  // namespace attnpaths
