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

// A 1-D dataset of UTF-8 strings (variable length; h5py reads it with
// `f[name].asstr()[()]`): the names along an axis, e.g. of the quantities.
using Hdf5Strings = std::pair<std::string, std::vector<std::string>>;

// What WriteHdf5 attaches to one of the datasets it writes: a label per axis
// (HDF5's dimension-scale labels, the DIMENSION_LABELS attribute that
// H5DSget_label and h5py's `f[name].dims[i].label` read) and scalar
// attributes of the dataset.
struct Hdf5Annotation {
  std::string dataset;
  std::vector<std::string> dimensions;    // empty, or one label per axis
  std::vector<Hdf5Attribute> attributes;  // unique names
};

// Writes each (dataset path, array) pair as a float64 dataset of the array's
// shape, each of `strings` as a string dataset, groups created as needed,
// `attributes` on the root group and `annotations` on the datasets they name.
// Atomic: temporary file + rename. Throws Error (before creating any file) if
// a dataset name is empty or repeated, is both a dataset and a group, an
// array's data does not match its shape, an attribute name is empty or
// repeated, or an annotation names a dataset not written or has a label count
// other than the dataset's rank.
void WriteHdf5(const std::string& path,
               const std::vector<std::pair<std::string, NpyArray>>& datasets,
               const std::vector<Hdf5Attribute>& attributes = {},
               const std::vector<Hdf5Strings>& strings = {},
               const std::vector<Hdf5Annotation>& annotations = {});

// The root group's attributes in the file's order (name order for files
// written here); string, integer and floating-point scalars (integers of
// any size as int64, floats as double); other attributes are skipped.
std::vector<Hdf5Attribute> ReadHdf5Attributes(const std::string& path);

// The paths of all datasets in the file ("group/sub/name", no leading '/'), sorted.
std::vector<std::string> ListHdf5Datasets(const std::string& path);

}  // namespace attnpaths
