// loopwise._core: the compiled core. Each pillar binds itself from its own file.
#include <pybind11/pybind11.h>

#include "loopwise/common/error.hpp"
#include "loopwise/common/threading.hpp"

namespace py = pybind11;

void bind_model(py::module_& m);
void bind_treeshap(py::module_& m);
void bind_agnostic(py::module_& m);
void bind_drift(py::module_& m);
void bind_streaming(py::module_& m);
void bind_learn(py::module_& m);

PYBIND11_MODULE(_core, m) {
  m.doc() = "loopwise compiled core (private; use the loopwise package)";
  // std::invalid_argument -> ValueError and std::out_of_range -> IndexError are pybind11's
  // own translations; loopwise::Error gets a Python class of its own.
  py::register_exception<loopwise::Error>(m, "LoopwiseError", PyExc_RuntimeError);
  m.def("hardware_threads", &loopwise::hardware_threads, "Threads the core may use.");
#ifdef LOOPWISE_HAVE_OPENMP
  m.attr("has_openmp") = true;
#else
  m.attr("has_openmp") = false;
#endif
  bind_model(m);
  bind_treeshap(m);
  bind_agnostic(m);
  bind_drift(m);
  bind_streaming(m);
  bind_learn(m);
}
