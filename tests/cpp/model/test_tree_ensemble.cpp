// TreeEnsemble validation and split semantics, without Python.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "loopwise/common/error.hpp"
#include "loopwise/model/tree_ensemble.hpp"

using loopwise::InvalidArgument;
using loopwise::MatrixView;
using loopwise::model::Comparison;
using loopwise::model::MissingRule;
using loopwise::model::TreeEnsemble;
using loopwise::model::TreeEnsembleData;

namespace {

// Stump on feature 0 at 0.5: left leaf 1.0, right leaf 2.0, missing goes left.
TreeEnsembleData stump() {
  TreeEnsembleData d;
  d.n_features = 2;
  d.n_outputs = 1;
  d.tree_offsets = {0, 3};
  d.tree_output = {0};
  d.feature = {0, -1, -1};
  d.threshold = {0.5, 0.0, 0.0};
  d.left = {1, 0, 0};
  d.right = {2, 0, 0};
  d.default_left = {1, 0, 0};
  d.missing_rule = {0, 0, 0};
  d.cover = {2.0, 1.0, 1.0};
  d.value = {0.0, 1.0, 2.0};
  d.cat_left_ptr = {0};
  d.cat_right_ptr = {0};
  d.base_score = {0.25};
  return d;
}

double predict_one(const TreeEnsemble& e, double x0) {
  const double row[2] = {x0, 0.0};
  double out = 0.0;
  e.predict(MatrixView<double>(row, 1, 2), &out, 1);
  return out;
}

void expect_invalid(TreeEnsembleData d, const std::string& fragment) {
  try {
    TreeEnsemble e(std::move(d));
    FAIL() << "expected InvalidArgument containing '" << fragment << "'";
  } catch (const InvalidArgument& error) {
    EXPECT_NE(std::string(error.what()).find(fragment), std::string::npos) << error.what();
  }
}

}  // namespace

TEST(TreeEnsemble, LessEqualAndLessDifferAtTheThreshold) {
  TreeEnsemble le(stump());
  EXPECT_DOUBLE_EQ(predict_one(le, 0.5), 1.25);
  EXPECT_DOUBLE_EQ(predict_one(le, 0.6), 2.25);
  auto d = stump();
  d.comparison = Comparison::kLess;
  TreeEnsemble lt(std::move(d));
  EXPECT_DOUBLE_EQ(predict_one(lt, 0.5), 2.25);
  EXPECT_DOUBLE_EQ(predict_one(lt, 0.4), 1.25);
}

TEST(TreeEnsemble, MissingRules) {
  TreeEnsemble nan_default(stump());
  EXPECT_DOUBLE_EQ(predict_one(nan_default, std::nan("")), 1.25);

  auto zero = stump();
  zero.missing_rule[0] = static_cast<std::uint8_t>(MissingRule::kZeroMissing);
  zero.default_left[0] = 0;
  zero.threshold[0] = 1.0;
  TreeEnsemble zero_missing(std::move(zero));
  EXPECT_DOUBLE_EQ(predict_one(zero_missing, 0.0), 2.25);           // zero is missing -> right
  EXPECT_DOUBLE_EQ(predict_one(zero_missing, std::nan("")), 2.25);  // NaN becomes zero
  EXPECT_DOUBLE_EQ(predict_one(zero_missing, 0.1), 1.25);

  auto none = stump();
  none.missing_rule[0] = static_cast<std::uint8_t>(MissingRule::kNanAsZero);
  none.default_left[0] = 0;
  none.threshold[0] = -1.0;
  TreeEnsemble nan_as_zero(std::move(none));
  EXPECT_DOUBLE_EQ(predict_one(nan_as_zero, std::nan("")), 2.25);  // 0 > -1 -> right
}

TEST(TreeEnsemble, Float32InputsCompareAfterRounding) {
  auto d = stump();
  d.threshold[0] = 0.1;  // float(0.1) = 0.100000001490116... > 0.1
  TreeEnsemble as_double(d);
  d.float32_inputs = true;
  TreeEnsemble as_float(std::move(d));
  EXPECT_DOUBLE_EQ(predict_one(as_double, 0.1), 1.25);
  EXPECT_DOUBLE_EQ(predict_one(as_float, 0.1), 2.25);
  EXPECT_DOUBLE_EQ(predict_one(as_float, 0.09999999), 1.25);
}

TEST(TreeEnsemble, CategoricalSplits) {
  auto d = stump();
  d.cat_node = {0};
  d.cat_left_ptr = {0, 2};
  d.cat_left = {1, 40};
  d.cat_right_ptr = {0, 1};
  d.cat_right = {3};
  d.cat_other_left = {0};
  d.default_left = {1, 0, 0};
  TreeEnsemble e(std::move(d));
  EXPECT_DOUBLE_EQ(predict_one(e, 1.0), 1.25);
  EXPECT_DOUBLE_EQ(predict_one(e, 40.0), 1.25);
  EXPECT_DOUBLE_EQ(predict_one(e, 3.0), 2.25);
  EXPECT_DOUBLE_EQ(predict_one(e, 3.9), 2.25);   // truncated
  EXPECT_DOUBLE_EQ(predict_one(e, 7.0), 2.25);   // unlisted -> other (right)
  EXPECT_DOUBLE_EQ(predict_one(e, -1.0), 2.25);  // negative -> other
  EXPECT_DOUBLE_EQ(predict_one(e, 1e12), 2.25);  // far beyond any bitset
  EXPECT_DOUBLE_EQ(predict_one(e, std::nan("")), 1.25);  // missing -> default (left)
}

