// Tree coalition values without synthetic rows equal predictions on synthetic rows.
#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>
#include <vector>

#include "loopwise/common/rng.hpp"
#include "loopwise/explain/agnostic.hpp"
#include "loopwise/model/tree_ensemble.hpp"

using loopwise::MatrixView;
using loopwise::model::TreeEnsemble;
using loopwise::model::TreeEnsembleData;
namespace ex = loopwise::explain;

namespace {

// Complete trees of depth 3 on random features/thresholds; missing values go left.
TreeEnsemble random_forest(std::int64_t n_features, int n_trees, std::int64_t n_outputs, std::uint64_t seed) {
  loopwise::Rng rng(seed);
  TreeEnsembleData d;
  d.n_features = n_features;
  d.n_outputs = n_outputs;
  d.tree_offsets = {0};
  d.cat_left_ptr = {0};
  d.cat_right_ptr = {0};
  d.base_score.assign(static_cast<std::size_t>(n_outputs), 0.5);
  for (int t = 0; t < n_trees; ++t) {
    for (int node = 0; node < 15; ++node) {
      const bool leaf = node >= 7;
      d.feature.push_back(leaf ? -1 : static_cast<std::int32_t>(rng.below(static_cast<std::uint64_t>(n_features))));
      d.threshold.push_back(leaf ? 0.0 : rng.normal());
      d.left.push_back(leaf ? 0 : 2 * node + 1);
      d.right.push_back(leaf ? 0 : 2 * node + 2);
      d.default_left.push_back(1);
      d.missing_rule.push_back(0);
      d.cover.push_back(1.0);
      for (std::int64_t o = 0; o < n_outputs; ++o) d.value.push_back(leaf ? rng.normal() : 0.0);
    }
    d.tree_output.push_back(n_outputs == 1 ? 0 : -1);
    d.tree_offsets.push_back(d.tree_offsets.back() + 15);
  }
  return TreeEnsemble(std::move(d));
}

}  // namespace

TEST(TreeCoalitionValues, EqualsAveragedPredictionsOnSyntheticRows) {
  const std::int64_t M = 5, B = 7, k = 2, rows = 3;
  const TreeEnsemble e = random_forest(M, 25, k, 4);
  loopwise::Rng rng(9);
  std::vector<double> x(rows * M), bg(B * M), w(B);
  for (auto& v : x) v = rng.normal();
  for (auto& v : bg) v = rng.normal();
  x[3] = std::nan("");  // missing values follow the default direction on both paths
  for (auto& v : w) v = 0.1 + rng.uniform();
  double w_sum = 0.0;
  for (double v : w) w_sum += v;
  const std::int64_t n_masks = std::int64_t{1} << M;
  std::vector<std::uint8_t> masks(n_masks * M);
  for (std::int64_t c = 0; c < n_masks; ++c)
    for (std::int64_t j = 0; j < M; ++j) masks[c * M + j] = static_cast<std::uint8_t>((c >> j) & 1);
  std::vector<double> fast(rows * n_masks * k);
  ex::tree_coalition_values<double>(e, {x.data(), rows, M}, {bg.data(), B, M}, w.data(), masks.data(), n_masks,
                                    fast.data(), 2);
  std::vector<double> synthetic(rows * n_masks * B * M), predictions(rows * n_masks * B * k);
  ex::coalition_rows<double>({x.data(), rows, M}, {bg.data(), B, M}, masks.data(), n_masks, 0, n_masks,
                             synthetic.data(), 1);
  e.predict(MatrixView<double>(synthetic.data(), rows * n_masks * B, M), predictions.data(), 1);
  for (std::int64_t i = 0; i < rows; ++i) {
    for (std::int64_t c = 0; c < n_masks; ++c) {
      for (std::int64_t o = 0; o < k; ++o) {
        double expected = 0.0;
        for (std::int64_t b = 0; b < B; ++b) expected += w[b] * predictions[((i * n_masks + c) * B + b) * k + o];
        expected /= w_sum;
        EXPECT_NEAR(fast[(i * n_masks + c) * k + o], expected, 1e-12);
      }
    }
  }
  std::vector<double> again(fast.size());
  ex::tree_coalition_values<double>(e, {x.data(), rows, M}, {bg.data(), B, M}, w.data(), masks.data(), n_masks,
                                    again.data(), 1);
  EXPECT_EQ(again, fast);
  EXPECT_THROW(ex::tree_coalition_values<double>(e, {x.data(), rows, M - 1}, {bg.data(), B, M}, w.data(), masks.data(),
                                                 n_masks, fast.data(), 1),
               std::invalid_argument);
}
