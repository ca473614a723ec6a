#pragma once
/// TreeEnsemble: flat node arrays for every tree of a decision-tree ensemble, validated
/// once at construction, with exact batch prediction for each source library's semantics.
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "loopwise/common/matrix.hpp"

namespace loopwise::model {

/// How a leaf-value sum becomes a prediction in probability space.
enum class Link : std::uint8_t { kIdentity = 0, kLogistic = 1, kSoftmax = 2, kExp = 3 };

/// The numeric comparison that sends a row to the left child.
enum class Comparison : std::uint8_t { kLessEqual = 0, kLess = 1 };

/// What a numeric split does with a missing value (NaN) and with zero.
enum class MissingRule : std::uint8_t {
  kNanDefault = 0,  ///< NaN follows the default direction (XGBoost, scikit-learn, LightGBM "NaN")
  kZeroMissing = 1, ///< NaN becomes 0, and |x| <= 1e-35 follows the default direction (LightGBM "Zero")
  kNanAsZero = 2,   ///< NaN becomes 0, then compares (LightGBM "None")
};

/// How a categorical value becomes an integer category.
enum class CategoryCast : std::uint8_t {
  kCheckSignThenTruncate = 0,  ///< x < 0 is "other", else trunc(x) (XGBoost, scikit-learn)
  kTruncateThenCheckSign = 1,  ///< c = trunc(x), c < 0 is "other" (LightGBM)
};

/// Everything that defines an ensemble, as plain arrays (the binding fills it from numpy).
/// Node arrays are concatenated over trees; children are indices local to their tree.
struct TreeEnsembleData {
  std::int64_t n_features = 0;
  std::int64_t n_outputs = 1;
  std::vector<std::int64_t> tree_offsets;  ///< n_trees + 1 boundaries into the node arrays
  std::vector<std::int32_t> tree_output;   ///< output a tree adds to, or -1: leaves hold all outputs
  std::vector<std::int32_t> feature;       ///< split feature, -1 for a leaf
  std::vector<double> threshold;           ///< numeric threshold (ignored for leaves, categorical)
  std::vector<std::int32_t> left;
  std::vector<std::int32_t> right;
  std::vector<std::uint8_t> default_left;  ///< 1 when missing values go left
  std::vector<std::uint8_t> missing_rule;  ///< MissingRule per node
  std::vector<double> cover;               ///< training weight / hessian sum per node
  std::vector<double> value;               ///< per node: 1 value, or n_outputs for vector-leaf trees
  // Categorical splits, one entry per categorical node.
  std::vector<std::int64_t> cat_node;      ///< global index of each categorical node
  std::vector<std::int64_t> cat_left_ptr;  ///< segments into cat_left (size n_cat_nodes + 1)
  std::vector<std::int32_t> cat_left;      ///< categories sent left
  std::vector<std::int64_t> cat_right_ptr; ///< segments into cat_right
  std::vector<std::int32_t> cat_right;     ///< categories sent right
  std::vector<std::uint8_t> cat_other_left;///< 1 when an unlisted or negative category goes left
  std::vector<double> base_score;          ///< n_outputs raw-margin offsets
  Comparison comparison = Comparison::kLessEqual;
  bool float32_inputs = false;             ///< compare float(x) (scikit-learn trees, XGBoost)
  CategoryCast category_cast = CategoryCast::kCheckSignThenTruncate;
  Link link = Link::kIdentity;
  double link_scale = 1.0;                 ///< logistic(scale * margin), LightGBM's sigmoid
};

/// A node packed for traversal.
struct PackedNode {
  double threshold;
  std::int32_t feature;    ///< -1 for a leaf
  std::int32_t left;       ///< local child index
  std::int32_t right;
  std::int32_t category;   ///< index into category tables, -1 for numeric
  std::int32_t missing_child;  ///< child a NaN goes to under MissingRule::kNanDefault
  std::uint8_t default_left;
  std::uint8_t missing_rule;
};

/// A node for fixed-depth traversal: a leaf points to itself, so every row can take
/// exactly depth steps with no data-dependent loop exit.
struct LockstepNode {
  double threshold;
  std::int32_t feature;
  std::int32_t left;
  std::int32_t right;
  std::int32_t missing_child;
};

/// Largest tree depth accepted; deeper trees are treated as hostile input.
constexpr int kMaxTreeDepth = 4096;
/// Largest category value accepted in a split set.
constexpr std::int32_t kMaxCategory = (1 << 24) - 1;

/// A validated, immutable tree ensemble.
class TreeEnsemble {
 public:
  /// Validates every index and value; throws InvalidArgument naming the tree and node.
  explicit TreeEnsemble(TreeEnsembleData data);

