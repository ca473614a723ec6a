// Path-dependent TreeSHAP and interaction values in quadrature form (see treeshap.hpp).
//
// Along a root-to-leaf path every distinct feature j has a state (o_j, z_j): o_j = 1 when the
// explained row follows all of j's splits so far, z_j = product of j's cover fractions. With
// q_j(t) = t o_j + (1 - t) z_j and g_j(t) = (o_j - z_j) / q_j(t), a leaf's share of phi_i is
// integral v prod_j q_j(t) g_i(t) dt. g_i at the leaf telescopes over the edges that split on
// i, so each edge adds integral S(t) (g_new(t) - g_old(t)) dt where S(t) sums v prod_j q_j(t)
// over the leaves below the edge. One depth-first walk per row and tree gives every phi.
#include "loopwise/explain/treeshap.hpp"

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>

#include "loopwise/common/error.hpp"
#include "loopwise/common/threading.hpp"

namespace loopwise::explain {

using model::PackedNode;
using model::TreeEnsemble;

void gauss_legendre_unit(int points, std::vector<double>& nodes, std::vector<double>& weights) {
  if (points < 1) throw InvalidArgument("quadrature needs at least one point");
  nodes.assign(points, 0.0);
  weights.assign(points, 0.0);
  const double pi = std::acos(-1.0);
  for (int i = 0; i < points; ++i) {
    // Newton iteration on P_n from the classic cosine guess; converges in a few steps.
    double x = std::cos(pi * (i + 0.75) / (points + 0.5));
    double derivative = 1.0;
    for (int iteration = 0; iteration < 100; ++iteration) {
      double p0 = 1.0, p1 = x;
      for (int k = 2; k <= points; ++k) {
        const double p2 = ((2.0 * k - 1.0) * x * p1 - (k - 1.0) * p0) / k;
        p0 = p1;
        p1 = p2;
      }
      if (points == 1) {
        p1 = x;
        p0 = 1.0;
      }
      derivative = points * (x * p1 - p0) / (x * x - 1.0);
      const double step = p1 / derivative;
      x -= step;
      if (std::fabs(step) < 1e-16) break;
    }
    // Recompute the derivative at the converged node for the weight.
    double p0 = 1.0, p1 = x;
    for (int k = 2; k <= points; ++k) {
      const double p2 = ((2.0 * k - 1.0) * x * p1 - (k - 1.0) * p0) / k;
      p0 = p1;
      p1 = p2;
    }
    derivative = points * (x * p1 - p0) / (x * x - 1.0);
    // Map [-1, 1] to [0, 1]: t = (1 - x) / 2 keeps nodes ascending.
    nodes[i] = 0.5 * (1.0 - x);
    weights[i] = 1.0 / ((1.0 - x * x) * derivative * derivative);
  }
}

namespace {

/// g(t) = (o - z) / (t o + (1 - t) z): 0 for an unseen feature (1, 1), -1 / (1 - t) when the
/// row left the path (o = 0, for any z, including a zero-cover z = 0).
inline double edge_g(double o, double z, double t) {
  if (o == 0.0) return -1.0 / (1.0 - t);
  return (1.0 - z) / (t + (1.0 - t) * z);
}

inline double edge_q(double o, double z, double t) { return t * o + (1.0 - t) * z; }

}  // namespace

/// Per-thread walk state for one ensemble.
struct PathDependentWalker {
  const PathDependentTreeShap& shap;
  const TreeEnsemble& ensemble;
  std::int64_t n_features;
  std::int64_t n_outputs;
  int stride;  ///< max quadrature points over trees
  std::vector<double> row, o, z, P, S;
  // Set per tree.
  const PackedNode* nodes = nullptr;
  std::int64_t tree = 0, node_offset = 0;
  int points = 1, width = 1, first_output = 0;
  const double* t = nullptr;
  const double* w = nullptr;
  // Output of the current row: phi (m x K) or, in conditioned walks, column c of (m x m x K).
  double* phi = nullptr;
  std::int32_t conditioned = -1;

