#pragma once
/// Two-sample statistics on sorted, NaN-free samples, and the exact p-values that need
/// combinatorics (the smooth distribution functions are evaluated by the Python layer).
#include <cstdint>
#include <vector>

namespace loopwise::drift {

/// A sorted, NaN-free sample: a pointer and a length into memory the caller owns.
struct Sorted {
  const double* data = nullptr;
  std::int64_t size = 0;
};

/// The statistics that one pass over the pooled order of two sorted samples yields.
struct WalkStatistics {
  double ks = 0.0;           ///< sup |F_a - F_b|
  double cvm_u = 0.0;        ///< Cramér-von Mises U (midranks)
  double anderson = 0.0;     ///< Anderson-Darling A2akN (midranks)
  double wasserstein = 0.0;  ///< integral |F_a - F_b|
  double energy = 0.0;       ///< sqrt(2 * integral (F_a - F_b)^2)
};

/// Every walk statistic in a single merge pass (the per-statistic functions below
/// return the same bits).
WalkStatistics walk_statistics(Sorted a, Sorted b);

/// Two-sided Kolmogorov-Smirnov statistic sup |F_a - F_b| (ties handled: both ECDFs
/// are evaluated after all copies of a value).
double ks_statistic(Sorted a, Sorted b);

/// Exact P(D >= d) of the two-sided two-sample KS test under H0 (no ties), by the
/// Hodges lattice-path recurrence on the probability of having left the band
/// |i/n - j/m| < d; d is first rounded to the lattice h / lcm(n, m).
/// Returns NaN when lcm(n, m) does not fit the 32-bit lattice.
double ks_exact_pvalue(std::int64_t n, std::int64_t m, double d);

/// Cramér-von Mises U = n * sum (r_i - i)^2 + m * sum (s_j - j)^2 with pooled midranks.
double cvm_u_statistic(Sorted a, Sorted b);

/// Exact P(U >= u) of the two-sample Cramér-von Mises test (Xiao, Gordon & Yakovlev
/// 2006 frequency-table recursion); intended for n, m <= 20.
double cvm_exact_pvalue(double u, std::int64_t n, std::int64_t m);

/// Unstandardised Anderson-Darling k-sample statistic A2akN for k = 2 (Scholz &
/// Stephens 1987, eq. 7, midrank version, valid with ties).
double anderson_a2akn(Sorted a, Sorted b);

/// Wasserstein-1 distance between the empirical distributions: integral of |F_a - F_b|.
double wasserstein1(Sorted a, Sorted b);

/// Energy distance sqrt(2 * integral of (F_a - F_b)^2) (Székely's definition, as scipy).
double energy_distance(Sorted a, Sorted b);

/// Counts of a sorted sample in the bins (-inf, e0], (e0, e1], ..., (e_last, inf).
/// Returns edges.size() + 1 counts.
std::vector<std::int64_t> bin_counts(Sorted a, const std::vector<double>& edges);

/// Population stability index sum (q - p) ln(q / p) of two count vectors turned into
/// proportions; proportions below `epsilon` are raised to `epsilon`.
double psi_from_counts(const std::int64_t* p_counts, const std::int64_t* q_counts, std::int64_t k,
                       double epsilon);

/// Jensen-Shannon distance (square root of the divergence) in the given log base.
double jensen_shannon_from_counts(const std::int64_t* p_counts, const std::int64_t* q_counts,
                                  std::int64_t k, double base);

/// Hellinger distance sqrt(1 - sum sqrt(p q)) between two count vectors' proportions.
double hellinger_from_counts(const std::int64_t* p_counts, const std::int64_t* q_counts,
                             std::int64_t k);

}  // namespace loopwise::drift
