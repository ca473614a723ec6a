// Streaming detectors: detections on known change points, state round-trips, CPython RNG.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <memory>
#include <random>
#include <thread>
#include <utility>
#include <vector>

#include "loopwise/common/error.hpp"
#include "loopwise/streaming/detectors.hpp"

namespace st = loopwise::streaming;

namespace {

std::vector<double> shifted_stream(unsigned seed, int n_before, int n_after, double shift) {
  std::mt19937_64 gen(seed);
  std::normal_distribution<double> noise(0.0, 0.3);
  std::vector<double> values;
  for (int i = 0; i < n_before + n_after; ++i) values.push_back(noise(gen) + (i >= n_before ? shift : 0.0));
  return values;
}

std::vector<double> error_stream(unsigned seed, int n_before, int n_after, double p0, double p1) {
  std::mt19937_64 gen(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<double> values;
  for (int i = 0; i < n_before + n_after; ++i) values.push_back(u(gen) < (i >= n_before ? p1 : p0) ? 1.0 : 0.0);
  return values;
}

std::vector<std::unique_ptr<st::Detector>> all_detectors() {
  std::vector<std::unique_ptr<st::Detector>> d;
  d.push_back(std::make_unique<st::Adwin>(0.002, 32, 5, 5, 10));
  d.push_back(std::make_unique<st::PageHinkley>(30, 0.005, 20.0, 0.9999, 2));
  d.push_back(std::make_unique<st::Kswin>(0.005, 100, 30, std::vector<std::uint32_t>{42u}, std::vector<double>{}));
  d.push_back(std::make_unique<st::Ddm>(30, 2.0, 3.0));
  d.push_back(std::make_unique<st::Eddm>(30, 0.95, 0.9));
  d.push_back(std::make_unique<st::HddmA>(0.001, 0.005, true));
  d.push_back(std::make_unique<st::HddmW>(0.001, 0.005, 0.05, true));
  return d;
}

}  // namespace

TEST(Detectors, DetectAShiftSoonAfterTheChange) {
  const auto values = shifted_stream(1, 2000, 2000, 2.0);
  const auto errors = error_stream(2, 2000, 2000, 0.1, 0.6);
  auto detectors = all_detectors();
  for (std::size_t k = 0; k < detectors.size(); ++k) {
    const auto& stream = k < 3 ? values : errors;
    auto drifts = detectors[k]->update_many(stream.data(), static_cast<std::int64_t>(stream.size()), 1, nullptr);
    std::vector<std::int64_t> after;
    for (auto i : drifts) {
      if (i >= 2000) after.push_back(i);
    }
    ASSERT_FALSE(after.empty()) << "detector " << k;
    EXPECT_LT(after.front(), 2400) << "detector " << k;
  }
}

TEST(Detectors, StateRoundTripContinuesIdentically) {
  const auto values = shifted_stream(3, 1500, 1500, 1.5);
  const auto errors = error_stream(4, 1500, 1500, 0.1, 0.5);
  auto reference = all_detectors();
  auto first = all_detectors();
  auto second = all_detectors();
  for (std::size_t k = 0; k < reference.size(); ++k) {
    const auto& stream = k < 3 ? values : errors;
    const auto n = static_cast<std::int64_t>(stream.size());
    const auto whole = reference[k]->update_many(stream.data(), n, 1, nullptr);
    auto head = first[k]->update_many(stream.data(), 1600, 1, nullptr);
    second[k]->load(first[k]->state());
    for (auto i : second[k]->update_many(stream.data() + 1600, n - 1600, 1, nullptr)) head.push_back(i + 1600);
    EXPECT_EQ(head, whole) << "detector " << k;
  }
}

TEST(Detectors, ResetForgetsTheStream) {
  const auto values = shifted_stream(5, 500, 500, 3.0);
  st::Adwin adwin(0.002, 32, 5, 5, 10);
  const auto first = adwin.update_many(values.data(), 1000, 1, nullptr);
  adwin.reset();
  EXPECT_EQ(adwin.width(), 0.0);
  EXPECT_EQ(adwin.update_many(values.data(), 1000, 1, nullptr), first);
}

TEST(Detectors, RejectBadParametersAndStates) {
  EXPECT_THROW(st::Adwin(0.0, 32, 5, 5, 10), loopwise::InvalidArgument);
  EXPECT_THROW(st::Adwin(0.002, 0, 5, 5, 10), loopwise::InvalidArgument);
  EXPECT_THROW(st::PageHinkley(30, 0.005, 50.0, 0.9999, 7), loopwise::InvalidArgument);
  EXPECT_THROW(st::Kswin(0.005, 30, 30, {1u}, {}), loopwise::InvalidArgument);
  EXPECT_THROW(st::Eddm(30, 0.5, 0.9), loopwise::InvalidArgument);
  EXPECT_THROW(st::HddmW(0.001, 0.005, 1.5, false), loopwise::InvalidArgument);
  st::Adwin adwin(0.002, 32, 5, 5, 10);
  auto state = adwin.state();
  state["row_sizes"] = {99.0};
  EXPECT_THROW(adwin.load(state), loopwise::InvalidArgument);
  state.erase("row_sizes");
  EXPECT_THROW(adwin.load(state), loopwise::InvalidArgument);
  st::Kswin kswin(0.005, 100, 30, {1u}, {});
  auto kstate = kswin.state();
  kstate["rng"].pop_back();
  EXPECT_THROW(kswin.load(kstate), loopwise::InvalidArgument);
}

TEST(PyRandom, MatchesCPython) {
  // Values printed by CPython: random.Random(42).getrandbits(32) and .sample(range(...), 5).
  st::PyRandom rng;
  rng.seed({42u});
  EXPECT_EQ(rng.next_u32(), 2746317213u);
  rng.seed({42u});
  EXPECT_EQ(rng.sample(70, 5), (std::vector<std::int64_t>{14, 3, 35, 31, 28}));
  rng.seed({3u, 256u});  // 2**40 + 3
  EXPECT_EQ(rng.sample(1000, 5), (std::vector<std::int64_t>{225, 62, 562, 853, 96}));
}

// Issue 15: one detector driven by several threads (the binding releases the GIL in
// update_many) corrupted the heap. With the detector's own mutex every call is atomic, so
// threads making identical calls end in the state of the same calls made one after another.
TEST(Detectors, ThreadsSharingOneDetectorMatchASerialRun) {
  const auto values = shifted_stream(11, 300, 300, 2.0);
  const auto errors = error_stream(12, 300, 300, 0.1, 0.5);
  const int n_threads = 8, repeats = 5;
  auto shared = all_detectors();
  auto serial = all_detectors();
  for (std::size_t k = 0; k < shared.size(); ++k) {
    const auto& stream = k >= 3 ? errors : values;
    std::vector<std::thread> threads;
    for (int t = 0; t < n_threads; ++t) {
      threads.emplace_back([&, k] {
        for (int r = 0; r < repeats; ++r) shared[k]->update_many(stream.data(), static_cast<std::int64_t>(stream.size()), 1, nullptr);
      });
    }
    for (auto& thread : threads) thread.join();
    for (int r = 0; r < n_threads * repeats; ++r) {
      serial[k]->update_many(stream.data(), static_cast<std::int64_t>(stream.size()), 1, nullptr);
    }
    EXPECT_EQ(shared[k]->state(), serial[k]->state()) << "detector " << k;
  }
}

// Issue 15: a NaN in KSWIN's window made the KS merge loop forever; NaN is refused on the
// way in (values, initial window, loaded state) and a batch with NaN changes nothing.
TEST(Detectors, NaNIsRefusedEverywhere) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  EXPECT_THROW(st::Kswin(0.005, 10, 3, {1u}, {1.0, nan}), loopwise::InvalidArgument);
  for (auto& detector : all_detectors()) {
    const auto before = detector->state();
    const std::vector<double> batch{0.0, 1.0, nan, 0.0};
    EXPECT_THROW(detector->update_many(batch.data(), 4, 1, nullptr), loopwise::InvalidArgument);
    EXPECT_EQ(detector->state(), before);
    EXPECT_THROW(detector->update(nan), loopwise::InvalidArgument);
  }
  st::Kswin kswin(0.005, 10, 3, {1u}, {});
  for (int i = 0; i < 12; ++i) kswin.update(i);
  auto state = kswin.state();
  state["window"][0] = nan;
  EXPECT_THROW(kswin.load(state), loopwise::InvalidArgument);
}

