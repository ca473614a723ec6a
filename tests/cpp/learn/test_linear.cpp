// Online linear learners: hand-computed steps, RLS against a direct ridge solve, bad input.
#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <cmath>
#include <random>
#include <vector>

#include "loopwise/common/error.hpp"
#include "loopwise/learn/linear.hpp"

namespace ln = loopwise::learn;
using loopwise::MatrixView;

namespace {

struct Storage {
  std::vector<double> coef, intercept, m1, m2, scaler, counts, n_updates{0.0};
  ln::LinearState state;
  Storage(std::int64_t K, std::int64_t d, std::int64_t classes)
      : coef(K * d), intercept(K), m1(K * (d + 1)), m2(K * (d + 1)), scaler(2 * d + 1), counts(classes) {
    state.n_outputs = K;
    state.n_features = d;
    state.n_classes = classes;
    state.coef = coef.data();
    state.intercept = intercept.data();
    state.moment1 = m1.data();
    state.moment2 = m2.data();
    state.scaler = scaler.data();
    state.class_counts = counts.data();
    state.n_updates = n_updates.data();
  }
};

}  // namespace

TEST(Linear, OneLogisticSgdStepByHand) {
  Storage s(1, 2, 2);
  ln::LinearConfig c;
  c.eta0 = 0.5;
  const std::vector<double> X{1.0, -2.0};
  const std::vector<double> y{1.0};
  ln::learn_sequential(c, s.state, MatrixView<double>(X.data(), 1, 2), y.data(), nullptr, nullptr, 0);
  // Output 0 -> p = 0.5, gradient p - y = -0.5; w -= 0.5 * (-0.5) * x.
  EXPECT_DOUBLE_EQ(s.coef[0], 0.25);
  EXPECT_DOUBLE_EQ(s.coef[1], -0.5);
  EXPECT_DOUBLE_EQ(s.intercept[0], 0.25);
  EXPECT_EQ(s.n_updates[0], 1.0);
}

TEST(Linear, OrderAndBatchingDoNotMatterBeyondSequence) {
  std::mt19937_64 gen(1);
  std::normal_distribution<double> normal;
  const std::int64_t n = 200, d = 3;
  std::vector<double> X(n * d), y(n);
  for (auto& v : X) v = normal(gen);
  for (std::int64_t i = 0; i < n; ++i) y[i] = X[i * d] + 0.5 * X[i * d + 1] > 0 ? 1.0 : 0.0;
  ln::LinearConfig c;
  c.optimizer = ln::Optimizer::Adam;
  c.standardize = true;
  Storage whole(1, d, 2), halves(1, d, 2);
  ln::learn_sequential(c, whole.state, MatrixView<double>(X.data(), n, d), y.data(), nullptr, nullptr, 0);
  ln::learn_sequential(c, halves.state, MatrixView<double>(X.data(), 100, d), y.data(), nullptr, nullptr, 0);
  ln::learn_sequential(c, halves.state, MatrixView<double>(X.data() + 100 * d, 100, d), y.data() + 100, nullptr,
                       nullptr, 0);
  EXPECT_EQ(whole.coef, halves.coef);
  EXPECT_EQ(whole.intercept, halves.intercept);
  EXPECT_GT(whole.coef[0], 0.0);
}

TEST(Rls, EqualsRidgeWithoutForgetting) {
  std::mt19937_64 gen(2);
  std::normal_distribution<double> normal;
  const std::int64_t n = 300, d = 4, p = d + 1;
  const double alpha = 0.5;
  Eigen::MatrixXd A(n, p);
  Eigen::VectorXd y(n);
  std::vector<double> X(n * d), yv(n);
  for (std::int64_t i = 0; i < n; ++i) {
    for (std::int64_t j = 0; j < d; ++j) A(i, j) = X[i * d + j] = normal(gen);
    A(i, d) = 1.0;
    y(i) = yv[i] = A.row(i).head(d).sum() + 2.0 + 0.1 * normal(gen);
  }
  std::vector<double> theta(p, 0.0), P(p * p, 0.0);
  for (std::int64_t a = 0; a < p; ++a) P[a * p + a] = 1.0 / alpha;
  ln::rls_sequential(theta.data(), P.data(), p, true, 1.0, MatrixView<double>(X.data(), n, d), yv.data(), nullptr);
  const Eigen::VectorXd ridge =
      (A.transpose() * A + alpha * Eigen::MatrixXd::Identity(p, p)).ldlt().solve(A.transpose() * y);
  for (std::int64_t a = 0; a < p; ++a) EXPECT_NEAR(theta[a], ridge(a), 1e-9);
}

