// Coalition values of a tree ensemble without synthetic rows (see agnostic.hpp).
#include <algorithm>
#include <cstring>
#include <vector>

#include "loopwise/common/error.hpp"
#include "loopwise/common/threading.hpp"
#include "loopwise/explain/agnostic.hpp"
#include "loopwise/model/tree_ensemble.hpp"

namespace loopwise::explain {

namespace {

struct Condition {
  std::uint64_t in;   ///< features that must be in the coalition
  std::uint64_t out;  ///< features that must be outside it
  std::int64_t term;  ///< index of the contribution (k values) in the contributions array
};

}  // namespace

template <class T>
void tree_coalition_values(const model::TreeEnsemble& e, MatrixView<T> x, MatrixView<T> background,
                           const double* weights, const std::uint8_t* masks, std::int64_t n_masks, double* out,
                           int n_threads) {
  const std::int64_t M = e.n_features();
  const std::int64_t k = e.n_outputs();
  if (M > 64) throw InvalidArgument("tree_coalition_values supports at most 64 features");
  if (x.cols != M || background.cols != M) throw InvalidArgument("X and background need one column per model feature");
  if (n_masks < 0) throw InvalidArgument("n_masks must be >= 0");
  std::vector<std::uint64_t> bits(static_cast<std::size_t>(n_masks), 0);
  for (std::int64_t c = 0; c < n_masks; ++c)
    for (std::int64_t j = 0; j < M; ++j)
      if (masks[c * M + j]) bits[static_cast<std::size_t>(c)] |= std::uint64_t{1} << j;
  double weight_sum = 0.0;
  for (std::int64_t b = 0; b < background.rows; ++b) weight_sum += weights[b];
  const std::vector<double>& base = e.data().base_score;

  parallel_for(x.rows, n_threads, [&](std::int64_t i) {
    // 1. Leaves reachable per (tree, background row) with their (in, out) conditions.
    struct Leaf {
      std::uint64_t in, out;
      std::int64_t tree;
      std::int32_t node;
      double weight;
    };
    std::vector<Leaf> leaves;
    struct Frame {
      std::int32_t node;
      std::uint64_t in, out;
    };
    std::vector<Frame> stack;
    for (std::int64_t t = 0; t < e.n_trees(); ++t) {
      for (std::int64_t b = 0; b < background.rows; ++b) {
        stack.clear();
        stack.push_back({0, 0, 0});
        while (!stack.empty()) {
          Frame f = stack.back();
          stack.pop_back();
          while (true) {
            const model::PackedNode& n = e.node(t, f.node);
            if (n.feature < 0) {
              leaves.push_back({f.in, f.out, t, f.node, weights[b]});
              break;
            }
            const std::uint64_t bit = std::uint64_t{1} << n.feature;
            const std::int32_t to_x = e.next(n, static_cast<double>(x(i, n.feature)));
            const std::int32_t to_b = e.next(n, static_cast<double>(background(b, n.feature)));
            if (to_x == to_b || (f.in & bit)) {
              f.node = to_x;
            } else if (f.out & bit) {
              f.node = to_b;
            } else {
              stack.push_back({to_b, f.in, f.out | bit});
              f.node = to_x;
              f.in |= bit;
            }
          }
        }
      }
    }
    // 2. Merge identical conditions: their leaf values add up (sorted, so the sums are
    //    in a fixed order whatever the thread count).
    std::sort(leaves.begin(), leaves.end(), [](const Leaf& a, const Leaf& b) {
      if (a.in != b.in) return a.in < b.in;
      if (a.out != b.out) return a.out < b.out;
      if (a.tree != b.tree) return a.tree < b.tree;
      return a.node < b.node;
    });
    std::vector<Condition> conditions;
    std::vector<double> terms;
    for (std::size_t s = 0; s < leaves.size();) {
      std::size_t t = s;
      conditions.push_back({leaves[s].in, leaves[s].out, static_cast<std::int64_t>(terms.size())});
      terms.resize(terms.size() + static_cast<std::size_t>(k), 0.0);
      double* term = terms.data() + conditions.back().term;
      for (; t < leaves.size() && leaves[t].in == leaves[s].in && leaves[t].out == leaves[s].out; ++t) {
        const Leaf& leaf = leaves[t];
        const double* value = e.node_value(leaf.tree, leaf.node);
        const std::int32_t target = e.data().tree_output[static_cast<std::size_t>(leaf.tree)];
        if (target < 0) {
          for (std::int64_t o = 0; o < k; ++o) term[o] += leaf.weight * value[o];
        } else {
          term[target] += leaf.weight * value[0];
        }
      }
      s = t;
    }
    // 3. Every coalition: the terms whose conditions it meets.
    double* row_out = out + i * n_masks * k;
    for (std::int64_t c = 0; c < n_masks; ++c) {
      const std::uint64_t S = bits[static_cast<std::size_t>(c)];
      double* v = row_out + c * k;
      for (std::int64_t o = 0; o < k; ++o) v[o] = 0.0;
      for (const Condition& cond : conditions) {
        if ((S & cond.in) != cond.in || (S & cond.out) != 0) continue;
        const double* term = terms.data() + cond.term;
        for (std::int64_t o = 0; o < k; ++o) v[o] += term[o];
      }
      for (std::int64_t o = 0; o < k; ++o) v[o] = v[o] / weight_sum + base[static_cast<std::size_t>(o)];
    }
  });
}

template void tree_coalition_values<double>(const model::TreeEnsemble&, MatrixView<double>, MatrixView<double>,
                                            const double*, const std::uint8_t*, std::int64_t, double*, int);
template void tree_coalition_values<float>(const model::TreeEnsemble&, MatrixView<float>, MatrixView<float>,
                                           const double*, const std::uint8_t*, std::int64_t, double*, int);

}  // namespace loopwise::explain
