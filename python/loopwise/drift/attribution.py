"""Why did the data drift? Feature attribution of a shift and explanation drift."""

from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np
import pandas as pd

from .._random import RandomState, resolve_seed
from .._threads import resolve_n_jobs
from ._columns import NUMBER_KINDS, TIME_KINDS, column_kind, time_seconds
from ._table import to_frame

__all__ = ["attribute", "explanation_drift"]


def _encoded_pair(reference: Any, current: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Both tables as float frames; datetime / timedelta columns become seconds and
    categorical columns codes over the union of their categories, so a code means the
    same category on both sides."""
    ref = to_frame(reference, "reference")
    cur = to_frame(current, "current")
    if list(ref.columns) != list(cur.columns):
        missing = [c for c in ref.columns if c not in set(cur.columns)]
        extra = [c for c in cur.columns if c not in set(ref.columns)]
        raise ValueError(f"current does not match reference: missing columns {missing}, unexpected columns {extra}")
    ref_out, cur_out = {}, {}
    for name in ref.columns:
        a, b = ref[name], cur[name]
        kind_a, kind_b = column_kind(a.dtype), column_kind(b.dtype)
        if kind_a in TIME_KINDS or kind_b in TIME_KINDS:
            if kind_a != kind_b and not (a.isna().all() or b.isna().all()):
                raise ValueError(f"column {name!r} is {a.dtype} in reference but {b.dtype} in current; convert both "
                                 "with pd.to_datetime (or pd.to_timedelta) first")
            ref_out[name] = time_seconds(a) if kind_a in TIME_KINDS else np.full(len(a), np.nan)
            cur_out[name] = time_seconds(b) if kind_b in TIME_KINDS else np.full(len(b), np.nan)
        elif kind_a in NUMBER_KINDS and kind_b in NUMBER_KINDS:
            ref_out[name] = a.to_numpy(dtype=np.float64, na_value=np.nan)
            cur_out[name] = b.to_numpy(dtype=np.float64, na_value=np.nan)
        else:
            sa, sb = a.astype("string"), b.astype("string")
            categories = pd.unique(pd.concat([sa.dropna(), sb.dropna()]))
            for target, series in ((ref_out, sa), (cur_out, sb)):
                codes = pd.Categorical(series, categories=categories).codes.astype(np.float64)
                codes[codes < 0] = np.nan
                target[name] = codes
    ref_frame, cur_frame = pd.DataFrame(ref_out), pd.DataFrame(cur_out)
    for frame, label in ((ref_frame, "reference"), (cur_frame, "current")):
        if np.isinf(frame.to_numpy()).any():
            raise ValueError(f"{label} contains infinite values")
    return ref_frame, cur_frame


def attribute(reference: Any, current: Any, *, method: str = "auto", max_rows: int = 2000,
              n_splits: int = 5, random_state: RandomState = None, n_jobs: Optional[int] = None) -> pd.DataFrame:
    """Rank the features that drive a shift between reference and current data.

    A domain classifier (histogram gradient boosting) learns to tell current rows from
    reference rows. Its TreeSHAP values (``loopwise.TreeExplainer``, raw margin) on up
    to ``max_rows`` pooled rows give each feature's share of the separation: the mean
    |SHAP| per feature. ``method="permutation"`` uses the classifier's permutation
    importance (drop in ROC AUC on held-out rows) instead. Per-feature two-sample
    statistics (from :func:`loopwise.drift.compare`) are reported alongside.

    Parameters
    ----------
    reference, current : table
        Same columns; datetime / timedelta columns enter the classifier as seconds,
        categorical (bool, category, str / object) ones as shared category codes.
    method : {"auto", "shap", "permutation"}
        ``"auto"`` is ``"shap"``.
    max_rows : int
        Rows explained (a seeded sample of the pooled data).
    n_splits : int
        Folds of the classifier test whose AUC is reported in ``attrs["auc"]``.
    random_state, n_jobs
        Seed and threads.

    Returns
    -------
    pandas.DataFrame
        Sorted by ``importance`` (descending): ``feature, importance, share, rank,
        test, statistic, p_value, drifted``; ``.attrs`` holds ``auc``, ``p_value``, ``method``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> ref = rng.normal(size=(600, 4))
    >>> cur = rng.normal(size=(600, 4)); cur[:, 2] += 1.0
    >>> attribute(ref, cur, random_state=0)["feature"].iloc[0]
    'x2'
    """
    from .multivariate import classifier_test
    from .reference import compare

    if method not in ("auto", "shap", "permutation"):
        raise ValueError(f"method must be 'auto', 'shap' or 'permutation', got {method!r}")
    ref, cur = _encoded_pair(reference, current)
    seed = resolve_seed(random_state) % (2**31)
    test = classifier_test(ref, cur, n_splits=n_splits, random_state=seed, n_jobs=n_jobs)
    pooled = pd.concat([ref, cur], ignore_index=True)
    rng = np.random.default_rng(seed)
    rows = rng.choice(len(pooled), size=min(max_rows, len(pooled)), replace=False)
    sample = pooled.iloc[np.sort(rows)]
    if method in ("auto", "shap"):
        from ..explain import TreeExplainer

        values = TreeExplainer(test.model, n_jobs=n_jobs, progress=False).shap_values(sample, check_additivity=False)
        importance = np.abs(np.asarray(values)).mean(axis=0)
        used = "treeshap"
    else:
        from sklearn.inspection import permutation_importance
        from sklearn.model_selection import train_test_split

        labels = np.r_[np.zeros(len(ref)), np.ones(len(cur))]
        train_x, test_x, train_y, test_y = train_test_split(pooled, labels, test_size=0.3, random_state=seed,
                                                            stratify=labels)
        from sklearn.base import clone

        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1 if len(pooled) < 20_000 else resolve_n_jobs(n_jobs)):
            model = clone(test.model).fit(train_x, train_y)
            result = permutation_importance(model, test_x, test_y, scoring="roc_auc", n_repeats=5,
                                            random_state=seed, n_jobs=1)
        importance = np.maximum(result.importances_mean, 0.0)
        used = "permutation"
    per_feature = compare(reference, current, n_jobs=n_jobs).table.set_index("column")
    total = float(importance.sum())
    frame = pd.DataFrame({
        "feature": list(ref.columns),
        "importance": importance,
        "share": importance / total if total > 0 else np.zeros_like(importance),
        "test": per_feature.loc[list(ref.columns), "test"].to_numpy(),
        "statistic": per_feature.loc[list(ref.columns), "statistic"].to_numpy(),
        "p_value": per_feature.loc[list(ref.columns), "p_value"].to_numpy(),
        "drifted": per_feature.loc[list(ref.columns), "drifted"].to_numpy(),
    }).sort_values("importance", ascending=False, kind="stable").reset_index(drop=True)
    frame.insert(3, "rank", np.arange(1, len(frame) + 1))
    frame.attrs.update({"auc": test.auc, "p_value": test.p_value, "method": used})
    return frame


def _shap_array(values: Any, name: str) -> np.ndarray:
    array = np.asarray(getattr(values, "values", values), dtype=np.float64)
    if array.ndim != 2:
        raise ValueError(f"{name} SHAP values must be 2-D (rows x features), got shape {array.shape}")
    if array.shape[0] == 0:
        raise ValueError(f"{name} SHAP values have no rows")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} SHAP values contain NaN or infinite values")
    return array


def explanation_drift(reference: Any, current: Any, *, model: Any = None,
                      feature_names: Optional[Sequence[str]] = None, n_jobs: Optional[int] = None) -> pd.DataFrame:
    """Change in mean |SHAP| per feature of one model between two periods.

    Parameters
    ----------
    reference, current : SHAP values, Explanation or data
        With ``model=None``: SHAP value arrays (rows x features) or
        :class:`loopwise.Explanation` objects of each period. With a tree ``model``: the
        data of each period, explained with ``loopwise.TreeExplainer(model)``.
    model : tree model, optional
    feature_names : list of str, optional
        Names (taken from the Explanation or the data when omitted).

    Returns
    -------
    pandas.DataFrame
        ``feature, mean_abs_reference, mean_abs_current, change, relative_change``,
        sorted by |change| (descending).

    Examples
    --------
    >>> import numpy as np
    >>> ref = np.array([[1.0, 0.1], [-1.0, 0.1]])
    >>> cur = np.array([[0.1, 1.0], [0.1, -1.0]])
    >>> explanation_drift(ref, cur, feature_names=["a", "b"])["feature"].tolist()
    ['a', 'b']
    """
    names = list(feature_names) if feature_names is not None else None
    if model is not None:
        from ..explain import TreeExplainer

        explainer = TreeExplainer(model, n_jobs=n_jobs, progress=False)
        ref_frame, cur_frame = to_frame(reference, "reference"), to_frame(current, "current")
        reference = explainer.shap_values(reference if not isinstance(reference, np.ndarray) else reference)
        current = explainer.shap_values(current if not isinstance(current, np.ndarray) else current)
        names = names or list(ref_frame.columns)
        if np.asarray(reference).ndim == 3:
            raise ValueError("explanation_drift supports single-output models; explain one output at a time")
    names = names or getattr(reference, "feature_names", None)
    a, b = _shap_array(reference, "reference"), _shap_array(current, "current")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"reference has {a.shape[1]} features but current has {b.shape[1]}")
    names = list(names) if names is not None else [f"x{j}" for j in range(a.shape[1])]
    if len(names) != a.shape[1]:
        raise ValueError(f"feature_names has {len(names)} entries for {a.shape[1]} features")
    ma, mb = np.abs(a).mean(axis=0), np.abs(b).mean(axis=0)
    change = mb - ma
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = np.where(ma > 0, change / ma, np.where(change == 0, 0.0, np.inf))
    frame = pd.DataFrame({"feature": names, "mean_abs_reference": ma, "mean_abs_current": mb, "change": change,
                          "relative_change": relative})
    return frame.reindex(np.argsort(-np.abs(change), kind="stable")).reset_index(drop=True)
