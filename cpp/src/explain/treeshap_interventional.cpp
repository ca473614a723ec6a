// Interventional TreeSHAP: exact Shapley values of v(S) = f(x_S, r_rest) for each background
// row r, averaged. For one tree and one pair (x, r), a leaf whose path splits on features F is
// reached by the hybrid row (x_S, r_rest) exactly when every feature of F is satisfied (all its
// splits on the path followed) by x when in S and by r when not. Features only x satisfies form
// A (they must be in S), features only r satisfies form B (they must be out); the leaf value v
// then adds v * |A - 1|! |B|! / (|A| + |B|)! to each feature of A and subtracts
// v * |A|! |B - 1|! / (|A| + |B|)! from each of B.
//
// Pairwise walk (the reference): per pair, follow both children only where x and r disagree.
//
// Row-set walk (the fast path): per (x, tree), one depth-first walk carries the background rows
// for which the node is still reachable (every path feature satisfied by x or by r), found
// with per-node bitsets of the rows that go left, precomputed once. At a leaf, B is the same
// for every row left (the path features x fails: each row must satisfy them), and each row
// carries |A_r| and the mask of path features in A_r, updated on the way down. The work shared
// by all pairs (x's own decisions, the walk, the subtrees no background row can reach) is done
// once per row instead of once per pair; weights are counts (or sums of per-row rescaling
// factors), so the result equals the pairwise average up to rounding.
//
// For trees with one output (walk_fast), the terms are not spread over the slots per leaf: a
// leaf adds v * weight to each alive row's running gain and returns v * (its rows' summed loss
// weights); a row's running gain since it entered a slot's A goes to that slot when it leaves
// (one add per row and leaf instead of one per row, leaf and slot of A), and a slot in B gets
// minus the summed losses of the subtree where x failed it (instead of one term per leaf).
#include <algorithm>
#include <cmath>
#include <string>

#include "loopwise/common/error.hpp"
#include "loopwise/common/threading.hpp"
#include "loopwise/explain/treeshap.hpp"

namespace loopwise::explain {

using model::Link;
using model::PackedNode;
using model::TreeEnsemble;

namespace {

struct InterventionalWalker {
  const TreeEnsemble& ensemble;
  const double* weights;
  int weight_stride;
  std::int64_t n_outputs;
  const double* x = nullptr;
  const double* r = nullptr;
  double* phi = nullptr;  ///< m x K for the current pair
  std::vector<std::uint8_t> state;  ///< 0 free, 1 taken from x, 2 taken from r
  std::vector<std::int32_t> from_x, from_r;
  const PackedNode* nodes = nullptr;
  std::int64_t tree = 0;
  int width = 1, first_output = 0;

  InterventionalWalker(const TreeEnsemble& e, const double* w, int stride)
      : ensemble(e), weights(w), weight_stride(stride), n_outputs(e.n_outputs()) {
    state.assign(e.n_features(), 0);
    from_x.reserve(e.max_depth() + 1);
    from_r.reserve(e.max_depth() + 1);
  }

  void start_tree(std::int64_t tr) {
    tree = tr;
    nodes = &ensemble.node(tr, 0);
    const std::int32_t out = ensemble.data().tree_output[tr];
    width = out < 0 ? static_cast<int>(n_outputs) : 1;
    first_output = out < 0 ? 0 : out;
  }