  PathDependentWalker(const PathDependentTreeShap& s, const TreeEnsemble& e)
      : shap(s), ensemble(e), n_features(e.n_features()), n_outputs(e.n_outputs()) {
    stride = 1;
    for (int p : s.points_) stride = std::max(stride, p);
    const std::int64_t levels = e.max_depth() + 2;
    o.assign(n_features, 1.0);
    z.assign(n_features, 1.0);
    row.assign(n_features, 0.0);
    P.assign(levels * stride, 0.0);
    S.assign(levels * stride * n_outputs, 0.0);
  }

  template <class T>
  void load_row(const T* x, std::int64_t col_stride) {
    for (std::int64_t j = 0; j < n_features; ++j) row[j] = static_cast<double>(x[j * col_stride]);
  }

  void start_tree(std::int64_t tr) {
    tree = tr;
    nodes = &ensemble.node(tr, 0);
    node_offset = ensemble.node_index(tr, 0);
    points = shap.points_[tr];
    t = shap.nodes_by_points_[points].data();
    w = shap.weights_by_points_[points].data();
    const std::int32_t out = ensemble.data().tree_output[tr];
    width = out < 0 ? static_cast<int>(n_outputs) : 1;
    first_output = out < 0 ? 0 : out;
    double* root_P = P.data();
    for (int q = 0; q < points; ++q) root_P[q] = 1.0;
  }

  /// Output index of leaf slot k.
  std::int64_t output_of(int k) const { return first_output + k; }

  /// Fills S at `level` with sum over leaves below `node` of v * prod q (* H when conditioned).
  template <bool kConditioned>
  void walk(std::int32_t node, int level, double H) {
    const PackedNode& n = nodes[node];
    const double* Pn = P.data() + static_cast<std::int64_t>(level) * stride;
    double* Sn = S.data() + static_cast<std::int64_t>(level) * stride * n_outputs;
    if (n.feature < 0) {
      const double* v = ensemble.node_value(tree, node);
      for (int q = 0; q < points; ++q) {
        const double scale = kConditioned ? Pn[q] * H : Pn[q];
        for (int k = 0; k < width; ++k) Sn[q * width + k] = v[k] * scale;
      }
      return;
    }
    const std::int32_t f = n.feature;
    const std::int32_t hot = ensemble.next(n, row[f]);
    const double old_o = o[f], old_z = z[f];
    const double left_fraction = shap.left_fraction_[node_offset + node];
    std::fill(Sn, Sn + points * width, 0.0);
    double* Pc = P.data() + static_cast<std::int64_t>(level + 1) * stride;
    const double* Sc = S.data() + static_cast<std::int64_t>(level + 1) * stride * n_outputs;
    for (int side = 0; side < 2; ++side) {
      const std::int32_t child = side == 0 ? n.left : n.right;
      const double fraction = side == 0 ? left_fraction : 1.0 - left_fraction;
      const double new_o = child == hot ? old_o : 0.0;
      const double new_z = old_z * fraction;
      if (kConditioned && f == conditioned) {
        for (int q = 0; q < points; ++q) Pc[q] = Pn[q];
        o[f] = new_o;
        z[f] = new_z;
        walk<kConditioned>(child, level + 1, new_o - new_z);
      } else {
        for (int q = 0; q < points; ++q) {
          const double q_old = edge_q(old_o, old_z, t[q]);
          // q_old == 0 only when an earlier zero-cover split already zeroed the product.
          Pc[q] = q_old > 0.0 ? Pn[q] * (edge_q(new_o, new_z, t[q]) / q_old) : 0.0;
        }
        o[f] = new_o;
        z[f] = new_z;
        walk<kConditioned>(child, level + 1, H);
        double* target = kConditioned ? phi + (static_cast<std::int64_t>(f) * n_features + conditioned) * n_outputs
                                      : phi + static_cast<std::int64_t>(f) * n_outputs;
        for (int k = 0; k < width; ++k) {
          double sum = 0.0;
          for (int q = 0; q < points; ++q) {
            const double dg = edge_g(new_o, new_z, t[q]) - edge_g(old_o, old_z, t[q]);
            sum += w[q] * Sc[q * width + k] * dg;
          }
          target[output_of(k)] += kConditioned ? 0.5 * sum : sum;
        }
      }
      for (int i = 0; i < points * width; ++i) Sn[i] += Sc[i];
    }
    o[f] = old_o;
    z[f] = old_z;
  }
};

/// Per-edge quadrature tables of one tree, for the SHAP-value walk. Along an edge on feature
/// f, z_f goes from z_old to z_new = z_old * fraction (a property of the tree, not of the row)
/// and o_f from o_old to o_new, one of three cases: (1, 1) x follows the edge, (1, 0) x leaves
/// f's path here, (0, 0) x left it earlier. Per child node, for each quadrature point:
///   ratio11, ratio10: q_new / q_old for cases (1, 1) and (1, 0);
///   dg11, dg10: w (g_new - g_old) for those cases ((0, 0) has g_new = g_old: no contribution);
/// and one number ratio00 = z_new / z_old (0 after a zero-cover split). The walk for a row then
/// needs no division. The tables depend on the tree only: they are built once, when the
/// explainer is constructed, while they fit kCachedTableDoubles in total (256 MB); the trees
/// past that budget get theirs rebuilt per row block. Trees whose quadrature needs more points
/// (depth > 2 * kMaxTablePoints), or whose tables would exceed kMaxTableDoubles (64 MB), use
/// the direct walk.
constexpr int kMaxTablePoints = 64;
constexpr double kMaxTableDoubles = 8.0 * 1024 * 1024;
constexpr double kCachedTableDoubles = 32.0 * 1024 * 1024;
/// Rows walked together by GroupWalker; a block's last rows (fewer than this) walk one by one.
constexpr int kGroupLanes = 4;

/// Whether tree `tr` (with p quadrature points) walks with edge tables at all.
inline bool tabulable(const TreeEnsemble& ensemble, std::int64_t tr, int p) {
  return p <= kMaxTablePoints && static_cast<double>(ensemble.n_nodes(tr)) * (4.0 * p + 1.0) <= kMaxTableDoubles;
}

/// Fills one tree's edge tables (n_nodes x (4 * p + 1) doubles at `data`, the root's row unused).
class EdgeTableBuilder {
 public:
  EdgeTableBuilder(const TreeEnsemble& ensemble, const std::vector<double>& left_fraction)
      : ensemble_(ensemble), left_fraction_(left_fraction), z_(ensemble.n_features(), 1.0) {}

