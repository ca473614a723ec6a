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
  const double u = e * std::sqrt(2.0 * M_PI) * std::exp(0.5 * x * x);
  return x - u / (1.0 + 0.5 * x * u);
}

namespace {

double normal_cdf(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }

// Draw from N(0, 1) truncated to [lo, hi] by inverting the CDF; the upper tail is
// handled by symmetry so that 1 - Phi never cancels.
double truncated_normal(double lo, double hi, Rng& rng) {
  if (lo > 0.0) return -truncated_normal(-hi, -lo, rng);
  const double p_lo = normal_cdf(lo), p_hi = normal_cdf(hi);
  const double p = p_lo + rng.uniform() * (p_hi - p_lo);
  if (p <= 0.0) return lo;
  if (p >= 1.0) return hi;
  return std::clamp(normal_quantile(p), lo, hi);
}

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
      inverse[i * M + j] = mean + sd * truncated_normal((lo - mean) / sd, (hi - mean) / sd, rng);
    }
  }
}

RidgeFit weighted_ridge(MatrixView<double> X, const double* y, const double* w, const std::vector<std::int64_t>& used,
                        double alpha) {
  const std::int64_t n = X.rows;
  const std::int64_t p = static_cast<std::int64_t>(used.size());
  for (auto j : used)
    if (j < 0 || j >= X.cols) throw InvalidArgument("feature index out of range");
  if (n < 1) throw InvalidArgument("no rows to fit");
  if (alpha < 0.0) throw InvalidArgument("alpha must be >= 0");
  double w_sum = 0.0, y_mean = 0.0;
  for (std::int64_t i = 0; i < n; ++i) {
    w_sum += w[i];
    y_mean += w[i] * y[i];
  }
  if (!(w_sum > 0.0)) throw InvalidArgument("sample weights must have a positive sum");
  y_mean /= w_sum;
  // Weighted centring removes the intercept from the penalised problem (as Ridge does).
  Eigen::VectorXd x_mean = Eigen::VectorXd::Zero(p);
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t t = 0; t < p; ++t) x_mean[t] += w[i] * X(i, used[static_cast<std::size_t>(t)]);
  x_mean /= w_sum;
  Eigen::MatrixXd gram = Eigen::MatrixXd::Zero(p, p);
  Eigen::VectorXd rhs = Eigen::VectorXd::Zero(p);
  Eigen::VectorXd centred(p);
  for (std::int64_t i = 0; i < n; ++i) {
    for (std::int64_t t = 0; t < p; ++t) centred[t] = X(i, used[static_cast<std::size_t>(t)]) - x_mean[t];
    gram.selfadjointView<Eigen::Lower>().rankUpdate(centred, w[i]);
    rhs += (w[i] * (y[i] - y_mean)) * centred;
  }
  gram.triangularView<Eigen::StrictlyUpper>() = gram.transpose();
  gram.diagonal().array() += alpha;
  const Eigen::VectorXd beta = p > 0 ? Eigen::VectorXd(gram.completeOrthogonalDecomposition().solve(rhs))
                                     : Eigen::VectorXd(0);
  RidgeFit fit;
  fit.intercept = y_mean - (p > 0 ? x_mean.dot(beta) : 0.0);
  fit.coef.assign(beta.data(), beta.data() + p);
  double residual = 0.0, spread = 0.0;
  for (std::int64_t i = 0; i < n; ++i) {
    double prediction = fit.intercept;
    for (std::int64_t t = 0; t < p; ++t) prediction += beta[t] * X(i, used[static_cast<std::size_t>(t)]);
    if (i == 0) fit.prediction_first = prediction;
    residual += w[i] * (y[i] - prediction) * (y[i] - prediction);
    spread += w[i] * (y[i] - y_mean) * (y[i] - y_mean);
  }
  // Weighted R^2; a constant target is fitted perfectly (1) or not at all (0).
  fit.score = spread > 0.0 ? 1.0 - residual / spread : (residual <= 0.0 ? 1.0 : 0.0);
  return fit;
}

std::vector<std::int64_t> lime_select(MatrixView<double> X, const double* y, const double* w,
                                      std::int64_t num_features, bool forward) {
  const std::int64_t M = X.cols;
  num_features = std::min(num_features, M);
  if (num_features < 0) throw InvalidArgument("num_features must be >= 0");
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
        const double score = weighted_ridge(X, y, w, trial, 0.0).score;
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
  const RidgeFit fit = weighted_ridge(X, y, w, all, 0.01);
  std::vector<double> importance(static_cast<std::size_t>(M));
  for (std::int64_t j = 0; j < M; ++j)
    importance[static_cast<std::size_t>(j)] = std::abs(fit.coef[static_cast<std::size_t>(j)] * X(0, j));
  std::stable_sort(all.begin(), all.end(), [&](std::int64_t a, std::int64_t b) {
    return importance[static_cast<std::size_t>(a)] > importance[static_cast<std::size_t>(b)];
  });
  all.resize(static_cast<std::size_t>(num_features));
  return all;
}

}  // namespace loopwise::explain
