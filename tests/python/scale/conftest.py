"""Fixtures of the scale-out tests (Spark, Dask, profiles): one local Spark session for
the whole test run, a Spark Connect client served by the same JVM, and the rule for missing
extras.

The Connect test attaches a ``remote("sc://localhost:<port>")`` client to the session's own
JVM (the ``SparkConnectPlugin`` on a free port): pyspark refuses ``remote("local[2]")`` while
a classic session runs in the process (SESSION_ALREADY_EXIST), and a second JVM would double
the tests' start-up time. The client is the real Connect client: every DataFrame operation
travels over gRPC, none through a SparkContext.

Outside CI a test whose extra (``loopwise[spark]``, ``loopwise[dask]``) is missing is
skipped with the reason; under CI (``CI=true``) it FAILS, because scripts/test.sh installs
the extras and Java there."""

from __future__ import annotations

import os
import shutil
import socket
import sys

import pytest

# The extras rule lives in scale_extras.py beside this file (test modules import it too).
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from scale_extras import require  # noqa: E402


@pytest.fixture(scope="session")
def spark():
    """A local[2] SparkSession (UI off, 2 shuffle partitions, workers on this Python)."""
    pyspark = require("pyspark", "spark")
    require("datasketches", "spark")
    if shutil.which("java") is None:
        message = "Java is missing: install a JRE 17 (scripts/services/java.sh does)"
        pytest.fail(message) if os.environ.get("CI", "").lower() in ("1", "true") else pytest.skip(message)
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    builder = (SparkSession.builder.master("local[2]").appName("loopwise-tests")
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.shuffle.partitions", "2")
               .config("spark.default.parallelism", "2")
               .config("spark.sql.execution.arrow.pyspark.enabled", "true")
               .config("spark.driver.memory", "1g")
               .config("spark.sql.session.timeZone", "UTC"))
    if int(pyspark.__version__.split(".")[0]) >= 4:
        # pyspark 4 wheels bundle the Connect server: start it in this JVM for the Connect test.
        builder = builder.config("spark.plugins", "org.apache.spark.sql.connect.SparkConnectPlugin")
        builder = builder.config("spark.connect.grpc.binding.port", str(_free_port()))
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def spark_connect(spark):
    """A Spark Connect client session served by the ``spark`` fixture's JVM (pyspark >= 4)."""
    for module in ("grpc", "grpc_status", "google.rpc"):
        require(module, "spark")
    # The Connect client's own builder: the classic builder refuses any remote session while a
    # classic one runs. It changes no environment variable, so later classic sessions stay classic.
    from pyspark.sql.connect.session import SparkSession as ConnectSession

    port = spark.conf.get("spark.connect.grpc.binding.port", None)
    if port is None:
        pytest.fail("no Spark Connect server: pyspark >= 4 bundles it (pip install 'loopwise[spark]')")
    session = ConnectSession.builder.remote(f"sc://localhost:{port}").getOrCreate()
    yield session
    session.stop()


def _free_port() -> int:
    with socket.socket() as probe:  # other test runs on this machine may hold the default 15002
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def dask_ready():
    """Dask with its dataframe extra and DataSketches, or skip/fail by the extras rule."""
    require("dask.dataframe", "dask")
    require("datasketches", "dask")
    import dask

    with dask.config.set(scheduler="threads", num_workers=2):
        yield dask
