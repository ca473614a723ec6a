"""``loopwise.dask.explain`` equals the single-machine explainer row for row, for every
explainer kind, with the synchronous and threaded schedulers and on a LocalCluster (whose
worker processes receive the explainer as JSON and the model pickled)."""

from __future__ import annotations

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _explain_cases import CASES, FEATURES, assert_same, case, table  # noqa: E402
from scale_extras import require  # noqa: E402


@pytest.fixture(scope="module")
def dd():
    require("distributed", "dask")
    return require("dask.dataframe", "dask")


def _explain(dd, name, **kwargs):
    import loopwise.dask

    explainer, model, options = case(name)
    ddf = dd.from_pandas(table(), npartitions=4)
    return loopwise.dask.explain(ddf, explainer, columns=FEATURES, keep=["id"], model=model, **options, **kwargs)


@pytest.mark.parametrize("scheduler", ["sync", "threads"])
@pytest.mark.parametrize("name", CASES)
def test_dask_equals_single_machine(dd, name, scheduler):
    result = _explain(dd, name).compute(scheduler=scheduler)
    assert_same(result, name, tolerance=1e-12)


def test_result_is_lazy_with_meta_and_keeps_the_index(dd):
    lazy = _explain(dd, "kernel_proba")
    assert list(lazy.columns)[:2] == ["id", "x0__False"]
    assert str(lazy.dtypes["x0__True"]) == "float64" and str(lazy.dtypes["id"]) == "int64"
    result = lazy.compute(scheduler="sync")
    assert result.index.tolist() == table().index.tolist()


def test_local_cluster_processes(dd):
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=2, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        for name in ("kernel_callable", "lime"):
            assert_same(client.compute(_explain(dd, name)).result(), name, tolerance=1e-12)


def test_bad_arguments(dd):
    import loopwise.dask

    explainer = case("tree_path")[0]
    with pytest.raises(TypeError, match="ddf must be a Dask DataFrame"):
        loopwise.dask.explain(table(), explainer)
    with pytest.raises(ValueError, match=r"ddf lacks the columns \['x9'\]"):
        loopwise.dask.explain(dd.from_pandas(table(), npartitions=2), explainer, columns=FEATURES[:4] + ["x9"])
