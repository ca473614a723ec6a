"""``surrogate_tree``: model simplification by a shallow decision tree."""

from __future__ import annotations

from numbers import Integral
from typing import Any, Callable, Optional

import numpy as np

from .._input import as_matrix, feature_names_of
from .._random import RandomState, resolve_seed
from .background import _template

__all__ = ["surrogate_tree", "SurrogateTree"]


class SurrogateTree:
    """A shallow tree that mimics a model, and how faithfully it does.

    Attributes
    ----------
    tree : sklearn DecisionTreeRegressor or DecisionTreeClassifier
        The fitted surrogate (on the model's outputs, not the true labels).
    task : {"regression", "classification"}
    fidelity : float
        Held-out R^2 between surrogate and model outputs (regression) or share of
        held-out rows where they agree (classification).
    train_fidelity : float
        The same on the rows the surrogate was fitted on.
    feature_names : list of str

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).normal(size=(400, 2))
    >>> s = surrogate_tree(lambda Z: (Z[:, 0] > 0).astype(float), X, max_depth=1, random_state=0)
    >>> round(s.fidelity, 3)
    1.0
    """

    def __init__(self, tree: Any, task: str, fidelity: float, train_fidelity: float, feature_names: list[str]) -> None:
        self.tree = tree
        self.task = task
        self.fidelity = float(fidelity)
        self.train_fidelity = float(train_fidelity)
        self.feature_names = feature_names

    def rules(self) -> str:
        """The tree as indented text rules (``sklearn.tree.export_text``)."""
        from sklearn.tree import export_text

        return export_text(self.tree, feature_names=list(self.feature_names), decimals=3)

    def predict(self, X: Any) -> np.ndarray:
        """The surrogate's prediction."""
        values = as_matrix(X, name="X", n_features=len(self.feature_names), keep_float32=False).values
        return self.tree.predict(values)

    def plot(self, ax: Any = None, **kwargs: Any) -> Any:
        """Draw the tree with matplotlib (``sklearn.tree.plot_tree``)."""
        import matplotlib.pyplot as plt
        from sklearn.tree import plot_tree

        if ax is None:
            _, ax = plt.subplots(figsize=(12, 6))
        plot_tree(self.tree, feature_names=list(self.feature_names), filled=True, ax=ax, **kwargs)
        return ax

    def to_dict(self) -> dict:
        """JSON-serialisable summary: task, fidelities, depth, leaves and rules."""
        return {
            "task": self.task,
            "fidelity": float(self.fidelity),
            "train_fidelity": float(self.train_fidelity),
            "depth": int(self.tree.get_depth()),
            "n_leaves": int(self.tree.get_n_leaves()),
            "rules": self.rules(),
        }

    def __str__(self) -> str:
        measure = "R^2" if self.task == "regression" else "agreement"
        return (
            f"Surrogate tree (depth {self.tree.get_depth()}, {self.tree.get_n_leaves()} leaves); "
            f"fidelity {measure} = {self.fidelity:.3f} held out, {self.train_fidelity:.3f} on fitted rows\n"
            + self.rules()
        )

    def __repr__(self) -> str:
        return f"SurrogateTree(task={self.task!r}, depth={self.tree.get_depth()}, fidelity={self.fidelity:.3f})"

    def _repr_html_(self) -> str:
        import html

        return f"<pre>{html.escape(str(self))}</pre>"


def surrogate_tree(
    model_or_predict: Any,
    X: Any,
    max_depth: int = 3,
    *,
    task: Optional[str] = None,
    test_size: float = 0.25,
    min_samples_leaf: int = 1,
    random_state: RandomState = 0,
) -> SurrogateTree:
    """Fit a shallow decision tree to a model's outputs on ``X`` ("model simplification").

    Parameters
    ----------
    model_or_predict : fitted model or callable
        A callable (``model.predict``) or an object with ``predict``. Its outputs are
        the surrogate's targets: real values give a regression tree, labels (ints,
        bools, strings) a classification tree.
    X : array-like or DataFrame of shape (n, m)
        Rows the model is queried on (a DataFrame reaches the model as a DataFrame).
    max_depth : int
        Depth of the surrogate; small trees are readable.
    task : {"regression", "classification"}, optional
        Override the detection from the outputs.
    test_size : float
        Share of rows held out to measure fidelity (0 measures on the fitted rows only).
    min_samples_leaf : int
    random_state : int, Generator or None
        Seed of the split into fitted and held-out rows.

    Returns
    -------
    SurrogateTree
        ``print(s)`` shows the fidelity and the rules.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).normal(size=(300, 3))
    >>> s = surrogate_tree(lambda Z: 2 * Z[:, 0] + (Z[:, 1] > 0), X, max_depth=3)
    >>> bool(s.fidelity > 0.7)
    True
    """
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    predict: Callable[[Any], Any]
    if callable(model_or_predict) and not hasattr(model_or_predict, "predict"):
        predict = model_or_predict
    elif hasattr(model_or_predict, "predict"):
        predict = model_or_predict.predict
    else:
        raise TypeError(f"model_or_predict must be a callable or have predict(), got {type(model_or_predict).__name__}")
    if isinstance(max_depth, bool) or not isinstance(max_depth, Integral) or max_depth < 1:
        raise ValueError(f"max_depth must be a positive int, got {max_depth!r}")
    if task not in (None, "regression", "classification"):
        raise ValueError(f"task must be 'regression', 'classification' or None, got {task!r}")
    if not 0 <= test_size < 1:
        raise ValueError(f"test_size must be in [0, 1), got {test_size!r}")
    matrix = as_matrix(X, name="X", keep_float32=False, min_rows=2)
    values = matrix.values
    names = matrix.feature_names or feature_names_of(X) or [f"x{j}" for j in range(values.shape[1])]
    template = _template(X)
    outputs = np.asarray(predict(X if template is not None else values))
    if outputs.ndim == 2 and outputs.shape[1] == 1:
        outputs = outputs[:, 0]
    if outputs.ndim != 1 or outputs.shape[0] != values.shape[0]:
        raise ValueError(f"the model returned shape {outputs.shape} for {values.shape[0]} rows; expected ({values.shape[0]},)")
    if task is None:
        task = "regression" if outputs.dtype.kind == "f" else "classification"
    if task == "regression":
        outputs = outputs.astype(np.float64)
        if not np.all(np.isfinite(outputs)):
            raise ValueError("the model returned NaN or infinite outputs")
    rng = np.random.default_rng(resolve_seed(random_state))
    order = rng.permutation(values.shape[0])
    n_test = int(round(test_size * values.shape[0]))
    test, train = order[:n_test], order[n_test:]
    seed = resolve_seed(random_state) % (2**32)
    kind = DecisionTreeRegressor if task == "regression" else DecisionTreeClassifier
    tree = kind(max_depth=int(max_depth), min_samples_leaf=min_samples_leaf, random_state=seed)
    tree.fit(values[train], outputs[train])

    def score(rows: np.ndarray) -> float:
        if rows.size == 0:
            return float("nan")
        fitted = tree.predict(values[rows])
        if task == "classification":
            return float(np.mean(fitted == outputs[rows]))
        spread = np.sum((outputs[rows] - outputs[rows].mean()) ** 2)
        residual = np.sum((outputs[rows] - fitted) ** 2)
        return 1.0 - residual / spread if spread > 0 else (1.0 if residual == 0 else 0.0)

    train_fidelity = score(train)
    fidelity = score(test) if n_test else train_fidelity
    return SurrogateTree(tree, task, fidelity, train_fidelity, names)
