// Interventional TreeSHAP by background path patterns: the fast path for raw values.
//
// For a leaf whose path splits on the distinct features ("slots") F, a background row r's
// pattern is the set of slots whose splits r satisfies all along the path. It does not depend
// on the explained row x, so it is computed once per (leaf, r) when the explainer is built,
// and rows with the same pattern are merged (with a count). For x, with X the slots x
// satisfies, the hybrid (x_S, r_rest) reaches the leaf for some S exactly when every slot x
// fails is in r's pattern p (B = F - X must lie in p); then A = F - p (x must supply them) and
// the leaf adds v * c * |A - 1|! |B|! / (|A| + |B|)! to each slot of A and subtracts
// v * c * |A|! |B - 1|! / (|A| + |B|)! from each of B, c the pattern's count: the terms of
// the row-set walk (treeshap_interventional.cpp), one per distinct pattern instead of one per
// background row. The depth-first walk over x keeps the row-set walk's bitsets of the rows
// still able to pair with x only to skip subtrees no background row reaches.
//
// A pattern is 8 bytes (the failed slots as 32 bits, their count, the rows sharing it), so
// patterns are used when paths have at most 32 distinct features and the background at most
// 65,535 rows; the leaf loop is branch-free per pattern (the libraries' portable build has no
// popcount instruction, hence the stored count). For one-output trees, attributions gather
// per slot while the slot is on the path (as in the row-set walk's walk_fast): gains as the
// leaves are scored, losses as the summed losses of the subtree where x first fails the slot.
#include <algorithm>
#include <string>
#include <vector>

#include "loopwise/common/error.hpp"
#include "loopwise/common/threading.hpp"
#include "loopwise/explain/treeshap.hpp"

namespace loopwise::explain {

using model::PackedNode;
using model::TreeEnsemble;

namespace {

/// Patterns (8 bytes each) above this many bytes are not kept: at most n_leaves x
/// n_background of them, e.g. 25,000 leaves x 1,000 rows = 200 MB (within budget).
constexpr double kPatternBudgetBytes = 256.0 * 1024 * 1024;

/// Builds the per-leaf patterns of one ensemble by one depth-first walk per tree that carries
/// every background row's pattern so far (slots numbered in order of first use on the path,
/// as the explaining walk numbers them).
struct PatternBuilder {
  const TreeEnsemble& ensemble;
  const std::uint64_t* left_bits;
  std::int64_t words, n_background;
  std::vector<std::int64_t>& offset;
  std::vector<InterventionalTreeShap::LeafPattern>& patterns;
  std::vector<std::uint64_t> level_masks = {}, sorted = {};
  std::vector<std::int32_t> feature_slot = {};
  const PackedNode* nodes = nullptr;
  std::int64_t node_offset = 0;
  int n_slots = 0;
  std::size_t limit = 0;
  bool over = false;

