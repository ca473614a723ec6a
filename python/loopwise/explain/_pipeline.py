"""scikit-learn Pipelines for the native explainers (Tree, Linear).

A native explainer reads the final estimator's trees or coefficients, so it explains the
model on the columns the model sees: the output of ``pipeline[:-1].transform``. This
module applies that transform (the user's frame goes to the user's preprocessing
unchanged), names its output columns, and maps them back to the user's input columns so
the attributions of the one-hot / derived columns of one input column can be summed.
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from ._codec import is_frame
from .explanation import Explanation

__all__ = ["split_pipeline", "Preprocessing", "wrong_width_hint"]


def split_pipeline(model: Any) -> tuple[Any, Any]:
    """``(preprocessing, final estimator)`` of a Pipeline, ``(None, model)`` otherwise.

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn.linear_model import Ridge
    >>> prep, final = split_pipeline(make_pipeline(StandardScaler(), Ridge()))
    >>> type(final).__name__
    'Ridge'
    """
    if type(model).__name__ == "Pipeline" and hasattr(model, "steps") and hasattr(model, "__getitem__"):
        if len(model.steps) < 2:
            return None, model.steps[-1][1]
        return model[:-1], model[-1]
    return None, model


def _dense(values: Any) -> np.ndarray:
    if hasattr(values, "toarray"):  # scipy sparse output of a OneHotEncoder
        values = values.toarray()
    if is_frame(values):  # set_output(transform="pandas")
        values = values.to_numpy()
    try:
        return np.ascontiguousarray(values, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"the pipeline's preprocessing produced non-numeric columns: {error}") from None


class Preprocessing:
    """The transform part of a Pipeline, its output names and their input columns."""

    def __init__(self, steps: Any) -> None:
        self.steps = steps
        self.input_names: Optional[list[str]] = None
        names_in = getattr(steps, "feature_names_in_", None)
        if names_in is not None:
            self.input_names = [str(c) for c in names_in]
        try:
            self.output_names: Optional[list[str]] = [str(c) for c in steps.get_feature_names_out()]
        except Exception:  # a step without get_feature_names_out: positions only
            self.output_names = None

    def transform(self, X: Any, name: str = "X") -> np.ndarray:
        """``steps.transform(X)`` as a dense float array (X passed unchanged)."""
        try:
            out = self.steps.transform(X)
        except Exception as error:
            raise ValueError(
                f"the pipeline's preprocessing could not transform {name}: {type(error).__name__}: {error}. "
                f"Pass {name} as the raw input the pipeline was fitted on"
                + (f" (columns {self.input_names})" if self.input_names else "")
            ) from error
        return _dense(out)

    def groups(self) -> tuple[list[str], list[list[int]]]:
        """Input columns and, for each, the output columns derived from it.

        Works for a preprocessing that is one ColumnTransformer (possibly after nothing
        else): each transformer's outputs are assigned to its input columns: all to the
        one column when it has one input, else by the output name starting with the input
        column's name (``city_Paris`` -> ``city``; ``visits`` -> ``visits``). Raises when an
        output cannot be assigned (e.g. PCA over several columns), naming it.
        """
        transformer = self.steps
        if type(transformer).__name__ == "Pipeline":
            if len(transformer.steps) != 1:
                raise ValueError(
                    "group_features=True needs the pipeline's preprocessing to be a single ColumnTransformer; "
                    f"it has {len(transformer.steps)} steps. Use group_features=False"
                )
            transformer = transformer.steps[0][1]
        if not hasattr(transformer, "transformers_") or not hasattr(transformer, "output_indices_"):
            raise ValueError(
                f"group_features=True needs a ColumnTransformer to map outputs to input columns; the preprocessing is "
                f"{type(transformer).__name__}. Use group_features=False"
            )
        names_in = [str(c) for c in transformer.feature_names_in_]
        groups: list[list[int]] = [[] for _ in names_in]
        for label, step, columns in transformer.transformers_:
            block = transformer.output_indices_.get(label, slice(0, 0))
            outputs = list(range(block.start, block.stop))
            if not outputs or step == "drop":
                continue
            inputs = _column_names(columns, names_in)
            if len(inputs) == 1:
                groups[names_in.index(inputs[0])].extend(outputs)
                continue
            if step == "passthrough" and len(inputs) == len(outputs):
                for column, out in zip(inputs, outputs):
                    groups[names_in.index(column)].append(out)
                continue
            try:
                step_names = [str(n) for n in step.get_feature_names_out(inputs)]
            except Exception as error:
                raise ValueError(
                    f"cannot map the outputs of transformer {label!r} to its input columns {inputs} "
                    f"({type(error).__name__}: {error}); use group_features=False"
                ) from None
            for out, out_name in zip(outputs, step_names):
                owners = [c for c in inputs if out_name == c or out_name.startswith(c + "_")]
                owner = max(owners, key=len) if owners else None
                if owner is None:
                    raise ValueError(
                        f"cannot tell which input column of transformer {label!r} the output {out_name!r} comes "
                        f"from (inputs {inputs}); use group_features=False"
                    )
                groups[names_in.index(owner)].append(out)
        return names_in, groups


def _column_names(columns: Any, names_in: list[str]) -> list[str]:
    if isinstance(columns, str):
        return [columns]
    if callable(columns):
        raise ValueError("group_features=True cannot map a ColumnTransformer whose columns are chosen by a callable")
    columns = list(np.asarray(columns).ravel()) if not isinstance(columns, slice) else names_in[columns]
    if columns and isinstance(columns[0], (bool, np.bool_)):
        return [n for n, keep in zip(names_in, columns) if keep]
    if columns and isinstance(columns[0], (int, np.integer)):
        return [names_in[int(i)] for i in columns]
    return [str(c) for c in columns]


def group_explanation(explanation: Explanation, names: list[str], groups: list[list[int]], data: Any) -> Explanation:
    """Sum the attributions of each group of columns (additivity is kept)."""
    values = explanation.values
    grouped = np.stack([values[:, g].sum(axis=1) for g in groups], axis=1)
    stderr = None
    raw = None if data is None else (data.to_numpy(dtype=object) if is_frame(data) else np.asarray(data))
    return Explanation(grouped, explanation.base_values, data=raw, feature_names=names,
                       output_names=explanation.output_names, std_errors=stderr)


def wrong_width_hint(X: Any, n_features: int, feature_names: Optional[list[str]]) -> Optional[str]:
    """A message when ``X`` looks like a pipeline's raw input rather than the model's columns."""
    width = X.shape[1] if hasattr(X, "shape") and len(getattr(X, "shape", ())) == 2 else None
    given = [str(c) for c in X.columns] if is_frame(X) else None
    if width is None:
        return None
    names_differ = given is not None and feature_names is not None and set(given) != set(feature_names)
    if width == n_features and not names_differ:
        return None
    raw = is_frame(X) and any(not _numeric(X.iloc[:, j]) for j in range(X.shape[1]))
    if width != n_features or names_differ or raw:
        shown = "" if not feature_names else f" ({', '.join(feature_names[:6])}{', ...' if len(feature_names) > 6 else ''})"
        return (
            f"the model expects {n_features} transformed columns{shown} but X has {width} columns"
            + (f" ({', '.join(given[:6])}{', ...' if len(given) > 6 else ''})" if given else "")
            + ". If the model is the last step of a Pipeline, pass the whole pipeline to the explainer so it "
            "applies the preprocessing (e.g. TreeExplainer(pipeline)), or transform X with pipeline[:-1] first"
        )
    return None


def _numeric(column: Any) -> bool:
    import pandas as pd

    return bool(pd.api.types.is_numeric_dtype(column.dtype) or pd.api.types.is_bool_dtype(column.dtype)
                or isinstance(column.dtype, pd.CategoricalDtype))
