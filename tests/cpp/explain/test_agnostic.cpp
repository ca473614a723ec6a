// KernelSHAP design and solver, permutation/exact solvers, coalition rows, LIME core.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>
#include <set>
#include <stdexcept>
#include <vector>

#include "loopwise/common/rng.hpp"
#include "loopwise/explain/agnostic.hpp"

namespace ex = loopwise::explain;

namespace {

// A game with interactions of every order up to 3: v(S) = sum a_j + sum b_jk + c_{012}.
double game(std::int64_t pattern, std::int64_t M) {
  double v = 0.0;
  for (std::int64_t j = 0; j < M; ++j)
    if (pattern >> j & 1) v += 0.5 * (j + 1);
  for (std::int64_t j = 0; j + 1 < M; ++j)
    if ((pattern >> j & 1) && (pattern >> (j + 1) & 1)) v += std::sin(1.0 + j);
  if ((pattern & 7) == 7) v += 2.5;
  return v;
}

// Brute-force Shapley values: average marginal contribution over all M! orders.
std::vector<double> brute_force(std::int64_t M) {
  std::vector<std::int64_t> order(M);
  std::iota(order.begin(), order.end(), 0);
  std::vector<double> phi(M, 0.0);
  double count = 0.0;
  do {
    std::int64_t pattern = 0;
    for (auto j : order) {
      const double before = game(pattern, M);
      pattern |= std::int64_t{1} << j;
      phi[j] += game(pattern, M) - before;
    }
    count += 1.0;
  } while (std::next_permutation(order.begin(), order.end()));
  for (auto& p : phi) p /= count;
  return phi;
}

std::int64_t pattern_of(const ex::KernelDesign& d, std::int64_t c) {
  std::int64_t pattern = 0;
  for (std::int64_t j = 0; j < d.n_features; ++j)
    if (d.masks[c * d.n_features + j]) pattern |= std::int64_t{1} << j;
  return pattern;
}

}  // namespace

TEST(KernelDesign, FullEnumerationWhenItFits) {
  const auto d = ex::kernel_design(5, 30, 1);
  EXPECT_EQ(d.n_masks, 30);
  EXPECT_EQ(d.n_enumerated, 30);
  EXPECT_EQ(d.n_pairs(), 0);
  EXPECT_DOUBLE_EQ(d.sampled_weight, 0.0);
  const double total = std::accumulate(d.enumerated_weights.begin(), d.enumerated_weights.end(), 0.0);
  EXPECT_NEAR(total, 1.0, 1e-12);
  std::set<std::int64_t> patterns;
  for (std::int64_t c = 0; c < d.n_masks; ++c) patterns.insert(pattern_of(d, c));
  EXPECT_EQ(patterns.size(), 30u);
  EXPECT_EQ(patterns.count(0), 0u);
  EXPECT_EQ(patterns.count(31), 0u);
}

TEST(KernelDesign, EnumeratesOuterSizesThenSamplesPairedComplements) {
  const std::int64_t M = 12;
  const auto d = ex::kernel_design(M, 2 * M + 2048, 7);
  EXPECT_LE(d.n_masks, 2 * M + 2048);
  // Sizes 1, 2, 3 and their complements: 2 * (12 + 66 + 220) coalitions.
  EXPECT_EQ(d.n_enumerated, 596);
  EXPECT_GT(d.n_pairs(), 100);
  EXPECT_GT(d.sampled_weight, 0.0);
  const double enumerated = std::accumulate(d.enumerated_weights.begin(), d.enumerated_weights.end(), 0.0);
  EXPECT_NEAR(enumerated + d.sampled_weight, 1.0, 1e-12);
  std::int64_t previous = d.n_enumerated;
  for (std::int64_t p = 0; p < d.n_pairs(); ++p) {
    const auto a = pattern_of(d, d.pairs[2 * p]), b = pattern_of(d, d.pairs[2 * p + 1]);
    EXPECT_EQ(a ^ b, (std::int64_t{1} << M) - 1);
    const int size = __builtin_popcountll(a);
    EXPECT_GE(size, 4);
    EXPECT_LE(size, 8);
    EXPECT_GE(d.masks_needed[p], previous);
    EXPECT_LE(d.pairs[2 * p], d.masks_needed[p] - 1);
    previous = d.masks_needed[p];
  }
  const auto again = ex::kernel_design(M, 2 * M + 2048, 7);
  EXPECT_EQ(again.masks, d.masks);
  EXPECT_EQ(again.pairs, d.pairs);
  const auto other = ex::kernel_design(M, 2 * M + 2048, 8);
  EXPECT_NE(other.pairs, d.pairs);
}

