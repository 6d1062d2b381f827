// HDF5 through its C API (lighter to compile than the C++ one and free of its
// exceptions). Every handle is owned by a Handle that closes it; every failure
// becomes an attnpaths::Error naming the file and the dataset, with HDF5's own
// error-stack description appended.
#include "data/hdf5_file.h"

#include <hdf5.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <memory>
#include <mutex>
#include <set>
#include <system_error>

#include "data/array_reader.h"
#include "data/atomic_file.h"
#include "kernels/error.h"

namespace attnpaths {
namespace {

std::mutex& Hdf5Mutex() {
  static std::mutex mutex;
  return mutex;
}

// Closes an HDF5 identifier with the matching H5?close.
class Handle {
 public:
  Handle(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
  ~Handle() {
    if (id_ >= 0) close_(id_);
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  hid_t get() const { return id_; }
  bool ok() const { return id_ >= 0; }
  // Closes now and reports whether HDF5 succeeded (used for the file, whose close flushes).
  bool Close() {
    const hid_t id = id_;
    id_ = -1;
    return id < 0 || close_(id) >= 0;
  }

 private:
  hid_t id_;
  herr_t (*close_)(hid_t);
};

// Silences HDF5's automatic printing of its error stack (per thread in a
// thread-safe build, so done on every entry) and holds the mutex.
class Hdf5Session {
 public:
  Hdf5Session() : lock_(Hdf5Mutex()) {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    H5Eclear2(H5E_DEFAULT);
  }

 private:
  std::lock_guard<std::mutex> lock_;
};

herr_t CollectError(unsigned n, const H5E_error2_t* e, void* data) {
  auto* descriptions = static_cast<std::vector<std::string>*>(data);
  if (e->desc != nullptr && e->desc[0] != '\0' && n < 16) descriptions->push_back(e->desc);
  return 0;
}

// " (HDF5: outermost: innermost)" from the current error stack, then clears it.
std::string Hdf5Detail() {
  std::vector<std::string> descriptions;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, CollectError, &descriptions);
  H5Eclear2(H5E_DEFAULT);
  if (descriptions.empty()) return "";
  std::string s = " (HDF5: " + descriptions.front();
  if (descriptions.size() > 1 && descriptions.back() != descriptions.front()) {
    s += ": " + descriptions.back();
  }
  return s + ")";
}

[[noreturn]] void Fail(const std::string& name, const std::string& found,
                       const std::string& expected) {
  throw Error(ErrorMessage(name, found, expected));
}

// "train/x" from "/train//x/"; empty components are dropped.
std::vector<std::string> SplitDatasetPath(const std::string& dataset) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= dataset.size()) {
    size_t end = dataset.find('/', start);
    if (end == std::string::npos) end = dataset.size();
    if (end > start) parts.push_back(dataset.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

std::string JoinPath(const std::vector<std::string>& parts, size_t n) {
  std::string s;
  for (size_t i = 0; i < n; ++i) s += (i ? "/" : "") + parts[i];
  return s;
}

std::string ErrnoText(int error) {
  return std::error_code(error, std::generic_category()).message();
}

// Checks the file exists and carries the HDF5 signature, then opens it read-only.
hid_t OpenForReading(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    const int error = errno;
    Fail(path, "no readable file (" + ErrnoText(error) + ")", "an existing HDF5 file");
  }
  if (S_ISDIR(st.st_mode)) Fail(path, "a directory", "an HDF5 file");
  // HDF5 would block on a FIFO and read a device without end: regular files only.
  if (!S_ISREG(st.st_mode)) {
    Fail(path, FileKind(st.st_mode), "a regular HDF5 file (save the data to a file first)");
  }
  if (::access(path.c_str(), R_OK) != 0) {
    const int error = errno;
    Fail(path, "no readable file (" + ErrnoText(error) + ")", "a readable HDF5 file");
  }
  const htri_t is_hdf5 = H5Fis_hdf5(path.c_str());
  if (is_hdf5 <= 0) {
    Fail(path, "a file without the HDF5 signature" + Hdf5Detail(), "an HDF5 file");
  }
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (file < 0) Fail(path, "a file HDF5 cannot open" + Hdf5Detail(), "a readable HDF5 file");
  return file;
}

herr_t CollectDataset(hid_t group, const char* name, const H5L_info_t* info, void* data) {
  if (info->type != H5L_TYPE_HARD) return 0;  // soft and external links may dangle
  Handle object(H5Oopen(group, name, H5P_DEFAULT), H5Oclose);
  if (object.ok() && H5Iget_type(object.get()) == H5I_DATASET) {
    static_cast<std::vector<std::string>*>(data)->push_back(name);
  }
  H5Eclear2(H5E_DEFAULT);
  return 0;
}

std::vector<std::string> DatasetsIn(hid_t file) {
  std::vector<std::string> names;
  H5Lvisit(file, H5_INDEX_NAME, H5_ITER_INC, CollectDataset, &names);
  H5Eclear2(H5E_DEFAULT);
  std::sort(names.begin(), names.end());
  return names;
}

// "the file holds train/x, train/y" (at most a dozen names) for error messages.
std::string Holdings(hid_t file) {
  const std::vector<std::string> names = DatasetsIn(file);
  if (names.empty()) return "the file holds no datasets";
  std::string s = "the file holds ";
  for (size_t i = 0; i < names.size() && i < 12; ++i) s += (i ? ", " : "") + names[i];
  if (names.size() > 12) s += ", ... (" + std::to_string(names.size()) + " datasets)";
  return s;
}

// NumPy-style descr of an integer or float HDF5 type: "<f8", ">i2", "|u1".
std::string Descr(hid_t type, char kind) {
  const size_t size = H5Tget_size(type);
  char order = '|';
  if (size > 1) order = H5Tget_order(type) == H5T_ORDER_BE ? '>' : '<';
  return order + std::string(1, kind) + std::to_string(size);
}

char IntegerKind(hid_t type) { return H5Tget_sign(type) == H5T_SGN_NONE ? 'u' : 'i'; }

// An enum of a 1-byte integer with the members FALSE = 0 and TRUE = 1 (h5py's bool).
bool IsBoolEnum(hid_t type, hid_t base) {
  if (H5Tget_nmembers(type) != 2 || H5Tget_size(base) != 1) return false;
  bool names_match = true;
  for (unsigned i = 0; i < 2; ++i) {
    char* member = H5Tget_member_name(type, i);
    if (member == nullptr) return false;
    names_match = names_match && std::strcmp(member, i == 0 ? "FALSE" : "TRUE") == 0;
    H5free_memory(member);
  }
  return names_match;
}

const char* ClassName(H5T_class_t c) {
  switch (c) {
    case H5T_TIME:
      return "time";
    case H5T_STRING:
      return "string";
    case H5T_BITFIELD:
      return "bitfield";
    case H5T_OPAQUE:
      return "opaque";
    case H5T_COMPOUND:
      return "compound";
    case H5T_REFERENCE:
      return "reference";
    case H5T_ENUM:
      return "enum";
    case H5T_VLEN:
      return "variable-length";
    case H5T_ARRAY:
      return "array";
    default:
      return "unknown";
  }
}

uint64_t PhysicalMemoryBytes() {
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page <= 0) return std::numeric_limits<uint64_t>::max();
  return static_cast<uint64_t>(pages) * static_cast<uint64_t>(page);
}

// Interprets `count` integers of `size` bytes (native order) at `raw` as doubles.
void NativeIntegersToDouble(const std::vector<unsigned char>& raw, size_t size, bool is_signed,
                            double* out, size_t count) {
  for (size_t k = 0; k < count; ++k) {
    const unsigned char* p = raw.data() + k * size;
    double v = 0;
    switch (size) {
      case 1:
        v = is_signed ? static_cast<double>(static_cast<int8_t>(p[0])) : p[0];
        break;
      case 2: {
        uint16_t u;
        std::memcpy(&u, p, 2);
        v = is_signed ? static_cast<double>(static_cast<int16_t>(u)) : u;
        break;
      }
      case 4: {
        uint32_t u;
        std::memcpy(&u, p, 4);
        v = is_signed ? static_cast<double>(static_cast<int32_t>(u)) : u;
        break;
      }
      default: {
        uint64_t u;
        std::memcpy(&u, p, 8);
        v = is_signed ? static_cast<double>(static_cast<int64_t>(u)) : static_cast<double>(u);
        break;
      }
    }
    out[k] = v;
  }
}

// Validates the datasets of WriteHdf5 before anything touches the disk.
void CheckDatasetsToWrite(const std::string& path,
                          const std::vector<std::pair<std::string, NpyArray>>& datasets) {
  std::set<std::string> names, groups;
  for (const auto& [name, array] : datasets) {
    const std::vector<std::string> parts = SplitDatasetPath(name);
    const std::string label = path + ":" + name;
    if (parts.empty()) Fail(label, "an empty dataset name", "a name such as \"group/x\"");
    for (const std::string& part : parts) {
      if (part == "." || part == "..") Fail(label, "the component '" + part + "'", "plain names");
    }
    const std::string clean = JoinPath(parts, parts.size());
    if (!names.insert(clean).second) Fail(label, "the dataset name twice", "unique names");
    for (size_t n = 1; n < parts.size(); ++n) groups.insert(JoinPath(parts, n));
    const int64_t count = array.size();
    if (count < 0 || static_cast<uint64_t>(count) != array.data.size()) {
      Fail(label, std::to_string(array.data.size()) + " values for shape " + ShapeText(array.shape),
           "as many values as the shape holds");
    }
    if (array.shape.size() > H5S_MAX_RANK) {
      Fail(label, std::to_string(array.shape.size()) + " dimensions",
           "at most " + std::to_string(H5S_MAX_RANK));
    }
  }
  for (const std::string& name : names) {
    if (groups.count(name))
      Fail(path + ":" + name, "a name used for a dataset and a group", "distinct names");
  }
}

// A scalar attribute on `object` (the root group of a file being written).
void WriteAttribute(hid_t object, const std::string& path, const Hdf5Attribute& a) {
  const std::string label = path + " attribute " + a.name;
  const auto* text = std::get_if<std::string>(&a.value);
  const auto* integer = std::get_if<std::int64_t>(&a.value);
  Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  Handle type(H5Tcopy(text ? H5T_C_S1 : integer ? H5T_STD_I64LE : H5T_IEEE_F64LE), H5Tclose);
  if (!space.ok() || !type.ok() ||
      (text &&
       (H5Tset_size(type.get(), H5T_VARIABLE) < 0 || H5Tset_cset(type.get(), H5T_CSET_UTF8) < 0))) {
    Fail(label, "a type HDF5 cannot make" + Hdf5Detail(), "a scalar attribute");
  }
  const char* chars = text ? text->c_str() : nullptr;
  const hid_t memory_type = text ? type.get() : integer ? H5T_NATIVE_INT64 : H5T_NATIVE_DOUBLE;
  const void* data = text      ? static_cast<const void*>(&chars)
                     : integer ? static_cast<const void*>(integer)
                               : static_cast<const void*>(&std::get<double>(a.value));
  Handle attribute(
      H5Acreate2(object, a.name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT),
      H5Aclose);
  if (!attribute.ok() || H5Awrite(attribute.get(), memory_type, data) < 0)
    Fail(label, "an attribute HDF5 cannot write" + Hdf5Detail(), "the attribute written");
}

// An open dataset read in hyperslabs along its first axis. Every HDF5 call,
// the handles' closing included, holds the library mutex (Hdf5Session).
class Hdf5Reader : public ArrayReader {
 public:
  Hdf5Reader(const std::string& path, const std::string& dataset) {
    Hdf5Session session;
    const std::vector<std::string> parts = SplitDatasetPath(dataset);
    const std::string clean = JoinPath(parts, parts.size());
    label_ = path + ":" + clean;
    if (parts.empty()) label_ = path + ":" + dataset;
    try {
      Open(path, parts, clean);
    } catch (...) {  // close what was opened while the mutex is still held
      space_.reset();
      type_.reset();
      data_set_.reset();
      file_.reset();
      throw;
    }
  }