  void walk(std::int32_t node) {
    const PackedNode& n = nodes[node];
    if (n.feature < 0) {
      const std::int64_t a = static_cast<std::int64_t>(from_x.size());
      const std::int64_t b = static_cast<std::int64_t>(from_r.size());
      if (a + b == 0) return;  // reached by every coalition: part of the base value
      const double* v = ensemble.node_value(tree, node);
      const double gain = a > 0 ? weights[(a - 1) * weight_stride + b] : 0.0;
      const double loss = b > 0 ? weights[a * weight_stride + (b - 1)] : 0.0;
      for (int k = 0; k < width; ++k) {
        const std::int64_t out = first_output + k;
        for (std::int32_t f : from_x) phi[f * n_outputs + out] += v[k] * gain;
        for (std::int32_t f : from_r) phi[f * n_outputs + out] -= v[k] * loss;
      }
      return;
    }
    const std::int32_t f = n.feature;
    const std::int32_t cx = ensemble.next(n, x[f]);
    const std::int32_t cr = ensemble.next(n, r[f]);
    if (cx == cr || state[f] == 1) return walk(cx);
    if (state[f] == 2) return walk(cr);
    state[f] = 1;
    from_x.push_back(f);
    walk(cx);
    from_x.pop_back();
    state[f] = 2;
    from_r.push_back(f);
    walk(cr);
    from_r.pop_back();
    state[f] = 0;
  }
};

double link_slope(const model::TreeEnsembleData& data, double margin) {
  switch (data.link) {
    case Link::kIdentity:
      return 1.0;
    case Link::kLogistic: {
      const double p = 1.0 / (1.0 + std::exp(-data.link_scale * margin));
      return data.link_scale * p * (1.0 - p);
    }
    case Link::kExp:
      return std::exp(margin);
    case Link::kSoftmax:
      break;
  }
  throw InvalidArgument("model_output='probability' is not supported for a softmax (multi-class) link");
}

/// Bitsets above this many bytes are not built: the pairwise walk needs no extra memory.
constexpr double kBitsetBudgetBytes = 512.0 * 1024 * 1024;
/// A row's failed path features are one 64-bit mask, so the row-set walk needs at most 64
/// distinct features on any path (min(depth, n_features) <= 64); otherwise pairwise.
constexpr int kMaxSlots = 64;
/// Rows that walk one tree in turn while it is in cache.
constexpr std::int64_t kRowBlock = 16;

}  // namespace

/// Per-thread state of the row-set walk (see the top of this file). kW > 0 fixes the words
/// per bitset at compile time (background of at most 64 * kW rows), so the word loops unroll.
template <int kW>
struct RowSetWalker {
  const InterventionalTreeShap& shap;
  const TreeEnsemble& ensemble;
  const double* weights;
  int weight_stride;
  std::int64_t words;  ///< words per bitset over the background
  std::int64_t n_outputs;
  // Current row, output and (when rescaling) per-background-row factors, n_background x K.
  const double* x = nullptr;
  double* phi = nullptr;
  const double* scale = nullptr;
  // Per tree.
  const PackedNode* nodes = nullptr;
  std::int64_t tree = 0, node_offset = 0;
  int width = 1, first_output = 0;
  // Bitsets: rows alive per level; per distinct path feature ("slot") the rows satisfying all
  // its splits so far, saved per level; rows newly failing a feature x satisfies, per level.
  std::vector<std::uint64_t> alive, slot_rsat, saved, newly, full;
  // Per background row: the slots x satisfies and the row does not (its A), and their count.
  std::vector<std::uint64_t> fail;
  std::vector<std::int32_t> a;
  // Per slot: the feature and whether x satisfies all its splits so far.
  std::vector<std::int32_t> slot_feature, feature_slot;
  std::vector<std::uint8_t> slot_xsat;
  int n_slots = 0, n_failed = 0, max_slots = 0;
  std::uint64_t failed_slots = 0;  ///< slots x fails (B)
  const double* values = nullptr;  ///< the tree's node values, width per node
  std::vector<double> gain, loss;
  std::int64_t gain_stride = 1;
  // One-output fast mode (see walk_fast): per background row, its gains since it last entered
  // an A (racc), saved per level; per slot, its attributions while the slot exists.
  std::vector<double> racc, saved_racc, slot_acc;
  /// gain_shifted[b * (weight_stride + 1) + a] = weights[a - 1][b], 0 for a = 0.
  std::vector<double> gain_shifted;

  RowSetWalker(const InterventionalTreeShap& s, const TreeEnsemble& e)
      : shap(s), ensemble(e), weights(s.weights_.data()), weight_stride(s.weight_stride_), words(s.words_),
        n_outputs(e.n_outputs()) {
    if (kW > 0 && words != kW) throw InvalidArgument("row-set walk: background size does not match");
    const std::int64_t W = words;
    const std::int64_t levels = e.max_depth() + 2;
    max_slots = static_cast<int>(std::min<std::int64_t>(e.max_depth(), e.n_features()));
    if (max_slots > kMaxSlots) throw InvalidArgument("row-set walk: more than 64 features on a path");
    gain_stride = std::max(max_slots, 1);
    alive.assign(levels * W, 0);
    saved.assign(levels * W, 0);
    newly.assign(levels * W, 0);
    slot_rsat.assign(gain_stride * W, 0);
    full.assign(W, ~std::uint64_t{0});
    if (s.n_background_ % 64 != 0) full[W - 1] = (std::uint64_t{1} << (s.n_background_ % 64)) - 1;
    fail.assign(W * 64, 0);
    a.assign(W * 64, 0);
    slot_feature.assign(gain_stride, -1);
    slot_xsat.assign(gain_stride, 1);
    feature_slot.assign(e.n_features(), -1);
    gain.assign(gain_stride * n_outputs, 0.0);
    loss.assign(n_outputs, 0.0);
    racc.assign(W * 64, 0.0);
    saved_racc.assign(levels * W * 64, 0.0);
    slot_acc.assign(gain_stride, 0.0);
    gain_shifted.assign(static_cast<std::size_t>(weight_stride) * (weight_stride + 1), 0.0);
    for (int b = 0; b < weight_stride; ++b) {
      for (int ar = 1; ar <= weight_stride; ++ar) {
        gain_shifted[b * (weight_stride + 1) + ar] = weights[(ar - 1) * weight_stride + b];
      }
    }
  }

