"""A session-wide local Spark (``local[2]``, UI off, two shuffle partitions) for the scale tests.

The same JVM also serves Spark Connect (the ``SparkConnectPlugin`` on a free port), and the
Connect test attaches a ``remote("sc://localhost:<port>")`` client to it: pyspark refuses
``remote("local[2]")`` while a classic session runs in the process (SESSION_ALREADY_EXIST),
and a second JVM would double the tests' start-up time. The client is the real Connect
client: every DataFrame operation travels over gRPC, none through a SparkContext.
Outside CI a missing ``pyspark`` or Java skips with the reason; under ``CI=true`` it fails.
"""

from __future__ import annotations

import os
import shutil
import sys

import pytest


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def need(what: str, ok: bool, hint: str) -> None:
    """Skip (outside CI) or fail (under CI=true) when ``ok`` is false."""
    if ok:
        return
    message = f"{what} is missing: {hint}"
    if _in_ci():
        pytest.fail(f"{message} (CI must run the Spark/Dask tests; scripts/test.sh installs them)")
    pytest.skip(message)


def _has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def _free_port() -> int:
    import socket

    with socket.socket() as probe:  # other test runs on this machine may hold the default 15002
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def spark():
    need("pyspark", _has("pyspark"), "pip install 'loopwise[spark]'")
    need("Java", shutil.which("java") is not None, "install a JRE 17 (scripts/services/java.sh)")
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    import pyspark
    from pyspark.sql import SparkSession

    builder = (
        SparkSession.builder.master("local[2]")
        .appName("loopwise-scale-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.driver.memory", "1g")
    )
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
    need("Spark Connect client deps", all(_has(m) for m in ("grpc", "grpc_status", "google.rpc")),
         "pip install 'loopwise[spark]' (grpcio, grpcio-status, googleapis-common-protos)")
    # The Connect client's own builder: the classic builder refuses any remote session while a
    # classic one runs. It changes no environment variable, so later classic sessions stay classic.
    from pyspark.sql.connect.session import SparkSession as ConnectSession

    port = spark.conf.get("spark.connect.grpc.binding.port", None)
    need("a Spark Connect server", port is not None, "pyspark >= 4 bundles it (pip install 'loopwise[spark]')")
    session = ConnectSession.builder.remote(f"sc://localhost:{port}").getOrCreate()
    yield session
    session.stop()
