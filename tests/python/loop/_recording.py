"""A scikit-learn estimator that checks, at every call, that it got exactly the user's data.

``RecordingClassifier(inner)`` fits/predicts with a clone of ``inner``; before that it
compares what it received with the expectation set by :func:`expect` (the user's column
names and dtypes, or the user's array dtype and width, and the set of the user's rows).
Every call is recorded in ``CALLS`` (module-level, so models the registry loaded again are
recorded too); a mismatch is recorded in ``VIOLATIONS`` and raises ``AssertionError``.
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, clone

CALLS: list = []
# True while a caller explains the model (permuted or mixed rows of the user's own values).
_RECOMBINED_OK = [False]
VIOLATIONS: list = []
_EXPECTED: dict = {}


def _fingerprints(X: Any) -> list:
    if isinstance(X, pd.DataFrame):
        values = X.astype(object).where(X.notna(), None)
        return [tuple(None if v is None else str(v) for v in row) for row in values.itertuples(index=False)]
    array = np.asarray(X)
    return [tuple(repr(float(v)) if v == v else "nan" for v in row) for row in array]


def _column_values(rows: list) -> list:
    return [set(column) for column in zip(*rows)] if rows else []


def expect(X: Any) -> None:
    """Everything the model may receive from now on is rows of ``X`` in ``X``'s form."""
    _EXPECTED.clear()
    if isinstance(X, pd.DataFrame):
        _EXPECTED.update(kind="frame", columns=list(X.columns), dtypes=[str(d) for d in X.dtypes])
    else:
        _EXPECTED.update(kind="array", dtype=str(X.dtype), width=X.shape[1])
    _EXPECTED["rows"] = set(_fingerprints(X))
    _EXPECTED["columns_values"] = _column_values(list(_EXPECTED["rows"]))
    CALLS.clear()
    VIOLATIONS.clear()


def _inside_model_card() -> bool:
    """A model card's global explanation (KernelSHAP) recombines the user's values across
    rows, as the report's permutation importance does: allowed there, and only there."""
    import sys

    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_globals.get("__name__", "").startswith("loopwise.loop.cards"):
            return True
        frame = frame.f_back
    return False


def _check(method: str, X: Any) -> None:
    problems = []
    if _EXPECTED.get("kind") == "frame":
        if not isinstance(X, pd.DataFrame):
            problems.append(f"got {type(X).__name__}, not a DataFrame")
        else:
            if list(X.columns) != _EXPECTED["columns"]:
                problems.append(f"columns {list(X.columns)} != {_EXPECTED['columns']}")
            elif [str(d) for d in X.dtypes] != _EXPECTED["dtypes"]:
                problems.append(f"dtypes {[str(d) for d in X.dtypes]} != {_EXPECTED['dtypes']}")
    elif _EXPECTED.get("kind") == "array":
        if type(X) is not np.ndarray:
            problems.append(f"got {type(X).__name__}, not a numpy array")
        elif str(X.dtype) != _EXPECTED["dtype"] or X.ndim != 2 or X.shape[1] != _EXPECTED["width"]:
            problems.append(f"array {X.dtype} {X.shape} != {_EXPECTED['dtype']} (n, {_EXPECTED['width']})")
    if not problems and _EXPECTED:
        # Serving, training and the gate pass the user's own rows; explanations (the report's
        # permutation importance) recombine the user's values across rows. Either way every
        # value must be one the user gave in that column, in the user's form: a conversion
        # (codes, floats from text, a shifted time zone) shows up as a value never given.
        rows = _fingerprints(X)
        foreign = [row for row in rows if row not in _EXPECTED["rows"]]
        if foreign and not (_RECOMBINED_OK[0] or _inside_model_card()):
            problems.append(f"{len(foreign)} rows the user never gave, e.g. {foreign[0]}")
        strange = [(j, v) for row in rows for j, v in enumerate(row) if v not in _EXPECTED["columns_values"][j]]
        if strange:
            problems.append(f"{len(strange)} values the user never gave, e.g. column {strange[0][0]}: {strange[0][1]!r}")
    CALLS.append((method, len(X)))
    if problems:
        VIOLATIONS.append((method, problems))
        raise AssertionError(f"{method}: " + "; ".join(problems))


class RecordingClassifier(ClassifierMixin, BaseEstimator):
    """Checks its input, then delegates to a fitted clone of ``inner``."""

    def __init__(self, inner: Optional[Any] = None) -> None:
        self.inner = inner

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> "RecordingClassifier":
        _check("fit", X)
        from loopwise.loop._fit import fit_with_weights

        self.model_ = fit_with_weights(clone(self.inner), X, y, sample_weight) if sample_weight is not None \
            else clone(self.inner).fit(X, y)
        self.classes_ = self.model_.classes_
        return self

    def predict(self, X: Any) -> np.ndarray:
        _check("predict", X)
        return self.model_.predict(X)

    def predict_proba(self, X: Any) -> np.ndarray:
        _check("predict_proba", X)
        return self.model_.predict_proba(X)


class recombined_rows_allowed:
    """Within this block rows may mix the user's values across rows (explanations)."""

    def __enter__(self) -> None:
        _RECOMBINED_OK[0] = True

    def __exit__(self, *exc: Any) -> None:
        _RECOMBINED_OK[0] = False