TEST(TreeEnsemble, VectorLeavesAndLinks) {
  TreeEnsembleData d = stump();
  d.n_outputs = 2;
  d.tree_output = {-1};
  d.value = {0, 0, 1.0, -1.0, 2.0, -2.0};
  d.base_score = {0.0, 0.0};
  d.link = loopwise::model::Link::kSoftmax;
  TreeEnsemble e(std::move(d));
  const double row[2] = {0.0, 0.0};
  double out[2];
  e.predict(MatrixView<double>(row, 1, 2), out, 1);
  EXPECT_DOUBLE_EQ(out[0], 1.0);
  EXPECT_DOUBLE_EQ(out[1], -1.0);
  e.transform(out, 1);
  EXPECT_NEAR(out[0], std::exp(1.0) / (std::exp(1.0) + std::exp(-1.0)), 1e-15);
  EXPECT_NEAR(out[0] + out[1], 1.0, 1e-15);
}

TEST(TreeEnsemble, ThreadCountDoesNotChangeResults) {
  // A few hundred random stumps on random rows.
  TreeEnsembleData d;
  d.n_features = 3;
  d.n_outputs = 1;
  d.tree_offsets = {0};
  d.cat_left_ptr = {0};
  d.cat_right_ptr = {0};
  d.base_score = {0.0};
  for (int t = 0; t < 300; ++t) {
    d.feature.insert(d.feature.end(), {t % 3, -1, -1});
    d.threshold.insert(d.threshold.end(), {std::sin(t * 1.7), 0.0, 0.0});
    d.left.insert(d.left.end(), {1, 0, 0});
    d.right.insert(d.right.end(), {2, 0, 0});
    d.default_left.insert(d.default_left.end(), {static_cast<std::uint8_t>(t % 2), 0, 0});
    d.missing_rule.insert(d.missing_rule.end(), {0, 0, 0});
    d.cover.insert(d.cover.end(), {2.0, 1.0, 1.0});
    d.value.insert(d.value.end(), {0.0, 0.1 * std::cos(t), 0.3 * std::sin(t * 0.3)});
    d.tree_output.push_back(0);
    d.tree_offsets.push_back(d.tree_offsets.back() + 3);
  }
  TreeEnsemble e(std::move(d));
  std::vector<double> rows(3 * 1000);
  for (std::size_t i = 0; i < rows.size(); ++i) rows[i] = std::sin(static_cast<double>(i) * 0.37);
  MatrixView<double> X(rows.data(), 1000, 3);
  std::vector<double> one(1000), two(1000);
  e.predict(X, one.data(), 1);
  e.predict(X, two.data(), 2);
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(one[i], two[i]);
}

TEST(TreeEnsembleValidation, ChildOutOfRange) {
  auto d = stump();
  d.left[0] = 9;
  expect_invalid(d, "tree 0, node 0: left child index 9");
  d = stump();
  d.right[0] = -3;
  expect_invalid(d, "right child index -3");
}

TEST(TreeEnsembleValidation, CyclesAndSharedNodes) {
  auto d = stump();
  d.left[0] = 0;
  expect_invalid(d, "reached twice");
  d = stump();
  d.right[0] = 1;
  expect_invalid(d, "reached twice");
}

TEST(TreeEnsembleValidation, FeatureThresholdValuesAndSizes) {
  auto d = stump();
  d.feature[0] = 2;
  expect_invalid(d, "split feature 2 >= n_features 2");
  d = stump();
  d.threshold[0] = std::numeric_limits<double>::quiet_NaN();
  expect_invalid(d, "threshold is NaN");
  d = stump();
  d.value[2] = std::numeric_limits<double>::infinity();
  expect_invalid(d, "tree 0, node 2: leaf value is not finite");
  d = stump();
  d.value.pop_back();
  expect_invalid(d, "'value' has 2 entries, expected 3");
  d = stump();
  d.tree_offsets = {0, 0, 3};
  d.tree_output = {0, 0};
  expect_invalid(d, "empty tree");
  d = stump();
  d.tree_offsets = {0};
  d.tree_output = {};
  expect_invalid(d, "no trees");
}

TEST(TreeEnsembleValidation, AbsurdDepth) {
  const int depth = 5000;
  TreeEnsembleData d = stump();
  const int n = 2 * depth + 1;
  d.tree_offsets = {0, n};
  d.feature.assign(n, -1);
  d.threshold.assign(n, 0.0);
  d.left.assign(n, 0);
  d.right.assign(n, 0);
  d.default_left.assign(n, 0);
  d.missing_rule.assign(n, 0);
  d.cover.assign(n, 1.0);
  d.value.assign(n, 0.0);
  for (int level = 0; level < depth; ++level) {
    d.feature[2 * level] = 0;
    d.left[2 * level] = 2 * level + 1;
    d.right[2 * level] = 2 * level + 2;
  }
  expect_invalid(d, "deeper than 4096");
}

TEST(TreeEnsembleValidation, CategoricalTables) {
  auto d = stump();
  d.cat_node = {1};  // a leaf
  d.cat_left_ptr = {0, 0};
  d.cat_right_ptr = {0, 0};
  d.cat_other_left = {0};
  expect_invalid(d, "a leaf cannot be a categorical split");
  d.cat_node = {99};
  expect_invalid(d, "cat_node holds a node index out of range");
  d.cat_node = {0};
  d.cat_left_ptr = {0, 1};
  d.cat_left = {-1};
  expect_invalid(d, "holds a category value out of range");
  d.cat_left_ptr = {0, 5};
  d.cat_left = {1};
  expect_invalid(d, "cat_left_ptr and cat_right_ptr must end");
}

TEST(TreeEnsembleValidation, WrongWidthAtPredict) {
  TreeEnsemble e(stump());
  const double row[3] = {0, 0, 0};
  double out = 0;
  EXPECT_THROW(e.predict(MatrixView<double>(row, 1, 3), &out, 1), InvalidArgument);
}
