// Sequential updates of online linear learners. Each sample is one optimiser step, in the
// order given: the point of learning in C++ is that a batch from Python is not averaged
// into a single step (as river's learn_many does) but applied sample by sample.
#include "loopwise/learn/linear.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "loopwise/common/error.hpp"

namespace loopwise::learn {

namespace {

double sigmoid(double z) {
  // Two branches so that exp never overflows.
  if (z >= 0.0) return 1.0 / (1.0 + std::exp(-z));
  const double e = std::exp(z);
  return e / (1.0 + e);
}

void check_finite(double value, const char* name) {
  if (!std::isfinite(value)) throw InvalidArgument(std::string(name) + " must be finite");
}

/// Per-sample constants of an optimiser step.
struct StepConstants {
  double lr, l2, prox2, beta1, beta2, c1, c2, epsilon;
};

/// Updates one output's weights: w_j -= step(g z_j + l2 w_j [+ 2 prox (w_j - anchor_j)]).
/// Specialised per optimiser and anchor use so that the loop has no branches and vectorises.
template <Optimizer O, bool Anchored>
void update_weights(double* w, double* m, double* v, const double* z, const double* anchor, std::int64_t d, double g,
                    const StepConstants& k) {
  for (std::int64_t j = 0; j < d; ++j) {
    double grad = g * z[j] + k.l2 * w[j];
    if (Anchored) grad += k.prox2 * (w[j] - anchor[j]);
    if (O == Optimizer::Sgd) {
      w[j] -= k.lr * grad;
    } else if (O == Optimizer::Adagrad) {
      v[j] += grad * grad;
      w[j] -= k.lr * grad / (std::sqrt(v[j]) + k.epsilon);
    } else {
      m[j] = k.beta1 * m[j] + (1.0 - k.beta1) * grad;
      v[j] = k.beta2 * v[j] + (1.0 - k.beta2) * grad * grad;
      w[j] -= k.lr * (m[j] / k.c1) / (std::sqrt(v[j] / k.c2) + k.epsilon);
    }
  }
}

template <bool Anchored>
void update_weights(Optimizer o, double* w, double* m, double* v, const double* z, const double* anchor,
                    std::int64_t d, double g, const StepConstants& k) {
  switch (o) {
    case Optimizer::Sgd:
      return update_weights<Optimizer::Sgd, Anchored>(w, m, v, z, anchor, d, g, k);
    case Optimizer::Adagrad:
      return update_weights<Optimizer::Adagrad, Anchored>(w, m, v, z, anchor, d, g, k);
    case Optimizer::Adam:
      return update_weights<Optimizer::Adam, Anchored>(w, m, v, z, anchor, d, g, k);
  }
}

/// One optimiser step on a single parameter (the intercepts).
inline void step_one(Optimizer o, const StepConstants& k, double grad, double& p, double& m, double& v) {
  if (o == Optimizer::Sgd) {
    p -= k.lr * grad;
  } else if (o == Optimizer::Adagrad) {
    v += grad * grad;
    p -= k.lr * grad / (std::sqrt(v) + k.epsilon);
  } else {
    m = k.beta1 * m + (1.0 - k.beta1) * grad;
    v = k.beta2 * v + (1.0 - k.beta2) * grad * grad;
    p -= k.lr * (m / k.c1) / (std::sqrt(v / k.c2) + k.epsilon);
  }
}

/// w . z with four partial sums (shorter dependency chains than one running sum).
inline double dot(const double* w, const double* z, std::int64_t d) {
  double a0 = 0.0, a1 = 0.0, a2 = 0.0, a3 = 0.0;
  std::int64_t j = 0;
  for (; j + 4 <= d; j += 4) {
    a0 += w[j] * z[j];
    a1 += w[j + 1] * z[j + 1];
    a2 += w[j + 2] * z[j + 2];
    a3 += w[j + 3] * z[j + 3];
  }
  for (; j < d; ++j) a0 += w[j] * z[j];
  return (a0 + a1) + (a2 + a3);
}

}  // namespace

void validate(const LinearConfig& c) {
  if (!(c.eta0 > 0.0) || !std::isfinite(c.eta0)) throw InvalidArgument("eta0 must be a positive finite number");
  if (!(c.power_t >= 0.0)) throw InvalidArgument("power_t must be >= 0");
  if (!(c.l2 >= 0.0) || !std::isfinite(c.l2)) throw InvalidArgument("alpha (L2 strength) must be >= 0");
  if (!(c.l1 >= 0.0) || !std::isfinite(c.l1)) throw InvalidArgument("l1 must be >= 0");
  if (!(c.huber_epsilon > 0.0)) throw InvalidArgument("epsilon (Huber) must be > 0");
  if (!(c.beta1 >= 0.0 && c.beta1 < 1.0)) throw InvalidArgument("beta1 must be in [0, 1)");
  if (!(c.beta2 >= 0.0 && c.beta2 < 1.0)) throw InvalidArgument("beta2 must be in [0, 1)");
  if (!(c.epsilon > 0.0)) throw InvalidArgument("epsilon must be > 0");
  if (!(c.prox >= 0.0) || !std::isfinite(c.prox)) throw InvalidArgument("prox must be >= 0");
}

void learn_sequential(const LinearConfig& c, LinearState& s, MatrixView<double> X, const double* y,
                      const double* sample_weight, const std::int64_t* order, std::int64_t n_order) {
  validate(c);
  const std::int64_t d = s.n_features, K = s.n_outputs;
  const bool classifier = c.loss == Loss::Logistic || c.loss == Loss::Hinge;
  if (X.cols != d) throw InvalidArgument("X has " + std::to_string(X.cols) + " features, the model " + std::to_string(d));
  if (K < 1) throw InvalidArgument("the model needs at least one output");
  if (!s.coef || !s.intercept || !s.moment1 || !s.moment2 || !s.scaler || !s.n_updates) {
    throw InvalidArgument("learner state is incomplete");
  }
  if (classifier) {
    if (s.n_classes < 2) throw InvalidArgument("a classifier needs at least two classes");
    const std::int64_t expected = s.n_classes == 2 ? 1 : s.n_classes;
    if (K != expected) throw InvalidArgument("number of outputs does not match the number of classes");
    if (c.class_weight != ClassWeight::None && !s.class_counts) throw InvalidArgument("class counts missing");
    if (c.class_weight == ClassWeight::Given && !s.class_weights) throw InvalidArgument("class weights missing");
  } else if (K != 1) {
    throw InvalidArgument("a regressor has one output");
  }
  if (c.prox > 0.0 && !s.anchor_coef) throw InvalidArgument("prox > 0 needs an anchor");
  const std::int64_t n = order ? n_order : X.rows;
  // Validate everything up front so a bad row never leaves a half-updated model.
  for (std::int64_t r = 0; r < n; ++r) {
    const std::int64_t i = order ? order[r] : r;
    if (i < 0 || i >= X.rows) throw IndexError("row order index out of range");
  }
  // Labels, weights and the row order are checked up front because the loop indexes with
  // them; X is checked row by row as it is read (one pass over memory instead of two), and
  // a non-finite value restores the state saved here, so bad input never half-updates.
  for (std::int64_t i = 0; i < X.rows; ++i) {
    check_finite(y[i], "y");
    if (classifier) {
      if (y[i] < 0.0 || y[i] >= static_cast<double>(s.n_classes) || y[i] != std::floor(y[i])) {
        throw IndexError("class index out of range");
      }
    }
    if (sample_weight && (!std::isfinite(sample_weight[i]) || sample_weight[i] < 0.0)) {
      throw InvalidArgument("sample_weight must be finite and >= 0");
    }
  }

  std::vector<double> buffer(static_cast<std::size_t>(d)), out(static_cast<std::size_t>(K)),
      g(static_cast<std::size_t>(K));
  double* mean = s.scaler;
  double* m2 = s.scaler + d;
  double& count = s.scaler[2 * d];
  const bool direct = !c.standardize && X.col_stride == 1;  // learn straight from the caller's row
  double seen = 0.0;
  if (classifier && c.class_weight != ClassWeight::None) {
    for (std::int64_t k = 0; k < s.n_classes; ++k) seen += s.class_counts[k];
  }
  StepConstants constants{0.0, c.l2, 2.0 * c.prox, c.beta1, c.beta2, 1.0, 1.0, c.epsilon};
  struct Saved {
    double* data;
    std::vector<double> copy;
  };
  std::vector<Saved> saved;
  auto keep = [&](double* data, std::int64_t size) {
    if (data) saved.push_back(Saved{data, std::vector<double>(data, data + size)});
  };
  keep(s.coef, K * d);
  keep(s.intercept, K);
  keep(s.moment1, K * (d + 1));
  keep(s.moment2, K * (d + 1));
  keep(s.scaler, 2 * d + 1);
  keep(s.n_updates, 1);
  if (classifier && c.class_weight != ClassWeight::None) keep(s.class_counts, s.n_classes);
  const bool anchored = c.prox > 0.0;
  for (std::int64_t r = 0; r < n; ++r) {
    const std::int64_t i = order ? order[r] : r;
    const double* x = X.row(i);
    const double* z = direct ? x : buffer.data();
    auto reject_if_not_finite = [&] {
      bool finite = true;
      for (std::int64_t j = 0; j < d; ++j) finite &= std::isfinite(x[j * X.col_stride]);
      if (finite) return;
      for (auto& item : saved) std::copy(item.copy.begin(), item.copy.end(), item.data);
      throw InvalidArgument("Input X contains NaN or infinity (row " + std::to_string(i) + "); nothing was learned");
    };
    if (c.standardize) {
      reject_if_not_finite();  // standardising would turn NaN into 0 and hide it
      // Online standardisation: the statistics include the current sample (Welford).
      count += 1.0;
      for (std::int64_t j = 0; j < d; ++j) {
        const double xj = x[j * X.col_stride];
        const double delta = xj - mean[j];
        mean[j] += delta / count;
        m2[j] += delta * (xj - mean[j]);
        const double var = m2[j] / count;
        buffer[j] = var > 0.0 ? (xj - mean[j]) / std::sqrt(var) : 0.0;
      }
    } else if (!direct) {
      for (std::int64_t j = 0; j < d; ++j) buffer[j] = x[j * X.col_stride];
    }
    bool outputs_finite = true;
    for (std::int64_t k = 0; k < K; ++k) {
      out[k] = s.intercept[k] + dot(s.coef + k * d, z, d);
      outputs_finite &= std::isfinite(out[k]);
    }
    // A NaN or infinite input makes the output non-finite (0 * inf is NaN), so finite
    // outputs prove a finite row without reading it twice; otherwise look at the row.
    if (!outputs_finite) reject_if_not_finite();
    double weight = sample_weight ? sample_weight[i] : 1.0;
    const auto label = classifier ? static_cast<std::int64_t>(y[i]) : 0;
    if (classifier && c.class_weight != ClassWeight::None) {
      s.class_counts[label] += 1.0;
      seen += 1.0;
      if (c.class_weight == ClassWeight::Given) {
        weight *= s.class_weights[label];
      } else {
        weight *= seen / (static_cast<double>(s.n_classes) * s.class_counts[label]);
      }
    }
    // d loss / d output.
    switch (c.loss) {
      case Loss::Logistic:
        if (K == 1) {
          g[0] = sigmoid(out[0]) - (label == 1 ? 1.0 : 0.0);
        } else {
          const double top = *std::max_element(out.begin(), out.end());
          double total = 0.0;
          for (std::int64_t k = 0; k < K; ++k) total += (g[k] = std::exp(out[k] - top));
          for (std::int64_t k = 0; k < K; ++k) g[k] = g[k] / total - (k == label ? 1.0 : 0.0);
        }
        break;
      case Loss::Hinge:
        for (std::int64_t k = 0; k < K; ++k) {
          const double sign = (K == 1 ? label == 1 : label == k) ? 1.0 : -1.0;
          g[k] = sign * out[k] < 1.0 ? -sign : 0.0;
        }
        break;
      case Loss::Squared:
        g[0] = out[0] - y[i];
        break;
      case Loss::Huber: {
        const double residual = out[0] - y[i];
        g[0] = std::fabs(residual) <= c.huber_epsilon ? residual : (residual > 0 ? c.huber_epsilon : -c.huber_epsilon);
        break;
      }
    }
    const double t = *s.n_updates;
    const double t1 = t + 1.0;
    constants.lr = c.schedule == Schedule::Constant ? c.eta0 : c.eta0 / std::pow(t + 1.0, c.power_t);
    if (c.optimizer == Optimizer::Adam) {
      constants.c1 = 1.0 - std::pow(c.beta1, t1);
      constants.c2 = 1.0 - std::pow(c.beta2, t1);
    }
    for (std::int64_t k = 0; k < K; ++k) {
      const double gk = weight * g[k];
      double* w = s.coef + k * d;
      double* m = s.moment1 + k * (d + 1);
      double* v = s.moment2 + k * (d + 1);
      if (anchored) {
        update_weights<true>(c.optimizer, w, m, v, z, s.anchor_coef + k * d, d, gk, constants);
      } else {
        update_weights<false>(c.optimizer, w, m, v, z, nullptr, d, gk, constants);
      }
      if (c.l1 > 0.0) {
        // L1 as a proximal (soft-threshold) step, which keeps exact zeros.
        const double shrink = constants.lr * c.l1;
        for (std::int64_t j = 0; j < d; ++j) w[j] = w[j] > 0.0 ? std::max(w[j] - shrink, 0.0) : std::min(w[j] + shrink, 0.0);
      }
      if (c.fit_intercept) {
        double grad = gk;
        if (anchored && s.anchor_intercept) grad += constants.prox2 * (s.intercept[k] - s.anchor_intercept[k]);
        step_one(c.optimizer, constants, grad, s.intercept[k], m[d], v[d]);
      }
    }
    *s.n_updates = t1;
  }
}

void rls_sequential(double* theta, double* P, std::int64_t p, bool fit_intercept, double forgetting,
                    MatrixView<double> X, const double* y, const double* sample_weight) {
  if (!(forgetting > 0.0 && forgetting <= 1.0)) throw InvalidArgument("forgetting must be in (0, 1]");
  const std::int64_t d = fit_intercept ? p - 1 : p;
  if (X.cols != d) throw InvalidArgument("X has " + std::to_string(X.cols) + " features, the model " + std::to_string(d));
  for (std::int64_t i = 0; i < X.rows; ++i) {
    for (std::int64_t j = 0; j < d; ++j) check_finite(X(i, j), "X");
    check_finite(y[i], "y");
    if (sample_weight && (!std::isfinite(sample_weight[i]) || sample_weight[i] < 0.0)) {
      throw InvalidArgument("sample_weight must be finite and >= 0");
    }
  }
  std::vector<double> x(static_cast<std::size_t>(p)), Px(static_cast<std::size_t>(p));
  for (std::int64_t i = 0; i < X.rows; ++i) {
    for (std::int64_t j = 0; j < d; ++j) x[j] = X(i, j);
    if (fit_intercept) x[d] = 1.0;
    const double w = sample_weight ? sample_weight[i] : 1.0;
    if (w == 0.0 && forgetting == 1.0) continue;
    double xPx = 0.0, prediction = 0.0;
    for (std::int64_t a = 0; a < p; ++a) {
      double acc = 0.0;
      for (std::int64_t b = 0; b < p; ++b) acc += P[a * p + b] * x[b];
      Px[a] = acc;
      xPx += x[a] * acc;
      prediction += theta[a] * x[a];
    }
    // Sherman-Morrison update of P = (sum lambda^(n-i) w_i x_i x_i' + lambda^n alpha I)^-1.
    const double denominator = forgetting + w * xPx;
    const double residual = y[i] - prediction;
    for (std::int64_t a = 0; a < p; ++a) theta[a] += w * Px[a] / denominator * residual;
    for (std::int64_t a = 0; a < p; ++a) {
      for (std::int64_t b = 0; b < p; ++b) P[a * p + b] = (P[a * p + b] - w * Px[a] * Px[b] / denominator) / forgetting;
    }
  }
}

}  // namespace loopwise::learn
