"""``SplitTest``: serve a champion and a challenger on split traffic through a FeedbackLoop.

Each request id is routed by :func:`assign`; the rows of each arm go to that arm's model
unchanged and are logged in the loop's store under that arm's model version (the store keeps
``model_version`` per row), so both arms' predictions, labels and drift live where the
loop's other predictions live. :meth:`SplitTest.look` reads the labels that arrived since
the last look for each arm (the store's label-arrival stream) and updates an
:class:`ABTest`; its decision is audited and sent through the loop's alert sinks. The test's state is kept in ``<loop>/ab/<name>.json``, replaced atomically,
so a test continues across processes.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any, Callable, Optional, Sequence

import numpy as np

from ..._atomic import write_json_atomic
from .._scoring import is_classifier, labels_equal
from ._assign import assign
from ._experiment import ABResult, ABTest

__all__ = ["SplitTest"]

_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")
_CHUNK = 200_000


def _rows(X: Any, index: np.ndarray) -> Any:
    """The rows ``index`` of ``X`` in ``X``'s own type (a frame keeps its dtypes)."""
    if hasattr(X, "iloc"):
        return X.iloc[index]
    if type(X).__module__.startswith("polars"):
        return X[index.tolist()]
    return np.asarray(X)[index]


class SplitTest:
    """An A/B test between the loop's champion and a registered challenger.

    Parameters
    ----------
    loop : FeedbackLoop
    name : str
        Name of the experiment: the salt of the assignment and the state file's name.
        Opening an existing name resumes it (its settings must match).
    challenger : int, optional
        Registry version of the challenger (needed to start; read back when resuming).
    share : float
        The challenger's share of traffic.
    test : ABTest, optional
        The statistics (default ``ABTest(higher_is_better=...)`` for the loop's metric:
        per-row correctness for a classifier, absolute error for a regressor).
    guardrails : dict, optional
        Name -> ``fn(labels, predictions) -> per-row values`` (importable or not: they are
        given again when the experiment is reopened). Lower is better unless ``test=`` is an
        :class:`ABTest` whose ``guardrails`` say otherwise for that name.

    Examples
    --------
    >>> # ab = SplitTest(loop, "new-features", challenger=2, share=0.2)
    >>> # predictions = ab.predict(X_batch, ids=request_ids)
    >>> # ... labels arrive through loop.feedback(...)
    >>> # ab.look().decision
    """

    def __init__(self, loop: Any, name: str, *, challenger: Optional[int] = None, share: float = 0.5,
                 test: Optional[ABTest] = None, guardrails: Optional[dict] = None) -> None:
        if not isinstance(name, str) or not _NAME.match(name):
            raise ValueError(f"name must be 1-100 letters, digits, '_', '.' or '-', got {name!r}")
        self.loop = loop
        self.name = name
        self.path = os.path.join(loop.path, "ab", f"{name}.json")
        self.guardrails: dict[str, Callable] = dict(guardrails or {})
        for key, fn in self.guardrails.items():
            if not callable(fn):
                raise TypeError(f"guardrails[{key!r}] must be a callable fn(labels, predictions), got "
                                f"{type(fn).__name__}")
        if os.path.exists(self.path):
            with open(self.path, encoding="utf-8") as handle:
                saved = json.load(handle)
            if challenger is not None and int(challenger) != saved["challenger"]:
                raise ValueError(f"the experiment {name!r} tests version {saved['challenger']}, not {challenger}")
            self.champion, self.challenger = int(saved["champion"]), int(saved["challenger"])
            self.share = float(saved["share"])
            self.test = ABTest.from_dict(saved["test"])
            self.cursors = {arm: (None if c is None else (int(c[0]), str(c[1])))
                            for arm, c in saved["cursors"].items()}
            if test is not None:
                raise ValueError(f"the experiment {name!r} exists: open it without test= to resume it")
        else:
            if challenger is None:
                raise ValueError(f"the experiment {name!r} does not exist yet: pass challenger= (a registry version)")
            self.champion = int(loop.champion_version)
            self.challenger = int(loop.registry.resolve(challenger))
            if self.challenger == self.champion:
                raise ValueError(f"challenger {challenger!r} is the champion; an A/B test needs two versions")
            assign([], share=share, salt=name)  # validates share
            self.share = float(share)
            self.test = test if test is not None else ABTest(
                higher_is_better=self._regression() is False, guardrails={k: False for k in self.guardrails})
            self.cursors = {"champion": None, "challenger": None}
        if set(self.test.guardrails) != set(self.guardrails):
            raise ValueError(f"guardrails functions {sorted(self.guardrails)} do not match the test's guardrails "
                             f"{sorted(self.test.guardrails)}")
        if not os.path.exists(self.path):
            self._save()

    def _regression(self) -> bool:
        return not is_classifier(self.loop.model(self.champion))

    def _save(self) -> None:
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        write_json_atomic(self.path, {"champion": self.champion, "challenger": self.challenger, "share": self.share,
                                      "test": self.test.to_dict(),
                                      "cursors": {arm: None if c is None else list(c) for arm, c in self.cursors.items()}})

    def arms(self, ids: Sequence[Any]) -> np.ndarray:
        """True for the ids the challenger serves.

        Examples
        --------
        >>> # ab.arms(["u1", "u2"])  ->  array([False,  True])
        """
        return assign([str(i) for i in ids], share=self.share, salt=self.name)

    def predict(self, X: Any, ids: Sequence[Any], *, timestamp: Any = None) -> np.ndarray:
        """Predict each row with its arm's model and log it under that model's version.

        Parameters
        ----------
        X : array-like or DataFrame
        ids : sequence
            Request ids (required: they decide the arm and join the labels later).

        Returns
        -------
        ndarray
            Predictions in the order of ``X``.

        Examples
        --------
        >>> # predictions = ab.predict(X_batch, ids=request_ids)   # both arms logged in loop.store
        """
        ids = [str(i) for i in ids]
        n = len(X)
        if len(ids) != n:
            raise ValueError(f"ids has {len(ids)} entries but X has {n} rows")
        challenger_rows = self.arms(ids)
        out: Optional[np.ndarray] = None
        for version, mask in ((self.champion, ~challenger_rows), (self.challenger, challenger_rows)):
            index = np.flatnonzero(mask)
            if not len(index):
                continue
            model = self.loop.model(version)
            rows = _rows(X, index)
            predictions = np.asarray(model.predict(rows))
            proba = model.predict_proba(rows) if is_classifier(model) else None
            self.loop.log([ids[i] for i in index], rows, predictions, proba=proba, timestamp=timestamp,
                          model_version=version)
            if out is None:
                out = np.empty(n, dtype=predictions.dtype if predictions.dtype != object else object)
            out[index] = predictions
        return out if out is not None else np.empty(0)

    def _outcomes(self, labels: np.ndarray, predictions: np.ndarray) -> tuple[np.ndarray, dict]:
        if self._regression():
            primary = np.abs(labels.astype(float) - predictions.astype(float))
        else:
            primary = labels_equal(labels, predictions).astype(float)
        return primary, {key: np.asarray(fn(labels, predictions), dtype=float) for key, fn in self.guardrails.items()}

    def look(self) -> ABResult:
        """Read the labels that arrived since the last look, update the test, decide.

        Each arm's rows are read through the store's label-arrival stream (a label that
        replaced an earlier one counts again). The state is saved before returning; the
        decision, once reached, is recorded once in the loop's audit log (kind ``"ab_test"``).

        Examples
        --------
        >>> # result = ab.look(); result.decision, result.metrics["primary"]["p_always_valid"]
        """
        for arm, version in (("champion", self.champion), ("challenger", self.challenger)):
            more, cursor = True, self.cursors[arm]
            while more:
                _, labels, predictions, cursor, more = self.loop.store.label_stream(version, cursor, limit=_CHUNK)
                if len(labels):
                    primary, guards = self._outcomes(labels, predictions)
                    self.test.update(arm, primary, **guards)
            self.cursors[arm] = cursor
        result = self.test.look()
        self._save()
        if result.stopped and not getattr(self, "_audited", False):
            self._audit(result)
        return result

    def _audit(self, result: ABResult) -> None:
        """One ``ab_test`` audit entry when the experiment reaches its decision."""
        previous = self.loop.audit.entries(kind="ab_test", model_version=self.challenger)
        if any(d.get("experiment") == self.name for d in previous["details"]):
            self._audited = True
            return
        self.loop.audit.record("ab_test", model_version=self.challenger, reasons=[result.reason],
                               passed=result.decision == "challenger", experiment=self.name,
                               champion=self.champion, share=self.share, result=result.to_dict())
        self._audited = True
        if self.loop.alerts:
            # The people who hear about drift hear the verdict too; a harmful challenger is urgent.
            from ..alerts import Alert

            severity = "critical" if result.decision == "guardrail" else "info"
            self.loop.notify([Alert("ab_test", f"A/B test {self.name!r}: {result.decision}: {result.reason}",
                                    severity, key=f"ab_test:{self.name}",
                                    details={"decision": result.decision, "challenger": self.challenger})],
                             model_version=self.challenger)

    def __repr__(self) -> str:
        return f"SplitTest({self.name!r}, champion={self.champion}, challenger={self.challenger}, share={self.share})"
