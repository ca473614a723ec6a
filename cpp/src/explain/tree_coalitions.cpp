// Coalition values of a tree ensemble without synthetic rows (see agnostic.hpp).
#include <cstring>
#include <unordered_map>
#include <vector>

#include "loopwise/common/error.hpp"
#include "loopwise/common/threading.hpp"
#include "loopwise/explain/agnostic.hpp"
#include "loopwise/model/tree_ensemble.hpp"

namespace loopwise::explain {

namespace {

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
  // Coalitions as bit sets; 32-bit copies let the evaluation loop use 4 lanes per vector.
  const bool narrow = M <= 32;
  std::vector<std::uint32_t> bits32(narrow ? bits.size() : 0);
  for (std::size_t c = 0; c < bits32.size(); ++c) bits32[c] = static_cast<std::uint32_t>(bits[c]);
  double weight_sum = 0.0;
  for (std::int64_t b = 0; b < background.rows; ++b) weight_sum += weights[b];
  const std::vector<double>& base = e.data().base_score;

  parallel_for(x.rows, n_threads, [&](std::int64_t i) {
    // 1. Follow x and each background row down every tree together; where they part at
    //    a feature not yet decided, follow both (feature in S: x's way; out: b's way).
    //    A leaf reached under no condition adds to a constant, under one condition to a
    //    per-feature term, otherwise to the term of its (in, out) pair. The traversal
    //    order is fixed, so every sum is formed in the same order for any thread count.
    std::vector<double> constant(static_cast<std::size_t>(k), 0.0);
    std::vector<double> when_in(static_cast<std::size_t>(M * k), 0.0), when_out(static_cast<std::size_t>(M * k), 0.0);
    std::vector<std::uint64_t> cond_in, cond_out;
    std::vector<double> terms;
    std::unordered_map<std::uint64_t, std::vector<std::size_t>> index_of;  // hash(in, out) -> candidates
    struct Frame {
      std::int32_t node;
      std::uint64_t in, out;
    };
    std::vector<Frame> stack;
    auto add = [&](std::uint64_t in, std::uint64_t out_bits, std::int64_t tree, std::int32_t node, double weight) {
      double* target;
      const int n_conditions = __builtin_popcountll(in) + __builtin_popcountll(out_bits);
      if (n_conditions == 0) {
        target = constant.data();
      } else if (n_conditions == 1) {
        target = (in ? when_in.data() : when_out.data()) + __builtin_ctzll(in | out_bits) * k;
      } else {
        const std::uint64_t key = in * 0x9E3779B97F4A7C15ULL ^ (out_bits + 0x632BE59BD9B4E019ULL);
        auto& bucket = index_of[key];
        std::size_t g = cond_in.size();
        for (std::size_t candidate : bucket)
          if (cond_in[candidate] == in && cond_out[candidate] == out_bits) g = candidate;
        if (g == cond_in.size()) {
          bucket.push_back(g);
          cond_in.push_back(in);
          cond_out.push_back(out_bits);
          terms.resize(terms.size() + static_cast<std::size_t>(k), 0.0);
        }
        target = terms.data() + g * static_cast<std::size_t>(k);
      }
      const double* value = e.node_value(tree, node);
      const std::int32_t output = e.data().tree_output[static_cast<std::size_t>(tree)];
      if (output < 0) {
        for (std::int64_t o = 0; o < k; ++o) target[o] += weight * value[o];
      } else {
        target[output] += weight * value[0];
      }
    };
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
              add(f.in, f.out, t, f.node, weights[b]);
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
    // 3. Every coalition, condition-major: the inner loop runs over coalitions with one
    //    fixed condition, which the compiler vectorises (32-bit masks when M <= 32).
    const std::size_t n_cond = cond_in.size();
    std::vector<double> acc(static_cast<std::size_t>(k * n_masks));
    for (std::int64_t o = 0; o < k; ++o) {
      double* a = acc.data() + o * n_masks;
      for (std::int64_t c = 0; c < n_masks; ++c) a[c] = constant[static_cast<std::size_t>(o)];
      for (std::int64_t j = 0; j < M; ++j) {
        const double yes = when_in[static_cast<std::size_t>(j * k + o)], no = when_out[static_cast<std::size_t>(j * k + o)];
        if (yes == 0.0 && no == 0.0) continue;
        for (std::int64_t c = 0; c < n_masks; ++c) a[c] += (bits[static_cast<std::size_t>(c)] >> j) & 1 ? yes : no;
      }
      for (std::size_t g = 0; g < n_cond; ++g) {
        const double term = terms[g * static_cast<std::size_t>(k) + static_cast<std::size_t>(o)];
        if (term == 0.0) continue;
        if (narrow) {
          const auto in = static_cast<std::uint32_t>(cond_in[g]), out_bits = static_cast<std::uint32_t>(cond_out[g]);
          const std::uint32_t* S = bits32.data();
          for (std::int64_t c = 0; c < n_masks; ++c) a[c] += (((S[c] & in) ^ in) | (S[c] & out_bits)) == 0 ? term : 0.0;
        } else {
          const std::uint64_t in = cond_in[g], out_bits = cond_out[g];
          const std::uint64_t* S = bits.data();
          for (std::int64_t c = 0; c < n_masks; ++c) a[c] += (((S[c] & in) ^ in) | (S[c] & out_bits)) == 0 ? term : 0.0;
        }
      }
    }
    double* row_out = out + i * n_masks * k;
    for (std::int64_t c = 0; c < n_masks; ++c)
      for (std::int64_t o = 0; o < k; ++o)
        row_out[c * k + o] = acc[static_cast<std::size_t>(o * n_masks + c)] / weight_sum + base[static_cast<std::size_t>(o)];
  });
}

template void tree_coalition_values<double>(const model::TreeEnsemble&, MatrixView<double>, MatrixView<double>,
                                            const double*, const std::uint8_t*, std::int64_t, double*, int);
template void tree_coalition_values<float>(const model::TreeEnsemble&, MatrixView<float>, MatrixView<float>,
                                           const double*, const std::uint8_t*, std::int64_t, double*, int);

}  // namespace loopwise::explain
