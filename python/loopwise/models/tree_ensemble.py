"""``TreeEnsemble``: the one representation every tree method in loopwise uses."""

from __future__ import annotations

import json
import numbers
import os
from typing import Any, Mapping, Optional, Sequence, Union

import numpy as np

from .. import _core
from .._input import as_matrix, check_real_dtype
from .._params import Interval
from .._threads import resolve_n_jobs
from ._builder import LINKS

__all__ = ["TreeEnsemble"]

_FORMAT = "loopwise.TreeEnsemble"
_FORMAT_VERSION = 1
_ARRAY_FIELDS = {
    "tree_offsets": np.int64,
    "tree_output": np.int32,
    "feature": np.int32,
    "threshold": np.float64,
    "left": np.int32,
    "right": np.int32,
    "default_left": np.uint8,
    "missing_rule": np.uint8,
    "cover": np.float64,
    "value": np.float64,
    "cat_node": np.int64,
    "cat_left_ptr": np.int64,
    "cat_left": np.int32,
    "cat_right_ptr": np.int64,
    "cat_right": np.int32,
    "cat_other_left": np.uint8,
    "base_score": np.float64,
}
_SCALAR_FIELDS = ("n_features", "n_outputs", "comparison", "float32_inputs", "category_cast", "link", "link_scale")
_LINK_NAMES = {v: k for k, v in LINKS.items()}
_TASKS = ("regression", "binary", "multiclass")
_PLAIN_DTYPES = (np.dtype(np.float64), np.dtype(np.float32))


