"""Matplotlib plots of an ``Explanation`` (imported lazily; matplotlib loads on first plot)."""

from __future__ import annotations

from typing import Any, Optional, Union

import numpy as np

__all__ = ["ExplanationPlots"]

_POSITIVE = "#ff0051"  # the red/blue convention shap users read at a glance
_NEGATIVE = "#008bfb"


def _axes(ax: Any) -> Any:
    """``ax`` itself, or the Axes of a new figure.

    A new figure per call, never ``plt.gca()``: two plots in one notebook cell must not draw
    over each other. pyplot is used only to create the figure, so the user's backend (inline
    in Jupyter) shows it as usual; loopwise never switches backends.
    """
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, new_ax = plt.subplots()
    return new_ax


class ExplanationPlots:
    """The ``explanation.plot`` accessor.

    Every method draws on ``ax`` (or, without ``ax``, on a new figure), returns the Axes, and shows the
    ``max_display`` most important features (10 by default); the rest are summed into one
    "other features" entry where that keeps the picture additive.

    Examples
    --------
    >>> from loopwise.explain import Explanation
    >>> e = Explanation([[1.0, -2.0], [0.5, 0.3]], 0.0, data=[[1, 2], [3, 4]])
    >>> first, second = e.plot.bar(), e.plot.beeswarm()
    >>> first.figure is second.figure
    False
    >>> import matplotlib.pyplot as plt
    >>> plt.close("all")
    """

    def __init__(self, explanation: Any) -> None:
        self._e = explanation

    def _single_output(self, output: Optional[Union[int, str]]) -> tuple[np.ndarray, np.ndarray]:
        e = self._e
        if e.values.ndim == 2:
            return e.values, e.base_values
        if output is None:
            if e.values.shape[2] != 1:
                raise ValueError(f"the explanation has {e.values.shape[2]} outputs: pass output=<index or name>")
            output = 0
        k = e._output_index(output)
        return e.values[:, :, k], e.base_values[:, k]

    def waterfall(
        self, row: int = 0, *, output: Optional[Union[int, str]] = None, max_display: int = 10, ax: Any = None
    ) -> Any:
        """How one row's output builds up from the base value, one feature at a time.

        Parameters
        ----------
        row : int
            Row to show.
        output : int or str, optional
            Output to show when the explanation has several.
        max_display : int
            Features shown; the rest are collapsed into one bar.
        ax : matplotlib Axes, optional
        """
        values, base = self._single_output(output)
        if not -len(values) <= row < len(values):
            raise IndexError(f"row {row} is out of range for {len(values)} rows")
        contributions = values[row]
        order = list(np.argsort(-np.abs(contributions), kind="stable"))
        shown, rest = order[:max_display], order[max_display:]
        labels = []
        for j in shown:
            name = self._e.feature_names[j]
            if self._e.data is not None:
                name = f"{self._e.data[row, j]:.4g} = {name}" if np.issubdtype(
                    np.asarray(self._e.data).dtype, np.number
                ) else f"{self._e.data[row, j]} = {name}"
            labels.append(name)
        deltas = [contributions[j] for j in shown]
        if rest:
            labels.append(f"{len(rest)} other features")
            deltas.append(float(contributions[rest].sum()))
        ax = _axes(ax)
        # Draw from the bottom (base value) up to the top (model output).
        start = float(base[row])
        for position, (label, delta) in enumerate(zip(reversed(labels), reversed(deltas))):
            color = _POSITIVE if delta >= 0 else _NEGATIVE
            ax.barh(position, delta, left=start, color=color)
            ax.text(start + delta, position, f" {delta:+.3g}", va="center", fontsize=8)
            start += delta
        ax.set_yticks(range(len(labels)))
        ax.set_yticklabels(list(reversed(labels)))
        ax.axvline(float(base[row]), color="grey", linestyle="--", linewidth=0.8)
        ax.axvline(start, color="black", linewidth=0.8)
        ax.set_xlabel(f"model output: E[f(X)] = {float(base[row]):.4g}, f(x) = {start:.4g}")
        return ax

    def bar(self, *, output: Optional[Union[int, str]] = None, max_display: int = 10, ax: Any = None) -> Any:
        """Global importance: mean |SHAP value| per feature, largest on top."""
        values, _ = self._single_output(output)
        importance = np.abs(values).mean(axis=0) if len(values) else np.zeros(values.shape[1])
        order = list(np.argsort(-importance, kind="stable"))
        shown, rest = order[:max_display], order[max_display:]
        labels = [self._e.feature_names[j] for j in shown]
        heights = [importance[j] for j in shown]
        if rest:
            labels.append(f"sum of {len(rest)} other features")
            heights.append(float(importance[rest].sum()))
        ax = _axes(ax)
        positions = np.arange(len(labels))[::-1]
        ax.barh(positions, heights, color=_POSITIVE)
        ax.set_yticks(positions)
        ax.set_yticklabels(labels)
        ax.set_xlabel("mean(|SHAP value|)")
        return ax

    def beeswarm(self, *, output: Optional[Union[int, str]] = None, max_display: int = 10, ax: Any = None) -> Any:
        """Every row's SHAP value per feature, coloured by the feature value (high = red)."""
        values, _ = self._single_output(output)
        importance = np.abs(values).mean(axis=0) if len(values) else np.zeros(values.shape[1])
        shown = list(np.argsort(-importance, kind="stable"))[:max_display]
        ax = _axes(ax)
        rng = np.random.default_rng(0)  # fixed jitter: the same explanation always draws the same picture
        for rank, j in enumerate(shown):
            y = len(shown) - 1 - rank
            column = values[:, j]
            colors = None
            if self._e.data is not None and np.issubdtype(np.asarray(self._e.data).dtype, np.number):
                feature = np.asarray(self._e.data[:, j], dtype=np.float64)
                finite = np.isfinite(feature)
                lo, hi = (np.nanpercentile(feature[finite], [5, 95]) if finite.any() else (0.0, 1.0))
                colors = np.clip((feature - lo) / (hi - lo if hi > lo else 1.0), 0, 1)
                colors[~finite] = 0.5
            jitter = rng.uniform(-0.3, 0.3, size=len(column))
            ax.scatter(column, y + jitter, c=colors, cmap="coolwarm", vmin=0, vmax=1, s=8, alpha=0.8)
        ax.set_yticks(range(len(shown)))
        ax.set_yticklabels([self._e.feature_names[j] for j in reversed(shown)])
        ax.axvline(0.0, color="grey", linewidth=0.8)
        ax.set_xlabel("SHAP value (colour: feature value, low blue to high red)")
        return ax

    def scatter(
        self, feature: Union[int, str], *, output: Optional[Union[int, str]] = None, ax: Any = None
    ) -> Any:
        """SHAP value of one feature against its value (a dependence plot)."""
        values, _ = self._single_output(output)
        j = self._e._feature_index(feature)
        if not isinstance(j, (int, np.integer)) or not -values.shape[1] <= j < values.shape[1]:
            raise IndexError(f"feature {feature!r} does not name one feature")
        if self._e.data is None:
            raise ValueError("scatter needs the explained data; the explanation has data=None")
        ax = _axes(ax)
        ax.scatter(np.asarray(self._e.data[:, j], dtype=np.float64), values[:, j], s=8, color=_NEGATIVE)
        ax.set_xlabel(self._e.feature_names[j])
        ax.set_ylabel(f"SHAP value for {self._e.feature_names[j]}")
        return ax
