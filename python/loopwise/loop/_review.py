"""Picking unlabelled predictions for human review (``FeedbackStore.review_queue``).

Works on what the store's public reads return, so it is the same for every backend.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._codec import same_value

STRATEGIES = ("uncertainty", "margin", "disagreement", "random")


def _other_predictions(other: Any) -> dict:
    """``other`` (a FeedbackStore, or anything with ``predictions()``, or a mapping) -> id -> prediction."""
    if callable(getattr(other, "predictions", None)):
        theirs = other.predictions()
        return dict(zip(theirs["id"].astype(str), theirs["prediction"].tolist()))
    if hasattr(other, "items"):
        return {str(k): v for k, v in other.items()}
    raise TypeError(f"other must be a FeedbackStore or a mapping, got {type(other).__name__}")


def review_scores(frame: Any, strategy: str, other: Any, random_state: int) -> tuple[Any, np.ndarray]:
    """Unlabelled rows (a frame from ``Records.to_frame()``) -> (the rows considered, their
    review scores: higher is more worth reviewing).

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"id": ["a", "b"], "proba_0": [0.9, 0.45], "proba_1": [0.1, 0.55]})
    >>> review_scores(frame, "uncertainty", None, 0)[1].round(2).tolist()
    [0.1, 0.45]
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {list(STRATEGIES)}, got {strategy!r}")
    if strategy in ("uncertainty", "margin"):
        proba_columns = [c for c in frame.columns if c.startswith("proba_")]
        if not proba_columns:
            raise ValueError(f"strategy={strategy!r} needs logged probabilities (proba=) and the store has none")
        matrix = frame[proba_columns].to_numpy()
        if strategy == "uncertainty":
            score = 1.0 - np.nanmax(matrix, axis=1) if len(frame) else np.zeros(0)
        else:
            ordered = np.sort(matrix, axis=1)
            score = -(ordered[:, -1] - ordered[:, -2]) if matrix.shape[1] > 1 else -ordered[:, -1]
        return frame, np.where(np.isnan(score), -np.inf, score)  # rows logged without proba go last
    if strategy == "disagreement":
        if other is None:
            raise ValueError("strategy='disagreement' needs other= (a FeedbackStore or a mapping id -> prediction)")
        mapping = _other_predictions(other)
        differs = np.array([str(i) in mapping and not same_value(mapping[str(i)], p)
                            for i, p in zip(frame["id"], frame["prediction"].tolist())], dtype=bool)
        age = frame["timestamp"].astype("int64").to_numpy() / 1e18 if len(frame) else np.zeros(0)
        score = np.where(differs, 1.0 + age * 1e-3, -np.inf)  # newest disagreement first
        return frame[differs], score[differs]
    return frame, np.random.default_rng(random_state).random(len(frame))


def pick(frame: Any, score: np.ndarray, n: int) -> Any:
    """The ``n`` rows of highest score (ties keep logging order), with a ``review_score`` column.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> pick(pd.DataFrame({"id": ["a", "b", "c"]}), np.array([0.1, 0.9, 0.5]), 2)["id"].tolist()
    ['b', 'c']
    """
    order = np.argsort(-np.asarray(score, dtype=np.float64), kind="stable")[: int(n)]
    picked = frame.iloc[order].reset_index(drop=True)
    picked["review_score"] = np.asarray(score, dtype=np.float64)[order]
    return picked
