#pragma once
/// Kernel maximum mean discrepancy with a permutation test, in row blocks so memory stays
/// O(N * (permutations + block)) instead of O(N^2).
#include <cstdint>
#include <vector>

#include "loopwise/common/matrix.hpp"

namespace loopwise::drift {

struct MmdResult {
  double statistic = 0.0;                ///< unbiased MMD^2 of the observed split
  std::vector<double> null_statistics;   ///< unbiased MMD^2 of each permuted split
};

/// Unbiased MMD^2 between the rows of x and y with the Gaussian kernel
/// exp(-||a - b||^2 / (2 bandwidth^2)), and the same statistic for n_permutations
/// random relabellings of the pooled rows (permutation p uses the random stream
/// (seed, p), so results do not depend on n_threads).
MmdResult mmd_permutation_test(MatrixView<double> x, MatrixView<double> y, double bandwidth,
                               std::int64_t n_permutations, std::uint64_t seed, int n_threads);

}  // namespace loopwise::drift
