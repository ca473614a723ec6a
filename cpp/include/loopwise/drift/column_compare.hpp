#pragma once
/// Per-column drift statistics of two tables, computed in parallel over columns.
#include <cstdint>
#include <vector>

#include "loopwise/common/matrix.hpp"
#include "loopwise/drift/two_sample.hpp"

namespace loopwise::drift {

/// One column of a table as a strided pointer (NaN marks a missing value).
struct Strided {
  const double* data = nullptr;
  std::int64_t size = 0;
  std::int64_t stride = 1;
};

/// Sorted copies of each input with NaN dropped (-0.0 becomes +0.0); radix sort for
/// large inputs. Throws InvalidArgument on an infinite value. Parallel over inputs.
std::vector<std::vector<double>> sort_samples(const std::vector<Strided>& samples, int n_threads);

/// The columns of a row-major matrix as strided samples.
std::vector<Strided> columns_of(MatrixView<double> matrix);

/// Which statistics compare_numeric computes (bit flags).
enum Statistic : std::uint32_t {
  kKs = 1u << 0,
  kKsExact = 1u << 1,   ///< exact KS p-value where max(n, m) <= exact_ks_max_n
  kCvm = 1u << 2,
  kCvmExact = 1u << 3,  ///< exact CvM p-value where max(n, m) <= 20
  kAnderson = 1u << 4,
  kWasserstein = 1u << 5,
  kEnergy = 1u << 6,
  kBinned = 1u << 7,    ///< PSI, Jensen-Shannon and Hellinger on the given bin edges
  kAll = 0xFFu,
};

struct NumericOptions {
  std::uint32_t statistics = kAll;
  std::int64_t exact_ks_max_n = 10000;
  double psi_epsilon = 1e-4;
  double js_base = 2.0;
};

/// Statistics per column; NaN where not computed or not defined (e.g. an empty side).
struct NumericStats {
  std::vector<double> ks, ks_exact_pvalue, cvm_u, cvm_exact_pvalue, anderson_a2akn, wasserstein,
      energy, psi, jensen_shannon, hellinger;
  explicit NumericStats(std::size_t n);
};

/// Compares reference[j] with current[j] for every column j (both sorted, NaN-free).
/// edges[j] are the interior bin edges of column j for the binned statistics.
NumericStats compare_numeric(const std::vector<Sorted>& reference, const std::vector<Sorted>& current,
                             const std::vector<std::vector<double>>& edges, const NumericOptions& options,
                             int n_threads);

}  // namespace loopwise::drift
