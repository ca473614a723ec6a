// Page-Hinkley: cumulative deviation from the running mean, tested against its extremum.
#include <cmath>
#include <limits>

#include "loopwise/common/error.hpp"
#include "loopwise/streaming/detectors.hpp"

namespace loopwise::streaming {

PageHinkley::PageHinkley(std::int64_t min_instances, double delta, double threshold, double alpha, int mode)
    : min_instances_(min_instances), delta_(delta), threshold_(threshold), alpha_(alpha), mode_(mode) {
  if (min_instances < 1) throw InvalidArgument("min_instances must be >= 1");
  if (!std::isfinite(delta)) throw InvalidArgument("delta must be finite");
  if (!(threshold > 0.0 && std::isfinite(threshold))) throw InvalidArgument("threshold must be > 0");
  if (!(alpha >= 0.0 && alpha <= 1.0)) throw InvalidArgument("alpha must be in [0, 1]");
  if (mode < 0 || mode > 2) throw InvalidArgument("mode must be 'up', 'down' or 'both'");
  clear();
}

void PageHinkley::clear() {
  n_ = mean_ = sum_increase_ = sum_decrease_ = 0.0;
  min_increase_ = std::numeric_limits<double>::infinity();
  max_decrease_ = -1.0;
}

void PageHinkley::step(double x) {
  n_ += 1.0;
  // Same rounding as an incremental mean m += (w / n) (x - m) with w = 1.
  mean_ += (1.0 / n_) * (x - mean_);
  const double deviation = x - mean_;
  sum_increase_ = alpha_ * sum_increase_ + deviation - delta_;
  sum_decrease_ = alpha_ * sum_decrease_ + deviation + delta_;
  if (sum_increase_ < min_increase_) min_increase_ = sum_increase_;
  if (sum_decrease_ > max_decrease_) max_decrease_ = sum_decrease_;
  if (n_ >= static_cast<double>(min_instances_)) {
    const bool up = sum_increase_ - min_increase_ > threshold_;
    const bool down = max_decrease_ - sum_decrease_ > threshold_;
    drift_ = mode_ == 0 ? up : mode_ == 1 ? down : (up || down);
  }
}

void PageHinkley::save(State& s) const {
  s["n"] = {n_};
  s["mean"] = {mean_};
  s["sum_increase"] = {sum_increase_};
  s["sum_decrease"] = {sum_decrease_};
  s["min_increase"] = {min_increase_};
  s["max_decrease"] = {max_decrease_};
}

void PageHinkley::restore(const State& s) {
  n_ = scalar(s, "n");
  mean_ = scalar(s, "mean");
  sum_increase_ = scalar(s, "sum_increase");
  sum_decrease_ = scalar(s, "sum_decrease");
  min_increase_ = scalar(s, "min_increase");
  max_decrease_ = scalar(s, "max_decrease");
}

}  // namespace loopwise::streaming
