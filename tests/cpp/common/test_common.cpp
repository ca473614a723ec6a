// Threading helpers and random streams.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <stdexcept>
#include <vector>

#include "loopwise/common/rng.hpp"
#include "loopwise/common/threading.hpp"

TEST(ParallelFor, EveryIndexOnceAndExceptionsRethrown) {
  std::vector<int> hits(10000, 0);
  loopwise::parallel_for(10000, 2, [&](std::int64_t i) { hits[i] += 1; });
  for (int h : hits) EXPECT_EQ(h, 1);
  EXPECT_THROW(loopwise::parallel_for(100, 2,
                                      [&](std::int64_t i) {
                                        if (i == 57) throw std::invalid_argument("row 57");
                                      }),
               std::invalid_argument);
}

TEST(ParallelBlocks, CoversTheRangeExactly) {
  std::vector<int> hits(1003, 0);
  loopwise::parallel_blocks(1003, 64, 2, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t i = begin; i < end; ++i) hits[i] += 1;
  });
  for (int h : hits) EXPECT_EQ(h, 1);
}

TEST(ThreadLease, NeverGrantsLessThanOne) {
  loopwise::ThreadLease a(1000);
  loopwise::ThreadLease b(1000);
  EXPECT_GE(a.count(), 1);
  EXPECT_GE(b.count(), 1);
  EXPECT_LE(a.count(), loopwise::hardware_threads());
}

TEST(Rng, StreamsAreReproducibleAndDistinct) {
  loopwise::Rng a(42, 3), b(42, 3), c(42, 4);
  for (int i = 0; i < 100; ++i) {
    const auto x = a.next_u64();
    EXPECT_EQ(x, b.next_u64());
    EXPECT_NE(x, c.next_u64());
  }
}

TEST(Rng, UniformBelowAndNormalMoments) {
  loopwise::Rng rng(7);
  const int n = 200000;
  double sum = 0, sum_sq = 0;
  std::vector<int> counts(7, 0);
  for (int i = 0; i < n; ++i) {
    const double u = rng.uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    counts[rng.below(7)] += 1;
    const double z = rng.normal();
    sum += z;
    sum_sq += z * z;
  }
  EXPECT_NEAR(sum / n, 0.0, 0.01);
  EXPECT_NEAR(sum_sq / n, 1.0, 0.02);
  for (int c : counts) EXPECT_NEAR(c, n / 7.0, 5 * std::sqrt(n / 7.0));
}
