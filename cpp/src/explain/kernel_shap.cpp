// KernelSHAP design (which coalitions to evaluate) and its constrained weighted least squares.
#include <Eigen/Dense>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <string>
#include <unordered_map>

#include "loopwise/common/error.hpp"
#include "loopwise/common/rng.hpp"
#include "loopwise/common/threading.hpp"
#include "loopwise/explain/agnostic.hpp"

namespace loopwise::explain {

namespace {

double binomial(std::int64_t n, std::int64_t k) {
  if (k < 0 || k > n) return 0.0;
  k = std::min(k, n - k);
  double result = 1.0;
  for (std::int64_t i = 1; i <= k; ++i) result = result * static_cast<double>(n - k + i) / static_cast<double>(i);
  return std::round(result);
}

// Appends every subset of size s (and, when paired, its complement) with weight w each.
void enumerate_size(std::int64_t M, std::int64_t s, bool paired, double weight, KernelDesign& d) {
  std::vector<std::int64_t> index(static_cast<std::size_t>(s));
  std::iota(index.begin(), index.end(), 0);
  std::vector<std::uint8_t> mask(static_cast<std::size_t>(M));
  while (true) {
    std::fill(mask.begin(), mask.end(), 0);
    for (auto j : index) mask[static_cast<std::size_t>(j)] = 1;
    d.masks.insert(d.masks.end(), mask.begin(), mask.end());
    d.enumerated_weights.push_back(weight);
    if (paired) {
      for (auto& v : mask) v = static_cast<std::uint8_t>(1 - v);
      d.masks.insert(d.masks.end(), mask.begin(), mask.end());
      d.enumerated_weights.push_back(weight);
    }
    // Next combination in lexicographic order.
    std::int64_t i = s - 1;
    while (i >= 0 && index[static_cast<std::size_t>(i)] == M - s + i) --i;
    if (i < 0) break;
    ++index[static_cast<std::size_t>(i)];
    for (std::int64_t t = i + 1; t < s; ++t) index[static_cast<std::size_t>(t)] = index[static_cast<std::size_t>(t - 1)] + 1;
  }
}

}  // namespace

KernelDesign kernel_design(std::int64_t M, std::int64_t budget, std::uint64_t seed) {
  if (M < 2) throw InvalidArgument("KernelSHAP needs at least 2 features");
  if (budget < 2) throw InvalidArgument("nsamples must be at least 2");
  KernelDesign d;
  d.n_features = M;
  // Shapley kernel mass of each subset size s: (M - 1) / (s (M - s)), normalised to 1.
  std::vector<double> mass(static_cast<std::size_t>(M), 0.0);
  double total = 0.0;
  for (std::int64_t s = 1; s < M; ++s) {
    mass[static_cast<std::size_t>(s)] = static_cast<double>(M - 1) / static_cast<double>(s * (M - s));
    total += mass[static_cast<std::size_t>(s)];
  }
  for (auto& v : mass) v /= total;

  if (M <= 30 && (std::int64_t{1} << M) - 2 <= budget) {
    // Everything fits: the regression is then exact (equal to the Shapley values).
    const std::int64_t count = (std::int64_t{1} << M) - 2;
    d.masks.reserve(static_cast<std::size_t>(count * M));
    for (std::int64_t pattern = 1; pattern <= count; ++pattern) {
      const std::int64_t s = __builtin_popcountll(static_cast<unsigned long long>(pattern));
      for (std::int64_t j = 0; j < M; ++j) d.masks.push_back(static_cast<std::uint8_t>((pattern >> j) & 1));
      d.enumerated_weights.push_back(mass[static_cast<std::size_t>(s)] / binomial(M, s));
    }
    d.n_enumerated = d.n_masks = count;
    d.sampled_weight = 0.0;
    return d;
  }

  // Enumerate whole sizes from the outside in (s and M - s together) while the budget would
  // give each of their subsets at least one expected draw; those sizes carry the most weight.
  std::int64_t left = budget;
  double remaining = 1.0;
  std::int64_t first_sampled = 1;
  const std::int64_t n_sizes = M / 2;  // sizes 1..M/2 with their complements
  for (std::int64_t s = 1; s <= n_sizes; ++s) {
    const bool paired = (2 * s != M);
    const double n_subsets = binomial(M, s) * (paired ? 2.0 : 1.0);
    const double size_mass = mass[static_cast<std::size_t>(s)] * (paired ? 2.0 : 1.0);
    if (remaining <= 0.0 || n_subsets > static_cast<double>(left) ||
        static_cast<double>(left) * size_mass / remaining < n_subsets - 1e-8)
      break;
    enumerate_size(M, s, paired, mass[static_cast<std::size_t>(s)] / binomial(M, s), d);
    left -= static_cast<std::int64_t>(n_subsets);
    remaining -= size_mass;
    first_sampled = s + 1;
  }
  d.n_enumerated = static_cast<std::int64_t>(d.enumerated_weights.size());
  if (first_sampled > M - first_sampled) {  // every size was enumerated
    d.n_masks = d.n_enumerated;
    return d;
  }
  d.sampled_weight = remaining;

  // Paired draws from the kernel restricted to sizes first_sampled..M - first_sampled.
  std::vector<double> cdf;
  std::vector<std::int64_t> sizes;
  double acc = 0.0;
  for (std::int64_t s = first_sampled; s <= M - first_sampled; ++s) {
    acc += mass[static_cast<std::size_t>(s)];
    cdf.push_back(acc);
    sizes.push_back(s);
  }
  Rng rng(seed, 0);
  std::unordered_map<std::string, std::int64_t> seen;
  std::vector<std::int64_t> features(static_cast<std::size_t>(M));
  std::string key(static_cast<std::size_t>(M), '\0');
  std::int64_t n_masks = d.n_enumerated;
  const std::int64_t max_draws = 4 * budget + 16;
  auto find_or_add = [&](const std::string& k) {
    auto it = seen.find(k);
    if (it != seen.end()) return it->second;
    seen.emplace(k, n_masks);
    for (char c : k) d.masks.push_back(static_cast<std::uint8_t>(c));
    return n_masks++;
  };
  for (std::int64_t draw = 0; draw < max_draws && left >= 2; ++draw) {
    const double u = rng.uniform() * acc;
    std::size_t which = 0;
    while (which + 1 < cdf.size() && cdf[which] <= u) ++which;
    const std::int64_t s = sizes[which];
    std::iota(features.begin(), features.end(), 0);
    std::fill(key.begin(), key.end(), '\0');
    for (std::int64_t i = 0; i < s; ++i) {  // partial Fisher-Yates: a uniform subset of size s
      const auto pick = i + static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(M - i)));
      std::swap(features[static_cast<std::size_t>(i)], features[static_cast<std::size_t>(pick)]);
      key[static_cast<std::size_t>(features[static_cast<std::size_t>(i)])] = 1;
    }
    std::string complement(key);
    for (auto& c : complement) c = static_cast<char>(1 - c);
    const std::int64_t before = n_masks;
    const std::int64_t a = find_or_add(key);
    const std::int64_t b = find_or_add(complement);
    left -= n_masks - before;
    d.pairs.push_back(a);
    d.pairs.push_back(b);
    d.masks_needed.push_back(n_masks);
  }
  d.n_masks = n_masks;
  return d;
}