  ~Hdf5Reader() override {
    Hdf5Session session;
    space_.reset();
    type_.reset();
    data_set_.reset();
    file_.reset();
  }

  const std::vector<int64_t>& shape() const override { return shape_; }
  const std::string& dtype() const override { return dtype_; }
  const std::string& name() const override { return label_; }

 private:
  // Opens the dataset: each path component checked (so the message says
  // which is missing), then its type (integer, float, or an enum over an
  // integer) and shape. Called with the HDF5 mutex held.
  void Open(const std::string& path, const std::vector<std::string>& parts,
            const std::string& clean) {
    const std::string numeric = "an integer or floating-point dataset";
    if (parts.empty()) Fail(label_, "an empty dataset name", "a name such as \"group/x\"");
    file_ = std::make_unique<Handle>(OpenForReading(path), H5Fclose);
    const Handle& file = *file_;

    // Check each prefix so the message says which component is missing
    // (H5Lexists fails rather than answers when an intermediate group is absent).
    for (size_t n = 1; n <= parts.size(); ++n) {
      const std::string prefix = JoinPath(parts, n);
      if (H5Lexists(file.get(), prefix.c_str(), H5P_DEFAULT) <= 0) {
        H5Eclear2(H5E_DEFAULT);
        Fail(label_, "no object '" + prefix + "' in the file",
             "an existing dataset (" + Holdings(file.get()) + ")");
      }
      if (n < parts.size()) {
        Handle object(H5Oopen(file.get(), prefix.c_str(), H5P_DEFAULT), H5Oclose);
        if (!object.ok() || H5Iget_type(object.get()) != H5I_GROUP) {
          H5Eclear2(H5E_DEFAULT);
          Fail(label_, "'" + prefix + "' is not a group",
               "an existing dataset (" + Holdings(file.get()) + ")");
        }
      }
    }
    {
      Handle object(H5Oopen(file.get(), clean.c_str(), H5P_DEFAULT), H5Oclose);
      if (!object.ok())
        Fail(label_, "an object HDF5 cannot open" + Hdf5Detail(), "a readable dataset");
      if (H5Iget_type(object.get()) != H5I_DATASET) {
        Fail(label_, "a group or named type, not a dataset",
             "a dataset (" + Holdings(file.get()) + ")");
      }
    }
    data_set_ =
        std::make_unique<Handle>(H5Dopen2(file.get(), clean.c_str(), H5P_DEFAULT), H5Dclose);
    const Handle& data_set = *data_set_;
    if (!data_set.ok())
      Fail(label_, "a dataset HDF5 cannot open" + Hdf5Detail(), "a readable dataset");

    // Type: integer, float, or an enum over an integer.
    type_ = std::make_unique<Handle>(H5Dget_type(data_set.get()), H5Tclose);
    const Handle& type = *type_;
    if (!type.ok()) Fail(label_, "an unreadable datatype" + Hdf5Detail(), "a numeric dataset");
    const H5T_class_t type_class = H5Tget_class(type.get());
    if (type_class == H5T_FLOAT) {
      dtype_ = Descr(type.get(), 'f');
    } else if (type_class == H5T_INTEGER) {
      dtype_ = Descr(type.get(), IntegerKind(type.get()));
    } else if (type_class == H5T_ENUM) {
      Handle base(H5Tget_super(type.get()), H5Tclose);
      if (!base.ok() || H5Tget_class(base.get()) != H5T_INTEGER) {
        Fail(label_, "an enum dataset whose base is not an integer", numeric);
      }
      enum_size_ = H5Tget_size(base.get());
      enum_signed_ = H5Tget_sign(base.get()) != H5T_SGN_NONE;
      if (enum_size_ != 1 && enum_size_ != 2 && enum_size_ != 4 && enum_size_ != 8) {
        Fail(label_, "an enum of " + std::to_string(enum_size_) + "-byte integers", numeric);
      }
      dtype_ =
          IsBoolEnum(type.get(), base.get()) ? "|b1" : Descr(base.get(), IntegerKind(base.get()));
      is_enum_ = true;
    } else {
      Fail(label_, std::string("HDF5 type class ") + ClassName(type_class), numeric);
    }

    // Shape.
    space_ = std::make_unique<Handle>(H5Dget_space(data_set.get()), H5Sclose);
    const Handle& space = *space_;
    if (!space.ok()) Fail(label_, "an unreadable dataspace" + Hdf5Detail(), "a simple dataspace");
    const H5S_class_t space_class = H5Sget_simple_extent_type(space.get());
    if (space_class == H5S_SIMPLE) {
      const int rank = H5Sget_simple_extent_ndims(space.get());
      if (rank < 0 || rank > H5S_MAX_RANK)
        Fail(label_, "an unreadable rank" + Hdf5Detail(), "a simple dataspace");
      std::vector<hsize_t> dims(static_cast<size_t>(rank));
      if (rank > 0 && H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr) < 0) {
        Fail(label_, "unreadable dimensions" + Hdf5Detail(), "a simple dataspace");
      }
      for (hsize_t d : dims) {
        if (d > static_cast<hsize_t>(std::numeric_limits<int64_t>::max())) {
          Fail(label_, "a dimension of " + std::to_string(d), "dimensions below 2^63");
        }
        shape_.push_back(static_cast<int64_t>(d));
      }
    } else if (space_class != H5S_SCALAR) {
      Fail(label_, "a null (empty) dataspace", "a scalar or an array");
    }
  }