  void start_tree(std::int64_t tr) {
    tree = tr;
    nodes = &ensemble.node(tr, 0);
    node_offset = ensemble.node_index(tr, 0);
    const std::int32_t out = ensemble.data().tree_output[tr];
    width = out < 0 ? static_cast<int>(n_outputs) : 1;
    first_output = out < 0 ? 0 : out;
    values = ensemble.node_value(tr, 0);
    std::copy(full.begin(), full.end(), alive.begin());
  }

  /// Adds (or with undo, removes) slot bit s to the A of every row in `rows`.
  void mark(const std::uint64_t* rows, int s, bool undo) {
    const std::int64_t W = kW > 0 ? kW : words;
    const std::uint64_t bit = std::uint64_t{1} << s;
    for (std::int64_t w = 0; w < W; ++w) {
      for (std::uint64_t bits = rows[w]; bits; bits &= bits - 1) {
        const std::int64_t r = w * 64 + __builtin_ctzll(bits);
        fail[r] ^= bit;
        a[r] += undo ? -1 : 1;
      }
    }
  }

  /// Rows in `rows` enter an A at depth `level`: their count grows, their running gains restart.
  void enter_fast(const std::uint64_t* rows, int level) {
    const std::int64_t W = kW > 0 ? kW : words;
    double* save = saved_racc.data() + static_cast<std::int64_t>(level) * W * 64;
    for (std::int64_t w = 0; w < W; ++w) {
      for (std::uint64_t bits = rows[w]; bits; bits &= bits - 1) {
        const std::int64_t r = w * 64 + __builtin_ctzll(bits);
        save[r] = racc[r];
        racc[r] = 0.0;
        ++a[r];
      }
    }
  }

  /// Undoes enter_fast: the rows' gains below this node (slot s was in their A) go to slot s,
  /// summed in ascending row order, and are added back to the rows' running gains.
  void leave_fast(const std::uint64_t* rows, int level, int s) {
    const std::int64_t W = kW > 0 ? kW : words;
    const double* save = saved_racc.data() + static_cast<std::int64_t>(level) * W * 64;
    double sum = 0.0;
    for (std::int64_t w = 0; w < W; ++w) {
      for (std::uint64_t bits = rows[w]; bits; bits &= bits - 1) {
        const std::int64_t r = w * 64 + __builtin_ctzll(bits);
        const double d = racc[r];
        sum += d;
        racc[r] = save[r] + d;
        --a[r];
      }
    }
    slot_acc[s] += sum;
  }

  /// A slot for feature f, met for the first time on this path: satisfied by x and by every
  /// background row until a split on f says otherwise. The caller releases it on the way up.
  int take_slot(std::int32_t f, std::int64_t W) {
    if (n_slots >= max_slots) throw InvalidArgument("row-set walk: more path features than expected");
    const int s = n_slots++;
    slot_feature[s] = f;
    feature_slot[f] = s;
    slot_xsat[s] = 1;
    std::copy(full.begin(), full.end(), slot_rsat.begin() + static_cast<std::int64_t>(s) * W);
    return s;
  }