class TreeEnsemble:
    """A decision-tree ensemble in loopwise's flat, validated representation.

    Build one with :meth:`from_model` from a scikit-learn, XGBoost or LightGBM model; it
    predicts exactly what the source library predicts, saves to JSON without pickle, and is
    what :class:`loopwise.TreeExplainer` and the other tree methods work on.

    Parameters
    ----------
    fields : dict
        Flat node arrays and scalars (see :meth:`to_dict`). Validated in C++: a corrupt or
        hostile ensemble raises ``ValueError`` naming the tree and node.
    feature_names : sequence of str, optional
        Names of the input columns.
    task : {"regression", "binary", "multiclass"}
        What the outputs mean; decides what :meth:`predict_proba` returns.
    classes : sequence, optional
        Class labels of a classifier, in output order.
    supports_missing : bool
        Whether the source model routes missing values (NaN input is refused otherwise).
    categories : mapping of int to sequence, optional
        For categorical columns known by value: the category of each code.
    source : str
        Where the model came from, e.g. ``"sklearn.RandomForestClassifier"``.
    learning_rate : float, optional
        The boosting shrinkage of the source model (used by leaf refreshes).
    missing_value : float, optional
        A value that marks a missing entry besides NaN (XGBoost's ``missing=``): inputs equal
        to it, compared at the model's input precision, are routed as missing.

    Examples
    --------
    >>> from sklearn.datasets import make_regression
    >>> from sklearn.ensemble import RandomForestRegressor
    >>> X, y = make_regression(n_samples=200, n_features=5, random_state=0)
    >>> model = RandomForestRegressor(n_estimators=10, random_state=0).fit(X, y)
    >>> ensemble = TreeEnsemble.from_model(model)
    >>> bool(np.allclose(ensemble.predict(X), model.predict(X)))
    True
    """

    def __init__(
        self,
        fields: Mapping[str, Any],
        *,
        feature_names: Optional[Sequence[str]] = None,
        task: str = "regression",
        classes: Optional[Sequence[Any]] = None,
        supports_missing: bool = True,
        categories: Optional[Mapping[int, Sequence[Any]]] = None,
        source: str = "loopwise",
        learning_rate: Optional[float] = None,
        missing_value: Optional[float] = None,
    ) -> None:
        if task not in _TASKS:
            raise ValueError(f"task must be one of {_TASKS}, got {task!r}")
        missing = [k for k in list(_ARRAY_FIELDS) + list(_SCALAR_FIELDS) if k not in fields]
        if missing:
            raise ValueError(f"fields is missing {missing}")
        self._fields = {k: _field_array(fields[k], k, t) for k, t in _ARRAY_FIELDS.items()}
        for key in _SCALAR_FIELDS:
            self._fields[key] = _scalar_field(fields[key], key)
        self._core = _core.TreeEnsemble(self._fields)
        self._n_features = int(self._core.n_features)  # read on every call's input check
        if feature_names is not None:
            feature_names = [str(n) for n in feature_names]
            if len(feature_names) != self.n_features:
                raise ValueError(
                    f"feature_names has {len(feature_names)} names but the ensemble has {self.n_features} features"
                )
        self.feature_names: Optional[list[str]] = feature_names
        self.task = task
        self.classes = None if classes is None else list(classes)
        self.supports_missing = bool(supports_missing)
        self.categories = {int(k): list(v) for k, v in (categories or {}).items()}
        self.source = source
        if learning_rate is not None and (isinstance(learning_rate, bool) or not isinstance(learning_rate, numbers.Real)
                                          or not 0 < learning_rate < float("inf")):
            raise ValueError(f"learning_rate must be a positive finite number or None, got {learning_rate!r}")
        # The boosting shrinkage of the source model: what a leaf refresh scales its steps by.
        self.learning_rate: Optional[float] = None if learning_rate is None else float(learning_rate)
        self.missing_value: Optional[float] = _check_missing_value(missing_value)

    # ------------------------------------------------------------------ building
    @classmethod
    def from_model(cls, model: Any) -> "TreeEnsemble":
        """Convert a fitted tree model from scikit-learn, XGBoost or LightGBM.

        Supported: scikit-learn ``DecisionTree*``, ``ExtraTree*``, ``RandomForest*``,
        ``ExtraTrees*``, ``GradientBoosting*``, ``HistGradientBoosting*``; XGBoost
        ``Booster``, ``XGBClassifier``, ``XGBRegressor``; LightGBM ``Booster``,
        ``LGBMClassifier``, ``LGBMRegressor``. A ``TreeEnsemble`` is returned as is.

        Parameters
        ----------
        model : object
            A fitted model.

        Returns
        -------
        TreeEnsemble

        Examples
        --------
        >>> from sklearn.datasets import make_classification
        >>> from sklearn.ensemble import GradientBoostingClassifier
        >>> X, y = make_classification(n_samples=200, random_state=0)
        >>> gbm = GradientBoostingClassifier(n_estimators=20).fit(X, y)
        >>> TreeEnsemble.from_model(gbm).n_trees
        20
        """
        if isinstance(model, TreeEnsemble):
            return model
        module = type(model).__module__.split(".")[0]
        if module == "sklearn":
            from ._sklearn import from_sklearn

            return _with_learning_rate(from_sklearn(model), model)
        if module == "xgboost":
            from ._xgboost import from_xgboost

            return _with_learning_rate(from_xgboost(model), model)
        if module == "lightgbm":
            from ._lightgbm import from_lightgbm

            return _with_learning_rate(from_lightgbm(model), model)
        raise TypeError(
            f"cannot build a TreeEnsemble from {type(model).__module__}.{type(model).__name__}; "
            "supported are scikit-learn, XGBoost and LightGBM tree models"
        )

    # ------------------------------------------------------------------ properties
    @property
    def n_trees(self) -> int:
        """Number of trees."""
        return int(self._core.n_trees)

    @property
    def n_features(self) -> int:
        """Number of input columns."""
        return int(self._core.n_features)

    @property
    def n_outputs(self) -> int:
        """Number of raw outputs (1, or one per class for multi-class models)."""
        return int(self._core.n_outputs)

    @property
    def max_depth(self) -> int:
        """Depth of the deepest tree (a lone leaf has depth 0)."""
        return int(self._core.max_depth)

    @property
    def link(self) -> str:
        """Link from raw margin to probability: identity, logistic, softmax or exp."""
        return _LINK_NAMES[self._fields["link"]]

    @property
    def base_score(self) -> np.ndarray:
        """Raw-margin offset per output."""
        return self._fields["base_score"].copy()

    @property
    def fields(self) -> dict:
        """The flat arrays (read-only views) that define the ensemble."""
        out = {}
        for key, value in self._fields.items():
            if isinstance(value, np.ndarray):
                view = value.view()
                view.flags.writeable = False
                out[key] = view
            else:
                out[key] = value
        return out

    # ------------------------------------------------------------------ prediction
    def _validate_X(self, X: Any, name: str = "X") -> np.ndarray:
        if (type(X) is np.ndarray and X.ndim == 2 and X.dtype in _PLAIN_DTYPES and X.shape[0] >= 1
                and X.shape[1] == self._n_features and X.flags.c_contiguous and not self.categories
                and (self.supports_missing or not np.isnan(X).any())):
            # A plain float array passes every check of as_matrix unchanged: skip its general
            # conversion path, which dominates a one-row call (tens of microseconds).
            values = X
        else:
            values = as_matrix(
                X,
                name=name,
                n_features=self._n_features,
                feature_names=self.feature_names,
                categories=self.categories,
                allow_nan=self.supports_missing,
            ).values
        if self._fields["float32_inputs"] and values.dtype == np.float64:
            # The model compares float32(x) anyway: converting once is exact and halves
            # the memory traffic of every tree visit.
            values = values.astype(np.float32)
        if self.missing_value is not None:
            # As XGBoost does: an entry equal to `missing` (at the input precision) is missing.
            marked = values == values.dtype.type(self.missing_value)
            if marked.any():
                values = np.where(marked, values.dtype.type(np.nan), values)
        return values

    def decision_function(self, X: Any, *, n_jobs: Optional[int] = None) -> np.ndarray:
        """Raw margin (the sum of leaf values and base score) for each row.

        What the link turns into a probability (classifiers) or a prediction (log-link
        regressors); for identity-link regressors it is the prediction itself.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
        n_jobs : int, optional
            Threads; ``None`` uses all cores. The result does not depend on it.

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_outputs)

        Examples
        --------
        >>> from sklearn.ensemble import GradientBoostingClassifier
        >>> gbm = GradientBoostingClassifier(n_estimators=5).fit([[0.0], [1.0]], [0, 1])
        >>> margin = TreeEnsemble.from_model(gbm).decision_function([[0.0], [1.0]])
        >>> bool(np.allclose(margin, gbm.decision_function([[0.0], [1.0]])))
        True
        """
        values = self._validate_X(X)
        margins = self._core.predict(values, resolve_n_jobs(n_jobs))
        return margins[:, 0] if self.n_outputs == 1 else margins

    def predict(self, X: Any, *, n_jobs: Optional[int] = None) -> np.ndarray:
        """Predictions as the source estimator gives them.

        Classifiers: the class label of each row (from :attr:`classes`, or the class index
        0..K-1 when the ensemble holds no labels), the most probable class with ties going to
        the first, as scikit-learn, XGBoost and LightGBM decide. Regressors: the raw margin
        (see :meth:`decision_function`, which also gives a classifier's margins).

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
        n_jobs : int, optional
            Threads; ``None`` uses all cores. The result does not depend on it.

        Returns
        -------
        ndarray of shape (n_samples,) (or (n_samples, n_outputs) for a multi-output regressor)

        Examples
        --------
        >>> from sklearn.tree import DecisionTreeRegressor, DecisionTreeClassifier
        >>> tree = DecisionTreeRegressor(max_depth=2).fit([[0.0], [1.0]], [0.0, 1.0])
        >>> TreeEnsemble.from_model(tree).predict([[0.9]])
        array([1.])
        >>> labels = DecisionTreeClassifier().fit([[0.0], [1.0]], ["no", "yes"])
        >>> TreeEnsemble.from_model(labels).predict([[0.0], [0.9]]).tolist()
        ['no', 'yes']
        """
        if self.task == "regression":
            return self.decision_function(X, n_jobs=n_jobs)
        index = np.argmax(self.predict_proba(X, n_jobs=n_jobs), axis=1)
        if self.classes is None:
            return index
        return np.asarray(self.classes)[index]

    def predict_proba(self, X: Any, *, n_jobs: Optional[int] = None) -> np.ndarray:
        """Class probabilities of a classifier, shape (n_samples, n_classes), columns in the
        order of :attr:`classes`.

        Examples
        --------
        >>> from sklearn.ensemble import RandomForestClassifier
        >>> rf = RandomForestClassifier(n_estimators=5, random_state=0).fit([[0.0], [1.0]], [0, 1])
        >>> TreeEnsemble.from_model(rf).predict_proba([[1.0]]).shape
        (1, 2)
        """
        if self.task == "regression":
            raise ValueError("predict_proba is only defined for classifiers; this ensemble is a regressor")
        values = self._validate_X(X)
        proba = self._core.transform(self._core.predict(values, resolve_n_jobs(n_jobs)))
        if self.n_outputs == 1:
            return np.column_stack([1.0 - proba[:, 0], proba[:, 0]])
        return proba

    def transform_margin(self, margins: np.ndarray) -> np.ndarray:
        """Apply the link to raw margins (n_samples, n_outputs).

        A 1-D array is taken as one column when the ensemble has one output; any other
        width raises ``ValueError`` (it is never reshaped).

        Examples
        --------
        >>> from sklearn.ensemble import GradientBoostingClassifier
        >>> gbm = GradientBoostingClassifier(n_estimators=3).fit([[0.0], [1.0]], [0, 1])
        >>> TreeEnsemble.from_model(gbm).transform_margin(np.zeros((1, 1)))
        array([[0.5]])
        """
        values = np.asarray(margins)
        check_real_dtype(values, "margins")
        try:
            values = np.ascontiguousarray(values, dtype=np.float64)
        except (TypeError, ValueError) as error:
            raise TypeError(f"margins must hold numbers: {error}") from None
        if values.ndim == 1 and self.n_outputs == 1:
            values = values.reshape(-1, 1)
        if values.ndim != 2 or values.shape[1] != self.n_outputs:
            raise ValueError(
                f"margins must have shape (n_samples, {self.n_outputs}) for this ensemble, got {values.shape}"
            )
        return self._core.transform(values)

    def apply(self, X: Any, *, n_jobs: Optional[int] = None) -> np.ndarray:
        """Index (local to its tree) of the leaf each row reaches, shape (n_samples, n_trees).

        Examples
        --------
        >>> from sklearn.tree import DecisionTreeRegressor
        >>> tree = DecisionTreeRegressor(max_depth=1).fit([[0.0], [1.0]], [0.0, 1.0])
        >>> TreeEnsemble.from_model(tree).apply([[0.0], [1.0]]).ravel().tolist()
        [1, 2]
        """
        values = self._validate_X(X)
        return self._core.apply(values, resolve_n_jobs(n_jobs))

    # ------------------------------------------------------------------ serialisation
    def to_dict(self) -> dict:
        """A JSON-serialisable description that :meth:`from_dict` restores bit for bit.

        Examples
        --------
        >>> from sklearn.tree import DecisionTreeRegressor
        >>> tree = DecisionTreeRegressor(max_depth=1).fit([[0.0], [1.0]], [0.0, 1.0])
        >>> ensemble = TreeEnsemble.from_model(tree)
        >>> TreeEnsemble.from_dict(ensemble.to_dict()).n_trees
        1
        """
        fields = {}
        for key, value in self._fields.items():
            # Python floats print the shortest decimal that parses back to the same double.
            fields[key] = value.tolist() if isinstance(value, np.ndarray) else value
        categories = {str(k): [_jsonable(c) for c in v] for k, v in self.categories.items()}
        return {
            "format": _FORMAT,
            "format_version": _FORMAT_VERSION,
            "fields": fields,
            "feature_names": self.feature_names,
            "task": self.task,
            "classes": None if self.classes is None else [_jsonable(c) for c in self.classes],
            "supports_missing": self.supports_missing,
            "categories": categories,
            "source": self.source,
            "learning_rate": self.learning_rate,
            "missing_value": None if self.missing_value is None else _encode_float(self.missing_value),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "TreeEnsemble":
        """Rebuild an ensemble from :meth:`to_dict` output (validated like any input).

        Examples
        --------
        >>> from sklearn.tree import DecisionTreeRegressor
        >>> tree = DecisionTreeRegressor(max_depth=1).fit([[0.0], [1.0]], [0.0, 1.0])
        >>> TreeEnsemble.from_dict(TreeEnsemble.from_model(tree).to_dict()).n_features
        1
        """
        if not isinstance(data, Mapping) or data.get("format") != _FORMAT:
            raise ValueError(f"data is not a serialised TreeEnsemble (expected format {_FORMAT!r})")
        if int(data.get("format_version", 0)) > _FORMAT_VERSION:
            raise ValueError(
                f"data has format_version {data.get('format_version')}; this loopwise reads up to {_FORMAT_VERSION}"
            )
        fields = dict(data["fields"])
        return cls(
            fields,
            feature_names=data.get("feature_names"),
            task=data.get("task", "regression"),
            classes=data.get("classes"),
            supports_missing=data.get("supports_missing", True),
            categories={int(k): v for k, v in (data.get("categories") or {}).items()},
            source=data.get("source", "loopwise"),
            learning_rate=data.get("learning_rate"),
            missing_value=_decode_float(data.get("missing_value"), "data['missing_value']"),
        )

    def to_json(self, path: Optional[Union[str, os.PathLike]] = None) -> Optional[str]:
        """Serialise to JSON text, or write it to ``path`` atomically when given.

        Examples
        --------
        >>> from sklearn.tree import DecisionTreeRegressor
        >>> tree = DecisionTreeRegressor(max_depth=1).fit([[0.0], [1.0]], [0.0, 1.0])
        >>> text = TreeEnsemble.from_model(tree).to_json()
        >>> TreeEnsemble.from_json(text).n_trees
        1
        """
        text = json.dumps(self.to_dict(), allow_nan=False, separators=(",", ":"))
        if path is None:
            return text
        from .._atomic import write_bytes_atomic

        write_bytes_atomic(os.fspath(path), text.encode("utf-8"))
        return None

    @classmethod
    def from_json(cls, text_or_path: Union[str, os.PathLike]) -> "TreeEnsemble":
        """Load from JSON text or from a file path written by :meth:`to_json`.

        Examples
        --------
        >>> from sklearn.tree import DecisionTreeRegressor
        >>> tree = DecisionTreeRegressor(max_depth=1).fit([[0.0], [1.0]], [0.0, 1.0])
        >>> TreeEnsemble.from_json(TreeEnsemble.from_model(tree).to_json()).max_depth
        1
        """
        text = os.fspath(text_or_path)
        if not text.lstrip().startswith("{"):
            with open(text, encoding="utf-8") as handle:
                text = handle.read()
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise ValueError(f"text_or_path is not valid JSON: {error}") from error
        return cls.from_dict(data)

    def __getstate__(self) -> dict:
        return self.to_dict()

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(TreeEnsemble.from_dict(state).__dict__)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TreeEnsemble):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"TreeEnsemble(source={self.source!r}, task={self.task!r}, n_trees={self.n_trees}, "
            f"n_features={self.n_features}, n_outputs={self.n_outputs}, max_depth={self.max_depth}, "
            f"link={self.link!r})"
        )


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return value