 public:
  void ReadRows(int64_t begin, int64_t end, double* dst) override {
    if (begin < 0 || begin > end || end > Rows()) {
      Fail(label_, "rows [" + std::to_string(begin) + ", " + std::to_string(end) + ")",
           "rows within [0, " + std::to_string(Rows()) + ")");
    }
    const uint64_t count = static_cast<uint64_t>(end - begin) * static_cast<uint64_t>(RowSize());
    if (count == 0) return;
    Hdf5Session session;
    // The file's selection: rows [begin, end) and everything along the other axes.
    Handle file_space(H5Scopy(space_->get()), H5Sclose);
    if (!file_space.ok()) Fail(label_, "a dataspace failure" + Hdf5Detail(), "a readable dataset");
    if (!shape_.empty()) {
      std::vector<hsize_t> start(shape_.size(), 0), counts(shape_.begin(), shape_.end());
      start[0] = static_cast<hsize_t>(begin);
      counts[0] = static_cast<hsize_t>(end - begin);
      if (H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start.data(), nullptr,
                              counts.data(), nullptr) < 0) {
        Fail(label_, "a hyperslab failure" + Hdf5Detail(), "a readable dataset");
      }
    }
    const hsize_t n = static_cast<hsize_t>(count);
    Handle memory_space(H5Screate_simple(1, &n, nullptr), H5Sclose);
    if (!memory_space.ok())
      Fail(label_, "a dataspace failure" + Hdf5Detail(), "a readable dataset");
    if (!is_enum_) {
      if (H5Dread(data_set_->get(), H5T_NATIVE_DOUBLE, memory_space.get(), file_space.get(),
                  H5P_DEFAULT, dst) < 0) {
        Fail(label_, "a read failure" + Hdf5Detail(), "a readable " + dtype_ + " dataset");
      }
      return;
    }
    Handle native(H5Tget_native_type(type_->get(), H5T_DIR_ASCEND), H5Tclose);
    if (!native.ok() || H5Tget_size(native.get()) != enum_size_) {
      Fail(label_, "an enum type without a native equivalent" + Hdf5Detail(),
           "an integer or floating-point dataset");
    }
    std::vector<unsigned char> raw(static_cast<size_t>(count) * enum_size_);
    if (H5Dread(data_set_->get(), native.get(), memory_space.get(), file_space.get(), H5P_DEFAULT,
                raw.data()) < 0) {
      Fail(label_, "a read failure" + Hdf5Detail(), "a readable enum dataset");
    }
    NativeIntegersToDouble(raw, enum_size_, enum_signed_, dst, static_cast<size_t>(count));
  }