  /// Trees with one output (kWeighted: each row's terms scaled by its factor, as in walk): as
  /// walk, but a leaf adds each alive row's gain weight times v
  /// to the row's running gain (racc) and returns v times its summed loss weights; a slot
  /// receives the rows' gains when they leave its A (leave_fast) and minus the returned sums
  /// of the subtrees where it is in B, and goes to phi when the slot is released. Returns the
  /// subtree's summed losses. Same terms as walk, grouped per slot instead of per leaf.
  template <bool kWeighted>
  double walk_fast(std::int32_t node, int level) {
    const std::int64_t W = kW > 0 ? kW : words;
    const PackedNode& n = nodes[node];
    const std::int32_t f = n.feature;
    const std::int32_t cx = ensemble.next(n, x[f]);
    const bool fresh = feature_slot[f] < 0;
    const int s = fresh ? take_slot(f, W) : feature_slot[f];
    const bool old_x = slot_xsat[s] != 0;
    const std::uint64_t* R = alive.data() + static_cast<std::int64_t>(level) * W;
    std::uint64_t* Rc = alive.data() + static_cast<std::int64_t>(level + 1) * W;
    std::uint64_t* rsat = slot_rsat.data() + static_cast<std::int64_t>(s) * W;
    std::uint64_t* old_rsat = saved.data() + static_cast<std::int64_t>(level) * W;
    std::uint64_t* fresh_fail = newly.data() + static_cast<std::int64_t>(level) * W;
    std::copy(rsat, rsat + W, old_rsat);
    const std::uint64_t* left = shap.left_bits_.data() + (node_offset + node) * W;
    double total = 0.0;
    for (int side = 0; side < 2; ++side) {
      const std::int32_t child = side == 0 ? n.left : n.right;
      const std::uint64_t flip = side == 0 ? 0 : ~std::uint64_t{0};
      const bool new_x = old_x && child == cx;
      if (new_x) {
        std::uint64_t some = 0;
        for (std::int64_t w = 0; w < W; ++w) {
          const std::uint64_t dir = left[w] ^ flip;
          fresh_fail[w] = R[w] & old_rsat[w] & ~dir;
          some |= fresh_fail[w];
          rsat[w] = old_rsat[w] & dir;
          Rc[w] = R[w];
        }
        if (some) enter_fast(fresh_fail, level);
        total += nodes[child].feature < 0 ? leaf_fast<kWeighted>(child, R) : walk_fast<kWeighted>(child, level + 1);
        if (some) leave_fast(fresh_fail, level, s);
      } else {
        std::uint64_t any = 0;
        for (std::int64_t w = 0; w < W; ++w) {
          rsat[w] = old_rsat[w] & (left[w] ^ flip);
          Rc[w] = R[w] & rsat[w];
          any |= Rc[w];
        }
        if (!any) continue;
        slot_xsat[s] = 0;
        n_failed += old_x ? 1 : 0;
        const double sub =
            nodes[child].feature < 0 ? leaf_fast<kWeighted>(child, Rc) : walk_fast<kWeighted>(child, level + 1);
        if (old_x) slot_acc[s] -= sub;
        total += sub;
        n_failed -= old_x ? 1 : 0;
        slot_xsat[s] = old_x ? 1 : 0;
      }
    }
    std::copy(old_rsat, old_rsat + W, rsat);
    if (fresh) {
      --n_slots;
      feature_slot[f] = -1;
      phi[static_cast<std::int64_t>(f) * n_outputs + first_output] += slot_acc[s];
      slot_acc[s] = 0.0;
    }
    return total;
  }

  /// Leaf of walk_fast: rows' gains into racc; returns v times the rows' summed loss weights
  /// (0 when x fails no path feature: then no slot is in B).
  /// With kWeighted, each row's terms are scaled by its factor for the tree's output.
  template <bool kWeighted>
  double leaf_fast(std::int32_t node, const std::uint64_t* rows) {
    const std::int64_t W = kW > 0 ? kW : words;
    const int nb = n_failed;
    const double v = values[node];
    if (kWeighted) {
      const double* measure = scale + first_output;
      const double* gains = gain_shifted.data() + static_cast<std::int64_t>(nb) * (weight_stride + 1);
      const double* loss_weights = weights + (nb > 0 ? nb - 1 : 0);
      double l = 0.0;
      for (std::int64_t w = 0; w < W; ++w) {
        for (std::uint64_t bits = rows[w]; bits; bits &= bits - 1) {
          const std::int64_t r = w * 64 + __builtin_ctzll(bits);
          const std::int64_t ar = a[r];
          const double mr = measure[r * n_outputs];
          racc[r] += v * (gains[ar] * mr);
          l += loss_weights[ar * weight_stride] * mr;
        }
      }
      return nb > 0 ? v * l : 0.0;
    }
    const double* gains = gain_shifted.data() + static_cast<std::int64_t>(nb) * (weight_stride + 1);
    if (nb == 0) {
      for (std::int64_t w = 0; w < W; ++w) {
        for (std::uint64_t bits = rows[w]; bits; bits &= bits - 1) {
          const std::int64_t r = w * 64 + __builtin_ctzll(bits);
          racc[r] += v * gains[a[r]];
        }
      }
      return 0.0;
    }
    const std::int64_t ws = weight_stride;
    const double* loss_weights = weights + (nb - 1);
    double l = 0.0;
    for (std::int64_t w = 0; w < W; ++w) {
      for (std::uint64_t bits = rows[w]; bits; bits &= bits - 1) {
        const std::int64_t r = w * 64 + __builtin_ctzll(bits);
        const std::int64_t ar = a[r];
        racc[r] += v * gains[ar];
        l += loss_weights[ar * ws];
      }
    }
    return v * l;
  }

