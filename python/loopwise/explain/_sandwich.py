"""The sandwich shared by the coalition explainers (Kernel, Permutation, Exact).

C++ builds the synthetic rows of a coalition design (``_core.coalition_rows``); Python
calls the model once per chunk of rows (never from parallel C++; the chunk size bounds
memory); the weighted background average and link happen here and the C++ solvers turn
coalition values into attributions. A model loopwise evaluates natively (a
``TreeEnsemble``, a scikit-learn tree model's ``predict``, a linear model's
``predict``/``decision_function``) is evaluated in C++/BLAS without calling Python code.
"""

from __future__ import annotations

import sys
from typing import Any, Callable, Iterator, Optional

import numpy as np

from .. import _core
from .._input import as_matrix
from .._random import RandomState, resolve_seed
from .._threads import resolve_n_jobs
from ._codec import is_frame
from .background import Background, as_background
from .explanation import Explanation

__all__ = ["ModelFunction", "CoalitionExplainer"]

_LINKS = ("identity", "logit")
_CHUNK_ROWS = 1 << 17  # synthetic rows per model call: 128k rows x M doubles
_LOGIT_EPS = 1e-15
_PROGRESS_MIN_ROWS = 20


def _interactive() -> bool:
    return hasattr(sys, "ps1") or "ipykernel" in sys.modules


class ModelFunction:
    """The explained model as ``rows (n, m) -> outputs (n, k)`` with checks.

    Parameters
    ----------
    model : callable or TreeEnsemble
        A prediction function (e.g. ``model.predict`` or ``model.predict_proba``) or a
        ``TreeEnsemble`` (its raw margin).
    background : Background
        Used to check a native shortcut gives the same numbers as the callable.
    n_jobs : int or None

    Examples
    --------
    >>> import numpy as np
    >>> from loopwise.explain.background import as_background
    >>> f = ModelFunction(lambda X: X.sum(axis=1), as_background(np.ones((3, 2))), 1)
    >>> f(np.ones((2, 2))).tolist()
    [[2.0], [2.0]]
    """

    def __init__(self, model: Any, background: Background, n_jobs: Optional[int]) -> None:
        from ..models import TreeEnsemble

        self.model = model
        self.codec = background.codec
        self.n_jobs = n_jobs
        self.n_outputs: Optional[int] = None
        self.native: Optional[str] = None
        # Set when the function is a tree ensemble's raw margin: coalition values then come
        # from the trees directly (_core.tree_coalition_values), with no synthetic rows.
        self.margin_of: Any = None
        self._native: Optional[Callable[[np.ndarray], np.ndarray]] = None
        if isinstance(model, TreeEnsemble):
            self.native = "TreeEnsemble"
            self.margin_of = model
            float32 = bool(model._fields["float32_inputs"])
            self._native = lambda rows: model._core.predict(
                rows.astype(np.float32) if float32 else rows, resolve_n_jobs(self.n_jobs)
            )
            if model.n_features != background.data.shape[1]:
                raise ValueError(
                    f"background has {background.data.shape[1]} columns but the model has {model.n_features} features"
                )
        elif not callable(model):
            raise TypeError(f"model must be a callable (e.g. model.predict) or a TreeEnsemble, got {type(model).__name__}")
        elif self.codec is None or not self.codec.mixed:
            # With string/datetime columns the model only ever sees the user's frame.
            self._try_native(model, background)

    # ------------------------------------------------------------------ native shortcuts
    def _try_native(self, function: Any, background: Background) -> None:
        owner = getattr(function, "__self__", None)
        method = getattr(function, "__name__", "")
        if owner is None or type(owner).__module__.split(".")[0] != "sklearn":
            return
        candidate: Optional[Callable[[np.ndarray], np.ndarray]] = None
        name = ""
        if method in ("predict", "decision_function") and hasattr(owner, "coef_") and hasattr(owner, "intercept_"):
            coef = np.atleast_2d(np.asarray(owner.coef_, dtype=np.float64))
            intercept = np.atleast_1d(np.asarray(owner.intercept_, dtype=np.float64))
            # A classifier's predict returns labels: only its decision_function is linear.
            linear_output = method == "decision_function" or not hasattr(owner, "classes_")
            if coef.shape[1] == background.data.shape[1] and linear_output:
                candidate = lambda rows: rows @ coef.T + intercept  # noqa: E731
                name = "linear"
        elif method in ("predict", "predict_proba") and not (method == "predict" and hasattr(owner, "classes_")):
            try:
                from ..models import TreeEnsemble

                ensemble = TreeEnsemble.from_model(owner)
            except Exception:  # not a tree model loopwise can read: use the callable
                return
            if method == "predict_proba":
                candidate = lambda rows: ensemble.predict_proba(rows, n_jobs=resolve_n_jobs(self.n_jobs))  # noqa: E731
            else:
                candidate = lambda rows: ensemble.decision_function(rows, n_jobs=resolve_n_jobs(self.n_jobs))  # noqa: E731
            name = "TreeEnsemble"
        if candidate is None:
            return
        # Use the shortcut only when it reproduces the model on the background rows.
        try:
            reference = self._call_python(background.data)
            fast = np.asarray(candidate(background.data), dtype=np.float64).reshape(reference.shape)
        except Exception:
            return
        if np.allclose(fast, reference, rtol=1e-9, atol=1e-9 * (1.0 + np.abs(reference).max())):
            self._native = candidate
            self.native = name
            if name == "TreeEnsemble" and method == "predict":
                self.margin_of = ensemble

    # ------------------------------------------------------------------ evaluation
    def _call_python(self, rows: np.ndarray) -> np.ndarray:
        # The user's model gets a DataFrame with the background's columns and dtypes.
        argument = rows if self.codec is None else self.codec.decode(rows)
        return self._check(self.model(argument), rows.shape[0])

    def _check(self, output: Any, n: int) -> np.ndarray:
        try:
            out = np.asarray(output, dtype=np.float64)
        except (TypeError, ValueError) as error:
            raise ValueError(f"the model returned something that is not numeric: {error}") from error
        if out.ndim == 0 or out.shape[0] != n or out.ndim > 2:
            raise ValueError(
                f"the model returned shape {out.shape} for {n} rows; expected ({n},) or ({n}, n_outputs)"
            )
        out = out.reshape(n, -1)
        if not np.all(np.isfinite(out)):
            raise ValueError("the model returned NaN or infinite outputs; explanations need finite predictions")
        if self.n_outputs is None:
            self.n_outputs = out.shape[1]
        elif out.shape[1] != self.n_outputs:
            raise ValueError(f"the model returned {out.shape[1]} outputs but earlier calls returned {self.n_outputs}")
        return out

    def __call__(self, rows: np.ndarray) -> np.ndarray:
        if self._native is not None:
            return self._check(self._native(rows), rows.shape[0])
        return self._call_python(rows)