  /// level_masks hold, per level and background row, the path slots the row fails so far.
  void visit(std::int32_t node, int level) {
    const PackedNode& n = nodes[node];
    const std::int64_t global = node_offset + node;
    const std::uint64_t* cur = level_masks.data() + static_cast<std::int64_t>(level) * n_background;
    if (n.feature < 0) {
      std::copy(cur, cur + n_background, sorted.begin());
      std::sort(sorted.begin(), sorted.end());
      offset[2 * global] = static_cast<std::int64_t>(patterns.size());
      for (std::int64_t r = 0; r < n_background; ++r) {
        if (r > 0 && sorted[r] == sorted[r - 1]) {
          ++patterns.back().count;
        } else {
          const auto fails = static_cast<std::uint32_t>(sorted[r]);
          patterns.push_back({fails, static_cast<std::uint16_t>(__builtin_popcountll(sorted[r])), 1});
        }
      }
      offset[2 * global + 1] = static_cast<std::int64_t>(patterns.size());
      over = over || patterns.size() > limit;
      return;
    }
    const std::int32_t f = n.feature;
    const bool fresh = feature_slot[f] < 0;
    const int s = fresh ? n_slots++ : feature_slot[f];
    if (fresh) feature_slot[f] = s;
    const std::uint64_t bit = std::uint64_t{1} << s;
    const std::uint64_t* left = left_bits + global * words;
    std::uint64_t* next = level_masks.data() + static_cast<std::int64_t>(level + 1) * n_background;
    for (int side = 0; side < 2 && !over; ++side) {
      for (std::int64_t r = 0; r < n_background; ++r) {
        const bool goes_left = (left[r / 64] >> (r % 64)) & 1;
        next[r] = goes_left == (side == 0) ? cur[r] : cur[r] | bit;
      }
      visit(side == 0 ? n.left : n.right, level + 1);
    }
    if (fresh) {
      --n_slots;
      feature_slot[f] = -1;
    }
  }
};

}  // namespace

void InterventionalTreeShap::build_patterns() {
  const std::int64_t path_features = std::min<std::int64_t>(ensemble_.max_depth(), ensemble_.n_features());
  if (path_features > 32 || n_background_ > 65535) return;  // a pattern's fields would overflow
  const std::int64_t total_nodes = static_cast<std::int64_t>(ensemble_.data().feature.size());
  std::vector<std::int64_t> offset(2 * total_nodes, 0);
  PatternBuilder b{ensemble_, left_bits_.data(), words_, n_background_, offset, patterns_, {}, {}, {}};
  b.level_masks.assign(static_cast<std::size_t>(ensemble_.max_depth() + 2) * n_background_, 0);
  b.sorted.assign(n_background_, 0);
  b.feature_slot.assign(ensemble_.n_features(), -1);
  b.limit = static_cast<std::size_t>(kPatternBudgetBytes / sizeof(LeafPattern));
  for (std::int64_t tr = 0; tr < ensemble_.n_trees() && !b.over; ++tr) {
    if (ensemble_.depths()[tr] == 0) continue;  // a single leaf adds only to the base value
    b.nodes = &ensemble_.node(tr, 0);
    b.node_offset = ensemble_.node_index(tr, 0);
    b.visit(0, 0);
  }
  if (b.over) {  // over budget: the row-set walk needs no patterns
    patterns_ = {};
    return;
  }
  pattern_offset_ = std::move(offset);
}

/// Per-thread state of the pattern walk: the row-set walk's bitsets for pruning, the slots of
/// the current path and the slots x fails so far.
template <int kW>
struct PatternWalker {
  using LeafPattern = InterventionalTreeShap::LeafPattern;
  const InterventionalTreeShap& shap;
  const TreeEnsemble& ensemble;
  const double* weights;
  std::int64_t ws;  ///< weight_stride
  std::int64_t words;
  std::int64_t n_outputs;
  const double* x = nullptr;
  double* phi = nullptr;
  const PackedNode* nodes = nullptr;
  const double* values = nullptr;
  std::int64_t node_offset = 0;
  int width = 1, first_output = 0;
  // Rows alive per level; per slot the rows satisfying its splits so far, saved per level.
  std::vector<std::uint64_t> alive, slot_rsat, saved, full;
  std::vector<std::int32_t> slot_feature, feature_slot;
  /// Per slot: one-output trees, its attribution while on the path; vector leaves, its
  /// attribution per unit of leaf value (zero between leaves).
  std::vector<double> coef;
  /// gain_shifted[b * (ws + 1) + a] = weights[a - 1][b], 0 for a = 0 (no branch on a).
  std::vector<double> gain_shifted;
  int n_slots = 0, max_slots = 0, n_failed = 0;
  std::uint64_t xfail = 0;  ///< slots x fails on the current path (B)

  PatternWalker(const InterventionalTreeShap& s, const TreeEnsemble& e)
      : shap(s), ensemble(e), weights(s.weights_.data()), ws(s.weight_stride_), words(s.words_),
        n_outputs(e.n_outputs()) {
    if (kW > 0 && words != kW) throw InvalidArgument("pattern walk: background size does not match");
    const std::int64_t W = words;
    const std::int64_t levels = e.max_depth() + 2;
    max_slots = static_cast<int>(std::min<std::int64_t>(e.max_depth(), e.n_features()));
    const std::int64_t slots = std::max(max_slots, 1);
    alive.assign(levels * W, 0);
    saved.assign(levels * W, 0);
    slot_rsat.assign(slots * W, 0);
    full.assign(W, ~std::uint64_t{0});
    if (s.n_background_ % 64 != 0) full[W - 1] = (std::uint64_t{1} << (s.n_background_ % 64)) - 1;
    slot_feature.assign(slots, -1);
    feature_slot.assign(e.n_features(), -1);
    coef.assign(slots, 0.0);
    gain_shifted.assign(static_cast<std::size_t>(ws) * (ws + 1), 0.0);
    for (std::int64_t b = 0; b < ws; ++b) {
      for (std::int64_t a = 1; a <= ws; ++a) gain_shifted[b * (ws + 1) + a] = weights[(a - 1) * ws + b];
    }
  }