  void build(std::int64_t tree, const double* t, const double* w, int p, double* data) {
    if (p < 1 || p > kMaxTablePoints) throw InvalidArgument("edge tables: quadrature points out of range");
    points_ = p;
    stride_ = 4 * static_cast<std::int64_t>(p) + 1;
    count_ = ensemble_.n_nodes(tree);
    data_ = data;
    t_ = t;
    w_ = w;
    std::fill(data, data + count_ * stride_, 0.0);
    for (int q = 0; q < p; ++q) inverse_one_minus_t_[q] = 1.0 / (1.0 - t[q]);
    nodes_ = &ensemble_.node(tree, 0);
    offset_ = ensemble_.node_index(tree, 0);
    fill(0);
  }

 private:
  void fill(std::int32_t node) {
    const PackedNode& n = nodes_[node];
    if (n.feature < 0) return;
    const std::int32_t f = n.feature;
    const double z_old = z_[f];
    const double lf = left_fraction_[offset_ + node];
    const int points = points_;
    const double* t = t_;
    const double* w = w_;
    // q_old = t + (1 - t) z_old > 0 for o_old = 1 (t > 0 at every Gauss point).
    double inverse_q_old[kMaxTablePoints];
    for (int q = 0; q < points; ++q) inverse_q_old[q] = 1.0 / (t[q] + (1.0 - t[q]) * z_old);
    for (int side = 0; side < 2; ++side) {
      const std::int32_t child = side == 0 ? n.left : n.right;
      if (child < 0 || child >= count_) throw InvalidArgument("edge tables: child index out of range");
      const double z_new = z_old * (side == 0 ? lf : 1.0 - lf);
      double* e = data_ + child * stride_;
      for (int q = 0; q < points; ++q) {
        // One division per point and edge: 1 / q_old and g_old are shared by both children.
        const double inverse_old = inverse_q_old[q];
        const double g_old = (1.0 - z_old) * inverse_old;
        const double q_new = t[q] + (1.0 - t[q]) * z_new;
        e[q] = q_new * inverse_old;
        e[points + q] = (1.0 - t[q]) * z_new * inverse_old;
        e[2 * points + q] = w[q] * ((1.0 - z_new) / q_new - g_old);
        e[3 * points + q] = w[q] * (-inverse_one_minus_t_[q] - g_old);
      }
      // q_old = (1 - t) z_old is 0 only when an earlier zero-cover split zeroed the product.
      e[4 * points] = z_old > 0.0 ? z_new / z_old : 0.0;
      z_[f] = z_new;
      fill(child);
      z_[f] = z_old;
    }
  }

