"""Before/after report of a mitigation: accuracy and fairness gaps, overall and per group.

The gaps are the loop's own (:func:`loopwise.loop._groups.fairness_gaps`), so the monitor,
the gate and this report speak of the same numbers; ``equalized_odds`` is the larger of the
TPR and FPR gaps (as fairlearn's ``equalized_odds_difference``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..loop._groups import fairness_gaps
from ..loop.audit import jsonable
from ._groups import sensitive_groups

__all__ = ["FairnessReport", "fairness_report", "equalized_odds_gap"]


def equalized_odds_gap(gaps: dict) -> float:
    """The larger of the TPR and FPR gaps of a :func:`fairness_gaps` result.

    Examples
    --------
    >>> equalized_odds_gap({"demographic_parity": 0.1, "tpr": 0.2, "fpr": 0.05})
    0.2
    """
    return float(max(gaps.get("tpr", 0.0), gaps.get("fpr", 0.0)))


@dataclass
class FairnessReport:
    """Accuracy and gaps per model (``overall``) and per sensitive group (``by_group``).

    Examples
    --------
    >>> # fairness_report({"before": base, "after": fair}, X, y, sensitive="group").overall
    """

    overall: pd.DataFrame
    by_group: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        """The per-model table (a copy).

        Examples
        --------
        >>> FairnessReport(pd.DataFrame({"model": ["m"]}), pd.DataFrame()).to_frame()["model"].tolist()
        ['m']
        """
        return self.overall.copy()

    def to_dict(self) -> dict:
        """JSON-serialisable form (NaN becomes None).

        Examples
        --------
        >>> FairnessReport(pd.DataFrame({"model": ["m"]}), pd.DataFrame()).to_dict()["overall"]
        [{'model': 'm'}]
        """
        return jsonable({"overall": self.overall.to_dict(orient="records"),
                         "by_group": self.by_group.to_dict(orient="records")})

    def change(self, before: str, after: str) -> dict:
        """Accuracy cost (points lost) and relative gap cuts from model ``before`` to ``after``.

        Examples
        --------
        >>> # report.change("before", "after")["equalized_odds_cut"]
        """
        a = self.overall.set_index("model").loc[before]
        b = self.overall.set_index("model").loc[after]
        out = {"accuracy_cost": float(a["accuracy"] - b["accuracy"])}
        for gap in ("equalized_odds", "demographic_parity"):
            out[f"{gap}_cut"] = float(1.0 - b[gap] / a[gap]) if a[gap] > 0 else 0.0
        return out

    def to_html(self) -> str:
        """Both tables as HTML (what a notebook shows).

        Examples
        --------
        >>> "<table" in FairnessReport(pd.DataFrame({"model": ["m"]}), pd.DataFrame()).to_html()
        True
        """
        return ("<div><h4>Fairness: accuracy and gaps</h4>" + self.overall.to_html(index=False, float_format="%.4f")
                + "<h4>Per group</h4>" + self.by_group.to_html(index=False, float_format="%.4f") + "</div>")

    def _repr_html_(self) -> str:
        return self.to_html()

    def __repr__(self) -> str:
        return f"FairnessReport(\n{self.overall.to_string(index=False)}\n)"


def fairness_report(models: dict, X: Any, y: Any, *, sensitive: Any = None, sensitive_features: Any = None,
                    positive: Any = None) -> FairnessReport:
    """Accuracy and the gaps of each model in ``models`` (name -> fitted classifier) on ``X, y``.

    Parameters
    ----------
    models : dict
        Name -> fitted binary classifier. Each gets ``X`` unchanged.
    X : DataFrame or array-like
    y : array-like
    sensitive : str, optional
        Column of ``X`` with the sensitive group (or ``sensitive_features=``).
    positive : label, optional
        The positive class; by default the larger of the two labels.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from loopwise.fairness import make_biased_classification
    >>> X, y = make_biased_classification(1000, random_state=0)
    >>> report = fairness_report({"base": LogisticRegression().fit(X[["x0", "x1"]], y)},
    ...                          X[["x0", "x1"]], y, sensitive_features=X["group"])
    >>> list(report.overall.columns)
    ['model', 'accuracy', 'demographic_parity', 'tpr', 'fpr', 'equalized_odds']
    """
    if not isinstance(models, dict) or not models:
        raise ValueError("models must be a non-empty dict name -> fitted classifier")
    labels = np.asarray(y)
    groups = sensitive_groups(X, sensitive, sensitive_features, len(labels))
    classes = sorted(pd.unique(labels).tolist(), key=str)
    if positive is None:
        if len(classes) != 2:
            raise ValueError(f"y holds {len(classes)} classes; the gaps need a binary task (or give positive=)")
        positive = classes[-1]
    truth = labels == positive
    overall, per_group = [], []
    for name, model in models.items():
        predicted = np.asarray(model.predict(X))
        if predicted.shape != labels.shape:
            raise ValueError(f"models[{name!r}].predict returned shape {predicted.shape}; expected {labels.shape}")
        hit = predicted == positive
        right = predicted == labels
        gaps = fairness_gaps(groups, truth, hit, min_size=1)
        overall.append({"model": name, "accuracy": float(right.mean()), **{k: gaps.get(k, 0.0) for k in
                        ("demographic_parity", "tpr", "fpr")}, "equalized_odds": equalized_odds_gap(gaps)})
        for group in sorted(set(groups.tolist())):
            rows = groups == group
            per_group.append({"model": name, "group": group, "n": int(rows.sum()), "accuracy": float(right[rows].mean()),
                              "selection_rate": float(hit[rows].mean()),
                              "tpr": float(hit[rows & truth].mean()) if (rows & truth).any() else float("nan"),
                              "fpr": float(hit[rows & ~truth].mean()) if (rows & ~truth).any() else float("nan")})
    return FairnessReport(pd.DataFrame(overall), pd.DataFrame(per_group))
