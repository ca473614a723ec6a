// ADWIN2: an exponential histogram of buckets summarising the window, and a Bernstein-type
// bound tested at every bucket boundary (Bifet & Gavaldà 2007, "Learning from
// time-changing data with adaptive windowing").
#include <cmath>

#include "loopwise/common/error.hpp"
#include "loopwise/streaming/detectors.hpp"

namespace loopwise::streaming {

namespace {
// Values per bucket in a row; rows never get deep enough for the shift to overflow.
double bucket_size(std::size_t row) { return std::ldexp(1.0, static_cast<int>(row)); }
}  // namespace

Adwin::Adwin(double delta, std::int64_t clock, std::int64_t max_buckets, std::int64_t min_window_length,
             std::int64_t grace_period)
    : delta_(delta),
      clock_(clock),
      max_buckets_(max_buckets),
      min_window_length_(min_window_length),
      grace_period_(grace_period) {
  if (!(delta > 0.0 && delta < 1.0)) throw InvalidArgument("delta must be in (0, 1)");
  if (clock < 1) throw InvalidArgument("clock must be >= 1");
  if (max_buckets < 1) throw InvalidArgument("max_buckets must be >= 1");
  if (min_window_length < 1) throw InvalidArgument("min_window_length must be >= 1");
  if (grace_period < 0) throw InvalidArgument("grace_period must be >= 0");
  clear();
}

void Adwin::clear() {
  rows_.assign(1, Row{});
  total_ = variance_ = width_ = tick_ = n_detections_ = 0.0;
}

void Adwin::step(double x) {
  tick_ += 1.0;
  insert(x);
  drift_ = detect();
}

void Adwin::insert(double value) {
  rows_[0].total.push_back(value);
  rows_[0].variance.push_back(0.0);
  width_ += 1.0;
  // Welford-style update of the window's sum of squared deviations.
  if (width_ > 1.0) {
    const double gap = value - total_ / (width_ - 1.0);
    variance_ += (width_ - 1.0) * gap * gap / width_;
  }
  total_ += value;
  compress();
}

void Adwin::compress() {
  // A row holding max_buckets + 1 buckets merges its two oldest into one bucket of the
  // next row, which may overflow in turn.
  for (std::size_t r = 0; r < rows_.size(); ++r) {
    Row& row = rows_[r];
    if (static_cast<std::int64_t>(row.total.size()) != max_buckets_ + 1) break;
    if (r + 1 == rows_.size()) rows_.push_back(Row{});
    Row& row_ref = rows_[r];  // push_back may have moved the rows
    const double n = bucket_size(r);
    const double mean_gap = row_ref.total[0] / n - row_ref.total[1] / n;
    const double merged_total = row_ref.total[0] + row_ref.total[1];
    const double merged_variance = row_ref.variance[0] + row_ref.variance[1] + n * n * mean_gap * mean_gap / (n + n);
    rows_[r + 1].total.push_back(merged_total);
    rows_[r + 1].variance.push_back(merged_variance);
    row_ref.total.erase(row_ref.total.begin(), row_ref.total.begin() + 2);
    row_ref.variance.erase(row_ref.variance.begin(), row_ref.variance.begin() + 2);
    if (static_cast<std::int64_t>(rows_[r + 1].total.size()) <= max_buckets_) break;
  }
}

double Adwin::drop_oldest() {
  Row& row = rows_.back();
  if (row.total.empty()) throw Error("ADWIN: internal error, empty bucket row");
  const double n = bucket_size(rows_.size() - 1);
  const double u = row.total[0];
  const double v = row.variance[0];
  width_ -= n;
  total_ -= u;
  const double gap = u / n - total_ / width_;
  variance_ -= v + n * width_ * gap * gap / (n + width_);
  row.total.erase(row.total.begin());
  row.variance.erase(row.variance.begin());
  if (row.total.empty() && rows_.size() > 1) rows_.pop_back();
  return n;
}

bool Adwin::cut(double n0, double n1, double mean_gap) const {
  // delta_prime depends only on the window width; detect() caches it per pass.
  const double m = static_cast<double>(min_window_length_);
  const double m_recip = 1.0 / (n0 - m + 1.0) + 1.0 / (n1 - m + 1.0);
  const double linear = 2.0 / 3.0 * delta_prime_ * m_recip;
  const double gap = std::fabs(mean_gap);
  // sqrt(.) >= 0, so a gap within the linear term can never pass: skip the square root.
  if (!(gap > linear)) return false;
  return gap > std::sqrt(2.0 * m_recip * variance_ / width_ * delta_prime_) + linear;
}

bool Adwin::detect() {
  bool detected = false;
  const auto tick = static_cast<std::int64_t>(tick_);
  if (tick % clock_ != 0 || !(width_ > static_cast<double>(grace_period_))) return false;
  const double m = static_cast<double>(min_window_length_);
  bool shrink = true;
  while (shrink) {
    shrink = false;
    double n0 = 0.0, n1 = width_, u0 = 0.0, u1 = total_;
    bool done = false;
    delta_prime_ = std::log(2.0 * std::log(width_) / delta_);
    // Walk bucket boundaries from the oldest bucket to the newest: W0 is the older part.
    for (std::size_t r = rows_.size(); r-- > 0 && !done;) {
      const double n = bucket_size(r);
      const std::size_t count = rows_[r].total.size();
      for (std::size_t k = 0; k < count; ++k) {
        const double u = rows_[r].total[k];
        n0 += n;
        n1 -= n;
        u0 += u;
        u1 -= u;
        if (r == 0 && k + 1 == count) {
          done = true;  // the newest bucket: W1 would be empty
          break;
        }
        if (n1 >= m && n0 >= m && cut(n0, n1, u0 / n0 - u1 / n1)) {
          shrink = true;
          detected = true;
          if (width_ > 0.0) drop_oldest();
          done = true;
          break;
        }
      }
    }
  }
  if (detected) n_detections_ += 1.0;
  return detected;
}

void Adwin::save(State& s) const {
  std::vector<double> sizes, totals, variances;
  for (const auto& row : rows_) {
    sizes.push_back(static_cast<double>(row.total.size()));
    totals.insert(totals.end(), row.total.begin(), row.total.end());
    variances.insert(variances.end(), row.variance.begin(), row.variance.end());
  }
  s["row_sizes"] = sizes;
  s["bucket_totals"] = totals;
  s["bucket_variances"] = variances;
  s["total"] = {total_};
  s["variance"] = {variance_};
  s["width"] = {width_};
  s["tick"] = {tick_};
  s["n_detections"] = {n_detections_};
}

void Adwin::restore(const State& s) {
  const auto& sizes = array(s, "row_sizes");
  const auto& totals = array(s, "bucket_totals");
  const auto& variances = array(s, "bucket_variances");
  if (sizes.empty() || totals.size() != variances.size()) throw InvalidArgument("ADWIN state: inconsistent buckets");
  std::vector<Row> rows;
  std::size_t offset = 0;
  for (double size : sizes) {
    if (!(size >= 0.0 && size <= static_cast<double>(max_buckets_) && size == std::floor(size))) {
      throw InvalidArgument("ADWIN state: bad row size (saved with other max_buckets?)");
    }
    const auto count = static_cast<std::size_t>(size);
    if (offset + count > totals.size()) throw InvalidArgument("ADWIN state: row sizes exceed the bucket arrays");
    Row row;
    row.total.assign(totals.begin() + offset, totals.begin() + offset + count);
    row.variance.assign(variances.begin() + offset, variances.begin() + offset + count);
    rows.push_back(std::move(row));
    offset += count;
  }
  if (offset != totals.size()) throw InvalidArgument("ADWIN state: row sizes do not cover the bucket arrays");
  rows_ = std::move(rows);
  total_ = scalar(s, "total");
  variance_ = scalar(s, "variance");
  width_ = scalar(s, "width");
  tick_ = scalar(s, "tick");
  n_detections_ = scalar(s, "n_detections");
}

}  // namespace loopwise::streaming
