// Permutation (antithetic) and exact Shapley values from coalition values.
#include <cmath>
#include <limits>
#include <numeric>

#include "loopwise/common/error.hpp"
#include "loopwise/common/rng.hpp"
#include "loopwise/common/threading.hpp"
#include "loopwise/explain/agnostic.hpp"

namespace loopwise::explain {

PermutationDesign permutation_design(std::int64_t M, std::int64_t n_pairs, std::uint64_t seed) {
  if (M < 1) throw InvalidArgument("the permutation explainer needs at least 1 feature");
  if (n_pairs < 1) throw InvalidArgument("need at least one antithetic pair of permutations");
  PermutationDesign d;
  d.n_features = M;
  d.n_permutations = 2 * n_pairs;
  Rng rng(seed, 0);
  std::vector<std::int64_t> order(static_cast<std::size_t>(M));
  for (std::int64_t q = 0; q < n_pairs; ++q) {
    std::iota(order.begin(), order.end(), 0);
    for (std::int64_t i = M - 1; i > 0; --i) {
      const auto pick = static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(i + 1)));
      std::swap(order[static_cast<std::size_t>(i)], order[static_cast<std::size_t>(pick)]);
    }
    d.orders.insert(d.orders.end(), order.begin(), order.end());
    // The reversed order visits every feature against the complement of its forward
    // prefix: the antithetic partner cancels much of the forward order's noise.
    d.orders.insert(d.orders.end(), order.rbegin(), order.rend());
  }
  const std::int64_t n_masks = 2 + d.n_permutations * (M - 1);
  d.masks.assign(static_cast<std::size_t>(n_masks * M), 0);
  for (std::int64_t j = 0; j < M; ++j) d.masks[static_cast<std::size_t>(M + j)] = 1;
  for (std::int64_t q = 0; q < d.n_permutations; ++q) {
    const std::int64_t* perm = d.orders.data() + q * M;
    for (std::int64_t len = 1; len < M; ++len) {
      std::uint8_t* mask = d.masks.data() + (2 + q * (M - 1) + (len - 1)) * M;
      for (std::int64_t t = 0; t < len; ++t) mask[perm[t]] = 1;
    }
  }
  return d;
}

void permutation_solve(const PermutationDesign& d, const double* values, std::int64_t rows, std::int64_t k,
                       double* phi, double* std_errors, int n_threads) {
  const std::int64_t M = d.n_features;
  const std::int64_t n_masks = d.n_masks();
  const std::int64_t P = d.n_permutations / 2;
  if (static_cast<std::int64_t>(d.orders.size()) != d.n_permutations * M) throw InvalidArgument("corrupt design");
  for (auto f : d.orders)
    if (f < 0 || f >= M) throw InvalidArgument("permutation entry out of range");
  const double nan = std::numeric_limits<double>::quiet_NaN();
  parallel_for(rows, n_threads, [&](std::int64_t r) {
    const double* v = values + r * n_masks * k;
    std::vector<double> pair_mean(static_cast<std::size_t>(M)), sum(static_cast<std::size_t>(M)),
        sum_sq(static_cast<std::size_t>(M));
    for (std::int64_t o = 0; o < k; ++o) {
      std::fill(sum.begin(), sum.end(), 0.0);
      std::fill(sum_sq.begin(), sum_sq.end(), 0.0);
      for (std::int64_t p = 0; p < P; ++p) {
        std::fill(pair_mean.begin(), pair_mean.end(), 0.0);
        for (std::int64_t q = 2 * p; q < 2 * p + 2; ++q) {
          const std::int64_t* perm = d.orders.data() + q * M;
          double previous = v[0 * k + o];
          for (std::int64_t len = 1; len <= M; ++len) {
            const std::int64_t mask = len == M ? 1 : 2 + q * (M - 1) + (len - 1);
            const double current = v[mask * k + o];
            pair_mean[static_cast<std::size_t>(perm[len - 1])] += 0.5 * (current - previous);
            previous = current;
          }
        }
        for (std::int64_t j = 0; j < M; ++j) {
          sum[static_cast<std::size_t>(j)] += pair_mean[static_cast<std::size_t>(j)];
          sum_sq[static_cast<std::size_t>(j)] += pair_mean[static_cast<std::size_t>(j)] * pair_mean[static_cast<std::size_t>(j)];
        }
      }
      for (std::int64_t j = 0; j < M; ++j) {
        const double mean = sum[static_cast<std::size_t>(j)] / static_cast<double>(P);
        phi[(r * M + j) * k + o] = mean;
        if (P < 2) {
          std_errors[(r * M + j) * k + o] = nan;
        } else {
          const double var = std::max(0.0, (sum_sq[static_cast<std::size_t>(j)] - P * mean * mean) / (P - 1.0));
          std_errors[(r * M + j) * k + o] = std::sqrt(var / static_cast<double>(P));
        }
      }
    }
  });
}

void exact_solve(std::int64_t M, const double* values, std::int64_t rows, std::int64_t k, double* phi, int n_threads) {
  if (M < 1 || M > 30) throw InvalidArgument("exact Shapley values need 1 to 30 features");
  const std::int64_t n_masks = std::int64_t{1} << M;
  // Shapley weight of a coalition of size s not containing j: s! (M - 1 - s)! / M!.
  std::vector<double> weight(static_cast<std::size_t>(M));
  for (std::int64_t s = 0; s < M; ++s) {
    // = 1 / (M * C(M - 1, s)); the binomial is exact in double for M <= 30.
    double binom = 1.0;
    for (std::int64_t i = 1; i <= s; ++i) binom = binom * static_cast<double>(M - 1 - s + i) / static_cast<double>(i);
    weight[static_cast<std::size_t>(s)] = 1.0 / (static_cast<double>(M) * std::round(binom));
  }
  parallel_for(rows, n_threads, [&](std::int64_t r) {
    const double* v = values + r * n_masks * k;
    for (std::int64_t o = 0; o < k; ++o) {
      for (std::int64_t j = 0; j < M; ++j) {
        // Sum in a fixed order, pairing S with S + j, so results do not depend on threads.
        double total = 0.0;
        const std::int64_t bit = std::int64_t{1} << j;
        for (std::int64_t S = 0; S < n_masks; ++S) {
          if (S & bit) continue;
          const int s = __builtin_popcountll(static_cast<unsigned long long>(S));
          total += weight[static_cast<std::size_t>(s)] * (v[(S | bit) * k + o] - v[S * k + o]);
        }
        phi[(r * M + j) * k + o] = total;
      }
    }
  });
}

}  // namespace loopwise::explain
