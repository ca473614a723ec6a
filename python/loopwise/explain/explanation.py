"""``Explanation``: the one result object every loopwise explainer returns."""

from __future__ import annotations

import html
from typing import Any, Optional, Sequence, Union

import numpy as np

__all__ = ["Explanation"]

_HTML_ROWS = 10


def _names(names: Optional[Sequence[Any]], count: int, what: str, prefix: str) -> list[str]:
    if names is None:
        return [f"{prefix}{j}" for j in range(count)]
    names = [str(n) for n in names]
    if len(names) != count:
        raise ValueError(f"{what} has {len(names)} names but values have {count}")
    if len(set(names)) != len(names):
        raise ValueError(f"{what} contains duplicate names")
    return names


class Explanation:
    """Additive feature attributions for a batch of rows.

    ``values[i, j]`` (or ``values[i, j, k]`` for output ``k``) is how much feature ``j``
    moved row ``i``'s output away from ``base_values``; for an exact additive method
    ``values.sum(axis=1) + base_values`` equals the model output.

    Parameters
    ----------
    values : array-like of shape (n, m) or (n, m, k)
        Attributions: rows, features and (optionally) outputs.
    base_values : float or array-like of shape (k,), (n,) or (n, k)
        The expected model output the attributions start from (broadcast over rows).
    data : array-like of shape (n, m), optional
        The explained feature values (used by the plots).
    feature_names : sequence of str, optional
        Names of the m features; ``"x0"``, ``"x1"``, ... when omitted.
    output_names : sequence of str, optional
        Names of the k outputs (e.g. class labels) for 3-D values.
    std_errors : array-like shaped like ``values``, optional
        Standard error of each value for sampling explainers; ``None`` for exact methods.

    Examples
    --------
    >>> import numpy as np
    >>> e = Explanation(np.array([[1.0, -2.0], [0.5, 0.0]]), 3.0, feature_names=["a", "b"])
    >>> e.shape
    (2, 2)
    >>> float(e["b"].values[0, 0])
    -2.0
    >>> e.mean_abs().round(2).tolist()
    [0.75, 1.0]
    """

    def __init__(
        self,
        values: Any,
        base_values: Any,
        data: Any = None,
        feature_names: Optional[Sequence[Any]] = None,
        output_names: Optional[Sequence[Any]] = None,
        std_errors: Any = None,
    ) -> None:
        values = np.asarray(values, dtype=np.float64)
        if values.ndim not in (2, 3):
            raise ValueError(f"values must have shape (n, m) or (n, m, k), got shape {values.shape}")
        self.values = values
        n, m = values.shape[0], values.shape[1]
        k = values.shape[2] if values.ndim == 3 else None
        base = np.asarray(base_values, dtype=np.float64)
        self.base_values = self._broadcast_base(base, n, k)
        if data is not None:
            data = np.asarray(data)
            if data.shape != (n, m):
                raise ValueError(f"data has shape {data.shape} but values need ({n}, {m})")
        self.data = data
        self.feature_names = _names(feature_names, m, "feature_names", "x")
        if k is None:
            if output_names is not None and len(list(output_names)) != 1:
                raise ValueError("output_names was given but values are 2-D (one output)")
            self.output_names = None if output_names is None else [str(o) for o in output_names]
        else:
            self.output_names = _names(output_names, k, "output_names", "output ")
        if std_errors is not None:
            std_errors = np.asarray(std_errors, dtype=np.float64)
            if std_errors.shape != values.shape:
                raise ValueError(f"std_errors has shape {std_errors.shape} but values have {values.shape}")
        self.std_errors = std_errors

    @staticmethod
    def _broadcast_base(base: np.ndarray, n: int, k: Optional[int]) -> np.ndarray:
        shape = (n,) if k is None else (n, k)
        if base.ndim == 0 or base.shape == shape or (k is not None and base.shape == (k,)) or (
            k is None and base.shape == (1,)
        ):
            return np.broadcast_to(base if base.shape != (1,) else base[0], shape).astype(np.float64)
        raise ValueError(f"base_values has shape {base.shape}; expected a scalar, {shape} or per-output (k,)")

    # ------------------------------------------------------------------ shape and indexing
    @property
    def shape(self) -> tuple:
        """Shape of ``values``."""
        return self.values.shape

    @property
    def n_outputs(self) -> int:
        """Number of outputs (1 for 2-D values)."""
        return 1 if self.values.ndim == 2 else self.values.shape[2]

    def __len__(self) -> int:
        return self.values.shape[0]

    def _feature_index(self, key: Any) -> Union[int, list[int]]:
        if isinstance(key, str):
            try:
                return self.feature_names.index(key)
            except ValueError:
                raise KeyError(f"unknown feature name {key!r}; known: {self.feature_names}") from None
        if isinstance(key, (list, tuple)) and key and all(isinstance(k, str) for k in key):
            return [self._feature_index(k) for k in key]  # type: ignore[misc]
        return key

    def _output_index(self, key: Any) -> Any:
        if isinstance(key, str):
            if self.output_names is None or key not in self.output_names:
                raise KeyError(f"unknown output name {key!r}; known: {self.output_names}")
            return self.output_names.index(key)
        return key

    def __getitem__(self, key: Any) -> "Explanation":
        """Select rows, features (by index or name) and outputs.

        ``e[i]`` one row (values lose the row axis only in the returned arrays' view:
        the result is still an ``Explanation`` with one row), ``e[:, "age"]`` or
        ``e["age"]`` one feature, ``e[:, :, "class_1"]`` one output.
        """
        if not isinstance(key, tuple):
            key = (key,) if not isinstance(key, str) and not (
                isinstance(key, list) and key and isinstance(key[0], str)
            ) else (slice(None), key)
        if len(key) > self.values.ndim:
            raise IndexError(f"too many indices for an Explanation of {self.values.ndim} dimensions")
        rows = key[0]
        if isinstance(rows, (int, np.integer)):
            rows = [int(rows)]
        cols = self._feature_index(key[1]) if len(key) > 1 else slice(None)
        if isinstance(cols, (int, np.integer)):
            cols = [int(cols)]
        outs = self._output_index(key[2]) if len(key) > 2 else slice(None)
        row_idx = np.arange(len(self))[rows]
        col_idx = np.arange(self.values.shape[1])[cols]
        values = self.values[row_idx][:, col_idx]
        base = self.base_values[row_idx]
        std = None if self.std_errors is None else self.std_errors[row_idx][:, col_idx]
        output_names = self.output_names
        if self.values.ndim == 3:
            out_idx = np.arange(self.values.shape[2])[outs]
            scalar_output = np.ndim(out_idx) == 0
            values = values[:, :, out_idx]
            base = base[:, out_idx]
            if std is not None:
                std = std[:, :, out_idx]
            output_names = [self.output_names[i] for i in np.atleast_1d(out_idx)]
            if scalar_output:
                output_names = None
        data = None if self.data is None else self.data[row_idx][:, col_idx]
        return Explanation(
            values,
            base,
            data=data,
            feature_names=[self.feature_names[j] for j in col_idx],
            output_names=output_names,
            std_errors=std,
        )

    # ------------------------------------------------------------------ summaries
    def mean_abs(self) -> np.ndarray:
        """Global importance: mean absolute attribution per feature (and output).

        Returns
        -------
        ndarray of shape (m,) or (m, k)

        Examples
        --------
        >>> Explanation([[1.0, -1.0], [-3.0, 0.0]], 0.0).mean_abs().tolist()
        [2.0, 0.5]
        """
        if len(self) == 0:
            return np.zeros(self.values.shape[1:])
        return np.abs(self.values).mean(axis=0)

    def output(self) -> np.ndarray:
        """Model output the attributions add up to: ``values.sum(axis=1) + base_values``."""
        return self.values.sum(axis=1) + self.base_values

    def to_frame(self) -> Any:
        """Values as a pandas DataFrame: one row per explained row, one column per feature.

        For several outputs the columns are a MultiIndex ``(output, feature)``. The base
        value(s) are in column(s) named ``"base_value"``.

        Examples
        --------
        >>> Explanation([[1.0, 2.0]], 0.5, feature_names=["a", "b"]).to_frame().columns.tolist()
        ['a', 'b', 'base_value']
        """
        import pandas as pd

        if self.values.ndim == 2:
            frame = pd.DataFrame(self.values, columns=self.feature_names)
            frame["base_value"] = self.base_values
            return frame
        blocks = {}
        for k, out in enumerate(self.output_names):
            for j, name in enumerate(self.feature_names):
                blocks[(out, name)] = self.values[:, j, k]
            blocks[(out, "base_value")] = self.base_values[:, k]
        return pd.DataFrame(blocks)

    def to_dict(self) -> dict:
        """JSON-serialisable dict (nested lists), round-trips through :meth:`from_dict`.

        Examples
        --------
        >>> import json
        >>> e = Explanation([[1.0, 2.0]], 0.5)
        >>> Explanation.from_dict(json.loads(json.dumps(e.to_dict()))).values.tolist()
        [[1.0, 2.0]]
        """
        data = None
        if self.data is not None:
            data = self.data.tolist() if self.data.dtype.kind in "fiub" else self.data.astype(str).tolist()
        return {
            "values": self.values.tolist(),
            "base_values": self.base_values.tolist(),
            "data": data,
            "feature_names": list(self.feature_names),
            "output_names": None if self.output_names is None else list(self.output_names),
            "std_errors": None if self.std_errors is None else self.std_errors.tolist(),
        }

    @classmethod
    def from_dict(cls, d: dict) -> "Explanation":
        """Rebuild from :meth:`to_dict` output."""
        return cls(
            d["values"],
            d["base_values"],
            data=d.get("data"),
            feature_names=d.get("feature_names"),
            output_names=d.get("output_names"),
            std_errors=d.get("std_errors"),
        )

    # ------------------------------------------------------------------ display
    @property
    def plot(self) -> Any:
        """Plots: ``.plot.waterfall(i)``, ``.plot.beeswarm()``, ``.plot.bar()``, ``.plot.scatter(f)``."""
        from .plots import ExplanationPlots

        return ExplanationPlots(self)

    def __repr__(self) -> str:
        outputs = "" if self.values.ndim == 2 else f", outputs={self.output_names}"
        return f"Explanation(rows={len(self)}, features={self.values.shape[1]}{outputs})"

    def _repr_html_(self) -> str:
        importance = self.mean_abs()
        if importance.ndim == 2:
            importance = importance.sum(axis=1)
        order = np.argsort(-importance, kind="stable")[:_HTML_ROWS]
        rows = "".join(
            f"<tr><td>{html.escape(self.feature_names[j])}</td><td>{importance[j]:.4g}</td></tr>" for j in order
        )
        note = "" if self.std_errors is None else " (sampled; std errors available)"
        return (
            f"<div><b>Explanation</b>: {len(self)} rows &times; {self.values.shape[1]} features"
            f"{'' if self.values.ndim == 2 else f' &times; {self.n_outputs} outputs'}{note}"
            "<table><tr><th>feature</th><th>mean |value|</th></tr>"
            f"{rows}</table></div>"
        )
