"""Fixtures of the scale-out tests (Spark, Dask, profiles): one local Spark session for
the whole test run, and the rule for missing extras.

Outside CI a test whose extra (``loopwise[spark]``, ``loopwise[dask]``) is missing is
skipped with the reason; under CI (``CI=true``) it FAILS, because scripts/test.sh installs
the extras and Java there."""

from __future__ import annotations

import os
import sys

import pytest

# The extras rule lives in scale_extras.py beside this file (test modules import it too).
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from scale_extras import require  # noqa: E402


@pytest.fixture(scope="session")
def spark():
    """A local[2] SparkSession (UI off, 2 shuffle partitions, workers on this Python)."""
    require("pyspark", "spark")
    require("datasketches", "spark")
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    session = (SparkSession.builder.master("local[2]").appName("loopwise-tests")
               .config("spark.ui.enabled", "false")
               .config("spark.sql.shuffle.partitions", "2")
               .config("spark.default.parallelism", "2")
               .config("spark.sql.execution.arrow.pyspark.enabled", "true")
               .config("spark.driver.memory", "1g")
               .config("spark.sql.session.timeZone", "UTC")
               .getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def dask_ready():
    """Dask with its dataframe extra and DataSketches, or skip/fail by the extras rule."""
    require("dask.dataframe", "dask")
    require("datasketches", "dask")
    import dask

    with dask.config.set(scheduler="threads", num_workers=2):
        yield dask
