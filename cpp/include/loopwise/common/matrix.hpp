#pragma once
/// Non-owning views over the caller's row-major memory.
#include <cstdint>

#include "loopwise/common/error.hpp"

namespace loopwise {

/// Read-only view of a 2-D array with element strides (numpy strides / itemsize).
template <class T>
struct MatrixView {
  const T* data = nullptr;
  std::int64_t rows = 0;
  std::int64_t cols = 0;
  std::int64_t row_stride = 0;  ///< elements between consecutive rows
  std::int64_t col_stride = 1;  ///< elements between consecutive columns

  MatrixView() = default;
  MatrixView(const T* d, std::int64_t r, std::int64_t c)
      : data(d), rows(r), cols(c), row_stride(c), col_stride(1) {}
  MatrixView(const T* d, std::int64_t r, std::int64_t c, std::int64_t rs, std::int64_t cs)
      : data(d), rows(r), cols(c), row_stride(rs), col_stride(cs) {}

  T operator()(std::int64_t i, std::int64_t j) const { return data[i * row_stride + j * col_stride]; }
  const T* row(std::int64_t i) const { return data + i * row_stride; }
};

}  // namespace loopwise
