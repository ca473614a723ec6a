"""The n_jobs resolver, seeds and input conversion shared by every module."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import loopwise
from loopwise._input import as_matrix, as_vector
from loopwise._random import resolve_seed
from loopwise._threads import cpu_count, resolve_n_jobs


def test_n_jobs_rules(monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    n = cpu_count()
    assert resolve_n_jobs(None) == n
    assert resolve_n_jobs(-1) == n
    assert resolve_n_jobs(-2) == max(1, n - 1)
    assert resolve_n_jobs(-1000) == 1
    assert resolve_n_jobs(3) == 3
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert resolve_n_jobs(None) == 1
    with pytest.raises(ValueError, match="n_jobs=0"):
        resolve_n_jobs(0)
    with pytest.raises(TypeError, match="n_jobs"):
        resolve_n_jobs(1.5)  # type: ignore[arg-type]


def test_seeds():
    assert resolve_seed(5) == 5
    assert resolve_seed(np.random.default_rng(1)) == resolve_seed(np.random.default_rng(1))
    with pytest.raises(ValueError, match="random_state"):
        resolve_seed(-1)
    with pytest.raises(TypeError, match="random_state"):
        resolve_seed("seed")  # type: ignore[arg-type]


def test_pandas_categoricals_become_codes_with_missing():
    frame = pd.DataFrame({"x": [1.5, None, 3.0], "c": pd.Categorical(["b", None, "a"], categories=["a", "b"])})
    matrix = as_matrix(frame)
    assert matrix.feature_names == ["x", "c"]
    np.testing.assert_array_equal(matrix.values, [[1.5, 1.0], [np.nan, np.nan], [3.0, 0.0]])
    by_value = as_matrix(frame, categories={1: ["b", "a"]})
    np.testing.assert_array_equal(by_value.values[:, 1], [0.0, np.nan, 1.0])


def test_object_columns_need_a_category():
    with pytest.raises(ValueError, match="column .name. has dtype .* not numeric"):
        as_matrix(pd.DataFrame({"name": ["a", "b"]}))


def test_float32_is_kept_and_nan_inf_policies():
    values = np.ones((2, 2), dtype=np.float32)
    assert as_matrix(values).values.dtype == np.float32
    assert as_matrix(values, keep_float32=False).values.dtype == np.float64
    with pytest.raises(ValueError, match="NaN \\(first in row 1\\)"):
        as_matrix([[1.0], [np.nan]], allow_nan=False)
    with pytest.raises(ValueError, match="infinite"):
        as_matrix([[np.inf]], allow_inf=False)
    with pytest.raises(ValueError, match="y has 2 entries but 3"):
        as_vector([1, 2], length=3)


def test_errors_are_exported():
    assert issubclass(loopwise.LoopwiseError, RuntimeError)
    assert loopwise.TreeEnsemble is loopwise.models.TreeEnsemble
    with pytest.raises(AttributeError):
        loopwise.not_a_thing  # noqa: B018
