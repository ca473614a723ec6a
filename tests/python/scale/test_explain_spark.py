"""``loopwise.spark.explain`` equals the single-machine explainer row for row, for every
explainer kind, on ``local[2]``, and the same call runs under Spark Connect."""

from __future__ import annotations

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _explain_cases import CASES, FEATURES, assert_same, case, table  # noqa: E402


def _explain(session, name, partitions=3):
    import _explain_cases
    from pyspark import cloudpickle

    import loopwise.spark

    # The test's plain-function model lives in a helper module the Python workers cannot
    # import; ship it by value, as Spark ships a function defined in a notebook.
    cloudpickle.register_pickle_by_value(_explain_cases)

    explainer, model, options = case(name)
    df = session.createDataFrame(table()).repartition(partitions)
    return loopwise.spark.explain(df, explainer, columns=FEATURES, keep=["id"], model=model, **options)


@pytest.mark.parametrize("name", CASES)
def test_spark_equals_single_machine(spark, name):
    result = _explain(spark, name).toPandas()
    assert_same(result, name, tolerance=1e-12)


def test_spark_connect(spark_connect):
    # The function Spark ships holds the explainer as JSON: no sparkContext, no RDD, no broadcast.
    from pyspark.sql.connect.dataframe import DataFrame as ConnectDataFrame

    lazy = _explain(spark_connect, "tree_interventional")
    assert isinstance(lazy, ConnectDataFrame)
    assert_same(lazy.toPandas(), "tree_interventional", tolerance=1e-12)
    assert_same(_explain(spark_connect, "kernel_callable", partitions=2).toPandas(), "kernel_callable")


def test_schema_and_argument_errors(spark):
    import loopwise.spark

    lazy = _explain(spark, "kernel_proba")
    assert lazy.columns[:3] == ["id", "x0__False", "x1__False"]
    assert dict(lazy.dtypes)["id"] == "bigint" and dict(lazy.dtypes)["base_value__True"] == "double"
    df = spark.createDataFrame(table())
    with pytest.raises(ValueError, match=r"df lacks the columns \['x9'\]"):
        loopwise.spark.explain(df, case("tree_path")[0], columns=FEATURES[:4] + ["x9"])
    with pytest.raises(TypeError, match="df must be a Spark DataFrame"):
        loopwise.spark.explain(table(), case("tree_path")[0])
    with pytest.raises(ValueError, match="LIME needs"):
        loopwise.spark.explain(df, case("lime")[0])