  const TreeEnsemble& ensemble_;
  const std::vector<double>& left_fraction_;
  std::vector<double> z_;  ///< per feature: product of cover fractions on the current path
  double inverse_one_minus_t_[kMaxTablePoints] = {};
  const PackedNode* nodes_ = nullptr;
  std::int64_t offset_ = 0, count_ = 0, stride_ = 5;
  int points_ = 1;
  const double* t_ = nullptr;
  const double* w_ = nullptr;
  double* data_ = nullptr;
};

/// The edge-table walk for kLanes rows at once: every row visits every node of the tree, so
/// the recursion, node loads and table loads are shared and only the per-row arithmetic is
/// repeated per lane. Each lane does exactly the operations the one-row walk (kLanes = 1) would,
/// in the same order, so a row's values do not depend on which rows share its group.
template <int kPoints, int kLanes>
struct GroupWalker {
  const TreeEnsemble& ensemble;
  std::int64_t n_outputs;
  std::vector<double> rows;        ///< kLanes x n_features
  std::vector<double> P, S;        ///< per level: [point][lane], [point][output][lane]
  std::vector<double> R, D;        ///< per level: the lanes' edge ratios and w * dg, [point][lane]
  std::vector<std::uint8_t> o;     ///< [feature][lane]
  const PackedNode* nodes = nullptr;
  const double* values = nullptr;  ///< the tree's node values, width per node
  const double* table = nullptr;  ///< the tree's edge tables, table_stride doubles per node
  std::int64_t table_stride = 5;
  int points = 1, width = 1, first_output = 0;
  std::int64_t p_level = 1, s_level = 1;  ///< doubles per level in P and S
  double* phi[kLanes] = {};

  GroupWalker(const TreeEnsemble& e, int max_points) : ensemble(e), n_outputs(e.n_outputs()) {
    const std::int64_t levels = e.max_depth() + 2;
    p_level = static_cast<std::int64_t>(max_points) * kLanes;
    s_level = p_level * n_outputs;
    rows.assign(e.n_features() * kLanes, 0.0);
    o.assign(e.n_features() * kLanes, 1);
    P.assign(levels * p_level, 0.0);
    R.assign(levels * p_level, 0.0);
    D.assign(levels * p_level, 0.0);
    S.assign(levels * s_level, 0.0);
  }

  void start_tree(std::int64_t tr, const double* t, int p) {
    table = t;
    table_stride = 4 * static_cast<std::int64_t>(p) + 1;
    nodes = &ensemble.node(tr, 0);
    values = ensemble.node_value(tr, 0);
    points = kPoints > 0 ? kPoints : p;
    const std::int32_t out = ensemble.data().tree_output[tr];
    width = out < 0 ? static_cast<int>(n_outputs) : 1;
    first_output = out < 0 ? 0 : out;
    for (int i = 0; i < points * kLanes; ++i) P[i] = 1.0;
  }

