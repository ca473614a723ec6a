#include "loopwise/model/tree_ensemble.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <utility>

#include "loopwise/common/error.hpp"
#include "loopwise/common/threading.hpp"

namespace loopwise::model {

namespace {

[[noreturn]] void fail(const std::string& message) { throw InvalidArgument(message); }

[[noreturn]] void fail_node(std::int64_t tree, std::int64_t node, const std::string& message) {
  std::ostringstream text;
  text << "tree " << tree << ", node " << node << ": " << message;
  throw InvalidArgument(text.str());
}

template <class T>
void check_size(const std::vector<T>& values, std::size_t expected, const char* name) {
  if (values.size() != expected) {
    std::ostringstream text;
    text << "array '" << name << "' has " << values.size() << " entries, expected " << expected;
    fail(text.str());
  }
}

bool bit_set(const std::vector<std::uint32_t>& bits, std::int64_t category) {
  const std::int64_t word = category >> 5;
  if (word >= static_cast<std::int64_t>(bits.size())) return false;
  return (bits[word] >> (category & 31)) & 1u;
}

std::vector<std::uint32_t> make_bitset(const std::vector<std::int32_t>& categories, std::int64_t begin,
                                       std::int64_t end) {
  std::int32_t largest = -1;
  for (std::int64_t i = begin; i < end; ++i) largest = std::max(largest, categories[i]);
  std::vector<std::uint32_t> bits(static_cast<std::size_t>(largest + 32) / 32, 0u);
  for (std::int64_t i = begin; i < end; ++i) bits[categories[i] >> 5] |= 1u << (categories[i] & 31);
  return bits;
}

}  // namespace

TreeEnsemble::TreeEnsemble(TreeEnsembleData data) : data_(std::move(data)) { validate_and_pack(); }

int TreeEnsemble::max_depth() const {
  int depth = 0;
  for (int d : depths_) depth = std::max(depth, d);
  return depth;
}

void TreeEnsemble::validate_and_pack() {
  const TreeEnsembleData& d = data_;
  if (d.n_features < 1) fail("n_features must be at least 1");
  if (d.n_outputs < 1) fail("n_outputs must be at least 1");
  if (d.tree_offsets.size() < 2) fail("the ensemble has no trees (tree_offsets needs at least 2 entries)");
  const std::int64_t n_trees = static_cast<std::int64_t>(d.tree_offsets.size()) - 1;
  if (d.tree_offsets[0] != 0) fail("tree_offsets must start at 0");
  for (std::int64_t t = 0; t < n_trees; ++t) {
    if (d.tree_offsets[t + 1] <= d.tree_offsets[t]) fail_node(t, 0, "empty tree (no nodes)");
    if (d.tree_offsets[t + 1] - d.tree_offsets[t] > (std::int64_t{1} << 30)) fail_node(t, 0, "tree has too many nodes");
  }
  const std::size_t n_nodes = static_cast<std::size_t>(d.tree_offsets.back());
  check_size(d.feature, n_nodes, "feature");
  check_size(d.threshold, n_nodes, "threshold");
  check_size(d.left, n_nodes, "left");
  check_size(d.right, n_nodes, "right");
  check_size(d.default_left, n_nodes, "default_left");
  check_size(d.missing_rule, n_nodes, "missing_rule");
  check_size(d.cover, n_nodes, "cover");
  check_size(d.tree_output, static_cast<std::size_t>(n_trees), "tree_output");
  check_size(d.base_score, static_cast<std::size_t>(d.n_outputs), "base_score");
  for (double b : d.base_score)
    if (!std::isfinite(b)) fail("base_score must be finite");
  if (!std::isfinite(d.link_scale) || d.link_scale <= 0) fail("link_scale must be finite and positive");
  if (static_cast<int>(d.link) > 3) fail("unknown link");
  if (static_cast<int>(d.comparison) > 1) fail("unknown comparison");
  if (static_cast<int>(d.category_cast) > 1) fail("unknown category_cast");

  value_offsets_.assign(n_trees + 1, 0);
  for (std::int64_t t = 0; t < n_trees; ++t) {
    const std::int32_t out = d.tree_output[t];
    if (out < -1 || out >= d.n_outputs) {
      std::ostringstream text;
      text << "tree " << t << ": output index " << out << " is outside [-1, " << d.n_outputs << ")";
      fail(text.str());
    }
    value_offsets_[t + 1] = value_offsets_[t] + n_nodes_of(t) * (out < 0 ? d.n_outputs : 1);
  }
  check_size(d.value, static_cast<std::size_t>(value_offsets_.back()), "value");

  // Categorical tables.
  const std::size_t n_cat = d.cat_node.size();
  check_size(d.cat_left_ptr, n_cat + 1, "cat_left_ptr");
  check_size(d.cat_right_ptr, n_cat + 1, "cat_right_ptr");
  check_size(d.cat_other_left, n_cat, "cat_other_left");
  std::vector<std::int32_t> category_of(n_nodes, -1);
  if (d.cat_left_ptr[0] != 0 || d.cat_right_ptr[0] != 0) fail("cat_left_ptr and cat_right_ptr must start at 0");
  if (d.cat_left_ptr[n_cat] != static_cast<std::int64_t>(d.cat_left.size()) ||
      d.cat_right_ptr[n_cat] != static_cast<std::int64_t>(d.cat_right.size()))
    fail("cat_left_ptr and cat_right_ptr must end at the lengths of cat_left and cat_right");
  cat_left_bits_.resize(n_cat);
  cat_right_bits_.resize(n_cat);
  for (std::size_t c = 0; c < n_cat; ++c) {
    const std::int64_t node = d.cat_node[c];
    if (node < 0 || node >= static_cast<std::int64_t>(n_nodes)) fail("cat_node holds a node index out of range");
    if (category_of[node] >= 0) fail("cat_node lists a node twice");
    if (d.cat_left_ptr[c + 1] < d.cat_left_ptr[c] || d.cat_right_ptr[c + 1] < d.cat_right_ptr[c])
      fail("cat_left_ptr and cat_right_ptr must not decrease");
    for (std::int64_t i = d.cat_left_ptr[c]; i < d.cat_left_ptr[c + 1]; ++i)
      if (d.cat_left[i] < 0 || d.cat_left[i] > kMaxCategory) fail("cat_left holds a category value out of range");
    for (std::int64_t i = d.cat_right_ptr[c]; i < d.cat_right_ptr[c + 1]; ++i)
      if (d.cat_right[i] < 0 || d.cat_right[i] > kMaxCategory) fail("cat_right holds a category value out of range");
    if (d.cat_other_left[c] > 1) fail("cat_other_left must be 0 or 1");
    category_of[node] = static_cast<std::int32_t>(c);
    cat_left_bits_[c] = make_bitset(d.cat_left, d.cat_left_ptr[c], d.cat_left_ptr[c + 1]);
    cat_right_bits_[c] = make_bitset(d.cat_right, d.cat_right_ptr[c], d.cat_right_ptr[c + 1]);
  }

  nodes_.resize(n_nodes);
  depths_.assign(n_trees, 0);
  std::vector<std::uint8_t> visited;
  std::vector<std::pair<std::int32_t, int>> stack;
  for (std::int64_t t = 0; t < n_trees; ++t) {
    const std::int64_t offset = d.tree_offsets[t];
    const std::int64_t count = n_nodes_of(t);
    visited.assign(count, 0);
    stack.clear();
    stack.emplace_back(0, 0);
    visited[0] = 1;
    int deepest = 0;
    while (!stack.empty()) {
      const auto [local, depth] = stack.back();
      stack.pop_back();
      const std::int64_t g = offset + local;
      deepest = std::max(deepest, depth);
      PackedNode& packed = nodes_[g];
      packed.feature = d.feature[g];
      packed.threshold = d.threshold[g];
      packed.left = d.left[g];
      packed.right = d.right[g];
      packed.default_left = d.default_left[g];
      packed.missing_rule = d.missing_rule[g];
      packed.category = category_of[g];
      packed.missing_child = d.default_left[g] ? d.left[g] : d.right[g];
      if (d.feature[g] >= 0 && (category_of[g] >= 0 || d.missing_rule[g] != 0)) simple_splits_ = false;
      if (!std::isfinite(d.cover[g]) || d.cover[g] < 0) fail_node(t, local, "cover must be finite and >= 0");
      if (d.feature[g] < 0) {
        if (d.feature[g] != -1) fail_node(t, local, "split feature is negative");
        if (category_of[g] >= 0) fail_node(t, local, "a leaf cannot be a categorical split");
        const double* values = d.value.data() + value_offsets_[t] + local * value_width(t);
        for (std::int64_t k = 0; k < value_width(t); ++k)
          if (!std::isfinite(values[k])) fail_node(t, local, "leaf value is not finite");
        continue;
      }
      if (d.feature[g] >= d.n_features) {
        std::ostringstream text;
        text << "split feature " << d.feature[g] << " >= n_features " << d.n_features;
        fail_node(t, local, text.str());
      }
      if (depth >= kMaxTreeDepth) fail_node(t, local, "tree is deeper than 4096 levels");
      // +/-inf is a legitimate "all values one way, missing the other" split (scikit-learn
      // emits it); NaN compares false both ways and is never produced by a library.
      if (category_of[g] < 0 && std::isnan(d.threshold[g])) fail_node(t, local, "threshold is NaN");
      if (d.missing_rule[g] > 2) fail_node(t, local, "unknown missing_rule");
      if (d.default_left[g] > 1) fail_node(t, local, "default_left must be 0 or 1");
      for (const bool is_left : {true, false}) {
        const std::int32_t child = is_left ? d.left[g] : d.right[g];
        const char* side = is_left ? "left" : "right";
        if (child < 0 || child >= count) {
          std::ostringstream text;
          text << side << " child index " << child << " is outside [0, " << count << ")";
          fail_node(t, local, text.str());
        }
        if (visited[child]) {
          std::ostringstream text;
          text << side << " child " << child << " is reached twice (a cycle or a shared node)";
          fail_node(t, local, text.str());
        }
        visited[child] = 1;
        stack.emplace_back(child, depth + 1);
      }
    }
    // Unreachable nodes are kept (libraries leave pruned nodes behind) but never followed.
    for (std::int64_t local = 0; local < count; ++local) {
      if (!visited[local]) {
        PackedNode& packed = nodes_[offset + local];
        packed = PackedNode{0.0, -1, 0, 0, -1, 0, 0, 0};
      }
    }
    depths_[t] = deepest;
  }
  if (simple_splits_) {
    lockstep_.resize(n_nodes);
    for (std::int64_t t = 0; t < n_trees; ++t) {
      const std::int64_t offset = d.tree_offsets[t];
      for (std::int64_t local = 0; local < n_nodes_of(t); ++local) {
        const PackedNode& n = nodes_[offset + local];
        const auto self = static_cast<std::int32_t>(local);
        lockstep_[offset + local] = n.feature < 0 ? LockstepNode{0.0, 0, self, self, self}
                                                  : LockstepNode{n.threshold, n.feature, n.left, n.right, n.missing_child};
      }
    }
  }
}

std::int32_t TreeEnsemble::categorical_next(const PackedNode& n, double x) const {
  if (std::isnan(x)) return n.default_left ? n.left : n.right;
  const std::size_t c = static_cast<std::size_t>(n.category);
  bool other = false;
  std::int64_t category = 0;
  if (data_.category_cast == CategoryCast::kCheckSignThenTruncate) {
    other = x < 0.0 || x >= 2147483648.0;
    if (!other) category = static_cast<std::int64_t>(x);
  } else {
    other = x <= -2147483649.0 || x >= 2147483648.0;
    if (!other) {
      category = static_cast<std::int64_t>(x);
      other = category < 0;
    }
  }
  if (!other) {
    if (bit_set(cat_left_bits_[c], category)) return n.left;
    if (bit_set(cat_right_bits_[c], category)) return n.right;
  }
  return data_.cat_other_left[c] ? n.left : n.right;
}

template <class T, bool kFloat32, bool kLessEqual>
void TreeEnsemble::predict_simple(const MatrixView<T>& X, double* out, int n_threads) const {
  const std::int64_t k = data_.n_outputs;
  const std::int64_t n_trees_total = n_trees();
  const std::int64_t col_stride = X.col_stride;
  // Rows advance through a tree in lockstep, kLanes at a time: independent dependency
  // chains the CPU overlaps, and no unpredictable loop exit (leaves point to themselves).
  constexpr int kLanes = 8;
  constexpr std::int64_t kBlock = 128;
  parallel_blocks(X.rows, kBlock, n_threads, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t i = begin; i < end; ++i)
      for (std::int64_t j = 0; j < k; ++j) out[i * k + j] = data_.base_score[j];
    for (std::int64_t t = 0; t < n_trees_total; ++t) {
      const LockstepNode* base = lockstep_.data() + data_.tree_offsets[t];
      const std::int32_t target = data_.tree_output[t];
      const double* values = data_.value.data() + value_offsets_[t];
      const std::int64_t width = value_width(t);
      const int depth = depths_[t];
      for (std::int64_t first = begin; first < end; first += kLanes) {
        const int lanes = static_cast<int>(std::min<std::int64_t>(kLanes, end - first));
        std::int32_t current[kLanes] = {};
        const T* rows[kLanes];
        for (int l = 0; l < kLanes; ++l) rows[l] = X.row(first + (l < lanes ? l : 0));
        for (int level = 0; level < depth; ++level) {
          for (int l = 0; l < kLanes; ++l) {
            const LockstepNode& n = base[current[l]];
            double x = static_cast<double>(rows[l][n.feature * col_stride]);
            if (kFloat32) x = static_cast<double>(static_cast<float>(x));
            // Branch-free: split directions are unpredictable.
            const std::int32_t go_left = kLessEqual ? (x <= n.threshold) : (x < n.threshold);
            const std::int32_t is_nan = x != x;
            std::int32_t child = n.right ^ ((n.left ^ n.right) & -go_left);
            child ^= (child ^ n.missing_child) & -is_nan;
            current[l] = child;
          }
        }
        for (int l = 0; l < lanes; ++l) {
          const double* leaf_values = values + current[l] * width;
          double* row_out = out + (first + l) * k;
          if (target >= 0) {
            row_out[target] += leaf_values[0];
          } else {
            for (std::int64_t j = 0; j < k; ++j) row_out[j] += leaf_values[j];
          }
        }
      }
    }
  });
}