TEST(KernelDesign, RejectsBadArguments) {
  EXPECT_THROW(ex::kernel_design(1, 100, 0), std::invalid_argument);
  EXPECT_THROW(ex::kernel_design(5, 1, 0), std::invalid_argument);
}

TEST(KernelSolve, FullEnumerationIsExactShapley) {
  const std::int64_t M = 6;
  const auto d = ex::kernel_design(M, 1000, 0);
  std::vector<double> values(d.n_masks);
  for (std::int64_t c = 0; c < d.n_masks; ++c) values[c] = game(pattern_of(d, c), M);
  const double base = game(0, M), full = game((1 << M) - 1, M);
  std::vector<double> phi(M), se(M);
  ex::kernel_solve(d, 0, values.data(), 1, d.n_masks, 1, &base, &full, phi.data(), se.data(), 1);
  const auto truth = brute_force(M);
  for (std::int64_t j = 0; j < M; ++j) {
    EXPECT_NEAR(phi[j], truth[j], 1e-10);
    EXPECT_EQ(se[j], 0.0);
  }
}

TEST(KernelSolve, SampledDesignRecoversAdditiveGameWithZeroError) {
  const std::int64_t M = 14;
  const auto d = ex::kernel_design(M, 300, 3);
  ASSERT_GT(d.n_pairs(), 2);
  std::vector<double> values(d.n_masks);
  for (std::int64_t c = 0; c < d.n_masks; ++c) {
    double v = 1.0;
    for (std::int64_t j = 0; j < M; ++j) v += d.masks[c * M + j] * (j - 3.0);
    values[c] = v;
  }
  const double base = 1.0;
  double full = 1.0;
  for (std::int64_t j = 0; j < M; ++j) full += j - 3.0;
  std::vector<double> phi(M), se(M);
  ex::kernel_solve(d, d.n_pairs(), values.data(), 1, d.n_masks, 1, &base, &full, phi.data(), se.data(), 2);
  for (std::int64_t j = 0; j < M; ++j) {
    EXPECT_NEAR(phi[j], j - 3.0, 1e-9);
    EXPECT_NEAR(se[j], 0.0, 1e-9);
  }
  EXPECT_THROW(ex::kernel_solve(d, d.n_pairs() + 1, values.data(), 1, d.n_masks, 1, &base, &full, phi.data(),
                                se.data(), 1),
               std::invalid_argument);
  EXPECT_THROW(ex::kernel_solve(d, d.n_pairs(), values.data(), 1, d.n_enumerated, 1, &base, &full, phi.data(),
                                se.data(), 1),
               std::invalid_argument);
}

TEST(ExactSolve, MatchesBruteForceAndIsEfficient) {
  const std::int64_t M = 5;
  std::vector<double> values(std::size_t{1} << M);
  for (std::int64_t s = 0; s < (1 << M); ++s) values[s] = game(s, M);
  std::vector<double> phi(M);
  ex::exact_solve(M, values.data(), 1, 1, phi.data(), 2);
  const auto truth = brute_force(M);
  double total = 0.0;
  for (std::int64_t j = 0; j < M; ++j) {
    EXPECT_NEAR(phi[j], truth[j], 1e-12);
    total += phi[j];
  }
  EXPECT_NEAR(total, game((1 << M) - 1, M) - game(0, M), 1e-12);
  EXPECT_THROW(ex::exact_solve(31, values.data(), 1, 1, phi.data(), 1), std::invalid_argument);
}

