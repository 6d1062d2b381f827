// Shared pieces of the Python module `attnpaths` (docs/python.md): argument
// conversion with field-named errors, keyword construction of option structs,
// and running long calls without the GIL while Python callbacks stay safe.
//
//   MatrixArg U(obj, "U1", Shape::kMatrix);     // float64 Fortran arrays are used in place
//   kernel.Total(U.ref());
//   InputsArg x(obj, "x_train");                // an attnpaths.Inputs or a (P, n_tok, N0) array
//   CallGuard guard;
//   options.progress = guard.Wrap<SolveProgress>(user_callable);
//   Solution sol = guard.Run([&] { return Solve(action, options, &summary); });
//
// Arrays leave the module without copies: Eigen results returned by value are
// moved into NumPy arrays, and fields of result objects are read-only views
// that keep their owner alive.
#pragma once

#include <pybind11/eigen.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <Eigen/Core>
#include <atomic>
#include <chrono>
#include <exception>
#include <functional>
#include <future>
#include <mutex>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "kernels/error.h"
#include "kernels/inputs.h"
#include "solver/order_parameters.h"

namespace attnpaths::python {

namespace py = pybind11;

// ---------------------------------------------------------------- arguments

enum class Shape {
  kMatrix,  // 2-D
  kColumn,  // 1-D (n → n × 1) or 2-D
  kVector,  // 1-D
};

// A read-only column-major float64 view of a NumPy array (or anything
// numpy.asarray accepts) of real numbers. A float64 Fortran-ordered (or 1-D
// contiguous) array is used in place; anything else is converted once. Throws
// Error naming `field` for None, non-numeric or complex dtypes, and the wrong
// number of dimensions.
class MatrixArg {
 public:
  MatrixArg(py::handle obj, const std::string& field, Shape shape);

  Eigen::Map<const Eigen::MatrixXd> map() const { return {data_, rows_, cols_}; }
  Eigen::Ref<const Eigen::MatrixXd> ref() const { return map(); }
  Eigen::Map<const Eigen::VectorXd> vector() const { return {data_, rows_ * cols_}; }
  Eigen::MatrixXd matrix() const { return map(); }
  Eigen::Index rows() const { return rows_; }
  Eigen::Index cols() const { return cols_; }

 private:
  py::array array_;  // keeps the data alive
  const double* data_ = nullptr;
  Eigen::Index rows_ = 0, cols_ = 0;
};

// A square m x m matrix (m >= 1) of finite reals, copied; throws Error naming
// `field` otherwise (kernels, covariances and SDE states are all square).
Eigen::MatrixXd SquareMatrixArg(py::handle obj, const std::string& field);

// An attnpaths.Inputs passed through (no copy), or a (P, n_tok, N0) array of
// reals copied into a new Inputs (checked for NaN/Inf, errors name `field`).
class InputsArg {
 public:
  InputsArg(py::handle obj, const std::string& field);
  const Inputs& get() const { return *ptr_; }

 private:
  Inputs owned_;
  const Inputs* ptr_ = nullptr;
};

// Inputs from an array: shape (P, n_tok, N0) with n_tok, N0 >= 1, finite.
Inputs ToInputs(py::handle obj, const std::string& field);

// A list of matrices (U_1, …, U_L; weights), element k named field[k].
std::vector<Eigen::MatrixXd> ToMatrices(py::handle obj, const std::string& field);

// (count, rows, cols) array → count matrices, matrix k (i, j) = a[k, i, j].
std::vector<Eigen::MatrixXd> ToMatrixStack(py::handle obj, const std::string& field);
// The inverse: count matrices of equal shape → a (count, rows, cols) array.
py::array FromMatrixStack(const std::vector<Eigen::MatrixXd>& m);

// Copies of matrices as a list of NumPy arrays.
py::list MatrixList(const std::vector<Eigen::MatrixXd>& m);
// Read-only NumPy views of matrices owned by `owner` (kept alive by the views).
py::list MatrixViews(const std::vector<Eigen::MatrixXd>& m, py::handle owner);
// A read-only NumPy view of one matrix owned by `owner`.
py::array MatrixView(const Eigen::MatrixXd& m, py::handle owner);

// "a 2-D array of shape (3, 4)" — how an argument is described in messages.
std::string Describe(py::handle obj);

// ------------------------------------------------------------- enum names

// Parses `text` against the names produced by `name_of` for `values`; throws
// Error naming `field` with the accepted names otherwise.
template <typename E, typename NameOf>
E ParseName(const std::string& text, const std::string& field, std::initializer_list<E> values,
            NameOf name_of) {
  std::string accepted;
  for (E v : values) {
    if (text == name_of(v)) return v;
    accepted += accepted.empty() ? "one of " : ", ";
    accepted += name_of(v);
  }
  throw Error(ErrorMessage(field, "\"" + text + "\"", accepted));
}

// A string argument: throws Error naming `field` when `obj` is not a str.
std::string StringArg(py::handle obj, const std::string& field);

// --------------------------------------------------- keyword construction

// Sets every keyword of `kwargs` as an attribute of `self` (a bound object);
// unknown keywords throw Error naming the nearest property of its class.
void ApplyKeywords(py::handle self, const py::kwargs& kwargs, const std::string& type_name);

// Applies `kwargs` to *value through the Python properties of T.
template <typename T>
void ApplyKeywordsTo(T* value, const py::kwargs& kwargs, const std::string& type_name) {
  // A non-owning wrapper: the property setters write into *value itself.
  py::object self = py::cast(value, py::return_value_policy::reference);
  ApplyKeywords(self, kwargs, type_name);
}

// A default T with `kwargs` applied through its Python properties.
template <typename T>
T FromKeywords(const py::kwargs& kwargs, const std::string& type_name) {
  T value;
  ApplyKeywordsTo(&value, kwargs, type_name);
  return value;
}

// --------------------------------------------------------------- callbacks

// A Python callable stored in a C++ options struct (std::function). Copies and
// destruction take the GIL, so the struct may be copied in C++ code that runs
// without it.
class PyCallable {
 public:
  explicit PyCallable(py::object fn) : fn_(std::move(fn)) {}
  PyCallable(const PyCallable& other) {
    py::gil_scoped_acquire gil;
    fn_ = other.fn_;
  }
  PyCallable(PyCallable&&) noexcept = default;
  PyCallable& operator=(const PyCallable& other) {
    py::gil_scoped_acquire gil;
    fn_ = other.fn_;
    return *this;
  }
  PyCallable& operator=(PyCallable&&) noexcept = default;
  ~PyCallable() {
    if (!fn_) return;
    py::gil_scoped_acquire gil;
    fn_ = py::object();
  }
  const py::object& fn() const { return fn_; }
  // Never called by the module itself (CallGuard::Wrap calls fn() instead).
  template <typename P>
  void operator()(const P& progress) const {
    py::gil_scoped_acquire gil;
    fn_(py::cast(progress, py::return_value_policy::copy));
  }

