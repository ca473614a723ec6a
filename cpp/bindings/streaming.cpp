// Binding of the streaming pillar (filled in by its issue).
#include <pybind11/pybind11.h>

namespace py = pybind11;

void bind_streaming(py::module_& /*m*/) {}
