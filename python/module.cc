// The Python module `attnpaths`: the statistical-mechanics theory of Bayesian
// multi-head attention networks with NumPy arrays in and out (docs/python.md).
#include "python/bindings.h"

namespace py = pybind11;

PYBIND11_MODULE(attnpaths, m) {
  m.doc() =
      "attnpaths: the statistical-mechanics theory of Bayesian multi-head attention networks\n"
      "(Tiberi et al., NeurIPS 2024) - path inputs and kernels, the saddle-point solve of the\n"
      "action, predictor statistics, the GP limit, NUTS sampling of the finite network, head\n"
      "relevance, pruning and kernel-task alignment. NumPy float64 arrays in and out; inputs\n"
      "are (P, n_tok, N0) arrays. Invalid input raises attnpaths.Error (a ValueError) with\n"
      "the message of the C++ library, which names the field. See docs/python.md.";
  m.attr("__version__") = ATTNPATHS_VERSION;

  // attnpaths::Error → attnpaths.Error(ValueError), same message.
  static py::exception<attnpaths::Error> error(m, "Error", PyExc_ValueError);
  error.doc() =
      "Invalid input: the message names the field (or file), the value found and what was\n"
      "expected, exactly as the command line prints it after 'error: '. A subclass of ValueError.";
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const attnpaths::Error& e) {
      error(e.what());
    }
  });

  attnpaths::python::BindKernels(m);
  attnpaths::python::BindSolver(m);
  attnpaths::python::BindAnalysis(m);
  attnpaths::python::BindSampler(m);
  attnpaths::python::BindData(m);
}
