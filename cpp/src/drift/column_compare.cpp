#include "loopwise/drift/column_compare.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "loopwise/common/error.hpp"
#include "loopwise/common/threading.hpp"

namespace loopwise::drift {

namespace {

/// Maps a finite double to an unsigned key with the same order.
inline std::uint64_t order_key(double value) {
  std::uint64_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  return (bits & 0x8000000000000000ULL) ? ~bits : (bits | 0x8000000000000000ULL);
}

inline double from_key(std::uint64_t key) {
  const std::uint64_t bits = (key & 0x8000000000000000ULL) ? (key & 0x7FFFFFFFFFFFFFFFULL) : ~key;
  double value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

/// LSD radix sort on 11-bit digits: the histograms of all six digits are counted in
/// one pass, and passes where every key shares the digit are skipped. Linear time:
/// sorting dominates a two-sample test, and comparison sorts are 2-3x slower on the
/// million-row columns users monitor.
void radix_sort(std::vector<double>& values) {
  const std::size_t n = values.size();
  constexpr int kBits = 11, kBuckets = 1 << kBits, kPasses = (64 + kBits - 1) / kBits;
  std::vector<std::uint64_t> keys(n), buffer(n);
  std::vector<std::size_t> histogram(static_cast<std::size_t>(kPasses) * kBuckets, 0);
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint64_t key = order_key(values[i]);
    keys[i] = key;
    for (int p = 0; p < kPasses; ++p) ++histogram[p * kBuckets + ((key >> (p * kBits)) & (kBuckets - 1))];
  }
  for (int p = 0; p < kPasses; ++p) {
    std::size_t* count = &histogram[static_cast<std::size_t>(p) * kBuckets];
    const int shift = p * kBits;
    if (count[(keys[0] >> shift) & (kBuckets - 1)] == n) continue;
    std::size_t sum = 0;
    for (int b = 0; b < kBuckets; ++b) {
      const std::size_t here = count[b];
      count[b] = sum;
      sum += here;
    }
    for (std::size_t i = 0; i < n; ++i) buffer[count[(keys[i] >> shift) & (kBuckets - 1)]++] = keys[i];
    keys.swap(buffer);
  }
  for (std::size_t i = 0; i < n; ++i) values[i] = from_key(keys[i]);
}

std::vector<double> sorted_finite(const Strided& sample) {
  std::vector<double> values;
  values.reserve(static_cast<std::size_t>(sample.size));
  for (std::int64_t i = 0; i < sample.size; ++i) {
    const double v = sample.data[i * sample.stride];
    if (std::isnan(v)) continue;
    if (std::isinf(v)) throw InvalidArgument("samples must not contain infinite values");
    values.push_back(v + 0.0);  // -0.0 + 0.0 == +0.0: one key for zero
  }
  if (values.size() > 4096) {
    radix_sort(values);
  } else {
    std::sort(values.begin(), values.end());
  }
  return values;
}

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

}  // namespace

std::vector<std::vector<double>> sort_samples(const std::vector<Strided>& samples, int n_threads) {
  std::vector<std::vector<double>> out(samples.size());
  parallel_for(static_cast<std::int64_t>(samples.size()), n_threads,
               [&](std::int64_t k) { out[k] = sorted_finite(samples[k]); });
  return out;
}

std::vector<Strided> columns_of(MatrixView<double> matrix) {
  std::vector<Strided> columns(static_cast<std::size_t>(matrix.cols));
  for (std::int64_t j = 0; j < matrix.cols; ++j) {
    columns[j] = Strided{matrix.data + j * matrix.col_stride, matrix.rows, matrix.row_stride};
  }
  return columns;
}

NumericStats::NumericStats(std::size_t n)
    : ks(n, kNaN), ks_exact_pvalue(n, kNaN), cvm_u(n, kNaN), cvm_exact_pvalue(n, kNaN),
      anderson_a2akn(n, kNaN), wasserstein(n, kNaN), energy(n, kNaN), psi(n, kNaN),
      jensen_shannon(n, kNaN), hellinger(n, kNaN) {}

NumericStats compare_numeric(const std::vector<Sorted>& reference, const std::vector<Sorted>& current,
                             const std::vector<std::vector<double>>& edges, const NumericOptions& options,
                             int n_threads) {
  const std::size_t p = reference.size();
  if (current.size() != p) throw InvalidArgument("reference and current must have the same number of columns");
  const bool binned = (options.statistics & kBinned) != 0;
  if (binned && edges.size() != p) throw InvalidArgument("edges must have one entry per column");
  if (binned && !(options.psi_epsilon > 0.0)) throw InvalidArgument("psi_epsilon must be > 0");
  if (binned && !(options.js_base > 1.0)) throw InvalidArgument("js_base must be > 1");
  NumericStats out(p);
  const std::uint32_t want = options.statistics;
  parallel_for(static_cast<std::int64_t>(p), n_threads, [&](std::int64_t j) {
    const Sorted a = reference[j], b = current[j];
    if (a.size < 1 || b.size < 1) return;  // an empty side: every statistic stays NaN
    if ((want & (kCvm | kAnderson | kWasserstein | kEnergy)) == 0) {
      if (want & kKs) out.ks[j] = ks_statistic(a, b);  // the lean path of a KS-only call
    } else {
      const WalkStatistics walk = walk_statistics(a, b);
      if (want & kKs) out.ks[j] = walk.ks;
      if (want & kCvm) out.cvm_u[j] = walk.cvm_u;
      if (want & kAnderson) out.anderson_a2akn[j] = walk.anderson;
      if (want & kWasserstein) out.wasserstein[j] = walk.wasserstein;
      if (want & kEnergy) out.energy[j] = walk.energy;
    }
    if ((want & kKs) && (want & kKsExact) && std::max(a.size, b.size) <= options.exact_ks_max_n) {
      out.ks_exact_pvalue[j] = ks_exact_pvalue(a.size, b.size, out.ks[j]);
    }
    if ((want & kCvm) && (want & kCvmExact) && std::max(a.size, b.size) <= 20) {
      out.cvm_exact_pvalue[j] = cvm_exact_pvalue(out.cvm_u[j], a.size, b.size);
    }
    if (binned) {
      for (std::size_t k = 1; k < edges[j].size(); ++k) {
        if (!(edges[j][k - 1] < edges[j][k])) {
          throw InvalidArgument("bin edges of column " + std::to_string(j) + " must be strictly increasing");
        }
      }
      const auto ca = bin_counts(a, edges[j]);
      const auto cb = bin_counts(b, edges[j]);
      const auto k = static_cast<std::int64_t>(ca.size());
      out.psi[j] = psi_from_counts(ca.data(), cb.data(), k, options.psi_epsilon);
      out.jensen_shannon[j] = jensen_shannon_from_counts(ca.data(), cb.data(), k, options.js_base);
      out.hellinger[j] = hellinger_from_counts(ca.data(), cb.data(), k);
    }
  });
  return out;
}

}  // namespace loopwise::drift
