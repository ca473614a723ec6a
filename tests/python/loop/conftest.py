"""Fixtures of the loop tests: the feedback store on each backend.

``store_location`` gives a fresh store location per test: a file path (SQLite) or a URL into
a throwaway PostgreSQL server started once per session (tests/python/pg_cluster.py), each
test in its own PostgreSQL schema. Without PostgreSQL binaries or psycopg the PostgreSQL
cases skip with the reason, except under CI (``CI=true``), where they fail.
"""

from __future__ import annotations

import os

import pytest
from pg_cluster import schema_url

BACKENDS = ["sqlite", "postgresql"]


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"PostgreSQL tests cannot run under CI: {reason} (scripts/services/postgres.sh installs it)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres_url():
    """A running throwaway PostgreSQL server (superuser URL), stopped after the session."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        _unavailable("psycopg is not installed (pip install 'loopwise[postgres]')")
    import pg_cluster

    binaries = pg_cluster.binaries()
    if binaries is None:
        _unavailable("no PostgreSQL server binaries (initdb, pg_ctl): apt-get install postgresql")
    try:
        cluster = pg_cluster.Cluster(binaries)
    except (RuntimeError, OSError, LookupError) as error:
        _unavailable(f"the PostgreSQL server could not be started: {error}")
    yield cluster.url
    cluster.stop()


@pytest.fixture(params=BACKENDS)
def store_location(request, tmp_path):
    """Make store locations on the parametrised backend: ``store_location("name")``."""
    if request.param == "sqlite":
        return lambda name="store": str(tmp_path / f"{name}.db")
    base = request.getfixturevalue("postgres_url")
    made: dict = {}
    return lambda name="store": made.setdefault(name, schema_url(base))
