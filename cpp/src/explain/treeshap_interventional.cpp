// Interventional TreeSHAP: exact Shapley values of v(S) = f(x_S, r_rest) for each background
// row r, averaged. Per tree, a walk follows both children only where x and r disagree on a
// feature not yet assigned; a leaf reached with features A taken from x and B from r adds
// v * |A - 1|! |B|! / (|A| + |B|)! to each feature of A and subtracts v * |A|! |B - 1|! / (...)!
// from each of B (the only coalitions reaching it are A subset S, B disjoint from S).
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

}  // namespace

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

template <class T>
void InterventionalTreeShap::shap_values(const MatrixView<T>& X, bool transformed, double* out, int n_threads) const {
  const std::int64_t m = ensemble_.n_features(), K = ensemble_.n_outputs();
  if (X.cols != m) {
    throw InvalidArgument("X has " + std::to_string(X.cols) + " columns but the ensemble has " +
                          std::to_string(m) + " features");
  }
  if (transformed) link_slope(ensemble_.data(), 0.0);  // refuses links it cannot rescale
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

}  // namespace loopwise::explain