  void walk(std::int32_t node, int level) {
    const int np = kPoints > 0 ? kPoints : points;
    const PackedNode& n = nodes[node];
    const double* Pn = P.data() + level * p_level;
    double* Sn = S.data() + level * s_level;
    // This level's per-lane ratio and w * dg rows, laid out [point][lane] like P.
    double* rl = R.data() + level * p_level;
    double* dl = D.data() + level * p_level;
    const std::int32_t f = n.feature;
    std::int32_t hot[kLanes];
    std::uint8_t old_o[kLanes];
    for (int j = 0; j < kLanes; ++j) {
      hot[j] = ensemble.next(n, rows[static_cast<std::int64_t>(f) * kLanes + j]);
      old_o[j] = o[static_cast<std::int64_t>(f) * kLanes + j];
    }
    double* Pc = P.data() + (level + 1) * p_level;
    const double* Sc = S.data() + (level + 1) * s_level;
    for (int side = 0; side < 2; ++side) {
      const std::int32_t child = side == 0 ? n.left : n.right;
      const double* e = table + child * table_stride;
      const double ratio00 = e[4 * np];
      for (int j = 0; j < kLanes; ++j) {
        // Case (1, 1), (1, 0) or (0, 0), where dg = 0: the lane adds +0 to phi.
        const bool follows = child == hot[j];
        const double* r = follows ? e : e + np;
        const double* d = follows ? e + 2 * np : e + 3 * np;
        for (int q = 0; q < np; ++q) {
          rl[q * kLanes + j] = old_o[j] ? r[q] : ratio00;
          dl[q * kLanes + j] = old_o[j] ? d[q] : 0.0;
        }
      }
      double sum[kLanes] = {};
      if (nodes[child].feature < 0) {
        // A leaf child is scored here: S below it is v * P.
        const double* v = values + static_cast<std::int64_t>(child) * width;
        if (width == 1) {
          // One output (the common case): the same operations as below, unrolled.
          const double v0 = v[0];
          for (int q = 0; q < np; ++q) {
            for (int j = 0; j < kLanes; ++j) {
              const double pc = Pn[q * kLanes + j] * rl[q * kLanes + j];
              sum[j] += dl[q * kLanes + j] * pc;
              Sn[q * kLanes + j] = side == 0 ? v0 * pc : Sn[q * kLanes + j] + v0 * pc;
            }
          }
          for (int j = 0; j < kLanes; ++j) phi[j][static_cast<std::int64_t>(f) * n_outputs + first_output] += v0 * sum[j];
          continue;
        }
        for (int q = 0; q < np; ++q) {
          for (int j = 0; j < kLanes; ++j) {
            const double pc = Pn[q * kLanes + j] * rl[q * kLanes + j];
            sum[j] += dl[q * kLanes + j] * pc;
            for (int k = 0; k < width; ++k) {
              double& target = Sn[(q * width + k) * kLanes + j];
              target = side == 0 ? v[k] * pc : target + v[k] * pc;
            }
          }
        }
        for (int j = 0; j < kLanes; ++j) {
          double* t = phi[j] + static_cast<std::int64_t>(f) * n_outputs + first_output;
          for (int k = 0; k < width; ++k) t[k] += v[k] * sum[j];
        }
        continue;
      }
      for (int i = 0; i < np * kLanes; ++i) Pc[i] = Pn[i] * rl[i];
      for (int j = 0; j < kLanes; ++j) o[static_cast<std::int64_t>(f) * kLanes + j] = old_o[j] && child == hot[j] ? 1 : 0;
      walk(child, level + 1);
      if (width == 1) {
        for (int q = 0; q < np; ++q) {
          for (int j = 0; j < kLanes; ++j) sum[j] += dl[q * kLanes + j] * Sc[q * kLanes + j];
        }
        for (int j = 0; j < kLanes; ++j) phi[j][static_cast<std::int64_t>(f) * n_outputs + first_output] += sum[j];
        if (side == 0) {
          for (int i = 0; i < np * kLanes; ++i) Sn[i] = Sc[i];
        } else {
          for (int i = 0; i < np * kLanes; ++i) Sn[i] += Sc[i];
        }
        continue;
      }
      for (int k = 0; k < width; ++k) {
        for (int j = 0; j < kLanes; ++j) sum[j] = 0.0;
        for (int q = 0; q < np; ++q) {
          for (int j = 0; j < kLanes; ++j) sum[j] += dl[q * kLanes + j] * Sc[(q * width + k) * kLanes + j];
        }
        for (int j = 0; j < kLanes; ++j) phi[j][static_cast<std::int64_t>(f) * n_outputs + first_output + k] += sum[j];
      }
      const int count = np * width * kLanes;
      if (side == 0) {
        for (int i = 0; i < count; ++i) Sn[i] = Sc[i];
      } else {
        for (int i = 0; i < count; ++i) Sn[i] += Sc[i];
      }
    }
    for (int j = 0; j < kLanes; ++j) o[static_cast<std::int64_t>(f) * kLanes + j] = old_o[j];
  }
};

PathDependentTreeShap::PathDependentTreeShap(const TreeEnsemble& ensemble) : ensemble_(ensemble) {
  const std::int64_t n_trees = ensemble.n_trees();
  const auto& data = ensemble.data();
  left_fraction_.assign(data.feature.size(), 0.5);
  points_.assign(n_trees, 1);
  tree_features_.resize(n_trees);
  expected_.assign(data.base_score.begin(), data.base_score.end());
  int max_points = 1;
  for (std::int64_t tr = 0; tr < n_trees; ++tr) {
    const std::int64_t count = ensemble.n_nodes(tr);
    std::vector<std::int32_t> features;
    for (std::int32_t local = 0; local < count; ++local) {
      const PackedNode& n = ensemble.node(tr, local);
      if (n.feature < 0) continue;
      const double cl = ensemble.cover(tr, n.left), cr = ensemble.cover(tr, n.right);
      const double total = cl + cr;
      left_fraction_[ensemble.node_index(tr, local)] = total > 0.0 ? cl / total : 0.5;
      features.push_back(n.feature);
    }
    std::sort(features.begin(), features.end());
    features.erase(std::unique(features.begin(), features.end()), features.end());
    tree_features_[tr] = std::move(features);
    // A leaf's integrand has degree < (distinct features on its path) <= depth.
    points_[tr] = std::max(1, (ensemble.depths()[tr] + 1) / 2);
    max_points = std::max(max_points, points_[tr]);
    // Expected value of the tree: cover-weighted mean of its leaves (explicit stack).
    std::vector<std::pair<std::int32_t, double>> stack{{0, 1.0}};
    const std::int32_t out = data.tree_output[tr];
    while (!stack.empty()) {
      auto [local, weight] = stack.back();
      stack.pop_back();
      const PackedNode& n = ensemble.node(tr, local);
      if (n.feature < 0) {
        const double* v = ensemble.node_value(tr, local);
        if (out >= 0) {
          expected_[out] += weight * v[0];
        } else {
          for (std::int64_t k = 0; k < ensemble.n_outputs(); ++k) expected_[k] += weight * v[k];
        }
        continue;
      }
      const double left = left_fraction_[ensemble.node_index(tr, local)];
      stack.push_back({n.left, weight * left});
      stack.push_back({n.right, weight * (1.0 - left)});
    }
  }
  nodes_by_points_.resize(max_points + 1);
  weights_by_points_.resize(max_points + 1);
  for (std::int64_t tr = 0; tr < n_trees; ++tr) {
    const int p = points_[tr];
    if (nodes_by_points_[p].empty()) gauss_legendre_unit(p, nodes_by_points_[p], weights_by_points_[p]);
  }
  // The edge tables depend on the model only: tabulate them once here (up to the budget) so a
  // call does per-row work only.
  table_offset_.assign(n_trees, -1);
  std::int64_t total = 0;
  for (std::int64_t tr = 0; tr < n_trees; ++tr) {
    const int p = points_[tr];
    if (ensemble.depths()[tr] == 0 || !tabulable(ensemble, tr, p)) continue;
    const std::int64_t size = ensemble.n_nodes(tr) * (4 * static_cast<std::int64_t>(p) + 1);
    if (static_cast<double>(total + size) > kCachedTableDoubles) break;
    table_offset_[tr] = total;
    total += size;
  }
  edge_tables_.assign(total, 0.0);
  EdgeTableBuilder builder(ensemble, left_fraction_);
  for (std::int64_t tr = 0; tr < n_trees; ++tr) {
    if (table_offset_[tr] < 0) continue;
    const int p = points_[tr];
    builder.build(tr, nodes_by_points_[p].data(), weights_by_points_[p].data(), p, edge_tables_.data() + table_offset_[tr]);
  }
}

namespace {
constexpr std::int64_t kRowBlock = 16;

template <class T>
void check_width(const MatrixView<T>& X, const TreeEnsemble& ensemble) {
  if (X.cols != ensemble.n_features()) {
    throw InvalidArgument("X has " + std::to_string(X.cols) + " columns but the ensemble has " +
                          std::to_string(ensemble.n_features()) + " features");
  }
}
}  // namespace

namespace {
/// The table walkers of one thread for groups of kLanes rows, one per quadrature size with a
/// compile-time count (2 to 8 points) and a generic one, created when first needed.
template <int kLanes>
class LaneWalkers {
 public:
  LaneWalkers(const TreeEnsemble& ensemble, int max_points) : ensemble_(ensemble), max_points_(max_points) {}