  void start_tree(std::int64_t tr) {
    nodes = &ensemble.node(tr, 0);
    node_offset = ensemble.node_index(tr, 0);
    const std::int32_t out = ensemble.data().tree_output[tr];
    width = out < 0 ? static_cast<int>(n_outputs) : 1;
    first_output = out < 0 ? 0 : out;
    values = ensemble.node_value(tr, 0);
    std::copy(full.begin(), full.end(), alive.begin());
  }

  /// Walks the subtree at internal node `node`, at depth `level`, with the rows alive[level].
  /// kOne (one-output trees): returns the subtree's summed losses (v times loss weights).
  template <bool kOne>
  double walk(std::int32_t node, int level) {
    const std::int64_t W = kW > 0 ? kW : words;
    const PackedNode& n = nodes[node];
    const std::int32_t f = n.feature;
    const std::int32_t cx = ensemble.next(n, x[f]);
    const bool fresh = feature_slot[f] < 0;
    if (fresh && n_slots >= max_slots) throw InvalidArgument("pattern walk: more path features than expected");
    const int s = fresh ? n_slots++ : feature_slot[f];
    if (fresh) {
      slot_feature[s] = f;
      feature_slot[f] = s;
      std::copy(full.begin(), full.end(), slot_rsat.begin() + static_cast<std::int64_t>(s) * W);
    }
    const std::uint64_t bit = std::uint64_t{1} << s;
    const bool old_x = (xfail & bit) == 0;
    const std::uint64_t* R = alive.data() + static_cast<std::int64_t>(level) * W;
    std::uint64_t* Rc = alive.data() + static_cast<std::int64_t>(level + 1) * W;
    std::uint64_t* rsat = slot_rsat.data() + static_cast<std::int64_t>(s) * W;
    std::uint64_t* old_rsat = saved.data() + static_cast<std::int64_t>(level) * W;
    std::copy(rsat, rsat + W, old_rsat);
    const std::uint64_t* left = shap.left_bits_.data() + (node_offset + node) * W;
    double total = 0.0;
    for (int side = 0; side < 2; ++side) {
      const std::int32_t child = side == 0 ? n.left : n.right;
      const std::uint64_t flip = side == 0 ? 0 : ~std::uint64_t{0};
      const bool x_fails_here = old_x && child != cx;
      if (old_x && child == cx) {
        // x still satisfies f: every alive row stays (rows failing f now need x for it).
        for (std::int64_t w = 0; w < W; ++w) {
          rsat[w] = old_rsat[w] & (left[w] ^ flip);
          Rc[w] = R[w];
        }
      } else {
        // x fails f: only rows satisfying every split on f so far and this one stay.
        std::uint64_t any = 0;
        for (std::int64_t w = 0; w < W; ++w) {
          rsat[w] = old_rsat[w] & (left[w] ^ flip);
          Rc[w] = R[w] & rsat[w];
          any |= Rc[w];
        }
        if (!any) continue;  // no background row pairs with x to reach this subtree
        if (x_fails_here) {
          xfail |= bit;
          ++n_failed;
        }
      }
      double sub;
      if (nodes[child].feature < 0) {
        sub = kOne ? leaf_one(child) : (leaf_vec(child), 0.0);
      } else {
        sub = walk<kOne>(child, level + 1);
      }
      if (x_fails_here) {
        xfail &= ~bit;
        --n_failed;
        if (kOne) coef[s] -= sub;  // every leaf below has f in its B
      }
      total += sub;
    }
    std::copy(old_rsat, old_rsat + W, rsat);
    if (fresh) {
      --n_slots;
      feature_slot[f] = -1;
      if (kOne) {
        phi[static_cast<std::int64_t>(f) * n_outputs + first_output] += coef[s];
        coef[s] = 0.0;
      }
    }
    return total;
  }

  /// Leaf of a one-output tree: each pattern pairing with x adds its gain to the slots it
  /// fails; returns v times the summed loss weights (0 when x fails no slot: no B).
  double leaf_one(std::int32_t node) {
    const std::int64_t global = node_offset + node;
    const std::int64_t begin = shap.pattern_offset_[2 * global], end = shap.pattern_offset_[2 * global + 1];
    const LeafPattern* patterns = shap.patterns_.data();
    const auto B = static_cast<std::uint32_t>(xfail);
    const int b = n_failed;
    const double v = values[node];
    const double* gains = gain_shifted.data() + static_cast<std::int64_t>(b) * (ws + 1);
    const double* loss_weights = weights + (b > 0 ? b - 1 : 0);
    double loss = 0.0;
    for (std::int64_t i = begin; i < end; ++i) {
      const LeafPattern q = patterns[i];
      // The rows pair with x here when they satisfy every slot x fails.
      const bool pairs = (q.fails & B) == 0;
      const double c = pairs ? static_cast<double>(q.count) : 0.0;
      loss += c * loss_weights[q.n_fails * ws];
      const double g = v * c * gains[q.n_fails];
      for (std::uint32_t bits = pairs ? q.fails : 0; bits; bits &= bits - 1) coef[__builtin_ctz(bits)] += g;
    }
    return b > 0 ? v * loss : 0.0;
  }