TEST(Permutation, AntitheticPairsAreEfficientAndExactForPairwiseGames) {
  const std::int64_t M = 6;
  const auto d = ex::permutation_design(M, 3, 11);
  ASSERT_EQ(d.n_permutations, 6);
  const std::int64_t n_masks = d.n_masks();
  ASSERT_EQ(n_masks, 2 + 6 * (M - 1));
  // Reverse orders really are reversed.
  for (std::int64_t t = 0; t < M; ++t) EXPECT_EQ(d.orders[t], d.orders[M + M - 1 - t]);
  std::vector<double> values(n_masks), pairwise(n_masks);
  for (std::int64_t c = 0; c < n_masks; ++c) {
    std::int64_t pattern = 0;
    for (std::int64_t j = 0; j < M; ++j)
      if (d.masks[c * M + j]) pattern |= std::int64_t{1} << j;
    values[c] = game(pattern, M);
    // Only pairwise interactions: antithetic orders split each one exactly in half.
    pairwise[c] = game(pattern, M) - ((pattern & 7) == 7 ? 2.5 : 0.0);
  }
  std::vector<double> phi(M), se(M);
  ex::permutation_solve(d, values.data(), 1, 1, phi.data(), se.data(), 1);
  EXPECT_NEAR(std::accumulate(phi.begin(), phi.end(), 0.0), game((1 << M) - 1, M) - game(0, M), 1e-12);
  ex::permutation_solve(d, pairwise.data(), 1, 1, phi.data(), se.data(), 2);
  std::vector<double> truth(M, 0.0);
  for (std::int64_t j = 0; j < M; ++j) truth[j] = 0.5 * (j + 1);
  for (std::int64_t j = 0; j + 1 < M; ++j) {
    truth[j] += 0.5 * std::sin(1.0 + j);
    truth[j + 1] += 0.5 * std::sin(1.0 + j);
  }
  for (std::int64_t j = 0; j < M; ++j) EXPECT_NEAR(phi[j], truth[j], 1e-12);
  EXPECT_THROW(ex::permutation_design(3, 0, 0), std::invalid_argument);
}

TEST(CoalitionRows, TakesRowValuesInsideTheCoalition) {
  const double x[] = {1.0, 2.0, 3.0};
  const double bg[] = {10.0, 20.0, 30.0, 40.0, 50.0, 60.0};
  const std::uint8_t masks[] = {0, 0, 0, 1, 0, 1, 1, 1, 1};
  std::vector<double> out(2 * 2 * 3);
  ex::coalition_rows<double>({x, 1, 3}, {bg, 2, 3}, masks, 3, 1, 3, out.data(), 2);
  const std::vector<double> expected = {1, 20, 3, 1, 50, 3, 1, 2, 3, 1, 2, 3};
  EXPECT_EQ(out, expected);
  EXPECT_THROW(ex::coalition_rows<double>({x, 1, 3}, {bg, 2, 3}, masks, 3, 2, 4, out.data(), 1),
               std::invalid_argument);
  EXPECT_THROW(ex::coalition_rows<double>({x, 1, 3}, {bg, 3, 2}, masks, 3, 0, 1, out.data(), 1),
               std::invalid_argument);
}

TEST(WeightedRidge, ExactFitWithoutPenaltyAndShrinkageWithIt) {
  // y = 1 + 2 a - b on 5 rows with unequal weights.
  const double X[] = {0, 0, 1, 0, 0, 1, 1, 1, 2, 3};
  const double y[] = {1, 3, 0, 2, 2};
  const double w[] = {1.0, 0.5, 2.0, 1.0, 0.25};
  const ex::RidgeFit fit = ex::weighted_ridge({X, 5, 2}, y, w, {0, 1}, 0.0);
  EXPECT_NEAR(fit.intercept, 1.0, 1e-10);
  EXPECT_NEAR(fit.coef[0], 2.0, 1e-10);
  EXPECT_NEAR(fit.coef[1], -1.0, 1e-10);
  EXPECT_NEAR(fit.score, 1.0, 1e-12);
  EXPECT_NEAR(fit.prediction_first, 1.0, 1e-10);
  const ex::RidgeFit shrunk = ex::weighted_ridge({X, 5, 2}, y, w, {0, 1}, 1.0);
  EXPECT_LT(std::abs(shrunk.coef[0]), 2.0);
  EXPECT_LT(shrunk.score, 1.0);
  EXPECT_THROW(ex::weighted_ridge({X, 5, 2}, y, w, {2}, 0.0), std::invalid_argument);
  EXPECT_THROW(ex::weighted_ridge({X, 5, 2}, y, w, {0}, -1.0), std::invalid_argument);
}