template <class T>
void TreeEnsemble::predict(const MatrixView<T>& X, double* out, int n_threads) const {
  if (X.cols != data_.n_features) throw InvalidArgument("X has the wrong number of columns");
  if (simple_splits_) {
    const bool less_equal = data_.comparison == Comparison::kLessEqual;
    if (data_.float32_inputs) {
      less_equal ? predict_simple<T, true, true>(X, out, n_threads) : predict_simple<T, true, false>(X, out, n_threads);
    } else {
      less_equal ? predict_simple<T, false, true>(X, out, n_threads) : predict_simple<T, false, false>(X, out, n_threads);
    }
    return;
  }
  const std::int64_t k = data_.n_outputs;
  const std::int64_t n_trees_total = n_trees();
  // Blocks of rows keep a tree's nodes hot in cache; each row still sums trees in order.
  constexpr std::int64_t kBlock = 64;
  parallel_blocks(X.rows, kBlock, n_threads, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t i = begin; i < end; ++i)
      for (std::int64_t j = 0; j < k; ++j) out[i * k + j] = data_.base_score[j];
    for (std::int64_t t = 0; t < n_trees_total; ++t) {
      const std::int32_t target = data_.tree_output[t];
      for (std::int64_t i = begin; i < end; ++i) {
        const std::int32_t leaf_index = leaf(t, X.row(i), X.col_stride);
        const double* values = node_value(t, leaf_index);
        if (target >= 0) {
          out[i * k + target] += values[0];
        } else {
          for (std::int64_t j = 0; j < k; ++j) out[i * k + j] += values[j];
        }
      }
    }
  });
}

