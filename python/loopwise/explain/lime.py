"""``LimeTabular``: LIME for tabular data, seeded, with lime's defaults and a C++ core."""

from __future__ import annotations

import html
import itertools
from numbers import Integral, Real
from typing import Any, Callable, Optional, Sequence

import numpy as np

from .. import _core
from .._input import as_matrix
from .._random import RandomState, resolve_seed
from .._threads import resolve_n_jobs
from ._codec import FrameCodec, is_frame
from ._sandwich import ModelFunction
from .background import Background, _template

__all__ = ["LimeTabular", "LimeExplanation"]

_MODES = ("classification", "regression")
_DISCRETIZERS = ("quartile", "decile", "entropy")
_SELECTIONS = ("auto", "forward_selection", "highest_weights", "none")
_MISSING_CODE = -1.0  # a missing categorical value is a category of its own (codes are >= 0)
_MISSING_BIN = np.inf  # the value drawn for a numeric column's "missing" bin, NaN for the model


def pd_bool(dtype: Any) -> bool:
    import pandas as pd

    return bool(pd.api.types.is_bool_dtype(dtype))


class LimeExplanation:
    """A local linear explanation of one row, per explained label.

    Attributes
    ----------
    local_exp : dict
        ``label -> [(feature index, weight), ...]`` sorted by decreasing ``|weight|``.
    intercept, score, local_pred : dict
        Per label: the surrogate's intercept, its weighted R^2 on the neighbourhood and
        its prediction at the explained row (each label has its own, also for multi-class).
    predicted : ndarray
        The model's output at the explained row.
    feature_names : list of str
        Display name of each feature for this row (the bin or category it falls in).

    Examples
    --------
    >>> e = LimeExplanation("regression", ["a", "b"], {0: [(1, -2.0), (0, 0.5)]}, {0: 1.0}, {0: 0.9},
    ...                     {0: 3.0}, [3.1])
    >>> e.as_list()
    [('b', -2.0), ('a', 0.5)]
    """

    def __init__(
        self,
        mode: str,
        feature_names: list[str],
        local_exp: dict,
        intercept: dict,
        score: dict,
        local_pred: dict,
        predicted: Any,
        class_names: Optional[list[str]] = None,
    ) -> None:
        self.mode = mode
        self.feature_names = feature_names
        self.local_exp = local_exp
        self.intercept = intercept
        self.score = score
        self.local_pred = local_pred
        self.predicted = np.asarray(predicted, dtype=np.float64)
        self.class_names = class_names
        self.neighborhood: Optional[dict] = None

    @property
    def available_labels(self) -> list[int]:
        """Labels this explanation covers."""
        return list(self.local_exp)

    def _label(self, label: Optional[int]) -> int:
        if self.mode == "regression":
            return next(iter(self.local_exp))
        if label is None:
            label = 1 if 1 in self.local_exp else next(iter(self.local_exp))
        if label not in self.local_exp:
            raise KeyError(f"label {label} was not explained; available: {self.available_labels}")
        return label

    def as_list(self, label: Optional[int] = 1) -> list[tuple[str, float]]:
        """``[(feature description, weight), ...]`` for ``label`` (ignored for regression).

        Examples
        --------
        >>> LimeExplanation("regression", ["a"], {0: [(0, 1.5)]}, {0: 0.0}, {0: 1.0}, {0: 1.5}, [1.5]).as_list()
        [('a', 1.5)]
        """
        label = self._label(label)
        return [(self.feature_names[j], float(w)) for j, w in self.local_exp[label]]

    def as_map(self) -> dict:
        """``label -> [(feature index, weight), ...]``."""
        return {label: list(pairs) for label, pairs in self.local_exp.items()}

    def to_dict(self) -> dict:
        """JSON-serialisable dict of everything the explanation holds (labels as str keys).

        Examples
        --------
        >>> import json
        >>> e = LimeExplanation("regression", ["a"], {0: [(0, 1.5)]}, {0: 0.0}, {0: 1.0}, {0: 1.5}, [1.5])
        >>> json.loads(json.dumps(e.to_dict()))["local_exp"]["0"]
        [[0, 1.5]]
        """
        return {
            "mode": self.mode,
            "feature_names": list(self.feature_names),
            "class_names": self.class_names,
            "local_exp": {str(k): [[int(j), float(w)] for j, w in v] for k, v in self.local_exp.items()},
            "intercept": {str(k): float(v) for k, v in self.intercept.items()},
            "score": {str(k): float(v) for k, v in self.score.items()},
            "local_pred": {str(k): float(v) for k, v in self.local_pred.items()},
            "predicted": self.predicted.tolist(),
        }

    def to_frame(self, label: Optional[int] = 1) -> Any:
        """The weights for ``label`` as a DataFrame (feature, weight)."""
        import pandas as pd

        return pd.DataFrame(self.as_list(label), columns=["feature", "weight"])

    def plot(self, label: Optional[int] = 1, ax: Any = None) -> Any:
        """Horizontal bar chart of the weights (matplotlib Axes)."""
        import matplotlib.pyplot as plt

        pairs = self.as_list(label)[::-1]
        if ax is None:
            _, ax = plt.subplots(figsize=(6, 0.4 * len(pairs) + 1))
        ax.barh([p[0] for p in pairs], [p[1] for p in pairs], color=["tab:green" if p[1] > 0 else "tab:red" for p in pairs])
        title = "Local explanation" if self.mode == "regression" else f"Local explanation for class {self._class(label)}"
        ax.set_title(title)
        return ax

    def _class(self, label: Optional[int]) -> str:
        label = self._label(label)
        if self.class_names is not None and 0 <= label < len(self.class_names):
            return str(self.class_names[label])
        return str(label)

    def _repr_html_(self) -> str:
        parts = []
        for label in self.local_exp:
            rows = "".join(
                f"<tr><td>{html.escape(name)}</td><td>{weight:+.4g}</td></tr>" for name, weight in self.as_list(label)
            )
            head = "" if self.mode == "regression" else f"class {html.escape(self._class(label))}: "
            parts.append(
                f"<p>{head}score (weighted R&sup2;) {self.score[label]:.3f}, local prediction "
                f"{self.local_pred[label]:.4g}, intercept {self.intercept[label]:.4g}</p>"
                f"<table><tr><th>feature</th><th>weight</th></tr>{rows}</table>"
            )
        return "<div><b>LIME explanation</b>" + "".join(parts) + "</div>"

    def __repr__(self) -> str:
        return f"LimeExplanation(mode={self.mode!r}, labels={self.available_labels})"