  /// Walks the subtree at internal node `node`, at depth `level`, with the rows alive[level].
  template <bool kWeighted>
  void walk(std::int32_t node, int level) {
    const std::int64_t W = kW > 0 ? kW : words;
    const PackedNode& n = nodes[node];
    const std::int32_t f = n.feature;
    const std::int32_t cx = ensemble.next(n, x[f]);
    const bool fresh = feature_slot[f] < 0;
    const int s = fresh ? take_slot(f, W) : feature_slot[f];
    const bool old_x = slot_xsat[s] != 0;
    const std::uint64_t* R = alive.data() + static_cast<std::int64_t>(level) * W;
    std::uint64_t* Rc = alive.data() + static_cast<std::int64_t>(level + 1) * W;
    std::uint64_t* rsat = slot_rsat.data() + static_cast<std::int64_t>(s) * W;
    std::uint64_t* old_rsat = saved.data() + static_cast<std::int64_t>(level) * W;
    std::uint64_t* fresh_fail = newly.data() + static_cast<std::int64_t>(level) * W;
    std::copy(rsat, rsat + W, old_rsat);
    const std::uint64_t* left = shap.left_bits_.data() + (node_offset + node) * W;
    for (int side = 0; side < 2; ++side) {
      const std::int32_t child = side == 0 ? n.left : n.right;
      const std::uint64_t flip = side == 0 ? 0 : ~std::uint64_t{0};
      const bool new_x = old_x && child == cx;
      std::uint64_t any = 0;
      if (new_x) {
        // x satisfies f here: every row stays; rows going the other way now fail f (A).
        std::uint64_t some = 0;
        for (std::int64_t w = 0; w < W; ++w) {
          const std::uint64_t dir = left[w] ^ flip;
          fresh_fail[w] = R[w] & old_rsat[w] & ~dir;
          some |= fresh_fail[w];
          rsat[w] = old_rsat[w] & dir;
          Rc[w] = R[w];
          any |= R[w];
        }
        if (some) mark(fresh_fail, s, false);
        if (nodes[child].feature < 0) {
          leaf<kWeighted>(child, R);
        } else {
          walk<kWeighted>(child, level + 1);
        }
        if (some) mark(fresh_fail, s, true);
      } else {
        // x fails f: only rows satisfying every split on f so far and this one stay (B).
        for (std::int64_t w = 0; w < W; ++w) {
          rsat[w] = old_rsat[w] & (left[w] ^ flip);
          Rc[w] = R[w] & rsat[w];
          any |= Rc[w];
        }
        // With no row left, no background row can pair with x to reach this subtree.
        if (!any) continue;
        slot_xsat[s] = 0;
        n_failed += old_x ? 1 : 0;
        failed_slots |= std::uint64_t{1} << s;
        if (nodes[child].feature < 0) {
          leaf<kWeighted>(child, Rc);
        } else {
          walk<kWeighted>(child, level + 1);
        }
        n_failed -= old_x ? 1 : 0;
        if (old_x) failed_slots &= ~(std::uint64_t{1} << s);
        slot_xsat[s] = old_x ? 1 : 0;
      }
    }
    std::copy(old_rsat, old_rsat + W, rsat);
    if (fresh) {
      --n_slots;
      feature_slot[f] = -1;
    }
  }