TEST(Detectors, PageHinkleyRefusesNonFiniteParameters) {
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_THROW(st::PageHinkley(30, std::numeric_limits<double>::quiet_NaN(), 50.0, 0.9999, 2), loopwise::InvalidArgument);
  EXPECT_THROW(st::PageHinkley(30, 0.005, inf, 0.9999, 2), loopwise::InvalidArgument);
}

namespace {

// ADWIN's decision written out plainly, as the paper states it, for the regime where no
// buckets merge (max_buckets above the stream length): every value is its own bucket, so
// every split of the window is tested. After each value the window shrinks from the oldest
// end while some split W0 | W1 (both at least min_length) has
//   |mean(W0) - mean(W1)| > sqrt(2 m V d') + 2/3 d' m,
// with m = 1/(n0 - min + 1) + 1/(n1 - min + 1), V the window's variance and
// d' = ln(2 ln(W) / delta). As every detector here, it starts afresh on the value after a
// detection. Returns the positions where it detected and the final width.
std::pair<std::vector<std::int64_t>, std::size_t> plain_adwin(const std::vector<double>& stream, double delta,
                                                               std::size_t min_length, std::size_t grace) {
  std::vector<double> window;
  std::vector<std::int64_t> detections;
  bool detected = false;
  for (std::size_t t = 0; t < stream.size(); ++t) {
    if (detected) window.clear();
    window.push_back(stream[t]);
    detected = false;
    bool shrink = window.size() > grace;
    while (shrink) {
      shrink = false;
      const double w = static_cast<double>(window.size());
      double total = 0.0;
      for (double v : window) total += v;
      double squares = 0.0;
      for (double v : window) squares += (v - total / w) * (v - total / w);
      const double variance = squares / w;
      const double d_prime = std::log(2.0 * std::log(w) / delta);
      double head = 0.0;
      for (std::size_t n0 = 1; n0 < window.size(); ++n0) {
        head += window[n0 - 1];
        const std::size_t n1 = window.size() - n0;
        if (n0 < min_length || n1 < min_length) continue;
        const double m = 1.0 / (n0 - min_length + 1.0) + 1.0 / (n1 - min_length + 1.0);
        const double gap = std::fabs(head / n0 - (total - head) / n1);
        if (gap > std::sqrt(2.0 * m * variance * d_prime) + 2.0 / 3.0 * d_prime * m) {
          window.erase(window.begin());
          detected = shrink = true;
          break;
        }
      }
    }
    if (detected) detections.push_back(static_cast<std::int64_t>(t));
  }
  return {detections, window.size()};
}

}  // namespace