TEST(LimeSelect, ForwardSelectionFindsTheSignal) {
  loopwise::Rng rng(5);
  const std::int64_t n = 300, M = 4;
  std::vector<double> X(n * M), y(n), w(n, 1.0);
  for (std::int64_t i = 0; i < n; ++i) {
    for (std::int64_t j = 0; j < M; ++j) X[i * M + j] = rng.normal();
    y[i] = 3.0 * X[i * M + 2] - 0.5 * X[i * M + 0] + 0.01 * rng.normal();
  }
  const auto forward = ex::lime_select({X.data(), n, M}, y.data(), w.data(), 2, true);
  ASSERT_EQ(forward.size(), 2u);
  EXPECT_EQ(forward[0], 2);
  EXPECT_EQ(forward[1], 0);
  const auto highest = ex::lime_select({X.data(), n, M}, y.data(), w.data(), 1, false);
  ASSERT_EQ(highest.size(), 1u);
}

TEST(NormalQuantile, MatchesKnownValues) {
  EXPECT_NEAR(ex::normal_quantile(0.975), 1.959963984540054, 1e-13);
  EXPECT_NEAR(ex::normal_quantile(0.5), 0.0, 1e-15);
  EXPECT_NEAR(ex::normal_quantile(1e-10), -6.361340902404056, 1e-10);
  EXPECT_NEAR(ex::normal_quantile(1.0 - 1e-6), 4.753424308822899, 1e-8);
  EXPECT_THROW(ex::normal_quantile(1.5), std::invalid_argument);
}

TEST(LimeSample, FirstRowIsTheInstanceAndBinsAreRespected) {
  ex::LimeFeature binned;
  binned.categorical = binned.binned = true;
  binned.values = {0, 1};
  binned.frequencies = {0.5, 0.5};
  binned.bin_mean = {-1.0, 1.0};
  binned.bin_std = {0.5, 0.5};
  binned.bin_min = {-3.0, 0.0};
  binned.bin_max = {0.0, 3.0};
  ex::LimeFeature continuous;
  continuous.mean = 2.0;
  continuous.scale = 4.0;
  const std::vector<ex::LimeFeature> features = {binned, continuous};
  const double row[] = {0.7, 5.0};
  const double category[] = {1.0, 0.0};
  const std::int64_t n = 2000;
  std::vector<double> inverse(n * 2), binary(n * 2);
  ex::lime_sample(features, row, category, n, false, 9, inverse.data(), binary.data());
  EXPECT_EQ(inverse[0], 0.7);
  EXPECT_EQ(binary[0], 1.0);
  EXPECT_EQ(binary[1], 0.75);
  double ones = 0.0, mean = 0.0;
  for (std::int64_t i = 1; i < n; ++i) {
    const double v = inverse[i * 2], b = binary[i * 2];
    EXPECT_TRUE(b == 0.0 || b == 1.0);
    if (b == 1.0) {
      EXPECT_GE(v, 0.0);
      EXPECT_LE(v, 3.0);
    } else {
      EXPECT_GE(v, -3.0);
      EXPECT_LE(v, 0.0);
    }
    ones += b;
    mean += inverse[i * 2 + 1];
    EXPECT_NEAR(binary[i * 2 + 1], (inverse[i * 2 + 1] - 2.0) / 4.0, 1e-12);
  }
  EXPECT_NEAR(ones / (n - 1), 0.5, 0.05);
  EXPECT_NEAR(mean / (n - 1), 2.0, 0.4);
  std::vector<double> again(n * 2), again_binary(n * 2);
  ex::lime_sample(features, row, category, n, false, 9, again.data(), again_binary.data());
  EXPECT_EQ(again, inverse);
}
