// Argument conversion and keyword construction (bindings.h).
#include <cstring>

#include "data/config.h"
#include "data/npy.h"
#include "python/bindings.h"

namespace attnpaths::python {

namespace {

std::vector<int64_t> ShapeOf(const py::array& a) {
  std::vector<int64_t> shape;
  for (py::ssize_t i = 0; i < a.ndim(); ++i) shape.push_back(static_cast<int64_t>(a.shape(i)));
  return shape;
}

// numpy.asarray(obj), or Error naming `field` when it is not an array of reals.
py::array RealArray(py::handle obj, const std::string& field, const std::string& expected) {
  if (obj.is_none()) throw Error(ErrorMessage(field, "None", expected));
  py::array a = py::array::ensure(obj);
  if (!a) {
    PyErr_Clear();
    throw Error(ErrorMessage(field, Describe(obj), expected));
  }
  const char kind = a.dtype().kind();
  if (kind != 'f' && kind != 'i' && kind != 'u' && kind != 'b') {
    if (!py::isinstance<py::array>(obj)) throw Error(ErrorMessage(field, Describe(obj), expected));
    throw Error(ErrorMessage(field, "an array of dtype " + py::str(a.dtype()).cast<std::string>(),
                             expected + " of real numbers"));
  }
  return a;
}

}  // namespace

std::string Describe(py::handle obj) {
  if (obj.is_none()) return "None";
  if (py::isinstance<py::array>(obj)) {
    const auto a = py::reinterpret_borrow<py::array>(obj);
    return "a " + std::to_string(a.ndim()) + "-D array of shape " + ShapeText(ShapeOf(a));
  }
  return "an object of type " + py::str(obj.get_type().attr("__name__")).cast<std::string>();
}

std::string StringArg(py::handle obj, const std::string& field) {
  if (!py::isinstance<py::str>(obj)) throw Error(ErrorMessage(field, Describe(obj), "a string"));
  return obj.cast<std::string>();
}

Eigen::MatrixXd SquareMatrixArg(py::handle obj, const std::string& field) {
  const MatrixArg a(obj, field, Shape::kMatrix);
  Require(a.rows() >= 1 && a.rows() == a.cols(), field + " shape",
          std::to_string(a.rows()) + " x " + std::to_string(a.cols()),
          "a square matrix of at least 1 x 1");
  Require(a.map().allFinite(), field, "a non-finite entry", "finite entries");
  return a.matrix();
}

MatrixArg::MatrixArg(py::handle obj, const std::string& field, Shape shape) {
  const char* expected = shape == Shape::kMatrix   ? "a 2-D array"
                         : shape == Shape::kColumn ? "a 1-D or 2-D array"
                                                   : "a 1-D array";
  py::array a = RealArray(obj, field, expected);
  const bool ok = shape == Shape::kMatrix   ? a.ndim() == 2
                  : shape == Shape::kColumn ? (a.ndim() == 1 || a.ndim() == 2)
                                            : a.ndim() == 1;
  if (!ok) throw Error(ErrorMessage(field, Describe(a), expected));
  // No copy when `a` already is float64 in column-major (Fortran) order.
  array_ = py::array_t<double, py::array::f_style | py::array::forcecast>::ensure(a);
  if (!array_) throw Error(ErrorMessage(field, Describe(a), "an array convertible to float64"));
  data_ = static_cast<const double*>(array_.data());
  rows_ = static_cast<Eigen::Index>(array_.shape(0));
  cols_ = array_.ndim() == 2 ? static_cast<Eigen::Index>(array_.shape(1)) : 1;
}

Inputs ToInputs(py::handle obj, const std::string& field) {
  const std::string expected = "a 3-D array of shape (P, n_tok, N0) with n_tok >= 1 and N0 >= 1";
  py::array a = RealArray(obj, field, expected);
  if (a.ndim() != 3 || a.shape(1) < 1 || a.shape(2) < 1) {
    throw Error(ErrorMessage(field, Describe(a), expected));
  }
  auto c = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(a);
  if (!c) throw Error(ErrorMessage(field, Describe(a), "an array convertible to float64"));
  Inputs x(c.shape(0), c.shape(1), c.shape(2));
  if (c.size() > 0) std::memcpy(x.values().data(), c.data(), sizeof(double) * c.size());
  x.CheckFinite(field.c_str());
  return x;
}

InputsArg::InputsArg(py::handle obj, const std::string& field) {
  if (py::isinstance<Inputs>(obj)) {
    ptr_ = &obj.cast<const Inputs&>();
  } else {
    owned_ = ToInputs(obj, field);
    ptr_ = &owned_;
  }
}

std::vector<Eigen::MatrixXd> ToMatrices(py::handle obj, const std::string& field) {
  if (py::isinstance<py::array>(obj) || !py::isinstance<py::sequence>(obj) ||
      py::isinstance<py::str>(obj)) {
    throw Error(ErrorMessage(field, Describe(obj), "a list of 2-D arrays"));
  }
  std::vector<Eigen::MatrixXd> out;
  const auto seq = py::reinterpret_borrow<py::sequence>(obj);
  for (size_t k = 0; k < seq.size(); ++k) {
    out.push_back(
        MatrixArg(seq[k], field + "[" + std::to_string(k) + "]", Shape::kMatrix).matrix());
  }
  return out;
}

std::vector<Eigen::MatrixXd> ToMatrixStack(py::handle obj, const std::string& field) {
  const std::string expected = "a 3-D array of shape (count, rows, cols)";
  py::array a = RealArray(obj, field, expected);
  if (a.ndim() != 3) throw Error(ErrorMessage(field, Describe(a), expected));
  auto c = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(a);
  if (!c) throw Error(ErrorMessage(field, Describe(a), "an array convertible to float64"));
  using RowMajor = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const Eigen::Index rows = c.shape(1), cols = c.shape(2);
  std::vector<Eigen::MatrixXd> out;
  for (py::ssize_t k = 0; k < c.shape(0); ++k) {
    out.emplace_back(Eigen::Map<const RowMajor>(c.data() + k * rows * cols, rows, cols));
  }
  return out;
}

py::array FromMatrixStack(const std::vector<Eigen::MatrixXd>& m) {
  const py::ssize_t count = static_cast<py::ssize_t>(m.size());
  const py::ssize_t rows = m.empty() ? 0 : m.front().rows();
  const py::ssize_t cols = m.empty() ? 0 : m.front().cols();
  py::array_t<double> out({count, rows, cols});
  auto r = out.mutable_unchecked<3>();
  for (py::ssize_t k = 0; k < count; ++k) {
    for (py::ssize_t i = 0; i < rows; ++i) {
      for (py::ssize_t j = 0; j < cols; ++j) r(k, i, j) = m[static_cast<size_t>(k)](i, j);
    }
  }
  return out;
}

py::array MatrixView(const Eigen::MatrixXd& m, py::handle owner) {
  const auto s = static_cast<py::ssize_t>(sizeof(double));
  py::array a(py::dtype::of<double>(), {m.rows(), m.cols()}, {s, s * m.rows()}, m.data(), owner);
  py::detail::array_proxy(a.ptr())->flags &= ~py::detail::npy_api::NPY_ARRAY_WRITEABLE_;
  return a;
}

py::list MatrixViews(const std::vector<Eigen::MatrixXd>& m, py::handle owner) {
  py::list out;
  for (const auto& x : m) out.append(MatrixView(x, owner));
  return out;
}

py::list MatrixList(const std::vector<Eigen::MatrixXd>& m) {
  py::list out;
  for (const auto& x : m) out.append(py::cast(Eigen::MatrixXd(x)));
  return out;
}

void ApplyKeywords(py::handle self, const py::kwargs& kwargs, const std::string& type_name) {
  const py::object type = py::reinterpret_borrow<py::object>(self.get_type());
  const py::module_ builtins = py::module_::import("builtins");
  const py::object property = builtins.attr("property");
  std::vector<std::string> names;
  for (const auto& name : builtins.attr("dir")(type)) {
    const std::string n = name.cast<std::string>();
    if (n.empty() || n[0] == '_') continue;
    if (py::isinstance(type.attr(name), property)) names.push_back(n);
  }
  for (const auto& [key, value] : kwargs) {
    const std::string k = key.cast<std::string>();
    bool known = false;
    for (const auto& n : names) known = known || n == k;
    if (!known) {
      const std::string near = NearestName(k, names);
      throw Error(ErrorMessage(
          type_name + "." + k, "an unknown keyword",
          near.empty() ? "a field of " + type_name
                       : "a field of " + type_name + " (did you mean \"" + near + "\"?)"));
    }
    self.attr(key) = value;
  }
}

}  // namespace attnpaths::python
