// The fast TreeSHAP walks against the direct ones on random ensembles: the interventional
// row-set walk against the pairwise walk (every bitset width: 1, 2, 4 words and the generic
// path), and the path-dependent edge-table walk against the direct walk (whose values are the
// row sums of the interaction matrix), plus additivity and thread determinism.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "loopwise/explain/treeshap.hpp"
#include "loopwise/model/tree_ensemble.hpp"

using loopwise::MatrixView;
using loopwise::explain::InterventionalTreeShap;
using loopwise::explain::PathDependentTreeShap;
using loopwise::model::Link;
using loopwise::model::TreeEnsemble;
using loopwise::model::TreeEnsembleData;

namespace {

/// Appends one random tree in preorder: splits on random features with random thresholds,
/// random default directions, some zero-cover subtrees, leaves of `width` values.
struct TreeBuilder {
  TreeEnsembleData& d;
  std::mt19937_64& rng;
  int max_depth;
  int width;
  std::int64_t offset = 0;

  std::int32_t add(int depth, double cover) {
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    const std::int32_t local = static_cast<std::int32_t>(d.feature.size() - offset);
    const bool leaf = depth == max_depth || (depth > 1 && unit(rng) < 0.15);
    d.feature.push_back(leaf ? -1 : static_cast<std::int32_t>(rng() % d.n_features));
    d.threshold.push_back(std::normal_distribution<double>(0.0, 1.0)(rng));
    d.left.push_back(0);
    d.right.push_back(0);
    d.default_left.push_back(static_cast<std::uint8_t>(rng() % 2));
    d.missing_rule.push_back(0);
    d.cover.push_back(cover);
    for (int k = 0; k < width; ++k) d.value.push_back(leaf ? std::normal_distribution<double>(0.0, 1.0)(rng) : 0.0);
    if (leaf) return local;
    // One split in twelve sends no training weight anywhere below it.
    const double share = unit(rng) < 1.0 / 12 ? 0.0 : 0.05 + 0.9 * unit(rng);
    const double left_cover = cover * share, right_cover = share == 0.0 ? 0.0 : cover - left_cover;
    const std::int32_t l = add(depth + 1, left_cover);
    const std::int32_t r = add(depth + 1, right_cover);
    d.left[offset + local] = l;
    d.right[offset + local] = r;
    return local;
  }
};

/// n_trees random trees on m features; with two outputs, trees alternate between output 0,
/// output 1 and vector leaves (tree_output = -1).
TreeEnsemble random_ensemble(std::uint64_t seed, int n_trees, int m, int max_depth, int n_outputs, Link link) {
  std::mt19937_64 rng(seed);
  TreeEnsembleData d;
  d.n_features = m;
  d.n_outputs = n_outputs;
  d.tree_offsets = {0};
  for (int t = 0; t < n_trees; ++t) {
    const std::int32_t out = n_outputs == 1 ? 0 : (t % 3 == 2 ? -1 : t % 3);
    d.tree_output.push_back(out);
    TreeBuilder b{d, rng, max_depth, out < 0 ? n_outputs : 1, static_cast<std::int64_t>(d.feature.size())};
    b.add(0, 100.0);
    d.tree_offsets.push_back(static_cast<std::int64_t>(d.feature.size()));
  }
  d.cat_left_ptr = {0};
  d.cat_right_ptr = {0};
  d.base_score.assign(n_outputs, 0.1);
  d.link = link;
  return TreeEnsemble(std::move(d));
}

/// rows x m normal values, about one in ten missing.
std::vector<double> random_rows(std::uint64_t seed, std::int64_t rows, int m) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::vector<double> X(rows * m);
  for (auto& v : X) v = rng() % 10 == 0 ? std::numeric_limits<double>::quiet_NaN() : normal(rng);
  return X;
}

double max_abs_diff(const std::vector<double>& a, const std::vector<double>& b) {
  double worst = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::fabs(a[i] - b[i]));
  return worst;
}

}  // namespace

TEST(InterventionalRowSet, MatchesPairwiseForEveryBitsetWidth) {
  const int m = 7;
  for (std::int64_t n_background : {1, 5, 64, 65, 130, 250, 300}) {
    for (int n_outputs : {1, 2}) {
      const TreeEnsemble e = random_ensemble(11 + n_background, 6, m, 6, n_outputs, Link::kIdentity);
      const auto background = random_rows(3 + n_background, n_background, m);
      InterventionalTreeShap shap(e, MatrixView<double>(background.data(), n_background, m));
      ASSERT_TRUE(shap.uses_bitsets());
      const std::int64_t rows = 9;
      const auto X = random_rows(5, rows, m);
      std::vector<double> fast(rows * m * n_outputs), direct(fast.size());
      shap.shap_values(MatrixView<double>(X.data(), rows, m), false, fast.data(), 1);
      shap.shap_values_pairwise(MatrixView<double>(X.data(), rows, m), false, direct.data(), 1);
      EXPECT_LE(max_abs_diff(fast, direct), 1e-12) << "background " << n_background << " outputs " << n_outputs;
    }
  }
}

