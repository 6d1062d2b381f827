// The Python module `attnpaths`: the statistical-mechanics theory of Bayesian
// multi-head attention networks with NumPy arrays in and out (docs/python.md).
#include "data/provenance.h"
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
  m.attr("__version__") = attnpaths::GetBuildInfo().version;
  m.def(
      "build_info",
      [] {
        const attnpaths::BuildInfo& b = attnpaths::GetBuildInfo();
        py::dict d;
        d["version"] = b.version;
        d["git_commit"] = b.git_commit;
        d["git_dirty"] = b.git_dirty;
        d["compiler"] = b.compiler;
        d["build_type"] = b.build_type;
        d["flags"] = b.flags;
        d["libraries"] = b.libraries;
        d["blas"] = attnpaths::BlasDescription();
        return d;
      },
      "How this module was built, as `attnpaths --version` prints it and every output file's\n"
      "provenance records it (docs/formats.md): version, git_commit (of the source tree, or\n"
      "'unknown'), git_dirty, compiler, build_type, flags, libraries, and the BLAS it runs.\n"
      "Store it with results you save from Python.");

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
  attnpaths::python::BindPropagation(m);
  attnpaths::python::BindCurvature(m);
  attnpaths::python::BindStudy(m);
}
