// Two-sample statistics and exact p-values against brute-force enumeration.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "loopwise/common/error.hpp"
#include "loopwise/common/rng.hpp"
#include "loopwise/drift/column_compare.hpp"
#include "loopwise/drift/mmd.hpp"
#include "loopwise/drift/two_sample.hpp"

namespace drift = loopwise::drift;

namespace {

drift::Sorted view(const std::vector<double>& v) { return drift::Sorted{v.data(), static_cast<std::int64_t>(v.size())}; }

/// Calls f(mask) for every way to choose n of n + m pooled ranks for the first sample.
template <class F>
void for_each_split(int n, int m, F&& f) {
  std::vector<int> mask(n + m, 0);
  std::fill(mask.begin(), mask.begin() + n, 1);
  std::sort(mask.begin(), mask.end());
  do {
    f(mask);
  } while (std::next_permutation(mask.begin(), mask.end()));
}

void split_values(const std::vector<int>& mask, std::vector<double>& a, std::vector<double>& b) {
  a.clear();
  b.clear();
  for (std::size_t i = 0; i < mask.size(); ++i) (mask[i] ? a : b).push_back(static_cast<double>(i));
}

}  // namespace

TEST(TwoSample, KsExactPvalueMatchesEnumeration) {
  for (auto [n, m] : std::vector<std::pair<int, int>>{{5, 6}, {6, 6}, {4, 9}, {7, 5}}) {
    std::vector<double> ds, a, b;
    for_each_split(n, m, [&](const std::vector<int>& mask) {
      split_values(mask, a, b);
      ds.push_back(drift::ks_statistic(view(a), view(b)));
    });
    for (double d : {ds[0], ds[ds.size() / 3], ds[ds.size() / 2]}) {
      const double tail = static_cast<double>(std::count_if(ds.begin(), ds.end(), [&](double x) { return x >= d - 1e-12; }));
      EXPECT_NEAR(drift::ks_exact_pvalue(n, m, d), tail / static_cast<double>(ds.size()), 1e-12) << n << "x" << m;
    }
  }
}

TEST(TwoSample, CvmExactPvalueMatchesEnumeration) {
  const int n = 5, m = 7;
  std::vector<double> us, a, b;
  for_each_split(n, m, [&](const std::vector<int>& mask) {
    split_values(mask, a, b);
    us.push_back(drift::cvm_u_statistic(view(a), view(b)));
  });
  for (double u : {us[1], us[us.size() / 4], us[us.size() / 2]}) {
    const double tail = static_cast<double>(std::count_if(us.begin(), us.end(), [&](double x) { return x >= u - 1e-9; }));
    EXPECT_NEAR(drift::cvm_exact_pvalue(u, n, m), tail / static_cast<double>(us.size()), 1e-12);
  }
}

TEST(TwoSample, KsStatisticWithTiesMatchesDefinition) {
  const std::vector<double> a{1, 1, 2, 3, 3, 3}, b{1, 2, 2, 4};
  double best = 0.0;
  for (double t : {0.0, 1.0, 2.0, 3.0, 4.0}) {
    const double fa = std::count_if(a.begin(), a.end(), [&](double x) { return x <= t; }) / 6.0;
    const double fb = std::count_if(b.begin(), b.end(), [&](double x) { return x <= t; }) / 4.0;
    best = std::max(best, std::fabs(fa - fb));
  }
  EXPECT_DOUBLE_EQ(drift::ks_statistic(view(a), view(b)), best);
}

TEST(TwoSample, WassersteinOfEqualSizesIsMeanSortedGap) {
  loopwise::Rng rng(1);
  std::vector<double> a(200), b(200);
  for (auto& x : a) x = rng.normal();
  for (auto& x : b) x = rng.normal() + 0.3;
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  double gap = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) gap += std::fabs(a[i] - b[i]);
  EXPECT_NEAR(drift::wasserstein1(view(a), view(b)), gap / 200.0, 1e-12);
}

TEST(TwoSample, EmptySampleThrows) {
  const std::vector<double> a{1.0}, empty;
  EXPECT_THROW(drift::ks_statistic(view(a), view(empty)), loopwise::InvalidArgument);
  EXPECT_THROW(drift::ks_exact_pvalue(0, 3, 0.5), loopwise::InvalidArgument);
}

TEST(SortSamples, DropsNanNormalisesZeroAndRejectsInf) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  std::vector<double> big(10000);
  loopwise::Rng rng(3);
  for (auto& x : big) x = rng.normal() * 1e3;
  big[5] = nan;
  big[6] = -0.0;
  std::vector<double> small{3.0, nan, -1.0};
  auto sorted = drift::sort_samples({{big.data(), 10000, 1}, {small.data(), 3, 1}}, 2);
  std::vector<double> expected;
  for (double x : big)
    if (!std::isnan(x)) expected.push_back(x);
  std::sort(expected.begin(), expected.end());
  ASSERT_EQ(sorted[0].size(), 9999u);
  EXPECT_EQ(sorted[0], expected);  // radix path equals std::sort
  EXPECT_FALSE(std::signbit(*std::find(sorted[0].begin(), sorted[0].end(), 0.0)));
  EXPECT_EQ(sorted[1], (std::vector<double>{-1.0, 3.0}));
  std::vector<double> bad{1.0, std::numeric_limits<double>::infinity()};
  EXPECT_THROW(drift::sort_samples({{bad.data(), 2, 1}}, 1), loopwise::InvalidArgument);
}

TEST(Mmd, MatchesBruteForceAndIsThreadIndependent) {
  loopwise::Rng rng(7);
  const int n = 300, m = 260, d = 3;
  std::vector<double> x(n * d), y(m * d);
  for (auto& v : x) v = rng.normal();
  for (auto& v : y) v = rng.normal() + 0.2;
  const double bw = 1.3;
  auto k = [&](const double* p, const double* q) {
    double s = 0.0;
    for (int t = 0; t < d; ++t) s += (p[t] - q[t]) * (p[t] - q[t]);
    return std::exp(-s / (2 * bw * bw));
  };
  double sxx = 0, syy = 0, sxy = 0;
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j)
      if (i != j) sxx += k(&x[i * d], &x[j * d]);
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < m; ++j)
      if (i != j) syy += k(&y[i * d], &y[j * d]);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < m; ++j) sxy += k(&x[i * d], &y[j * d]);
  const double expected = sxx / (n * (n - 1.0)) + syy / (m * (m - 1.0)) - 2.0 * sxy / (double(n) * m);
  loopwise::MatrixView<double> vx(x.data(), n, d), vy(y.data(), m, d);
  const auto one = drift::mmd_permutation_test(vx, vy, bw, 30, 5, 1);
  const auto two = drift::mmd_permutation_test(vx, vy, bw, 30, 5, 2);
  EXPECT_NEAR(one.statistic, expected, 1e-10);
  EXPECT_EQ(one.statistic, two.statistic);
  EXPECT_EQ(one.null_statistics, two.null_statistics);
  EXPECT_THROW(drift::mmd_permutation_test(vx, loopwise::MatrixView<double>(y.data(), 1, d), bw, 3, 1, 1),
               loopwise::InvalidArgument);
}