TEST(Linear, RejectsBadInput) {
  Storage s(1, 2, 2);
  ln::LinearConfig c;
  std::vector<double> X{1.0, 2.0, 3.0, 4.0}, y{0.0, 2.0};
  MatrixView<double> view(X.data(), 2, 2);
  EXPECT_THROW(ln::learn_sequential(c, s.state, view, y.data(), nullptr, nullptr, 0), loopwise::IndexError);
  y[1] = 1.0;
  const std::int64_t order[] = {0, 5};
  EXPECT_THROW(ln::learn_sequential(c, s.state, view, y.data(), nullptr, order, 2), loopwise::IndexError);
  std::vector<double> bad_weight{1.0, -1.0};
  EXPECT_THROW(ln::learn_sequential(c, s.state, view, y.data(), bad_weight.data(), nullptr, 0),
               loopwise::InvalidArgument);
  c.prox = 1.0;
  EXPECT_THROW(ln::learn_sequential(c, s.state, view, y.data(), nullptr, nullptr, 0), loopwise::InvalidArgument);
  c.prox = 0.0;
  c.eta0 = -1.0;
  EXPECT_THROW(ln::learn_sequential(c, s.state, view, y.data(), nullptr, nullptr, 0), loopwise::InvalidArgument);
  EXPECT_EQ(s.n_updates[0], 0.0);  // nothing was learned from rejected input
  std::vector<double> theta(3), P(9);
  EXPECT_THROW(ln::rls_sequential(theta.data(), P.data(), 3, true, 1.5, view, y.data(), nullptr),
               loopwise::InvalidArgument);
}

TEST(Linear, ProximalTermPullsTowardTheAnchorByHand) {
  // Squared loss on a row the model already fits exactly: the loss gradient is zero, so the
  // step is the proximal term alone, w -= eta0 * 2 prox (w - anchor) — toward the anchor.
  Storage s(1, 2, 0);
  s.coef[0] = 1.0;  // element-wise: the state points into these buffers
  s.coef[1] = -1.0;
  const std::vector<double> anchor{0.0, 1.0};
  const std::vector<double> anchor_intercept{0.5};
  s.state.anchor_coef = anchor.data();
  s.state.anchor_intercept = anchor_intercept.data();
  ln::LinearConfig c;
  c.loss = ln::Loss::Squared;
  c.eta0 = 0.1;
  c.prox = 0.5;
  const std::vector<double> X{0.0, 0.0};
  const std::vector<double> y{0.0};  // prediction 0 = intercept 0: zero loss gradient
  ln::learn_sequential(c, s.state, MatrixView<double>(X.data(), 1, 2), y.data(), nullptr, nullptr, 0);
  EXPECT_DOUBLE_EQ(s.coef[0], 1.0 - 0.1 * 2 * 0.5 * (1.0 - 0.0));    // 0.9
  EXPECT_DOUBLE_EQ(s.coef[1], -1.0 - 0.1 * 2 * 0.5 * (-1.0 - 1.0));  // -0.8
  EXPECT_DOUBLE_EQ(s.intercept[0], 0.0 - 0.1 * 2 * 0.5 * (0.0 - 0.5));  // 0.05
}

TEST(Linear, L1SoftThresholdKeepsExactZerosByHand) {
  // One logistic SGD step then the soft-threshold max(|w| - eta0 l1, 0) sign(w): a weight the
  // gradient moves by less than eta0 * l1 ends exactly at zero, a larger one shrinks by it.
  Storage s(1, 2, 2);
  ln::LinearConfig c;
  c.eta0 = 0.5;
  c.l1 = 0.2;
  const std::vector<double> X{0.2, -2.0};
  const std::vector<double> y{1.0};
  ln::learn_sequential(c, s.state, MatrixView<double>(X.data(), 1, 2), y.data(), nullptr, nullptr, 0);
  // Gradient p - y = -0.5: before the threshold w = (0.05, -0.5); the threshold is 0.1.
  EXPECT_EQ(s.coef[0], 0.0);
  EXPECT_DOUBLE_EQ(s.coef[1], -0.4);
}