  // Bytes per item in memory while reading (enum datasets go through their integers).
  uint64_t BytesPerItem() const { return std::max<uint64_t>(sizeof(double), enum_size_); }

 private:
  std::string label_, dtype_;
  std::vector<int64_t> shape_;
  std::unique_ptr<Handle> file_, data_set_, type_, space_;
  bool is_enum_ = false;
  size_t enum_size_ = 0;
  bool enum_signed_ = false;
};

void CheckAttributeNames(const std::string& label, const std::vector<Hdf5Attribute>& attributes) {
  std::set<std::string> names;
  for (const Hdf5Attribute& a : attributes) {
    if (a.name.empty()) Fail(label, "an empty attribute name", "a name such as \"seed\"");
    if (!names.insert(a.name).second)
      Fail(label + " attribute " + a.name, "the attribute name twice", "unique names");
  }
}

// A variable-length UTF-8 string type (what h5py writes for str).
hid_t Utf8StringType(const std::string& label) {
  const hid_t type = H5Tcopy(H5T_C_S1);
  if (type < 0 || H5Tset_size(type, H5T_VARIABLE) < 0 || H5Tset_cset(type, H5T_CSET_UTF8) < 0) {
    if (type >= 0) H5Tclose(type);
    Fail(label, "a string type HDF5 cannot make" + Hdf5Detail(), "a string type");
  }
  return type;
}

