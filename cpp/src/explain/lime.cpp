// LIME's numeric core: perturbations of one row, weighted ridge, feature selection.
#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "loopwise/common/error.hpp"
#include "loopwise/common/rng.hpp"
#include "loopwise/explain/agnostic.hpp"

namespace loopwise::explain {

double normal_quantile(double p) {
  if (!(p > 0.0 && p < 1.0)) {
    if (p == 0.0) return -std::numeric_limits<double>::infinity();
    if (p == 1.0) return std::numeric_limits<double>::infinity();
    throw InvalidArgument("normal_quantile needs p in [0, 1]");
  }
  // Acklam's rational approximation (relative error ~1e-9), then one Halley step on the
  // exact CDF (erfc keeps the tails accurate), which brings it to double precision.
  static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                             1.383577518672690e+02,  -3.066479806614716e+01, 2.506628277459239e+00};
  static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                             6.680131188771972e+01,  -1.328068155288572e+01};
  static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                             -2.549732539343734e+00, 4.374664141464968e+00,  2.938163982698783e+00};
  static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                             3.754408661907416e+00};
  const double low = 0.02425;
  double x;
  if (p < low) {
    const double q = std::sqrt(-2.0 * std::log(p));
    x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1.0);
  } else if (p <= 1.0 - low) {
    const double q = p - 0.5;
    const double r = q * q;
    x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
        (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1.0);
  } else {
    const double q = std::sqrt(-2.0 * std::log1p(-p));
    x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1.0);
  }
  const double e = 0.5 * std::erfc(-x / std::sqrt(2.0)) - p;
  const double u = e * 2.5066282746310002 * std::exp(0.5 * x * x);  // sqrt(2 pi)
  return x - u / (1.0 + 0.5 * x * u);
}

namespace {

double normal_cdf(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }

// Acklam's rational approximation alone (relative error below 1.2e-9): ample for drawing
// samples, and several times cheaper than the refined quantile.
double fast_quantile(double p) {
  static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                             1.383577518672690e+02,  -3.066479806614716e+01, 2.506628277459239e+00};
  static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                             6.680131188771972e+01,  -1.328068155288572e+01};
  static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                             -2.549732539343734e+00, 4.374664141464968e+00,  2.938163982698783e+00};
  static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                             3.754408661907416e+00};
  const double low = 0.02425;
  if (p < low) {
    const double q = std::sqrt(-2.0 * std::log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
           ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1.0);
  }
  if (p <= 1.0 - low) {
    const double q = p - 0.5;
    const double r = q * q;
    return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
           (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1.0);
  }
  const double q = std::sqrt(-2.0 * std::log1p(-p));
  return -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
         ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1.0);
}

// A bin's truncated normal in standard units: [lo, hi] and its CDF values, computed once
// per bin. Bins entirely above the mean are drawn mirrored, so 1 - Phi never cancels.
struct TruncatedNormal {
  double lo = 0.0, hi = 0.0, p_lo = 0.0, p_hi = 0.0;
  bool mirrored = false;
  TruncatedNormal() = default;
  TruncatedNormal(double a, double b) {
    mirrored = a > 0.0;
    lo = mirrored ? -b : a;
    hi = mirrored ? -a : b;
    p_lo = normal_cdf(lo);
    p_hi = normal_cdf(hi);
  }
  double draw(Rng& rng) const {
    const double p = p_lo + rng.uniform() * (p_hi - p_lo);
    double z = p <= 0.0 ? lo : (p >= 1.0 ? hi : std::clamp(fast_quantile(p), lo, hi));
    return mirrored ? -z : z;
  }
};

}  // namespace