template <class T>
void TreeEnsemble::apply(const MatrixView<T>& X, std::int32_t* out, int n_threads) const {
  if (X.cols != data_.n_features) throw InvalidArgument("X has the wrong number of columns");
  const std::int64_t n_trees_total = n_trees();
  parallel_blocks(X.rows, 64, n_threads, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t i = begin; i < end; ++i)
      for (std::int64_t t = 0; t < n_trees_total; ++t) out[i * n_trees_total + t] = leaf(t, X.row(i), X.col_stride);
  });
}

void TreeEnsemble::transform(double* margins, std::int64_t rows) const {
  const std::int64_t k = data_.n_outputs;
  const double scale = data_.link_scale;
  switch (data_.link) {
    case Link::kIdentity:
      return;
    case Link::kLogistic:
      for (std::int64_t i = 0; i < rows * k; ++i) margins[i] = 1.0 / (1.0 + std::exp(-scale * margins[i]));
      return;
    case Link::kExp:
      for (std::int64_t i = 0; i < rows * k; ++i) margins[i] = std::exp(margins[i]);
      return;
    case Link::kSoftmax:
      for (std::int64_t i = 0; i < rows; ++i) {
        double* row = margins + i * k;
        double largest = row[0];
        for (std::int64_t j = 1; j < k; ++j) largest = std::max(largest, row[j]);
        double total = 0.0;
        for (std::int64_t j = 0; j < k; ++j) total += (row[j] = std::exp(row[j] - largest));
        for (std::int64_t j = 0; j < k; ++j) row[j] /= total;
      }
      return;
  }
}

template void TreeEnsemble::predict<float>(const MatrixView<float>&, double*, int) const;
template void TreeEnsemble::predict<double>(const MatrixView<double>&, double*, int) const;
template void TreeEnsemble::apply<float>(const MatrixView<float>&, std::int32_t*, int) const;
template void TreeEnsemble::apply<double>(const MatrixView<double>&, std::int32_t*, int) const;

}  // namespace loopwise::model