TEST(Detectors, AdwinDecidesAsThePlainRuleDoes) {
  // Decisions, not arithmetic: the positions of every detection and the window that remains
  // must be those of the rule above, on a mean shift, an error-rate rise and a stationary
  // stream. A changed constant in the cut condition moves the detections.
  const std::vector<std::vector<double>> streams{
      shifted_stream(7, 250, 250, 0.4), error_stream(8, 250, 250, 0.2, 0.5), shifted_stream(9, 500, 0, 0.0)};
  const double delta = 0.01;
  const std::size_t min_length = 5, grace = 10;
  std::size_t total_detections = 0;
  for (std::size_t k = 0; k < streams.size(); ++k) {
    const auto& stream = streams[k];
    const auto [expected, expected_width] = plain_adwin(stream, delta, min_length, grace);
    st::Adwin adwin(delta, 1, 1 << 12, static_cast<std::int64_t>(min_length), static_cast<std::int64_t>(grace));
    const auto found = adwin.update_many(stream.data(), static_cast<std::int64_t>(stream.size()), 1, nullptr);
    EXPECT_EQ(found, expected) << "stream " << k;
    EXPECT_EQ(adwin.width(), static_cast<double>(expected_width)) << "stream " << k;
    total_detections += expected.size();
  }
  EXPECT_GE(total_detections, 2u) << "the streams must make the rule decide something";
}