def _field_array(value: Any, key: str, dtype: Any) -> np.ndarray:
    """One flat field of a serialised ensemble, with an error naming it when it is no number array."""
    try:
        array = np.asarray(value)
        if array.dtype.kind == "c":
            raise TypeError("complex numbers")
        target = np.dtype(dtype)
        if target.kind in "iu" and array.size:
            # An index must be a whole number the target type holds: casting would truncate
            # 1.5 to 1 and wrap 2**40 around, pointing silently at another node or feature.
            if array.dtype.kind not in "biu":
                if array.dtype.kind != "f" or not np.isfinite(array).all() or (array != np.round(array)).any():
                    raise ValueError("holds values that are not whole numbers")
            info = np.iinfo(target)
            if array.min() < info.min or array.max() > info.max:
                raise ValueError(f"holds values outside [{info.min}, {info.max}]")
        return np.ascontiguousarray(array, dtype=dtype)
    except (TypeError, ValueError, OverflowError) as error:
        raise ValueError(f"fields[{key!r}] must be an array of {np.dtype(dtype).name} numbers: {error}") from None


# The scalar fields and what each must be (the core checks their ranges).
_SCALAR_CHECKS = {"n_features": Interval(1, 2**31 - 1, integer=True), "n_outputs": Interval(1, 2**31 - 1, integer=True),
                  "comparison": Interval(0, 255, integer=True), "category_cast": Interval(0, 255, integer=True),
                  "link": Interval(0, 255, integer=True), "link_scale": Interval(0.0, None, closed="neither")}