std::vector<const char*> Pointers(const std::vector<std::string>& values) {
  std::vector<const char*> p;
  for (const std::string& v : values) p.push_back(v.c_str());
  return p;
}

// A 1-D dataset of variable-length UTF-8 strings.
void WriteStrings(hid_t file, hid_t link_list, const std::string& path, const std::string& name,
                  const std::vector<std::string>& values) {
  const std::vector<std::string> parts = SplitDatasetPath(name);
  const std::string clean = JoinPath(parts, parts.size());
  const std::string label = path + ":" + clean;
  const hsize_t n = values.size();
  Handle space(H5Screate_simple(1, &n, nullptr), H5Sclose);
  Handle type(Utf8StringType(label), H5Tclose);
  Handle data_set(
      H5Dcreate2(file, clean.c_str(), type.get(), space.get(), link_list, H5P_DEFAULT, H5P_DEFAULT),
      H5Dclose);
  if (!space.ok() || !data_set.ok())
    Fail(label, "a dataset HDF5 cannot create" + Hdf5Detail(), "a new string dataset");
  const std::vector<const char*> p = Pointers(values);
  if (n > 0 && H5Dwrite(data_set.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, p.data()) < 0)
    Fail(label, "a write failure" + Hdf5Detail(), "the dataset written");
}

