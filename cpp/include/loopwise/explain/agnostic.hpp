#pragma once
/// Model-agnostic explainers' numeric core ("the sandwich"): coalition designs and
/// synthetic rows go out to the model, averaged model outputs come back and are turned
/// into attributions here. Nothing in this file calls a model.
#include <cstdint>
#include <vector>

#include "loopwise/common/matrix.hpp"

namespace loopwise::explain {

/// Coalitions KernelSHAP evaluates, and how they enter the weighted regression.
///
/// `masks` holds the distinct coalitions (row-major, n_masks x n_features, 1 = the feature
/// takes the explained row's value). The first `n_enumerated` are whole subset sizes
/// enumerated exhaustively, with kernel weights `enumerated_weights`. The rest come from
/// `pairs`: independent draws z from the Shapley kernel restricted to the subset sizes
/// that were not enumerated, each paired with its complement; pair p refers to masks
/// `pairs[2p]` (z) and `pairs[2p + 1]` (1 - z). Identical draws share one mask (one model
/// evaluation) but count once per draw. `sampled_weight` is the kernel mass of the sampled
/// sizes (all weights are normalised to total mass 1). The first p pairs only use masks
/// below `masks_needed[p - 1]`, so a prefix of pairs is a valid smaller design.
struct KernelDesign {
  std::int64_t n_features = 0;
  std::int64_t n_masks = 0;
  std::vector<std::uint8_t> masks;
  std::int64_t n_enumerated = 0;
  std::vector<double> enumerated_weights;
  std::vector<std::int64_t> pairs;
  std::vector<std::int64_t> masks_needed;
  double sampled_weight = 0.0;
  std::int64_t n_pairs() const { return static_cast<std::int64_t>(pairs.size() / 2); }
};

/// Builds the KernelSHAP design for `n_features` features and at most `budget` distinct
/// coalitions: all 2^M - 2 when they fit; otherwise whole subset sizes (smallest and largest
/// first, paired) while the budget covers them, then paired draws for the rest.
KernelDesign kernel_design(std::int64_t n_features, std::int64_t budget, std::uint64_t seed);

/// Solves the constrained weighted least squares of KernelSHAP for many rows at once.
///
/// `values` is rows x n_masks_used x k (row-major): the (linked) expected model output of
/// each coalition, for masks [0, n_masks_used) where n_masks_used >= masks needed by the
/// first `n_pairs` pairs. `base` (k) is the output of the empty coalition, `full`
/// (rows x k) of the full one. Writes `phi` and `std_errors` (rows x M x k). The standard
/// errors are the delta-method (sandwich) variance of the estimator over its independent
/// paired draws (after Covert & Lee 2021); 0 when the design is fully enumerated, NaN with
/// fewer than 2 pairs.
void kernel_solve(const KernelDesign& design, std::int64_t n_pairs, const double* values, std::int64_t rows,
                  std::int64_t n_masks_used, std::int64_t k, const double* base, const double* full, double* phi,
                  double* std_errors, int n_threads);

/// Antithetic permutation design: `n_pairs` random permutations and their reverses.
/// Masks: 0 = empty, 1 = full, then for permutation q its M - 1 proper prefixes in order
/// (mask 2 + q * (M - 1) + (len - 1)). `orders` is 2 n_pairs x M.
struct PermutationDesign {
  std::int64_t n_features = 0;
  std::int64_t n_permutations = 0;
  std::vector<std::int64_t> orders;
  std::vector<std::uint8_t> masks;
  std::int64_t n_masks() const { return static_cast<std::int64_t>(masks.size()) / (n_features > 0 ? n_features : 1); }
};

/// Draws the antithetic permutation design (Fisher-Yates on a seeded stream).
PermutationDesign permutation_design(std::int64_t n_features, std::int64_t n_pairs, std::uint64_t seed);

/// Averages marginal contributions along the permutations: values is rows x n_masks x k.
/// Standard errors come from the spread of the antithetic pair means (NaN for one pair).
void permutation_solve(const PermutationDesign& design, const double* values, std::int64_t rows, std::int64_t k,
                       double* phi, double* std_errors, int n_threads);

/// Shapley values from all 2^M coalition values (mask index = bit pattern, bit j = feature j):
/// values is rows x 2^M x k, phi rows x M x k.
void exact_solve(std::int64_t n_features, const double* values, std::int64_t rows, std::int64_t k, double* phi,
                 int n_threads);

/// Synthetic rows: for each explained row i and coalition c in [mask_begin, mask_end) and
/// background row b, out[((i * nc + c - mask_begin) * B + b) * M + j] is x[i, j] when
/// mask[c, j] else background[b, j].
template <class T>
void coalition_rows(MatrixView<T> x, MatrixView<T> background, const std::uint8_t* masks, std::int64_t n_masks,
                    std::int64_t mask_begin, std::int64_t mask_end, T* out, int n_threads);

/// Weighted least squares with a ridge penalty on the slopes (never the intercept):
/// minimise sum_i w_i (y_i - a - x_i . beta)^2 + alpha |beta|^2 over the columns `used`.
/// Returns intercept, coefficients (in `used` order), weighted R^2 and the prediction at row 0.
struct RidgeFit {
  double intercept = 0.0;
  std::vector<double> coef;
  double score = 0.0;
  double prediction_first = 0.0;
};
RidgeFit weighted_ridge(MatrixView<double> X, const double* y, const double* w, const std::vector<std::int64_t>& used,
                        double alpha);

/// LIME feature selection: "forward" greedy weighted R^2 with alpha = 0 (lime's
/// forward_selection), "highest" the largest |coef * x_0| of a ridge with alpha = 0.01.
std::vector<std::int64_t> lime_select(MatrixView<double> X, const double* y, const double* w,
                                      std::int64_t num_features, bool forward);

/// LIME perturbations of one row. Each feature is either discretised/categorical (a
/// category drawn from `frequencies`; continuous binned features then take a value from a
/// normal truncated to the bin) or continuous (normal with `mean`, `scale`).
/// Writes `inverse` (n x M, original space) and `binary` (n x M, the interpretable
/// representation: 1 where the draw equals the row's category, or the scaled value for
/// continuous features). Row 0 is the explained row itself.
struct LimeFeature {
  bool categorical = false;                 ///< sampled from `values` with `frequencies`
  std::vector<double> values;               ///< category values (bin indices when binned)
  std::vector<double> frequencies;          ///< their probabilities
  bool binned = false;                      ///< categories are bins of a continuous feature
  std::vector<double> bin_mean, bin_std, bin_min, bin_max;  ///< per bin, for undiscretising
  double mean = 0.0, scale = 1.0;           ///< continuous features
};
void lime_sample(const std::vector<LimeFeature>& features, const double* row, const double* row_category,
                 std::int64_t n, bool around_instance, std::uint64_t seed, double* inverse, double* binary);

/// Standard normal quantile, accurate to about 1e-15 (Acklam's rational start + Halley step).
double normal_quantile(double p);

}  // namespace loopwise::explain

namespace loopwise::model {
class TreeEnsemble;
}

namespace loopwise::explain {

/// Exact coalition values of a tree ensemble's raw margin without building synthetic rows.
///
/// For an explained row x and a background row b, a tree's traversal under coalition S
/// only depends on S at the nodes where x and b go different ways; following both ways
/// there yields, per tree and background row, a few leaves each reached exactly when a
/// set I of features is in S and a set O is out of S. Summing the weighted leaf values
/// of identical (I, O) gives v(S) = base + sum_g value_g [I_g in S, O_g outside S]: one
/// pass over the trees per explained row instead of n_masks x n_background predictions.
/// out is rows x n_masks x n_outputs (weights need not be normalised; they are used as
/// given). Needs n_features <= 64.
template <class T>
void tree_coalition_values(const model::TreeEnsemble& ensemble, MatrixView<T> x, MatrixView<T> background,
                           const double* weights, const std::uint8_t* masks, std::int64_t n_masks, double* out,
                           int n_threads);

}  // namespace loopwise::explain
