#pragma once
/// Online linear learners: per-sample SGD / AdaGrad / Adam updates of linear and logistic
/// models, and recursive least squares. State lives in caller-owned arrays so that the
/// Python estimators pickle and serialise without help from the core.
#include <cstdint>

#include "loopwise/common/matrix.hpp"

namespace loopwise::learn {

/// Loss of a linear model; Logistic is binary (one output) or multinomial (softmax over K
/// outputs), Hinge is binary or one-vs-rest.
enum class Loss { Logistic = 0, Hinge = 1, Squared = 2, Huber = 3 };
enum class Optimizer { Sgd = 0, Adagrad = 1, Adam = 2 };
enum class Schedule { Constant = 0, InvScaling = 1 };
/// How each sample's class weight is obtained: none, a fixed table, or n / (K n_c) from the
/// class counts seen so far ("balanced", estimated online).
enum class ClassWeight { None = 0, Given = 1, Balanced = 2 };

/// Hyper-parameters of SGD-type learning.
struct LinearConfig {
  Loss loss = Loss::Logistic;
  Optimizer optimizer = Optimizer::Sgd;
  Schedule schedule = Schedule::Constant;
  ClassWeight class_weight = ClassWeight::None;
  double eta0 = 0.01;
  double power_t = 0.5;
  double l2 = 0.0;
  double l1 = 0.0;
  double huber_epsilon = 1.0;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double epsilon = 1e-8;
  double prox = 0.0;  ///< weight of prox * ||w - w_anchor||^2
  bool fit_intercept = true;
  bool standardize = false;
};

/// Views over the mutable state of a linear learner (all row-major, owned by the caller).
struct LinearState {
  std::int64_t n_outputs = 1;   ///< K: 1 for binary classification and regression
  std::int64_t n_features = 0;  ///< d
  std::int64_t n_classes = 0;   ///< classes known to the classifier (0 for regression)
  double* coef = nullptr;       ///< K x d, in standardised units when standardize is on
  double* intercept = nullptr;  ///< K
  double* moment1 = nullptr;    ///< K x (d + 1): Adam first moments (coef columns, then intercept)
  double* moment2 = nullptr;    ///< K x (d + 1): AdaGrad / Adam second moments
  double* scaler = nullptr;     ///< 2 d + 1: running means, sums of squared deviations, count
  double* class_counts = nullptr;        ///< n_classes
  const double* class_weights = nullptr; ///< n_classes, for ClassWeight::Given
  const double* anchor_coef = nullptr;   ///< K x d, required when prox > 0
  const double* anchor_intercept = nullptr;  ///< K; null: the intercept is not pulled
  double* n_updates = nullptr;           ///< one value: updates made so far (the step counter t)
};

/// Checks the configuration; throws InvalidArgument naming the parameter.
void validate(const LinearConfig& config);

/// Learns the rows of X one by one, in `order` when given (indices into X), else in row order.
/// `y` holds class indices (as doubles, in [0, n_classes)) or regression targets;
/// `sample_weight` may be null. Every index is checked before any state changes.
void learn_sequential(const LinearConfig& config, LinearState& state, MatrixView<double> X, const double* y,
                      const double* sample_weight, const std::int64_t* order, std::int64_t n_order);

/// Recursive least squares with exponential forgetting: theta (p), P (p x p) with p = d + 1
/// when fit_intercept (the last coordinate is the intercept), else p = d.
void rls_sequential(double* theta, double* P, std::int64_t p, bool fit_intercept, double forgetting,
                    MatrixView<double> X, const double* y, const double* sample_weight);

}  // namespace loopwise::learn