class CoalitionExplainer:
    """Shared machinery: background, model function, link and chunked coalition values."""

    _explainer = "explainer"

    def __init__(
        self,
        model: Any,
        background: Any,
        *,
        link: str = "identity",
        n_jobs: Optional[int] = None,
        random_state: RandomState = None,
        chunk_size: int = _CHUNK_ROWS,
        progress: Optional[bool] = None,
    ) -> None:
        if link not in _LINKS:
            raise ValueError(f"link must be one of {_LINKS}, got {link!r}")
        if isinstance(chunk_size, bool) or not isinstance(chunk_size, (int, np.integer)) or chunk_size < 1:
            raise ValueError(f"chunk_size must be a positive int, got {chunk_size!r}")
        resolve_n_jobs(n_jobs)
        self.background = as_background(background)
        self.link = link
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.chunk_size = int(chunk_size)
        self.progress = progress
        self._seed = resolve_seed(random_state)
        self.model = model
        self._f = ModelFunction(model, self.background, n_jobs)
        self.feature_names = self.background.feature_names
        self.n_features = self.background.data.shape[1]
        outputs = self._f(self.background.data)
        self._base = self._link(self.background.weights @ outputs)
        self.expected_value = float(self._base[0]) if self._base.size == 1 else self._base.copy()

    # ------------------------------------------------------------------ pickling
    def __getstate__(self) -> dict:
        # The model function holds closures over native evaluators: rebuild it on load.
        state = self.__dict__.copy()
        state.pop("_f", None)
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._f = ModelFunction(self.model, self.background, self.n_jobs)
        self._f(self.background.data[:1])  # learn the output width again

    # ------------------------------------------------------------------ helpers
    def _blocks(self, n: int, size: int) -> Iterator[tuple[int, int]]:
        """Row blocks (results never depend on the blocking), with a tqdm bar when asked."""
        show = self.progress if self.progress is not None else (_interactive() and n >= _PROGRESS_MIN_ROWS)
        if show:
            size = max(1, min(size, 8))
        starts = range(0, n, size)
        if show and len(starts) > 1:
            from tqdm.auto import tqdm

            starts = tqdm(starts, desc=type(self).__name__, unit="block")
        for start in starts:
            yield start, min(start + size, n)

    def _link(self, p: np.ndarray) -> np.ndarray:
        if self.link == "identity":
            return p
        # logit of an averaged probability; clipped so that 0 and 1 stay finite.
        p = np.clip(p, _LOGIT_EPS, 1.0 - _LOGIT_EPS)
        return np.log(p) - np.log1p(-p)

    def _rows(self, X: Any) -> np.ndarray:
        codec = self.background.codec
        if codec is not None and (is_frame(X) or type(X).__name__ == "Series" or codec.mixed):
            return codec.encode(X, "X")
        if type(X).__name__ == "Series" and type(X).__module__.split(".")[0] == "pandas":
            X = X.to_numpy(dtype=np.float64).reshape(1, -1)
        matrix = as_matrix(
            X,
            name="X",
            n_features=self.n_features,
            feature_names=self.feature_names,
            keep_float32=False,
        )
        return matrix.values

    def _full(self, rows: np.ndarray) -> np.ndarray:
        return self._link(self._f(rows))

    def _coalition_values(self, rows: np.ndarray, masks: np.ndarray, begin: int, end: int) -> np.ndarray:
        """Linked background-averaged outputs, shape (n_rows, end - begin, k)."""
        n, B = rows.shape[0], len(self.background)
        nc = end - begin
        k = self._f.n_outputs or 1
        out = np.empty((n, nc, k), dtype=np.float64)
        n_jobs = resolve_n_jobs(self.n_jobs)
        weights = self.background.weights
        per_call = max(1, self.chunk_size // B)  # coalitions per model call
        if nc == 0 or n == 0:
            return out
        ensemble = self._f.margin_of
        if ensemble is not None and self.n_features <= 64:
            values = _core.tree_coalition_values(
                ensemble._core, rows, self.background.data, weights, np.ascontiguousarray(masks[begin:end]), n_jobs
            )
            return self._link(values)
        # One buffer for all chunks. Safe to reuse: each chunk's model output is reduced
        # over the background before the next chunk overwrites the rows.
        M = self.n_features
        if nc <= per_call:
            group = max(1, per_call // nc)
            buffer = np.empty((min(group, n) * nc * B, M))
            for i0 in range(0, n, group):
                i1 = min(i0 + group, n)
                target = buffer[: (i1 - i0) * nc * B]
                synthetic = _core.coalition_rows(rows[i0:i1], self.background.data, masks, begin, end, n_jobs, target)
                values = self._f(synthetic).reshape(i1 - i0, nc, B, -1)
                out[i0:i1] = np.einsum("icbk,b->ick", values, weights)
            return self._link(out)
        buffer = np.empty((per_call * B, M))
        for i in range(n):
            for c0 in range(begin, end, per_call):
                c1 = min(c0 + per_call, end)
                target = buffer[: (c1 - c0) * B]
                synthetic = _core.coalition_rows(rows[i : i + 1], self.background.data, masks, c0, c1, n_jobs, target)
                values = self._f(synthetic).reshape(c1 - c0, B, -1)
                out[i, c0 - begin : c1 - begin] = np.einsum("cbk,b->ck", values, weights)
        return self._link(out)

    def _explanation(self, rows: np.ndarray, phi: np.ndarray, se: Optional[np.ndarray], X: Any) -> Explanation:
        k = phi.shape[2]
        base = np.broadcast_to(self._base, (rows.shape[0], k))
        names = self.feature_names
        if names is None:
            from .._input import feature_names_of

            names = feature_names_of(X)
        if k == 1:
            phi, base = phi[:, :, 0], base[:, 0]
            se = None if se is None else se[:, :, 0]
        codec = self.background.codec
        data: Any = rows
        if codec is not None and codec.mixed:
            data = codec.decode(rows).to_numpy(dtype=object)  # the user's values, not codes
        return Explanation(phi, base, data=data, feature_names=names, output_names=self._output_names(k), std_errors=se)

    def _output_names(self, k: int) -> Optional[list[str]]:
        """Class labels for a classifier's ``predict_proba``/``decision_function`` outputs."""
        if k == 1:
            return None
        owner = getattr(self.model, "__self__", None)
        classes = getattr(owner, "classes_", None)
        if classes is not None and len(classes) == k and getattr(self.model, "__name__", "") in (
            "predict_proba",
            "decision_function",
            "predict_log_proba",
        ):
            names = [str(c) for c in classes]
            if len(set(names)) == k:
                return names
        return None

    def shap_values(self, X: Any, **kwargs: Any) -> np.ndarray:
        """SHAP values as an array, shape (n, m) or (n, m, k); see ``__call__``."""
        return self(X, **kwargs).values

    def __repr__(self) -> str:
        native = f", native={self._f.native}" if self._f.native else ""
        return f"{type(self).__name__}(features={self.n_features}, background={len(self.background)}, link={self.link!r}{native})"
