"""Harness of the hostile-input sweeps: run many small calls in one child process and sort
each into an outcome, so a crash or a hang is caught (and named) instead of killing pytest.

A case is a zero-argument callable plus the words a clear error must contain (the argument
name). Outcomes:

- ``"clean"``: ValueError/TypeError whose message names the argument;
- ``"result"``: a return value with no NaN in it;
- ``"unclear"``: any other exception, or a ValueError/TypeError that names nothing;
- ``"nan"``: a return value holding NaN (the cases feed no input that makes NaN correct);
- ``"silent"``: a return value for an input that must be refused (``must_fail``);
- ``"crash"`` / ``"hang"``: the child died, or stopped answering, inside the case.

The child prints one line per case boundary; faulthandler dumps the stack of a fatal signal.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np

Case = tuple  # (call, names) or (call, names, must_fail)

# Inputs no function should accept: a result for one of them is a silent bad result.
INVALID = {"too_wide", "too_narrow", "one_d", "three_d", "complex", "complex_object", "object_str", "bad_names",
           "complex_frame", "ragged", "none", "scalar", "two_d", "str", "list", "-inf", "inf", "nan"}

_HERE = os.path.dirname(os.path.abspath(__file__))


def holds_nan(value: Any) -> bool:
    """Whether a returned value (array, number, tuple, dict, object with .values) holds NaN."""
    if value is None or isinstance(value, (str, bytes, bool)):
        return False
    if isinstance(value, float):
        return math.isnan(value)
    if isinstance(value, np.ndarray):
        return value.dtype.kind in "fc" and bool(np.isnan(value).any())
    if isinstance(value, (list, tuple)):
        return any(holds_nan(v) for v in value)
    if isinstance(value, Mapping):
        return any(holds_nan(v) for v in value.values())
    values = getattr(value, "values", None)
    if isinstance(values, np.ndarray):
        return holds_nan(values) or holds_nan(getattr(value, "base_values", None))
    return False


def classify(case: Case) -> tuple[str, str]:
    """Run one case in this process; (outcome, detail)."""
    call, names = case[0], case[1]
    must_fail = bool(case[2]) if len(case) > 2 else False
    try:
        value = call()
    except (ValueError, TypeError) as error:
        message = str(error)
        if any(name in message for name in names):
            return "clean", f"{type(error).__name__}: {message[:200]}"
        return "unclear", f"{type(error).__name__} naming none of {list(names)}: {message[:200]}"
    except Exception as error:  # noqa: BLE001 - any other exception is the finding
        return "unclear", f"{type(error).__name__}: {str(error)[:200]}"
    if holds_nan(value):
        return "nan", f"returned NaN: {str(value)[:200]}"
    if must_fail:
        return "silent", f"accepted and returned {str(value)[:120]}"
    return "result", type(value).__name__


def _child(path: str, builder: str) -> None:
    import faulthandler
    import importlib.util
    import warnings

    faulthandler.enable()
    warnings.simplefilter("ignore")
    spec = importlib.util.spec_from_file_location("_hostile_cases", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    cases = getattr(module, builder)()
    skip = set(json.loads(os.environ.get("HOSTILE_SKIP", "[]")))
    for name, case in cases.items():
        if name in skip:
            continue
        print(json.dumps({"start": name}), flush=True)
        outcome, detail = classify(case)
        print(json.dumps({"end": name, "outcome": outcome, "detail": detail}), flush=True)


def run_sweep(path: str, builder: str, *, timeout: float = 120.0) -> dict[str, tuple[str, str]]:
    """Build ``builder()`` of the module at ``path`` in a child process and classify every case.

    Returns name -> (outcome, detail). A case the child died in is ``"crash"``; one it was
    still inside after ``timeout`` seconds of the child's run is ``"hang"``; a new child then
    runs the remaining cases.
    """
    results: dict[str, tuple[str, str]] = {}
    while True:
        env = dict(os.environ)
        # The child imports what this process imports (relative entries made absolute).
        env["PYTHONPATH"] = os.pathsep.join([_HERE] + [os.path.abspath(p) for p in sys.path if p])
        env["HOSTILE_SKIP"] = json.dumps(sorted(results))
        code = f"import hostile; hostile._child({os.path.abspath(path)!r}, {builder!r})"
        try:
            proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout,
                                  env=env, cwd=_HERE)
            stdout, stderr, died, end_state = proc.stdout, proc.stderr, proc.returncode != 0, "crash"
        except subprocess.TimeoutExpired as expired:
            stdout = expired.stdout.decode() if isinstance(expired.stdout, bytes) else (expired.stdout or "")
            stderr = expired.stderr.decode() if isinstance(expired.stderr, bytes) else (expired.stderr or "")
            died, end_state = True, "hang"
        open_case = None
        for line in stdout.splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if "start" in record:
                open_case = record["start"]
            else:
                results[record["end"]] = (record["outcome"], record["detail"])
                open_case = None
        if not died:
            return results
        if open_case is None:
            results["<outside any case>"] = (end_state, stderr[-2000:])
            return results
        results[open_case] = (end_state, stderr[-2000:])


def summary(results: Mapping[str, tuple[str, str]]) -> dict[str, int]:
    """Count of each outcome."""
    counts: dict[str, int] = {}
    for outcome, _ in results.values():
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts


# ----------------------------------------------------------------------------- inputs
def hostile_matrices(n_features: int) -> dict[str, Any]:
    """Bad (and borderline-good) values for an (n, n_features) matrix argument."""
    import pandas as pd

    good = np.random.default_rng(0).normal(size=(5, n_features))
    with_value = {}
    for label, value in (("nan", np.nan), ("inf", np.inf), ("-inf", -np.inf), ("1e308", 1e308), ("-1e308", -1e308)):
        array = good.copy()
        array[1, 0] = value
        with_value[label] = array
    return {
        "ok": good,
        "one_row": good[:1],
        "zero_rows": good[:0],
        "one_d": good[0],
        "three_d": good[None],
        "too_wide": np.c_[good, good[:, :1]],
        "too_narrow": good[:, :-1] if n_features > 1 else np.empty((5, 0)),
        **with_value,
        "all_1e308": np.full((3, n_features), 1e308),
        "complex": good.astype(np.complex128) + 1j,
        "complex_object": np.array([[complex(1, 1)] * n_features] * 2, dtype=object),
        "object_str": np.array([["a"] * n_features] * 2, dtype=object),
        "str_dtype": np.array([["1.0"] * n_features] * 2),
        "object_none": np.array([[None] * n_features] * 2, dtype=object),
        "bad_names": pd.DataFrame(good, columns=[f"zz{j}" for j in range(n_features)]),
        "complex_frame": pd.DataFrame(good.astype(np.complex128) + 1j),
        "ragged": [[1.0] * n_features, [1.0]],
        "none": None,
        "scalar": 3.0,
    }


def hostile_vectors(n: int) -> dict[str, Any]:
    """Bad (and borderline-good) values for a length-n vector argument."""
    good = np.linspace(0.0, 1.0, n)
    out: dict[str, Any] = {"ok": good, "two_d": good[None], "short": good[:-1], "empty": good[:0]}
    for label, value in (("nan", np.nan), ("inf", np.inf), ("1e308", 1e308)):
        array = good.copy()
        array[0] = value
        out[label] = array
    out.update({"complex": good + 1j, "object_str": np.array(["a"] * n, dtype=object), "none": None})
    return out


def hostile_numbers() -> dict[str, Any]:
    """Bad values for a scalar parameter."""
    return {"nan": float("nan"), "inf": float("inf"), "-inf": float("-inf"), "neg": -1.0, "zero": 0.0,
            "huge": 1e308, "complex": 1j, "str": "a", "none": None, "list": [1.0], "big_int": 2**70}


def cases_from(entries: Iterable[tuple]) -> dict[str, Case]:
    """name -> case from (name, call, names[, must_fail]) entries."""
    return {entry[0]: tuple(entry[1:]) for entry in entries}


def assert_sweep_clean(sweep: dict, min_cases: int) -> None:
    """Every case ended in a clean error or a correct result, and the sweep ran enough cases."""
    bad = {name: result for name, result in sweep.items() if result[0] not in ("clean", "result")}
    assert len(sweep) > min_cases, summary(sweep)
    assert not bad, "\n".join(f"{k}: {v}" for k, v in sorted(bad.items())[:40])
