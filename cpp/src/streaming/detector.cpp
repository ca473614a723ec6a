// Shared detector protocol: the post-drift reset, batch updates and state plumbing.
#include <cmath>
#include <string>

#include "loopwise/common/error.hpp"
#include "loopwise/streaming/detectors.hpp"

namespace loopwise::streaming {

bool Detector::update(double x) {
  Guard lock(mutex_);
  return update_unlocked(x);
}

bool Detector::update_unlocked(double x) {
  // A NaN never compares, so some detectors would never leave their merge loops on one.
  if (std::isnan(x)) throw InvalidArgument("detector values must not be NaN");
  // A detector that signalled drift forgets the old concept before it sees the next value.
  if (drift_) reset_unlocked();
  step(x);
  return drift_;
}

std::vector<std::int64_t> Detector::update_many(const double* values, std::int64_t n, std::int64_t stride,
                                                std::vector<std::int64_t>* warnings) {
  Guard lock(mutex_);
  // Refuse the whole batch before consuming any of it, so an error leaves the state unchanged.
  for (std::int64_t i = 0; i < n; ++i) {
    if (std::isnan(values[i * stride])) {
      throw InvalidArgument("detector values must not be NaN (position " + std::to_string(i) + ")");
    }
  }
  std::vector<std::int64_t> drifts;
  for (std::int64_t i = 0; i < n; ++i) {
    if (update_unlocked(values[i * stride])) drifts.push_back(i);
    if (warnings && warning_) warnings->push_back(i);
  }
  return drifts;
}

State Detector::state() const {
  Guard lock(mutex_);
  State s;
  s["drift_detected"] = {drift_ ? 1.0 : 0.0};
  s["warning_detected"] = {warning_ ? 1.0 : 0.0};
  save(s);
  return s;
}

void Detector::load(const State& s) {
  Guard lock(mutex_);
  for (const auto& [key, values] : s) {
    for (double v : values) {
      if (std::isnan(v)) throw InvalidArgument("detector state field '" + key + "' holds NaN");
    }
  }
  drift_ = scalar(s, "drift_detected") != 0.0;
  warning_ = scalar(s, "warning_detected") != 0.0;
  restore(s);
}

const std::vector<double>& array(const State& s, const char* key) {
  auto it = s.find(key);
  if (it == s.end()) throw InvalidArgument(std::string("detector state misses field '") + key + "'");
  return it->second;
}

double scalar(const State& s, const char* key) {
  const auto& values = array(s, key);
  if (values.size() != 1) throw InvalidArgument(std::string("detector state field '") + key + "' must be a scalar");
  return values[0];
}

}  // namespace loopwise::streaming
