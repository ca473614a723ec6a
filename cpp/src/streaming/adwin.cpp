// ADWIN2: an exponential histogram of buckets summarising the window, and a Bernstein-type
// bound tested at every bucket boundary (Bifet & Gavaldà 2007, "Learning from
// time-changing data with adaptive windowing").
#include <cmath>

#include "loopwise/common/error.hpp"
#include "loopwise/streaming/detectors.hpp"

namespace loopwise::streaming {

namespace {
// Values per bucket in a row (2^row, exact); a window of 2^63 values is out of reach.
inline double bucket_size(std::size_t row) { return static_cast<double>(std::uint64_t{1} << (row & 63)); }
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
  if (max_buckets > (std::int64_t{1} << 20)) throw InvalidArgument("max_buckets must be <= 2^20");
  std::size_t ring = 1;
  while (ring < static_cast<std::size_t>(max_buckets) + 1) ring <<= 1;
  ring_mask_ = ring - 1;
  clear();
}

Adwin::Row Adwin::new_row() const {
  Row row;
  row.total.assign(ring_mask_ + 1, 0.0);
  row.variance.assign(ring_mask_ + 1, 0.0);
  return row;
}

void Adwin::push(Row& row, double total, double variance) const {
  const std::size_t i = slot(row, row.count);
  row.total[i] = total;
  row.variance[i] = variance;
  ++row.count;
}

void Adwin::pop(Row& row, std::size_t n) const {
  row.head = slot(row, n);
  row.count -= n;
}

void Adwin::clear() {
  rows_.assign(1, new_row());
  total_ = variance_ = width_ = tick_ = n_detections_ = 0.0;
  phase_ = 0;
}

void Adwin::step(double x) {
  tick_ += 1.0;
  // tick % clock, kept incrementally: a 64-bit division per value would cost more than the
  // rest of the update.
  if (++phase_ == clock_) phase_ = 0;
  insert(x);
  drift_ = phase_ == 0 && detect();
}

void Adwin::insert(double value) {
  push(rows_[0], value, 0.0);
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
  const auto full = static_cast<std::size_t>(max_buckets_) + 1;
  for (std::size_t r = 0; r < rows_.size(); ++r) {
    if (rows_[r].count != full) break;
    if (r + 1 == rows_.size()) rows_.push_back(new_row());
    Row& row = rows_[r];  // after push_back: the rows may have moved
    const std::size_t first = slot(row, 0), second = slot(row, 1);
    const double n = bucket_size(r);
    const double inv_n = 1.0 / n;  // a power of two: multiplying is exact, like dividing
    const double mean_gap = row.total[first] * inv_n - row.total[second] * inv_n;
    const double merged_total = row.total[first] + row.total[second];
    const double merged_variance = row.variance[first] + row.variance[second] + n * n * mean_gap * mean_gap / (n + n);
    pop(row, 2);
    push(rows_[r + 1], merged_total, merged_variance);
    if (rows_[r + 1].count <= static_cast<std::size_t>(max_buckets_)) break;
  }
}

double Adwin::drop_oldest() {
  Row& row = rows_.back();
  if (row.count == 0) throw Error("ADWIN: internal error, empty bucket row");
  const double n = bucket_size(rows_.size() - 1);
  const std::size_t oldest = slot(row, 0);
  const double u = row.total[oldest];
  const double v = row.variance[oldest];
  width_ -= n;
  total_ -= u;
  const double gap = u / n - total_ / width_;
  variance_ -= v + n * width_ * gap * gap / (n + width_);
  pop(row, 1);
  if (row.count == 0 && rows_.size() > 1) rows_.pop_back();
  return n;
}

bool Adwin::surely_no_cut(double n0, double n1, double u0, double u1) const {
  // Division-free screen. A cut needs gap = |u0/n0 - u1/n1| > sqrt(A) + L with
  // A = 2 m_recip V delta', L = 2/3 delta' m_recip, m_recip = (a + b) / (a b),
  // a = n0 - m + 1, b = n1 - m + 1, V = variance / width; so it needs gap > L and
  // gap^2 > A. Both are tested multiplied through by the positive n0 n1 a b, with the gap
  // bounded above (an allowance far larger than the rounding of this and of the exact
  // computation) and a relative margin of 1e-12. When either fails, cut() would return
  // false, so it is skipped; otherwise cut() decides with the exact formula.
  const double m = static_cast<double>(min_window_length_);
  const double a = n0 - m + 1.0, b = n1 - m + 1.0;
  const double n01 = n0 * n1;
  const double scaled_gap = std::fabs(u0 * n1 - u1 * n0) + 1e-13 * (std::fabs(u0) * n1 + std::fabs(u1) * n0);
  const double margin = 1.0 - 1e-12;
  if (scaled_gap * a * b < 2.0 / 3.0 * delta_prime_ * (a + b) * n01 * margin) return true;
  return scaled_gap * scaled_gap * a * b < 2.0 * (a + b) * window_variance_ * delta_prime_ * n01 * n01 * margin;
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
  if (!(width_ > static_cast<double>(grace_period_))) return false;
  const double m = static_cast<double>(min_window_length_);
  bool shrink = true;
  while (shrink) {
    shrink = false;
    double n0 = 0.0, n1 = width_, u0 = 0.0, u1 = total_;
    bool done = false;
    delta_prime_ = std::log(2.0 * std::log(width_) / delta_);
    window_variance_ = variance_ / width_;
    // Walk bucket boundaries from the oldest bucket to the newest: W0 is the older part.
    for (std::size_t r = rows_.size(); r-- > 0 && !done;) {
      const double n = bucket_size(r);
      const Row& row = rows_[r];
      const std::size_t count = row.count;
      for (std::size_t k = 0; k < count; ++k) {
        const double u = row.total[slot(row, k)];
        n0 += n;
        n1 -= n;
        u0 += u;
        u1 -= u;
        if (r == 0 && k + 1 == count) {
          done = true;  // the newest bucket: W1 would be empty
          break;
        }
        if (n1 >= m && n0 >= m && !surely_no_cut(n0, n1, u0, u1) && cut(n0, n1, u0 / n0 - u1 / n1)) {
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
    sizes.push_back(static_cast<double>(row.count));
    for (std::size_t k = 0; k < row.count; ++k) {
      totals.push_back(row.total[slot(row, k)]);
      variances.push_back(row.variance[slot(row, k)]);
    }
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
    Row row = new_row();
    for (std::size_t k = 0; k < count; ++k) push(row, totals[offset + k], variances[offset + k]);
    rows.push_back(std::move(row));
    offset += count;
  }
  if (offset != totals.size()) throw InvalidArgument("ADWIN state: row sizes do not cover the bucket arrays");
  rows_ = std::move(rows);
  total_ = scalar(s, "total");
  variance_ = scalar(s, "variance");
  width_ = scalar(s, "width");
  tick_ = scalar(s, "tick");
  if (!(tick_ >= 0.0 && tick_ < 9.0e15 && tick_ == std::floor(tick_))) throw InvalidArgument("ADWIN state: bad tick");
  phase_ = static_cast<std::int64_t>(tick_) % clock_;
  n_detections_ = scalar(s, "n_detections");
}

}  // namespace loopwise::streaming
