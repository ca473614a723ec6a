// Binding of the drift pillar (filled in by its issue).
#include <pybind11/pybind11.h>

namespace py = pybind11;

void bind_drift(py::module_& /*m*/) {}
