"""One real ``mlflow server`` per test session: SQLite backend, local artifact root, free port.

Without the mlflow package (``pip install 'loopwise[mlflow]'``) or when the server does not
come up, the tests skip with the reason; under CI (``CI=true``) they fail instead, because
``scripts/test.sh`` installs the ``test`` extra, which includes mlflow.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

_START_TIMEOUT = float(os.environ.get("LOOPWISE_MLFLOW_START_TIMEOUT", "240"))


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").strip().lower() in ("true", "1", "yes"):
        pytest.fail(f"MLflow tests cannot run under CI: {reason}")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory):
    """The tracking URI of a running ``mlflow server`` (stopped at the end of the session)."""
    try:
        import mlflow  # noqa: F401
    except ImportError:
        _unavailable("the mlflow package is not installed (pip install 'loopwise[mlflow]')")
    root = tmp_path_factory.mktemp("mlflow-server")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true",
           "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false", "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false"}
    log = open(root / "server.log", "wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "server", "--backend-store-uri", f"sqlite:///{root / 'mlflow.db'}",
         "--artifacts-destination", str(root / "artifacts"), "--host", "127.0.0.1", "--port", str(port),
         "--workers", "1"],
        stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    try:
        deadline = time.monotonic() + _START_TIMEOUT
        while not _healthy(url):
            if process.poll() is not None or time.monotonic() > deadline:
                log.flush()
                tail = (root / "server.log").read_text(errors="replace")[-2000:]
                _unavailable(f"mlflow server did not start within {_START_TIMEOUT:.0f} s "
                             f"(exit code {process.poll()}):\n{tail}")
            time.sleep(0.5)
        os.environ.update(MLFLOW_DISABLE_TELEMETRY="true", MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR="false")
        import mlflow

        previous = mlflow.get_tracking_uri()
        mlflow.set_tracking_uri(url)
        yield url
        mlflow.set_tracking_uri(previous)
    finally:
        # The server runs in its own session: stop its whole process group (uvicorn workers).
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait()
        log.close()


@pytest.fixture
def model_name(request):
    """A registered-model name unique to the test (one server serves the whole session)."""
    return f"{request.node.name.replace('[', '-').replace(']', '')}-{time.time_ns()}"
