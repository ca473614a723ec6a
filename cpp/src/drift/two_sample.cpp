#include "loopwise/drift/two_sample.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <numeric>

#include "loopwise/common/error.hpp"

namespace loopwise::drift {

namespace {

/// Walks the pooled order of two sorted samples one distinct value at a time and calls
/// step(value, next_value, i, j) where i, j count the elements <= value in a and b.
/// next_value is +inf after the last distinct value.
template <class Step>
void walk_distinct(Sorted a, Sorted b, Step&& step) {
  std::int64_t i = 0, j = 0;
  const double inf = std::numeric_limits<double>::infinity();
  while (i < a.size || j < b.size) {
    const double va = i < a.size ? a.data[i] : inf;
    const double vb = j < b.size ? b.data[j] : inf;
    const double value = va < vb ? va : vb;
    while (i < a.size && a.data[i] == value) ++i;
    while (j < b.size && b.data[j] == value) ++j;
    const double na = i < a.size ? a.data[i] : inf;
    const double nb = j < b.size ? b.data[j] : inf;
    step(value, na < nb ? na : nb, i, j);
  }
}

void require_non_empty(Sorted a, Sorted b) {
  if (a.size < 1 || b.size < 1) throw InvalidArgument("both samples must be non-empty");
}

}  // namespace

WalkStatistics walk_statistics(Sorted a, Sorted b) {
  require_non_empty(a, b);
  const double n = static_cast<double>(a.size), m = static_cast<double>(b.size);
  const double N = n + m;
  WalkStatistics out;
  double cvm_a = 0.0, cvm_b = 0.0, ad_a = 0.0, ad_b = 0.0, w1 = 0.0, l2 = 0.0;
  std::int64_t prev_i = 0, prev_j = 0;
  walk_distinct(a, b, [&](double value, double next, std::int64_t i, std::int64_t j) {
    const double diff = static_cast<double>(i) / n - static_cast<double>(j) / m;
    const double gap = std::fabs(diff);
    if (gap > out.ks) out.ks = gap;
    if (!std::isinf(next)) {
      w1 += gap * (next - value);
      l2 += diff * diff * (next - value);
    }
    // Cramér-von Mises: every tied element gets the midrank of its group.
    const std::int64_t ties = (i - prev_i) + (j - prev_j);
    const double below = static_cast<double>(prev_i + prev_j);
    const double midrank = below + (static_cast<double>(ties) + 1.0) / 2.0;
    for (std::int64_t k = prev_i; k < i; ++k) {
      const double d = midrank - static_cast<double>(k + 1);
      cvm_a += d * d;
    }
    for (std::int64_t k = prev_j; k < j; ++k) {
      const double d = midrank - static_cast<double>(k + 1);
      cvm_b += d * d;
    }
    // Anderson-Darling (Scholz & Stephens eq. 7, midrank form).
    const double tied = static_cast<double>(ties);
    const double B = below + tied / 2.0;
    const double denom = B * (N - B) - N * tied / 4.0;
    const double Ma = static_cast<double>(i) - static_cast<double>(i - prev_i) / 2.0;
    const double Mb = static_cast<double>(j) - static_cast<double>(j - prev_j) / 2.0;
    const double ra = N * Ma - B * n, rb = N * Mb - B * m;
    ad_a += tied / N * ra * ra / denom;
    ad_b += tied / N * rb * rb / denom;
    prev_i = i;
    prev_j = j;
  });
  out.cvm_u = n * cvm_a + m * cvm_b;
  out.anderson = (ad_a / n + ad_b / m) * (N - 1.0) / N;
  out.wasserstein = w1;
  out.energy = std::sqrt(2.0) * std::sqrt(l2);
  return out;
}

double ks_statistic(Sorted a, Sorted b) {
  require_non_empty(a, b);
  // Track the largest exact lattice difference |i m - j n| in integers (no division in
  // the loop); once one sample is exhausted the gap can only shrink, so stop there.
  const std::int64_t n = a.size, m = b.size;
  std::int64_t i = 0, j = 0, best = 0, best_i = 0, best_j = 0;
  while (i < n && j < m) {
    const double value = a.data[i] < b.data[j] ? a.data[i] : b.data[j];
    while (i < n && a.data[i] == value) ++i;
    while (j < m && b.data[j] == value) ++j;
    std::int64_t gap = i * m - j * n;
    if (gap < 0) gap = -gap;
    if (gap > best) {
      best = gap;
      best_i = i;
      best_j = j;
    }
  }
  return std::fabs(static_cast<double>(best_i) / static_cast<double>(n) -
                   static_cast<double>(best_j) / static_cast<double>(m));
}

double ks_exact_pvalue(std::int64_t n, std::int64_t m, double d) {
  if (n < 1 || m < 1) throw InvalidArgument("sample sizes must be positive");
  if (n < m) std::swap(n, m);  // the recurrence walks the larger sample's axis
  const std::int64_t g = std::gcd(n, m);
  const std::int64_t ng = n / g, mg = m / g;
  if (ng >= std::numeric_limits<std::int32_t>::max() / mg) return std::numeric_limits<double>::quiet_NaN();
  const std::int64_t lcm = ng * m;
  const std::int64_t h = static_cast<std::int64_t>(std::nearbyint(d * static_cast<double>(lcm)));
  if (h <= 0) return 1.0;
  // Lattice point (i, j), i over the larger sample, is inside the band when
  // |mg * i - ng * j| < h. outside[j] is the probability that a uniformly random path to
  // (i, j) has already left the band; computing it directly (not 1 - inside) keeps full
  // relative precision for tiny p-values. Inside cells form a window [lo, hi] of j that
  // only moves up with i; every cell outside the window holds 1.
  auto floor_div = [](std::int64_t x, std::int64_t y) { return x >= 0 ? x / y : -((-x + y - 1) / y); };
  auto window_lo = [&](std::int64_t i) { return std::max<std::int64_t>(0, floor_div(mg * i - h, ng) + 1); };
  auto window_hi = [&](std::int64_t i) { return std::min<std::int64_t>(m, (mg * i + h - 1) / ng); };
  std::vector<double> outside(static_cast<std::size_t>(m + 1), 1.0);
  std::int64_t lo = window_lo(0), hi = window_hi(0);
  for (std::int64_t j = lo; j <= hi; ++j) outside[j] = 0.0;
  for (std::int64_t i = 1; i <= n; ++i) {
    const std::int64_t new_lo = window_lo(i), new_hi = window_hi(i);
    if (new_lo > new_hi) return 1.0;
    for (std::int64_t j = lo; j < new_lo && j <= m; ++j) outside[j] = 1.0;
    const double di = static_cast<double>(i);
    for (std::int64_t j = new_lo; j <= new_hi; ++j) {
      if (j == 0) continue;  // the path along the axis: unchanged while inside
      const double dj = static_cast<double>(j);
      outside[j] = (outside[j] * di + outside[j - 1] * dj) / (di + dj);
    }
    lo = new_lo;
    hi = new_hi;
  }
  return outside[m];
}

double cvm_u_statistic(Sorted a, Sorted b) {
  require_non_empty(a, b);
  double sum_a = 0.0, sum_b = 0.0;
  std::int64_t ia = 0, ib = 0;  // elements of a, b already ranked
  walk_distinct(a, b, [&](double, double, std::int64_t i, std::int64_t j) {
    const std::int64_t before = ia + ib, ties = (i - ia) + (j - ib);
    const double midrank = static_cast<double>(before) + (static_cast<double>(ties) + 1.0) / 2.0;
    for (; ia < i; ++ia) {
      const double diff = midrank - static_cast<double>(ia + 1);
      sum_a += diff * diff;
    }
    for (; ib < j; ++ib) {
      const double diff = midrank - static_cast<double>(ib + 1);
      sum_b += diff * diff;
    }
  });
  return static_cast<double>(a.size) * sum_a + static_cast<double>(b.size) * sum_b;
}

double cvm_exact_pvalue(double u, std::int64_t n, std::int64_t m) {
  if (n < 1 || m < 1) throw InvalidArgument("sample sizes must be positive");
  if (n + m > 60) throw InvalidArgument("exact Cramér-von Mises p-values need n + m <= 60");
  // Frequency tables of g(u, v) = sum of squared lattice deviations along a path to
  // (u, v); the recursion is over u (the second sample) and v (the first).
  const std::int64_t lcm = std::lcm(n, m);
  const std::int64_t a = lcm / n, b = lcm / m;
  const double mn = static_cast<double>(n * m);
  const double zeta = std::floor(static_cast<double>(lcm * lcm * (n + m)) *
                                 (6.0 * u - mn * (4.0 * mn - 1.0)) / (6.0 * mn * mn));
  using Table = std::map<std::int64_t, double>;
  std::vector<Table> previous(static_cast<std::size_t>(n + 1)), current(static_cast<std::size_t>(n + 1));
  previous[0][0] = 1.0;
  for (std::int64_t col = 0; col <= m; ++col) {
    Table running;
    for (std::int64_t v = 0; v <= n; ++v) {
      for (const auto& [value, count] : previous[v]) running[value] += count;
      const std::int64_t dev = a * v - b * col;
      Table shifted;
      for (const auto& [value, count] : running) shifted.emplace_hint(shifted.end(), value + dev * dev, count);
      running = shifted;
      current[v] = running;
    }
    previous.swap(current);
  }
  double tail = 0.0, total = 0.0;
  for (const auto& [value, count] : previous[n]) {
    total += count;
    if (static_cast<double>(value) >= zeta) tail += count;
  }
  return tail / total;
}

double anderson_a2akn(Sorted a, Sorted b) {
  require_non_empty(a, b);
  const double N = static_cast<double>(a.size + b.size);
  const double na = static_cast<double>(a.size), nb = static_cast<double>(b.size);
  double sum_a = 0.0, sum_b = 0.0;
  std::int64_t prev_i = 0, prev_j = 0;
  walk_distinct(a, b, [&](double, double, std::int64_t i, std::int64_t j) {
    const double tied = static_cast<double>((i - prev_i) + (j - prev_j));
    const double below = static_cast<double>(prev_i + prev_j);
    const double B = below + tied / 2.0;
    const double denom = B * (N - B) - N * tied / 4.0;
    const double Ma = static_cast<double>(i) - static_cast<double>(i - prev_i) / 2.0;
    const double Mb = static_cast<double>(j) - static_cast<double>(j - prev_j) / 2.0;
    const double ra = N * Ma - B * na, rb = N * Mb - B * nb;
    sum_a += tied / N * ra * ra / denom;
    sum_b += tied / N * rb * rb / denom;
    prev_i = i;
    prev_j = j;
  });
  return (sum_a / na + sum_b / nb) * (N - 1.0) / N;
}

double wasserstein1(Sorted a, Sorted b) {
  require_non_empty(a, b);
  const double n = static_cast<double>(a.size), m = static_cast<double>(b.size);
  double total = 0.0;
  walk_distinct(a, b, [&](double value, double next, std::int64_t i, std::int64_t j) {
    if (std::isinf(next)) return;
    total += std::fabs(static_cast<double>(i) / n - static_cast<double>(j) / m) * (next - value);
  });
  return total;
}

double energy_distance(Sorted a, Sorted b) {
  require_non_empty(a, b);
  const double n = static_cast<double>(a.size), m = static_cast<double>(b.size);
  double total = 0.0;
  walk_distinct(a, b, [&](double value, double next, std::int64_t i, std::int64_t j) {
    if (std::isinf(next)) return;
    const double diff = static_cast<double>(i) / n - static_cast<double>(j) / m;
    total += diff * diff * (next - value);
  });
  return std::sqrt(2.0) * std::sqrt(total);
}

std::vector<std::int64_t> bin_counts(Sorted a, const std::vector<double>& edges) {
  std::vector<std::int64_t> counts(edges.size() + 1, 0);
  std::int64_t start = 0;
  for (std::size_t k = 0; k < edges.size(); ++k) {
    const double* end = std::upper_bound(a.data + start, a.data + a.size, edges[k]);
    const std::int64_t stop = end - a.data;
    counts[k] = stop - start;
    start = stop;
  }
  counts[edges.size()] = a.size - start;
  return counts;
}

namespace {
double total_of(const std::int64_t* counts, std::int64_t k) {
  double total = 0.0;
  for (std::int64_t i = 0; i < k; ++i) total += static_cast<double>(counts[i]);
  if (total <= 0.0) throw InvalidArgument("a histogram has no observations");
  return total;
}
}  // namespace

double psi_from_counts(const std::int64_t* p_counts, const std::int64_t* q_counts, std::int64_t k,
                       double epsilon) {
  const double tp = total_of(p_counts, k), tq = total_of(q_counts, k);
  double psi = 0.0;
  for (std::int64_t i = 0; i < k; ++i) {
    const double p = std::max(static_cast<double>(p_counts[i]) / tp, epsilon);
    const double q = std::max(static_cast<double>(q_counts[i]) / tq, epsilon);
    psi += (q - p) * std::log(q / p);
  }
  return psi;
}

double jensen_shannon_from_counts(const std::int64_t* p_counts, const std::int64_t* q_counts,
                                  std::int64_t k, double base) {
  const double tp = total_of(p_counts, k), tq = total_of(q_counts, k);
  double divergence = 0.0;
  for (std::int64_t i = 0; i < k; ++i) {
    const double p = static_cast<double>(p_counts[i]) / tp;
    const double q = static_cast<double>(q_counts[i]) / tq;
    const double mid = (p + q) / 2.0;
    // 0 * log(0 / x) = 0, as in the definition of the Kullback-Leibler divergence.
    if (p > 0.0) divergence += p * std::log(p / mid);
    if (q > 0.0) divergence += q * std::log(q / mid);
  }
  divergence = std::max(divergence / 2.0, 0.0) / std::log(base);
  return std::sqrt(divergence);
}

double hellinger_from_counts(const std::int64_t* p_counts, const std::int64_t* q_counts,
                             std::int64_t k) {
  const double tp = total_of(p_counts, k), tq = total_of(q_counts, k);
  double affinity = 0.0;
  for (std::int64_t i = 0; i < k; ++i) {
    affinity += std::sqrt(static_cast<double>(p_counts[i]) / tp * static_cast<double>(q_counts[i]) / tq);
  }
  return std::sqrt(std::max(1.0 - affinity, 0.0));
}

}  // namespace loopwise::drift