void lime_sample(const std::vector<LimeFeature>& features, const double* row, const double* row_category,
                 std::int64_t n, bool around_instance, std::uint64_t seed, double* inverse, double* binary) {
  const std::int64_t M = static_cast<std::int64_t>(features.size());
  if (n < 1) throw InvalidArgument("num_samples must be at least 1");
  for (std::int64_t j = 0; j < M; ++j) {
    const LimeFeature& f = features[static_cast<std::size_t>(j)];
    // One stream per feature: the draws of a feature do not depend on the others.
    Rng rng(seed, static_cast<std::uint64_t>(j));
    if (!f.categorical) {
      if (!(f.scale > 0.0)) throw InvalidArgument("continuous feature with a non-positive scale");
      const double centre = around_instance ? row[j] : f.mean;
      inverse[j] = row[j];
      binary[j] = (row[j] - f.mean) / f.scale;
      for (std::int64_t i = 1; i < n; ++i) {
        const double value = rng.normal() * f.scale + centre;
        inverse[i * M + j] = value;
        binary[i * M + j] = (value - f.mean) / f.scale;
      }
      continue;
    }
    const std::size_t n_values = f.values.size();
    if (n_values == 0 || f.frequencies.size() != n_values) throw InvalidArgument("categorical feature without values");
    if (f.binned && (f.bin_mean.size() != n_values || f.bin_std.size() != n_values || f.bin_min.size() != n_values ||
                     f.bin_max.size() != n_values))
      throw InvalidArgument("binned feature with inconsistent bin statistics");
    std::vector<TruncatedNormal> truncated(f.binned ? n_values : 0);
    for (std::size_t v = 0; v < truncated.size(); ++v) {
      const double sd = f.bin_std[v];
      if (sd > 0.0 && f.bin_max[v] > f.bin_min[v])
        truncated[v] = TruncatedNormal((f.bin_min[v] - f.bin_mean[v]) / sd, (f.bin_max[v] - f.bin_mean[v]) / sd);
    }
    std::vector<double> cdf(n_values);
    std::partial_sum(f.frequencies.begin(), f.frequencies.end(), cdf.begin());
    const double total = cdf.back();
    if (!(total > 0.0)) throw InvalidArgument("category frequencies must sum to a positive number");
    inverse[j] = row[j];
    binary[j] = 1.0;
    for (std::int64_t i = 1; i < n; ++i) {
      const double u = rng.uniform() * total;
      const std::size_t pick =
          std::min<std::size_t>(static_cast<std::size_t>(std::upper_bound(cdf.begin(), cdf.end(), u) - cdf.begin()),
                                n_values - 1);
      const double category = f.values[pick];
      binary[i * M + j] = category == row_category[j] ? 1.0 : 0.0;
      if (!f.binned) {
        inverse[i * M + j] = category;
        continue;
      }
      // A value inside the bin: normal with the bin's mean and std, truncated to its range.
      const double mean = f.bin_mean[pick], sd = f.bin_std[pick], lo = f.bin_min[pick], hi = f.bin_max[pick];
      if (!(sd > 0.0) || !(hi > lo)) {
        inverse[i * M + j] = std::clamp(mean, std::min(lo, hi), std::max(lo, hi));
        continue;
      }
      inverse[i * M + j] = mean + sd * truncated[pick].draw(rng);
    }
  }
}

namespace {

// Weighted, centred second moments of all columns and the target: every ridge fit on a
// subset of columns (and its weighted R^2) follows from them without another pass over
// the rows, which makes forward selection cheap.
struct WeightedMoments {
  double w_sum = 0.0, y_mean = 0.0, yy = 0.0;
  Eigen::VectorXd x_mean, xy, first;
  Eigen::MatrixXd gram;
};

WeightedMoments moments(MatrixView<double> X, const double* y, const double* w) {
  const std::int64_t n = X.rows, M = X.cols;
  if (n < 1) throw InvalidArgument("no rows to fit");
  WeightedMoments m;
  for (std::int64_t i = 0; i < n; ++i) {
    if (!(w[i] >= 0.0) || !std::isfinite(y[i])) throw InvalidArgument("weights must be >= 0 and targets finite");
    m.w_sum += w[i];
    m.y_mean += w[i] * y[i];
  }
  if (!(m.w_sum > 0.0)) throw InvalidArgument("sample weights must have a positive sum");
  m.y_mean /= m.w_sum;
  m.x_mean = Eigen::VectorXd::Zero(M);
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j < M; ++j) m.x_mean[j] += w[i] * X(i, j);
  m.x_mean /= m.w_sum;
  m.gram = Eigen::MatrixXd::Zero(M, M);
  m.xy = Eigen::VectorXd::Zero(M);
  Eigen::VectorXd centred(M);
  for (std::int64_t i = 0; i < n; ++i) {
    for (std::int64_t j = 0; j < M; ++j) centred[j] = X(i, j) - m.x_mean[j];
    m.gram.selfadjointView<Eigen::Lower>().rankUpdate(centred, w[i]);
    const double dy = y[i] - m.y_mean;
    m.xy += (w[i] * dy) * centred;
    m.yy += w[i] * dy * dy;
  }
  m.gram.triangularView<Eigen::StrictlyUpper>() = m.gram.transpose();
  m.first = Eigen::VectorXd(M);
  for (std::int64_t j = 0; j < M; ++j) m.first[j] = X(0, j);
  return m;
}

