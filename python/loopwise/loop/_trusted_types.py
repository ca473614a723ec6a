"""The types loopwise lets skops load without ``trusted=True``.

skops refuses, by default, every type outside its own list (scikit-learn's public
estimators, numpy/scipy containers, builtins). Common models carry a few more: the compiled
tree of every scikit-learn tree model, the predictors of ``HistGradientBoosting*``, the
neighbour trees of ``KNeighbors*``, the scikit-learn wrappers of XGBoost and LightGBM and
their boosters. This module names them, one by one, so the rule "what loads without the
caller's word" lives in one place that a reviewer can read.

Why these are safe to build from a file: skops creates each object from its class and a
state made only of types that are themselves trusted; none of the types below runs code
named by that state. The boosters of XGBoost and LightGBM rebuild their C++ model from the
bytes/text their own ``save_raw``/``model_to_string`` wrote, which is the same parser their
``load_model`` uses. Functions are listed only where scikit-learn stores a plain numeric
function (a score function, ``asarray``). A callable objective, a callback, a user's class
or a function from another package is not here, so a file holding one needs ``trusted=True``.
"""

from __future__ import annotations

from typing import Iterable

__all__ = ["TRUSTED_TYPES", "refused_types"]

_DISTANCES = ("Euclidean", "SEuclidean", "Manhattan", "Chebyshev", "Minkowski", "Mahalanobis", "Hamming",
              "Canberra", "BrayCurtis", "Haversine", "Jaccard", "Matching", "Dice", "Kulsinski", "RogersTanimoto",
              "RussellRao", "SokalMichener", "SokalSneath")

_SKLEARN = (
    "sklearn.tree._tree.Tree",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
    "sklearn.neighbors._kd_tree.KDTree",
    "sklearn.neighbors._ball_tree.BallTree",
    "sklearn.neural_network._stochastic_optimizers.AdamOptimizer",
    "sklearn.neural_network._stochastic_optimizers.SGDOptimizer",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.utils._bunch.Bunch",
    "sklearn.metrics._scorer._PassthroughScorer",
    "sklearn.model_selection._split.KFold",
    "sklearn.model_selection._split.StratifiedKFold",
    "sklearn.model_selection._split.ShuffleSplit",
    "sklearn.model_selection._split.StratifiedShuffleSplit",
    "sklearn.model_selection._split.TimeSeriesSplit",
    "sklearn.feature_selection._univariate_selection.f_classif",
    "sklearn.feature_selection._univariate_selection.f_regression",
    "sklearn.feature_selection._univariate_selection.chi2",
    "sklearn.feature_selection._univariate_selection.r_regression",
    "sklearn.feature_selection._mutual_info.mutual_info_classif",
    "sklearn.feature_selection._mutual_info.mutual_info_regression",
) + tuple(f"sklearn.metrics._dist_metrics.{name}Distance{bits}" for name in _DISTANCES for bits in (64, 32))

_NUMERIC = (
    "collections.OrderedDict",
    "numpy.dtype",
    "scipy.interpolate._bsplines.BSpline",
    # scipy >= 1.14 hands SplineTransformer this alias of numpy.asarray.
    "scipy._lib.array_api_compat.numpy._aliases.asarray",
)

_BOOSTING = (
    "xgboost.core.Booster",
    "xgboost.sklearn.XGBClassifier",
    "xgboost.sklearn.XGBRegressor",
    "xgboost.sklearn.XGBRanker",
    "xgboost.sklearn.XGBRFClassifier",
    "xgboost.sklearn.XGBRFRegressor",
    "lightgbm.basic.Booster",
    "lightgbm.sklearn.LGBMClassifier",
    "lightgbm.sklearn.LGBMRegressor",
    "lightgbm.sklearn.LGBMRanker",
    "lightgbm.compat._LGBMLabelEncoder",
)

# loopwise's own wrappers: state is numbers, strings, numpy arrays and the wrapped estimator
# (itself checked against this list); their methods run no code named by that state.
_LOOPWISE = (
    "loopwise.fairness._thresholds.GroupThresholdClassifier",
)

#: Type names (``module.qualname``, as skops reports them) loaded without ``trusted=True``,
#: on top of skops' own defaults.
TRUSTED_TYPES: frozenset = frozenset(_SKLEARN + _NUMERIC + _BOOSTING + _LOOPWISE)


def refused_types(type_names: Iterable[str]) -> list:
    """The names among ``type_names`` that loopwise does not trust, sorted.

    Parameters
    ----------
    type_names : iterable of str
        Types skops found untrusted by its defaults (``skops.io.get_untrusted_types``).

    Examples
    --------
    >>> refused_types(["sklearn.tree._tree.Tree", "mypackage.MyModel"])
    ['mypackage.MyModel']
    """
    return sorted(name for name in set(type_names) if name not in TRUSTED_TYPES)
