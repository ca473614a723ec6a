// KSWIN: Kolmogorov-Smirnov windowing (Raab, Heusinger & Schleif 2020), with CPython's
// Mersenne Twister so a seeded detector draws the same reference samples as river's.
#include <algorithm>
#include <cmath>
#include <unordered_set>

#include "loopwise/common/error.hpp"
#include "loopwise/drift/two_sample.hpp"
#include "loopwise/streaming/detectors.hpp"

namespace loopwise::streaming {

namespace {
constexpr int kN = 624;
constexpr int kM = 397;
}  // namespace

// ---------------------------------------------------------------------- Mersenne Twister
void PyRandom::seed(const std::vector<std::uint32_t>& key_in) {
  // init_genrand(19650218) followed by init_by_array, the reference MT19937 seeding that
  // CPython applies to the 32-bit words of an integer seed.
  std::vector<std::uint32_t> key = key_in.empty() ? std::vector<std::uint32_t>{0u} : key_in;
  mt_[0] = 19650218u;
  for (int i = 1; i < kN; ++i) {
    mt_[i] = 1812433253u * (mt_[i - 1] ^ (mt_[i - 1] >> 30)) + static_cast<std::uint32_t>(i);
  }
  int i = 1;
  std::size_t j = 0;
  for (std::size_t k = std::max<std::size_t>(kN, key.size()); k > 0; --k) {
    mt_[i] = (mt_[i] ^ ((mt_[i - 1] ^ (mt_[i - 1] >> 30)) * 1664525u)) + key[j] + static_cast<std::uint32_t>(j);
    ++i;
    ++j;
    if (i >= kN) {
      mt_[0] = mt_[kN - 1];
      i = 1;
    }
    if (j >= key.size()) j = 0;
  }
  for (int k = kN - 1; k > 0; --k) {
    mt_[i] = (mt_[i] ^ ((mt_[i - 1] ^ (mt_[i - 1] >> 30)) * 1566083941u)) - static_cast<std::uint32_t>(i);
    ++i;
    if (i >= kN) {
      mt_[0] = mt_[kN - 1];
      i = 1;
    }
  }
  mt_[0] = 0x80000000u;
  index_ = kN;
}

std::uint32_t PyRandom::next_u32() {
  constexpr std::uint32_t upper = 0x80000000u, lower = 0x7fffffffu, matrix = 0x9908b0dfu;
  if (index_ >= kN) {
    if (index_ > kN) throw Error("PyRandom used before seeding");
    int k = 0;
    for (; k < kN - kM; ++k) {
      const std::uint32_t y = (mt_[k] & upper) | (mt_[k + 1] & lower);
      mt_[k] = mt_[k + kM] ^ (y >> 1) ^ ((y & 1u) ? matrix : 0u);
    }
    for (; k < kN - 1; ++k) {
      const std::uint32_t y = (mt_[k] & upper) | (mt_[k + 1] & lower);
      mt_[k] = mt_[k + (kM - kN)] ^ (y >> 1) ^ ((y & 1u) ? matrix : 0u);
    }
    const std::uint32_t y = (mt_[kN - 1] & upper) | (mt_[0] & lower);
    mt_[kN - 1] = mt_[kM - 1] ^ (y >> 1) ^ ((y & 1u) ? matrix : 0u);
    index_ = 0;
  }
  std::uint32_t y = mt_[index_++];
  y ^= y >> 11;
  y ^= (y << 7) & 0x9d2c5680u;
  y ^= (y << 15) & 0xefc60000u;
  y ^= y >> 18;
  return y;
}

std::uint64_t PyRandom::below(std::uint64_t n) {
  // CPython's _randbelow: rejection sampling on getrandbits(n.bit_length()).
  int bits = 0;
  while (bits < 64 && (n >> bits) != 0) ++bits;
  if (bits > 32) throw InvalidArgument("KSWIN window too large for the sampler");
  std::uint64_t r = bits == 0 ? 0 : (next_u32() >> (32 - bits));
  while (r >= n) r = bits == 0 ? 0 : (next_u32() >> (32 - bits));
  return r;
}

std::vector<std::int64_t> PyRandom::sample(std::int64_t n, std::int64_t k) {
  if (k < 0 || k > n) throw InvalidArgument("sample larger than population");
  std::vector<std::int64_t> result(static_cast<std::size_t>(k));
  // CPython chooses between a pool and a set of picks by their memory size.
  double setsize = 21.0;
  if (k > 5) setsize += std::pow(4.0, std::ceil(std::log(static_cast<double>(k) * 3.0) / std::log(4.0)));
  if (static_cast<double>(n) <= setsize) {
    std::vector<std::int64_t> pool(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) pool[i] = i;
    for (std::int64_t i = 0; i < k; ++i) {
      const auto j = static_cast<std::int64_t>(below(static_cast<std::uint64_t>(n - i)));
      result[i] = pool[j];
      pool[j] = pool[n - i - 1];
    }
  } else {
    std::unordered_set<std::int64_t> selected;
    for (std::int64_t i = 0; i < k; ++i) {
      auto j = static_cast<std::int64_t>(below(static_cast<std::uint64_t>(n)));
      while (selected.count(j)) j = static_cast<std::int64_t>(below(static_cast<std::uint64_t>(n)));
      selected.insert(j);
      result[i] = j;
    }
  }
  return result;
}

std::vector<double> PyRandom::state() const {
  std::vector<double> s(mt_, mt_ + kN);
  s.push_back(static_cast<double>(index_));
  return s;
}

void PyRandom::load(const std::vector<double>& s) {
  if (s.size() != kN + 1) throw InvalidArgument("KSWIN state: rng must have 625 values");
  for (int i = 0; i < kN; ++i) {
    if (!(s[i] >= 0.0 && s[i] <= 4294967295.0 && s[i] == std::floor(s[i]))) {
      throw InvalidArgument("KSWIN state: rng words must be 32-bit integers");
    }
    mt_[i] = static_cast<std::uint32_t>(s[i]);
  }
  if (!(s[kN] >= 0.0 && s[kN] <= kN)) throw InvalidArgument("KSWIN state: rng index out of range");
  index_ = static_cast<int>(s[kN]);
}

// ---------------------------------------------------------------------------- KSWIN
Kswin::Kswin(double alpha, std::int64_t window_size, std::int64_t stat_size, std::vector<std::uint32_t> seed_key,
             std::vector<double> initial_window)
    : alpha_(alpha), window_size_(window_size), stat_size_(stat_size), seed_key_(std::move(seed_key)) {
  if (!(alpha >= 0.0 && alpha <= 1.0)) throw InvalidArgument("alpha must be in [0, 1]");
  if (stat_size < 1) throw InvalidArgument("stat_size must be >= 1");
  if (window_size <= stat_size) throw InvalidArgument("stat_size must be smaller than window_size");
  clear();
  for (double v : initial_window) {
    // A NaN in the window would stop the KS merge below from advancing.
    if (std::isnan(v)) throw InvalidArgument("KSWIN window must not hold NaN");
    window_.push_back(v);
    if (static_cast<std::int64_t>(window_.size()) > window_size_) window_.erase(window_.begin());
  }
}

void Kswin::clear() {
  window_.clear();
  n_ = 0.0;
  p_value_ = 0.0;
  rng_.seed(seed_key_);
}

void Kswin::step(double x) {
  n_ += 1.0;
  window_.push_back(x);
  if (static_cast<std::int64_t>(window_.size()) > window_size_) window_.erase(window_.begin());
  if (static_cast<std::int64_t>(window_.size()) < window_size_) {
    drift_ = false;
    return;
  }
  const std::int64_t older = window_size_ - stat_size_;
  const auto picks = rng_.sample(older, stat_size_);
  std::vector<double> reference(picks.size()), recent(window_.begin() + older, window_.end());
  for (std::size_t i = 0; i < picks.size(); ++i) reference[i] = window_.at(static_cast<std::size_t>(picks[i]));
  std::sort(reference.begin(), reference.end());
  std::sort(recent.begin(), recent.end());
  // Two-sample KS distance with right-continuous empirical CDFs, evaluated at every value.
  const auto n1 = static_cast<double>(reference.size()), n2 = static_cast<double>(recent.size());
  double d = 0.0;
  std::size_t i = 0, j = 0;
  while (i < reference.size() || j < recent.size()) {
    double v;
    if (j >= recent.size() || (i < reference.size() && reference[i] <= recent[j])) {
      v = reference[i];
    } else {
      v = recent[j];
    }
    const std::size_t i0 = i, j0 = j;
    while (i < reference.size() && reference[i] <= v) ++i;
    while (j < recent.size() && recent[j] <= v) ++j;
    if (i == i0 && j == j0) throw InvalidArgument("KSWIN window holds a value that does not compare (NaN)");
    d = std::max(d, std::fabs(static_cast<double>(i) / n1 - static_cast<double>(j) / n2));
  }
  p_value_ = drift::ks_exact_pvalue(static_cast<std::int64_t>(n1), static_cast<std::int64_t>(n2), d);
  if (p_value_ <= alpha_ && d > 0.1) {
    drift_ = true;
    window_.erase(window_.begin(), window_.begin() + older);  // keep the newest stat_size values
  } else {
    drift_ = false;
  }
}

void Kswin::save(State& s) const {
  s["window"] = window_;
  s["rng"] = rng_.state();
  s["n"] = {n_};
  s["p_value"] = {p_value_};
}

void Kswin::restore(const State& s) {
  const auto& window = array(s, "window");
  if (static_cast<std::int64_t>(window.size()) > window_size_) throw InvalidArgument("KSWIN state: window too long");
  rng_.load(array(s, "rng"));
  window_ = window;
  n_ = scalar(s, "n");
  p_value_ = scalar(s, "p_value");
}

}  // namespace loopwise::streaming