  /// Walks tree `tr` for rows [begin, end) (a multiple of kLanes rows) of `rows`, whose first
  /// row is row `first` of the output.
  void walk(std::int64_t tr, const double* table, int p, const double* rows, std::int64_t first, std::int64_t begin,
            std::int64_t end, double* out) {
    switch (p) {
      case 2: return run(get(two_), tr, table, p, rows, first, begin, end, out);
      case 3: return run(get(three_), tr, table, p, rows, first, begin, end, out);
      case 4: return run(get(four_), tr, table, p, rows, first, begin, end, out);
      case 5: return run(get(five_), tr, table, p, rows, first, begin, end, out);
      case 6: return run(get(six_), tr, table, p, rows, first, begin, end, out);
      case 7: return run(get(seven_), tr, table, p, rows, first, begin, end, out);
      case 8: return run(get(eight_), tr, table, p, rows, first, begin, end, out);
      default: return run(get(generic_), tr, table, p, rows, first, begin, end, out);
    }
  }

 private:
  template <int kPoints>
  GroupWalker<kPoints, kLanes>& get(std::unique_ptr<GroupWalker<kPoints, kLanes>>& slot) {
    if (!slot) slot = std::make_unique<GroupWalker<kPoints, kLanes>>(ensemble_, max_points_);
    return *slot;
  }