// Dimension labels as HDF5's dimension-scale library stores them (an
// attribute DIMENSION_LABELS: one variable-length string per axis, read by
// H5DSget_label), and the dataset's own attributes.
void Annotate(hid_t file, const std::string& path, const Hdf5Annotation& a) {
  const std::vector<std::string> parts = SplitDatasetPath(a.dataset);
  const std::string label = path + ":" + JoinPath(parts, parts.size());
  Handle data_set(H5Dopen2(file, JoinPath(parts, parts.size()).c_str(), H5P_DEFAULT), H5Dclose);
  if (!data_set.ok()) Fail(label, "a dataset HDF5 cannot open" + Hdf5Detail(), "the dataset");
  if (!a.dimensions.empty()) {
    const hsize_t n = a.dimensions.size();
    Handle space(H5Screate_simple(1, &n, nullptr), H5Sclose);
    Handle type(Utf8StringType(label), H5Tclose);
    Handle attribute(H5Acreate2(data_set.get(), "DIMENSION_LABELS", type.get(), space.get(),
                                H5P_DEFAULT, H5P_DEFAULT),
                     H5Aclose);
    const std::vector<const char*> p = Pointers(a.dimensions);
    if (!space.ok() || !attribute.ok() || H5Awrite(attribute.get(), type.get(), p.data()) < 0)
      Fail(label, "dimension labels HDF5 cannot write" + Hdf5Detail(), "labels written");
  }
  for (const Hdf5Attribute& attribute : a.attributes)
    WriteAttribute(data_set.get(), label, attribute);
}

}  // namespace

NpyArray ReadHdf5Dataset(const std::string& path, const std::string& dataset) {
  Hdf5Reader reader(path, dataset);
  NpyArray a;
  a.shape = reader.shape();
  a.dtype = reader.dtype();
  const int64_t count = a.size();
  if (count < 0 || static_cast<uint64_t>(count) > PhysicalMemoryBytes() / reader.BytesPerItem()) {
    Fail(reader.name(), "shape " + ShapeText(a.shape) + " " + a.dtype,
         "an array that fits in this machine's memory");
  }
  a.data.resize(static_cast<size_t>(count));
  if (count > 0) reader.ReadRows(0, reader.Rows(), a.data.data());
  return a;
}

std::unique_ptr<ArrayReader> OpenHdf5Reader(const std::string& path, const std::string& dataset) {
  return std::make_unique<Hdf5Reader>(path, dataset);
}