void kernel_solve(const KernelDesign& d, std::int64_t n_pairs, const double* values, std::int64_t rows,
                  std::int64_t n_masks_used, std::int64_t k, const double* base, const double* full, double* phi,
                  double* std_errors, int n_threads) {
  const std::int64_t M = d.n_features;
  if (n_pairs < 0 || n_pairs > d.n_pairs()) throw InvalidArgument("n_pairs is outside the design");
  const std::int64_t needed = n_pairs > 0 ? d.masks_needed[static_cast<std::size_t>(n_pairs - 1)] : d.n_enumerated;
  if (n_masks_used < needed || n_masks_used > d.n_masks)
    throw InvalidArgument("values must cover the masks the requested pairs use");
  if (k < 1 || rows < 0) throw InvalidArgument("bad output count");
  if (static_cast<std::int64_t>(d.masks.size()) != d.n_masks * M) throw InvalidArgument("corrupt design");
  for (std::int64_t p = 0; p < 2 * n_pairs; ++p) {
    const auto index = d.pairs[static_cast<std::size_t>(p)];
    if (index < d.n_enumerated || index >= n_masks_used) throw InvalidArgument("pair index out of range");
  }

  using Mat = Eigen::MatrixXd;
  using Vec = Eigen::VectorXd;
  auto mask = [&](std::int64_t c, std::int64_t j) { return d.masks[static_cast<std::size_t>(c * M + j)]; };
  // Normal matrix of the regression: enumerated coalitions with their weights plus the
  // sampled ones, each of the 2 n draws carrying mass sampled_weight / (2 n).
  Mat A = Mat::Zero(M, M);
  for (std::int64_t c = 0; c < d.n_enumerated; ++c) {
    const double w = d.enumerated_weights[static_cast<std::size_t>(c)];
    for (std::int64_t i = 0; i < M; ++i)
      if (mask(c, i))
        for (std::int64_t j = 0; j < M; ++j)
          if (mask(c, j)) A(i, j) += w;
  }
  const double c_draw = n_pairs > 0 ? d.sampled_weight / (2.0 * static_cast<double>(n_pairs)) : 0.0;
  for (std::int64_t p = 0; p < 2 * n_pairs; ++p) {
    const auto c = d.pairs[static_cast<std::size_t>(p)];
    for (std::int64_t i = 0; i < M; ++i)
      if (mask(c, i))
        for (std::int64_t j = 0; j < M; ++j)
          if (mask(c, j)) A(i, j) += c_draw;
  }
  // Efficiency constraint sum(phi) = f(x) - base through the KKT system
  // [A 1; 1' 0] [phi; nu] = [b; delta]: phi = C b + e delta with C, e fixed for all rows.
  Mat K = Mat::Zero(M + 1, M + 1);
  K.topLeftCorner(M, M) = A;
  K.block(0, M, M, 1).setOnes();
  K.block(M, 0, 1, M).setOnes();
  Eigen::CompleteOrthogonalDecomposition<Mat> kkt(K);
  Mat rhs = Mat::Zero(M + 1, M + 1);
  rhs.setIdentity();
  const Mat inverse = kkt.solve(rhs);
  const Mat C = inverse.topLeftCorner(M, M);
  const Vec e = inverse.block(0, M, M, 1);

  const bool exact = d.sampled_weight == 0.0;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  parallel_for(rows, n_threads, [&](std::int64_t r) {
    const double* v = values + r * n_masks_used * k;
    Mat residuals(n_pairs, M);
    for (std::int64_t o = 0; o < k; ++o) {
      auto y = [&](std::int64_t c) { return v[c * k + o] - base[o]; };
      Vec b = Vec::Zero(M);
      for (std::int64_t c = 0; c < d.n_enumerated; ++c) {
        const double wy = d.enumerated_weights[static_cast<std::size_t>(c)] * y(c);
        for (std::int64_t j = 0; j < M; ++j)
          if (mask(c, j)) b[j] += wy;
      }
      for (std::int64_t p = 0; p < 2 * n_pairs; ++p) {
        const auto c = d.pairs[static_cast<std::size_t>(p)];
        const double wy = c_draw * y(c);
        for (std::int64_t j = 0; j < M; ++j)
          if (mask(c, j)) b[j] += wy;
      }
      const double delta = full[r * k + o] - base[o];
      const Vec solution = C * b + e * delta;
      for (std::int64_t j = 0; j < M; ++j) phi[(r * M + j) * k + o] = solution[j];

      // Delta-method variance: phi moves by C c (r_p - E r_p) per pair, where the pair's
      // score r_p = sum over its two coalitions of z (y(z) - z . phi); the pairs are iid.
      if (exact) {
        for (std::int64_t j = 0; j < M; ++j) std_errors[(r * M + j) * k + o] = 0.0;
        continue;
      }
      if (n_pairs < 2) {
        for (std::int64_t j = 0; j < M; ++j) std_errors[(r * M + j) * k + o] = nan;
        continue;
      }
      residuals.setZero();
      for (std::int64_t p = 0; p < n_pairs; ++p) {
        for (int side = 0; side < 2; ++side) {
          const auto c = d.pairs[static_cast<std::size_t>(2 * p + side)];
          double fitted = 0.0;
          for (std::int64_t j = 0; j < M; ++j)
            if (mask(c, j)) fitted += solution[j];
          const double residual = y(c) - fitted;
          for (std::int64_t j = 0; j < M; ++j)
            if (mask(c, j)) residuals(p, j) += residual;
        }
      }
      const Eigen::RowVectorXd mean = residuals.colwise().mean();
      residuals.rowwise() -= mean;
      const Mat projected = residuals * C.transpose();
      const double n = static_cast<double>(n_pairs);
      const double scale = d.sampled_weight * d.sampled_weight / (4.0 * n * (n - 1.0));
      for (std::int64_t j = 0; j < M; ++j)
        std_errors[(r * M + j) * k + o] = std::sqrt(scale * projected.col(j).squaredNorm());
    }
  });
}