  template <int kPoints>
  void run(GroupWalker<kPoints, kLanes>& walker, std::int64_t tr, const double* table, int p, const double* rows,
           std::int64_t first, std::int64_t begin, std::int64_t end, double* out) {
    const std::int64_t m = ensemble_.n_features(), K = ensemble_.n_outputs();
    for (std::int64_t g = begin; g < end; g += kLanes) {
      for (int j = 0; j < kLanes; ++j) {
        const double* x = rows + (g + j - first) * m;
        for (std::int64_t c = 0; c < m; ++c) walker.rows[c * kLanes + j] = x[c];
        walker.phi[j] = out + (g + j) * m * K;
      }
      walker.start_tree(tr, table, p);
      walker.walk(0, 0);
    }
  }

  const TreeEnsemble& ensemble_;
  int max_points_;
  std::unique_ptr<GroupWalker<0, kLanes>> generic_;
  std::unique_ptr<GroupWalker<2, kLanes>> two_;
  std::unique_ptr<GroupWalker<3, kLanes>> three_;
  std::unique_ptr<GroupWalker<4, kLanes>> four_;
  std::unique_ptr<GroupWalker<5, kLanes>> five_;
  std::unique_ptr<GroupWalker<6, kLanes>> six_;
  std::unique_ptr<GroupWalker<7, kLanes>> seven_;
  std::unique_ptr<GroupWalker<8, kLanes>> eight_;
};
}  // namespace

template <class T>
void PathDependentTreeShap::shap_values(const MatrixView<T>& X, double* out, int n_threads) const {
  check_width(X, ensemble_);
  const std::int64_t m = ensemble_.n_features(), K = ensemble_.n_outputs();
  int max_points = 1;
  for (int p : points_) max_points = std::max(max_points, p);
  // Blocks as large as 32 rows (uncached tables are built once per block), at least two per thread.
  const std::int64_t threads = std::max(1, n_threads);
  const std::int64_t wanted = (X.rows + 31) / 32;
  const std::int64_t n_blocks = std::max<std::int64_t>(1, threads * ((wanted + threads - 1) / threads));
  const std::int64_t block = std::max<std::int64_t>(1, (X.rows + n_blocks - 1) / n_blocks);
  parallel_blocks(X.rows, block, n_threads, [&](std::int64_t begin, std::int64_t end) {
    std::vector<double> scratch;  // tables of trees past the cache budget
    std::unique_ptr<EdgeTableBuilder> builder;
    std::unique_ptr<PathDependentWalker> direct;
    LaneWalkers<kGroupLanes> groups(ensemble_, max_points);
    LaneWalkers<1> singles(ensemble_, max_points);
    std::vector<double> rows((end - begin) * m);
    for (std::int64_t i = begin; i < end; ++i) {
      for (std::int64_t j = 0; j < m; ++j) rows[(i - begin) * m + j] = static_cast<double>(X(i, j));
      std::fill(out + i * m * K, out + (i + 1) * m * K, 0.0);
    }
    // Full groups of rows walk together; the block's last rows one by one (no padding lanes).
    const std::int64_t grouped_end = begin + (end - begin) / kGroupLanes * kGroupLanes;
    for (std::int64_t tr = 0; tr < ensemble_.n_trees(); ++tr) {
      if (ensemble_.depths()[tr] == 0) continue;
      const int p = points_[tr];
      const double* table = nullptr;
      if (table_offset_[tr] >= 0) {
        table = edge_tables_.data() + table_offset_[tr];
      } else if (tabulable(ensemble_, tr, p)) {
        if (!builder) builder = std::make_unique<EdgeTableBuilder>(ensemble_, left_fraction_);
        scratch.resize(ensemble_.n_nodes(tr) * (4 * static_cast<std::int64_t>(p) + 1));
        builder->build(tr, nodes_by_points_[p].data(), weights_by_points_[p].data(), p, scratch.data());
        table = scratch.data();
      } else {
        // Very deep or very large tree: its tables (nodes x points numbers) would cost more
        // memory than the division-free walk saves; walk it directly.
        if (!direct) direct = std::make_unique<PathDependentWalker>(*this, ensemble_);
        for (std::int64_t i = begin; i < end; ++i) {
          std::copy(rows.begin() + (i - begin) * m, rows.begin() + (i - begin + 1) * m, direct->row.begin());
          direct->phi = out + i * m * K;
          direct->start_tree(tr);
          direct->walk<false>(0, 0, 1.0);
        }
        continue;
      }
      groups.walk(tr, table, p, rows.data(), begin, begin, grouped_end, out);
      singles.walk(tr, table, p, rows.data(), begin, grouped_end, end, out);
    }
  });
}

template <class T>
void PathDependentTreeShap::interaction_values(const MatrixView<T>& X, double* out, int n_threads) const {
  check_width(X, ensemble_);
  const std::int64_t m = ensemble_.n_features(), K = ensemble_.n_outputs();
  // Each row is independent here: blocks only amortise the walker, so keep them small enough
  // that every thread gets several (a few rows of interactions are already long jobs).
  const std::int64_t per_thread = X.rows / (4 * static_cast<std::int64_t>(std::max(1, n_threads)));
  const std::int64_t block = std::max<std::int64_t>(1, std::min<std::int64_t>(kRowBlock, per_thread));
  parallel_blocks(X.rows, block, n_threads, [&](std::int64_t begin, std::int64_t end) {
    PathDependentWalker walker(*this, ensemble_);
    std::vector<double> phi(m * K);
    for (std::int64_t i = begin; i < end; ++i) {
      walker.load_row(X.row(i), X.col_stride);
      double* row_out = out + i * m * m * K;
      std::fill(row_out, row_out + m * m * K, 0.0);
      std::fill(phi.begin(), phi.end(), 0.0);
      for (std::int64_t tr = 0; tr < ensemble_.n_trees(); ++tr) {
        if (ensemble_.depths()[tr] == 0) continue;
        walker.start_tree(tr);
        walker.phi = phi.data();
        walker.walk<false>(0, 0, 1.0);
        walker.phi = row_out;
        for (std::int32_t c : tree_features_[tr]) {
          walker.conditioned = c;
          walker.start_tree(tr);
          // Before c is split on, its factor is o - z = 1 - 1 = 0.
          walker.walk<true>(0, 0, 0.0);
        }
        walker.conditioned = -1;
      }
      // Diagonal: main effect = phi_i minus its interactions, so each row of the matrix sums to phi_i.
      for (std::int64_t a = 0; a < m; ++a) {
        for (std::int64_t k = 0; k < K; ++k) {
          double off = 0.0;
          for (std::int64_t b = 0; b < m; ++b) {
            if (b != a) off += row_out[(a * m + b) * K + k];
          }
          row_out[(a * m + a) * K + k] = phi[a * K + k] - off;
        }
      }
    }
  });
}

template void PathDependentTreeShap::shap_values<float>(const MatrixView<float>&, double*, int) const;
template void PathDependentTreeShap::shap_values<double>(const MatrixView<double>&, double*, int) const;
template void PathDependentTreeShap::interaction_values<float>(const MatrixView<float>&, double*, int) const;
template void PathDependentTreeShap::interaction_values<double>(const MatrixView<double>&, double*, int) const;

}  // namespace loopwise::explain
