#pragma once
/// Exception types of the core; the binding maps them to Python exceptions.
#include <stdexcept>
#include <string>

namespace loopwise {

/// A caller passed something unusable (shape, value, corrupt model); becomes ValueError.
class InvalidArgument : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

/// An index the caller supplied points outside its container; becomes IndexError.
class IndexError : public std::out_of_range {
 public:
  using std::out_of_range::out_of_range;
};

/// Any other failure of the core; becomes loopwise.LoopwiseError.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace loopwise
