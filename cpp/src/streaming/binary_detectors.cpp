// Detectors of a change in an error rate: DDM, EDDM, HDDM_A and HDDM_W.
#include <cmath>
#include <limits>

#include "loopwise/common/error.hpp"
#include "loopwise/streaming/detectors.hpp"

namespace loopwise::streaming {

namespace {
// Incremental mean with the rounding of m += (w / n) (x - m), w = 1.
void add_to_mean(double& n, double& mean, double x) {
  n += 1.0;
  mean += (1.0 / n) * (x - mean);
}

void check_confidence(double value, const char* name) {
  if (!(value > 0.0 && value < 1.0)) throw InvalidArgument(std::string(name) + " must be in (0, 1)");
}
}  // namespace

// ------------------------------------------------------------------------------- DDM
Ddm::Ddm(std::int64_t warm_start, double warning_threshold, double drift_threshold)
    : warm_start_(warm_start), warning_threshold_(warning_threshold), drift_threshold_(drift_threshold) {
  if (warm_start < 0) throw InvalidArgument("warm_start must be >= 0");
  if (!(warning_threshold > 0.0)) throw InvalidArgument("warning_threshold must be > 0");
  if (!(drift_threshold > 0.0)) throw InvalidArgument("drift_threshold must be > 0");
  clear();
}

void Ddm::clear() {
  n_ = p_ = p_min_ = s_min_ = 0.0;
  ps_min_ = std::numeric_limits<double>::infinity();
}

void Ddm::step(double x) {
  add_to_mean(n_, p_, x);
  const double s = std::sqrt(p_ * (1.0 - p_) / n_);
  if (n_ > static_cast<double>(warm_start_)) {
    if (p_ + s <= ps_min_) {
      p_min_ = p_;
      s_min_ = s;
      ps_min_ = p_min_ + s_min_;
    }
    warning_ = p_ + s > p_min_ + warning_threshold_ * s_min_;
    if (p_ + s > p_min_ + drift_threshold_ * s_min_) {
      drift_ = true;
      warning_ = false;
    }
  }
}

void Ddm::save(State& s) const {
  s["n"] = {n_};
  s["p"] = {p_};
  s["p_min"] = {p_min_};
  s["s_min"] = {s_min_};
  s["ps_min"] = {ps_min_};
}

void Ddm::restore(const State& s) {
  n_ = scalar(s, "n");
  p_ = scalar(s, "p");
  p_min_ = scalar(s, "p_min");
  s_min_ = scalar(s, "s_min");
  ps_min_ = scalar(s, "ps_min");
}

// ------------------------------------------------------------------------------ EDDM
Eddm::Eddm(std::int64_t warm_start, double alpha, double beta) : warm_start_(warm_start), alpha_(alpha), beta_(beta) {
  if (warm_start < 0) throw InvalidArgument("warm_start must be >= 0");
  if (alpha < beta) throw InvalidArgument("alpha must be greater than or equal to beta");
  clear();
}

void Eddm::clear() {
  n_ = last_error_ = n_errors_ = 0.0;
  dist_n_ = dist_mean_ = dist_s_ = 0.0;
  p2s_max_ = -1.0;
}

void Eddm::step(double x) {
  n_ += 1.0;
  if (x != 1.0) return;
  n_errors_ += 1.0;
  // Welford update of the mean and variance of the distance between errors.
  const double distance = n_ - last_error_;
  const double old_mean = dist_mean_;
  add_to_mean(dist_n_, dist_mean_, distance);
  dist_s_ += (distance - old_mean) * (distance - dist_mean_);
  if (n_ > static_cast<double>(warm_start_)) {
    const double var = dist_n_ > 1.0 ? dist_s_ / (dist_n_ - 1.0) : 0.0;
    const double p2s = dist_mean_ + 2.0 * std::sqrt(var);
    if (p2s > p2s_max_) {
      p2s_max_ = p2s;
    } else if (n_errors_ > static_cast<double>(warm_start_)) {
      const double level = p2s / p2s_max_;
      if (level < beta_) {
        drift_ = true;
      } else {
        warning_ = level < alpha_;
      }
    }
  }
  last_error_ = n_;
}

void Eddm::save(State& s) const {
  s["n"] = {n_};
  s["last_error"] = {last_error_};
  s["n_errors"] = {n_errors_};
  s["distance_n"] = {dist_n_};
  s["distance_mean"] = {dist_mean_};
  s["distance_ss"] = {dist_s_};
  s["p2s_max"] = {p2s_max_};
}

void Eddm::restore(const State& s) {
  n_ = scalar(s, "n");
  last_error_ = scalar(s, "last_error");
  n_errors_ = scalar(s, "n_errors");
  dist_n_ = scalar(s, "distance_n");
  dist_mean_ = scalar(s, "distance_mean");
  dist_s_ = scalar(s, "distance_ss");
  p2s_max_ = scalar(s, "p2s_max");
}

// ---------------------------------------------------------------------------- HDDM_A
HddmA::HddmA(double drift_confidence, double warning_confidence, bool two_sided)
    : drift_confidence_(drift_confidence), warning_confidence_(warning_confidence), two_sided_(two_sided) {
  check_confidence(drift_confidence, "drift_confidence");
  check_confidence(warning_confidence, "warning_confidence");
  clear();
}

void HddmA::clear() { z_n_ = z_mean_ = min_n_ = min_mean_ = max_n_ = max_mean_ = 0.0; }

double HddmA::bound(double n) const { return std::sqrt(1.0 / (2.0 * n) * std::log(1.0 / drift_confidence_)); }

bool HddmA::increased(double confidence) const {
  if (min_n_ == z_n_) return false;
  const double m = (z_n_ - min_n_) / min_n_ * (1.0 / z_n_);
  return z_mean_ - min_mean_ >= std::sqrt(m / 2.0 * std::log(2.0 / confidence));
}

bool HddmA::decreased(double confidence) const {
  if (max_n_ == z_n_) return false;
  const double m = (z_n_ - max_n_) / max_n_ * (1.0 / z_n_);
  return max_mean_ - z_mean_ >= std::sqrt(m / 2.0 * std::log(2.0 / confidence));
}

void HddmA::step(double x) {
  add_to_mean(z_n_, z_mean_, x);
  if (min_n_ == 0.0) min_n_ = z_n_, min_mean_ = z_mean_;
  if (max_n_ == 0.0) max_n_ = z_n_, max_mean_ = z_mean_;
  const double eps_z = bound(z_n_);
  // Cut points: the prefix whose mean (plus its bound) is smallest / largest so far.
  if (min_mean_ + bound(min_n_) >= z_mean_ + eps_z) min_n_ = z_n_, min_mean_ = z_mean_;
  if (max_mean_ - bound(max_n_) <= z_mean_ - eps_z) max_n_ = z_n_, max_mean_ = z_mean_;
  if (increased(drift_confidence_)) {
    warning_ = false;
    drift_ = true;
  } else {
    warning_ = increased(warning_confidence_);
    drift_ = false;
  }
  if (two_sided_) {
    if (decreased(drift_confidence_)) {
      drift_ = true;
    } else if (decreased(warning_confidence_)) {
      warning_ = true;
    }
  }
}

void HddmA::save(State& s) const {
  s["n"] = {z_n_};
  s["mean"] = {z_mean_};
  s["min_n"] = {min_n_};
  s["min_mean"] = {min_mean_};
  s["max_n"] = {max_n_};
  s["max_mean"] = {max_mean_};
}

void HddmA::restore(const State& s) {
  z_n_ = scalar(s, "n");
  z_mean_ = scalar(s, "mean");
  min_n_ = scalar(s, "min_n");
  min_mean_ = scalar(s, "min_mean");
  max_n_ = scalar(s, "max_n");
  max_mean_ = scalar(s, "max_mean");
}

// ---------------------------------------------------------------------------- HDDM_W
HddmW::HddmW(double drift_confidence, double warning_confidence, double lambda, bool two_sided)
    : drift_confidence_(drift_confidence),
      warning_confidence_(warning_confidence),
      lambda_(lambda),
      two_sided_(two_sided) {
  check_confidence(drift_confidence, "drift_confidence");
  check_confidence(warning_confidence, "warning_confidence");
  if (!(lambda >= 0.0 && lambda <= 1.0)) throw InvalidArgument("lambda_val must be in [0, 1]");
  clear();
}

void HddmW::clear() {
  total_ = s1_incr_ = s2_incr_ = s1_decr_ = s2_decr_ = Sample{};
  incr_cut_ = std::numeric_limits<double>::infinity();
  decr_cut_ = -std::numeric_limits<double>::infinity();
}

void HddmW::add(Sample& s, double x) const {
  s.ewma = s.n == 0.0 ? x : lambda_ * x + (1.0 - lambda_) * s.ewma;
  s.n += 1.0;
  const double one_minus = 1.0 - lambda_;
  s.ibc = lambda_ * lambda_ + one_minus * one_minus * s.ibc;
}

bool HddmW::changed(const Sample& first, const Sample& second, double confidence) {
  if (first.n == 0.0 || second.n == 0.0) return false;
  const double ibc = first.ibc + second.ibc;
  return second.ewma - first.ewma > std::sqrt(ibc * std::log(1.0 / confidence) / 2.0);
}

void HddmW::step(double x) {
  add(total_, x);
  double eps = std::sqrt(total_.ibc * std::log(1.0 / drift_confidence_) / 2.0);
  if (total_.ewma + eps < incr_cut_) {
    incr_cut_ = total_.ewma + eps;
    s1_incr_ = total_;
    s2_incr_ = Sample{};
  } else {
    add(s2_incr_, x);
  }
  if (changed(s1_incr_, s2_incr_, drift_confidence_)) {
    warning_ = false;
    drift_ = true;
  } else {
    warning_ = changed(s1_incr_, s2_incr_, warning_confidence_);
    drift_ = false;
  }
  eps = std::sqrt(total_.ibc * std::log(1.0 / drift_confidence_) / 2.0);
  if (total_.ewma - eps > decr_cut_) {
    decr_cut_ = total_.ewma - eps;
    s1_decr_ = total_;
    s2_decr_ = Sample{};
  } else {
    add(s2_decr_, x);
  }
  if (two_sided_) {
    if (changed(s2_decr_, s1_decr_, drift_confidence_)) {
      drift_ = true;
    } else if (changed(s2_decr_, s1_decr_, warning_confidence_)) {
      warning_ = true;
    }
  }
}

void HddmW::save(State& s) const {
  const std::pair<const char*, const Sample*> samples[] = {
      {"total", &total_}, {"s1_incr", &s1_incr_}, {"s2_incr", &s2_incr_}, {"s1_decr", &s1_decr_}, {"s2_decr", &s2_decr_}};
  for (const auto& [name, sample] : samples) s[name] = {sample->ewma, sample->ibc, sample->n};
  s["incr_cut"] = {incr_cut_};
  s["decr_cut"] = {decr_cut_};
}

void HddmW::restore(const State& s) {
  const std::pair<const char*, Sample*> samples[] = {
      {"total", &total_}, {"s1_incr", &s1_incr_}, {"s2_incr", &s2_incr_}, {"s1_decr", &s1_decr_}, {"s2_decr", &s2_decr_}};
  for (const auto& [name, sample] : samples) {
    const auto& v = array(s, name);
    if (v.size() != 3) throw InvalidArgument(std::string("HDDM_W state field '") + name + "' must have 3 values");
    *sample = Sample{v[0], v[1], v[2]};
  }
  incr_cut_ = scalar(s, "incr_cut");
  decr_cut_ = scalar(s, "decr_cut");
}

}  // namespace loopwise::streaming