void WriteHdf5(const std::string& path,
               const std::vector<std::pair<std::string, NpyArray>>& datasets,
               const std::vector<Hdf5Attribute>& attributes,
               const std::vector<Hdf5Strings>& strings,
               const std::vector<Hdf5Annotation>& annotations) {
  std::vector<std::pair<std::string, NpyArray>> all = datasets;
  for (const auto& [name, values] : strings) {
    NpyArray shape_only;  // validated like a numeric dataset of the same shape
    shape_only.shape = {static_cast<int64_t>(values.size())};
    shape_only.data.resize(values.size());
    all.emplace_back(name, std::move(shape_only));
  }
  CheckDatasetsToWrite(path, all);
  CheckAttributeNames(path, attributes);
  for (const Hdf5Annotation& a : annotations) {
    const std::string clean =
        JoinPath(SplitDatasetPath(a.dataset), SplitDatasetPath(a.dataset).size());
    const auto it = std::find_if(all.begin(), all.end(), [&](const auto& d) {
      return JoinPath(SplitDatasetPath(d.first), SplitDatasetPath(d.first).size()) == clean;
    });
    if (it == all.end()) {
      Fail(path + ":" + a.dataset, "an annotation of a dataset not written", "a written dataset");
    }
    if (!a.dimensions.empty() && a.dimensions.size() != it->second.shape.size()) {
      Fail(path + ":" + a.dataset, std::to_string(a.dimensions.size()) + " dimension labels",
           "one per axis (" + std::to_string(it->second.shape.size()) + ")");
    }
    CheckAttributeNames(path + ":" + a.dataset, a.attributes);
  }
  AtomicFileWriter writer(path);  // checks the directory, reserves the temporary name
  // HDF5 builds the file in memory (the core driver, no backing store); its bytes are then
  // written by `writer`, so a full disk is one clean error naming the file, and HDF5 never
  // holds a half-written file open (a failed H5Fclose on disk crashed at exit).
  std::vector<char> image;
  {
    Hdf5Session session;
    Handle access(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
    if (!access.ok() || H5Pset_fapl_core(access.get(), size_t{1} << 20, 0) < 0) {
      Fail(path, "an HDF5 property list failure" + Hdf5Detail(), "a writable HDF5 file");
    }
    Handle file(H5Fcreate(writer.temp_path().c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, access.get()),
                H5Fclose);
    if (!file.ok()) Fail(path, "a file HDF5 cannot create" + Hdf5Detail(), "a writable HDF5 file");
    Handle link_list(H5Pcreate(H5P_LINK_CREATE), H5Pclose);
    if (!link_list.ok() || H5Pset_create_intermediate_group(link_list.get(), 1) < 0) {
      Fail(path, "an HDF5 property list failure" + Hdf5Detail(), "a writable HDF5 file");
    }
    for (const auto& [name, array] : datasets) {
      const std::vector<std::string> parts = SplitDatasetPath(name);
      const std::string clean = JoinPath(parts, parts.size());
      const std::string label = path + ":" + clean;
      std::vector<hsize_t> dims(array.shape.begin(), array.shape.end());
      Handle space(array.shape.empty()
                       ? H5Screate(H5S_SCALAR)
                       : H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr),
                   H5Sclose);
      if (!space.ok())
        Fail(label, "shape " + ShapeText(array.shape) + Hdf5Detail(), "a valid dataspace");
      Handle data_set(H5Dcreate2(file.get(), clean.c_str(), H5T_IEEE_F64LE, space.get(),
                                 link_list.get(), H5P_DEFAULT, H5P_DEFAULT),
                      H5Dclose);
      if (!data_set.ok())
        Fail(label, "a dataset HDF5 cannot create" + Hdf5Detail(), "a new dataset");
      if (!array.data.empty() && H5Dwrite(data_set.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL,
                                          H5P_DEFAULT, array.data.data()) < 0) {
        Fail(label, "a write failure" + Hdf5Detail(), "the dataset written");
      }
    }
    for (const auto& [name, values] : strings) {
      WriteStrings(file.get(), link_list.get(), path, name, values);
    }
    for (const Hdf5Annotation& a : annotations) Annotate(file.get(), path, a);
    for (const Hdf5Attribute& a : attributes) WriteAttribute(file.get(), path, a);
    if (H5Fflush(file.get(), H5F_SCOPE_GLOBAL) < 0) {
      Fail(path, "a failure flushing the file" + Hdf5Detail(), "the file written");
    }
    const ssize_t size = H5Fget_file_image(file.get(), nullptr, 0);
    if (size < 0) Fail(path, "no file image" + Hdf5Detail(), "the file written");
    image.resize(static_cast<size_t>(size));
    if (H5Fget_file_image(file.get(), image.data(), image.size()) != size) {
      Fail(path, "an incomplete file image" + Hdf5Detail(), "the file written");
    }
    if (!file.Close()) Fail(path, "a failure closing the file" + Hdf5Detail(), "the file written");
  }
  writer.Write(image.data(), image.size());
  writer.Commit();
}