  /// Scores a leaf for the rows in the bitset `rows`. gain is all zeros between leaves.
  template <bool kWeighted>
  void leaf(std::int32_t node, const std::uint64_t* rows) {
    const std::int64_t W = kW > 0 ? kW : words;
    const int nb = n_failed;
    const std::int64_t stride = gain_stride;
    const std::int64_t ws = weight_stride;
    // Column b - 1 of the weights for rows' losses (B), column b for their gains (A).
    const double* loss_weights = weights + (nb > 0 ? nb - 1 : 0);
    const double* gain_weights = weights + nb;  // indexed by (a_r - 1) * ws, a_r >= 1
    std::uint64_t touched = 0;
    if (!kWeighted) {
      double l = 0.0;
      double* g = gain.data();
      for (std::int64_t w = 0; w < W; ++w) {
        for (std::uint64_t bits = rows[w]; bits; bits &= bits - 1) {
          const std::int64_t r = w * 64 + __builtin_ctzll(bits);
          const std::int64_t ar = a[r];
          l += loss_weights[ar * ws];
          if (ar == 0) continue;
          const double wg = gain_weights[(ar - 1) * ws];
          const std::uint64_t fr = fail[r];
          touched |= fr;
          for (std::uint64_t f = fr; f; f &= f - 1) g[__builtin_ctzll(f)] += wg;
        }
      }
      loss[0] = nb > 0 ? l : 0.0;
    } else {
      for (int k = 0; k < width; ++k) {
        const std::int64_t out = first_output + k;
        double l = 0.0;
        double* g = gain.data() + static_cast<std::int64_t>(k) * stride;
        for (std::int64_t w = 0; w < W; ++w) {
          for (std::uint64_t bits = rows[w]; bits; bits &= bits - 1) {
            const std::int64_t r = w * 64 + __builtin_ctzll(bits);
            const double measure = scale[r * n_outputs + out];
            const std::int64_t ar = a[r];
            l += loss_weights[ar * ws] * measure;
            if (ar == 0) continue;
            const double wg = gain_weights[(ar - 1) * ws] * measure;
            const std::uint64_t fr = fail[r];
            touched |= fr;
            for (std::uint64_t f = fr; f; f &= f - 1) g[__builtin_ctzll(f)] += wg;
          }
        }
        loss[k] = nb > 0 ? l : 0.0;
      }
    }
    if (nb == 0 && touched == 0) return;  // reached by every coalition: part of the base value
    const double* v = values + static_cast<std::int64_t>(node) * width;
    // Slots in B lose, slots in some row's A gain (disjoint sets); ascending slot order.
    for (std::uint64_t bits = failed_slots | touched; bits; bits &= bits - 1) {
      const int s = __builtin_ctzll(bits);
      double* target = phi + static_cast<std::int64_t>(slot_feature[s]) * n_outputs + first_output;
      if (failed_slots & (std::uint64_t{1} << s)) {
        for (int k = 0; k < width; ++k) target[k] -= v[k] * loss[kWeighted ? k : 0];
      } else {
        for (int k = 0; k < (kWeighted ? width : 1); ++k) {
          double& g = gain[static_cast<std::int64_t>(k) * stride + s];
          if (kWeighted) {
            target[k] += v[k] * g;
          } else {
            for (int kk = 0; kk < width; ++kk) target[kk] += v[kk] * g;
          }
          g = 0.0;
        }
      }
    }
  }
};

template <class T>
InterventionalTreeShap::InterventionalTreeShap(const TreeEnsemble& ensemble, const MatrixView<T>& background)
    : ensemble_(ensemble), n_background_(background.rows) {
  const std::int64_t m = ensemble.n_features(), K = ensemble.n_outputs();
  if (background.cols != m) {
    throw InvalidArgument("data has " + std::to_string(background.cols) + " columns but the ensemble has " +
                          std::to_string(m) + " features");
  }
  if (background.rows < 1) throw InvalidArgument("data (the background) must have at least one row");
  background_.resize(background.rows * m);
  for (std::int64_t i = 0; i < background.rows; ++i) {
    for (std::int64_t j = 0; j < m; ++j) background_[i * m + j] = static_cast<double>(background(i, j));
  }
  background_margin_.resize(background.rows * K);
  ensemble.predict(MatrixView<double>(background_.data(), background.rows, m), background_margin_.data(), 1);
  background_linked_ = background_margin_;
  ensemble.transform(background_linked_.data(), background.rows);
  // weights[a][b] = a! b! / (a + b + 1)!, built by ratios (no factorial overflow).
  const int depth = ensemble.max_depth();
  weight_stride_ = depth + 1;
  weights_.assign(static_cast<std::size_t>(weight_stride_) * weight_stride_, 0.0);
  for (int a = 0; a <= depth; ++a) {
    weights_[a * weight_stride_] = 1.0 / (a + 1.0);
    for (int b = 1; b <= depth; ++b) {
      weights_[a * weight_stride_ + b] = weights_[a * weight_stride_ + b - 1] * b / (a + b + 1.0);
    }
  }
  // Per node, the background rows it sends left: one bit per row.
  words_ = (n_background_ + 63) / 64;
  const std::int64_t total_nodes = static_cast<std::int64_t>(ensemble.data().feature.size());
  const std::int64_t path_features = std::min<std::int64_t>(ensemble.max_depth(), m);
  if (static_cast<double>(total_nodes) * static_cast<double>(words_) * 8.0 > kBitsetBudgetBytes ||
      path_features > kMaxSlots) {
    words_ = 0;
    return;
  }
  left_bits_.assign(total_nodes * words_, 0);
  for (std::int64_t tr = 0; tr < ensemble.n_trees(); ++tr) {
    const std::int64_t count = ensemble.n_nodes(tr);
    for (std::int32_t local = 0; local < count; ++local) {
      const PackedNode& n = ensemble.node(tr, local);
      if (n.feature < 0) continue;
      std::uint64_t* bits = left_bits_.data() + ensemble.node_index(tr, local) * words_;
      for (std::int64_t r = 0; r < n_background_; ++r) {
        if (ensemble.next(n, background_[r * m + n.feature]) == n.left) bits[r / 64] |= std::uint64_t{1} << (r % 64);
      }
    }
  }
  build_patterns();
}

std::vector<double> InterventionalTreeShap::expected_value(bool transformed) const {
  const std::int64_t K = ensemble_.n_outputs();
  const auto& source = transformed ? background_linked_ : background_margin_;
  std::vector<double> mean(K, 0.0);
  for (std::int64_t i = 0; i < n_background_; ++i) {
    for (std::int64_t k = 0; k < K; ++k) mean[k] += source[i * K + k];
  }
  for (auto& value : mean) value /= static_cast<double>(n_background_);
  return mean;
}

namespace {
template <class T>
void check_input(const MatrixView<T>& X, const TreeEnsemble& ensemble, bool transformed) {
  if (X.cols != ensemble.n_features()) {
    throw InvalidArgument("X has " + std::to_string(X.cols) + " columns but the ensemble has " +
                          std::to_string(ensemble.n_features()) + " features");
  }
  if (transformed) link_slope(ensemble.data(), 0.0);  // refuses links it cannot rescale
}
}  // namespace

template <class T>
void InterventionalTreeShap::shap_values(const MatrixView<T>& X, bool transformed, double* out, int n_threads) const {
  if (!uses_bitsets()) return shap_values_pairwise(X, transformed, out, n_threads);
  check_input(X, ensemble_, transformed);
  if (uses_patterns() && !transformed) {
    // A tree's nodes, bitsets and patterns are read once per block of rows, so blocks are as
    // large as the threads allow (a few rows share one pass over the model).
    const std::int64_t threads = std::max(1, n_threads);
    const std::int64_t block = std::max<std::int64_t>(1, std::min<std::int64_t>(kRowBlock, (X.rows + threads - 1) / threads));
    switch (words_) {
      case 1: return pattern_values<1>(X, out, n_threads, block);
      case 2: return pattern_values<2>(X, out, n_threads, block);
      case 4: return pattern_values<4>(X, out, n_threads, block);
      default: return pattern_values<0>(X, out, n_threads, block);
    }
  }
  shap_values_row_set(X, transformed, out, n_threads);
}

template <class T>
void InterventionalTreeShap::shap_values_row_set(const MatrixView<T>& X, bool transformed, double* out,
                                                 int n_threads) const {
  if (!uses_bitsets()) throw InvalidArgument("row-set walk: the background bitsets were not built");
  check_input(X, ensemble_, transformed);
  // Trees outside, a block of rows inside: a tree's nodes and bitsets stay in cache while
  // the block's rows walk it. Each row still sums its trees in order, so the values do not
  // depend on the block size (which only balances the threads).
  // Rows cost the same here (no per-block setup), so small blocks keep the threads even.
  const std::int64_t per_thread = X.rows / (8 * static_cast<std::int64_t>(std::max(1, n_threads)));
  const std::int64_t block = std::max<std::int64_t>(1, std::min<std::int64_t>(kRowBlock, per_thread));
  switch (words_) {
    case 1: return row_set_values<1>(X, transformed, out, n_threads, block);
    case 2: return row_set_values<2>(X, transformed, out, n_threads, block);
    case 4: return row_set_values<4>(X, transformed, out, n_threads, block);
    default: return row_set_values<0>(X, transformed, out, n_threads, block);
  }
}

template <int kW, class T>
void InterventionalTreeShap::row_set_values(const MatrixView<T>& X, bool transformed, double* out, int n_threads,
                                            std::int64_t block) const {
  const std::int64_t m = ensemble_.n_features(), K = ensemble_.n_outputs();
  parallel_blocks(X.rows, block, n_threads, [&](std::int64_t begin, std::int64_t end) {
    RowSetWalker<kW> walker(*this, ensemble_);
    const std::int64_t rows = end - begin;
    std::vector<double> row(rows * m), margin(K), linked(K), scale(transformed ? rows * n_background_ * K : 0);
    for (std::int64_t i = begin; i < end; ++i) {
      double* x = row.data() + (i - begin) * m;
      for (std::int64_t j = 0; j < m; ++j) x[j] = static_cast<double>(X(i, j));
      std::fill(out + i * m * K, out + (i + 1) * m * K, 0.0);
      if (!transformed) continue;
      // Each pair's raw attributions are rescaled to its change in linked output.
      ensemble_.predict(MatrixView<double>(x, 1, m), margin.data(), 1);
      linked = margin;
      ensemble_.transform(linked.data(), 1);
      double* factors = scale.data() + (i - begin) * n_background_ * K;
      for (std::int64_t b = 0; b < n_background_; ++b) {
        for (std::int64_t k = 0; k < K; ++k) {
          const double dm = margin[k] - background_margin_[b * K + k];
          const double dp = linked[k] - background_linked_[b * K + k];
          factors[b * K + k] = dm != 0.0 ? dp / dm : link_slope(ensemble_.data(), margin[k]);
        }
      }
    }
    for (std::int64_t tr = 0; tr < ensemble_.n_trees(); ++tr) {
      if (ensemble_.depths()[tr] == 0) continue;  // a single leaf adds only to the base value
      for (std::int64_t i = begin; i < end; ++i) {
        walker.x = row.data() + (i - begin) * m;
        walker.phi = out + i * m * K;
        if (transformed) walker.scale = scale.data() + (i - begin) * n_background_ * K;
        walker.start_tree(tr);
        if (walker.width == 1) {
          if (transformed) {
            walker.template walk_fast<true>(0, 0);
          } else {
            walker.template walk_fast<false>(0, 0);
          }
        } else if (transformed) {
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

template <class T>
void InterventionalTreeShap::shap_values_pairwise(const MatrixView<T>& X, bool transformed, double* out,
                                                  int n_threads) const {
  check_input(X, ensemble_, transformed);
  const std::int64_t m = ensemble_.n_features(), K = ensemble_.n_outputs();
  parallel_blocks(X.rows, 4, n_threads, [&](std::int64_t begin, std::int64_t end) {
    InterventionalWalker walker(ensemble_, weights_.data(), weight_stride_);
    std::vector<double> row(m), pair(m * K), margin(K), linked(K);
    for (std::int64_t i = begin; i < end; ++i) {
      for (std::int64_t j = 0; j < m; ++j) row[j] = static_cast<double>(X(i, j));
      double* phi = out + i * m * K;
      std::fill(phi, phi + m * K, 0.0);
      if (transformed) {
        ensemble_.predict(MatrixView<double>(row.data(), 1, m), margin.data(), 1);
        linked = margin;
        ensemble_.transform(linked.data(), 1);
      }
      walker.x = row.data();
      for (std::int64_t b = 0; b < n_background_; ++b) {
        walker.r = background_.data() + b * m;
        walker.phi = transformed ? pair.data() : phi;
        if (transformed) std::fill(pair.begin(), pair.end(), 0.0);
        for (std::int64_t tr = 0; tr < ensemble_.n_trees(); ++tr) {
          walker.start_tree(tr);
          walker.walk(0);
        }
        if (!transformed) continue;
        for (std::int64_t k = 0; k < K; ++k) {
          const double dm = margin[k] - background_margin_[b * K + k];
          const double dp = linked[k] - background_linked_[b * K + k];
          const double scale = dm != 0.0 ? dp / dm : link_slope(ensemble_.data(), margin[k]);
          for (std::int64_t j = 0; j < m; ++j) phi[j * K + k] += pair[j * K + k] * scale;
        }
      }
      const double inverse = 1.0 / static_cast<double>(n_background_);
      for (std::int64_t j = 0; j < m * K; ++j) phi[j] *= inverse;
    }
  });
}

template InterventionalTreeShap::InterventionalTreeShap(const TreeEnsemble&, const MatrixView<float>&);
template InterventionalTreeShap::InterventionalTreeShap(const TreeEnsemble&, const MatrixView<double>&);
template void InterventionalTreeShap::shap_values<float>(const MatrixView<float>&, bool, double*, int) const;
template void InterventionalTreeShap::shap_values<double>(const MatrixView<double>&, bool, double*, int) const;
template void InterventionalTreeShap::shap_values_row_set<float>(const MatrixView<float>&, bool, double*, int) const;
template void InterventionalTreeShap::shap_values_row_set<double>(const MatrixView<double>&, bool, double*, int) const;
template void InterventionalTreeShap::shap_values_pairwise<float>(const MatrixView<float>&, bool, double*, int) const;
template void InterventionalTreeShap::shap_values_pairwise<double>(const MatrixView<double>&, bool, double*,
                                                                   int) const;

}  // namespace loopwise::explain