  /// Leaf of a tree with vector leaves: as leaf_one, spread to phi at once.
  void leaf_vec(std::int32_t node) {
    const std::int64_t global = node_offset + node;
    const std::int64_t begin = shap.pattern_offset_[2 * global], end = shap.pattern_offset_[2 * global + 1];
    const LeafPattern* patterns = shap.patterns_.data();
    const auto B = static_cast<std::uint32_t>(xfail);
    const int b = n_failed;
    const double* gains = gain_shifted.data() + static_cast<std::int64_t>(b) * (ws + 1);
    const double* loss_weights = weights + (b > 0 ? b - 1 : 0);
    double loss = 0.0;
    std::uint32_t touched = 0;
    for (std::int64_t i = begin; i < end; ++i) {
      const LeafPattern q = patterns[i];
      const bool pairs = (q.fails & B) == 0;
      const double c = pairs ? static_cast<double>(q.count) : 0.0;
      loss += c * loss_weights[q.n_fails * ws];
      const double g = c * gains[q.n_fails];
      const std::uint32_t A = pairs ? q.fails : 0;
      touched |= A;
      for (std::uint32_t bits = A; bits; bits &= bits - 1) coef[__builtin_ctz(bits)] += g;
    }
    if (b == 0 && touched == 0) return;  // reached by every coalition: part of the base value
    const double* v = values + static_cast<std::int64_t>(node) * width;
    // A and B are disjoint (the rows satisfy B, fail A); ascending slot order.
    for (std::uint32_t bits = touched | B; bits; bits &= bits - 1) {
      const int s = __builtin_ctz(bits);
      const double c = (B >> s) & 1 ? -loss : coef[s];
      coef[s] = 0.0;
      double* target = phi + static_cast<std::int64_t>(slot_feature[s]) * n_outputs + first_output;
      for (int k = 0; k < width; ++k) target[k] += v[k] * c;
    }
  }
};

template <int kW, class T>
void InterventionalTreeShap::pattern_values(const MatrixView<T>& X, double* out, int n_threads,
                                            std::int64_t block) const {
  const std::int64_t m = ensemble_.n_features(), K = ensemble_.n_outputs();
  parallel_blocks(X.rows, block, n_threads, [&](std::int64_t begin, std::int64_t end) {
    PatternWalker<kW> walker(*this, ensemble_);
    std::vector<double> row((end - begin) * m);
    for (std::int64_t i = begin; i < end; ++i) {
      double* x = row.data() + (i - begin) * m;
      for (std::int64_t j = 0; j < m; ++j) x[j] = static_cast<double>(X(i, j));
      std::fill(out + i * m * K, out + (i + 1) * m * K, 0.0);
    }
    // Trees outside, the block's rows inside: a tree's nodes and patterns stay in cache.
    // Each row sums its trees in order, so the values do not depend on the block size.
    for (std::int64_t tr = 0; tr < ensemble_.n_trees(); ++tr) {
      if (ensemble_.depths()[tr] == 0) continue;
      walker.start_tree(tr);
      for (std::int64_t i = begin; i < end; ++i) {
        walker.x = row.data() + (i - begin) * m;
        walker.phi = out + i * m * K;
        if (walker.width == 1) {
          walker.template walk<true>(0, 0);
        } else {
          walker.template walk<false>(0, 0);
        }
      }
    }
    const double inverse = 1.0 / static_cast<double>(n_background_);
    for (std::int64_t j = begin * m * K; j < end * m * K; ++j) out[j] *= inverse;
  });
}

#define LOOPWISE_PATTERN_VALUES(W, T) \
  template void InterventionalTreeShap::pattern_values<W, T>(const MatrixView<T>&, double*, int, std::int64_t) const;
LOOPWISE_PATTERN_VALUES(0, float)
LOOPWISE_PATTERN_VALUES(1, float)
LOOPWISE_PATTERN_VALUES(2, float)
LOOPWISE_PATTERN_VALUES(4, float)
LOOPWISE_PATTERN_VALUES(0, double)
LOOPWISE_PATTERN_VALUES(1, double)
LOOPWISE_PATTERN_VALUES(2, double)
LOOPWISE_PATTERN_VALUES(4, double)
#undef LOOPWISE_PATTERN_VALUES

}  // namespace loopwise::explain
