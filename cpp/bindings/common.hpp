#pragma once
// Shared conversions for the binding files: arrays in, views and arrays out.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string>
#include <vector>

#include "loopwise/common/error.hpp"
#include "loopwise/common/matrix.hpp"

namespace loopwise::bindings {

namespace py = pybind11;

template <class T>
using CArray = py::array_t<T, py::array::c_style>;

/// View over a C-contiguous 2-D array; the Python layer guarantees dtype and layout.
template <class T>
MatrixView<T> matrix_view(const CArray<T>& array, const char* name) {
  if (array.ndim() != 2) throw InvalidArgument(std::string(name) + " must be 2-D");
  return MatrixView<T>(array.data(), array.shape(0), array.shape(1));
}

/// Copies a 1-D array of a dict entry into a vector (construction time only, not a hot path).
template <class T>
std::vector<T> vector_from(const py::dict& fields, const char* key) {
  if (!fields.contains(key)) throw InvalidArgument(std::string("missing field '") + key + "'");
  auto array = py::array_t<T, py::array::c_style | py::array::forcecast>::ensure(fields[key]);
  if (!array) throw InvalidArgument(std::string("field '") + key + "' is not an array");
  if (array.ndim() != 1) throw InvalidArgument(std::string("field '") + key + "' must be 1-D");
  return std::vector<T>(array.data(), array.data() + array.size());
}

template <class T>
py::array_t<T> to_array(std::vector<T>&& values) {
  auto* heap = new std::vector<T>(std::move(values));
  py::capsule owner(heap, [](void* p) { delete static_cast<std::vector<T>*>(p); });
  return py::array_t<T>(static_cast<py::ssize_t>(heap->size()), heap->data(), owner);
}

}  // namespace loopwise::bindings