std::vector<Hdf5Attribute> ReadHdf5Attributes(const std::string& path) {
  Hdf5Session session;
  Handle file(OpenForReading(path), H5Fclose);
  Handle root(H5Gopen2(file.get(), "/", H5P_DEFAULT), H5Gclose);
  if (!root.ok()) Fail(path, "no readable root group" + Hdf5Detail(), "an HDF5 file");
  std::vector<std::string> names;
  const auto collect = [](hid_t, const char* name, const H5A_info_t*, void* list) -> herr_t {
    static_cast<std::vector<std::string>*>(list)->push_back(name);
    return 0;
  };
  hsize_t position = 0;
  if (H5Aiterate2(root.get(), H5_INDEX_NAME, H5_ITER_INC, &position, collect, &names) < 0)
    Fail(path, "unreadable attributes" + Hdf5Detail(), "an HDF5 file");
  std::vector<Hdf5Attribute> out;
  for (const std::string& name : names) {
    Handle attribute(H5Aopen(root.get(), name.c_str(), H5P_DEFAULT), H5Aclose);
    if (!attribute.ok())
      Fail(path, "an unreadable attribute" + Hdf5Detail(), "readable attributes");
    Handle space(H5Aget_space(attribute.get()), H5Sclose);
    if (H5Sget_simple_extent_npoints(space.get()) != 1) continue;  // scalars only
    Handle type(H5Aget_type(attribute.get()), H5Tclose);
    const H5T_class_t type_class = H5Tget_class(type.get());
    if (type_class == H5T_STRING) {
      if (H5Tis_variable_str(type.get()) > 0) {
        Handle memory(H5Tcopy(H5T_C_S1), H5Tclose);
        H5Tset_size(memory.get(), H5T_VARIABLE);
        H5Tset_cset(memory.get(), H5Tget_cset(type.get()));
        char* text = nullptr;
        if (H5Aread(attribute.get(), memory.get(), &text) < 0)
          Fail(path + " attribute " + name, "an unreadable string" + Hdf5Detail(), "a string");
        out.push_back({name, std::string(text ? text : "")});
        H5free_memory(text);
      } else {
        const size_t size = H5Tget_size(type.get());
        std::string text(size, '\0');
        Handle memory(H5Tcopy(H5T_C_S1), H5Tclose);
        H5Tset_size(memory.get(), size);
        if (H5Aread(attribute.get(), memory.get(), text.data()) < 0)
          Fail(path + " attribute " + name, "an unreadable string" + Hdf5Detail(), "a string");
        text.resize(std::strlen(text.c_str()));
        out.push_back({name, text});
      }
    } else if (type_class == H5T_INTEGER) {
      std::int64_t v = 0;
      if (H5Aread(attribute.get(), H5T_NATIVE_INT64, &v) < 0)
        Fail(path + " attribute " + name, "an unreadable integer" + Hdf5Detail(), "an integer");
      out.push_back({name, v});
    } else if (type_class == H5T_FLOAT) {
      double v = 0;
      if (H5Aread(attribute.get(), H5T_NATIVE_DOUBLE, &v) < 0)
        Fail(path + " attribute " + name, "an unreadable number" + Hdf5Detail(), "a number");
      out.push_back({name, v});
    }
  }
  return out;
}

std::vector<std::string> ListHdf5Datasets(const std::string& path) {
  Hdf5Session session;
  Handle file(OpenForReading(path), H5Fclose);
  return DatasetsIn(file.get());
}

}  // namespace attnpaths