RidgeFit fit(const WeightedMoments& m, const std::vector<std::int64_t>& used, double alpha) {
  const auto p = static_cast<std::int64_t>(used.size());
  const std::int64_t M = m.x_mean.size();
  for (auto j : used)
    if (j < 0 || j >= M) throw InvalidArgument("feature index out of range");
  if (alpha < 0.0) throw InvalidArgument("alpha must be >= 0");
  Eigen::MatrixXd gram(p, p);
  Eigen::VectorXd rhs(p), mean(p), first(p);
  for (std::int64_t a = 0; a < p; ++a) {
    const auto ja = used[static_cast<std::size_t>(a)];
    rhs[a] = m.xy[ja];
    mean[a] = m.x_mean[ja];
    first[a] = m.first[ja];
    for (std::int64_t b = 0; b < p; ++b) gram(a, b) = m.gram(ja, used[static_cast<std::size_t>(b)]);
  }
  // The centred residual sum of squares uses the unpenalised Gram matrix.
  const Eigen::MatrixXd plain = gram;
  gram.diagonal().array() += alpha;
  const Eigen::VectorXd beta = p > 0 ? Eigen::VectorXd(gram.completeOrthogonalDecomposition().solve(rhs))
                                     : Eigen::VectorXd(0);
  RidgeFit result;
  result.intercept = m.y_mean - (p > 0 ? mean.dot(beta) : 0.0);
  result.coef.assign(beta.data(), beta.data() + p);
  result.prediction_first = result.intercept + (p > 0 ? first.dot(beta) : 0.0);
  const double residual = std::max(0.0, m.yy - 2.0 * beta.dot(rhs) + beta.dot(plain * beta));
  // Weighted R^2; a constant target is fitted perfectly (1) or not at all (0).
  result.score = m.yy > 0.0 ? 1.0 - residual / m.yy : (residual <= 0.0 ? 1.0 : 0.0);
  return result;
}

}  // namespace

RidgeFit weighted_ridge(MatrixView<double> X, const double* y, const double* w, const std::vector<std::int64_t>& used,
                        double alpha) {
  return fit(moments(X, y, w), used, alpha);
}

std::vector<std::int64_t> lime_select(MatrixView<double> X, const double* y, const double* w,
                                      std::int64_t num_features, bool forward) {
  const std::int64_t M = X.cols;
  if (num_features < 0) throw InvalidArgument("num_features must be >= 0");
  num_features = std::min(num_features, M);
  const WeightedMoments m = moments(X, y, w);
  std::vector<std::int64_t> chosen;
  if (forward) {
    std::vector<bool> taken(static_cast<std::size_t>(M), false);
    for (std::int64_t step = 0; step < num_features; ++step) {
      double best = -std::numeric_limits<double>::infinity();
      std::int64_t best_feature = -1;
      for (std::int64_t j = 0; j < M; ++j) {
        if (taken[static_cast<std::size_t>(j)]) continue;
        std::vector<std::int64_t> trial(chosen);
        trial.push_back(j);
        const double score = fit(m, trial, 0.0).score;
        if (score > best) {
          best = score;
          best_feature = j;
        }
      }
      if (best_feature < 0) break;
      taken[static_cast<std::size_t>(best_feature)] = true;
      chosen.push_back(best_feature);
    }
    return chosen;
  }
  std::vector<std::int64_t> all(static_cast<std::size_t>(M));
  std::iota(all.begin(), all.end(), 0);
  const RidgeFit full = fit(m, all, 0.01);
  std::vector<double> importance(static_cast<std::size_t>(M));
  for (std::int64_t j = 0; j < M; ++j)
    importance[static_cast<std::size_t>(j)] = std::abs(full.coef[static_cast<std::size_t>(j)] * X(0, j));
  std::stable_sort(all.begin(), all.end(), [&](std::int64_t a, std::int64_t b) {
    return importance[static_cast<std::size_t>(a)] > importance[static_cast<std::size_t>(b)];
  });
  all.resize(static_cast<std::size_t>(num_features));
  return all;
}

}  // namespace loopwise::explain
