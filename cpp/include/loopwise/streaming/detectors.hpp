#pragma once
/// Streaming drift detectors with explicit, serialisable state.
///
/// Every detector follows the same protocol: `update(x)` consumes one value and returns
/// whether a drift was detected at that value; a detector that signalled drift starts
/// afresh on the next value (the convention of river, whose results these match).
/// `state()`/`load()` expose the complete state as named arrays of doubles so the Python
/// layer can pickle it or write it as JSON and continue identically later.
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace loopwise::streaming {

/// Complete state of a detector: named arrays of doubles (JSON friendly).
using State = std::map<std::string, std::vector<double>>;

/// Common interface of the detectors.
///
/// Every public member takes the detector's own mutex: the binding releases the GIL during
/// update_many, so two Python threads may drive one detector at once, and without the lock
/// they would reallocate the same window concurrently (heap corruption). Subclass accessors
/// take the same lock through `Guard`.
class Detector {
 public:
  Detector() = default;
  Detector(const Detector&) = delete;
  Detector& operator=(const Detector&) = delete;
  virtual ~Detector() = default;
  /// Consumes one value; returns drift_detected().
  bool update(double x);
  /// Runs update() over n values; returns the positions where drift was detected and, when
  /// `warnings` is non-null, appends the positions where a warning was raised.
  std::vector<std::int64_t> update_many(const double* values, std::int64_t n, std::int64_t stride,
                                        std::vector<std::int64_t>* warnings);
  bool drift_detected() const {
    Guard lock(mutex_);
    return drift_;
  }
  bool warning_detected() const {
    Guard lock(mutex_);
    return warning_;
  }
  /// Forgets everything seen so far.
  void reset() {
    Guard lock(mutex_);
    reset_unlocked();
  }
  /// Full state, including the detection flags.
  State state() const;
  /// Restores a state produced by state() of a detector with the same parameters.
  void load(const State& s);

 protected:
  using Guard = std::lock_guard<std::mutex>;
  /// Reads one field under the lock (accessors of subclasses).
  double locked(const double& field) const {
    Guard lock(mutex_);
    return field;
  }
  /// Consumes one value after the post-drift reset; sets drift_ / warning_.
  virtual void step(double x) = 0;
  virtual void clear() = 0;
  virtual void save(State& s) const = 0;
  virtual void restore(const State& s) = 0;
  bool drift_ = false;
  bool warning_ = false;
  mutable std::mutex mutex_;

 private:
  bool update_unlocked(double x);
  void reset_unlocked() {
    drift_ = false;
    warning_ = false;
    clear();
  }
};

/// Scalar field of a state; throws InvalidArgument when missing or not a scalar.
double scalar(const State& s, const char* key);
/// Array field of a state; throws InvalidArgument when missing.
const std::vector<double>& array(const State& s, const char* key);

/// ADWIN2 (Bifet & Gavaldà 2007): adaptive window kept as an exponential histogram of
/// buckets; a cut is tested every `clock` values once more than `grace_period` arrived.
class Adwin : public Detector {
 public:
  Adwin(double delta, std::int64_t clock, std::int64_t max_buckets, std::int64_t min_window_length,
        std::int64_t grace_period);
  double width() const { return locked(width_); }
  double total() const { return locked(total_); }
  double variance() const { return locked(variance_); }
  double n_detections() const { return locked(n_detections_); }

 protected:
  void step(double x) override;
  void clear() override;
  void save(State& s) const override;
  void restore(const State& s) override;

 private:
  /// One row of the histogram: buckets of 2^row values in a ring of at least max_buckets + 1
  /// slots (a power of two, so positions wrap with a mask).
  struct Row {
    std::vector<double> total;
    std::vector<double> variance;
    std::size_t head = 0;   ///< slot of the oldest bucket
    std::size_t count = 0;  ///< buckets in the row
  };
  /// Slot of the k-th oldest bucket of a row.
  std::size_t slot(const Row& row, std::size_t k) const {
    return (row.head + k) & ring_mask_;
  }
  Row new_row() const;
  void push(Row& row, double total, double variance) const;
  void pop(Row& row, std::size_t n) const;
  void insert(double value);
  void compress();
  double drop_oldest();
  bool detect();
  bool surely_no_cut(double n0, double n1, double u0, double u1) const;
  bool cut(double n0, double n1, double mean_gap) const;

  double delta_;
  std::int64_t clock_, max_buckets_, min_window_length_, grace_period_;
  std::vector<Row> rows_;  ///< rows_[0] holds single values (newest); the last row the oldest
  double total_ = 0.0, variance_ = 0.0, width_ = 0.0;
  double tick_ = 0.0, n_detections_ = 0.0;
  std::int64_t phase_ = 0;        ///< tick % clock
  std::size_t ring_mask_ = 7;     ///< ring size - 1
  double delta_prime_ = 0.0;      ///< log(2 log(width) / delta), cached per detection pass
  double window_variance_ = 0.0;  ///< variance / width, cached per detection pass
};

/// Page-Hinkley test for a change in the mean (Page 1954), with a fading factor.
class PageHinkley : public Detector {
 public:
  /// mode: 0 up, 1 down, 2 both.
  PageHinkley(std::int64_t min_instances, double delta, double threshold, double alpha, int mode);

 protected:
  void step(double x) override;
  void clear() override;
  void save(State& s) const override;
  void restore(const State& s) override;

 private:
  std::int64_t min_instances_;
  double delta_, threshold_, alpha_;
  int mode_;
  double n_ = 0.0, mean_ = 0.0, sum_increase_ = 0.0, sum_decrease_ = 0.0;
  double min_increase_, max_decrease_;
};

/// Mersenne Twister MT19937 with the seeding and sampling of CPython's `random` module, so
/// that KSWIN draws the same reference sample as river for the same seed.
class PyRandom {
 public:
  /// Seeds like random.Random(seed) for a non-negative integer seed given as 32-bit words
  /// (least significant first).
  void seed(const std::vector<std::uint32_t>& key);
  std::uint32_t next_u32();
  /// random.Random.sample(range(n), k).
  std::vector<std::int64_t> sample(std::int64_t n, std::int64_t k);
  std::vector<double> state() const;
  void load(const std::vector<double>& s);

 private:
  std::uint64_t below(std::uint64_t n);
  std::uint32_t mt_[624] = {};
  int index_ = 625;
};

/// KSWIN (Raab et al. 2020): Kolmogorov-Smirnov test between the newest `stat_size` values
/// of a sliding window and a random sample of its older part.
class Kswin : public Detector {
 public:
  Kswin(double alpha, std::int64_t window_size, std::int64_t stat_size, std::vector<std::uint32_t> seed_key,
        std::vector<double> initial_window);
  double p_value() const { return locked(p_value_); }

 protected:
  void step(double x) override;
  void clear() override;
  void save(State& s) const override;
  void restore(const State& s) override;

 private:
  double alpha_;
  std::int64_t window_size_, stat_size_;
  std::vector<std::uint32_t> seed_key_;
  std::vector<double> window_;  ///< oldest first, at most window_size_ values
  PyRandom rng_;
  double n_ = 0.0, p_value_ = 0.0;
};

/// DDM (Gama et al. 2004): error rate p and its binomial deviation s against their minimum.
class Ddm : public Detector {
 public:
  Ddm(std::int64_t warm_start, double warning_threshold, double drift_threshold);

 protected:
  void step(double x) override;
  void clear() override;
  void save(State& s) const override;
  void restore(const State& s) override;

 private:
  std::int64_t warm_start_;
  double warning_threshold_, drift_threshold_;
  double n_ = 0.0, p_ = 0.0, p_min_ = 0.0, s_min_ = 0.0, ps_min_;
};

/// EDDM (Baena-García et al. 2006): distance between consecutive errors.
class Eddm : public Detector {
 public:
  Eddm(std::int64_t warm_start, double alpha, double beta);

 protected:
  void step(double x) override;
  void clear() override;
  void save(State& s) const override;
  void restore(const State& s) override;

 private:
  std::int64_t warm_start_;
  double alpha_, beta_;
  double n_ = 0.0, last_error_ = 0.0, n_errors_ = 0.0;
  double dist_n_ = 0.0, dist_mean_ = 0.0, dist_s_ = 0.0, p2s_max_ = -1.0;
};

/// HDDM_A (Frías-Blanco et al. 2015): Hoeffding bounds on moving averages.
class HddmA : public Detector {
 public:
  HddmA(double drift_confidence, double warning_confidence, bool two_sided);

 protected:
  void step(double x) override;
  void clear() override;
  void save(State& s) const override;
  void restore(const State& s) override;

 private:
  double bound(double n) const;
  bool increased(double confidence) const;
  bool decreased(double confidence) const;
  double drift_confidence_, warning_confidence_;
  bool two_sided_;
  // (count, mean) of the whole stream and of the two cut points.
  double z_n_ = 0.0, z_mean_ = 0.0, min_n_ = 0.0, min_mean_ = 0.0, max_n_ = 0.0, max_mean_ = 0.0;
};

/// HDDM_W (Frías-Blanco et al. 2015): McDiarmid bounds on exponentially weighted averages.
class HddmW : public Detector {
 public:
  HddmW(double drift_confidence, double warning_confidence, double lambda, bool two_sided);

 protected:
  void step(double x) override;
  void clear() override;
  void save(State& s) const override;
  void restore(const State& s) override;

 private:
  /// Exponentially weighted mean and its independent bound condition.
  struct Sample {
    double ewma = 0.0, ibc = 1.0, n = 0.0;  // n > 0 means initialised
  };
  void add(Sample& s, double x) const;
  static bool changed(const Sample& first, const Sample& second, double confidence);
  double drift_confidence_, warning_confidence_, lambda_;
  bool two_sided_;
  Sample total_, s1_incr_, s2_incr_, s1_decr_, s2_decr_;
  double incr_cut_, decr_cut_;
};

}  // namespace loopwise::streaming