TEST(InterventionalPatterns, MatchRowSetAndPairwise) {
  // Deep trees on few features (repeated path features) and many: slots reused along a path.
  for (int m : {3, 7, 40}) {
    for (std::int64_t n_background : {1, 2, 64, 100, 257}) {
      for (int n_outputs : {1, 2}) {
        const TreeEnsemble e = random_ensemble(41 + m + n_background, 5, m, 8, n_outputs, Link::kIdentity);
        const auto background = random_rows(6 + n_background, n_background, m);
        InterventionalTreeShap shap(e, MatrixView<double>(background.data(), n_background, m));
        ASSERT_TRUE(shap.uses_patterns());
        const std::int64_t rows = 6;
        const auto X = random_rows(7 + m, rows, m);
        const MatrixView<double> view(X.data(), rows, m);
        std::vector<double> fast(rows * m * n_outputs), row_set(fast.size()), direct(fast.size());
        shap.shap_values(view, false, fast.data(), 1);
        shap.shap_values_row_set(view, false, row_set.data(), 1);
        shap.shap_values_pairwise(view, false, direct.data(), 1);
        EXPECT_LE(max_abs_diff(fast, row_set), 1e-12) << "m " << m << " background " << n_background;
        EXPECT_LE(max_abs_diff(fast, direct), 1e-12) << "m " << m << " background " << n_background;
      }
    }
  }
}

TEST(InterventionalRowSet, MatchesPairwiseWhenRescaledToProbability) {
  const int m = 6;
  const TreeEnsemble e = random_ensemble(21, 8, m, 5, 1, Link::kLogistic);
  for (std::int64_t n_background : {3, 100}) {
    const auto background = random_rows(4, n_background, m);
    InterventionalTreeShap shap(e, MatrixView<double>(background.data(), n_background, m));
    const std::int64_t rows = 7;
    const auto X = random_rows(8, rows, m);
    std::vector<double> fast(rows * m), direct(rows * m);
    shap.shap_values(MatrixView<double>(X.data(), rows, m), true, fast.data(), 1);
    shap.shap_values_pairwise(MatrixView<double>(X.data(), rows, m), true, direct.data(), 1);
    EXPECT_LE(max_abs_diff(fast, direct), 1e-12);
  }
}

TEST(InterventionalRowSet, BitIdenticalForAnyThreadCount) {
  const int m = 8;
  const TreeEnsemble e = random_ensemble(31, 10, m, 7, 1, Link::kIdentity);
  const auto background = random_rows(9, 100, m);
  InterventionalTreeShap shap(e, MatrixView<double>(background.data(), 100, m));
  const std::int64_t rows = 37;
  const auto X = random_rows(10, rows, m);
  std::vector<double> one(rows * m), two(rows * m), three(rows * m);
  shap.shap_values(MatrixView<double>(X.data(), rows, m), false, one.data(), 1);
  shap.shap_values(MatrixView<double>(X.data(), rows, m), false, two.data(), 2);
  shap.shap_values(MatrixView<double>(X.data(), rows, m), false, three.data(), 3);
  EXPECT_EQ(one, two);
  EXPECT_EQ(one, three);
}

TEST(PathDependentTables, MatchDirectWalkAndAddUp) {
  const int m = 9;
  // Depths 1..12 cover 1..6 quadrature points (compile-time cases) and the generic case.
  for (int depth : {1, 3, 6, 9, 12, 20}) {
    for (int n_outputs : {1, 2}) {
      const TreeEnsemble e = random_ensemble(41 + depth, 5, m, depth, n_outputs, Link::kIdentity);
      PathDependentTreeShap shap(e);
      const std::int64_t rows = 6;
      const auto X = random_rows(12 + depth, rows, m);
      const MatrixView<double> view(X.data(), rows, m);
      std::vector<double> phi(rows * m * n_outputs), inter(rows * m * m * n_outputs), margin(rows * n_outputs);
      shap.shap_values(view, phi.data(), 1);
      shap.interaction_values(view, inter.data(), 1);
      e.predict(view, margin.data(), 1);
      for (std::int64_t i = 0; i < rows; ++i) {
        for (int k = 0; k < n_outputs; ++k) {
          double total = shap.expected_value()[k];
          for (int a = 0; a < m; ++a) {
            // Interaction rows sum to the direct walk's phi.
            double direct = 0.0;
            for (int b = 0; b < m; ++b) direct += inter[((i * m + a) * m + b) * n_outputs + k];
            const double fast = phi[(i * m + a) * n_outputs + k];
            EXPECT_NEAR(fast, direct, 1e-10) << "depth " << depth << " row " << i << " feature " << a;
            total += fast;
          }
          EXPECT_NEAR(total, margin[i * n_outputs + k], 1e-10) << "depth " << depth << " row " << i;
        }
      }
    }
  }
}

TEST(PathDependentTables, BitIdenticalForAnyThreadCount) {
  const int m = 8;
  const TreeEnsemble e = random_ensemble(51, 12, m, 8, 1, Link::kIdentity);
  PathDependentTreeShap shap(e);
  const std::int64_t rows = 101;
  const auto X = random_rows(13, rows, m);
  std::vector<double> one(rows * m), two(rows * m);
  shap.shap_values(MatrixView<double>(X.data(), rows, m), one.data(), 1);
  shap.shap_values(MatrixView<double>(X.data(), rows, m), two.data(), 2);
  EXPECT_EQ(one, two);
}