 private:
  py::object fn_;
};

// The Python callable held by a progress field, or None.
template <typename P>
py::object GetCallback(const std::function<void(const P&)>& f) {
  if (const auto* c = f.template target<PyCallable>()) return c->fn();
  return py::none();
}
// The progress callable of a long call: the `progress` argument, else the
// one held by the options' field; Error unless it is callable or None.
template <typename P>
py::object ProgressCallback(py::object progress, const std::function<void(const P&)>& field) {
  py::object callback = progress.is_none() ? GetCallback(field) : std::move(progress);
  if (!callback.is_none() && !PyCallable_Check(callback.ptr())) {
    throw Error(ErrorMessage("progress", Describe(callback), "a callable or None"));
  }
  return callback;
}
// Stores a callable (or clears the field for None); throws Error naming
// `field` for anything that is not callable.
template <typename P>
void SetCallback(std::function<void(const P&)>* f, py::object fn, const std::string& field) {
  if (fn.is_none()) {
    *f = nullptr;
    return;
  }
  if (!PyCallable_Check(fn.ptr())) {
    throw Error(
        ErrorMessage(field, Describe(fn), "a callable taking one progress argument, or None"));
  }
  *f = PyCallable(std::move(fn));
}

// Runs a long C++ call with the GIL released, in a worker thread, while the
// calling thread checks for signals (Ctrl-C) every 50 ms. Progress callbacks
// made by Wrap take the GIL to call Python. The first Python exception (from
// a callback or a signal handler) stops the call at its next progress report
// and is re-raised in the caller; C++ exceptions (attnpaths::Error) propagate.
class CallGuard {
 public:
  template <typename P>
  std::function<void(const P&)> Wrap(py::object fn) {
    if (fn.is_none()) {
      return [this](const P&) { ThrowIfStopped(); };
    }
    // The lambda holds a borrowed handle: `fn` is owned by the caller's frame
    // (the guard's owner keeps it) for the whole call.
    callables_.push_back(std::move(fn));
    py::handle h = callables_.back();
    return [this, h](const P& progress) {
      ThrowIfStopped();
      py::gil_scoped_acquire gil;
      try {
        // A copy: the callable may keep the progress object after returning.
        h(py::cast(progress, py::return_value_policy::copy));
      } catch (py::error_already_set&) {
        Stop(std::current_exception());
        throw Stopped();
      }
    };
  }

  template <typename F>
  auto Run(F&& f) -> decltype(f()) {
    using R = decltype(f());
    std::future<R> result;
    {
      py::gil_scoped_release release;
      result = std::async(std::launch::async, std::forward<F>(f));
      while (result.wait_for(std::chrono::milliseconds(50)) != std::future_status::ready) {
        py::gil_scoped_acquire gil;
        if (PyErr_CheckSignals() != 0) {
          Stop(std::make_exception_ptr(py::error_already_set()));
        }
      }
    }
    if (error_) {
      std::exception_ptr e = error_;
      error_ = nullptr;
      try {
        result.get();  // discard the call's own outcome (Stopped or a result)
      } catch (...) {
      }
      std::rethrow_exception(e);
    }
    return result.get();
  }

  // For calls into Python that report by status instead of throwing (an
  // objective's evaluation): record the exception to re-raise after the call.
  void StopWith(std::exception_ptr e) { Stop(std::move(e)); }
  bool stopped() const { return stopped_.load(); }

 private:
  struct Stopped : std::exception {
    const char* what() const noexcept override { return "stopped by a Python exception"; }
  };

  void ThrowIfStopped() const {
    if (stopped_.load()) throw Stopped();
  }
  void Stop(std::exception_ptr e) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!error_) error_ = std::move(e);
    stopped_ = true;
  }

  std::vector<py::object> callables_;
  std::mutex mutex_;
  std::exception_ptr error_;
  std::atomic<bool> stopped_{false};
};

// U_1 from an array, a Solution or OrderParameters (bind_solver.cc).
Eigen::MatrixXd FirstOrderParameter(py::handle obj, const std::string& field);
// The order parameters of a Solution or OrderParameters; Error naming `field` otherwise.
OrderParameters ToOrderParameters(py::handle obj, const std::string& field);

// ------------------------------------------------------------ registration

void BindKernels(py::module_& m);
void BindSolver(py::module_& m);
void BindAnalysis(py::module_& m);
void BindSampler(py::module_& m);
void BindData(py::module_& m);
void BindPropagation(py::module_& m);
void BindCurvature(py::module_& m);
void BindStudy(py::module_& m);

}  // namespace attnpaths::python
