"""Sensitive groups of the fairness tools: the loop's group rule, refused where it would bin.

The loop's :func:`loopwise.loop._groups.group_labels` cuts a many-valued number into
quartiles of the rows at hand. Quartiles of a fitting set and of a predict batch differ, so a
per-group rule learnt on one would be applied to other people in the other: here such a
column is refused and the user bins it once, before fitting.
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np
import pandas as pd

from ..loop._groups import MAX_EXACT_GROUPS, group_labels

__all__ = ["sensitive_groups"]


def sensitive_groups(X: Any, sensitive: Optional[str], sensitive_features: Any, n_rows: int) -> np.ndarray:
    """Group label (text) of each row, from ``sensitive_features`` or the column ``X[sensitive]``.

    Examples
    --------
    >>> import pandas as pd
    >>> sensitive_groups(pd.DataFrame({"sex": ["f", "m"]}), "sex", None, 2).tolist()
    ['f', 'm']
    """
    if sensitive_features is not None:
        values = np.asarray(sensitive_features)
        where = "sensitive_features"
    else:
        if sensitive is None:
            raise ValueError("no sensitive groups: give sensitive (a column of X) or sensitive_features")
        if not isinstance(X, pd.DataFrame):
            raise ValueError(f"sensitive={sensitive!r} names a column, so X must be a DataFrame "
                             "(or pass sensitive_features=)")
        if sensitive not in X.columns:
            raise ValueError(f"sensitive={sensitive!r} is not a column of X (columns: {list(X.columns)[:10]})")
        values = X[sensitive].to_numpy()
        where = f"X[{sensitive!r}]"
    if values.ndim != 1 or values.shape[0] != n_rows:
        raise ValueError(f"{where} must hold one value per row ({n_rows}), got shape {values.shape}")
    series = pd.Series(values)
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series) \
            and series.nunique(dropna=True) > MAX_EXACT_GROUPS:
        raise ValueError(f"{where} is a number with {series.nunique()} distinct values; group-specific rules "
                         f"need at most {MAX_EXACT_GROUPS} groups: bin it once (e.g. pd.cut) before fitting")
    return group_labels(values)