template <class T>
void coalition_rows(MatrixView<T> x, MatrixView<T> background, const std::uint8_t* masks, std::int64_t n_masks,
                    std::int64_t mask_begin, std::int64_t mask_end, T* out, int n_threads) {
  const std::int64_t M = x.cols;
  if (background.cols != M) throw InvalidArgument("background has a different number of features than X");
  if (mask_begin < 0 || mask_end < mask_begin || mask_end > n_masks) throw InvalidArgument("mask range out of bounds");
  const std::int64_t nc = mask_end - mask_begin;
  const std::int64_t B = background.rows;
  const bool contiguous = background.col_stride == 1 && background.row_stride == M;
  parallel_for(x.rows * nc, n_threads, [&](std::int64_t t) {
    const std::int64_t i = t / nc;
    const std::int64_t c = mask_begin + t % nc;
    const std::uint8_t* mask = masks + c * M;
    T* dst = out + t * B * M;
    // Copy the background block, then overwrite the coalition's columns with x: a memcpy
    // and a few strided stores instead of a branch per element.
    if (contiguous) {
      std::memcpy(dst, background.data, static_cast<std::size_t>(B * M) * sizeof(T));
    } else {
      for (std::int64_t b = 0; b < B; ++b)
        for (std::int64_t j = 0; j < M; ++j) dst[b * M + j] = background(b, j);
    }
    for (std::int64_t j = 0; j < M; ++j) {
      if (!mask[j]) continue;
      const T value = x(i, j);
      for (std::int64_t b = 0; b < B; ++b) dst[b * M + j] = value;
    }
  });
}

template void coalition_rows<double>(MatrixView<double>, MatrixView<double>, const std::uint8_t*, std::int64_t,
                                     std::int64_t, std::int64_t, double*, int);
template void coalition_rows<float>(MatrixView<float>, MatrixView<float>, const std::uint8_t*, std::int64_t,
                                    std::int64_t, std::int64_t, float*, int);

}  // namespace loopwise::explain
