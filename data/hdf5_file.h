// HDF5 files: numeric datasets in, float64 datasets out.
//
//   attnpaths::NpyArray x = attnpaths::ReadHdf5Dataset("data.h5", "train/x");
//   attnpaths::Inputs inputs = attnpaths::NpyToInputs(x, "data.h5:train/x");
//   attnpaths::WriteHdf5("out.h5", {{"solution/U", U_array}, {"solution/alpha", a}});
//
// Reading converts any integer or floating-point dataset (either byte order,
// any size HDF5 converts, 0-D scalars, and enum datasets over an integer base
// such as h5py's bool) to double in C order; the result's `dtype` is the
// NumPy-style descr of the stored type ("<f8", ">i4", "|u1", "|b1", ...).
// Writing stores each array as a little-endian float64 dataset, creating the
// groups named in its path, in a temporary file that is renamed over `path`.
// Errors throw attnpaths::Error naming the file and the dataset path; HDF5's
// automatic error printing to stderr is turned off. This header pulls in no
// HDF5 headers. Calls are serialised by a mutex (HDF5 may be built without
// thread safety).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "data/npy.h"

namespace attnpaths {

// Reads the dataset at `dataset` ("group/sub/name"; a leading '/' is allowed).
NpyArray ReadHdf5Dataset(const std::string& path, const std::string& dataset);

// Writes each (dataset path, array) pair as a float64 dataset of the array's
// shape; groups are created as needed. Atomic: temporary file + rename.
// Throws Error (before creating any file) if a name is empty or repeated, is
// both a dataset and a group, or an array's data does not match its shape.
void WriteHdf5(const std::string& path,
               const std::vector<std::pair<std::string, NpyArray>>& datasets);

// The paths of all datasets in the file ("group/sub/name", no leading '/'), sorted.
std::vector<std::string> ListHdf5Datasets(const std::string& path);

}  // namespace attnpaths