  const TreeEnsembleData& data() const { return data_; }
  std::int64_t n_trees() const { return static_cast<std::int64_t>(data_.tree_offsets.size()) - 1; }
  std::int64_t n_features() const { return data_.n_features; }
  std::int64_t n_outputs() const { return data_.n_outputs; }
  std::int64_t n_nodes(std::int64_t tree) const { return n_nodes_of(tree); }
  /// Depth of each tree (a single leaf has depth 0).
  const std::vector<int>& depths() const { return depths_; }
  int max_depth() const;

  /// Global index of a tree's node.
  std::int64_t node_index(std::int64_t tree, std::int32_t local) const {
    return data_.tree_offsets[tree] + local;
  }
  const PackedNode& node(std::int64_t tree, std::int32_t local) const {
    return nodes_[data_.tree_offsets[tree] + local];
  }
  /// Leaf (or node) values: pointer to 1 value or n_outputs values.
  const double* node_value(std::int64_t tree, std::int32_t local) const {
    return data_.value.data() + value_offsets_[tree] + static_cast<std::int64_t>(local) * value_width(tree);
  }
  std::int64_t value_width(std::int64_t tree) const { return data_.tree_output[tree] < 0 ? data_.n_outputs : 1; }
  double cover(std::int64_t tree, std::int32_t local) const { return data_.cover[data_.tree_offsets[tree] + local]; }

  /// Child a value goes to at an internal node (value already read from the row).
  std::int32_t next(const PackedNode& n, double x) const {
    if (data_.float32_inputs) x = static_cast<double>(static_cast<float>(x));
    if (n.category >= 0) return categorical_next(n, x);
    switch (static_cast<MissingRule>(n.missing_rule)) {
      case MissingRule::kNanDefault:
        if (std::isnan(x)) return n.default_left ? n.left : n.right;
        break;
      case MissingRule::kZeroMissing:
        if (std::isnan(x)) x = 0.0;
        if (x >= -1e-35 && x <= 1e-35) return n.default_left ? n.left : n.right;
        break;
      case MissingRule::kNanAsZero:
        if (std::isnan(x)) x = 0.0;
        break;
    }
    const bool go_left = data_.comparison == Comparison::kLessEqual ? x <= n.threshold : x < n.threshold;
    return go_left ? n.left : n.right;
  }

  /// Leaf a row reaches in a tree (row points to n_features values with stride col_stride).
  template <class T>
  std::int32_t leaf(std::int64_t tree, const T* row, std::int64_t col_stride) const {
    const PackedNode* base = nodes_.data() + data_.tree_offsets[tree];
    std::int32_t current = 0;
    while (base[current].feature >= 0) {
      const PackedNode& n = base[current];
      current = next(n, static_cast<double>(row[n.feature * col_stride]));
    }
    return current;
  }

  /// True when every split is numeric with NaN-follows-default missing handling: the
  /// common case, which prediction serves with a branch-light traversal.
  bool simple_splits() const { return simple_splits_; }

  /// Raw margins, out is rows x n_outputs row-major. Sums trees in order (deterministic).
  template <class T>
  void predict(const MatrixView<T>& X, double* out, int n_threads) const;

  /// Leaf index reached in every tree, out is rows x n_trees row-major.
  template <class T>
  void apply(const MatrixView<T>& X, std::int32_t* out, int n_threads) const;

  /// Applies the link to margins in place (rows x n_outputs).
  void transform(double* margins, std::int64_t rows) const;

 private:
  std::int32_t categorical_next(const PackedNode& n, double x) const;
  template <class T, bool kFloat32, bool kLessEqual>
  void predict_simple(const MatrixView<T>& X, double* out, int n_threads) const;
  std::int64_t n_nodes_of(std::int64_t tree) const { return data_.tree_offsets[tree + 1] - data_.tree_offsets[tree]; }
  void validate_and_pack();

  TreeEnsembleData data_;
  std::vector<PackedNode> nodes_;
  std::vector<std::int64_t> value_offsets_;
  std::vector<int> depths_;
  bool simple_splits_ = true;
  std::vector<LockstepNode> lockstep_;  ///< filled when simple_splits_
  // Per categorical node: bitsets of left and right categories.
  std::vector<std::vector<std::uint32_t>> cat_left_bits_;
  std::vector<std::vector<std::uint32_t>> cat_right_bits_;
};

}  // namespace loopwise::model
