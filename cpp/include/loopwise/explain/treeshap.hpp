#pragma once
/// Exact TreeSHAP for a TreeEnsemble: path-dependent SHAP values and interaction values
/// (quadrature form, linear in the number of nodes) and interventional SHAP values.
#include <cstdint>
#include <vector>

#include "loopwise/common/matrix.hpp"
#include "loopwise/model/tree_ensemble.hpp"

namespace loopwise::explain {

/// Gauss-Legendre nodes and weights on [0, 1] with `points` points (exact for polynomials
/// of degree 2 * points - 1).
void gauss_legendre_unit(int points, std::vector<double>& nodes, std::vector<double>& weights);

/// Path-dependent TreeSHAP. The value of a coalition S is the cover-weighted expectation
/// E[f(x) | x_S]: a split on a feature in S routes x with TreeEnsemble::next(); any other
/// split averages its children weighted by cover_child / (cover_left + cover_right). When
/// both children have zero cover the split weighs them 1/2 each (a defined expectation for
/// subtrees no training row reached).
///
/// Shapley values are computed from phi_i = sum_leaves v (o_i - z_i) * integral over t in
/// [0, 1] of prod_{j != i} (t o_j + (1 - t) z_j), with o_j in {0, 1} (x follows every split
/// on j) and z_j the product of j's cover fractions on the leaf's path. The integrand is a
/// polynomial of degree < depth, so Gauss-Legendre quadrature with ceil(depth / 2) points is
/// exact; every factor is non-negative and no unwinding division is needed, which keeps deep
/// trees additive to rounding. The constructor tabulates each edge's factors per quadrature
/// point (they depend on the tree only); shap_values walks four rows at a time, the last rows
/// of a block one at a time; trees deeper than 128 use the direct walk, as interaction_values does.
class PathDependentTreeShap {
 public:
  explicit PathDependentTreeShap(const model::TreeEnsemble& ensemble);

  /// Expected raw output per output (base score + cover-weighted mean of every tree).
  const std::vector<double>& expected_value() const { return expected_; }

  /// SHAP values, out is rows x n_features x n_outputs (row-major), overwritten.
  template <class T>
  void shap_values(const MatrixView<T>& X, double* out, int n_threads) const;

  /// SHAP interaction values, out is rows x n_features x n_features x n_outputs, overwritten.
  /// Off-diagonal (i, j) is half of phi_i with j conditioned present minus absent; the
  /// diagonal is phi_i minus the row's off-diagonal sum, so each row sums to phi.
  template <class T>
  void interaction_values(const MatrixView<T>& X, double* out, int n_threads) const;

 private:
  friend struct PathDependentWalker;
  const model::TreeEnsemble& ensemble_;
  std::vector<double> left_fraction_;   ///< per global node: share of cover going left
  std::vector<int> points_;             ///< quadrature points per tree
  std::vector<std::vector<double>> nodes_by_points_, weights_by_points_;
  std::vector<std::vector<std::int32_t>> tree_features_;  ///< distinct split features per tree
  std::vector<double> edge_tables_;          ///< per tree: the walk's edge tables, built once
  std::vector<std::int64_t> table_offset_;   ///< per tree: offset in edge_tables_, -1 if not cached
  std::vector<double> expected_;
};

/// Interventional (baseline) TreeSHAP: the value of S is the mean over background rows r of
/// f(x_S, r_rest); each (x, r) pair's exact Shapley values are averaged. With `rescale`, each
/// pair's raw-margin attributions for output k are scaled by
/// (link(f(x))_k - link(f(r))_k) / (f(x)_k - f(r)_k) (the link's slope when equal), so they sum
/// to the difference in transformed output (the convention of shap's model_output="probability").
class InterventionalTreeShap {
 public:
  /// background is copied (it is small: tens to thousands of rows).
  template <class T>
  InterventionalTreeShap(const model::TreeEnsemble& ensemble, const MatrixView<T>& background);

  /// Mean raw (or, with transformed=true, linked) output over the background.
  std::vector<double> expected_value(bool transformed) const;

  /// Values, out is rows x n_features x n_outputs, overwritten. One walk per (row, tree)
  /// carries the set of background rows still consistent with each node as a bitset (see
  /// treeshap_interventional.cpp); falls back to shap_values_pairwise when the bitsets
  /// would not fit the memory budget.
  template <class T>
  void shap_values(const MatrixView<T>& X, bool transformed, double* out, int n_threads) const;

  /// The same values from one walk per (row, background row, tree): the direct algorithm,
  /// kept as the reference the bitset walk is tested against.
  template <class T>
  void shap_values_pairwise(const MatrixView<T>& X, bool transformed, double* out, int n_threads) const;

  /// True when the per-node background bitsets were built (the fast path is used).
  bool uses_bitsets() const { return !left_bits_.empty(); }

  /// True when the per-leaf background path patterns were built: raw (untransformed) values
  /// then score each leaf once per distinct pattern instead of once per background row (see
  /// treeshap_interventional_patterns.cpp).
  bool uses_patterns() const { return !pattern_offset_.empty(); }

  /// One distinct background pattern of a leaf: the path slots its rows fail (bit s = the
  /// s-th distinct feature on the path), their number and how many rows share the pattern.
  struct LeafPattern {
    std::uint32_t fails;
    std::uint16_t n_fails;
    std::uint16_t count;
  };

  /// The row-set walk alone (no patterns): the fast path before patterns, kept as a second
  /// reference for tests and for linked (transformed) values. Needs uses_bitsets().
  template <class T>
  void shap_values_row_set(const MatrixView<T>& X, bool transformed, double* out, int n_threads) const;

 private:
  template <int kW>
  friend struct RowSetWalker;
  template <int kW>
  friend struct PatternWalker;
  template <int kW, class T>
  void row_set_values(const MatrixView<T>& X, bool transformed, double* out, int n_threads, std::int64_t block) const;
  void build_patterns();
  template <int kW, class T>
  void pattern_values(const MatrixView<T>& X, double* out, int n_threads, std::int64_t block) const;
  const model::TreeEnsemble& ensemble_;
  std::int64_t n_background_;
  std::int64_t words_ = 0;                  ///< 64-bit words per background bitset
  std::vector<std::uint64_t> left_bits_;    ///< per global node: background rows sent left
  std::vector<double> background_;          ///< n_background x n_features
  std::vector<double> background_margin_;   ///< n_background x n_outputs
  std::vector<double> background_linked_;   ///< n_background x n_outputs
  std::vector<double> weights_;             ///< (depth+1)^2 table of a! b! / (a + b + 1)!
  /// Per global node, two entries: where its leaf patterns begin and end (empty when off).
  std::vector<std::int64_t> pattern_offset_;
  std::vector<LeafPattern> patterns_;
  int weight_stride_ = 0;
};

}  // namespace loopwise::explain