def _scalar_field(value: Any, key: str) -> Any:
    """One scalar field of a serialised ensemble, checked, with an error naming it."""
    if key == "float32_inputs":
        if not isinstance(value, (bool, np.bool_)):
            raise TypeError(f"fields['float32_inputs'] must be true or false, got {value!r}")
        return bool(value)
    if isinstance(value, np.generic):
        value = value.item()
    checked = _SCALAR_CHECKS[key].check(f"fields[{key!r}]", value)
    return float(checked) if key == "link_scale" else int(checked)


def _check_missing_value(value: Any) -> Optional[float]:
    """None, or a non-NaN real (NaN is always missing, so it needs no marker)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, np.integer, np.floating)):
        raise TypeError(f"missing_value must be a real number or None, got {type(value).__name__}")
    number = float(value)
    return None if np.isnan(number) else number


def _encode_float(value: float) -> Union[float, str]:
    # Strict JSON has no infinities.
    return value if np.isfinite(value) else str(value)


def _decode_float(value: Any, name: str) -> Optional[float]:
    if value is None:
        return None
    if isinstance(value, str):
        if value not in ("inf", "-inf"):
            raise ValueError(f"{name} must be a number, 'inf' or '-inf', got {value!r}")
        return float(value)
    return value


def _with_learning_rate(ensemble: TreeEnsemble, model: Any) -> TreeEnsemble:
    from ._learning_rate import model_learning_rate

    rate = model_learning_rate(model)
    ensemble.learning_rate = None if rate is None else float(rate)
    return ensemble