class LimeTabular:
    """LIME (Ribeiro et al. 2016) for tabular data with lime's defaults, seeded.

    Perturbations: every feature of the explained row is resampled independently from the
    training distribution. With ``discretize_continuous`` a continuous feature draws a bin
    (quartiles, deciles or entropy-based splits) with its training frequency and then a
    value inside the bin (normal with the bin's mean and std, truncated to the bin); the
    interpretable representation is 1 where the drawn bin (or category) equals the row's.
    Without discretisation a continuous feature is normal with the training mean and std
    (or centred on the row with ``sample_around_instance``) and represented standardised.
    Neighbours are weighted by ``sqrt(exp(-d^2 / width^2))`` with ``d`` the Euclidean
    distance to the row in that representation and ``width = 0.75 sqrt(m)`` by default; a
    ridge regression (alpha = 1) on the selected features is the explanation.

    Parameters
    ----------
    training_data : array-like or DataFrame of shape (n, m)
        Data the statistics are computed from. A DataFrame may hold strings, categories,
        booleans, datetimes and missing values (see Notes); an array may not hold NaN.
    mode : {"classification", "regression"}
    training_labels : array-like, optional
        Needed by the ``"entropy"`` discretizer.
    feature_names : sequence of str, optional
    categorical_features : sequence of int or str, optional
        Columns sampled from their observed values (pandas categoricals are included).
    discretize_continuous : bool
    discretizer : {"quartile", "decile", "entropy"}
    kernel_width : float, optional
    sample_around_instance : bool
    feature_selection : {"auto", "forward_selection", "highest_weights", "none"}
        ``"auto"``: forward selection for at most 6 features, else highest weights.
    class_names : sequence of str, optional
    n_jobs : int, optional
        Threads for natively evaluated models (a tree ensemble's or linear model's
        ``predict``/``predict_proba`` is run in C++ after checking it reproduces the
        callable on training rows). Results do not depend on it.
    random_state : int, Generator or None
        Seed; every ``explain`` call with the same seed draws the same neighbourhood.

    Notes
    -----
    DataFrames: the model receives DataFrames with the training frame's columns and
    dtypes. String, object, pandas category and boolean columns are categorical: sampled
    from their training values with their training frequencies (as lime does), a missing
    value being one more category. Datetime columns are treated as numbers (time since
    the epoch): binned and perturbed like a numeric column, with bin labels shown as
    timestamps, and returned to the model as datetimes of their dtype. Integer columns are
    perturbed as numbers and rounded, so they keep their dtype. A numeric or datetime
    column with missing values gets a "missing" bin drawn with its training frequency;
    this needs ``discretize_continuous=True`` (a clear error says so otherwise).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(500, 3))
    >>> lime = LimeTabular(X, mode="regression", random_state=0)
    >>> e = lime.explain(X[0], lambda Z: 3 * Z[:, 0] + 0.1 * Z[:, 1], num_features=2)
    >>> e.as_list()[0][0].startswith("x0") or "x0" in e.as_list()[0][0]
    True
    """

    def __init__(
        self,
        training_data: Any,
        *,
        mode: str = "classification",
        training_labels: Any = None,
        feature_names: Optional[Sequence[Any]] = None,
        categorical_features: Optional[Sequence[Any]] = None,
        discretize_continuous: bool = True,
        discretizer: str = "quartile",
        kernel_width: Optional[float] = None,
        sample_around_instance: bool = False,
        feature_selection: str = "auto",
        class_names: Optional[Sequence[Any]] = None,
        n_jobs: Optional[int] = None,
        random_state: RandomState = None,
    ) -> None:
        if mode not in _MODES:
            raise ValueError(f"mode must be one of {_MODES}, got {mode!r}")
        if discretizer not in _DISCRETIZERS:
            raise ValueError(f"discretizer must be one of {_DISCRETIZERS}, got {discretizer!r}")
        if feature_selection not in _SELECTIONS:
            raise ValueError(f"feature_selection must be one of {_SELECTIONS}, got {feature_selection!r}")
        self.codec: Optional[FrameCodec] = None
        if is_frame(training_data):
            if len(training_data) == 0:
                raise ValueError("training_data is an empty DataFrame; pass the training rows")
            self.codec = FrameCodec(training_data, time_as_number=True)
            data = self.codec.encode(training_data, "training_data")
            if np.isinf(data).any():
                raise ValueError("training_data contains infinite values")
            table_names: Optional[list[str]] = self.codec.names
        else:
            matrix = as_matrix(training_data, name="training_data", allow_nan=False, allow_inf=False, keep_float32=False)
            data, table_names = matrix.values, matrix.feature_names
        n, m = data.shape
        self.mode = mode
        self.template = _template(training_data)
        names = list(feature_names) if feature_names is not None else (table_names or [f"x{j}" for j in range(m)])
        if len(names) != m:
            raise ValueError(f"feature_names has {len(names)} names but training_data has {m} columns")
        self.feature_names = [str(name) for name in names]
        self.categorical_features = self._categorical(categorical_features, training_data)
        self.discretize_continuous = bool(discretize_continuous)
        self.discretizer = discretizer
        if kernel_width is None:
            kernel_width = 0.75 * np.sqrt(m)
        if isinstance(kernel_width, bool) or not isinstance(kernel_width, Real) or not kernel_width > 0:
            raise ValueError(f"kernel_width must be a positive number, got {kernel_width!r}")
        self.kernel_width = float(kernel_width)
        self.sample_around_instance = bool(sample_around_instance)
        self.feature_selection = feature_selection
        self.class_names = None if class_names is None else [str(c) for c in class_names]
        self.random_state = random_state
        resolve_n_jobs(n_jobs)  # fail early on n_jobs=0
        self.n_jobs = n_jobs
        self._seed = resolve_seed(random_state)
        self.n_features = m
        # Rows a native shortcut for predict_fn must reproduce before it is trusted.
        self._check_rows = Background(data[: min(n, 64)], np.ones(min(n, 64)), table_names, self.template, self.codec)
        self._native_cache: dict = {}
        labels = None
        if discretize_continuous and discretizer == "entropy":
            if training_labels is None:
                raise ValueError("discretizer='entropy' needs training_labels")
            labels = np.asarray(training_labels)
            if labels.shape != (n,):
                raise ValueError(f"training_labels must have shape ({n},), got {labels.shape}")
        self.boundaries: dict[int, np.ndarray] = {}
        self._features = []
        self._specs = []
        data = self._lime_codes(data)
        for j in range(m):
            column = data[:, j]
            if j in self.categorical_features:
                values, counts = np.unique(column, return_counts=True)
                spec = {"categorical": True, "values": values, "frequencies": counts / counts.sum()}
            elif self.discretize_continuous:
                spec = self._binned_spec(j, column, labels)
            else:
                if np.isnan(column).any():
                    raise ValueError(
                        f"training_data column {self.feature_names[j]!r} has missing values; numeric columns with "
                        "missing values need discretize_continuous=True (missing values then form their own bin)"
                    )
                scale = column.std()
                spec = {"categorical": False, "mean": float(column.mean()), "scale": float(scale) if scale > 0 else 1.0}
            self._specs.append(spec)
            self._features.append(_core.LimeFeature(spec))

    # ------------------------------------------------------------------ set-up helpers
    def _binned_spec(self, j: int, column: np.ndarray, labels: Optional[np.ndarray]) -> dict:
        missing = np.isnan(column)
        present_values = column[~missing]
        n = len(column)
        if present_values.size == 0:
            # Only missing values: one bin that always draws "missing".
            self.boundaries[j] = np.array([0.0])
            return {"categorical": True, "binned": True, "values": np.array([2.0]), "frequencies": np.array([1.0]),
                    "bin_mean": np.array([_MISSING_BIN]), "bin_std": np.array([0.0]),
                    "bin_min": np.array([_MISSING_BIN]), "bin_max": np.array([_MISSING_BIN])}
        cuts = self._cuts(present_values, None if labels is None else labels[~missing])
        self.boundaries[j] = cuts
        bins = np.searchsorted(cuts, present_values)
        n_bins = len(cuts) + 1
        counts = np.bincount(bins, minlength=n_bins)
        present = np.flatnonzero(counts)
        means = np.array([present_values[bins == b].mean() if counts[b] else 0.0 for b in range(n_bins)])
        stds = np.array([present_values[bins == b].std() if counts[b] else 0.0 for b in range(n_bins)]) + 1e-11
        lows = np.r_[present_values.min(), cuts]
        highs = np.r_[cuts, present_values.max()]
        spec = {
            "categorical": True,
            "binned": True,
            "values": present.astype(np.float64),
            "frequencies": counts[present] / n,
            "bin_mean": means[present],
            "bin_std": stds[present],
            "bin_min": lows[present],
            "bin_max": highs[present],
        }
        if missing.any():
            # Missing values are a bin of their own (id n_bins), drawn with their frequency.
            for key, extra in (("values", float(n_bins)), ("frequencies", missing.sum() / n), ("bin_mean", _MISSING_BIN),
                               ("bin_std", 0.0), ("bin_min", _MISSING_BIN), ("bin_max", _MISSING_BIN)):
                spec[key] = np.r_[spec[key], extra]
        return spec

    def _lime_codes(self, codes: np.ndarray) -> np.ndarray:
        """Codes with a missing categorical value as a category of its own."""
        codes = np.array(codes, dtype=np.float64)
        for j in self.categorical_features:
            codes[np.isnan(codes[:, j]), j] = _MISSING_CODE
        return codes

    def _user_frame(self, inverse: np.ndarray) -> Any:
        """Perturbed rows as the user's DataFrame (missing codes back to missing)."""
        import pandas as pd

        assert self.codec is not None
        values = np.array(inverse, dtype=np.float64)
        values[np.isinf(values)] = np.nan
        for j in self.categorical_features:
            values[values[:, j] == _MISSING_CODE, j] = np.nan
        for j, dtype in enumerate(self.codec.dtypes):
            # Integer columns are perturbed as numbers and rounded so they keep their dtype.
            if self.codec.kinds[j] == "number" and pd.api.types.is_integer_dtype(dtype):
                values[:, j] = np.round(values[:, j])
        return self.codec.decode(values)

    def _categorical(self, categorical_features: Any, training_data: Any) -> set[int]:
        chosen: set[int] = set()
        if categorical_features is not None:
            for item in categorical_features:
                if isinstance(item, str):
                    if item not in self.feature_names:
                        raise ValueError(f"categorical_features names unknown feature {item!r}")
                    chosen.add(self.feature_names.index(item))
                elif isinstance(item, Integral) and not isinstance(item, bool) and 0 <= item < len(self.feature_names):
                    chosen.add(int(item))
                else:
                    raise ValueError(f"categorical_features has an invalid entry {item!r}")
        if self.codec is not None:
            import pandas as pd

            for j, (kind, dtype) in enumerate(zip(self.codec.kinds, self.codec.dtypes)):
                # Strings, objects, categories and booleans are sampled by their training frequency.
                if kind in ("category", "values") or pd.api.types.is_bool_dtype(dtype):
                    chosen.add(j)
        return chosen

    def _cuts(self, column: np.ndarray, labels: Optional[np.ndarray]) -> np.ndarray:
        if self.discretizer == "quartile":
            return np.unique(np.percentile(column, [25, 50, 75]))
        if self.discretizer == "decile":
            return np.unique(np.percentile(column, np.arange(10, 100, 10)))
        from sklearn.tree import DecisionTreeClassifier

        tree = DecisionTreeClassifier(criterion="entropy", max_depth=3, random_state=self._seed % (2**32))
        tree.fit(column.reshape(-1, 1), labels)
        cuts = tree.tree_.threshold[tree.tree_.children_left > -1]
        return np.unique(cuts) if cuts.size else np.array([np.median(column)])

    def discretize(self, X: Any) -> np.ndarray:
        """Bin index of each discretised feature (other columns unchanged).

        Examples
        --------
        >>> import numpy as np
        >>> lime = LimeTabular(np.arange(8.0).reshape(-1, 1), mode="regression")
        >>> lime.discretize([[0.0], [7.0]]).ravel().tolist()
        [0.0, 3.0]
        """
        if self.codec is not None and (is_frame(X) or self.codec.mixed):
            values = self.codec.encode(X, "X")
        else:
            values = as_matrix(X, name="X", n_features=self.n_features, keep_float32=False).values.copy()
        for j, cuts in self.boundaries.items():
            missing = np.isnan(values[:, j])
            values[:, j] = np.where(missing, np.nan, np.searchsorted(cuts, values[:, j]))
        return values

    def _bin(self, j: int, value: float) -> float:
        if np.isnan(value):
            return float(len(self.boundaries[j]) + 1)  # the missing bin
        return float(np.searchsorted(self.boundaries[j], value))

    def _cut_label(self, j: int, cut: float) -> str:
        if self.codec is not None and self.codec.kinds[j] == "time":
            stamp = self.codec.display(j, cut)
            return str(stamp.date()) if stamp == stamp.normalize() else str(stamp)
        return f"{cut:.2f}"

    def _display_names(self, row: np.ndarray) -> list[str]:
        names = []
        for j, name in enumerate(self.feature_names):
            if j in self.boundaries:
                cuts = self.boundaries[j]
                if np.isnan(row[j]):
                    names.append(f"{name} is missing")
                    continue
                b = int(np.searchsorted(cuts, row[j]))
                if b == 0:
                    names.append(f"{name} <= {self._cut_label(j, cuts[0])}")
                elif b == len(cuts):
                    names.append(f"{name} > {self._cut_label(j, cuts[-1])}")
                else:
                    names.append(f"{self._cut_label(j, cuts[b - 1])} < {name} <= {self._cut_label(j, cuts[b])}")
            elif j in self.categorical_features:
                value = row[j]
                if self.codec is not None:
                    value = "missing" if value == _MISSING_CODE else self.codec.display(j, value)
                    if self.codec.kinds[j] == "number" and isinstance(value, float):
                        value = bool(value) if pd_bool(self.codec.dtypes[j]) else value
                names.append(f"{name}={value:g}" if isinstance(value, float) else f"{name}={value}")
            else:
                names.append(name)
        return names

    # ------------------------------------------------------------------ explaining
    def _row(self, x: Any) -> np.ndarray:
        """The explained row as LIME codes (a Series is read by column name)."""
        if self.codec is not None and (is_frame(x) or type(x).__name__ == "Series" or self.codec.mixed):
            values = self._lime_codes(self.codec.encode(x, "x"))
            if values.shape[0] != 1:
                raise ValueError(f"x must be one row, got {values.shape[0]} rows")
            self._check_row_missing(values[0])
            return values[0]
        if type(x).__module__.split(".")[0] == "pandas":
            import pandas as pd

            if isinstance(x, pd.Series):
                x = x.to_frame().T.infer_objects()
        values = np.asarray(as_matrix(x, name="x", keep_float32=False).values if np.ndim(x) == 2 or hasattr(x, "columns")
                            else np.asarray(x, dtype=np.float64).reshape(1, -1))
        if values.shape != (1, self.n_features):
            raise ValueError(f"x must be one row with {self.n_features} features, got shape {values.shape}")
        if not np.all(np.isfinite(values)):
            raise ValueError("x contains NaN or infinite values")
        return values[0].astype(np.float64)

    def _check_row_missing(self, row: np.ndarray) -> None:
        for j in range(self.n_features):
            if np.isinf(row[j]):
                raise ValueError(f"x column {self.feature_names[j]!r} is infinite")
            if np.isnan(row[j]) and j not in self.boundaries and j not in self.categorical_features:
                raise ValueError(
                    f"x column {self.feature_names[j]!r} is missing; with discretize_continuous=False numeric "
                    "columns must be present"
                )

    def _sample(self, row: np.ndarray, num_samples: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        category = row.copy()
        for j in self.boundaries:
            category[j] = self._bin(j, row[j])
        return _core.lime_sample(self._features, row, category, num_samples, self.sample_around_instance, seed)

    def _native(self, predict_fn: Callable) -> Optional[ModelFunction]:
        """A C++ evaluator for ``predict_fn`` when it is a tree/linear model's method (checked).

        ``model.predict`` is a new bound-method object on every access, so the cache is
        keyed by the model object and the function, not by the bound method.
        """
        owner = getattr(predict_fn, "__self__", None)
        key = (id(owner), getattr(predict_fn, "__func__", predict_fn))
        cached = self._native_cache.get("entry")
        if cached is not None and cached[0] == key and cached[1] is owner:
            return cached[2]
        function: Optional[ModelFunction] = None
        if owner is not None or type(predict_fn).__name__ == "TreeEnsemble":
            try:
                candidate = ModelFunction(predict_fn, self._check_rows, self.n_jobs)
                function = candidate if candidate.native else None
            except (TypeError, ValueError):
                function = None
        self._native_cache = {"entry": (key, owner, function)}
        return function

    def _predict(self, predict_fn: Callable, inverse: np.ndarray) -> np.ndarray:
        native = self._native(predict_fn)
        try:
            if native is not None:
                out = native(inverse)
                out = out[:, 0] if self.mode == "regression" and out.shape[1] == 1 else out
            else:
                # The user's function gets a DataFrame with the training frame's columns and dtypes.
                argument = inverse if self.codec is None else self._user_frame(inverse)
                out = np.asarray(predict_fn(argument), dtype=np.float64)
        except (TypeError, ValueError):
            if not callable(predict_fn):
                raise TypeError(f"predict_fn must be callable, got {type(predict_fn).__name__}") from None
            raise
        n = inverse.shape[0]
        if self.mode == "regression":
            if out.shape not in ((n,), (n, 1)):
                raise ValueError(f"predict_fn returned shape {out.shape} for {n} rows; regression needs ({n},)")
            out = out.reshape(n, 1)
        elif out.ndim != 2 or out.shape[0] != n:
            raise ValueError(
                f"predict_fn returned shape {out.shape} for {n} rows; classification needs probabilities (n, n_classes)"
            )
        if not np.all(np.isfinite(out)):
            raise ValueError("predict_fn returned NaN or infinite values")
        return out

    def _check_args(self, num_features: Any, num_samples: Any) -> None:
        if isinstance(num_features, bool) or not isinstance(num_features, Integral) or num_features < 1:
            raise ValueError(f"num_features must be a positive int, got {num_features!r}")
        if isinstance(num_samples, bool) or not isinstance(num_samples, Integral) or num_samples < 2:
            raise ValueError(f"num_samples must be an int >= 2, got {num_samples!r}")

    def explain(
        self,
        x: Any,
        predict_fn: Callable[[Any], Any],
        *,
        num_features: int = 10,
        labels: Sequence[int] = (1,),
        top_labels: Optional[int] = None,
        num_samples: int = 5000,
        random_state: RandomState = None,
        keep_neighborhood: bool = False,
    ) -> LimeExplanation:
        """Explain one row.

        Parameters
        ----------
        x : array-like of shape (m,), one-row DataFrame or Series
        predict_fn : callable
            Probabilities ``(n, n_classes)`` for classification, values ``(n,)`` for
            regression; called once on ``num_samples`` rows.
        num_features : int
            Features in the explanation.
        labels : sequence of int
            Classes to explain (classification).
        top_labels : int, optional
            Explain the classes with the highest predicted probability instead.
        num_samples : int
            Neighbourhood size (row 0 is ``x`` itself).
        random_state : int, Generator or None
            Override the explainer's seed for this call.
        keep_neighborhood : bool
            Keep the samples, representation, predictions and weights on the result
            (``explanation.neighborhood``).

        Returns
        -------
        LimeExplanation

        Examples
        --------
        >>> import numpy as np
        >>> X = np.random.default_rng(0).normal(size=(300, 2))
        >>> e = LimeTabular(X, mode="regression", random_state=0).explain(X[0], lambda Z: Z[:, 1], num_features=1)
        >>> len(e.as_list())
        1
        """
        self._check_args(num_features, num_samples)
        row = self._row(x)
        seed = self._seed if random_state is None else resolve_seed(random_state)
        inverse, scaled = self._sample(row, int(num_samples), seed)
        predictions = self._predict(predict_fn, inverse)
        explanation = self.explain_neighborhood(
            scaled, predictions, num_features=num_features, labels=labels, top_labels=top_labels, row=row
        )
        if keep_neighborhood:
            samples = inverse if self.codec is None else self._user_frame(inverse)
            explanation.neighborhood = {"samples": samples, "scaled": scaled, "predictions": predictions}
        return explanation

    def explain_neighborhood(
        self,
        scaled: Any,
        predictions: Any,
        *,
        num_features: int = 10,
        labels: Sequence[int] = (1,),
        top_labels: Optional[int] = None,
        row: Optional[np.ndarray] = None,
        distances: Any = None,
    ) -> LimeExplanation:
        """Fit the local explanation on a given neighbourhood (row 0 = the explained row).

        ``scaled`` is the interpretable representation (what :meth:`explain` builds),
        ``predictions`` the model outputs on the neighbours. Useful to compare with other
        LIME implementations on the very same perturbations.

        Examples
        --------
        >>> import numpy as np
        >>> lime = LimeTabular(np.zeros((2, 2)), mode="regression")
        >>> Z = np.array([[1.0, 1.0], [0.0, 1.0], [1.0, 0.0], [0.0, 0.0]])
        >>> e = lime.explain_neighborhood(Z, Z @ [2.0, 1.0], num_features=2)
        >>> [name for name, _ in e.as_list()]
        ['x0', 'x1']
        """
        scaled = np.ascontiguousarray(scaled, dtype=np.float64)
        if scaled.ndim != 2 or scaled.shape[1] != self.n_features or scaled.shape[0] < 2:
            raise ValueError(f"scaled must have shape (n >= 2, {self.n_features}), got {scaled.shape}")
        predictions = np.asarray(predictions, dtype=np.float64)
        predictions = predictions.reshape(scaled.shape[0], -1)
        if distances is None:
            distances = np.sqrt(((scaled - scaled[0]) ** 2).sum(axis=1))
        distances = np.asarray(distances, dtype=np.float64)
        weights = np.ascontiguousarray(np.sqrt(np.exp(-(distances**2) / self.kernel_width**2)))
        if self.mode == "regression":
            chosen = [0]
        elif top_labels is not None:
            if isinstance(top_labels, bool) or not isinstance(top_labels, Integral) or top_labels < 1:
                raise ValueError(f"top_labels must be a positive int, got {top_labels!r}")
            chosen = [int(c) for c in np.argsort(-predictions[0], kind="stable")[:top_labels]]
        else:
            chosen = [int(c) for c in labels]
            bad = [c for c in chosen if not 0 <= c < predictions.shape[1]]
            if bad:
                raise ValueError(f"labels {bad} are out of range for {predictions.shape[1]} classes")
        forward = self.feature_selection == "forward_selection" or (
            self.feature_selection == "auto" and num_features <= 6
        )
        local_exp, intercept, score, local_pred = {}, {}, {}, {}
        for label in chosen:
            target = np.ascontiguousarray(predictions[:, label])
            if self.feature_selection == "none":
                used = list(range(self.n_features))
            else:
                used = _core.lime_select(scaled, target, weights, int(num_features), forward)
            b0, coef, r2, first = _core.weighted_ridge(scaled, target, weights, used, 1.0)
            pairs = sorted(zip(used, coef), key=lambda t: -abs(t[1]))
            local_exp[label] = [(int(j), float(w)) for j, w in pairs]
            intercept[label], score[label], local_pred[label] = float(b0), float(r2), float(first)
        names = self._display_names(row) if row is not None else list(self.feature_names)
        return LimeExplanation(
            self.mode, names, local_exp, intercept, score, local_pred, predictions[0], self.class_names
        )

    def explain_many(self, X: Any, predict_fn: Callable[[Any], Any], **kwargs: Any) -> list[LimeExplanation]:
        """Explain each row of ``X``; all neighbourhoods go to the model in one call.

        Each row is explained exactly as :meth:`explain` would (same seed, same result);
        sampling and fitting run on ``n_jobs`` threads.

        Examples
        --------
        >>> import numpy as np
        >>> X = np.random.default_rng(0).normal(size=(100, 2))
        >>> lime = LimeTabular(X, mode="regression", random_state=0)
        >>> len(lime.explain_many(X[:3], lambda Z: Z[:, 0], num_features=1, num_samples=200))
        3
        """
        if self.codec is not None and (is_frame(X) or self.codec.mixed):
            rows = self._lime_codes(self.codec.encode(X, "X"))
            for row in rows:
                self._check_row_missing(row)
        else:
            rows = as_matrix(X, name="X", n_features=self.n_features, allow_nan=False, keep_float32=False).values
        num_samples = int(kwargs.pop("num_samples", 5000))
        num_features = kwargs.pop("num_features", 10)
        random_state = kwargs.pop("random_state", None)
        self._check_args(num_features, num_samples)
        seed = self._seed if random_state is None else resolve_seed(random_state)
        workers = min(resolve_n_jobs(self.n_jobs), max(1, len(rows)))
        # Sampling and fitting release the GIL: rows run on a thread pool, each row's
        # result is the same as explain()'s whatever the number of threads.
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=workers) as pool:
            samples = list(pool.map(lambda row: self._sample(row, num_samples, seed), rows))
            if not samples:
                return []
            predictions = self._predict(predict_fn, np.concatenate([s[0] for s in samples]))

            def fit(i: int) -> LimeExplanation:
                block = predictions[i * num_samples : (i + 1) * num_samples]
                return self.explain_neighborhood(
                    samples[i][1], block, num_features=num_features, row=rows[i], **kwargs
                )

            return list(pool.map(fit, range(len(rows))))

    def stability(
        self,
        x: Any,
        predict_fn: Callable[[Any], Any],
        *,
        n_runs: int = 10,
        num_features: int = 10,
        label: int = 1,
        num_samples: int = 5000,
        level: float = 0.95,
    ) -> dict:
        """How much LIME's answer moves between seeds (Visani et al. 2022).

        Runs the explanation ``n_runs`` times with seeds ``seed, seed + 1, ...``.

        Returns
        -------
        dict
            ``"coefficients"``: DataFrame per feature (mean, std, CI bounds at ``level``
            over runs, selection frequency); ``"vsi"``: Variables Stability Index (mean
            share of selected features two runs have in common, in %); ``"csi"``:
            Coefficients Stability Index (share of run pairs whose per-run confidence
            intervals of a feature's coefficient overlap, averaged over features, in %).

        Examples
        --------
        >>> import numpy as np
        >>> X = np.random.default_rng(0).normal(size=(300, 3))
        >>> lime = LimeTabular(X, mode="regression", random_state=0)
        >>> s = lime.stability(X[0], lambda Z: Z[:, 0], n_runs=3, num_features=2, num_samples=500)
        >>> 0 <= s["vsi"] <= 100
        True
        """
        import pandas as pd
        from scipy import stats

        if isinstance(n_runs, bool) or not isinstance(n_runs, Integral) or n_runs < 2:
            raise ValueError(f"n_runs must be an int >= 2, got {n_runs!r}")
        if not 0 < level < 1:
            raise ValueError(f"level must be in (0, 1), got {level!r}")
        self._check_args(num_features, num_samples)
        row = self._row(x)
        m = self.n_features
        coefs = np.zeros((n_runs, m))
        errors = np.zeros((n_runs, m))
        selected = []
        z = stats.norm.ppf(0.5 + level / 2)
        for r in range(n_runs):
            seed = (self._seed + r) & ((1 << 63) - 1)
            inverse, scaled = self._sample(row, int(num_samples), seed)
            predictions = self._predict(predict_fn, inverse)
            e = self.explain_neighborhood(scaled, predictions, num_features=num_features, labels=(label,), row=row)
            lab = e._label(label)
            used = [j for j, _ in e.local_exp[lab]]
            selected.append(set(used))
            for j, w in e.local_exp[lab]:
                coefs[r, j] = w
            errors[r, used] = self._coef_errors(scaled, predictions[:, lab if self.mode != "regression" else 0], used)
        pairs = list(itertools.combinations(range(n_runs), 2))
        vsi = 100.0 * np.mean([len(selected[a] & selected[b]) / max(1, len(selected[a] | selected[b])) for a, b in pairs])
        overlap = []
        for j in range(m):
            chosen = [r for r in range(n_runs) if j in selected[r]]
            for a, b in itertools.combinations(chosen, 2):
                lo = max(coefs[a, j] - z * errors[a, j], coefs[b, j] - z * errors[b, j])
                hi = min(coefs[a, j] + z * errors[a, j], coefs[b, j] + z * errors[b, j])
                overlap.append(lo <= hi)
        csi = 100.0 * float(np.mean(overlap)) if overlap else 100.0
        mean = coefs.mean(axis=0)
        std = coefs.std(axis=0, ddof=1)
        half = stats.t.ppf(0.5 + level / 2, n_runs - 1) * std / np.sqrt(n_runs)
        frame = pd.DataFrame(
            {
                "mean": mean,
                "std": std,
                "ci_low": mean - half,
                "ci_high": mean + half,
                "selected": [sum(j in s for s in selected) / n_runs for j in range(m)],
            },
            index=self.feature_names,
        )
        return {"coefficients": frame, "vsi": float(vsi), "csi": csi}

    def _coef_errors(self, scaled: np.ndarray, target: np.ndarray, used: list[int]) -> np.ndarray:
        # Sandwich-free weighted least-squares standard errors of the ridge coefficients,
        # as Visani et al. use to build the per-run intervals.
        distances = np.sqrt(((scaled - scaled[0]) ** 2).sum(axis=1))
        w = np.sqrt(np.exp(-(distances**2) / self.kernel_width**2))
        Z = np.c_[np.ones(len(target)), scaled[:, used]]
        penalty = np.eye(Z.shape[1])
        penalty[0, 0] = 0.0
        gram = Z.T @ (w[:, None] * Z) + penalty
        inverse = np.linalg.pinv(gram)
        beta = inverse @ (Z.T @ (w * target))
        residual = target - Z @ beta
        dof = max(1.0, w.sum() - Z.shape[1])
        sigma2 = float((w * residual**2).sum() / dof)
        cov = sigma2 * inverse @ (Z.T @ (w[:, None] * Z)) @ inverse
        return np.sqrt(np.maximum(np.diag(cov)[1:], 0.0))

    def to_json(self) -> str:
        """The explainer as JSON text (bins, sampling specs, resolved seed, settings).

        ``predict_fn`` is not part of the explainer (it is passed to each ``explain`` call).
        DataFrames with non-numeric columns have no JSON form yet (``ValueError``).

        Examples
        --------
        >>> import numpy as np
        >>> X = np.random.default_rng(0).normal(size=(300, 2))
        >>> lime = LimeTabular(X, mode="regression", random_state=0)
        >>> f = lambda Z: Z[:, 1]
        >>> again = LimeTabular.from_json(lime.to_json())
        >>> again.explain(X[0], f, num_features=1).as_list() == lime.explain(X[0], f, num_features=1).as_list()
        True
        """
        from ._json import dumps

        return dumps(self)

    @classmethod
    def from_json(cls, text: str, *, n_jobs: Optional[int] = None) -> "LimeTabular":
        """Rebuild an explainer from :meth:`to_json` text; it draws the same neighbourhoods.

        Examples
        --------
        >>> import numpy as np
        >>> LimeTabular.from_json(LimeTabular(np.zeros((4, 2)), mode="regression").to_json()).n_features
        2
        """
        from ._json import loads

        return loads(text, n_jobs=n_jobs, expect=cls)

    def __getstate__(self) -> dict:
        # Core feature specs and the native evaluator cache are rebuilt on load.
        state = self.__dict__.copy()
        state.pop("_features", None)
        state["_native_cache"] = {}
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._features = [_core.LimeFeature(spec) for spec in self._specs]

    def __repr__(self) -> str:
        return f"LimeTabular(mode={self.mode!r}, features={self.n_features}, discretizer={self.discretizer!r})"
